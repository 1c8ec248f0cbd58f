/*
 * segments.c - the segment list and loading a firmware file into it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segments.h"

void segments_init(struct segments *s)
{
	memset(s, 0, sizeof(*s));
}

void segments_free(struct segments *s)
{
	size_t i;

	for (i = 0; i < s->count; i++)
		free(s->seg[i].data);
	free(s->seg);
	segments_init(s);
}

int segments_add(struct segments *s, uint32_t addr, const void *data, uint32_t len)
{
	struct segment *last = s->count ? &s->seg[s->count - 1] : NULL;
	uint8_t *p;

	if (!len)
		return 0;
	/* Records that continue the previous one (HEX lines) grow it. */
	if (last && last->addr + last->len == addr) {
		p = realloc(last->data, (size_t)last->len + len);
		if (!p)
			return -1;
		memcpy(p + last->len, data, len);
		last->data = p;
		last->len += len;
		return 0;
	}
	if (s->count == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct segment *n = realloc(s->seg, cap * sizeof(*n));

		if (!n)
			return -1;
		s->seg = n;
		s->cap = cap;
	}
	p = malloc(len);
	if (!p)
		return -1;
	memcpy(p, data, len);
	s->seg[s->count].addr = addr;
	s->seg[s->count].len = len;
	s->seg[s->count].data = p;
	s->count++;
	return 0;
}

static int by_addr(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int segments_sort(struct segments *s, char *err, size_t errlen)
{
	size_t i;

	qsort(s->seg, s->count, sizeof(*s->seg), by_addr);
	for (i = 1; i < s->count; i++) {
		const struct segment *a = &s->seg[i - 1], *b = &s->seg[i];

		if ((uint64_t)a->addr + a->len > b->addr) {
			snprintf(err, errlen,
				 "overlapping data: 0x%08x..0x%08x and 0x%08x..0x%08x",
				 a->addr, a->addr + a->len - 1, b->addr, b->addr + b->len - 1);
			return -1;
		}
	}
	return 0;
}

void segments_span(const struct segments *s, uint32_t *lo, uint32_t *end)
{
	size_t i;

	*lo = *end = 0;
	for (i = 0; i < s->count; i++) {
		if (i == 0 || s->seg[i].addr < *lo)
			*lo = s->seg[i].addr;
		if (s->seg[i].addr + s->seg[i].len > *end)
			*end = s->seg[i].addr + s->seg[i].len;
	}
}

void segments_read(const struct segments *s, uint32_t addr, uint8_t *buf, uint32_t len, uint8_t fill)
{
	size_t i;

	memset(buf, fill, len);
	for (i = 0; i < s->count; i++) {
		const struct segment *g = &s->seg[i];
		uint64_t from = g->addr > addr ? g->addr : addr;
		uint64_t to = (uint64_t)g->addr + g->len < (uint64_t)addr + len ?
			      (uint64_t)g->addr + g->len : (uint64_t)addr + len;

		if (from < to)
			memcpy(buf + (from - addr), g->data + (from - g->addr), (size_t)(to - from));
	}
}

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int read_file(const char *path, uint8_t **out, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;
	int ret = -1;

	if (!f) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (size == 0) {
		snprintf(err, errlen, "%s is empty", path);
		goto out;
	}
	if (size > 64L * 1024 * 1024) {
		snprintf(err, errlen, "%s is %ld bytes: too large to be firmware for this chip", path, size);
		goto out;
	}
	buf = malloc((size_t)size + 1);
	if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		snprintf(err, errlen, "cannot read %s", path);
		goto out;
	}
	buf[size] = 0;
	*out = buf;
	*len = (size_t)size;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	fclose(f);
	return ret;
}

int segments_load(struct segments *s, const char *path, uint32_t raw_base,
		  char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	size_t len;
	int ret;

	segments_init(s);
	if (read_file(path, &buf, &len, err, errlen) < 0)
		return -1;
	if (len >= 4 && memcmp(buf, "\177ELF", 4) == 0)
		ret = elf_read(s, buf, len, path, err, errlen);
	else if (buf[0] == ':')
		ret = ihex_read(s, (const char *)buf, len, path, err, errlen);
	else if (len >= 2 && buf[0] == 'S' && buf[1] >= '0' && buf[1] <= '9')
		ret = srec_read(s, (const char *)buf, len, path, err, errlen);
	else
		ret = segments_add(s, raw_base, buf, (uint32_t)len) < 0 ? -1 : 0;
	if (ret == 0 && segments_sort(s, err, errlen) < 0) {
		char inner[256];

		snprintf(inner, sizeof(inner), "%s", err);
		snprintf(err, errlen, "%s: %s", path, inner);
		ret = -1;
	}
	if (ret < 0)
		segments_free(s);
	free(buf);
	return ret;
}
