/*
 * flag_loop.c - a request flag that survives and loops the board into the
 * bootloader forever.
 *
 * The request is kept where it belongs, in an RTC backup register that a
 * reset does not clear, and acted on first thing in main(), right after
 * the reset: the jump is clean. But the flag is never cleared: when the
 * ROM hands control back (Go after an update, or a reset), main() finds
 * it again and goes straight back into the ROM, every time.
 * Trigger: "bootloader" on USART2.
 */
#include "diag.h"

#define BOOT_MAGIC 0xB007C0DEu
#define BKP0R      MMIO32(RTC_BASE + RTC_BKP0R)

static void jump_to_bootloader(void)
{
	uint32_t sp = MMIO32(STM32_SYSMEM_BASE);
	void (*boot)(void) = (void (*)(void))MMIO32(STM32_SYSMEM_BASE + 4u);

	diag_remap_sysmem();
	diag_set_msp(sp);
	__enable_irq();
	boot(); /* diagnose: branch */
}

int main(void)
{
	if (BKP0R == BOOT_MAGIC)
		jump_to_bootloader();
	diag_uart_init();
	diag_systick_start();
	diag_puts("flag_loop: send \"bootloader\"\r\n");
	diag_wait_command("bootloader");
	MMIO32(RCC_BASE + RCC_APB1ENR1) |= RCC_APB1ENR1_PWREN;
	(void)MMIO32(RCC_BASE + RCC_APB1ENR1);
	MMIO32(PWR_BASE + PWR_CR1) |= PWR_CR1_DBP;
	BKP0R = BOOT_MAGIC; /* diagnose: store */
	diag_system_reset();
}
