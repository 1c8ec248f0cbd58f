/*
 * test_dfu.c - DfuSe .dfu files (UM0391): a written file reads back as the
 * same segments, and every lie a file can tell (suffix CRC, signatures,
 * sizes, truncation) is refused with the offset and what is wrong.
 */
#include "host_test.h"
#include "sysboot/crc32.h"
#include "sysboot/dfuse.h"
#include "sysboot/byteorder.h"

static uint8_t *dfu_file;
static size_t dfu_len;

/* A good two-element file, kept in dfu_file for the malformed variants. */
static void make_good(void)
{
	struct segments a;
	struct sb_error e;
	uint8_t data[40];
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(0xA0 + i);
	segments_init(&a);
	assert_int_equal(segments_add(&a, 0x08002000u, data, 16, &e), 0);
	assert_int_equal(segments_add(&a, 0x08002200u, data, sizeof(data), &e), 0);
	assert_int_equal(dfu_write(&a, tmp_path("good.dfu"), 0, "Internal Flash",
				   DFUSE_VID, DFUSE_PID, &e), 0);
	segments_free(&a);
	free(dfu_file);
	assert_int_equal(fw_read_file(tmp_path("good.dfu"), &dfu_file, &dfu_len, &e), 0);
}

/* Fix the suffix CRC after changing the body, so the later check runs. */
static void recrc(uint8_t *f, size_t len)
{
	put_le32(f + len - 4, ~sysboot_crc32(f, len - 4));
}

static void round_trip(void **state)
{
	struct segments s;
	struct dfu_info info;
	struct load_info li;
	struct sb_error e;

	(void)state;
	make_good();
	/* 11 prefix + 274 target + 2 * 8 element headers + 56 data + 16 suffix */
	assert_int_equal(dfu_len, 11 + 274 + 16 + 56 + 16);
	assert_memory_equal(dfu_file, "DfuSe\x01", 6);
	assert_memory_equal(dfu_file + dfu_len - 8, "UFD\x10", 4);
	/* The suffix CRC is the register without the final XOR. */
	assert_int_equal(dfu_suffix_crc(dfu_file, dfu_len - 4),
			 (uint32_t)~sysboot_crc32(dfu_file, dfu_len - 4));
	segments_init(&s);
	assert_int_equal(dfu_read(&s, dfu_file, dfu_len, "good.dfu", &info, &e), 0);
	assert_int_equal(info.vid, 0x0483);
	assert_int_equal(info.pid, 0xDF11);
	assert_int_equal(info.targets, 1);
	assert_int_equal(info.elements, 2);
	assert_int_equal(info.first_alt, 0);
	assert_string_equal(info.first_name, "Internal Flash");
	segments_free(&s);
	assert_int_equal(segments_load(&s, tmp_path("good.dfu"), &no_raw, &li, &e), 0);
	assert_int_equal(li.format, FW_DFU);
	assert_string_equal(li.warning, "");
	assert_int_equal(s.count, 2);
	assert_int_equal(s.seg[0].addr, 0x08002000u);
	assert_int_equal(s.seg[0].len, 16);
	assert_int_equal(s.seg[1].addr, 0x08002200u);
	assert_int_equal(s.seg[1].len, 40);
	assert_int_equal(s.seg[1].data[39], 0xA0 + 39);
	segments_free(&s);
}

static void bad(const char *name, const uint8_t *f, size_t len, const char *needle)
{
	expect_load_error(name, f, len, &no_raw, -EINVAL, needle);
}

/* The good file with one 32-bit field changed and its CRC fixed: refused with needle. */
static void bad_word(uint8_t *f, const char *name, size_t off, uint32_t v, const char *needle)
{
	memcpy(f, dfu_file, dfu_len);
	put_le32(f + off, v);
	recrc(f, dfu_len);
	bad(name, f, dfu_len, needle);
}

/* The same with one byte changed. */
static void bad_byte(uint8_t *f, const char *name, size_t off, uint8_t v, const char *needle)
{
	memcpy(f, dfu_file, dfu_len);
	f[off] = v;
	recrc(f, dfu_len);
	bad(name, f, dfu_len, needle);
}

