/*
 * isr_jump.c - the jump made inside an interrupt handler.
 *
 * The command arrives through USART2's receive interrupt, and the handler
 * jumps to the ROM right there. The jump itself does everything AN2606
 * asks (SysTick, NVIC, clocks, remap, interrupts unmasked), but the CPU
 * is still in handler mode with the USART2 exception active: the ROM runs
 * at that priority and none of its own interrupts can be taken.
 * Trigger: "bootloader" on USART2.
 */
#include "diag.h"

#define USART(reg) MMIO32(USART2_BASE + (reg))

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

void USART2_IRQHandler(void)
{
	static unsigned matched;

	if (diag_word_received((char)USART(USART_RDR), "bootloader", &matched))
		jump_to_bootloader();
}

int main(void)
{
	diag_uart_init();
	diag_systick_start();
	USART(USART_CR1) |= USART_CR1_RXNEIE;
	MMIO32(NVIC_BASE + NVIC_ISER(IRQ_USART2 / 32u)) = 1u << (IRQ_USART2 % 32u);
	diag_puts("isr_jump: send \"bootloader\"\r\n");
	for (;;)
		__asm__ volatile("wfi");
}
