/*
 * srec.c - Motorola S-record input (S0 header, S1/S2/S3 data with 16/24/32
 * bit addresses, S5/S6 counts, S7/S8/S9 start addresses).
 *
 * Every record's length and checksum are verified; errors give the line.
 */
#include <stdio.h>
#include <string.h>

#include "segments.h"

int srec_read(struct segments *s, const char *text, size_t len, const char *name,
	      char *err, size_t errlen)
{
	unsigned line = 0;
	size_t pos = 0;
	int ended = 0;

	while (pos < len) {
		uint8_t rec[256];
		size_t end = pos, n, i, count;
		unsigned addr_len;
		uint8_t sum = 0;
		uint32_t addr = 0;
		char type;

		while (end < len && text[end] != '\n')
			end++;
		line++;
		n = end - pos;
		if (n && text[pos + n - 1] == '\r')
			n--;
		if (n == 0) {
			pos = end + 1;
			continue;
		}
		if (text[pos] != 'S' || n < 4 || n % 2) {
			snprintf(err, errlen, "%s:%u: not an S-record", name, line);
			return -1;
		}
		type = text[pos + 1];
		count = (n - 2) / 2;
		for (i = 0; i < count && i < sizeof(rec); i++) {
			int hi = hex_digit(text[pos + 2 + 2 * i]), lo = hex_digit(text[pos + 3 + 2 * i]);

			if (hi < 0 || lo < 0) {
				snprintf(err, errlen, "%s:%u: bad hex digit", name, line);
				return -1;
			}
			rec[i] = (uint8_t)(hi << 4 | lo);
			sum += rec[i];
		}
		if (count > sizeof(rec) || rec[0] != count - 1) {
			snprintf(err, errlen, "%s:%u: record length %u does not match the line (truncated?)",
				 name, line, rec[0]);
			return -1;
		}
		if (sum != 0xFF) {
			snprintf(err, errlen, "%s:%u: bad checksum", name, line);
			return -1;
		}
		switch (type) {
		case '0': case '5': case '6':
			break;
		case '1': case '2': case '3':
			addr_len = (unsigned)(type - '1') + 2u;
			if (count < addr_len + 2) {
				snprintf(err, errlen, "%s:%u: record too short for its address", name, line);
				return -1;
			}
			for (i = 0; i < addr_len; i++)
				addr = addr << 8 | rec[1 + i];
			if (segments_add(s, addr, rec + 1 + addr_len, (uint32_t)(count - 2 - addr_len)) < 0) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			break;
		case '7': case '8': case '9':
			ended = 1;
			break;
		default:
			snprintf(err, errlen, "%s:%u: unknown record type S%c", name, line, type);
			return -1;
		}
		pos = end + 1;
	}
	if (!ended) {
		snprintf(err, errlen, "%s: no end record (S7, S8 or S9): truncated file?", name);
		return -1;
	}
	if (s->count == 0) {
		snprintf(err, errlen, "%s: no data records", name);
		return -1;
	}
	return 0;
}
