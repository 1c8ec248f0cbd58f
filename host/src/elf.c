/*
 * elf.c - read the loadable segments of an ELF32 ARM firmware file.
 *
 * What a programmer writes is each PT_LOAD segment's file bytes at its
 * physical (load) address: .data's initial values land after .text in
 * flash, .bss (no file bytes) is not written. Every offset and size in the
 * file is checked against the file's length before it is used.
 */
#include <stdio.h>
#include <string.h>

#include "segments.h"

#define PT_LOAD 1
#define EM_ARM  40

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static int fits(size_t len, uint64_t off, uint64_t size)
{
	return off <= len && size <= len - off;
}

int elf_read(struct segments *s, const uint8_t *buf, size_t len, const char *name,
	     char *err, size_t errlen)
{
	uint32_t phoff;
	uint16_t phentsize, phnum, i;

	if (len < 52) {
		snprintf(err, errlen, "%s: truncated ELF header (%zu bytes)", name, len);
		return -1;
	}
	if (buf[4] != 1) {
		snprintf(err, errlen, "%s: a 64-bit ELF file; STM32 firmware is ELF32", name);
		return -1;
	}
	if (buf[5] != 1) {
		snprintf(err, errlen, "%s: a big-endian ELF file; STM32 firmware is little-endian", name);
		return -1;
	}
	if (le16(buf + 18) != EM_ARM) {
		snprintf(err, errlen, "%s: not ARM code (ELF machine %u)", name, le16(buf + 18));
		return -1;
	}
	phoff = le32(buf + 28);
	phentsize = le16(buf + 42);
	phnum = le16(buf + 44);
	if (phnum == 0 || phentsize < 32 || !fits(len, phoff, (uint64_t)phentsize * phnum)) {
		snprintf(err, errlen, "%s: program header table at offset %u lies outside the file", name, phoff);
		return -1;
	}
	for (i = 0; i < phnum; i++) {
		const uint8_t *ph = buf + phoff + (size_t)i * phentsize;
		uint32_t off = le32(ph + 4), paddr = le32(ph + 12), filesz = le32(ph + 16);

		if (le32(ph) != PT_LOAD || filesz == 0)
			continue;
		if (!fits(len, off, filesz)) {
			snprintf(err, errlen, "%s: segment %u (%u bytes at offset %u) lies outside the file",
				 name, i, filesz, off);
			return -1;
		}
		if ((uint64_t)paddr + filesz > 0x100000000ull) {
			snprintf(err, errlen, "%s: segment %u at 0x%08x runs past the 4 GB address space", name, i, paddr);
			return -1;
		}
		if (segments_add(s, paddr, buf + off, filesz) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	if (s->count == 0) {
		snprintf(err, errlen, "%s: no loadable segment with data", name);
		return -1;
	}
	return 0;
}
