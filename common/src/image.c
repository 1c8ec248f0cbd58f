/*
 * image.c - encode, decode and check sysboot application image headers.
 *
 * Byte-by-byte little-endian access keeps this independent of the host's
 * endianness and of the alignment of the buffer, so the same file builds for
 * the stub (reading flash), the host tool and the emulator.
 */
#include "sysboot/image.h"
#include "sysboot/crc32.h"
#include "sysboot/byteorder.h"

#define OFF_MAGIC        0
#define OFF_FORMAT       4
#define OFF_HEADER_SIZE  6
#define OFF_LOAD_ADDRESS 8
#define OFF_IMAGE_SIZE   12
#define OFF_IMAGE_CRC    16
#define OFF_APP_VERSION  20
#define OFF_FLAGS        24
#define OFF_RESERVED     28
#define OFF_HEADER_CRC   60

void sysboot_image_header_decode(struct sysboot_image_header *hdr,
				 const uint8_t raw[SYSBOOT_IMAGE_HEADER_SIZE])
{
	unsigned i;

	hdr->magic = get_le32(raw + OFF_MAGIC);
	hdr->format = get_le16(raw + OFF_FORMAT);
	hdr->header_size = get_le16(raw + OFF_HEADER_SIZE);
	hdr->load_address = get_le32(raw + OFF_LOAD_ADDRESS);
	hdr->image_size = get_le32(raw + OFF_IMAGE_SIZE);
	hdr->image_crc32 = get_le32(raw + OFF_IMAGE_CRC);
	hdr->app_version = get_le32(raw + OFF_APP_VERSION);
	hdr->flags = get_le32(raw + OFF_FLAGS);
	for (i = 0; i < sizeof(hdr->reserved); i++)
		hdr->reserved[i] = raw[OFF_RESERVED + i];
	hdr->header_crc32 = get_le32(raw + OFF_HEADER_CRC);
}

void sysboot_image_header_encode(uint8_t raw[SYSBOOT_IMAGE_HEADER_SIZE],
				 const struct sysboot_image_header *hdr)
{
	unsigned i;

	put_le32(raw + OFF_MAGIC, hdr->magic);
	put_le16(raw + OFF_FORMAT, hdr->format);
	put_le16(raw + OFF_HEADER_SIZE, hdr->header_size);
	put_le32(raw + OFF_LOAD_ADDRESS, hdr->load_address);
	put_le32(raw + OFF_IMAGE_SIZE, hdr->image_size);
	put_le32(raw + OFF_IMAGE_CRC, hdr->image_crc32);
	put_le32(raw + OFF_APP_VERSION, hdr->app_version);
	put_le32(raw + OFF_FLAGS, hdr->flags);
	for (i = 0; i < sizeof(hdr->reserved); i++)
		raw[OFF_RESERVED + i] = hdr->reserved[i];
	put_le32(raw + OFF_HEADER_CRC, sysboot_crc32(raw, OFF_HEADER_CRC));
}

void sysboot_image_header_init(struct sysboot_image_header *hdr,
			       uint32_t size, uint32_t crc, uint32_t version)
{
	unsigned i;

	hdr->magic = SYSBOOT_IMAGE_MAGIC;
	hdr->format = SYSBOOT_IMAGE_FORMAT;
	hdr->header_size = SYSBOOT_IMAGE_HEADER_SIZE;
	hdr->load_address = SYSBOOT_APP_BASE;
	hdr->image_size = size;
	hdr->image_crc32 = crc;
	hdr->app_version = version;
	hdr->flags = 0;
	for (i = 0; i < sizeof(hdr->reserved); i++)
		hdr->reserved[i] = 0;
	hdr->header_crc32 = 0;
}

enum sysboot_image_status
sysboot_image_check_header(const uint8_t raw[SYSBOOT_IMAGE_HEADER_SIZE],
			   struct sysboot_image_header *hdr)
{
	sysboot_image_header_decode(hdr, raw);
	if (hdr->magic != SYSBOOT_IMAGE_MAGIC)
		return SYSBOOT_IMAGE_NO_HEADER;
	if (hdr->header_crc32 != sysboot_crc32(raw, OFF_HEADER_CRC))
		return SYSBOOT_IMAGE_BAD_HEADER_CRC;
	if (hdr->format != SYSBOOT_IMAGE_FORMAT ||
	    hdr->header_size != SYSBOOT_IMAGE_HEADER_SIZE)
		return SYSBOOT_IMAGE_BAD_FORMAT;
	if (hdr->load_address != SYSBOOT_APP_BASE)
		return SYSBOOT_IMAGE_BAD_ADDRESS;
	if (hdr->image_size < 8u || (hdr->image_size % STM32_FLASH_DWORD) != 0 ||
	    hdr->image_size > SYSBOOT_APP_MAX_SIZE)
		return SYSBOOT_IMAGE_BAD_SIZE;
	return SYSBOOT_IMAGE_OK;
}

static int in_sram(uint32_t sp)
{
	/* An initial SP may equal the end of a region (full descending stack). */
	return (sp > STM32_SRAM1_BASE &&
		sp <= STM32_SRAM1_BASE + STM32_SRAM1_SIZE + STM32_SRAM2_SIZE) ||
	       (sp > STM32_SRAM2_BASE && sp <= STM32_SRAM2_BASE + STM32_SRAM2_SIZE);
}

enum sysboot_image_status
sysboot_image_check_vectors(const struct sysboot_image_header *hdr,
			    uint32_t initial_sp, uint32_t reset_vector)
{
	uint32_t entry = reset_vector & ~1u;

	if (!in_sram(initial_sp) || (initial_sp & 3u) != 0)
		return SYSBOOT_IMAGE_BAD_VECTORS;
	if ((reset_vector & 1u) == 0 || entry < hdr->load_address ||
	    entry >= hdr->load_address + hdr->image_size)
		return SYSBOOT_IMAGE_BAD_VECTORS;
	return SYSBOOT_IMAGE_OK;
}

const char *sysboot_image_status_str(enum sysboot_image_status status)
{
	switch (status) {
	case SYSBOOT_IMAGE_OK:
		return "valid image";
	case SYSBOOT_IMAGE_NO_HEADER:
		return "no image header (erased or never written)";
	case SYSBOOT_IMAGE_BAD_HEADER_CRC:
		return "image header CRC mismatch (torn or corrupted header)";
	case SYSBOOT_IMAGE_BAD_FORMAT:
		return "unknown image header format";
	case SYSBOOT_IMAGE_BAD_ADDRESS:
		return "image load address is not the application slot";
	case SYSBOOT_IMAGE_BAD_SIZE:
		return "image size is zero, not a multiple of 8 or larger than the slot";
	case SYSBOOT_IMAGE_BAD_CRC:
		return "image body CRC mismatch (incomplete or corrupted update)";
	case SYSBOOT_IMAGE_BAD_VECTORS:
		return "image vector table invalid (stack pointer or reset vector)";
	case SYSBOOT_IMAGE_ECC_ERROR:
		return "uncorrectable flash ECC error while reading the image (a double word left half-programmed by an interrupted write)";
	}
	return "unknown image status";
}
