/*
 * ram_flag.c - the request flag kept in RAM that the C start-up code
 * zeroes before it is read.
 *
 * Entering the ROM right after a reset is the clean way (nothing the
 * application set up is left), so the application sets a flag and resets;
 * main() looks for the flag. But the flag is an ordinary variable, in
 * .bss: the start-up code zeroes .bss at every reset, before main() runs,
 * so main() never sees it and the board simply restarts.
 * The jump itself is done right. Trigger: "bootloader" on USART2.
 */
#include "diag.h"

#define BOOT_MAGIC 0xB007C0DEu

static uint32_t enter_bootloader_flag;

static void jump_to_bootloader(void)
{
	uint32_t sp = MMIO32(STM32_SYSMEM_BASE);
	void (*boot)(void) = (void (*)(void))MMIO32(STM32_SYSMEM_BASE + 4u);

	diag_remap_sysmem();
	diag_set_msp(sp);
	__enable_irq();
	boot();
}

int main(void)
{
	if (enter_bootloader_flag == BOOT_MAGIC) { /* diagnose: read */
		enter_bootloader_flag = 0;
		jump_to_bootloader();
	}
	diag_uart_init();
	diag_systick_start();
	diag_puts("ram_flag: send \"bootloader\"\r\n");
	diag_wait_command("bootloader");
	enter_bootloader_flag = BOOT_MAGIC; /* diagnose: store */
	diag_system_reset();
}
