/*
 * badimage.c - malformed application images (see badimage.h).
 */
#include "badimage.h"

#include <string.h>

#include "sysboot/crc32.h"
#include "sysboot/byteorder.h"

const struct badimage_kind badimage_kinds[] = {
	{ "magic", SYSBOOT_IMAGE_NO_HEADER, "its first word is 0x58425953, not the magic" },
	{ "header-crc", SYSBOOT_IMAGE_BAD_HEADER_CRC, "the image header at 0x08002000 is damaged" },
	{ "format", SYSBOOT_IMAGE_BAD_FORMAT, "image header format 2 with 64 header bytes" },
	{ "address", SYSBOOT_IMAGE_BAD_ADDRESS, "the header puts the application at 0x08004000" },
	{ "oversize", SYSBOOT_IMAGE_BAD_SIZE, "runs past the end of flash" },
	{ "unaligned-size", SYSBOOT_IMAGE_BAD_SIZE, "is not a multiple of 8" },
	{ "body-crc", SYSBOOT_IMAGE_BAD_CRC, "the application does not match its header" },
	{ "stack", SYSBOOT_IMAGE_BAD_VECTORS, "its initial stack pointer 0x30000000 is not" },
	{ "entry", SYSBOOT_IMAGE_BAD_VECTORS, "its reset vector 0x08002200 is not an odd (Thumb) address" },
};

const unsigned badimage_nkinds = sizeof(badimage_kinds) / sizeof(badimage_kinds[0]);

const struct badimage_kind *badimage_make(uint8_t *img, size_t len, const char *name)
{
	const struct badimage_kind *k = NULL;
	struct sysboot_image_header hdr;
	uint8_t *body = img + SYSBOOT_HEADER_SLOT;
	unsigned i;

	for (i = 0; i < badimage_nkinds; i++)
		if (strcmp(badimage_kinds[i].name, name) == 0)
			k = &badimage_kinds[i];
	if (!k || len < SYSBOOT_HEADER_SLOT + 0x100)
		return NULL;
	sysboot_image_header_decode(&hdr, img);
	if (strcmp(name, "magic") == 0)
		hdr.magic = 0x58425953u;             /* "SYBX" */
	else if (strcmp(name, "format") == 0)
		hdr.format = 2;
	else if (strcmp(name, "address") == 0)
		hdr.load_address = 0x08004000u;
	else if (strcmp(name, "oversize") == 0)
		hdr.image_size = SYSBOOT_APP_MAX_SIZE + 8u;
	else if (strcmp(name, "unaligned-size") == 0)
		hdr.image_size -= 4;
	else if (strcmp(name, "body-crc") == 0)
		body[0x80] ^= 0x01;
	if (strcmp(name, "stack") == 0 || strcmp(name, "entry") == 0) {
		/* Vectors a stub must not jump through, under a matching CRC. */
		if (strcmp(name, "stack") == 0)
			put_le32(body, 0x30000000u);
		else
			put_le32(body + 4, SYSBOOT_APP_BASE);
		hdr.image_crc32 = sysboot_crc32(body, hdr.image_size);
	}
	sysboot_image_header_encode(img, &hdr);
	if (strcmp(name, "header-crc") == 0)
		img[40] ^= 0x01;                     /* in the reserved bytes */
	return k;
}
