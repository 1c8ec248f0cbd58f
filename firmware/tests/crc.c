/*
 * crc.c - the CRC calculation unit fed the way firmware feeds it (RM0351
 * 14.3): 8-, 16- and 32-bit writes to CRC_DR under each REV_IN setting,
 * with and without REV_OUT. The boot stub checks every image with 32-bit
 * writes reversed by word, so the emulator must reverse a word as a whole
 * and take its most significant bit first, as the chip does.
 *
 * The data is "123456789" (the CRC catalogue's check string); a word
 * write stores the little-endian word of four of its bytes, so "1234"
 * is written as 0x34333231. Every run starts with INIT = 0xFFFFFFFF, the
 * default polynomial 0x04C11DB7 and CR.RESET.
 *
 * test_result slots (the value read from CRC_DR):
 *   0  9 byte writes, REV_IN by byte, REV_OUT
 *   1  2 word writes ("12345678"), REV_IN by word, REV_OUT
 *   2  2 word writes, REV_IN by half-word, REV_OUT
 *   3  2 word writes, REV_IN by byte, REV_OUT
 *   4  2 word writes, no reversal
 *   5  4 half-word writes ("12345678"), REV_IN by half-word, REV_OUT
 *   6  9 byte writes, no reversal
 *   7  CR as read back after slot 1's set-up (RESET reads as 0)
 *   8  CRC_DR right after CR.RESET (INIT)
 */
#include "test.h"
#include "sysboot/byteorder.h"

#define DR8   MMIO8(CRC_BASE + CRC_DR)
#define DR16  (*(volatile uint16_t *)(uintptr_t)(CRC_BASE + CRC_DR))
#define DR32  MMIO32(CRC_BASE + CRC_DR)

static const uint8_t check[9] = { '1', '2', '3', '4', '5', '6', '7', '8', '9' };

static void start(uint32_t cr)
{
	MMIO32(CRC_BASE + CRC_INIT) = 0xFFFFFFFFu;
	MMIO32(CRC_BASE + CRC_CR) = cr | CRC_CR_RESET;
}

static uint32_t bytes(uint32_t cr)
{
	unsigned i;

	start(cr);
	for (i = 0; i < sizeof(check); i++)
		DR8 = check[i];
	return DR32;
}

static uint32_t words(uint32_t cr)
{
	start(cr);
	DR32 = get_le32(&check[0]);
	DR32 = get_le32(&check[4]);
	return DR32;
}

static uint32_t halfwords(uint32_t cr)
{
	unsigned i;

	start(cr);
	for (i = 0; i < 8; i += 2)
		DR16 = (uint16_t)(check[i] | check[i + 1] << 8);
	return DR32;
}

int main(void)
{
	MMIO32(RCC_BASE + RCC_AHB1ENR) |= RCC_AHB1ENR_CRCEN;
	(void)MMIO32(RCC_BASE + RCC_AHB1ENR);

	test_result[0] = bytes(CRC_CR_REV_IN_BYTE | CRC_CR_REV_OUT);
	test_result[1] = words(CRC_CR_REV_IN_WORD | CRC_CR_REV_OUT);
	test_result[7] = MMIO32(CRC_BASE + CRC_CR);
	test_result[2] = words(CRC_CR_REV_IN_HALF | CRC_CR_REV_OUT);
	test_result[3] = words(CRC_CR_REV_IN_BYTE | CRC_CR_REV_OUT);
	test_result[4] = words(0);
	test_result[5] = halfwords(CRC_CR_REV_IN_HALF | CRC_CR_REV_OUT);
	test_result[6] = bytes(0);
	MMIO32(CRC_BASE + CRC_INIT) = 0x12345678u;
	MMIO32(CRC_BASE + CRC_CR) = CRC_CR_RESET;
	test_result[8] = DR32;
	test_done();
}