static void malformed(void **state)
{
	uint8_t f[512];
	char want[128];
	uint32_t good_crc;

	(void)state;
	make_good();
	assert_true(dfu_len <= sizeof(f));

	memcpy(f, dfu_file, dfu_len);
	f[300] ^= 1;
	good_crc = ~sysboot_crc32(f, dfu_len - 4);
	snprintf(want, sizeof(want), "crc.dfu: DFU suffix CRC mismatch: file says 0x%08x, computed 0x%08x",
		 ~sysboot_crc32(dfu_file, dfu_len - 4), good_crc);
	bad("crc.dfu", f, dfu_len, want);

	memcpy(f, dfu_file, dfu_len);
	f[0] = 'X';
	/* Not "DfuSe": detected by the extension, refused by the reader. */
	bad("sig.dfu", f, dfu_len, "sig.dfu: not a DfuSe file (no \"DfuSe\" signature at offset 0)");

	memcpy(f, dfu_file, dfu_len);
	bad("trunc.dfu", f, dfu_len - 20, "trunc.dfu: no DFU suffix (\"UFD\" signature) at offset");
	bad("tiny.dfu", f, 12, "tiny.dfu: truncated: 12 bytes, a DfuSe file has at least 27");

	memcpy(f, dfu_file, dfu_len);
	memcpy(f + 11, "Tarxet", 6);
	recrc(f, dfu_len);
	bad("target.dfu", f, dfu_len, "target.dfu: no \"Target\" signature at offset 11 (target 0 of 1)");

	bad_word(f, "size.dfu", 6, 1000, "size.dfu: prefix (offset 6) says the image is 1000 bytes, the file has 357 before its suffix");

	bad_word(f, "tsize.dfu", 11 + 266, 5000, "tsize.dfu: target 0 at offset 11 says 5000 bytes of elements, only 72 remain");

	bad_word(f, "esize.dfu", 11 + 274 + 4, 0x7FFFFFFF, "esize.dfu: element 0 of target 0 at offset 285 says 2147483647 bytes, only 64 remain in the target");

	bad_word(f, "nelem.dfu", 11 + 270, 3, "nelem.dfu: element 2 of target 0 at offset 357 lies past the target's 72 bytes");

	bad_word(f, "fewer.dfu", 11 + 270, 1, "fewer.dfu: target 0 at offset 11 says 72 bytes, its 1 elements hold 24");

	bad_byte(f, "blen.dfu", dfu_len - 5, 17, "blen.dfu: DFU suffix length 17 at offset 368, expected 16");

	memcpy(f, dfu_file, dfu_len);
	f[dfu_len - 10] = 0x00;
	recrc(f, dfu_len);
	expect_load_error("bcd.dfu", f, dfu_len, &no_raw, -ENOTSUP,
			  "bcd.dfu: DFU suffix bcdDFU 0x0100 at offset 363, expected 0x011a (DfuSe)");

	memcpy(f, dfu_file, dfu_len);
	f[5] = 2;
	recrc(f, dfu_len);
	expect_load_error("ver.dfu", f, dfu_len, &no_raw, -ENOTSUP,
			  "ver.dfu: DfuSe version 2 at offset 5, only version 1 is known");

	bad_byte(f, "none.dfu", 10, 0, "none.dfu: no targets (offset 10)");

	/* Overlapping elements are caught like any overlap. */
	bad_word(f, "overlap.dfu", 11 + 274 + 8 + 16, 0x08002008u,
		 "overlap.dfu: overlapping data: 0x08002000..0x0800200f and 0x08002008..0x0800202f");
}

static void other_device_is_reported(void **state)
{
	struct segments a, s;
	struct load_info li;
	struct sb_error e;
	const uint8_t d[8] = { 0 };

	(void)state;
	segments_init(&a);
	assert_int_equal(segments_add(&a, 0x08002200u, d, 8, &e), 0);
	assert_int_equal(dfu_write(&a, tmp_path("other.dfu"), 0, NULL, 0x1234, 0x5678, &e), 0);
	segments_free(&a);
	assert_int_equal(segments_load(&s, tmp_path("other.dfu"), &no_raw, &li, &e), 0);
	assert_int_equal(li.dfu_vid, 0x1234);
	assert_non_null(strstr(li.warning, "other.dfu is for USB device 1234:5678, not the STM32 ROM bootloader (0483:df11)"));
	segments_free(&s);
}

static int teardown(void **state)
{
	free(dfu_file);
	return teardown_tmpdir(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(malformed),
		cmocka_unit_test(other_device_is_reported),
	};

	return cmocka_run_group_tests(tests, setup_tmpdir, teardown);
}
