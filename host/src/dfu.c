/*
 * dfu.c - DfuSe .dfu files (ST UM0391), read and written.
 *
 * ST's tools and dfu-util exchange firmware for the ROM's DFU interface in
 * this container: an 11-byte prefix ("DfuSe", version 1, image size,
 * target count), per target a 274-byte prefix ("Target", alternate
 * setting, name, size, element count) and elements (address, size,
 * bytes), then the 16-byte DFU 1.1 suffix (bcdDevice, idProduct,
 * idVendor, bcdDFU 0x011A, "UFD", length 16, CRC). Every size in the file
 * is checked against the bytes really there before it is used: a .dfu
 * that lies about its sizes is refused with the offset of the lie.
 *
 * The suffix CRC (DFU 1.1 appendix B) is the CRC-32 register over all but
 * the last 4 bytes without the final complement: ~sysboot_crc32().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "sysboot/crc32.h"
#include "sysboot/dfuse.h"
#include "sysboot/byteorder.h"

#define TARGET_NAME_SIZE 255u

uint32_t dfu_suffix_crc(const uint8_t *buf, size_t len)
{
	return sysboot_crc32_update(SYSBOOT_CRC32_INIT, buf, len);
}

static int check_suffix(const uint8_t *buf, size_t len, const char *name,
			struct dfu_info *info, struct sb_error *e)
{
	const uint8_t *sfx = buf + len - DFUSE_SUFFIX_SIZE;
	size_t at = len - DFUSE_SUFFIX_SIZE;
	uint32_t file_crc, crc;

	if (memcmp(sfx + 8, "UFD", 3) != 0)
		return sb_error_set(e, -EINVAL,
				    "%s: no DFU suffix (\"UFD\" signature) at offset %zu: truncated file?",
				    name, at + 8);
	if (sfx[11] != DFUSE_SUFFIX_SIZE)
		return sb_error_set(e, -EINVAL,
				    "%s: DFU suffix length %u at offset %zu, expected %u",
				    name, sfx[11], at + 11, DFUSE_SUFFIX_SIZE);
	if (get_le16(sfx + 6) != DFUSE_BCD_DFU)
		return sb_error_set(e, -ENOTSUP,
				    "%s: DFU suffix bcdDFU 0x%04x at offset %zu, expected 0x%04x (DfuSe)",
				    name, get_le16(sfx + 6), at + 6, DFUSE_BCD_DFU);
	file_crc = get_le32(sfx + 12);
	crc = dfu_suffix_crc(buf, len - 4);
	if (file_crc != crc)
		return sb_error_set(e, -EINVAL,
				    "%s: DFU suffix CRC mismatch: file says 0x%08x, computed 0x%08x",
				    name, file_crc, crc);
	info->bcd_device = get_le16(sfx);
	info->pid = get_le16(sfx + 2);
	info->vid = get_le16(sfx + 4);
	return 0;
}

int dfu_read(struct segments *s, const uint8_t *buf, size_t len,
	     const char *name, struct dfu_info *info, struct sb_error *e)
{
	size_t body_end, pos;
	unsigned t, targets;
	uint32_t image_size;
	int ret;

	memset(info, 0, sizeof(*info));
	if (len < 5 || memcmp(buf, "DfuSe", 5) != 0)
		return sb_error_set(e, -EINVAL,
				    "%s: not a DfuSe file (no \"DfuSe\" signature at offset 0)",
				    name);
	if (len < DFUSE_PREFIX_SIZE + DFUSE_SUFFIX_SIZE)
		return sb_error_set(e, -EINVAL,
				    "%s: truncated: %zu bytes, a DfuSe file has at least %u",
				    name, len, DFUSE_PREFIX_SIZE + DFUSE_SUFFIX_SIZE);
	ret = check_suffix(buf, len, name, info, e);
	if (ret < 0)
		return ret;
	if (buf[5] != 1)
		return sb_error_set(e, -ENOTSUP,
				    "%s: DfuSe version %u at offset 5, only version 1 is known",
				    name, buf[5]);
	body_end = len - DFUSE_SUFFIX_SIZE;
	image_size = get_le32(buf + 6);
	if (image_size != body_end)
		return sb_error_set(e, -EINVAL,
				    "%s: prefix (offset 6) says the image is %u bytes, the file has %zu before its suffix",
				    name, image_size, body_end);
	targets = buf[10];
	if (targets == 0)
		return sb_error_set(e, -EINVAL, "%s: no targets (offset 10)", name);
	pos = DFUSE_PREFIX_SIZE;
	for (t = 0; t < targets; t++) {
		const uint8_t *tp = buf + pos;
		uint32_t tsize, nelem, el, used = 0;
		size_t tstart;

		if (body_end - pos < DFUSE_TARGET_PREFIX_SIZE)
			return sb_error_set(e, -EINVAL,
					    "%s: target %u prefix at offset %zu is cut short (%zu bytes left): truncated?",
					    name, t, pos, body_end - pos);
		if (memcmp(tp, "Target", 6) != 0)
			return sb_error_set(e, -EINVAL,
					    "%s: no \"Target\" signature at offset %zu (target %u of %u)",
					    name, pos, t, targets);
		tsize = get_le32(tp + 266);
		nelem = get_le32(tp + 270);
		if (t == 0) {
			info->first_alt = tp[6];
			if (get_le32(tp + 7))
				snprintf(info->first_name, sizeof(info->first_name),
					 "%.*s", (int)TARGET_NAME_SIZE,
					 (const char *)tp + 11);
		}
		pos += DFUSE_TARGET_PREFIX_SIZE;
		tstart = pos;
		if (tsize > body_end - pos)
			return sb_error_set(e, -EINVAL,
					    "%s: target %u at offset %zu says %u bytes of elements, only %zu remain",
					    name, t, tstart - DFUSE_TARGET_PREFIX_SIZE, tsize,
					    body_end - pos);
		for (el = 0; el < nelem; el++) {
			uint32_t addr, size;

			if (tsize - used < DFUSE_ELEMENT_HEADER_SIZE)
				return sb_error_set(e, -EINVAL,
						    "%s: element %u of target %u at offset %zu lies past the target's %u bytes",
						    name, el, t, pos, tsize);
			addr = get_le32(buf + pos);
			size = get_le32(buf + pos + 4);
			if (size > tsize - used - DFUSE_ELEMENT_HEADER_SIZE)
				return sb_error_set(e, -EINVAL,
						    "%s: element %u of target %u at offset %zu says %u bytes, only %u remain in the target",
						    name, el, t, pos, size,
						    tsize - used - DFUSE_ELEMENT_HEADER_SIZE);
			ret = segments_add(s, addr, buf + pos + DFUSE_ELEMENT_HEADER_SIZE,
					   size, e);
			if (ret < 0)
				return sb_error_set(e, ret, "%s: element %u of target %u at offset %zu: %s",
						    name, el, t, pos,
						    ret == -ERANGE ? "runs past 4 GB" : "out of memory");
			pos += DFUSE_ELEMENT_HEADER_SIZE + size;
			used += DFUSE_ELEMENT_HEADER_SIZE + size;
			info->elements++;
		}
		if (used != tsize)
			return sb_error_set(e, -EINVAL,
					    "%s: target %u at offset %zu says %u bytes, its %u elements hold %u",
					    name, t, tstart - DFUSE_TARGET_PREFIX_SIZE, tsize,
					    nelem, used);
		info->targets++;
	}
	if (pos != body_end)
		return sb_error_set(e, -EINVAL,
				    "%s: %zu unexplained bytes at offset %zu after the last target",
				    name, body_end - pos, pos);
	if (s->count == 0)
		return sb_error_set(e, -EINVAL, "%s: no data in any element", name);
	return 0;
}

int dfu_write(const struct segments *s, const char *path, uint8_t alt,
	      const char *target_name, uint16_t vid, uint16_t pid,
	      struct sb_error *e)
{
	const struct segment *g;
	uint64_t tsize = 0, total;
	uint8_t *buf = NULL, *p;
	FILE *f = NULL;
	int ret;

	segments_for_each(g, s)
		tsize += DFUSE_ELEMENT_HEADER_SIZE + (uint64_t)g->len;
	total = DFUSE_PREFIX_SIZE + DFUSE_TARGET_PREFIX_SIZE + tsize + DFUSE_SUFFIX_SIZE;
	if (total > 0xFFFFFFFFu)
		return sb_error_set(e, -ERANGE, "%s: too large for a DfuSe file", path);
	buf = calloc(1, (size_t)total);
	if (!buf)
		return sb_error_set(e, -ENOMEM, "out of memory");
	p = buf;
	memcpy(p, "DfuSe", 5);
	p[5] = 1;
	put_le32(p + 6, (uint32_t)(total - DFUSE_SUFFIX_SIZE));
	p[10] = 1;
	p += DFUSE_PREFIX_SIZE;
	memcpy(p, "Target", 6);
	p[6] = alt;
	put_le32(p + 7, target_name ? 1 : 0);
	if (target_name) {
		size_t n = strlen(target_name);

		/* Keep a NUL inside the 255-byte field. */
		memcpy(p + 11, target_name, n < TARGET_NAME_SIZE ? n : TARGET_NAME_SIZE - 1);
	}
	put_le32(p + 266, (uint32_t)tsize);
	put_le32(p + 270, (uint32_t)s->count);
	p += DFUSE_TARGET_PREFIX_SIZE;
	segments_for_each(g, s) {
		put_le32(p, g->addr);
		put_le32(p + 4, g->len);
		memcpy(p + DFUSE_ELEMENT_HEADER_SIZE, g->data, g->len);
		p += DFUSE_ELEMENT_HEADER_SIZE + g->len;
	}
	put_le16(p, 0xFFFF);          /* bcdDevice: any */
	put_le16(p + 2, pid);
	put_le16(p + 4, vid);
	put_le16(p + 6, DFUSE_BCD_DFU);
	memcpy(p + 8, "UFD", 3);
	p[11] = DFUSE_SUFFIX_SIZE;
	put_le32(p + 12, dfu_suffix_crc(buf, (size_t)total - 4));

	f = fopen(path, "wb");
	if (!f) {
		ret = sb_error_set(e, -EIO, "cannot create %s: %s", path, strerror(errno));
		goto out;
	}
	if (fwrite(buf, 1, (size_t)total, f) != (size_t)total) {
		ret = sb_error_set(e, -EIO, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (f && fclose(f) != 0 && ret == 0)
		ret = sb_error_set(e, -EIO, "cannot write %s: %s", path, strerror(errno));
	free(buf);
	return ret;
}
