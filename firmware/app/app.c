/*
 * app.c - the sysboot reference application.
 *
 * A deliberately ordinary Nucleo-L476RG application (blinking LD2, a
 * command line on the ST-LINK virtual COM port, USART2) showing the one
 * thing sysboot asks of an application: call sysboot_request_rom() to get
 * into the ROM bootloader. The host tool sends "bootloader" and waits for
 * the ROM; after an update it looks for the banner "sysboot reference
 * application vX.Y.Z" to confirm the new version runs.
 *
 * It receives with USART2's RXNE interrupt into a ring buffer and prints
 * with busy waits: the L476's USART holds one received byte (RDR, no
 * FIFO), so a command arriving while the application prints (its banner
 * right after a reset, an answer) would otherwise overrun after its first
 * byte and be lost.
 *
 * The version comes from the build (-DAPP_VERSION="\"1.0.0\""). An
 * application must keep a running independent watchdog refreshed, whether
 * the option bytes start it at reset (IWDG_SW = 0) or it starts it itself:
 * this one refreshes it in its main loop, and the variant built with
 * -DAPP_WATCHDOG_MS=N starts it with a timeout of about N ms (RM0351 32).
 */
#include <stdint.h>

#include "stm32l476/mmio.h"
#include "sysboot.h"

#ifndef APP_VERSION
#error "build with -DAPP_VERSION=\"\\\"X.Y.Z\\\"\""
#endif

#define HCLK_HZ          4000000u      /* MSI range 6 (RM0351 6.2.3) */
#define BAUD             115200u
#define BLINK_MS         500u
#define BUTTON_HOLD_MS   2000u
#define LINE_MAX         32u
/*
 * Received bytes wait here while the main loop prints. The longest answer
 * (an unknown command of LINE_MAX characters, 91 bytes) lasts as long as
 * 91 bytes take to arrive, so the ring holds them all; only a stream of
 * commands each answered at length outruns it.
 */
#define RX_RING_SIZE     128u          /* a power of two: the indexes wrap */
#define RX_BROKEN        0x100u        /* in the ring: bytes lost or damaged here */

#define USART(reg)       MMIO32(USART2_BASE + (reg))
#define IWDG(reg)        MMIO32(IWDG_BASE + (reg))
#define GPIO(port, reg)  MMIO32((port) + (reg))

typedef char rx_ring_size_is_a_power_of_two[(RX_RING_SIZE & (RX_RING_SIZE - 1u)) ? -1 : 1];

static volatile uint32_t ticks;

/* Written by USART2_IRQHandler only: head and the entries before it. */
static volatile uint16_t rx_ring[RX_RING_SIZE];
static volatile uint32_t rx_head;
/* Written by the main loop only. */
static volatile uint32_t rx_tail;
/* The interrupt found the ring full since its last RX_BROKEN. */
static int rx_lost;

void SysTick_Handler(void)
{
	ticks++;
}

/* RM0351 3.3.3: enough wait states for any clock the ROM may have used. */
#define FLASH_LATENCY_MAX 4u

static void flash_latency(uint32_t ws)
{
	MMIO32(FLASH_R_BASE + FLASH_ACR) =
		(MMIO32(FLASH_R_BASE + FLASH_ACR) & ~FLASH_ACR_LATENCY) | ws;
	/* RM0351 3.3.3: read back until the new latency is in effect. */
	while ((MMIO32(FLASH_R_BASE + FLASH_ACR) & FLASH_ACR_LATENCY) != ws)
		;
}

/*
 * After a reset this changes nothing. After a jump from the ROM (AN3155
 * Go) the clock tree is whatever the ROM left (AN2606: HSI16, and for USB
 * a 48 MHz clock from the PLL or the MSI), so go back to the reset clock
 * in an order that is safe from any of those: wait states up first, SYSCLK
 * to the MSI, only then the MSI down to 4 MHz (it may feed the PLL that
 * was SYSCLK), PLL off, wait states down last (RM0351 3.3.3, 6.2.3).
 */
static void clock_init(void)
{
	flash_latency(FLASH_LATENCY_MAX);
	MMIO32(RCC_BASE + RCC_CR) |= RCC_CR_MSION;
	while (!(MMIO32(RCC_BASE + RCC_CR) & RCC_CR_MSIRDY))
		;
	MMIO32(RCC_BASE + RCC_CFGR) = 0;   /* SW = MSI, all prescalers 1 */
	while (MMIO32(RCC_BASE + RCC_CFGR) & RCC_CFGR_SWS)
		;
	MMIO32(RCC_BASE + RCC_CR) = (MMIO32(RCC_BASE + RCC_CR) &
				     ~RCC_CR_MSIRANGE) |
				    RCC_CR_MSIRANGE_6 | RCC_CR_MSIRGSEL;
	MMIO32(RCC_BASE + RCC_CR) &= ~RCC_CR_PLLON;
	while (MMIO32(RCC_BASE + RCC_CR) & RCC_CR_PLLRDY)
		;
	flash_latency(0);
	/* USART2 clocked from PCLK1 (reset value), which BAUD assumes. */
	MMIO32(RCC_BASE + RCC_CCIPR) &= ~RCC_CCIPR_USART2SEL;

	MMIO32(SYSTICK_BASE + SYST_RVR) = HCLK_HZ / 1000u - 1u;
	MMIO32(SYSTICK_BASE + SYST_CVR) = 0;
	MMIO32(SYSTICK_BASE + SYST_CSR) = SYST_CSR_CLKSOURCE |
					  SYST_CSR_TICKINT | SYST_CSR_ENABLE;
}

