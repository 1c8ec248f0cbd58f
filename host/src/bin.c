/*
 * bin.c - a raw binary: bytes without addresses, placed where the user
 * said (--address). Kept as its own reader so that every format goes
 * through the same segment checks.
 */
#include "formats.h"

int bin_read(struct segments *s, const uint8_t *buf, size_t len,
	     uint32_t base, const char *name, struct sb_error *e)
{
	int ret;

	if (len == 0)
		return sb_error_set(e, -EINVAL, "%s is empty", name);
	if (len > 0xFFFFFFFFu || (uint64_t)base + len > 0x100000000ull)
		return sb_error_set(e, -ERANGE,
				    "%s: %zu bytes at 0x%08x run past the end of the 32-bit address space",
				    name, len, base);
	ret = segments_add(s, base, buf, (uint32_t)len, e);
	if (ret < 0)
		return sb_error_prefix(e, ret, name);
	return 0;
}
