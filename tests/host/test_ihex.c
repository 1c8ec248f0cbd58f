/*
 * test_ihex.c - Intel HEX: good files, every malformed record the reader
 * must refuse (with file, line and what), and write/read round trips.
 */
#include "host_test.h"

static void good_with_extended_address(void **state)
{
	const char *hex =
		":020000040800F2\n"
		":0400000001020304F2\n"
		":0400100005060708D2\r\n"
		":0400000508002201CC\n"
		":00000001FF\n";
	struct segments s;
	struct sb_error e;
	uint8_t buf[20];

	(void)state;
	assert_int_equal(segments_load(&s, write_tmp("a.hex", hex, strlen(hex)), &no_raw, NULL, &e), 0);
	assert_int_equal(s.count, 2);      /* a gap stays a gap */
	assert_int_equal(s.seg[0].addr, 0x08000000u);
	assert_int_equal(s.seg[1].addr, 0x08000010u);
	segments_read(&s, 0x08000000u, buf, sizeof(buf), 0xFF);
	assert_int_equal(buf[0], 1);
	assert_int_equal(buf[4], 0xFF);
	assert_int_equal(buf[16], 5);
	segments_free(&s);
}

static void segment_address_records(void **state)
{
	/* Type 02 0x1000 -> base 0x10000; type 03 start address is accepted. */
	const char *hex =
		":020000021000EC\n"
		":020010001122BB\n"
		":0400000300001000E9\n"
		":00000001FF\n";
	struct segments s;
	struct sb_error e;

	(void)state;
	assert_int_equal(segments_load(&s, write_tmp("seg.hex", hex, strlen(hex)), &no_raw, NULL, &e), 0);
	assert_int_equal(s.count, 1);
	assert_int_equal(s.seg[0].addr, 0x10010u);
	assert_int_equal(s.seg[0].data[1], 0x22);
	segments_free(&s);
}

static void errors(void **state)
{
	(void)state;
	expect_text_error("sum.hex", ":0400000001020304F3\n:00000001FF\n",
			  "sum.hex:1: bad checksum: record says F3, computed F2");
	expect_text_error("digit.hex", ":04000000010203G4F2\n:00000001FF\n",
			  "digit.hex:1: bad hex digit 'G' at column 16");
	expect_text_error("short.hex", ":0400000001020304F2\n:04001000050607\n:00000001FF\n",
			  "short.hex:2: record says 4 data bytes but the line holds 2: truncated?");
	expect_text_error("odd.hex", ":0400000001020304F2\n:040010000506070\n:00000001FF\n",
			  "odd.hex:2: odd number of hex digits (15): truncated record?");
	expect_text_error("cut.hex", ":0400000001020304F2\n:040010000506D5\n:00000001FF\n",
			  "cut.hex:2: record says 4 data bytes but the line holds 2: truncated?");
	expect_text_error("tiny.hex", ":0000\n:00000001FF\n",
			  "tiny.hex:1: record too short");
	expect_text_error("noeof.hex", ":0400000001020304F2\n",
			  "noeof.hex:1: no end-of-file record (type 01): truncated file?");
	expect_text_error("after.hex", ":0400000001020304F2\n:00000001FF\n:0400000001020304F2\n",
			  "after.hex:3: data after the end-of-file record");
	expect_text_error("type.hex", ":0400000601020304EC\n:00000001FF\n",
			  "type.hex:1: unknown record type 06");
	expect_text_error("colon.hex", ":00000001FF\nx\n", "colon.hex:2: data after the end-of-file record");
	expect_text_error("nocolon.hex", ":0400000001020304F2\n0400000001020304F2\n:00000001FF\n",
			  "nocolon.hex:2: not an Intel HEX record (does not start with ':')");
	expect_text_error("ext.hex", ":0100000408F3\n:00000001FF\n",
			  "ext.hex:1: extended linear address record (type 04) must hold 2 bytes, not 1");
	expect_text_error("eofdata.hex", ":0100000100FE\n",
			  "eofdata.hex:1: end-of-file record (type 01) must hold 0 bytes, not 1");
	expect_text_error("start.hex", ":020000050800F1\n:00000001FF\n",
			  "start.hex:1: start linear address record (type 05) must hold 4 bytes, not 2");
	expect_text_error("empty.hex", ":00000001FF\n", "empty.hex: no data records");
	{
		const char *wrap = ":02000004FFFFFC\n:04FFFE0001020304F5\n:00000001FF\n";

		expect_load_error("wrap.hex", wrap, strlen(wrap), &no_raw, -ERANGE,
				  "wrap.hex:2: data at 0xfffffffe runs past 4 GB");
	}
}

static void overlap_is_refused(void **state)
{
	const char *hex =
		":0400000001020304F2\n"
		":0400020005060708E0\n"
		":00000001FF\n";

	(void)state;
	expect_text_error("overlap.hex", hex,
			  "overlap.hex: overlapping data: 0x00000000..0x00000003 and 0x00000002..0x00000005");
}

static void round_trip(void **state)
{
	struct segments a, b;
	struct sb_error e;
	uint8_t data[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13);
	segments_init(&a);
	/* Across a 64 KB boundary, so an extended address record is needed. */
	assert_int_equal(segments_add(&a, 0x0800FF80u, data, sizeof(data), &e), 0);
	assert_int_equal(segments_add(&a, 0x08080000u, data, 7, &e), 0);
	assert_int_equal(ihex_write(&a, tmp_path("rt.hex"), &e), 0);
	assert_int_equal(segments_load(&b, tmp_path("rt.hex"), &no_raw, NULL, &e), 0);
	assert_int_equal(b.count, 2);
	assert_int_equal(b.seg[0].addr, 0x0800FF80u);
	assert_int_equal(b.seg[0].len, sizeof(data));
	assert_memory_equal(b.seg[0].data, data, sizeof(data));
	assert_int_equal(b.seg[1].addr, 0x08080000u);
	assert_int_equal(b.seg[1].len, 7);
	segments_free(&a);
	segments_free(&b);
	assert_int_equal(ihex_write(&a, "/nonexistent/dir/x.hex", &e), -EIO);
	assert_non_null(strstr(e.msg, "cannot create /nonexistent/dir/x.hex"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_with_extended_address),
		cmocka_unit_test(segment_address_records),
		cmocka_unit_test(errors),
		cmocka_unit_test(overlap_is_refused),
		cmocka_unit_test(round_trip),
	};

	return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
