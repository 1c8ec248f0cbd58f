/*
 * appimage.c - building and checking application images (appimage.h).
 *
 * The header is what lets the boot stub refuse a half-written update, so
 * its CRC is computed here from exactly the bytes flash will hold: the
 * application from SYSBOOT_APP_BASE to its last byte, with gaps and the
 * tail up to a double word (the STM32L4 programming unit, RM0351 3.3.7)
 * as 0xFF, which is what erased flash reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "appimage.h"
#include "formats.h"
#include "sysboot/crc32.h"
#include "sysboot/dfuse.h"
#include "sysboot/byteorder.h"

#define FLASH_END ((uint64_t)STM32_FLASH_BASE + STM32_FLASH_SIZE)

void image_problem(const struct image_report *r, char *buf, size_t n)
{
	const struct sysboot_image_header *h = &r->hdr;

	switch (r->status) {
	case SYSBOOT_IMAGE_OK:
		snprintf(buf, n, "valid image");
		return;
	case SYSBOOT_IMAGE_NO_HEADER:
		snprintf(buf, n, "no image header at 0x%08x: its first word is 0x%08x%s, not the "
			 "magic 0x%08x (\"SYBI\")", SYSBOOT_HEADER_ADDR, h->magic,
			 h->magic == 0xFFFFFFFFu ? " (erased)" : "", SYSBOOT_IMAGE_MAGIC);
		return;
	case SYSBOOT_IMAGE_BAD_HEADER_CRC:
		snprintf(buf, n, "the image header at 0x%08x is damaged: its CRC-32 says 0x%08x, "
			 "its bytes give 0x%08x (a torn or edited header)", SYSBOOT_HEADER_ADDR,
			 h->header_crc32, r->header_crc_computed);
		return;
	case SYSBOOT_IMAGE_BAD_FORMAT:
		snprintf(buf, n, "image header format %u with %u header bytes: the stub knows "
			 "format %u with %u", h->format, h->header_size, SYSBOOT_IMAGE_FORMAT,
			 SYSBOOT_IMAGE_HEADER_SIZE);
		return;
	case SYSBOOT_IMAGE_BAD_ADDRESS:
		snprintf(buf, n, "the header puts the application at 0x%08x, but the stub starts "
			 "it at 0x%08x only (link it there)", h->load_address, SYSBOOT_APP_BASE);
		return;
	case SYSBOOT_IMAGE_BAD_SIZE:
		if (h->image_size >= 8 && h->image_size % STM32_FLASH_DWORD == 0)
			snprintf(buf, n, "the header's application size of %u bytes runs past "
				 "the end of flash (at most %u bytes fit after 0x%08x)", h->image_size,
				 SYSBOOT_APP_MAX_SIZE, SYSBOOT_APP_BASE);
		else
			snprintf(buf, n, "the header's application size of %u bytes %s", h->image_size,
				 h->image_size < 8 ? "is too small (at least one double word)" :
				 "is not a multiple of 8 (flash double words)");
		return;
	case SYSBOOT_IMAGE_BAD_CRC:
		snprintf(buf, n, "the application does not match its header: CRC-32 0x%08x in the "
			 "header, 0x%08x computed over its %u bytes (an incomplete or corrupted image)",
			 h->image_crc32, r->body_crc_computed, h->image_size);
		return;
	case SYSBOOT_IMAGE_BAD_VECTORS:
		if (sysboot_image_check_vectors(h, r->initial_sp, SYSBOOT_APP_BASE + 1u) != SYSBOOT_IMAGE_OK)
			snprintf(buf, n, "its initial stack pointer 0x%08x is not a word-aligned "
				 "address in SRAM1 or SRAM2", r->initial_sp);
		else
			snprintf(buf, n, "its reset vector 0x%08x is not an odd (Thumb) address inside "
				 "the application, 0x%08x-0x%08x", r->reset_vector, SYSBOOT_APP_BASE,
				 SYSBOOT_APP_BASE + h->image_size - 1);
		return;
	case SYSBOOT_IMAGE_ECC_ERROR:
		break;
	}
	snprintf(buf, n, "%s", sysboot_image_status_str(r->status));
}

bool image_parse_version(const char *text, uint32_t *version)
{
	unsigned long v[3];
	const char *p = text;
	char *end;
	int i;

	for (i = 0; i < 3; i++) {
		if (*p < '0' || *p > '9')
			return false;
		v[i] = strtoul(p, &end, 10);
		if (end == p || (i < 2 && *end != '.') || (i == 2 && *end))
			return false;
		p = end + 1;
	}
	if (v[0] > 0xFFFF || v[1] > 0xFF || v[2] > 0xFF)
		return false;
	*version = SYSBOOT_VERSION(v[0], v[1], v[2]);
	return true;
}

static int check_placement(const struct segment *g, const char *name,
			   struct sb_error *e)
{
	uint64_t end = (uint64_t)g->addr + g->len;

	if (g->addr < STM32_FLASH_BASE || g->addr >= FLASH_END)
		return sb_error_set(e, -ERANGE,
				    "%s: data at 0x%08x..0x%08x lies outside the flash (0x%08x..0x%08x); link the application at 0x%08x",
				    name, g->addr, (uint32_t)(end - 1), STM32_FLASH_BASE,
				    (uint32_t)(FLASH_END - 1), SYSBOOT_APP_BASE);
	if (g->addr < SYSBOOT_STUB_BASE + SYSBOOT_STUB_SIZE)
		return sb_error_set(e, -ERANGE,
				    "%s: data at 0x%08x..0x%08x overlaps the boot stub area 0x%08x..0x%08x: it would overwrite the boot stub; link the application at 0x%08x",
				    name, g->addr, (uint32_t)(end - 1), SYSBOOT_STUB_BASE,
				    SYSBOOT_STUB_BASE + SYSBOOT_STUB_SIZE - 1, SYSBOOT_APP_BASE);
	if (g->addr < SYSBOOT_APP_BASE)
		return sb_error_set(e, -ERANGE,
				    "%s: data at 0x%08x..0x%08x is in the image header slot 0x%08x..0x%08x (is this already an image?)",
				    name, g->addr, (uint32_t)(end - 1), SYSBOOT_HEADER_ADDR,
				    SYSBOOT_APP_BASE - 1);
	if (end > FLASH_END)
		return sb_error_set(e, -ERANGE,
				    "%s: data at 0x%08x..0x%08x runs past the end of the flash (0x%08x)",
				    name, g->addr, (uint32_t)(end - 1), (uint32_t)(FLASH_END - 1));
	return 0;
}

int image_build(const struct segments *app, const char *name, uint32_t version,
		struct segments *img, struct sysboot_image_header *hdr,
		struct sb_error *e)
{
	const struct segment *g;
	enum sysboot_image_status st;
	uint8_t raw[SYSBOOT_IMAGE_HEADER_SIZE], *body = NULL;
	uint32_t lo, body_len;
	uint64_t end;
	int ret;

	segments_init(img);
	if (app->count == 0)
		return sb_error_set(e, -EINVAL, "%s: no data", name);
	segments_for_each(g, app) {
		ret = check_placement(g, name, e);
		if (ret < 0)
			return ret;
	}
	segments_span(app, &lo, &end);
	if (lo != SYSBOOT_APP_BASE)
		return sb_error_set(e, -ERANGE,
				    "%s: the application must start with its vector table at 0x%08x, its first data is at 0x%08x",
				    name, SYSBOOT_APP_BASE, lo);
	body_len = (uint32_t)((end - SYSBOOT_APP_BASE + 7u) & ~(uint64_t)7u);
	if (body_len < 8)
		return sb_error_set(e, -EINVAL, "%s: %u bytes cannot hold a vector table",
				    name, body_len);
	body = malloc(body_len);
	if (!body)
		return sb_error_set(e, -ENOMEM, "out of memory");
	segments_read(app, SYSBOOT_APP_BASE, body, body_len, 0xFF);
	sysboot_image_header_init(hdr, body_len, sysboot_crc32(body, body_len), version);
	st = sysboot_image_check_vectors(hdr, get_le32(body), get_le32(body + 4));
	if (st != SYSBOOT_IMAGE_OK) {
		ret = sb_error_set(e, -EINVAL,
				   "%s: %s (initial SP 0x%08x, reset vector 0x%08x): is this an application linked at 0x%08x?",
				   name, sysboot_image_status_str(st), get_le32(body),
				   get_le32(body + 4), SYSBOOT_APP_BASE);
		goto out;
	}
	sysboot_image_header_encode(raw, hdr);
	ret = segments_add(img, SYSBOOT_HEADER_ADDR, raw, sizeof(raw), e);
	if (ret == 0)
		ret = segments_add(img, SYSBOOT_APP_BASE, body, body_len, e);
out:
	if (ret < 0)
		segments_free(img);
	free(body);
	return ret;
}

int image_write(const struct segments *img, const char *path,
		struct sb_error *e)
{
	enum fw_format f = fw_format_from_ext(path);
	uint32_t lo;
	uint64_t end;

	segments_span(img, &lo, &end);
	if (f == FW_BIN && (img->count == 0 || lo != SYSBOOT_HEADER_ADDR))
		return sb_error_set(e, -EINVAL, "%s: no image header to write", path);
	if (f == FW_UNKNOWN || f == FW_ELF) {
		const char *dot = strrchr(path, '.');

		return sb_error_set(e, -EINVAL,
				    "%s: unknown output format '%s' (use .img, .bin, .hex, .srec, .s19, .s37 or .dfu)",
				    path, dot && !strchr(dot, '/') ? dot : "");
	}
	return fw_write_file(img, path, f, 0, "Internal Flash", e);
}

void image_inspect(const struct segments *s, struct image_report *r)
{
	uint8_t raw[SYSBOOT_IMAGE_HEADER_SIZE], *body;

	memset(r, 0, sizeof(*r));
	segments_read(s, SYSBOOT_HEADER_ADDR, raw, sizeof(raw), 0xFF);
	sysboot_image_header_decode(&r->hdr, raw);
	r->header_crc_computed = sysboot_crc32(raw, SYSBOOT_IMAGE_HEADER_SIZE - 4);
	r->status = sysboot_image_check_header(raw, &r->hdr);
	if (r->status != SYSBOOT_IMAGE_OK)
		return;
	/* check_header bounds image_size by the flash, so this is < 1 MB. */
	body = malloc(r->hdr.image_size);
	if (!body) {
		r->status = SYSBOOT_IMAGE_BAD_SIZE;
		return;
	}
	segments_read(s, SYSBOOT_APP_BASE, body, r->hdr.image_size, 0xFF);
	r->body_crc_computed = sysboot_crc32(body, r->hdr.image_size);
	r->body_checked = true;
	r->initial_sp = get_le32(body);
	r->reset_vector = get_le32(body + 4);
	free(body);
	if (r->body_crc_computed != r->hdr.image_crc32)
		r->status = SYSBOOT_IMAGE_BAD_CRC;
	else
		r->status = sysboot_image_check_vectors(&r->hdr, r->initial_sp,
							r->reset_vector);
}
