/*
 * segments.h - firmware as the files describe it: address ranges with bytes.
 *
 * Every input format (ELF, Intel HEX, S-record, raw binary) is read into this one
 * representation, so checks (inside flash? overlapping? clear of the
 * stub?) and outputs are written once. Gaps between segments stay gaps:
 * nothing is invented for bytes a file does not define.
 */
#ifndef SYSBOOT_SEGMENTS_H
#define SYSBOOT_SEGMENTS_H

#include <stddef.h>
#include <stdint.h>

struct segment {
	uint32_t addr;
	uint32_t len;
	uint8_t *data;
};

struct segments {
	struct segment *seg;
	size_t count, cap;
};

void segments_init(struct segments *s);
void segments_free(struct segments *s);
/* Add a copy of data; adjacent segments merge. Returns 0 or -1 (no memory). */
int segments_add(struct segments *s, uint32_t addr, const void *data, uint32_t len);
/* Sort by address; -1 with a message naming both ranges when two overlap. */
int segments_sort(struct segments *s, char *err, size_t errlen);
/* Lowest address and end (one past the highest byte); 0, 0 when empty. */
void segments_span(const struct segments *s, uint32_t *lo, uint32_t *end);
/* Copy [addr, addr+len) into buf, fill where no segment defines a byte. */
void segments_read(const struct segments *s, uint32_t addr, uint8_t *buf, uint32_t len, uint8_t fill);

/*
 * Read a firmware file: ELF by its load addresses, Intel HEX, S-record, or a raw
 * binary placed at raw_base (used when the file is neither). Returns 0, or
 * -1 with a message naming the file and what is wrong where.
 */
int segments_load(struct segments *s, const char *path, uint32_t raw_base,
		  char *err, size_t errlen);

/* The value of a hexadecimal digit, -1 for anything else (HEX, S-record). */
int hex_digit(char c);

/* Format readers and writers (segments_load picks the reader). */
int elf_read(struct segments *s, const uint8_t *buf, size_t len, const char *name,
	     char *err, size_t errlen);
int ihex_read(struct segments *s, const char *text, size_t len, const char *name,
	      char *err, size_t errlen);
int ihex_write(const struct segments *s, const char *path, char *err, size_t errlen);
int srec_read(struct segments *s, const char *text, size_t len, const char *name,
	      char *err, size_t errlen);

#endif /* SYSBOOT_SEGMENTS_H */
