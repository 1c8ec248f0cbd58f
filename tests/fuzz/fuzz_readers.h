/*
 * fuzz_readers.h - the checks every firmware file harness makes on what a
 * reader accepted or refused.
 */
#ifndef TESTS_FUZZ_READERS_H
#define TESTS_FUZZ_READERS_H

#include <string.h>

#include "formats.h"
#include "fuzz.h"

/*
 * A refusal carries a message; an accepted file, once sorted, is a list of
 * non-empty, ascending, non-overlapping segments inside 32-bit space.
 */
static inline void fuzz_check_result(struct segments *s, int ret, const struct sb_error *e)
{
	const struct segment *g, *prev = NULL;

	if (ret < 0) {
		FUZZ_CHECK(memchr(e->msg, '\0', sizeof(e->msg)) && e->msg[0]);
		return;
	}
	FUZZ_CHECK(ret == 0);
	segments_for_each(g, s) {
		FUZZ_CHECK(g->len > 0);
		FUZZ_CHECK((uint64_t)g->addr + g->len <= 0x100000000ull);
		if (prev)
			FUZZ_CHECK((uint64_t)prev->addr + prev->len < g->addr);
		prev = g;
	}
}

/* The input as the tool reads a file: a copy with a NUL after it. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *t = malloc(size + 1);

	if (!t)
		abort();
	memcpy(t, data, size);
	t[size] = '\0';
	return t;
}

/* Read with one format's reader, sort, check, free. */
#define FUZZ_READER(call)                                                       \
	do {                                                                    \
		struct segments s;                                              \
		struct sb_error e;                                              \
		int ret;                                                        \
                                                                                \
		memset(&e, 0, sizeof(e));                                       \
		segments_init(&s);                                              \
		ret = (call);                                                   \
		if (ret == 0)                                                   \
			ret = segments_sort(&s, "input", &e);                   \
		fuzz_check_result(&s, ret, &e);                                 \
		segments_free(&s);                                              \
	} while (0)

#endif
