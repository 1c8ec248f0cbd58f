/*
 * systick_on.c - the jump with SysTick still running.
 *
 * The application's 1 ms SysTick (with its interrupt) is left on: it
 * fires inside the ROM as soon as the ROM unmasks interrupts. Everything
 * else is done right.
 * Trigger: "bootloader" on USART2.
 */
#include "diag.h"

static void jump_to_bootloader(void)
{
	uint32_t sp = MMIO32(STM32_SYSMEM_BASE);
	void (*boot)(void) = (void (*)(void))MMIO32(STM32_SYSMEM_BASE + 4u);

	__disable_irq();
	diag_nvic_clear();
	diag_clock_reset();
	diag_remap_sysmem();
	diag_set_msp(sp);
	__enable_irq();
	boot(); /* diagnose: branch */
}

int main(void)
{
	diag_uart_init();
	diag_systick_start();
	diag_puts("systick_on: send \"bootloader\"\r\n");
	diag_wait_command("bootloader");
	jump_to_bootloader();
	for (;;)
		;
}
