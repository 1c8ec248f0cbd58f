/*
 * srec.c - Motorola S-records, read and written.
 *
 * Read: S0 (header), S1/S2/S3 (data with 16/24/32-bit addresses), S5/S6
 * (record counts, checked against the data records seen), S7/S8/S9 (end,
 * with a start address we ignore: the board starts from its vector table).
 * As with HEX files, every record's digits, length and checksum are
 * checked and problems are reported with their line.
 * Written: S0 "sysboot", S3 data records, S5/S6 count and S7.
 */
#include <stdio.h>
#include <string.h>

#include "formats.h"

#define SREC_MAX_RECORD (1 + 255)

int srec_read(struct segments *s, const char *text, size_t len,
	      const char *name, struct sb_error *e)
{
	unsigned line = 0;
	unsigned long data_records = 0;
	size_t pos = 0;
	bool ended = false;
	int ret;

	while (pos < len) {
		uint8_t rec[SREC_MAX_RECORD];
		size_t end = pos, n, i, count;
		unsigned addr_len;
		uint8_t sum = 0;
		uint32_t addr = 0;
		char type;

		while (end < len && text[end] != '\n')
			end++;
		line++;
		n = end - pos;
		while (n && (text[pos + n - 1] == '\r' || text[pos + n - 1] == ' ' ||
			     text[pos + n - 1] == '\t'))
			n--;
		if (n == 0)
			goto next;
		if (ended)
			return sb_error_set(e, -EINVAL,
					    "%s:%u: data after the end record", name, line);
		if (text[pos] != 'S' || n < 2)
			return sb_error_set(e, -EINVAL,
					    "%s:%u: not an S-record (does not start with 'S' and a type digit)",
					    name, line);
		type = text[pos + 1];
		if (type < '0' || type > '9' || type == '4')
			return sb_error_set(e, -EINVAL, "%s:%u: unknown record type S%c",
					    name, line, type >= 0x20 && type < 0x7F ? type : '?');
		for (i = 2; i < n; i++)
			if (hex_digit(text[pos + i]) < 0)
				return sb_error_set(e, -EINVAL,
						    "%s:%u: bad hex digit '%c' at column %zu",
						    name, line,
						    text[pos + i] >= 0x20 && text[pos + i] < 0x7F ?
						    text[pos + i] : '?', i + 1);
		if (n % 2)
			return sb_error_set(e, -EINVAL,
					    "%s:%u: odd number of hex digits: truncated record?",
					    name, line);
		count = (n - 2) / 2;
		if (count < 2 || count > SREC_MAX_RECORD)
			return sb_error_set(e, -EINVAL,
					    "%s:%u: record of %zu bytes: truncated?", name, line, count);
		for (i = 0; i < count; i++) {
			rec[i] = (uint8_t)(hex_digit(text[pos + 2 + 2 * i]) << 4 |
					   hex_digit(text[pos + 3 + 2 * i]));
			if (i < count - 1)
				sum += rec[i];
		}
		if (rec[0] != count - 1)
			return sb_error_set(e, -EINVAL,
					    "%s:%u: record says %u bytes follow but the line holds %zu: truncated?",
					    name, line, rec[0], count - 1);
		sum = (uint8_t)~sum;
		if (sum != rec[count - 1])
			return sb_error_set(e, -EINVAL,
					    "%s:%u: bad checksum: record says %02X, computed %02X",
					    name, line, rec[count - 1], sum);
		switch (type) {
		case '0': case '1': case '5': case '9': addr_len = 2; break;
		case '2': case '6': case '8': addr_len = 3; break;
		default: addr_len = 4; break;
		}
		if (count < addr_len + 2)
			return sb_error_set(e, -EINVAL,
					    "%s:%u: S%c record too short for its %u-byte address",
					    name, line, type, addr_len);
		for (i = 0; i < addr_len; i++)
			addr = addr << 8 | rec[1 + i];
		switch (type) {
		case '1': case '2': case '3':
			ret = segments_add(s, addr, rec + 1 + addr_len,
					   (uint32_t)(count - 2 - addr_len), e);
			if (ret < 0)
				return sb_error_set(e, ret, "%s:%u: %s", name, line,
						    ret == -ERANGE ? "data runs past 4 GB" :
						    "out of memory");
			data_records++;
			break;
		case '5': case '6':
			if (count != addr_len + 2)
				return sb_error_set(e, -EINVAL,
						    "%s:%u: S%c count record with extra bytes",
						    name, line, type);
			if (addr != (data_records & (type == '5' ? 0xFFFFu : 0xFFFFFFu)))
				return sb_error_set(e, -EINVAL,
						    "%s:%u: S%c record counts %u data records, the file has %lu before it: records lost?",
						    name, line, type, addr, data_records);
			break;
		case '7': case '8': case '9':
			ended = true;
			break;
		default: /* S0: a header, free text */
			break;
		}
next:
		pos = end + 1;
	}
	if (!ended)
		return sb_error_set(e, -EINVAL,
				    "%s:%u: no end record (S7, S8 or S9): truncated file?",
				    name, line);
	if (s->count == 0)
		return sb_error_set(e, -EINVAL, "%s: no data records", name);
	return 0;
}

static void record(FILE *f, char type, uint32_t addr, unsigned addr_len,
		   const uint8_t *data, unsigned n)
{
	uint8_t count = (uint8_t)(addr_len + n + 1), sum = count;
	unsigned i;

	fprintf(f, "S%c%02X", type, count);
	for (i = addr_len; i-- > 0;) {
		uint8_t b = (uint8_t)(addr >> (8 * i));

		fprintf(f, "%02X", b);
		sum += b;
	}
	for (i = 0; i < n; i++) {
		fprintf(f, "%02X", data[i]);
		sum += data[i];
	}
	fprintf(f, "%02X\n", (uint8_t)~sum);
}

int srec_write(const struct segments *s, const char *path, struct sb_error *e)
{
	static const uint8_t hdr[] = "sysboot";
	const struct segment *g;
	unsigned long records = 0;
	FILE *f = fopen(path, "w");

	if (!f)
		return sb_error_set(e, -EIO, "cannot create %s: %s", path,
				    strerror(errno));
	record(f, '0', 0, 2, hdr, sizeof(hdr) - 1);
	segments_for_each(g, s) {
		uint32_t off;

		for (off = 0; off < g->len; off += 16) {
			unsigned n = g->len - off < 16 ? g->len - off : 16;

			record(f, '3', g->addr + off, 4, g->data + off, n);
			records++;
		}
	}
	if (records <= 0xFFFF)
		record(f, '5', (uint32_t)records, 2, NULL, 0);
	else if (records <= 0xFFFFFF)
		record(f, '6', (uint32_t)records, 3, NULL, 0);
	record(f, '7', 0, 4, NULL, 0);
	if (ferror(f) | (fclose(f) != 0))
		return sb_error_set(e, -EIO, "cannot write %s: %s", path,
				    strerror(errno));
	return 0;
}
