/*
 * flash.c - the flash controller as the ROM and the host tool rely on it
 * (RM0351 3.3.5-3.3.7): unlock, double-word programming that refuses a
 * second program without erase, programming sequence errors, page erase
 * in bank 2, lock. Works on bank 2 page 44 (0x08096000), far from the
 * firmware itself.
 *
 * test_result slots (SR = FLASH_SR):
 *   0  CR after the unlock sequence (LOCK clear)
 *   1  SR after programming 0x11223344 0x55667788 at 0x08096000 (no error)
 *   2  word at 0x08096000 (expect 0x11223344)
 *   3  word at 0x08096004 (expect 0x55667788)
 *   4  SR after programming the same double word again (PROGERR)
 *   5  word at 0x08096000 after that (unchanged, 0x11223344)
 *   6  SR after clearing the error flags (0)
 *   7  SR after a lone 32-bit store at 0x08096010 then a store at
 *      0x08096100 (PGAERR and/or PGSERR)
 *   8  SR after clearing the errors of step 7 (0)
 *   9  SR after erasing page 44 of bank 2 (PER, PNB=44, BKER, STRT)
 *  10  word at 0x08096000 after the erase (0xFFFFFFFF)
 *  11  word at 0x08096004 after the erase (0xFFFFFFFF)
 *  12  CR after setting LOCK (LOCK set)
 *  13  CR after writing PG while locked (unchanged: PG clear)
 *  14  word at 0x08096000 before the test (expect 0xFFFFFFFF)
 *  15  SR at the end
 */
#include "test.h"

#define SR      MMIO32(FLASH_R_BASE + FLASH_SR)
#define CR      MMIO32(FLASH_R_BASE + FLASH_CR)
#define ADDR    0x08096000u
#define PAGE    44u             /* (ADDR - bank 2 base) / 2 KB */

static void wait_idle(void)
{
	while (SR & FLASH_SR_BSY)
		;
}

static void clear_errors(void)
{
	SR = FLASH_SR_ERRORS | FLASH_SR_EOP;
}

static uint32_t program(uint32_t addr, uint32_t lo, uint32_t hi)
{
	uint32_t sr;

	wait_idle();
	CR |= FLASH_CR_PG;
	MMIO32(addr) = lo;
	MMIO32(addr + 4u) = hi;
	__DSB();
	wait_idle();
	sr = SR;
	CR &= ~FLASH_CR_PG;
	return sr;
}

int main(void)
{
	test_result[14] = MMIO32(ADDR);

	MMIO32(FLASH_R_BASE + FLASH_KEYR) = FLASH_KEY1;
	MMIO32(FLASH_R_BASE + FLASH_KEYR) = FLASH_KEY2;
	test_result[0] = CR;
	clear_errors();

	test_result[1] = program(ADDR, 0x11223344u, 0x55667788u);
	test_result[2] = MMIO32(ADDR);
	test_result[3] = MMIO32(ADDR + 4u);

	test_result[4] = program(ADDR, 0x11223344u, 0x55667788u);
	test_result[5] = MMIO32(ADDR);
	clear_errors();
	test_result[6] = SR;

	/* RM0351 3.3.7: the second word of a double word must follow. */
	CR |= FLASH_CR_PG;
	MMIO32(ADDR + 0x10u) = 0xA5A5A5A5u;
	MMIO32(ADDR + 0x100u) = 0x5A5A5A5Au;
	__DSB();
	wait_idle();
	test_result[7] = SR;
	CR &= ~FLASH_CR_PG;
	clear_errors();
	test_result[8] = SR;

	CR = (CR & ~(FLASH_CR_PNB | FLASH_CR_PG)) | FLASH_CR_PER |
	     (PAGE << FLASH_CR_PNB_Pos) | FLASH_CR_BKER;
	CR |= FLASH_CR_STRT;
	__DSB();
	wait_idle();
	test_result[9] = SR;
	CR &= ~(FLASH_CR_PER | FLASH_CR_PNB | FLASH_CR_BKER);
	test_result[10] = MMIO32(ADDR);
	test_result[11] = MMIO32(ADDR + 4u);

	CR |= FLASH_CR_LOCK;
	test_result[12] = CR;
	CR |= FLASH_CR_PG;
	test_result[13] = CR;
	test_result[15] = SR;
	test_done();
}
