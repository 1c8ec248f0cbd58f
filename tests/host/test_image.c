/*
 * test_image.c - `image build` and `image show` on a synthetic application:
 * the body, header and CRC; every output format reading back to the same
 * image; and every placement and vector error with its message.
 */
#include "host_test.h"
#include "appimage.h"
#include "sysboot/crc32.h"
#include "sysboot/byteorder.h"

/* Vector table + code at SYSBOOT_APP_BASE, a gap, 3 bytes of .data. */
static void make_app(struct segments *app)
{
	struct sb_error e;
	uint8_t vt[0x120];
	const uint8_t data[3] = { 0xD1, 0xD2, 0xD3 };
	size_t i;

	for (i = 0; i < sizeof(vt); i++)
		vt[i] = (uint8_t)i;
	put_le32(vt, 0x20018000u);
	put_le32(vt + 4, SYSBOOT_APP_BASE + 0x101);
	segments_init(app);
	assert_int_equal(segments_add(app, SYSBOOT_APP_BASE, vt, sizeof(vt), &e), 0);
	assert_int_equal(segments_add(app, SYSBOOT_APP_BASE + 0x200, data, 3, &e), 0);
}

static void build_and_inspect(void **state)
{
	struct segments app, img;
	struct sysboot_image_header hdr;
	struct image_report r;
	struct sb_error e;
	uint8_t body[0x208];

	(void)state;
	make_app(&app);
	assert_int_equal(image_build(&app, "app.elf", SYSBOOT_VERSION(1, 2, 3), &img, &hdr, &e), 0);
	/* Body to the last byte (0x203), padded to 8, gap as 0xFF. */
	assert_int_equal(hdr.image_size, 0x208);
	assert_int_equal(img.count, 2);
	assert_int_equal(img.seg[0].addr, SYSBOOT_HEADER_ADDR);
	assert_int_equal(img.seg[0].len, SYSBOOT_IMAGE_HEADER_SIZE);
	assert_int_equal(img.seg[1].addr, SYSBOOT_APP_BASE);
	assert_int_equal(img.seg[1].len, 0x208);
	segments_read(&app, SYSBOOT_APP_BASE, body, sizeof(body), 0xFF);
	assert_memory_equal(img.seg[1].data, body, sizeof(body));
	assert_int_equal(body[0x150], 0xFF);
	assert_int_equal(body[0x204], 0xFF);
	assert_int_equal(hdr.image_crc32, sysboot_crc32(body, sizeof(body)));
	assert_int_equal(hdr.app_version, SYSBOOT_VERSION(1, 2, 3));

	image_inspect(&img, &r);
	assert_int_equal(r.status, SYSBOOT_IMAGE_OK);
	assert_int_equal(r.body_crc_computed, hdr.image_crc32);
	assert_int_equal(r.header_crc_computed, r.hdr.header_crc32);
	assert_int_equal(r.initial_sp, 0x20018000u);
	assert_int_equal(r.reset_vector, SYSBOOT_APP_BASE + 0x101);

	/* One body byte changed: the body CRC says so. */
	img.seg[1].data[0x100] ^= 1;
	image_inspect(&img, &r);
	assert_int_equal(r.status, SYSBOOT_IMAGE_BAD_CRC);
	img.seg[1].data[0x100] ^= 1;
	/* A header byte changed: the header CRC says so. */
	img.seg[0].data[20] ^= 1;
	image_inspect(&img, &r);
	assert_int_equal(r.status, SYSBOOT_IMAGE_BAD_HEADER_CRC);
	img.seg[0].data[20] ^= 1;
	segments_free(&img);

	/* No header at all. */
	image_inspect(&app, &r);
	assert_int_equal(r.status, SYSBOOT_IMAGE_NO_HEADER);
	segments_free(&app);
}

static void every_output_format_reads_back(void **state)
{
	static const char *const names[] = {
		"o.img", "o.bin", "o.hex", "o.srec", "o.s19", "o.s37", "o.dfu",
	};
	const struct load_opts raw = { .raw = true, .raw_base = SYSBOOT_HEADER_ADDR };
	struct segments app, img, back;
	struct sysboot_image_header hdr;
	struct image_report r;
	struct sb_error e;
	uint8_t a[0x408], b[0x408];
	size_t i;

	(void)state;
	make_app(&app);
	assert_int_equal(image_build(&app, "app", SYSBOOT_VERSION(2, 0, 1), &img, &hdr, &e), 0);
	segments_read(&img, SYSBOOT_HEADER_ADDR, a, sizeof(a), 0xFF);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(image_write(&img, tmp_path(names[i]), &e), 0);
		assert_int_equal(segments_load(&back, tmp_path(names[i]),
					       fw_format_from_ext(names[i]) == FW_BIN ? &raw : &no_raw,
					       NULL, &e), 0);
		segments_read(&back, SYSBOOT_HEADER_ADDR, b, sizeof(b), 0xFF);
		assert_memory_equal(a, b, sizeof(a));
		image_inspect(&back, &r);
		assert_int_equal(r.status, SYSBOOT_IMAGE_OK);
		assert_int_equal(r.hdr.app_version, SYSBOOT_VERSION(2, 0, 1));
		/* Text and DfuSe outputs keep the gap after the header a gap. */
		if (fw_format_from_ext(names[i]) != FW_BIN) {
			assert_int_equal(back.count, 2);
			assert_int_equal(back.seg[1].addr, SYSBOOT_APP_BASE);
		}
		segments_free(&back);
	}
	assert_int_equal(image_write(&img, tmp_path("o.zip"), &e), -EINVAL);
	assert_string_equal(strstr(e.msg, "o.zip"), "o.zip: unknown output format '.zip' (use .img, .bin, .hex, .srec, .s19, .s37 or .dfu)");
	segments_free(&img);
	segments_free(&app);
}

