/*
 * enter.c - the jump into the ROM bootloader, run from the reset handler.
 *
 * This is the only place sysboot jumps to the ROM, shared by the library
 * and the boot stub. It runs before .data and .bss exist, so it touches no
 * global variable, and it runs straight after a reset, so the clocks,
 * PLL and peripherals are already in the state AN2606 asks for.
 */
#include "sysboot.h"
#include "backup.h"

void sysboot_quiesce(void)
{
	unsigned i;

	MMIO32(SYSTICK_BASE + SYST_CSR) = 0;
	MMIO32(SCB_BASE + SCB_ICSR) = SCB_ICSR_PENDSTCLR | SCB_ICSR_PENDSVCLR;
	for (i = 0; i < NVIC_REG_WORDS; i++) {
		MMIO32(NVIC_BASE + NVIC_ICER(i)) = 0xFFFFFFFFu;
		MMIO32(NVIC_BASE + NVIC_ICPR(i)) = 0xFFFFFFFFu;
	}
	__DSB();
	__ISB();
}

void sysboot_enter_rom(uint32_t why)
{
	uint32_t word = SYSBOOT_ROM_MARKER | (why & SYSBOOT_ROM_WHY_MASK), sp, pc;

	__disable_irq();
	backup_unlock();
	BKP(SYSBOOT_BKP_ENTERED) = word;
	/* The same for a host, in RAM the ROM can read (romentry.h). */
	MMIO32(SYSBOOT_ROM_RECORD_ADDR) = word;
	MMIO32(SYSBOOT_ROM_RECORD_ADDR + 4u) = ~word;
	/* The reset flags told us this was our reset; the next boot starts clean. */
	MMIO32(RCC_BASE + RCC_CSR) |= RCC_CSR_RMVF;

	/*
	 * AN2606: the STM32L47x/48x ROM runs its dual-bank boot routine, and
	 * bounces back into flash, unless system memory is mapped at 0x0.
	 * SYSCFG_MEMRMP ignores writes while its clock is off (RM0351 6.4.21).
	 */
#ifndef SYSBOOT_TEST_SKIP_SYSCFG_CLOCK
	MMIO32(RCC_BASE + RCC_APB2ENR) |= RCC_APB2ENR_SYSCFGEN;
	(void)MMIO32(RCC_BASE + RCC_APB2ENR);
#endif
	MMIO32(SYSCFG_BASE + SYSCFG_MEMRMP) =
		(MMIO32(SYSCFG_BASE + SYSCFG_MEMRMP) & ~SYSCFG_MEMRMP_MEM_MODE) |
		SYSCFG_MEM_MODE_SYSMEM;
	__DSB();
	__ISB();

	/* AN2606: no SysTick, no enabled or pending interrupt at the jump. */
	sysboot_quiesce();

	/* The ROM's own vector table: word 0 its stack, word 1 its entry. */
	sp = MMIO32(STM32_SYSMEM_BASE);
	pc = MMIO32(STM32_SYSMEM_BASE + 4u);
	/*
	 * No stack may be used once MSP changes, so the switch, the interrupt
	 * enable (the USB DFU ROM relies on interrupts, AN2606) and the branch
	 * are one asm block.
	 */
	__asm__ volatile("msr msp, %0\n\t"
			 "cpsie i\n\t"
			 "bx %1"
			 : : "r"(sp), "r"(pc) : "memory");
	__builtin_unreachable();
}

void sysboot_early_check(void)
{
	uint32_t req = BKP(SYSBOOT_BKP_REQUEST);
	uint32_t chk = BKP(SYSBOOT_BKP_CHECK);
	uint32_t csr = MMIO32(RCC_BASE + RCC_CSR);

	if ((req & SYSBOOT_REQ_MAGIC_MASK) != SYSBOOT_REQ_MAGIC)
		return;

	/*
	 * Consume every request, valid or not, before acting on it: a stale
	 * or torn request must never bring the ROM back at every reset.
	 */
	backup_unlock();
	BKP(SYSBOOT_BKP_REQUEST) = 0;
	BKP(SYSBOOT_BKP_CHECK) = 0;
	if (chk != SYSBOOT_REQ_CHECK(req) || !(csr & RCC_CSR_SFTRSTF))
		return;

	BKP(SYSBOOT_BKP_REASON) = req & SYSBOOT_REQ_REASON_MASK;
	sysboot_enter_rom(SYSBOOT_ROM_WHY_REQUEST);
}
