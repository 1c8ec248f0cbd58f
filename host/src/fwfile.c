/*
 * fwfile.c - a firmware file from disk into segments, whatever its format.
 *
 * The content decides the format, because extensions lie (a .hex that is
 * really a binary, an .elf renamed .bin); the extension only helps when the
 * content is unrecognisable, so that a damaged .hex gets the HEX reader's
 * precise message rather than "unknown format". Raw binary is never
 * guessed: bytes without addresses are written only where the user said.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats.h"
#include "sysboot/dfuse.h"

/* Larger than any firmware for a 1 MB part in any text encoding. */
#define FW_MAX_FILE (64L * 1024 * 1024)

const char *fw_format_name(enum fw_format f)
{
	switch (f) {
	case FW_ELF: return "ELF";
	case FW_IHEX: return "Intel HEX";
	case FW_SREC: return "S-record";
	case FW_DFU: return "DfuSe";
	case FW_BIN: return "raw binary";
	case FW_UNKNOWN: break;
	}
	return "unknown";
}

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static const char *extension(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');

	return dot ? dot + 1 : "";
}

enum fw_format fw_format_from_ext(const char *path)
{
	static const struct {
		const char *ext;
		enum fw_format f;
	} map[] = {
		{ "elf", FW_ELF }, { "axf", FW_ELF }, { "out", FW_ELF },
		{ "hex", FW_IHEX }, { "ihex", FW_IHEX }, { "ihx", FW_IHEX },
		{ "srec", FW_SREC }, { "s19", FW_SREC }, { "s28", FW_SREC },
		{ "s37", FW_SREC }, { "mot", FW_SREC },
		{ "dfu", FW_DFU },
		{ "bin", FW_BIN }, { "img", FW_BIN }, { "raw", FW_BIN },
	};
	const char *ext = extension(path);
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcasecmp(ext, map[i].ext) == 0)
			return map[i].f;
	return FW_UNKNOWN;
}

enum fw_format fw_detect(const uint8_t *buf, size_t len, const char *path,
			 const struct load_opts *o)
{
	enum fw_format by_ext = fw_format_from_ext(path);
	bool raw = o && o->raw;

	/* Random bytes at an address can start like anything. */
	if (raw && by_ext == FW_BIN)
		return FW_BIN;
	if (len >= 4 && memcmp(buf, "\177ELF", 4) == 0)
		return FW_ELF;
	if (len >= 5 && memcmp(buf, "DfuSe", 5) == 0)
		return FW_DFU;
	if (len >= 1 && buf[0] == ':')
		return FW_IHEX;
	if (len >= 2 && buf[0] == 'S' && buf[1] >= '0' && buf[1] <= '9')
		return FW_SREC;
	if (by_ext != FW_UNKNOWN && by_ext != FW_BIN)
		return by_ext;
	return raw ? FW_BIN : FW_UNKNOWN;
}

int fw_read_file(const char *path, uint8_t **out, size_t *len,
		 struct sb_error *e)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;
	int ret;

	if (!f)
		return sb_error_set(e, -ENOENT, "cannot open %s: %s", path,
				    strerror(errno));
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		ret = sb_error_set(e, -EIO, "cannot read %s: %s", path,
				   strerror(errno));
		goto out;
	}
	if (size == 0) {
		ret = sb_error_set(e, -EINVAL, "%s is empty", path);
		goto out;
	}
	if (size > FW_MAX_FILE) {
		ret = sb_error_set(e, -EINVAL,
				   "%s is %ld bytes: too large to be firmware for this chip",
				   path, size);
		goto out;
	}
	buf = malloc((size_t)size + 1);
	if (!buf) {
		ret = sb_error_set(e, -ENOMEM, "out of memory reading %s", path);
		goto out;
	}
	if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
		ret = sb_error_set(e, -EIO, "cannot read %s: short read", path);
		goto out;
	}
	buf[size] = 0;
	*out = buf;
	*len = (size_t)size;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	fclose(f);
	return ret;
}

