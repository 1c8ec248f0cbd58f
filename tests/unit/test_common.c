/*
 * test_common.c - unit tests of the CRC-32 and the image header code that the
 * stub, the host tool and the emulator share.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sysboot/crc32.h"
#include "sysboot/image.h"

static void crc32_check_value(void **state)
{
	(void)state;
	/* The standard check value of CRC-32/ISO-HDLC. */
	assert_int_equal(sysboot_crc32("123456789", 9), 0xCBF43926u);
	assert_int_equal(sysboot_crc32("", 0), 0x00000000u);
}

static void crc32_incremental_matches_whole(void **state)
{
	uint8_t buf[1000];
	uint32_t crc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	crc = sysboot_crc32_update(SYSBOOT_CRC32_INIT, buf, 333);
	crc = sysboot_crc32_update(crc, buf + 333, sizeof(buf) - 333);
	assert_int_equal(sysboot_crc32_final(crc), sysboot_crc32(buf, sizeof(buf)));
}

static void make_header(uint8_t raw[SYSBOOT_IMAGE_HEADER_SIZE])
{
	struct sysboot_image_header hdr;

	sysboot_image_header_init(&hdr, 4096, 0x12345678u, SYSBOOT_VERSION(1, 2, 3));
	sysboot_image_header_encode(raw, &hdr);
}

static void header_round_trip(void **state)
{
	uint8_t raw[SYSBOOT_IMAGE_HEADER_SIZE];
	struct sysboot_image_header hdr;

	(void)state;
	make_header(raw);
	assert_int_equal(sysboot_image_check_header(raw, &hdr), SYSBOOT_IMAGE_OK);
	assert_int_equal(hdr.magic, SYSBOOT_IMAGE_MAGIC);
	assert_int_equal(hdr.load_address, SYSBOOT_APP_BASE);
	assert_int_equal(hdr.image_size, 4096);
	assert_int_equal(hdr.image_crc32, 0x12345678u);
	assert_int_equal(SYSBOOT_VERSION_MINOR(hdr.app_version), 2);
	/* Little-endian on the wire whatever the host is. */
	assert_int_equal(raw[0], 'S');
	assert_int_equal(raw[3], 'I');
}

static void header_erased_is_missing(void **state)
{
	uint8_t raw[SYSBOOT_IMAGE_HEADER_SIZE];
	struct sysboot_image_header hdr;

	(void)state;
	memset(raw, 0xFF, sizeof(raw));
	assert_int_equal(sysboot_image_check_header(raw, &hdr), SYSBOOT_IMAGE_NO_HEADER);
}

static void header_every_torn_prefix_is_refused(void **state)
{
	uint8_t good[SYSBOOT_IMAGE_HEADER_SIZE], raw[SYSBOOT_IMAGE_HEADER_SIZE];
	struct sysboot_image_header hdr;
	size_t n;

	(void)state;
	make_header(good);
	/* A power cut while writing the header leaves a prefix, rest erased. */
	for (n = 0; n < sizeof(raw); n++) {
		memset(raw, 0xFF, sizeof(raw));
		memcpy(raw, good, n);
		assert_int_not_equal(sysboot_image_check_header(raw, &hdr), SYSBOOT_IMAGE_OK);
	}
}

static void header_each_field_checked(void **state)
{
	uint8_t raw[SYSBOOT_IMAGE_HEADER_SIZE];
	struct sysboot_image_header hdr;

	(void)state;
	make_header(raw);
	raw[20] ^= 1; /* app_version: covered by the header CRC */
	assert_int_equal(sysboot_image_check_header(raw, &hdr), SYSBOOT_IMAGE_BAD_HEADER_CRC);

	sysboot_image_header_init(&hdr, 4096, 0, 0);
	hdr.format = 2;
	sysboot_image_header_encode(raw, &hdr);
	assert_int_equal(sysboot_image_check_header(raw, &hdr), SYSBOOT_IMAGE_BAD_FORMAT);

	sysboot_image_header_init(&hdr, 4096, 0, 0);
	hdr.load_address = 0x08000000u;
	sysboot_image_header_encode(raw, &hdr);
	assert_int_equal(sysboot_image_check_header(raw, &hdr), SYSBOOT_IMAGE_BAD_ADDRESS);

	sysboot_image_header_init(&hdr, 4095, 0, 0);
	sysboot_image_header_encode(raw, &hdr);
	assert_int_equal(sysboot_image_check_header(raw, &hdr), SYSBOOT_IMAGE_BAD_SIZE);

	sysboot_image_header_init(&hdr, SYSBOOT_APP_MAX_SIZE + 8, 0, 0);
	sysboot_image_header_encode(raw, &hdr);
	assert_int_equal(sysboot_image_check_header(raw, &hdr), SYSBOOT_IMAGE_BAD_SIZE);

	sysboot_image_header_init(&hdr, 0, 0, 0);
	sysboot_image_header_encode(raw, &hdr);
	assert_int_equal(sysboot_image_check_header(raw, &hdr), SYSBOOT_IMAGE_BAD_SIZE);
}

static void vectors_checked(void **state)
{
	struct sysboot_image_header hdr;

	(void)state;
	sysboot_image_header_init(&hdr, 4096, 0, 0);
	assert_int_equal(sysboot_image_check_vectors(&hdr, 0x20018000u, SYSBOOT_APP_BASE + 0x101u),
			 SYSBOOT_IMAGE_OK);
	assert_int_equal(sysboot_image_check_vectors(&hdr, 0x10008000u, SYSBOOT_APP_BASE + 0x101u),
			 SYSBOOT_IMAGE_OK);
	/* Erased flash: SP and reset vector all ones. */
	assert_int_equal(sysboot_image_check_vectors(&hdr, 0xFFFFFFFFu, 0xFFFFFFFFu),
			 SYSBOOT_IMAGE_BAD_VECTORS);
	/* Thumb bit missing. */
	assert_int_equal(sysboot_image_check_vectors(&hdr, 0x20018000u, SYSBOOT_APP_BASE + 0x100u),
			 SYSBOOT_IMAGE_BAD_VECTORS);
	/* Entry outside the image. */
	assert_int_equal(sysboot_image_check_vectors(&hdr, 0x20018000u, SYSBOOT_APP_BASE + 4097u),
			 SYSBOOT_IMAGE_BAD_VECTORS);
	assert_string_equal(sysboot_image_status_str(SYSBOOT_IMAGE_BAD_CRC),
			    "image body CRC mismatch (incomplete or corrupted update)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc32_check_value),
		cmocka_unit_test(crc32_incremental_matches_whole),
		cmocka_unit_test(header_round_trip),
		cmocka_unit_test(header_erased_is_missing),
		cmocka_unit_test(header_every_torn_prefix_is_refused),
		cmocka_unit_test(header_each_field_checked),
		cmocka_unit_test(vectors_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
