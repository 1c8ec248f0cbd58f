/*
 * badimage.h - malformed application images, made from a good one: one
 * per way an image can be wrong, each with the verdict the stub and the
 * tool must give. The tool's tests (image_cli.sh, through mkbadimg) and the
 * stub's on the emulated board (tests/firmware) use the same list.
 */
#ifndef TESTS_HOST_BADIMAGE_H
#define TESTS_HOST_BADIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "sysboot/image.h"

struct badimage_kind {
	const char *name;
	enum sysboot_image_status status;   /* what the stub records, what show reports */
	const char *problem;                /* in the tool's message */
};

extern const struct badimage_kind badimage_kinds[];
extern const unsigned badimage_nkinds;

/*
 * Spoil img (an image as `sysboot image build` writes a .img: the header
 * slot from SYSBOOT_HEADER_ADDR, then the application) in the named way,
 * keeping its header's CRC right unless that is the fault. Returns the
 * kind, or NULL for an unknown name or an image too short.
 */
const struct badimage_kind *badimage_make(uint8_t *img, size_t len, const char *name);

#endif
