/*
 * elf.c - put a firmware ELF file into the emulated board, as a debugger
 * would, and remember what it says about its addresses.
 *
 * Loadable segments go to their physical (load) addresses, which is where a
 * programmer writes them; symbols, sections and source lines (debuginfo.c)
 * let tests and the diagnose command name places in the firmware
 * (test_done, test_result, main+0x1c at app.c:42). Every offset read from
 * the file is checked against the file size first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "sysboot/elf32.h"

struct load_ctx {
	struct board *b;
	char *err;
	size_t errlen;
};

static int load_segment(void *ctx, uint32_t paddr, const uint8_t *data, uint32_t len)
{
	struct load_ctx *lc = ctx;

	return sim_load_bytes((struct sim_board *)lc->b, paddr, data, len, lc->err, lc->errlen) < 0 ? -2 : 0;
}

int sim_elf_load(struct board *b, const char *path, char *err, size_t errlen)
{
	FILE *fp = NULL;
	uint8_t *f = NULL;
	long size;
	int ret = -1;

	fp = fopen(path, "rb");
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fseek(fp, 0, SEEK_END) < 0 || (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	f = malloc((size_t)size + 1);
	if (!f || fread(f, 1, (size_t)size, fp) != (size_t)size) {
		snprintf(err, errlen, "%s: cannot read the file", path);
		goto out;
	}
	{
		struct load_ctx lc = { b, err, errlen };
		char inner[256];
		int r = elf32_segments(f, (size_t)size, load_segment, &lc, inner, sizeof(inner));

		if (r == -2) {
			snprintf(inner, sizeof(inner), "%s", err);
			snprintf(err, errlen, "%s: %s", path, inner);
			goto out;
		}
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", path, inner);
			goto out;
		}
	}
	if (debuginfo_add(b, path, f, (size_t)size) < 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	ret = 0;
out:
	free(f);
	if (fp)
		fclose(fp);
	return ret;
}
