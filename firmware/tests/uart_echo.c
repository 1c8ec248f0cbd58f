/*
 * uart_echo.c - USART2 as the ROM bootloader and the application use it:
 * PA2/PA3 on AF7 (DS10198 table 17), 115200 baud from the 4 MHz MSI
 * (RM0351 40.5.4), polled. Prints "echo ready\r\n" and then sends back
 * every byte it receives; a received 0x04 (EOT) is echoed and ends the
 * test at test_done.
 *
 * test_result slots:
 *   0  bytes echoed
 *   1  USART_BRR (35 = 4 MHz / 115200, rounded)
 *   2  last byte received
 *   3  receive errors seen (ORE/FE/NF)
 */
#include "test.h"

#define USART(reg) MMIO32(USART2_BASE + (reg))
#define EOT 0x04u

static void putc_raw(uint32_t c)
{
	while (!(USART(USART_ISR) & USART_ISR_TXE))
		;
	USART(USART_TDR) = c;
}

int main(void)
{
	const char *s = "echo ready\r\n";
	uint32_t moder, c, isr;

	MMIO32(RCC_BASE + RCC_AHB2ENR) |= RCC_AHB2ENR_GPIOAEN;
	MMIO32(RCC_BASE + RCC_APB1ENR1) |= RCC_APB1ENR1_USART2EN;
	(void)MMIO32(RCC_BASE + RCC_APB1ENR1);
	MMIO32(GPIOA_BASE + GPIO_AFRL) =
		(MMIO32(GPIOA_BASE + GPIO_AFRL) & ~(0xFFu << 8)) |
		(GPIO_AF7 << 8) | (GPIO_AF7 << 12);
	moder = MMIO32(GPIOA_BASE + GPIO_MODER) & ~(0xFu << 4);
	MMIO32(GPIOA_BASE + GPIO_MODER) = moder | (GPIO_MODE_AF << 4) |
					  (GPIO_MODE_AF << 6);

	USART(USART_BRR) = (4000000u + 115200u / 2u) / 115200u;
	USART(USART_CR1) = USART_CR1_TE | USART_CR1_RE | USART_CR1_UE;
	test_result[1] = USART(USART_BRR);

	while (*s)
		putc_raw((uint8_t)*s++);

	for (;;) {
		isr = USART(USART_ISR);
		if (isr & (USART_ISR_ORE | USART_ISR_FE | USART_ISR_NF)) {
			test_result[3]++;
			USART(USART_ICR) = USART_ICR_ORECF | USART_ICR_FECF |
					   USART_ICR_NCF;
		}
		if (!(isr & USART_ISR_RXNE))
			continue;
		c = USART(USART_RDR) & 0xFFu;
		putc_raw(c);
		test_result[0]++;
		test_result[2] = c;
		if (c == EOT) {
			while (!(USART(USART_ISR) & USART_ISR_TC))
				;
			test_done();
		}
	}
}
