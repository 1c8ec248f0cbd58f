/*
 * test_srec.c - Motorola S-records: S1/S2/S3 data, S0/S5/S7/S8/S9, every
 * malformed record with its message, and write/read round trips.
 */
#include "host_test.h"

static void good_s3(void **state)
{
	const char *good =
		"S00600004844521B\n"
		"S3090800000001020304E4\n"
		"S5030001FB\n"
		"S70508000000F2\n";
	struct segments s;
	struct sb_error e;

	(void)state;
	assert_int_equal(segments_load(&s, write_tmp("a.s37", good, strlen(good)), &no_raw, NULL, &e), 0);
	assert_int_equal(s.count, 1);
	assert_int_equal(s.seg[0].addr, 0x08000000u);
	assert_int_equal(s.seg[0].len, 4);
	assert_int_equal(s.seg[0].data[3], 4);
	segments_free(&s);
}

static void good_s1_s2(void **state)
{
	const char *s19 = "S107001001020304DE\r\nS9030000FC\n";
	const char *s28 = "S20801000001020304EC\nS804000000FB\n";
	struct segments s;
	struct sb_error e;

	(void)state;
	assert_int_equal(segments_load(&s, write_tmp("a.s19", s19, strlen(s19)), &no_raw, NULL, &e), 0);
	assert_int_equal(s.seg[0].addr, 0x0010u);
	assert_int_equal(s.seg[0].len, 4);
	segments_free(&s);
	assert_int_equal(segments_load(&s, write_tmp("a.s28", s28, strlen(s28)), &no_raw, NULL, &e), 0);
	assert_int_equal(s.seg[0].addr, 0x010000u);
	segments_free(&s);
}

static void errors(void **state)
{
	(void)state;
	expect_text_error("sum.s37", "S3090800000001020304E5\nS70508000000F2\n",
			  "sum.s37:1: bad checksum: record says E5, computed E4");
	expect_text_error("noend.s37", "S3090800000001020304E4\n",
			  "noend.s37:1: no end record (S7, S8 or S9): truncated file?");
	expect_text_error("len.s37", "S30A0800000001020304E4\nS70508000000F2\n",
			  "len.s37:1: record says 10 bytes follow but the line holds 9: truncated?");
	expect_text_error("odd.s37", "S3090800000001020304E\nS70508000000F2\n",
			  "odd.s37:1: odd number of hex digits");
	expect_text_error("type.s37", "S4090800000001020304E4\nS70508000000F2\n",
			  "type.s37:1: unknown record type S4");
	expect_text_error("digit.s37", "S30908000000010Z0304E4\nS70508000000F2\n",
			  "digit.s37:1: bad hex digit 'Z' at column 16");
	expect_text_error("after.s37", "S3090800000001020304E4\nS70508000000F2\nS3090800000001020304E4\n",
			  "after.s37:3: data after the end record");
	expect_text_error("count.s37", "S3090800000001020304E4\nS5030002FA\nS70508000000F2\n",
			  "count.s37:2: S5 record counts 2 data records, the file has 1 before it");
	expect_text_error("short.s37", "S304000000FB\nS70508000000F2\n",
			  "short.s37:1: S3 record too short for its 4-byte address");
	expect_text_error("notS.s37", "S3090800000001020304E4\nX70508000000F2\n",
			  "notS.s37:2: not an S-record");
	expect_text_error("nodata.s37", "S00600004844521B\nS70508000000F2\n", "nodata.s37: no data records");
}

static void round_trip(void **state)
{
	struct segments a, b;
	struct sb_error e;
	uint8_t data[100];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	segments_init(&a);
	assert_int_equal(segments_add(&a, 0x08002000u, data, 64, &e), 0);
	assert_int_equal(segments_add(&a, 0x08002200u, data, sizeof(data), &e), 0);
	assert_int_equal(srec_write(&a, tmp_path("rt.srec"), &e), 0);
	assert_int_equal(segments_load(&b, tmp_path("rt.srec"), &no_raw, NULL, &e), 0);
	assert_int_equal(b.count, 2);
	assert_int_equal(b.seg[0].addr, 0x08002000u);
	assert_int_equal(b.seg[0].len, 64);
	assert_int_equal(b.seg[1].addr, 0x08002200u);
	assert_int_equal(b.seg[1].len, sizeof(data));
	assert_memory_equal(b.seg[1].data, data, sizeof(data));
	segments_free(&a);
	segments_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_s3),
		cmocka_unit_test(good_s1_s2),
		cmocka_unit_test(errors),
		cmocka_unit_test(round_trip),
	};

	return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
