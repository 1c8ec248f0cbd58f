/*
 * elf.c - an ELF firmware file into the segment list (common/src/elf32.c
 * does the reading; this names the file in its messages).
 */
#include <stdio.h>

#include "segments.h"
#include "sysboot/elf32.h"

static int add_segment(void *ctx, uint32_t paddr, const uint8_t *data, uint32_t len)
{
	return segments_add(ctx, paddr, data, len) < 0 ? -2 : 0;
}

int elf_read(struct segments *s, const uint8_t *buf, size_t len, const char *name,
	     char *err, size_t errlen)
{
	char inner[256];
	int ret = elf32_segments(buf, len, add_segment, s, inner, sizeof(inner));

	if (ret == -2)
		snprintf(err, errlen, "out of memory");
	else if (ret < 0)
		snprintf(err, errlen, "%s: %s", name, inner);
	return ret < 0 ? -1 : 0;
}
