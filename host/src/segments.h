/*
 * segments.h - firmware as the files describe it: address ranges with bytes.
 *
 * Every input format (ELF, Intel HEX, S-record, DfuSe, raw binary) is read
 * into this one representation, so the checks (inside flash? overlapping?
 * clear of the stub?) and the writers are written once. Gaps between
 * segments stay gaps: nothing is invented for bytes a file does not define.
 * Only segments_read() fills gaps, with the value its caller chooses.
 */
#ifndef SYSBOOT_SEGMENTS_H
#define SYSBOOT_SEGMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "sb_error.h"

struct segment {
	uint32_t addr;
	uint32_t len;
	uint8_t *data;
};

struct segments {
	struct segment *seg;
	size_t count, cap;
};

/* Visit every segment in list order (address order once sorted). */
#define segments_for_each(g, s) \
	for ((g) = (s)->seg; (g) && (g) < (s)->seg + (s)->count; (g)++)

void segments_init(struct segments *s);
void segments_free(struct segments *s);

/*
 * Append a copy of len bytes at addr. A range that continues the last
 * segment extends it (consecutive HEX records). Returns 0, -ERANGE when the
 * range runs past 0xFFFFFFFF, -ENOMEM.
 */
int segments_add(struct segments *s, uint32_t addr, const void *data,
		 uint32_t len, struct sb_error *e);

/*
 * Sort by address and merge segments that touch. Two that overlap are an
 * error (-EINVAL) naming both ranges, prefixed with name when not NULL.
 */
int segments_sort(struct segments *s, const char *name, struct sb_error *e);

/*
 * Lowest address and end (one past the highest byte, so 64 bits: a segment
 * may end at 4 GB); 0, 0 when empty.
 */
void segments_span(const struct segments *s, uint32_t *lo, uint64_t *end);

/* Bytes the segments define (gaps not counted). */
uint64_t segments_total(const struct segments *s);

/* Copy [addr, addr + len) into buf; bytes no segment defines become fill. */
void segments_read(const struct segments *s, uint32_t addr, uint8_t *buf,
		   uint32_t len, uint8_t fill);

/* The segment that holds addr, or NULL (segments need not be sorted). */
const struct segment *segments_find(const struct segments *s, uint32_t addr);

#endif /* SYSBOOT_SEGMENTS_H */
