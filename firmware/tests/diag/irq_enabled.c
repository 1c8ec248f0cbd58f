/*
 * irq_enabled.c - the jump with an interrupt still enabled in the NVIC.
 *
 * The application takes its commands through the USART2 receive
 * interrupt, which asks the main loop to enter the bootloader. The jump
 * stops what the application thinks of (SysTick) but leaves USART2's
 * interrupt enabled in the NVIC: the first byte the host sends to the ROM
 * lands in this application's handler, inside the ROM.
 * Everything else is done right. Trigger: "bootloader" on USART2.
 */
#include "diag.h"

#define USART(reg) MMIO32(USART2_BASE + (reg))

static volatile int want_bootloader;

void USART2_IRQHandler(void)
{
	static unsigned matched;

	if (diag_word_received((char)USART(USART_RDR), "bootloader", &matched))
		want_bootloader = 1;
}

static void jump_to_bootloader(void)
{
	uint32_t sp = MMIO32(STM32_SYSMEM_BASE);
	void (*boot)(void) = (void (*)(void))MMIO32(STM32_SYSMEM_BASE + 4u);

	__disable_irq();
	diag_systick_stop();
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
	USART(USART_CR1) |= USART_CR1_RXNEIE;
	MMIO32(NVIC_BASE + NVIC_ISER(IRQ_USART2 / 32u)) = 1u << (IRQ_USART2 % 32u); /* diagnose: irq */
	diag_puts("irq_enabled: send \"bootloader\"\r\n");
	while (!want_bootloader)
		__asm__ volatile("wfi");
	jump_to_bootloader();
	for (;;)
		;
}
