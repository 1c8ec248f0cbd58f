/*
 * crc32.h - the CRC-32 every part of sysboot agrees on.
 *
 * The image header, the .dfu suffix and the boot stub's check all use the
 * IEEE 802.3 CRC-32 (polynomial 0x04C11DB7, reflected, initial value and
 * final XOR 0xFFFFFFFF: the zlib/PNG CRC). The STM32L476 CRC unit computes
 * the same value when configured with REV_OUT = 1, INIT = 0xFFFFFFFF, the
 * result XORed with 0xFFFFFFFF, and REV_IN = byte for byte writes or
 * REV_IN = word for little-endian 32-bit writes (RM0351 14.3), so the stub
 * can use the hardware while the host and the emulator use this table-free
 * software version.
 */
#ifndef SYSBOOT_CRC32_H
#define SYSBOOT_CRC32_H

#include <stddef.h>
#include <stdint.h>

#define SYSBOOT_CRC32_INIT 0xFFFFFFFFu

/*
 * Feed len bytes into a running CRC. Start with SYSBOOT_CRC32_INIT and
 * finish with sysboot_crc32_final(); sysboot_crc32() does all three.
 */
uint32_t sysboot_crc32_update(uint32_t crc, const void *data, size_t len);

static inline uint32_t sysboot_crc32_final(uint32_t crc)
{
	return crc ^ 0xFFFFFFFFu;
}

static inline uint32_t sysboot_crc32(const void *data, size_t len)
{
	return sysboot_crc32_final(sysboot_crc32_update(SYSBOOT_CRC32_INIT,
							data, len));
}

#endif /* SYSBOOT_CRC32_H */
