/*
 * elf.c - put a firmware ELF file into the emulated board, as a debugger
 * would, and remember its symbols.
 *
 * Loadable segments go to their physical (load) addresses, which is where a
 * programmer writes them; symbols let tests and the diagnose command name
 * places in the firmware (test_done, test_result, functions). Every offset
 * read from the file is checked against the file size first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"

#define EI_NIDENT 16
#define PT_LOAD 1
#define SHT_SYMTAB 2
#define EM_ARM 40

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static bool in_file(size_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

static int add_symbol(struct board *b, const char *name, uint32_t value)
{
	if (b->nsymbols == b->symbols_cap) {
		size_t cap = b->symbols_cap ? b->symbols_cap * 2 : 64;
		struct sim_symbol *s = realloc(b->symbols, cap * sizeof(*s));

		if (!s)
			return -1;
		b->symbols = s;
		b->symbols_cap = cap;
	}
	b->symbols[b->nsymbols].name = strdup(name);
	if (!b->symbols[b->nsymbols].name)
		return -1;
	b->symbols[b->nsymbols++].value = value;
	return 0;
}

static void load_symbols(struct board *b, const uint8_t *f, size_t size)
{
	uint32_t shoff = le32(f + 32);
	uint16_t shentsize = le16(f + 46), shnum = le16(f + 48);
	unsigned i;

	if (shentsize < 40 || !in_file(size, shoff, (uint64_t)shentsize * shnum))
		return;
	for (i = 0; i < shnum; i++) {
		const uint8_t *sh = f + shoff + (size_t)i * shentsize;
		uint32_t off, len, link, entsize, stroff, strlen_;
		const uint8_t *strsh;
		size_t k;

		if (le32(sh + 4) != SHT_SYMTAB)
			continue;
		off = le32(sh + 16);
		len = le32(sh + 20);
		link = le32(sh + 24);
		entsize = le32(sh + 36);
		if (entsize < 16 || link >= shnum || !in_file(size, off, len))
			continue;
		strsh = f + shoff + (size_t)link * shentsize;
		stroff = le32(strsh + 16);
		strlen_ = le32(strsh + 20);
		if (!in_file(size, stroff, strlen_) || strlen_ == 0)
			continue;
		for (k = 0; k + entsize <= len; k += entsize) {
			const uint8_t *sym = f + off + k;
			uint32_t name = le32(sym);
			const char *s;

			if (name == 0 || name >= strlen_)
				continue;
			s = (const char *)f + stroff + name;
			if (!memchr(s, 0, strlen_ - name))
				continue;
			if (add_symbol(b, s, le32(sym + 4)) < 0)
				return;
		}
	}
}

int sim_elf_load(struct board *b, const char *path, char *err, size_t errlen)
{
	FILE *fp = NULL;
	uint8_t *f = NULL;
	long size;
	uint32_t phoff;
	uint16_t phentsize, phnum;
	unsigned i, loaded = 0;
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
	if (size < 52 || memcmp(f, "\177ELF", 4) != 0) {
		snprintf(err, errlen, "%s: not an ELF file", path);
		goto out;
	}
	if (f[4] != 1 || f[5] != 1 || le16(f + 18) != EM_ARM) {
		snprintf(err, errlen, "%s: not a 32-bit little-endian ARM ELF file", path);
		goto out;
	}
	phoff = le32(f + 28);
	phentsize = le16(f + 42);
	phnum = le16(f + 44);
	if (phentsize < 32 || !in_file((size_t)size, phoff, (uint64_t)phentsize * phnum)) {
		snprintf(err, errlen, "%s: program header table lies outside the file", path);
		goto out;
	}
	for (i = 0; i < phnum; i++) {
		const uint8_t *ph = f + phoff + (size_t)i * phentsize;
		uint32_t off = le32(ph + 4), paddr = le32(ph + 12), filesz = le32(ph + 16);

		if (le32(ph) != PT_LOAD || filesz == 0)
			continue;
		if (!in_file((size_t)size, off, filesz)) {
			snprintf(err, errlen, "%s: segment %u lies outside the file", path, i);
			goto out;
		}
		if (sim_load_bytes((struct sim_board *)b, paddr, f + off, filesz, err, errlen) < 0) {
			char inner[200];

			snprintf(inner, sizeof(inner), "%s", err);
			snprintf(err, errlen, "%s: segment %u: %s", path, i, inner);
			goto out;
		}
		loaded++;
	}
	if (!loaded) {
		snprintf(err, errlen, "%s: no loadable segment", path);
		goto out;
	}
	load_symbols(b, f, (size_t)size);
	ret = 0;
out:
	free(f);
	if (fp)
		fclose(fp);
	return ret;
}
