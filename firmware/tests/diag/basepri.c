/*
 * basepri.c - the jump from inside an RTOS critical section (BASEPRI set).
 *
 * An RTOS masks interrupts up to its "max syscall" priority by raising
 * BASEPRI (FreeRTOS: 0x50 on a Cortex-M4 with 4 priority bits), not with
 * PRIMASK. A jump to the bootloader from inside such a section leaves
 * BASEPRI set: __enable_irq() clears PRIMASK only. Whether the ROM's USB
 * interrupt is still taken depends on the priority the ROM gives it, which
 * ST does not document (sysboot-sim --rom-usb-priority); with the model's
 * default, 0x60, BASEPRI = 0x50 masks it and USB DFU never answers.
 * Everything else is done right.
 * Trigger: "bootloader" on USART2; diagnose with --interface usb.
 */
#include "diag.h"

#define RTOS_MAX_SYSCALL_PRIORITY 0x50u

static void jump_to_bootloader(void)
{
	uint32_t sp = MMIO32(STM32_SYSMEM_BASE);
	void (*boot)(void) = (void (*)(void))MMIO32(STM32_SYSMEM_BASE + 4u);

	__asm__ volatile("msr basepri, %0" : : "r"(RTOS_MAX_SYSCALL_PRIORITY) : "memory");
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
	diag_uart_init();
	diag_systick_start();
	diag_puts("basepri: send \"bootloader\"\r\n");
	diag_wait_command("bootloader");
	jump_to_bootloader();
	for (;;)
		;
}
