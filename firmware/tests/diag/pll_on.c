/*
 * pll_on.c - the jump with the PLL still the system clock.
 *
 * The application runs at 80 MHz from the PLL and jumps to the ROM
 * without going back to the reset clock (AN2606: disable the PLL in use
 * before the jump). Everything else is done right.
 * Trigger: "bootloader" on USART2.
 */
#include "diag.h"

static void jump_to_bootloader(void)
{
	uint32_t sp = MMIO32(STM32_SYSMEM_BASE);
	void (*boot)(void) = (void (*)(void))MMIO32(STM32_SYSMEM_BASE + 4u);

	__disable_irq();
	diag_systick_stop();
	diag_nvic_clear();
	diag_remap_sysmem();
	diag_set_msp(sp);
	__enable_irq();
	boot(); /* diagnose: branch */
}

int main(void)
{
	diag_clock_pll_80mhz();
	diag_uart_init();
	diag_systick_start();
	diag_puts("pll_on: 80 MHz, send \"bootloader\"\r\n");
	diag_wait_command("bootloader");
	jump_to_bootloader();
	for (;;)
		;
}
