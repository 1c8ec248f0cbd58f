/*
 * elf32.h - walk the parts of an ELF32 ARM firmware file that a programmer
 * and a debugger need: the loadable segments and the symbol table.
 *
 * The host tool writes segments to a board; the emulator loads them and
 * names places by symbol. Both read files nobody vetted, so every offset
 * and size is checked against the buffer before use. Hosted code only.
 */
#ifndef SYSBOOT_ELF32_H
#define SYSBOOT_ELF32_H

#include <stddef.h>
#include <stdint.h>

/* One PT_LOAD segment's file bytes at its physical (load) address. */
typedef int (*elf32_segment_fn)(void *ctx, uint32_t paddr, const uint8_t *data, uint32_t len);
typedef int (*elf32_symbol_fn)(void *ctx, const char *name, uint32_t value);

/*
 * Check the header (32-bit, little-endian, ARM) and call fn for every
 * loadable segment with data. Returns 0, the first non-zero value fn
 * returned, or -1 with a message (without the file name) in err.
 */
int elf32_segments(const uint8_t *buf, size_t len, elf32_segment_fn fn, void *ctx,
		   char *err, size_t errlen);

/* Call fn for every named symbol; stops early when fn returns non-zero. */
void elf32_symbols(const uint8_t *buf, size_t len, elf32_symbol_fn fn, void *ctx);

#endif /* SYSBOOT_ELF32_H */
