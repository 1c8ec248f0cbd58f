/*
 * even_address.c - a branch target without the Thumb bit.
 *
 * The ROM's reset handler address was copied from a disassembly, which
 * shows Thumb code at even addresses (0x1FFF0F68 on the emulated ROM; the
 * value stored at 0x1FFF0004 is 0x1FFF0F69). A Cortex-M only runs Thumb
 * code: a branch to an even address takes an INVSTATE usage fault.
 * Everything else is done right. The application calls enter_bootloader()
 * on "bootloader" from USART2; diagnose calls it directly, as a debugger
 * would (--trigger call:enter_bootloader).
 */
#include "diag.h"

#define ROM_RESET_HANDLER 0x1FFF0F68u

void enter_bootloader(void)
{
	__disable_irq();
	diag_systick_stop();
	diag_nvic_clear();
	diag_clock_reset();
	diag_remap_sysmem();
	diag_set_msp(MMIO32(STM32_SYSMEM_BASE));
	__enable_irq();
	((void (*)(void))ROM_RESET_HANDLER)(); /* diagnose: branch */
}

int main(void)
{
	diag_uart_init();
	diag_systick_start();
	diag_puts("even_address: send \"bootloader\"\r\n");
	diag_wait_command("bootloader");
	enter_bootloader();
	for (;;)
		;
}
