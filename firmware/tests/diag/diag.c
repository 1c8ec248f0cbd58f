/*
 * diag.c - the ordinary application parts of the diag firmwares (diag.h).
 */
#include "diag.h"

#define USART(reg)      MMIO32(USART2_BASE + (reg))
#define PLL_N           40u          /* 4 MHz * 40 / 2 = 80 MHz */
#define FLASH_WS_80MHZ  4u           /* RM0351 3.3.3, range 1 */

volatile uint32_t diag_ticks;
uint32_t diag_hclk = DIAG_MSI_HZ;

void SysTick_Handler(void)
{
	diag_ticks++;
}

static void flash_latency(uint32_t ws)
{
	MMIO32(FLASH_R_BASE + FLASH_ACR) =
		(MMIO32(FLASH_R_BASE + FLASH_ACR) & ~FLASH_ACR_LATENCY) | ws;
	while ((MMIO32(FLASH_R_BASE + FLASH_ACR) & FLASH_ACR_LATENCY) != ws)
		;
}

void diag_clock_pll_80mhz(void)
{
	flash_latency(FLASH_WS_80MHZ);
	MMIO32(RCC_BASE + RCC_PLLCFGR) = (1u << RCC_PLLCFGR_PLLSRC_Pos) |
					 (PLL_N << RCC_PLLCFGR_PLLN_Pos) |
					 RCC_PLLCFGR_PLLREN;
	MMIO32(RCC_BASE + RCC_CR) |= RCC_CR_PLLON;
	while (!(MMIO32(RCC_BASE + RCC_CR) & RCC_CR_PLLRDY))
		;
	MMIO32(RCC_BASE + RCC_CFGR) = RCC_CFGR_SW_PLL; /* diagnose: pll */
	while ((MMIO32(RCC_BASE + RCC_CFGR) & RCC_CFGR_SWS) !=
	       (RCC_CFGR_SW_PLL << RCC_CFGR_SWS_Pos))
		;
	diag_hclk = DIAG_PLL_HZ;
}

void diag_clock_reset(void)
{
	MMIO32(RCC_BASE + RCC_CR) |= RCC_CR_MSION;
	while (!(MMIO32(RCC_BASE + RCC_CR) & RCC_CR_MSIRDY))
		;
	MMIO32(RCC_BASE + RCC_CFGR) = RCC_CFGR_SW_MSI;
	while (MMIO32(RCC_BASE + RCC_CFGR) & RCC_CFGR_SWS)
		;
	MMIO32(RCC_BASE + RCC_CR) &= ~RCC_CR_PLLON;
	while (MMIO32(RCC_BASE + RCC_CR) & RCC_CR_PLLRDY)
		;
	flash_latency(0);
	diag_hclk = DIAG_MSI_HZ;
}

static void gpio_mode(uint32_t port, unsigned pin, uint32_t mode)
{
	MMIO32(port + GPIO_MODER) =
		(MMIO32(port + GPIO_MODER) & ~(3u << (2u * pin))) |
		(mode << (2u * pin));
}

void diag_uart_init(void)
{
	MMIO32(RCC_BASE + RCC_AHB2ENR) |= RCC_AHB2ENR_GPIOAEN |
					  RCC_AHB2ENR_GPIOCEN;
	MMIO32(RCC_BASE + RCC_APB1ENR1) |= RCC_APB1ENR1_USART2EN;
	(void)MMIO32(RCC_BASE + RCC_APB1ENR1);
	MMIO32(GPIOA_BASE + GPIO_AFRL) =
		(MMIO32(GPIOA_BASE + GPIO_AFRL) & ~(0xFFu << 8)) |
		(GPIO_AF7 << 8) | (GPIO_AF7 << 12);
	gpio_mode(GPIOA_BASE, 2, GPIO_MODE_AF);
	gpio_mode(GPIOA_BASE, 3, GPIO_MODE_AF);
	gpio_mode(GPIOC_BASE, NUCLEO_B1_PIN, GPIO_MODE_INPUT);
	USART(USART_CR1) = 0;
	USART(USART_BRR) = (diag_hclk + DIAG_BAUD / 2u) / DIAG_BAUD;
	USART(USART_CR1) = USART_CR1_TE | USART_CR1_RE | USART_CR1_UE;
}