static void gpio_mode(uint32_t port, unsigned pin, uint32_t mode)
{
	GPIO(port, GPIO_MODER) = (GPIO(port, GPIO_MODER) & ~(3u << (2u * pin))) |
				 (mode << (2u * pin));
}

static void gpio_af(uint32_t port, unsigned pin, uint32_t af)
{
	uint32_t reg = pin < 8u ? GPIO_AFRL : GPIO_AFRH;
	unsigned shift = 4u * (pin & 7u);

	GPIO(port, reg) = (GPIO(port, reg) & ~(0xFu << shift)) | (af << shift);
	gpio_mode(port, pin, GPIO_MODE_AF);
}

/* USART2 on PA2 (TX) / PA3 (RX), AF7 (DS10198 table 17), 115200 8N1. */
static void board_init(void)
{
	MMIO32(RCC_BASE + RCC_AHB2ENR) |= RCC_AHB2ENR_GPIOAEN |
					  RCC_AHB2ENR_GPIOCEN;
	MMIO32(RCC_BASE + RCC_APB1ENR1) |= RCC_APB1ENR1_USART2EN;
	(void)MMIO32(RCC_BASE + RCC_APB1ENR1);

	gpio_mode(GPIOA_BASE, NUCLEO_LD2_PIN, GPIO_MODE_OUTPUT);
	gpio_mode(GPIOC_BASE, NUCLEO_B1_PIN, GPIO_MODE_INPUT);
	gpio_af(GPIOA_BASE, 2, GPIO_AF7);
	gpio_af(GPIOA_BASE, 3, GPIO_AF7);

	/* The ROM may have left USART2 in 8E1 (AN3155): start from scratch. */
	USART(USART_CR1) = 0;
	USART(USART_CR2) = 0;
	USART(USART_CR3) = 0;
	USART(USART_BRR) = (HCLK_HZ + BAUD / 2u) / BAUD;  /* RM0351 40.5.4 */
	USART(USART_ICR) = 0xFFFFFFFFu;
	/*
	 * A receive interrupt the ROM's USART latched in the NVIC before CR1
	 * was cleared stays pending (PM0214): drop it, then take our own.
	 */
	MMIO32(NVIC_BASE + NVIC_ICPR(IRQ_USART2 / 32u)) = 1u << (IRQ_USART2 % 32u);
	USART(USART_CR1) = USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE |
			   USART_CR1_UE;
	MMIO32(NVIC_BASE + NVIC_ISER(IRQ_USART2 / 32u)) = 1u << (IRQ_USART2 % 32u);
}

/*
 * A refresh when no watchdog runs changes nothing (only 0xCCCC starts it),
 * so the application refreshes whichever watchdog the board has.
 */
static void watchdog_refresh(void)
{
	IWDG(IWDG_KR) = IWDG_KR_REFRESH;
}

#ifdef APP_WATCHDOG_MS
/* LSI 32 kHz / 32: one count per ms, reload up to 4095 (RM0351 32.3). */
static void watchdog_start(void)
{
	IWDG(IWDG_KR) = IWDG_KR_ENABLE;
	IWDG(IWDG_KR) = IWDG_KR_ACCESS;
	IWDG(IWDG_PR) = 3u;                       /* /32 */
	IWDG(IWDG_RLR) = (APP_WATCHDOG_MS) - 1u;
	while (IWDG(IWDG_SR))                     /* PVU, RVU: the values are taken */
		;
	watchdog_refresh();
}
#endif

/*
 * Queue v, or remember that it was lost. Where bytes went missing the ring
 * gets an RX_BROKEN as soon as it has room; a byte lost right behind that
 * mark needs no other, the line it ends is broken already.
 */
static void rx_put(uint16_t v)
{
	uint32_t head = rx_head;

	if (rx_lost && head - rx_tail < RX_RING_SIZE) {
		rx_ring[head++ % RX_RING_SIZE] = RX_BROKEN;
		rx_lost = 0;
		if (head - rx_tail == RX_RING_SIZE) {
			rx_head = head;
			return;
		}
	}
	if (head - rx_tail < RX_RING_SIZE)
		rx_ring[head++ % RX_RING_SIZE] = v;
	else
		rx_lost = 1;
	rx_head = head;
}

