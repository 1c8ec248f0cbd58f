/*
 * image.h - the application image format shared by the stub, the host tool
 * and the emulator's tests.
 *
 * Flash layout of a board that uses the sysboot stub:
 *
 *   0x08000000  boot stub (SYSBOOT_STUB_SIZE), never rewritten by an update
 *   0x08002000  image header (struct sysboot_image_header, padded to 0x200)
 *   0x08002200  application vector table, then the rest of the application
 *
 * The header is written last by an update and checked by the stub at every
 * reset, so an update that stops at any byte leaves either no header (the
 * page is erased), a header whose own CRC fails, or a body whose CRC does
 * not match: in each case the stub enters the ROM bootloader instead of
 * running a half-written application.
 *
 * All fields are little-endian. The functions below never touch memory
 * beyond the buffers they are given and are freestanding C99.
 */
#ifndef SYSBOOT_IMAGE_H
#define SYSBOOT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "sysboot/stm32l476.h"

#define SYSBOOT_STUB_BASE          STM32_FLASH_BASE
#define SYSBOOT_STUB_SIZE          0x2000u     /* 8 KB: 4 pages reserved */
#define SYSBOOT_STUB_PAGES         (SYSBOOT_STUB_SIZE / STM32_FLASH_PAGE_SIZE)
#define SYSBOOT_HEADER_ADDR        (SYSBOOT_STUB_BASE + SYSBOOT_STUB_SIZE)
#define SYSBOOT_HEADER_SLOT        0x200u      /* keeps the vector table 512-aligned */
#define SYSBOOT_APP_BASE           (SYSBOOT_HEADER_ADDR + SYSBOOT_HEADER_SLOT)
#define SYSBOOT_APP_MAX_SIZE       (STM32_FLASH_BASE + STM32_FLASH_SIZE - SYSBOOT_APP_BASE)

#define SYSBOOT_IMAGE_MAGIC        0x49425953u  /* "SYBI" in memory order */
#define SYSBOOT_IMAGE_FORMAT       1u

struct sysboot_image_header {
	uint32_t magic;          /* SYSBOOT_IMAGE_MAGIC */
	uint16_t format;         /* SYSBOOT_IMAGE_FORMAT */
	uint16_t header_size;    /* sizeof(struct sysboot_image_header) */
	uint32_t load_address;   /* where the body starts: SYSBOOT_APP_BASE */
	uint32_t image_size;     /* bytes of body, a multiple of 8 */
	uint32_t image_crc32;    /* CRC-32 of the body (crc32.h) */
	uint32_t app_version;    /* SYSBOOT_VERSION(major, minor, patch) */
	uint32_t flags;          /* reserved, 0 */
	uint8_t  reserved[32];   /* 0 */
	uint32_t header_crc32;   /* CRC-32 of the bytes before this field */
};

#define SYSBOOT_IMAGE_HEADER_SIZE  64u

#define SYSBOOT_VERSION(major, minor, patch) \
	(((uint32_t)(major) << 16) | ((uint32_t)(minor) << 8) | (uint32_t)(patch))
#define SYSBOOT_VERSION_MAJOR(v)   (((v) >> 16) & 0xFFFFu)
#define SYSBOOT_VERSION_MINOR(v)   (((v) >> 8) & 0xFFu)
#define SYSBOOT_VERSION_PATCH(v)   ((v) & 0xFFu)

/* Why an image was refused, most basic first. */
enum sysboot_image_status {
	SYSBOOT_IMAGE_OK = 0,
	SYSBOOT_IMAGE_NO_HEADER,      /* magic absent: erased or never written */
	SYSBOOT_IMAGE_BAD_HEADER_CRC, /* header torn or corrupted */
	SYSBOOT_IMAGE_BAD_FORMAT,     /* unknown format version or header size */
	SYSBOOT_IMAGE_BAD_ADDRESS,    /* load address is not SYSBOOT_APP_BASE */
	SYSBOOT_IMAGE_BAD_SIZE,       /* empty, unaligned or past the flash end */
	SYSBOOT_IMAGE_BAD_CRC,        /* body does not match image_crc32 */
	SYSBOOT_IMAGE_BAD_VECTORS,    /* initial SP not in SRAM or reset vector not Thumb code in the image */
	SYSBOOT_IMAGE_ECC_ERROR,      /* reading it raised an uncorrectable flash ECC error (the stub) */
};

/* Decode a header from its 64 raw bytes (no alignment needed). */
void sysboot_image_header_decode(struct sysboot_image_header *hdr,
				 const uint8_t raw[SYSBOOT_IMAGE_HEADER_SIZE]);

/* Encode a header into raw bytes, computing header_crc32. */
void sysboot_image_header_encode(uint8_t raw[SYSBOOT_IMAGE_HEADER_SIZE],
				 const struct sysboot_image_header *hdr);

/*
 * Fill in a header for a body of size bytes at SYSBOOT_APP_BASE whose
 * CRC-32 is crc. The caller encodes it.
 */
void sysboot_image_header_init(struct sysboot_image_header *hdr,
			       uint32_t size, uint32_t crc, uint32_t version);

/*
 * Check a raw header: magic, header CRC, format, address and size. Does not
 * look at the body.
 */
enum sysboot_image_status
sysboot_image_check_header(const uint8_t raw[SYSBOOT_IMAGE_HEADER_SIZE],
			   struct sysboot_image_header *hdr);

/*
 * Check the first two words of the body: the initial stack pointer must lie
 * in SRAM1/SRAM2 and the reset vector must be an odd (Thumb) address inside
 * the body.
 */
enum sysboot_image_status
sysboot_image_check_vectors(const struct sysboot_image_header *hdr,
			    uint32_t initial_sp, uint32_t reset_vector);

/* A short English description of a status, for messages. */
const char *sysboot_image_status_str(enum sysboot_image_status status);

#endif /* SYSBOOT_IMAGE_H */
