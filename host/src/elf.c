/*
 * elf.c - an ELF firmware file into the segment list.
 *
 * common/src/elf32.c does the reading (PT_LOAD file bytes at p_paddr, every
 * offset and size checked against the file) so the emulator loads exactly
 * what the tool writes; this adds the checks whose message needs the file
 * name, and turns the reader's callback into segments.
 */
#include <stdio.h>
#include <string.h>

#include "formats.h"
#include "sysboot/elf32.h"

struct elf_ctx {
	struct segments *s;
	struct sb_error *e;
	int ret;
};

static int add_segment(void *arg, uint32_t paddr, const uint8_t *data,
		       uint32_t len)
{
	struct elf_ctx *c = arg;

	c->ret = segments_add(c->s, paddr, data, len, c->e);
	return c->ret < 0 ? 1 : 0;
}

int elf_read(struct segments *s, const uint8_t *buf, size_t len,
	     const char *name, struct sb_error *e)
{
	struct elf_ctx c = { s, e, 0 };
	char inner[256];
	int ret;

	if (len < 4 || memcmp(buf, "\177ELF", 4) != 0)
		return sb_error_set(e, -EINVAL,
				    "%s: not an ELF file (no \\177ELF magic at offset 0)",
				    name);
	/* e_phnum: without program headers there is nothing to load. */
	if (len >= 46 && buf[4] == 1 && buf[5] == 1 && buf[44] == 0 && buf[45] == 0)
		return sb_error_set(e, -EINVAL,
				    "%s: ELF file has no program headers (an object file, not a linked program?)",
				    name);
	ret = elf32_segments(buf, len, add_segment, &c, inner, sizeof(inner));
	if (ret > 0)
		return sb_error_prefix(e, c.ret, name);
	if (ret < 0)
		return sb_error_set(e, -EINVAL, "%s: %s", name, inner);
	return 0;
}
