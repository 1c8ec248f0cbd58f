/*
 * segments.c - the segment list every firmware file is read into (see
 * segments.h). Kept apart from the readers so that checks on addresses
 * are written once, whatever the file format.
 */
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

int segments_add(struct segments *s, uint32_t addr, const void *data,
		 uint32_t len, struct sb_error *e)
{
	struct segment *last = s->count ? &s->seg[s->count - 1] : NULL;
	uint8_t *p;

	if (!len)
		return 0;
	if ((uint64_t)addr + len > 0x100000000ull)
		return sb_error_set(e, -ERANGE,
				    "%u bytes at 0x%08x run past the end of the 32-bit address space",
				    len, addr);
	if (last && (uint64_t)last->addr + last->len == addr) {
		p = realloc(last->data, (size_t)last->len + len);
		if (!p)
			goto nomem;
		memcpy(p + last->len, data, len);
		last->data = p;
		last->len += len;
		return 0;
	}
	if (s->count == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct segment *n = realloc(s->seg, cap * sizeof(*n));

		if (!n)
			goto nomem;
		s->seg = n;
		s->cap = cap;
	}
	p = malloc(len);
	if (!p)
		goto nomem;
	memcpy(p, data, len);
	s->seg[s->count].addr = addr;
	s->seg[s->count].len = len;
	s->seg[s->count].data = p;
	s->count++;
	return 0;
nomem:
	return sb_error_set(e, -ENOMEM, "out of memory");
}

static int by_addr(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int segments_sort(struct segments *s, const char *name, struct sb_error *e)
{
	size_t i, out;

	if (s->count < 2)
		return 0;
	qsort(s->seg, s->count, sizeof(*s->seg), by_addr);
	for (i = 1; i < s->count; i++) {
		const struct segment *a = &s->seg[i - 1], *b = &s->seg[i];

		if ((uint64_t)a->addr + a->len > b->addr)
			return sb_error_set(e, -EINVAL,
					    "%s%soverlapping data: 0x%08x..0x%08x and 0x%08x..0x%08x",
					    name ? name : "", name ? ": " : "",
					    a->addr, a->addr + a->len - 1,
					    b->addr, b->addr + b->len - 1);
	}
	/* Merge neighbours that touch, so writers see the fewest segments. */
	for (i = 1, out = 0; i < s->count; i++) {
		struct segment *a = &s->seg[out], *b = &s->seg[i];

		if ((uint64_t)a->addr + a->len == b->addr) {
			uint8_t *p = realloc(a->data, (size_t)a->len + b->len);

			if (!p)
				return sb_error_set(e, -ENOMEM, "out of memory");
			memcpy(p + a->len, b->data, b->len);
			a->data = p;
			a->len += b->len;
			free(b->data);
			b->data = NULL;
		} else {
			s->seg[++out] = *b;
		}
	}
	s->count = out + 1;
	return 0;
}

void segments_span(const struct segments *s, uint32_t *lo, uint64_t *end)
{
	size_t i;

	*lo = 0;
	*end = 0;
	for (i = 0; i < s->count; i++) {
		uint64_t e = (uint64_t)s->seg[i].addr + s->seg[i].len;

		if (i == 0 || s->seg[i].addr < *lo)
			*lo = s->seg[i].addr;
		if (e > *end)
			*end = e;
	}
}

uint64_t segments_total(const struct segments *s)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < s->count; i++)
		n += s->seg[i].len;
	return n;
}

void segments_read(const struct segments *s, uint32_t addr, uint8_t *buf,
		   uint32_t len, uint8_t fill)
{
	uint64_t want_end = (uint64_t)addr + len;
	size_t i;

	memset(buf, fill, len);
	for (i = 0; i < s->count; i++) {
		const struct segment *g = &s->seg[i];
		uint64_t g_end = (uint64_t)g->addr + g->len;
		uint64_t from = g->addr > addr ? g->addr : addr;
		uint64_t to = g_end < want_end ? g_end : want_end;

		if (from < to)
			memcpy(buf + (from - addr), g->data + (from - g->addr),
			       (size_t)(to - from));
	}
}

const struct segment *segments_find(const struct segments *s, uint32_t addr)
{
	size_t i;

	for (i = 0; i < s->count; i++)
		if (addr >= s->seg[i].addr &&
		    (uint64_t)addr < (uint64_t)s->seg[i].addr + s->seg[i].len)
			return &s->seg[i];
	return NULL;
}
