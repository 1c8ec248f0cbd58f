/*
 * iwdg_short.c - the independent watchdog running, with a period shorter
 * than the ROM's start-up.
 *
 * The application runs a 1 s watchdog (prescaler /256, reload 124) and
 * refreshes it from its main loop. A started watchdog cannot be stopped,
 * so it keeps running in the ROM: the ROM sets the prescaler to /256 and
 * reloads it (AN2606), which leaves it at 1 s, and without an LSE the
 * ROM's start-up takes 2.56 s. The jump itself is done right.
 * Trigger: "bootloader" on USART2; diagnose with --no-lse.
 */
#include "diag.h"

#define IWDG(reg) MMIO32(IWDG_BASE + (reg))

static void watchdog_start(void)
{
	IWDG(IWDG_KR) = IWDG_KR_ENABLE; /* diagnose: iwdg */
	IWDG(IWDG_KR) = IWDG_KR_ACCESS;
	IWDG(IWDG_PR) = 6;                 /* /256: 8 ms per count at 32 kHz */
	IWDG(IWDG_RLR) = 124;              /* (124 + 1) * 8 ms = 1 s */
	IWDG(IWDG_KR) = IWDG_KR_REFRESH;
}

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
	__enable_irq();
	boot(); /* diagnose: branch */
}

int main(void)
{
	watchdog_start();
	diag_uart_init();
	diag_systick_start();
	diag_puts("iwdg_short: send \"bootloader\"\r\n");
	diag_wait_command("bootloader");
	IWDG(IWDG_KR) = IWDG_KR_REFRESH;
	jump_to_bootloader();
	for (;;)
		;
}