int segments_parse(struct segments *s, const uint8_t *buf, size_t len, const char *path,
		   const struct load_opts *o, struct load_info *info, struct sb_error *e)
{
	struct dfu_info dfu;
	enum fw_format f;
	int ret;

	segments_init(s);
	if (info)
		memset(info, 0, sizeof(*info));
	if (len == 0)
		return sb_error_set(e, -EINVAL, "%s is empty", path);
	f = fw_detect(buf, len, path, o);
	if (info)
		info->format = f;
	switch (f) {
	case FW_ELF:
		ret = elf_read(s, buf, len, path, e);
		break;
	case FW_IHEX:
		ret = ihex_read(s, (const char *)buf, len, path, e);
		break;
	case FW_SREC:
		ret = srec_read(s, (const char *)buf, len, path, e);
		break;
	case FW_DFU:
		ret = dfu_read(s, buf, len, path, &dfu, e);
		if (ret == 0 && info) {
			info->dfu_vid = dfu.vid;
			info->dfu_pid = dfu.pid;
			/* 0xFFFF is DFU 1.1's "any device". */
			if ((dfu.vid != DFUSE_VID && dfu.vid != 0xFFFF) ||
			    (dfu.pid != DFUSE_PID && dfu.pid != 0xFFFF))
				snprintf(info->warning, sizeof(info->warning),
					 "%s is for USB device %04x:%04x, not the STM32 ROM bootloader (%04x:%04x)",
					 path, dfu.vid, dfu.pid, DFUSE_VID,
					 DFUSE_PID);
		}
		break;
	case FW_BIN:
		ret = bin_read(s, buf, len, o ? o->raw_base : 0, path, e);
		break;
	case FW_UNKNOWN:
	default:
		ret = sb_error_set(e, -ENOTSUP,
				   "%s: not an ELF, Intel HEX, S-record or DfuSe file (starts with %02x %02x %02x %02x); for a raw binary give --address",
				   path, buf[0], len > 1 ? buf[1] : 0,
				   len > 2 ? buf[2] : 0, len > 3 ? buf[3] : 0);
		break;
	}
	if (ret == 0)
		ret = segments_sort(s, path, e);
	if (ret < 0)
		segments_free(s);
	return ret;
}

int segments_load(struct segments *s, const char *path,
		  const struct load_opts *o, struct load_info *info,
		  struct sb_error *e)
{
	uint8_t *buf = NULL;
	size_t len;
	int ret;

	segments_init(s);
	if (info)
		memset(info, 0, sizeof(*info));
	ret = fw_read_file(path, &buf, &len, e);
	if (ret < 0)
		return ret;
	ret = segments_parse(s, buf, len, path, o, info, e);
	free(buf);
	return ret;
}

/* Raw bytes from the lowest address to the highest, gaps as erased flash. */
static int write_raw(const struct segments *s, const char *path,
		     struct sb_error *e)
{
	uint32_t lo;
	uint64_t end;
	uint8_t *buf;
	FILE *f;
	int ret = 0;

	segments_span(s, &lo, &end);
	buf = malloc(end > lo ? (size_t)(end - lo) : 1);
	if (!buf)
		return sb_error_set(e, -ENOMEM, "out of memory");
	segments_read(s, lo, buf, (uint32_t)(end - lo), 0xFF);
	f = fopen(path, "wb");
	if (!f) {
		ret = sb_error_set(e, -EIO, "cannot create %s: %s", path, strerror(errno));
		goto out;
	}
	if (fwrite(buf, 1, (size_t)(end - lo), f) != (size_t)(end - lo))
		ret = sb_error_set(e, -EIO, "cannot write %s: %s", path, strerror(errno));
	if (fclose(f) != 0 && ret == 0)
		ret = sb_error_set(e, -EIO, "cannot write %s: %s", path, strerror(errno));
out:
	free(buf);
	return ret;
}

int fw_write_file(const struct segments *s, const char *path, enum fw_format f,
		  uint8_t dfu_alt, const char *dfu_target, struct sb_error *e)
{
	switch (f) {
	case FW_IHEX:
		return ihex_write(s, path, e);
	case FW_SREC:
		return srec_write(s, path, e);
	case FW_DFU:
		return dfu_write(s, path, dfu_alt, dfu_target, DFUSE_VID, DFUSE_PID, e);
	case FW_BIN:
		return write_raw(s, path, e);
	default:
		return sb_error_set(e, -ENOTSUP, "%s: cannot write %s files", path,
				    fw_format_name(f));
	}
}
