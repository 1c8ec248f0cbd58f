/*
 * ihex.c - Intel HEX, read and written.
 *
 * Record types 00 (data), 01 (end of file), 02 (extended segment address),
 * 03 (start segment address), 04 (extended linear address) and 05 (start
 * linear address), per Intel's "Hexadecimal Object File Format
 * Specification" rev. A. A HEX file usually arrives by e-mail or copy and
 * paste, so every record is checked (digits, length, checksum, what its
 * type requires) and a problem is reported with its line: a damaged file
 * must never become a damaged board.
 */
#include <stdio.h>
#include <string.h>

#include "formats.h"

#define IHEX_MAX_RECORD (1 + 2 + 1 + 255 + 1)

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Decode one record's hex digits into rec; returns its byte count. */
static int decode(const char *p, size_t n, uint8_t *rec, const char *name,
		  unsigned line, struct sb_error *e)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (hex_digit(p[i]) < 0)
			return sb_error_set(e, -EINVAL,
					    "%s:%u: bad hex digit '%c' at column %zu",
					    name, line,
					    p[i] >= 0x20 && p[i] < 0x7F ? p[i] : '?',
					    i + 2);
	if (n % 2)
		return sb_error_set(e, -EINVAL,
				    "%s:%u: odd number of hex digits (%zu): truncated record?",
				    name, line, n);
	if (n / 2 < 5)
		return sb_error_set(e, -EINVAL,
				    "%s:%u: record too short (%zu bytes, at least 5 needed): truncated?",
				    name, line, n / 2);
	if (n / 2 > IHEX_MAX_RECORD)
		return sb_error_set(e, -EINVAL,
				    "%s:%u: record too long (%zu bytes)", name, line, n / 2);
	for (i = 0; i < n / 2; i++)
		rec[i] = (uint8_t)(hex_digit(p[2 * i]) << 4 | hex_digit(p[2 * i + 1]));
	return (int)(n / 2);
}

static int need_len(const uint8_t *rec, unsigned want, const char *what,
		    const char *name, unsigned line, struct sb_error *e)
{
	if (rec[0] == want)
		return 0;
	return sb_error_set(e, -EINVAL,
			    "%s:%u: %s record (type %02X) must hold %u bytes, not %u",
			    name, line, what, rec[3], want, rec[0]);
}

