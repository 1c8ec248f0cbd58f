/*
 * no_remap.c - no remap at all.
 *
 * The classic jump: interrupts, SysTick, NVIC and clocks put back as
 * AN2606 asks, the ROM's stack pointer and entry point read from its
 * vector table, but system memory is never mapped at 0x0. The ROM's
 * dual-bank routine sees a valid stack pointer at the start of bank 1 and
 * jumps straight back into this application.
 * Trigger: B1 held for two seconds.
 */
#include "diag.h"

static void jump_to_bootloader(void)
{
	uint32_t sp = MMIO32(STM32_SYSMEM_BASE);
	void (*boot)(void) = (void (*)(void))MMIO32(STM32_SYSMEM_BASE + 4u);

	__disable_irq();
	diag_systick_stop();
	diag_nvic_clear();
	diag_clock_reset();
	diag_set_msp(sp);
	__enable_irq();
	boot(); /* diagnose: branch */
}

int main(void)
{
	diag_uart_init();
	diag_systick_start();
	diag_puts("no_remap: hold B1 for 2 s\r\n");
	diag_wait_button(2000);
	jump_to_bootloader();
	for (;;)
		;
}
