/*
 * vector_table.c - the function pointer built from the address 0x1FFF0004
 * instead of the value stored there.
 *
 * 0x1FFF0004 is the second word of the ROM's vector table: it holds the
 * address of the ROM's reset handler. Casting 0x1FFF0004 itself to a
 * function pointer jumps into the table (an even address, so a Cortex-M
 * takes an INVSTATE usage fault at once). Everything else is done right.
 * Trigger: none, it jumps after start-up (diagnose --trigger reset).
 */
#include "diag.h"

void jump_to_bootloader(void)
{
	void (*boot)(void) = (void (*)(void))0x1FFF0004u;

	__disable_irq();
	diag_systick_stop();
	diag_nvic_clear();
	diag_clock_reset();
	diag_remap_sysmem();
	diag_set_msp(MMIO32(STM32_SYSMEM_BASE));
	__enable_irq();
	boot(); /* diagnose: branch */
}

int main(void)
{
	diag_uart_init();
	diag_systick_start();
	diag_puts("vector_table: jumping to the bootloader\r\n");
	jump_to_bootloader();
	for (;;)
		;
}
