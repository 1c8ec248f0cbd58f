/*
 * test_segments.c - the segment list, raw binaries, format detection and
 * the output helpers (JSON escaping, progress bar) everything else uses.
 */
#include "host_test.h"
#include "output.h"

static void add_sort_merge_overlap(void **state)
{
	struct segments s;
	struct sb_error e;
	const uint8_t a[4] = { 1, 2, 3, 4 }, b[4] = { 5, 6, 7, 8 };
	const struct segment *g;
	uint8_t buf[12];
	uint32_t lo;
	uint64_t end;
	unsigned n = 0;

	(void)state;
	segments_init(&s);
	assert_int_equal(segments_add(&s, 0x108, b, 4, &e), 0);
	assert_int_equal(segments_add(&s, 0x100, a, 4, &e), 0);
	assert_int_equal(segments_add(&s, 0x104, b, 4, &e), 0);
	assert_int_equal(segments_add(&s, 0x200, a, 0, &e), 0);   /* empty: ignored */
	assert_int_equal(s.count, 2);      /* 0x104 continued 0x100 */
	assert_int_equal(segments_sort(&s, "x", &e), 0);
	assert_int_equal(s.count, 1);                             /* touching: merged */
	assert_int_equal(s.seg[0].addr, 0x100);
	assert_int_equal(s.seg[0].len, 12);
	segments_span(&s, &lo, &end);
	assert_int_equal(lo, 0x100);
	assert_int_equal(end, 0x10C);
	assert_int_equal(segments_total(&s), 12);
	segments_read(&s, 0xFE, buf, sizeof(buf), 0xEE);
	assert_int_equal(buf[0], 0xEE);
	assert_int_equal(buf[2], 1);
	assert_int_equal(buf[11], 6);
	assert_non_null(segments_find(&s, 0x10B));
	assert_null(segments_find(&s, 0x10C));
	segments_for_each(g, &s)
		n++;
	assert_int_equal(n, 1);
	assert_int_equal(segments_add(&s, 0x102, a, 4, &e), 0);
	assert_int_equal(segments_sort(&s, "x.hex", &e), -EINVAL);
	assert_string_equal(e.msg, "x.hex: overlapping data: 0x00000100..0x0000010b and 0x00000102..0x00000105");
	assert_int_equal(segments_add(&s, 0xFFFFFFFEu, a, 4, &e), -ERANGE);
	assert_string_equal(e.msg, "4 bytes at 0xfffffffe run past the end of the 32-bit address space");
	/* A segment may end exactly at 4 GB. */
	assert_int_equal(segments_add(&s, 0xFFFFFFFCu, a, 4, &e), 0);
	segments_span(&s, &lo, &end);
	assert_int_equal(end, 0x100000000ull);
	segments_free(&s);
	assert_int_equal(s.count, 0);
	segments_for_each(g, &s)
		fail();
}

static void binary_needs_an_address(void **state)
{
	const uint8_t data[5] = { 9, 8, 7, 6, 5 };
	const uint8_t colon[3] = { ':', 1, 2 };
	const struct load_opts at = { .raw = true, .raw_base = 0x08004000u };
	struct load_info info;
	struct segments s;
	struct sb_error e;

	(void)state;
	assert_int_equal(segments_load(&s, write_tmp("a.bin", data, 5), &at, &info, &e), 0);
	assert_int_equal(info.format, FW_BIN);
	assert_int_equal(s.seg[0].addr, 0x08004000u);
	assert_int_equal(s.seg[0].len, 5);
	segments_free(&s);
	/* With an address, a .bin is raw even if it starts like a HEX file. */
	assert_int_equal(segments_load(&s, write_tmp("c.bin", colon, 3), &at, &info, &e), 0);
	assert_int_equal(info.format, FW_BIN);
	segments_free(&s);
	expect_load_error("b.bin", data, 5, &no_raw, -ENOTSUP,
			  "b.bin: not an ELF, Intel HEX, S-record or DfuSe file (starts with 09 08 07 06); for a raw binary give --address");
	expect_load_error("empty.bin", data, 0, &at, -EINVAL, "empty.bin is empty");
	assert_int_equal(segments_load(&s, "/nonexistent/x.bin", &at, NULL, &e), -ENOENT);
	assert_string_equal(e.msg, "cannot open /nonexistent/x.bin: No such file or directory");
	{
		const struct load_opts high = { .raw = true, .raw_base = 0xFFFFFFFEu };

		expect_load_error("high.bin", data, 5, &high, -ERANGE,
				  "high.bin: 5 bytes at 0xfffffffe run past the end of the 32-bit address space");
	}
}

