/*
 * elf32.h - walk the parts of an ELF32 ARM firmware file that a programmer
 * and a debugger need: the loadable segments, the symbol table and the
 * sections (for the debug information and where .data and .bss lie).
 *
 * The host tool writes segments to a board; the emulator loads them and
 * names places by symbol, section and source line. Both read files nobody
 * vetted, so every offset and size is checked against the buffer before
 * use. Hosted code only.
 */
#ifndef SYSBOOT_ELF32_H
#define SYSBOOT_ELF32_H

#include <stddef.h>
#include <stdint.h>

/* One PT_LOAD segment's file bytes at its physical (load) address. */
typedef int (*elf32_segment_fn)(void *ctx, uint32_t paddr, const uint8_t *data, uint32_t len);

/* A symbol table entry (ELF st_info split into type and binding). */
struct elf32_symbol {
	const char *name;
	uint32_t value;              /* functions: the address with the Thumb bit */
	uint32_t size;
	uint8_t type;                /* ELF32_STT_* */
	uint8_t bind;
	uint16_t shndx;
};
#define ELF32_STT_OBJECT 1u
#define ELF32_STT_FUNC   2u
typedef int (*elf32_symbol_fn)(void *ctx, const struct elf32_symbol *sym);

/* A section header, with its name. */
struct elf32_section {
	const char *name;
	uint32_t type;               /* ELF32_SHT_* */
	uint32_t flags;              /* ELF32_SHF_* */
	uint32_t addr, size;
	const uint8_t *data;         /* the bytes in the file; NULL for NOBITS */
};
#define ELF32_SHT_PROGBITS 1u
#define ELF32_SHT_NOBITS   8u
#define ELF32_SHF_WRITE    0x1u
#define ELF32_SHF_ALLOC    0x2u
typedef int (*elf32_section_fn)(void *ctx, const struct elf32_section *sec);

/*
 * Check the header (32-bit, little-endian, ARM) and call fn for every
 * loadable segment with data. Returns 0, the first non-zero value fn
 * returned, or -1 with a message (without the file name) in err.
 */
int elf32_segments(const uint8_t *buf, size_t len, elf32_segment_fn fn, void *ctx,
		   char *err, size_t errlen);

/* Call fn for every named symbol; stops early when fn returns non-zero. */
void elf32_symbols(const uint8_t *buf, size_t len, elf32_symbol_fn fn, void *ctx);

/*
 * Call fn for every section whose name and bytes lie inside the file;
 * stops early when fn returns non-zero.
 */
void elf32_sections(const uint8_t *buf, size_t len, elf32_section_fn fn, void *ctx);

/* The bytes of the section called name (NULL when absent), size in *size. */
const uint8_t *elf32_section_data(const uint8_t *buf, size_t len, const char *name, size_t *size);

#endif /* SYSBOOT_ELF32_H */
