/*
 * ihex.c - Intel HEX, read and written.
 *
 * Record types 00 (data), 01 (end of file), 02/04 (segment/linear extended
 * address) and 03/05 (start address, ignored). Every record's checksum is
 * verified and errors give the line number.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "segments.h"

int ihex_read(struct segments *s, const char *text, size_t len, const char *name,
	      char *err, size_t errlen)
{
	uint32_t upper = 0;
	unsigned line = 0;
	size_t pos = 0;
	int eof = 0;

	while (pos < len) {
		uint8_t rec[5 + 255];
		size_t end = pos, n, i;
		uint8_t sum = 0;
		uint32_t addr;

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
		if (eof) {
			snprintf(err, errlen, "%s:%u: data after the end-of-file record", name, line);
			return -1;
		}
		if (text[pos] != ':' || n < 11 || (n - 1) % 2) {
			snprintf(err, errlen, "%s:%u: not an Intel HEX record", name, line);
			return -1;
		}
		for (i = 0; i < (n - 1) / 2 && i < sizeof(rec); i++) {
			int hi = hex_digit(text[pos + 1 + 2 * i]), lo = hex_digit(text[pos + 2 + 2 * i]);

			if (hi < 0 || lo < 0) {
				snprintf(err, errlen, "%s:%u: bad hex digit", name, line);
				return -1;
			}
			rec[i] = (uint8_t)(hi << 4 | lo);
			sum += rec[i];
		}
		if ((n - 1) / 2 != (size_t)rec[0] + 5) {
			snprintf(err, errlen, "%s:%u: record length %u does not match the line (truncated?)",
				 name, line, rec[0]);
			return -1;
		}
		if (sum != 0) {
			snprintf(err, errlen, "%s:%u: bad checksum", name, line);
			return -1;
		}
		addr = (uint32_t)(rec[1] << 8 | rec[2]);
		switch (rec[3]) {
		case 0x00:
			if (segments_add(s, upper + addr, rec + 4, rec[0]) < 0) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			break;
		case 0x01:
			eof = 1;
			break;
		case 0x02:
			upper = (uint32_t)(rec[4] << 8 | rec[5]) << 4;
			break;
		case 0x04:
			upper = (uint32_t)(rec[4] << 8 | rec[5]) << 16;
			break;
		case 0x03:
		case 0x05:
			break;
		default:
			snprintf(err, errlen, "%s:%u: unknown record type %02X", name, line, rec[3]);
			return -1;
		}
		pos = end + 1;
	}
	if (!eof) {
		snprintf(err, errlen, "%s: no end-of-file record (truncated file?)", name);
		return -1;
	}
	if (s->count == 0) {
		snprintf(err, errlen, "%s: no data records", name);
		return -1;
	}
	return 0;
}

static void record(FILE *f, uint8_t type, uint16_t addr, const uint8_t *data, uint8_t n)
{
	uint8_t sum = (uint8_t)(n + (addr >> 8) + addr + type);
	unsigned i;

	fprintf(f, ":%02X%04X%02X", n, addr, type);
	for (i = 0; i < n; i++) {
		fprintf(f, "%02X", data[i]);
		sum += data[i];
	}
	fprintf(f, "%02X\n", (uint8_t)(0x100 - sum) & 0xFF);
}

int ihex_write(const struct segments *s, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	uint32_t upper = 0xFFFFFFFFu;
	size_t i;

	if (!f) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	for (i = 0; i < s->count; i++) {
		const struct segment *g = &s->seg[i];
		uint32_t off = 0;

		while (off < g->len) {
			uint32_t addr = g->addr + off;
			uint32_t room = 0x10000u - (addr & 0xFFFFu);
			uint8_t n = (uint8_t)(g->len - off < 16 ? g->len - off : 16);

			if (n > room)
				n = (uint8_t)room;
			if ((addr >> 16) != upper) {
				uint8_t ext[2] = { (uint8_t)(addr >> 24), (uint8_t)(addr >> 16) };

				upper = addr >> 16;
				record(f, 0x04, 0, ext, 2);
			}
			record(f, 0x00, (uint16_t)addr, g->data + off, n);
			off += n;
		}
	}
	record(f, 0x01, 0, NULL, 0);
	if (fclose(f) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
