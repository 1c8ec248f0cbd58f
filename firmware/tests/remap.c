/*
 * remap.c - is SYSCFG_MEMRMP.MEM_MODE gated by the SYSCFG clock, and does
 * the boot alias at 0x0 follow it (RM0351 9.2.1)? This is the register
 * AN2606's countermeasure against the dual-bank bounce-back depends on.
 *
 * test_result slots:
 *   0  MEMRMP after writing MEM_MODE=1 with SYSCFGEN off (expect 0)
 *   1  MEMRMP after writing MEM_MODE=1 with SYSCFGEN on (expect 1)
 *   2  word at 0x00000000 while system memory is mapped
 *   3  word at 0x1FFF0000 (slot 2 must equal it)
 *   4  MEMRMP after writing MEM_MODE=0 (expect 0)
 *   5  word at 0x00000000 with flash mapped again
 *   6  word at 0x08000000 (slot 5 must equal it)
 *   7  RCC_APB2ENR at the start (SYSCFGEN expected off)
 */
#include "test.h"

#define MEMRMP MMIO32(SYSCFG_BASE + SYSCFG_MEMRMP)

int main(void)
{
	test_result[7] = MMIO32(RCC_BASE + RCC_APB2ENR);

	MMIO32(RCC_BASE + RCC_APB2ENR) &= ~RCC_APB2ENR_SYSCFGEN;
	MEMRMP = SYSCFG_MEM_MODE_SYSMEM;
	__DSB();
	test_result[0] = MEMRMP;

	MMIO32(RCC_BASE + RCC_APB2ENR) |= RCC_APB2ENR_SYSCFGEN;
	(void)MMIO32(RCC_BASE + RCC_APB2ENR);
	MEMRMP = SYSCFG_MEM_MODE_SYSMEM;
	__DSB();
	__ISB();
	test_result[1] = MEMRMP;
	test_result[2] = mmio_read_hidden(0x00000000u);
	test_result[3] = MMIO32(STM32_SYSMEM_BASE);

	MEMRMP = SYSCFG_MEM_MODE_FLASH;
	__DSB();
	__ISB();
	test_result[4] = MEMRMP;
	test_result[5] = mmio_read_hidden(0x00000000u);
	test_result[6] = MMIO32(STM32_FLASH_BASE);
	test_done();
}