/*
 * RXNEIE raises this for RXNE and for ORE (RM0351 40.8.1). Only the error
 * flags seen are cleared: one set after the ISR read keeps the line up and
 * brings the handler back. ORE must be cleared or the receiver takes
 * nothing more (RM0351 40.5.3).
 */
void USART2_IRQHandler(void)
{
	uint32_t isr = USART(USART_ISR);
	uint32_t clear = 0;

	/* RDR first: after an overrun its byte came before the lost ones. */
	if (isr & USART_ISR_RXNE) {
		uint16_t c = (uint16_t)(USART(USART_RDR) & 0xFFu);

		/* FE and NF are raised with RXNE and describe this byte. */
		if (!(isr & (USART_ISR_FE | USART_ISR_NF)))
			rx_put(c);
	}
	if (isr & USART_ISR_ORE)
		clear |= USART_ICR_ORECF;
	if (isr & USART_ISR_FE)
		clear |= USART_ICR_FECF;
	if (isr & USART_ISR_NF)
		clear |= USART_ICR_NCF;
	if (clear) {
		USART(USART_ICR) = clear;
		rx_put(RX_BROKEN);
	}
}

/* The next entry of the ring, or -1 when it is empty. */
static int rx_get(void)
{
	uint32_t tail = rx_tail;
	int v;

	if (tail == rx_head)
		return -1;
	v = rx_ring[tail % RX_RING_SIZE];
	rx_tail = tail + 1u;
	return v;
}

static void uart_putc(char c)
{
	while (!(USART(USART_ISR) & USART_ISR_TXE))
		watchdog_refresh();
	USART(USART_TDR) = (uint8_t)c;
}

static void uart_puts(const char *s)
{
	while (*s)
		uart_putc(*s++);
}

/* Wait until the last stop bit has left (TC), e.g. before a reset. */
static void uart_flush(void)
{
	while (!(USART(USART_ISR) & USART_ISR_TC))
		watchdog_refresh();
}

static int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

static void run_command(const char *line)
{
	if (str_eq(line, "version")) {
		uart_puts("version " APP_VERSION "\r\n");
	} else if (str_eq(line, "bootloader")) {
		uart_puts("entering bootloader\r\n");
		uart_flush();
		sysboot_request_rom_reason(SYSBOOT_REASON_COMMAND);
	} else if (str_eq(line, "reset")) {
		uart_puts("resetting\r\n");
		uart_flush();
		sysboot_system_reset();
	} else {
		uart_puts("unknown command \"");
		uart_puts(line);
		uart_puts("\" (commands: version, bootloader, reset)\r\n");
	}
}

/* One entry from the ring into the line; a complete line is answered. */
static void take_input(void)
{
	static char line[LINE_MAX + 1];
	static unsigned len;
	static int too_long, broken;
	int v = rx_get();

	if (v < 0)
		return;
	if (v == RX_BROKEN) {
		broken = 1;
	} else if (v == '\r' || v == '\n') {
		line[len] = '\0';
		if (broken)
			uart_puts("line dropped (receive error)\r\n");
		else if (too_long)
			uart_puts("unknown command (line too long)\r\n");
		else if (len)
			run_command(line);
		len = 0;
		too_long = 0;
		broken = 0;
	} else if (len < LINE_MAX) {
		line[len++] = (char)v;
	} else {
		too_long = 1;
	}
}

int main(void)
{
	uint32_t last_blink = 0, pressed_since = 0;
	int pressed = 0;

	/* Entered by a jump from the ROM (AN3155 Go), nothing may be quiet. */
	__disable_irq();
	sysboot_quiesce();
	clock_init();
	board_init();
#ifdef APP_WATCHDOG_MS
	watchdog_start();
#endif
	__enable_irq();

	uart_puts("sysboot reference application v" APP_VERSION " (boot cause: ");
	uart_puts(sysboot_boot_cause_str(sysboot_boot_cause()));
	uart_puts(")\r\n");

	for (;;) {
		uint32_t now = ticks;

		watchdog_refresh();
		take_input();
		if (now - last_blink >= BLINK_MS) {
			last_blink = now;
			GPIO(GPIOA_BASE, GPIO_ODR) ^= 1u << NUCLEO_LD2_PIN;
		}
		if (!(GPIO(GPIOC_BASE, GPIO_IDR) & (1u << NUCLEO_B1_PIN))) {
			if (!pressed) {
				pressed = 1;
				pressed_since = now;
			} else if (now - pressed_since >= BUTTON_HOLD_MS) {
				uart_puts("entering bootloader\r\n");
				uart_flush();
				sysboot_request_rom_reason(SYSBOOT_REASON_BUTTON);
			}
		} else {
			pressed = 0;
		}
	}
}
