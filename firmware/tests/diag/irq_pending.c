/*
 * irq_pending.c - the jump with an interrupt left pending in the NVIC.
 *
 * The jump disables every interrupt in the NVIC (ICER) but clears none
 * (ICPR), then says goodbye on the serial line: the next byte from the
 * host, with USART2's receive interrupt still enabled in the USART, sets
 * the interrupt pending in the NVIC while it is disabled, and it is still
 * pending when the CPU reaches the ROM. Everything else is done right.
 * Trigger: "bootloader" on USART2 (the "\n" after the "\r" does it).
 */
#include "diag.h"

#define USART(reg) MMIO32(USART2_BASE + (reg))

static volatile int want_bootloader;

void USART2_IRQHandler(void)
{
	static unsigned matched;

	if (diag_word_received((char)USART(USART_RDR), "bootloader\r", &matched))
		want_bootloader = 1;
}

static void jump_to_bootloader(void)
{
	uint32_t sp = MMIO32(STM32_SYSMEM_BASE);
	void (*boot)(void) = (void (*)(void))MMIO32(STM32_SYSMEM_BASE + 4u);
	unsigned i;

	for (i = 0; i < NVIC_REG_WORDS; i++)
		MMIO32(NVIC_BASE + NVIC_ICER(i)) = 0xFFFFFFFFu;   /* but no ICPR */
	diag_puts("irq_pending: entering the bootloader\r\n");
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
	MMIO32(NVIC_BASE + NVIC_ISER(IRQ_USART2 / 32u)) = 1u << (IRQ_USART2 % 32u);
	diag_puts("irq_pending: send \"bootloader\"\r\n");
	while (!want_bootloader)
		__asm__ volatile("wfi");
	jump_to_bootloader();
	for (;;)
		;
}