static void uart_putc(char c)
{
	while (!(USART(USART_ISR) & USART_ISR_TXE))
		;
	USART(USART_TDR) = (uint8_t)c;
}

void diag_puts(const char *s)
{
	while (*s)
		uart_putc(*s++);
	while (!(USART(USART_ISR) & USART_ISR_TC))
		;
}

static int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* The application's main loop: it refreshes the watchdog when one runs. */
static void main_loop_tick(void)
{
	MMIO32(IWDG_BASE + IWDG_KR) = IWDG_KR_REFRESH;
}

int diag_word_received(char c, const char *word, unsigned *matched)
{
	if (c == word[*matched])
		return !word[++*matched];
	*matched = c == word[0];
	return 0;
}

void diag_wait_command(const char *cmd)
{
	char line[32];
	unsigned len = 0;

	for (;;) {
		uint32_t isr = USART(USART_ISR);
		char c;

		main_loop_tick();
		if (isr & USART_ISR_ORE)
			USART(USART_ICR) = USART_ICR_ORECF;
		if (!(isr & USART_ISR_RXNE))
			continue;
		c = (char)USART(USART_RDR);
		if (c != '\r' && c != '\n') {
			if (len < sizeof(line) - 1)
				line[len++] = c;
			continue;
		}
		line[len] = '\0';
		len = 0;
		if (str_eq(line, cmd))
			return;
	}
}

void diag_wait_button(uint32_t ms)
{
	uint32_t since = 0;
	int held = 0;

	for (;;) {
		int down = !(MMIO32(GPIOC_BASE + GPIO_IDR) & (1u << NUCLEO_B1_PIN));

		main_loop_tick();
		if (!down) {
			held = 0;
		} else if (!held) {
			held = 1;
			since = diag_ticks;
		} else if (diag_ticks - since >= ms) {
			return;
		}
	}
}

void diag_systick_start(void)
{
	MMIO32(SYSTICK_BASE + SYST_RVR) = diag_hclk / 1000u - 1u;
	MMIO32(SYSTICK_BASE + SYST_CVR) = 0;
	MMIO32(SYSTICK_BASE + SYST_CSR) = SYST_CSR_CLKSOURCE | /* diagnose: systick */
					  SYST_CSR_TICKINT | SYST_CSR_ENABLE;
	__enable_irq();
}

void diag_systick_stop(void)
{
	MMIO32(SYSTICK_BASE + SYST_CSR) = 0;
	MMIO32(SCB_BASE + SCB_ICSR) = SCB_ICSR_PENDSTCLR;
}

void diag_nvic_clear(void)
{
	unsigned i;

	for (i = 0; i < NVIC_REG_WORDS; i++) {
		MMIO32(NVIC_BASE + NVIC_ICER(i)) = 0xFFFFFFFFu;
		MMIO32(NVIC_BASE + NVIC_ICPR(i)) = 0xFFFFFFFFu;
	}
	__DSB();
	__ISB();
}

void diag_remap_sysmem(void)
{
	MMIO32(RCC_BASE + RCC_APB2ENR) |= RCC_APB2ENR_SYSCFGEN;
	(void)MMIO32(RCC_BASE + RCC_APB2ENR);
	MMIO32(SYSCFG_BASE + SYSCFG_MEMRMP) = SYSCFG_MEM_MODE_SYSMEM;
	__DSB();
	__ISB();
}

void diag_system_reset(void)
{
	__DSB();
	MMIO32(SCB_BASE + SCB_AIRCR) = SCB_AIRCR_VECTKEY |
				       (MMIO32(SCB_BASE + SCB_AIRCR) & SCB_AIRCR_PRIGROUP) |
				       SCB_AIRCR_SYSRESETREQ;
	__DSB();
	for (;;)
		;
}
