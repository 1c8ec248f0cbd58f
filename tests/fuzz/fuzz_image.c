/*
 * fuzz_image.c - the image header check the stub runs at every reset
 * (common/src/image.c): 64 header bytes, then the initial stack pointer
 * and reset vector. A header the check accepts must encode back to exactly
 * the bytes it came from, and every status must have its words. Each input
 * is checked as it is and with its header CRC made right, so that the
 * fuzzer reaches the checks behind the CRC.
 */
#include <string.h>

#include "fuzz.h"
#include "sysboot/crc32.h"
#include "sysboot/image.h"
#include "sysboot/byteorder.h"

static void check(const uint8_t raw[SYSBOOT_IMAGE_HEADER_SIZE], uint32_t sp, uint32_t rv)
{
	uint8_t again[SYSBOOT_IMAGE_HEADER_SIZE];
	struct sysboot_image_header hdr;
	enum sysboot_image_status st;

	st = sysboot_image_check_header(raw, &hdr);
	FUZZ_CHECK(sysboot_image_status_str(st)[0]);
	if (st != SYSBOOT_IMAGE_OK)
		return;
	sysboot_image_header_encode(again, &hdr);
	FUZZ_CHECK(memcmp(again, raw, sizeof(again)) == 0);
	FUZZ_CHECK(hdr.load_address == SYSBOOT_APP_BASE && hdr.image_size % 8 == 0 &&
		   hdr.image_size <= SYSBOOT_APP_MAX_SIZE);
	st = sysboot_image_check_vectors(&hdr, sp, rv);
	FUZZ_CHECK(st == SYSBOOT_IMAGE_OK || st == SYSBOOT_IMAGE_BAD_VECTORS);
	if (st == SYSBOOT_IMAGE_OK)
		FUZZ_CHECK((rv & 1u) && (rv & ~1u) >= SYSBOOT_APP_BASE &&
			   (rv & ~1u) < SYSBOOT_APP_BASE + hdr.image_size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t raw[SYSBOOT_IMAGE_HEADER_SIZE];
	uint32_t sp = 0, rv = 0, crc;

	memset(raw, 0xFF, sizeof(raw));
	memcpy(raw, data, size < sizeof(raw) ? size : sizeof(raw));
	if (size >= sizeof(raw) + 8) {
		memcpy(&sp, data + sizeof(raw), 4);
		memcpy(&rv, data + sizeof(raw) + 4, 4);
	}
	check(raw, sp, rv);
	crc = sysboot_crc32(raw, SYSBOOT_IMAGE_HEADER_SIZE - 4);
	put_le32(raw + SYSBOOT_IMAGE_HEADER_SIZE - 4, crc);
	check(raw, sp, rv);
	return 0;
}
