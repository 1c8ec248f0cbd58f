/*
 * host_test.h - what the host tool's unit tests share: a scratch folder,
 * writing a file into it, and loading a file with an expected error.
 * Header-only so each test program stays one file plus this.
 */
#ifndef SYSBOOT_HOST_TEST_H
#define SYSBOOT_HOST_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "formats.h"

static char tmpdir[] = "/tmp/sysboot-host-test-XXXXXX";

static inline const char *tmp_path(const char *name)
{
	static char path[4][400];
	static unsigned next;
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
	return p;
}

static inline const char *write_tmp(const char *name, const void *data, size_t len)
{
	const char *p = tmp_path(name);
	FILE *f = fopen(p, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	return p;
}

static const struct load_opts no_raw = { .raw = false };

/* Load a file; expect code and a message containing needle. */
static inline void expect_load_error(const char *name, const void *data, size_t len,
			      const struct load_opts *o, int code, const char *needle)
{
	struct segments s;
	struct sb_error e;

	assert_int_equal(segments_load(&s, write_tmp(name, data, len), o, NULL, &e), code);
	assert_int_equal(s.count, 0);
	if (!strstr(e.msg, needle))
		fail_msg("error '%s' lacks '%s'", e.msg, needle);
}

static inline void expect_text_error(const char *name, const char *text, const char *needle)
{
	expect_load_error(name, text, strlen(text), &no_raw, -EINVAL, needle);
}

static inline int setup_tmpdir(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static inline int teardown_tmpdir(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif /* SYSBOOT_HOST_TEST_H */
