/*
 * primask.c - the jump with interrupts masked (PRIMASK set).
 *
 * "Disable all interrupts before the jump": __disable_irq(), and no
 * __enable_irq() after the NVIC is cleared. The ROM's USART protocol polls
 * and still works; its USB DFU runs on interrupts and never answers
 * (AN2606). Everything else is done right.
 * Trigger: "bootloader" on USART2; diagnose with --interface usb.
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
	diag_remap_sysmem();
	diag_set_msp(sp);
	boot(); /* diagnose: branch */
}

int main(void)
{
	diag_uart_init();
	diag_systick_start();
	diag_puts("primask: send \"bootloader\"\r\n");
	diag_wait_command("bootloader");
	jump_to_bootloader();
	for (;;)
		;
}
