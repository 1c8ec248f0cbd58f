/*
 * test_formats.c - the firmware file readers (ELF, Intel HEX, S-record,
 * binary) and the segment list they fill: good files, and every kind of
 * malformed file with the message it must produce.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "segments.h"

static char tmpdir[] = "/tmp/sysboot-formats-XXXXXX";

static const char *write_tmp(const char *name, const void *data, size_t len)
{
	static char path[4][300];
	static unsigned next;
	char *p = path[next++ % 4];
	FILE *f;

	snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
	f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	return p;
}

/* Load text as a file; expect failure with a message containing needle. */
static void expect_error(const char *name, const char *text, const char *needle)
{
	struct segments s;
	char err[512];

	assert_int_equal(segments_load(&s, write_tmp(name, text, strlen(text)), 0x08000000u,
				       err, sizeof(err)), -1);
	if (!strstr(err, needle))
		fail_msg("error '%s' lacks '%s'", err, needle);
}

static void ihex_good_with_extended_address(void **state)
{
	const char *hex =
		":020000040800F2\n"
		":0400000001020304F2\n"
		":0400100005060708D2\n"
		":00000001FF\n";
	struct segments s;
	char err[256];
	uint8_t buf[20];

	(void)state;
	assert_int_equal(segments_load(&s, write_tmp("a.hex", hex, strlen(hex)), 0, err, sizeof(err)), 0);
	assert_int_equal(s.count, 2);      /* a gap stays a gap */
	assert_int_equal(s.seg[0].addr, 0x08000000u);
	assert_int_equal(s.seg[1].addr, 0x08000010u);
	segments_read(&s, 0x08000000u, buf, sizeof(buf), 0xFF);
	assert_int_equal(buf[0], 1);
	assert_int_equal(buf[4], 0xFF);
	assert_int_equal(buf[16], 5);
	segments_free(&s);
}

static void ihex_errors(void **state)
{
	(void)state;
	expect_error("sum.hex", ":0400000001020304F3\n:00000001FF\n", "sum.hex:1: bad checksum");
	expect_error("digit.hex", ":04000000010203G4F2\n:00000001FF\n", "digit.hex:1: bad hex digit");
	expect_error("short.hex", ":0400000001020304F2\n:04001000050607\n:00000001FF\n",
		     "short.hex:2: ");
	expect_error("noeof.hex", ":0400000001020304F2\n", "no end-of-file record");
	expect_error("after.hex", ":0400000001020304F2\n:00000001FF\n:0400000001020304F2\n",
		     "after.hex:3: data after the end-of-file record");
	expect_error("type.hex", ":0400000601020304EC\n:00000001FF\n", "unknown record type 06");
}

static void ihex_round_trip(void **state)
{
	struct segments a, b;
	uint8_t data[300];
	char err[256], path[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13);
	segments_init(&a);
	/* Across a 64 KB boundary, so an extended address record is needed. */
	assert_int_equal(segments_add(&a, 0x0800FF80u, data, sizeof(data)), 0);
	assert_int_equal(segments_add(&a, 0x08080000u, data, 7), 0);
	snprintf(path, sizeof(path), "%s/rt.hex", tmpdir);
	assert_int_equal(ihex_write(&a, path, err, sizeof(err)), 0);
	assert_int_equal(segments_load(&b, path, 0, err, sizeof(err)), 0);
	assert_int_equal(b.count, 2);
	assert_int_equal(b.seg[0].addr, 0x0800FF80u);
	assert_int_equal(b.seg[0].len, sizeof(data));
	assert_memory_equal(b.seg[0].data, data, sizeof(data));
	assert_int_equal(b.seg[1].addr, 0x08080000u);
	segments_free(&a);
	segments_free(&b);
}

static void srec_good_and_errors(void **state)
{
	const char *good =
		"S00600004844521B\n"
		"S3090800000001020304E4\n"
		"S70508000000F2\n";
	struct segments s;
	char err[256];

	(void)state;
	assert_int_equal(segments_load(&s, write_tmp("a.s37", good, strlen(good)), 0, err, sizeof(err)), 0);
	assert_int_equal(s.count, 1);
	assert_int_equal(s.seg[0].addr, 0x08000000u);
	assert_int_equal(s.seg[0].len, 4);
	assert_int_equal(s.seg[0].data[3], 4);
	segments_free(&s);
	expect_error("sum.s37", "S3090800000001020304E5\nS70508000000F2\n", "sum.s37:1: bad checksum");
	expect_error("noend.s37", "S3090800000001020304E4\n", "no end record");
	expect_error("len.s37", "S30A0800000001020304E4\nS70508000000F2\n", "len.s37:1: record length");
	expect_error("type.s37", "S4090800000001020304E4\nS70508000000F2\n", "unknown record type S4");
}