static void expect_build_error(uint32_t addr, uint32_t len, int code, const char *needle)
{
	struct segments app, img;
	struct sysboot_image_header hdr;
	struct sb_error e;
	uint8_t *d = calloc(1, len);

	assert_non_null(d);
	segments_init(&app);
	assert_int_equal(segments_add(&app, addr, d, len, &e), 0);
	assert_int_equal(image_build(&app, "in.hex", 0, &img, &hdr, &e), code);
	assert_int_equal(img.count, 0);
	if (!strstr(e.msg, needle))
		fail_msg("error '%s' lacks '%s'", e.msg, needle);
	segments_free(&app);
	free(d);
}

static void placement_errors(void **state)
{
	struct segments app, img;
	struct sysboot_image_header hdr;
	struct sb_error e;

	(void)state;
	expect_build_error(0x08000000u, 16, -ERANGE,
			   "in.hex: data at 0x08000000..0x0800000f overlaps the boot stub area 0x08000000..0x08001fff: it would overwrite the boot stub; link the application at 0x08002200");
	expect_build_error(0x08002000u, 16, -ERANGE,
			   "in.hex: data at 0x08002000..0x0800200f is in the image header slot 0x08002000..0x080021ff (is this already an image?)");
	expect_build_error(0x20000000u, 16, -ERANGE,
			   "in.hex: data at 0x20000000..0x2000000f lies outside the flash (0x08000000..0x080fffff)");
	expect_build_error(0x07FFFFF0u, 32, -ERANGE,
			   "in.hex: data at 0x07fffff0..0x0800000f lies outside the flash");
	expect_build_error(0x080FFFF0u, 32, -ERANGE,
			   "in.hex: data at 0x080ffff0..0x0810000f runs past the end of the flash (0x080fffff)");
	expect_build_error(0x08004000u, 16, -ERANGE,
			   "in.hex: the application must start with its vector table at 0x08002200, its first data is at 0x08004000");
	/* All zero: SP 0 is not in SRAM. */
	expect_build_error(SYSBOOT_APP_BASE, 16, -EINVAL, "in.hex: ");
	expect_build_error(SYSBOOT_APP_BASE, 16, -EINVAL, "(initial SP 0x00000000, reset vector 0x00000000): is this an application linked at 0x08002200?");
	segments_init(&app);
	assert_int_equal(image_build(&app, "none.hex", 0, &img, &hdr, &e), -EINVAL);
	assert_string_equal(e.msg, "none.hex: no data");
}

static void even_reset_vector_is_refused(void **state)
{
	struct segments app, img;
	struct sysboot_image_header hdr;
	struct sb_error e;

	(void)state;
	make_app(&app);
	put_le32(app.seg[0].data + 4, SYSBOOT_APP_BASE + 0x100);  /* not Thumb */
	assert_int_equal(image_build(&app, "arm.elf", 0, &img, &hdr, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "arm.elf: "));
	assert_non_null(strstr(e.msg, "reset vector 0x08002300"));
	segments_free(&app);
}

static void versions(void **state)
{
	uint32_t v;

	(void)state;
	assert_true(image_parse_version("1.2.3", &v));
	assert_int_equal(v, SYSBOOT_VERSION(1, 2, 3));
	assert_true(image_parse_version("65535.255.255", &v));
	assert_false(image_parse_version("1.2", &v));
	assert_false(image_parse_version("1.2.3.4", &v));
	assert_false(image_parse_version("1.256.0", &v));
	assert_false(image_parse_version("1.x.0", &v));
	assert_false(image_parse_version("-1.2.3", &v));
	assert_false(image_parse_version("", &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(build_and_inspect),
		cmocka_unit_test(every_output_format_reads_back),
		cmocka_unit_test(placement_errors),
		cmocka_unit_test(even_reset_vector_is_refused),
		cmocka_unit_test(versions),
	};

	return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
