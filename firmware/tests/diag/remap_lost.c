/*
 * remap_lost.c - the remap written while the SYSCFG clock is off.
 *
 * AN2606 says to switch peripheral clocks off before the jump, so this
 * firmware clears RCC_APB2ENR (what a clock de-initialisation does) and
 * then writes SYSCFG_MEMRMP: with SYSCFGEN clear the write is lost, 0x0
 * still shows flash, and the ROM's dual-bank routine jumps straight back
 * into the application. Everything else is done right.
 * Trigger: "bootloader" on USART2.
 */
#include "diag.h"

void jump_to_bootloader(void)
{
	void (*boot)(void) = (void (*)(void))MMIO32(STM32_SYSMEM_BASE + 4u);

	__disable_irq();
	diag_systick_stop();
	diag_nvic_clear();
	diag_clock_reset();
	MMIO32(RCC_BASE + RCC_APB2ENR) = 0;        /* peripheral clocks off */
	MMIO32(SYSCFG_BASE + SYSCFG_MEMRMP) = SYSCFG_MEM_MODE_SYSMEM; /* diagnose: lost */
	__DSB();
	__ISB();
	diag_set_msp(MMIO32(STM32_SYSMEM_BASE));
	__enable_irq();
	boot(); /* diagnose: branch */
}

int main(void)
{
	diag_uart_init();
	diag_systick_start();
	diag_puts("remap_lost: send \"bootloader\"\r\n");
	diag_wait_command("bootloader");
	jump_to_bootloader();
	for (;;)
		;
}
