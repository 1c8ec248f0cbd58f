/*
 * elf32.c - ELF32 ARM segments and symbols (see elf32.h).
 *
 * What a programmer writes is each PT_LOAD segment's file bytes at its
 * physical address: .data's initial values land after .text in flash and
 * .bss, having no file bytes, is not written.
 */
#include <stdio.h>
#include <string.h>

#include "sysboot/elf32.h"
#include "sysboot/byteorder.h"

#define PT_LOAD    1
#define SHT_SYMTAB 2
#define SHT_NOBITS 8
#define EM_ARM     40

static int fits(size_t len, uint64_t off, uint64_t size)
{
	return off <= len && size <= len - off;
}

static int check_header(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	if (len < 52 || memcmp(buf, "\177ELF", 4) != 0) {
		snprintf(err, errlen, "truncated ELF header (%zu bytes)", len);
		return -1;
	}
	if (buf[4] != 1) {
		snprintf(err, errlen, "a 64-bit ELF file; STM32 firmware is ELF32");
		return -1;
	}
	if (buf[5] != 1) {
		snprintf(err, errlen, "a big-endian ELF file; STM32 firmware is little-endian");
		return -1;
	}
	if (get_le16(buf + 18) != EM_ARM) {
		snprintf(err, errlen, "not ARM code (ELF machine %u)", get_le16(buf + 18));
		return -1;
	}
	return 0;
}

int elf32_segments(const uint8_t *buf, size_t len, elf32_segment_fn fn, void *ctx,
		   char *err, size_t errlen)
{
	uint32_t phoff;
	uint16_t phentsize, phnum, i;
	unsigned loaded = 0;
	int ret;

	if (check_header(buf, len, err, errlen) < 0)
		return -1;
	phoff = get_le32(buf + 28);
	phentsize = get_le16(buf + 42);
	phnum = get_le16(buf + 44);
	if (phnum == 0 || phentsize < 32 || !fits(len, phoff, (uint64_t)phentsize * phnum)) {
		snprintf(err, errlen, "program header table at offset %u lies outside the file", phoff);
		return -1;
	}
	for (i = 0; i < phnum; i++) {
		const uint8_t *ph = buf + phoff + (size_t)i * phentsize;
		uint32_t off = get_le32(ph + 4), paddr = get_le32(ph + 12), filesz = get_le32(ph + 16);

		if (get_le32(ph) != PT_LOAD || filesz == 0)
			continue;
		if (!fits(len, off, filesz)) {
			snprintf(err, errlen, "segment %u (%u bytes at offset %u) lies outside the file",
				 i, filesz, off);
			return -1;
		}
		if ((uint64_t)paddr + filesz > 0x100000000ull) {
			snprintf(err, errlen, "segment %u at 0x%08x runs past the 4 GB address space", i, paddr);
			return -1;
		}
		ret = fn(ctx, paddr, buf + off, filesz);
		if (ret)
			return ret;
		loaded++;
	}
	if (!loaded) {
		snprintf(err, errlen, "no loadable segment with data");
		return -1;
	}
	return 0;
}

void elf32_symbols(const uint8_t *buf, size_t len, elf32_symbol_fn fn, void *ctx)
{
	char err[8];
	uint32_t shoff;
	uint16_t shentsize, shnum, i;

	if (check_header(buf, len, err, sizeof(err)) < 0)
		return;
	shoff = get_le32(buf + 32);
	shentsize = get_le16(buf + 46);
	shnum = get_le16(buf + 48);
	if (shentsize < 40 || !fits(len, shoff, (uint64_t)shentsize * shnum))
		return;
	for (i = 0; i < shnum; i++) {
		const uint8_t *sh = buf + shoff + (size_t)i * shentsize, *strsh;
		uint32_t off, size, link, entsize, stroff, strsize;
		size_t k;

		if (get_le32(sh + 4) != SHT_SYMTAB)
			continue;
		off = get_le32(sh + 16);
		size = get_le32(sh + 20);
		link = get_le32(sh + 24);
		entsize = get_le32(sh + 36);
		if (entsize < 16 || link >= shnum || !fits(len, off, size))
			continue;
		strsh = buf + shoff + (size_t)link * shentsize;
		stroff = get_le32(strsh + 16);
		strsize = get_le32(strsh + 20);
		if (!strsize || !fits(len, stroff, strsize))
			continue;
		for (k = 0; k + entsize <= size; k += entsize) {
			const uint8_t *sym = buf + off + k;
			uint32_t name = get_le32(sym);
			struct elf32_symbol es;

			if (name == 0 || name >= strsize ||
			    !memchr(buf + stroff + name, 0, strsize - name))
				continue;
			es.name = (const char *)buf + stroff + name;
			es.value = get_le32(sym + 4);
			es.size = get_le32(sym + 8);
			es.type = sym[12] & 0xFu;
			es.bind = sym[12] >> 4;
			es.shndx = get_le16(sym + 14);
			if (fn(ctx, &es))
				return;
		}
	}
}

void elf32_sections(const uint8_t *buf, size_t len, elf32_section_fn fn, void *ctx)
{
	char err[8];
	uint32_t shoff, stroff, strsize;
	uint16_t shentsize, shnum, shstrndx, i;
	const uint8_t *strsh;

	if (check_header(buf, len, err, sizeof(err)) < 0)
		return;
	shoff = get_le32(buf + 32);
	shentsize = get_le16(buf + 46);
	shnum = get_le16(buf + 48);
	shstrndx = get_le16(buf + 50);
	if (shentsize < 40 || shstrndx >= shnum || !fits(len, shoff, (uint64_t)shentsize * shnum))
		return;
	strsh = buf + shoff + (size_t)shstrndx * shentsize;
	stroff = get_le32(strsh + 16);
	strsize = get_le32(strsh + 20);
	if (!strsize || !fits(len, stroff, strsize))
		return;
	for (i = 0; i < shnum; i++) {
		const uint8_t *sh = buf + shoff + (size_t)i * shentsize;
		uint32_t name = get_le32(sh), off = get_le32(sh + 16);
		struct elf32_section s;

		if (name >= strsize || !memchr(buf + stroff + name, 0, strsize - name))
			continue;
		s.name = (const char *)buf + stroff + name;
		s.type = get_le32(sh + 4);
		s.flags = get_le32(sh + 8);
		s.addr = get_le32(sh + 12);
		s.size = get_le32(sh + 20);
		s.data = NULL;
		if (s.type != SHT_NOBITS) {
			if (!fits(len, off, s.size))
				continue;
			s.data = buf + off;
		}
		if (fn(ctx, &s))
			return;
	}
}

struct find_ctx {
	const char *name;
	const uint8_t *data;
	size_t size;
};

static int find_section(void *ctx, const struct elf32_section *s)
{
	struct find_ctx *fc = ctx;

	if (strcmp(s->name, fc->name) != 0 || !s->data)
		return 0;
	fc->data = s->data;
	fc->size = s->size;
	return 1;
}

const uint8_t *elf32_section_data(const uint8_t *buf, size_t len, const char *name, size_t *size)
{
	struct find_ctx fc = { name, NULL, 0 };

	elf32_sections(buf, len, find_section, &fc);
	*size = fc.size;
	return fc.data;
}
