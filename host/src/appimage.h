/*
 * appimage.h - application images (header + body, common/include/sysboot/
 * image.h) built from and checked in segment lists.
 *
 * Separate from the command line so that the tests, and later the update
 * and DFU commands, build and check images exactly as `sysboot image` does.
 */
#ifndef SYSBOOT_APPIMAGE_H
#define SYSBOOT_APPIMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "sb_error.h"
#include "segments.h"
#include "sysboot/image.h"

/*
 * Make an image from an application linked at SYSBOOT_APP_BASE: every
 * segment inside [SYSBOOT_APP_BASE, flash end), the first at
 * SYSBOOT_APP_BASE; the body runs to the last byte, gaps and the tail to a
 * multiple of 8 filled with 0xFF; vectors checked. img (initialised here)
 * gets two segments: the encoded header at SYSBOOT_HEADER_ADDR and the
 * body at SYSBOOT_APP_BASE. name is the input file, for messages.
 * Returns 0, -ERANGE (address) or -EINVAL (vectors) or -ENOMEM.
 */
int image_build(const struct segments *app, const char *name, uint32_t version,
		struct segments *img, struct sysboot_image_header *hdr,
		struct sb_error *e);

/*
 * Write img in the format of path's extension: .img/.bin raw from
 * SYSBOOT_HEADER_ADDR (0xFF between header and body), .hex, .srec/.s19/
 * .s37 (S3 records), .dfu (alt 0 "Internal Flash", one element a segment).
 */
int image_write(const struct segments *img, const char *path,
		struct sb_error *e);

/* What `image show` found. */
struct image_report {
	struct sysboot_image_header hdr;   /* decoded even when invalid */
	enum sysboot_image_status status;
	uint32_t header_crc_computed;
	uint32_t body_crc_computed;        /* valid when the header is */
	bool body_checked;
	uint32_t initial_sp, reset_vector;
};

/* Check the image in s (header at SYSBOOT_HEADER_ADDR); never fails. */
void image_inspect(const struct segments *s, struct image_report *r);

/*
 * What is wrong with an inspected image, in one sentence with the values
 * that make it so (the magic found, both CRCs, the address, the size, the
 * vector), for the messages of `image show` and `update`.
 */
void image_problem(const struct image_report *r, char *buf, size_t n);

/* "1.2.3" into SYSBOOT_VERSION(); false if not three numbers in range. */
bool image_parse_version(const char *text, uint32_t *version);

#endif /* SYSBOOT_APPIMAGE_H */