static void detection(void **state)
{
	const struct load_opts at = { .raw = true, .raw_base = 0 };

	(void)state;
	assert_int_equal(fw_detect((const uint8_t *)"\177ELF", 4, "x.hex", &no_raw), FW_ELF);
	assert_int_equal(fw_detect((const uint8_t *)"DfuSe", 5, "x", &no_raw), FW_DFU);
	assert_int_equal(fw_detect((const uint8_t *)":00", 3, "x.srec", &no_raw), FW_IHEX);
	assert_int_equal(fw_detect((const uint8_t *)"S0", 2, "x", &no_raw), FW_SREC);
	assert_int_equal(fw_detect((const uint8_t *)"S3", 2, "x", &no_raw), FW_SREC);
	assert_int_equal(fw_detect((const uint8_t *)"\n:00", 4, "x.HEX", &no_raw), FW_IHEX);
	assert_int_equal(fw_detect((const uint8_t *)"zz", 2, "x.s19", &no_raw), FW_SREC);
	assert_int_equal(fw_detect((const uint8_t *)"zz", 2, "dir.elf/x", &no_raw), FW_UNKNOWN);
	assert_int_equal(fw_detect((const uint8_t *)"zz", 2, "x.bin", &no_raw), FW_UNKNOWN);
	assert_int_equal(fw_detect((const uint8_t *)"zz", 2, "x", &at), FW_BIN);
	assert_int_equal(fw_detect((const uint8_t *)"\177ELF", 4, "x.img", &at), FW_BIN);
	assert_string_equal(fw_format_name(FW_SREC), "S-record");
}

static void json_escaping(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct json_obj j;

	(void)state;
	assert_non_null(f);
	json_begin(&j, f);
	json_kv_str(&j, "s", "a\"b\\c\n\t\x01\x7f/é");
	json_kv_int(&j, "n", -5);
	json_kv_bool(&j, "ok", true);
	json_kv_hex32(&j, "crc", 0xABCDu);
	json_kv_str(&j, "null", NULL);
	json_end(&j);
	fclose(f);
	assert_string_equal(text, "{\"s\":\"a\\\"b\\\\c\\n\\t\\u0001\\u007f/é\",\"n\":-5,"
			    "\"ok\":true,\"crc\":\"0x0000abcd\",\"null\":null}\n");
	free(text);
}

static void errors_and_progress(void **state)
{
	char *out = NULL, *err = NULL;
	size_t olen = 0, elen = 0;
	struct output o;
	struct progress p;
	char bar[100];

	(void)state;
	output_init(&o, "image show", true);
	o.out = open_memstream(&out, &olen);
	o.err = open_memstream(&err, &elen);
	assert_int_equal(out_error(&o, 3, "x.hex:%d: bad \"thing\"", 2), 3);
	progress_start(&p, &o, "write", 1000);
	progress_update(&p, 500);
	progress_finish(&p, true);
	fclose(o.out);
	fclose(o.err);
	assert_string_equal(out, "{\"command\":\"image show\",\"ok\":false,\"exit_code\":3,"
			    "\"error\":\"x.hex:2: bad \\\"thing\\\"\"}\n"
			    "{\"phase\":\"write\",\"done\":500,\"total\":1000,\"ok\":true}\n");
	assert_non_null(strstr(out, "\"error\":\"x.hex:2: bad \\\"thing\\\"\"}\n"));
	assert_non_null(strstr(out, "{\"phase\":\"write\",\"done\":500,\"total\":1000,\"ok\":true}\n"));
	assert_string_equal(err, "sysboot: error: x.hex:2: bad \"thing\"\n");
	free(out);
	free(err);

	/* Not a terminal, not JSON: a line per quarter. */
	output_init(&o, "write", false);
	o.err = open_memstream(&err, &elen);
	progress_start(&p, &o, "write", 100);
	progress_update(&p, 10);
	progress_update(&p, 30);
	progress_update(&p, 100);
	progress_finish(&p, true);
	fclose(o.err);
	assert_string_equal(err, "write: 0/100 (0%)\nwrite: 30/100 (30%)\nwrite: 100/100 (100%)\n");
	free(err);

	progress_format(bar, sizeof(bar), "erase", 50, 100);
	assert_string_equal(bar, "erase  [###############...............]  50% 50/100");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(add_sort_merge_overlap),
		cmocka_unit_test(binary_needs_an_address),
		cmocka_unit_test(detection),
		cmocka_unit_test(json_escaping),
		cmocka_unit_test(errors_and_progress),
	};

	return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