int ihex_read(struct segments *s, const char *text, size_t len,
	      const char *name, struct sb_error *e)
{
	uint32_t base = 0;
	bool linear = true, eof = false;
	unsigned line = 0;
	size_t pos = 0;
	int ret;

	while (pos < len) {
		uint8_t rec[IHEX_MAX_RECORD];
		size_t end = pos, n, i;
		uint32_t off;
		uint8_t sum = 0;
		int count;

		while (end < len && text[end] != '\n')
			end++;
		line++;
		n = end - pos;
		while (n && blank(text[pos + n - 1]))
			n--;
		if (n == 0)
			goto next;
		if (eof)
			return sb_error_set(e, -EINVAL,
					    "%s:%u: data after the end-of-file record",
					    name, line);
		if (text[pos] != ':')
			return sb_error_set(e, -EINVAL,
					    "%s:%u: not an Intel HEX record (does not start with ':')",
					    name, line);
		count = decode(text + pos + 1, n - 1, rec, name, line, e);
		if (count < 0)
			return count;
		if ((size_t)count != (size_t)rec[0] + 5)
			return sb_error_set(e, -EINVAL,
					    "%s:%u: record says %u data bytes but the line holds %d: truncated?",
					    name, line, rec[0], count - 5);
		for (i = 0; i < (size_t)count - 1; i++)
			sum += rec[i];
		sum = (uint8_t)(0x100 - sum);
		if (sum != rec[count - 1])
			return sb_error_set(e, -EINVAL,
					    "%s:%u: bad checksum: record says %02X, computed %02X",
					    name, line, rec[count - 1], sum);
		off = (uint32_t)(rec[1] << 8 | rec[2]);
		switch (rec[3]) {
		case 0x00:
			if (linear || off + rec[0] <= 0x10000u) {
				if ((uint64_t)base + off + rec[0] > 0x100000000ull)
					return sb_error_set(e, -ERANGE,
							    "%s:%u: data at 0x%08x runs past 4 GB",
							    name, line, base + off);
				ret = segments_add(s, base + off, rec + 4, rec[0], e);
			} else {
				/* Segment addressing wraps inside its 64 KB. */
				uint32_t first = 0x10000u - off;

				ret = segments_add(s, base + off, rec + 4, first, e);
				if (ret == 0)
					ret = segments_add(s, base, rec + 4 + first,
							   rec[0] - first, e);
			}
			if (ret < 0)
				return sb_error_prefix(e, ret, name);
			break;
		case 0x01:
			ret = need_len(rec, 0, "end-of-file", name, line, e);
			if (ret < 0)
				return ret;
			eof = true;
			break;
		case 0x02:
			ret = need_len(rec, 2, "extended segment address", name, line, e);
			if (ret < 0)
				return ret;
			base = (uint32_t)(rec[4] << 8 | rec[5]) << 4;
			linear = false;
			break;
		case 0x04:
			ret = need_len(rec, 2, "extended linear address", name, line, e);
			if (ret < 0)
				return ret;
			base = (uint32_t)(rec[4] << 8 | rec[5]) << 16;
			linear = true;
			break;
		case 0x03:
		case 0x05:
			/* Start addresses: the board starts from its vector table. */
			ret = need_len(rec, 4, rec[3] == 3 ? "start segment address" :
				       "start linear address", name, line, e);
			if (ret < 0)
				return ret;
			break;
		default:
			return sb_error_set(e, -EINVAL,
					    "%s:%u: unknown record type %02X", name, line, rec[3]);
		}
next:
		pos = end + 1;
	}
	if (!eof)
		return sb_error_set(e, -EINVAL,
				    "%s:%u: no end-of-file record (type 01): truncated file?",
				    name, line);
	if (s->count == 0)
		return sb_error_set(e, -EINVAL, "%s: no data records", name);
	return 0;
}

static void record(FILE *f, uint8_t type, uint16_t addr, const uint8_t *data,
		   uint8_t n)
{
	uint8_t sum = (uint8_t)(n + (addr >> 8) + addr + type);
	unsigned i;

	fprintf(f, ":%02X%04X%02X", n, addr, type);
	for (i = 0; i < n; i++) {
		fprintf(f, "%02X", data[i]);
		sum += data[i];
	}
	fprintf(f, "%02X\n", (uint8_t)(0x100 - sum));
}

int ihex_write(const struct segments *s, const char *path, struct sb_error *e)
{
	const struct segment *g;
	uint32_t upper = 0;
	bool have_upper = false;
	FILE *f = fopen(path, "w");

	if (!f)
		return sb_error_set(e, -EIO, "cannot create %s: %s", path,
				    strerror(errno));
	segments_for_each(g, s) {
		uint32_t off = 0;

		while (off < g->len) {
			uint32_t addr = g->addr + off;
			uint32_t room = 0x10000u - (addr & 0xFFFFu);
			uint32_t n = g->len - off < 16 ? g->len - off : 16;

			if (n > room)
				n = room;
			if (!have_upper || (addr >> 16) != upper) {
				uint8_t ext[2] = { (uint8_t)(addr >> 24), (uint8_t)(addr >> 16) };

				upper = addr >> 16;
				have_upper = true;
				record(f, 0x04, 0, ext, 2);
			}
			record(f, 0x00, (uint16_t)addr, g->data + off, (uint8_t)n);
			off += n;
		}
	}
	record(f, 0x01, 0, NULL, 0);
	if (ferror(f) | (fclose(f) != 0))
		return sb_error_set(e, -EIO, "cannot write %s: %s", path,
				    strerror(errno));
	return 0;
}
