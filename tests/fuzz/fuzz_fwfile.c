/*
 * fuzz_fwfile.c - a firmware file as `sysboot image show` and `update`
 * take it: the format decided from the content and the name
 * (host/src/fwfile.c), read, sorted, and the image inside checked
 * (host/src/appimage.c: header, CRC and vectors, common/src/image.c).
 *
 * The first byte picks the file name's extension and whether a raw
 * binary is allowed, so every path of the format detection is reached.
 */
#include "appimage.h"
#include "fuzz_readers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
		"input", "input.elf", "input.hex", "input.srec", "input.dfu", "input.bin", "input.img",
	};
	struct load_opts lo = { 0 };
	struct load_info info;
	struct image_report r;
	struct segments s;
	struct sb_error e;
	char *buf;
	int ret;

	if (size < 1)
		return 0;
	lo.raw = data[0] & 0x80;
	lo.raw_base = SYSBOOT_HEADER_ADDR;
	buf = fuzz_text(data + 1, size - 1);
	memset(&e, 0, sizeof(e));
	ret = segments_parse(&s, (const uint8_t *)buf, size - 1,
			     names[(data[0] & 0x7F) % (sizeof(names) / sizeof(names[0]))], &lo,
			     &info, &e);
	fuzz_check_result(&s, ret, &e);
	if (ret == 0) {
		image_inspect(&s, &r);
		FUZZ_CHECK(sysboot_image_status_str(r.status)[0]);
		FUZZ_CHECK(r.status != SYSBOOT_IMAGE_OK || r.body_checked);
	}
	segments_free(&s);
	free(buf);
	return 0;
}
