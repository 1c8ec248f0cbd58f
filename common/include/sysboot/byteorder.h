/*
 * byteorder.h - multi-byte fields in byte buffers.
 *
 * Why: the image header, ELF and DfuSe files, USB descriptors and DFU
 * answers, and the words read back through the ROM all keep little-endian
 * fields at offsets that need not be aligned, and AN3155 sends addresses
 * most significant byte first. Taking them byte by byte is right on any
 * host and on the Cortex-M4 alike, with none of a cast's alignment and
 * aliasing traps; one copy here instead of one per reader.
 */
#ifndef SYSBOOT_BYTEORDER_H
#define SYSBOOT_BYTEORDER_H

#include <stdint.h>

static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif /* SYSBOOT_BYTEORDER_H */