/* A minimal ELF32 ARM file with one PT_LOAD segment. */
static size_t make_elf(uint8_t *f, size_t cap, uint32_t paddr, const uint8_t *data, uint32_t n)
{
	memset(f, 0, cap);
	memcpy(f, "\177ELF", 4);
	f[4] = 1;                       /* ELFCLASS32 */
	f[5] = 1;                       /* little-endian */
	f[6] = 1;
	f[18] = 40;                     /* EM_ARM */
	f[28] = 52;                     /* e_phoff */
	f[42] = 32;                     /* e_phentsize */
	f[44] = 1;                      /* e_phnum */
	f[52] = 1;                      /* PT_LOAD */
	f[56] = 84;                     /* p_offset */
	memcpy(f + 64, &paddr, 4);      /* p_paddr */
	memcpy(f + 68, &n, 4);          /* p_filesz */
	memcpy(f + 84, data, n);
	return 84 + n;
}

static void elf_good_and_malformed(void **state)
{
	uint8_t f[256];
	const uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct segments s;
	char err[256];
	size_t n;

	(void)state;
	n = make_elf(f, sizeof(f), 0x08002200u, data, sizeof(data));
	assert_int_equal(segments_load(&s, write_tmp("a.elf", f, n), 0, err, sizeof(err)), 0);
	assert_int_equal(s.count, 1);
	assert_int_equal(s.seg[0].addr, 0x08002200u);
	assert_memory_equal(s.seg[0].data, data, 8);
	segments_free(&s);

	/* The segment claims more bytes than the file holds. */
	n = make_elf(f, sizeof(f), 0x08002200u, data, sizeof(data));
	f[68] = 200;
	assert_int_equal(segments_load(&s, write_tmp("b.elf", f, n), 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "lies outside the file"));
	/* Program headers past the end. */
	n = make_elf(f, sizeof(f), 0x08002200u, data, sizeof(data));
	f[28] = 250;
	assert_int_equal(segments_load(&s, write_tmp("c.elf", f, n), 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "program header table"));
	/* 64-bit, big-endian, other machine, truncated. */
	make_elf(f, sizeof(f), 0, data, 8);
	f[4] = 2;
	assert_int_equal(segments_load(&s, write_tmp("d.elf", f, n), 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "64-bit"));
	make_elf(f, sizeof(f), 0, data, 8);
	f[5] = 2;
	assert_int_equal(segments_load(&s, write_tmp("e.elf", f, n), 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "big-endian"));
	make_elf(f, sizeof(f), 0, data, 8);
	f[18] = 62;
	assert_int_equal(segments_load(&s, write_tmp("f.elf", f, n), 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not ARM code"));
	assert_int_equal(segments_load(&s, write_tmp("g.elf", f, 20), 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "truncated ELF header"));
}

static void overlapping_data_is_refused(void **state)
{
	const char *hex =
		":0400000001020304F2\n"
		":0400020005060708E0\n"
		":00000001FF\n";

	(void)state;
	expect_error("overlap.hex", hex, "overlapping data: 0x00000000..0x00000003 and 0x00000002..0x00000005");
}

static void binary_goes_at_the_given_address(void **state)
{
	const uint8_t data[5] = { 9, 8, 7, 6, 5 };
	struct segments s;
	char err[256];

	(void)state;
	assert_int_equal(segments_load(&s, write_tmp("a.bin", data, 5), 0x08004000u, err, sizeof(err)), 0);
	assert_int_equal(s.seg[0].addr, 0x08004000u);
	assert_int_equal(s.seg[0].len, 5);
	segments_free(&s);
	assert_int_equal(segments_load(&s, write_tmp("empty.bin", data, 0), 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is empty"));
	assert_int_equal(segments_load(&s, "/nonexistent/x.bin", 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open /nonexistent/x.bin: No such file or directory"));
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ihex_good_with_extended_address),
		cmocka_unit_test(ihex_errors),
		cmocka_unit_test(ihex_round_trip),
		cmocka_unit_test(srec_good_and_errors),
		cmocka_unit_test(elf_good_and_malformed),
		cmocka_unit_test(overlapping_data_is_refused),
		cmocka_unit_test(binary_goes_at_the_given_address),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
