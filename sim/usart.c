/*
 * usart.c - the STM32L476 USART (RM0351 40) with bytes that take their time.
 *
 * Firmware talks to the USART registers; the model turns that into bytes on
 * a link, each taking one frame time (start bit, data bits including the
 * parity bit, stop bits) at the baud rate BRR gives with the bus clock.
 * That timing is what makes banners, command echoes and the bootloader's
 * protocol behave as on the real board, including overruns when firmware
 * reads too slowly and lost bytes while the receiver is disabled.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "link.h"

#define USART_ISR_RESET  (USART_ISR_TXE | USART_ISR_TC)
#define USART_RQR_RXFRQ  (1u << 3)
#define USART_CR3_OVRDIS (1u << 12)
#define USART_CR1_IDLEIE (1u << 4)
#define LOG_CAP          (1u << 20)

static uint32_t kernel_clock(const struct board *b, const struct usart *u)
{
	/* RCC_CCIPR may select other clocks; the reset choice is PCLK (documented). */
	return u->index == 1 ? rcc_pclk2_hz(b) : rcc_pclk1_hz(b);
}

static uint32_t baud_rate(const struct board *b, const struct usart *u)
{
	uint32_t div = u->brr & 0xFFFFu;
	uint64_t clk = kernel_clock(b, u);

	if (u->cr1 & USART_CR1_OVER8) {
		/* RM0351 40.5.4: BRR[2:0] holds USARTDIV[3:0] shifted right by one. */
		div = (div & 0xFFF0u) | ((div & 7u) << 1);
		return div ? (uint32_t)(2 * clk / div) : 0;
	}
	return div ? (uint32_t)(clk / div) : 0;
}

sim_time_t usart_frame_time(const struct board *b, const struct usart *u)
{
	unsigned m = ((u->cr1 & USART_CR1_M1) ? 2u : 0u) | ((u->cr1 & USART_CR1_M0) ? 1u : 0u);
	unsigned data = m == 1 ? 9u : m == 2 ? 7u : 8u;
	/* Stop bits in halves: 1, 0.5, 2, 1.5. */
	static const unsigned stop_halves[4] = { 2, 1, 4, 3 };
	unsigned halves = 2u * (1u + data) + stop_halves[(u->cr2 >> 12) & 3u];
	uint32_t baud = baud_rate(b, u);

	if (!baud)
		return SIM_MS(1);
	return SIM_S(1) * halves / 2u / baud;
}

static void update_irq(struct board *b, struct usart *u)
{
	bool level = ((u->cr1 & USART_CR1_RXNEIE) && (u->isr & (USART_ISR_RXNE | USART_ISR_ORE))) ||
		     ((u->cr1 & USART_CR1_TXEIE) && (u->isr & USART_ISR_TXE)) ||
		     ((u->cr1 & USART_CR1_TCIE) && (u->isr & USART_ISR_TC));

	if (!(u->cr1 & USART_CR1_UE))
		level = false;
	nvic_set_irq_level(b, u->irq, level);
}

static void log_byte(struct usart *u, uint8_t c)
{
	if (u->log_len == u->log_cap) {
		if (u->log_cap >= LOG_CAP) {
			/* Keep the newer half; offsets stay meaningful through log_base. */
			size_t half = u->log_len / 2;

			memmove(u->log, u->log + half, u->log_len - half);
			u->log_len -= half;
			u->log_base += half;
		} else {
			size_t cap = u->log_cap ? u->log_cap * 2 : 4096;
			char *p = realloc(u->log, cap);

			if (!p)
				return;
			u->log = p;
			u->log_cap = cap;
		}
	}
	u->log[u->log_len++] = (char)c;
}

/* ---- Transmitter ------------------------------------------------------------ */

static void start_shift(struct board *b, struct usart *u)
{
	u->shifting = true;
	sim_event_schedule(b, &u->tx_done, usart_frame_time(b, u));
}

static void tx_done(struct board *b, void *arg)
{
	struct usart *u = arg;

	/* The shift register is empty: the next byte, if any, moves in. */
	u->shifting = false;
	if (u->tdr_full) {
		u->tdr_full = false;
		u->isr |= USART_ISR_TXE;
		link_write(u->link, &u->tdr, 1);
		log_byte(u, u->tdr);
		start_shift(b, u);
	} else {
		u->isr |= USART_ISR_TC;
	}
	update_irq(b, u);
}

static void write_tdr(struct board *b, struct usart *u, uint8_t c)
{
	if (!(u->cr1 & USART_CR1_UE) || !(u->cr1 & USART_CR1_TE)) {
		board_trace(b, SIM_TRACE_UART, b->last_pc,
			    "USART%u: byte 0x%02x written to TDR while the transmitter is disabled (UE/TE clear): not sent",
			    u->index, c);
		return;
	}
	u->isr &= ~USART_ISR_TC;
	if (!u->shifting) {
		/* TDR moves straight into the shift register: the byte is on its way. */
		link_write(u->link, &c, 1);
		log_byte(u, c);
		start_shift(b, u);
	} else {
		if (u->tdr_full)
			board_trace(b, SIM_TRACE_UART, b->last_pc,
				    "USART%u: TDR written while full (TXE clear): previous byte 0x%02x lost",
				    u->index, u->tdr);
		u->tdr = c;
		u->tdr_full = true;
		u->isr &= ~USART_ISR_TXE;
	}
	update_irq(b, u);
}

/* ---- Receiver --------------------------------------------------------------- */

static void start_receive(struct board *b, struct usart *u)
{
	if (u->receiving || !u->line_count)
		return;
	u->receiving = true;
	sim_event_schedule(b, &u->rx_done, usart_frame_time(b, u));
}

static void rx_done(struct board *b, void *arg)
{
	struct usart *u = arg;
	uint8_t c = u->line[u->line_head];

	u->line_head = (u->line_head + 1u) % sizeof(u->line);
	u->line_count--;
	u->receiving = false;
	if (!(u->cr1 & USART_CR1_UE) || !(u->cr1 & USART_CR1_RE)) {
		if (!u->lost_traced)
			board_trace(b, SIM_TRACE_UART, b->last_pc,
				    "USART%u: byte 0x%02x arrived while the receiver is disabled (UE/RE clear): lost",
				    u->index, c);
		u->lost_traced = true;
	} else if (u->isr & USART_ISR_RXNE) {
		/* RM0351 40.5.3: the new byte is lost unless overrun detection is off. */
		if (!(u->cr3 & USART_CR3_OVRDIS)) {
			u->isr |= USART_ISR_ORE;
			board_trace(b, SIM_TRACE_UART, b->last_pc,
				    "USART%u: overrun, byte 0x%02x lost (RDR not read in time)", u->index, c);
		} else {
			u->rdr = c;
		}
	} else {
		u->rdr = c;
		u->isr |= USART_ISR_RXNE;
	}
	update_irq(b, u);
	start_receive(b, u);
}

void usart_poll(struct board *b, struct usart *u)
{
	uint8_t buf[256];
	size_t n, i;

	if (!u->link)
		return;
	while (u->line_count < sizeof(u->line) - sizeof(buf) &&
	       (n = link_read(u->link, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++) {
			u->line[(u->line_head + u->line_count) % sizeof(u->line)] = buf[i];
			u->line_count++;
		}
	}
	start_receive(b, u);
}

/* ---- Registers ---------------------------------------------------------------- */

uint32_t usart_reg_read(struct board *b, void *state, uint32_t off, unsigned size)
{
	struct usart *u = state;
	uint32_t v;

	(void)size;
	switch (off & ~3u) {
	case USART_CR1:
		return u->cr1;
	case USART_CR2:
		return u->cr2;
	case USART_CR3:
		return u->cr3;
	case USART_BRR:
		return u->brr;
	case USART_GTPR:
		return u->gtpr;
	case USART_RTOR:
		return u->rtor;
	case USART_ISR:
		v = u->isr;
		/* BUSY: a byte is being received. */
		if (u->receiving)
			v |= USART_ISR_BUSY;
		return v;
	case USART_RDR:
		v = u->rdr;
		u->isr &= ~USART_ISR_RXNE;
		update_irq(b, u);
		return v;
	case USART_TDR:
		return u->tdr;
	}
	return 0;
}

void usart_reg_write(struct board *b, void *state, uint32_t off, unsigned size, uint32_t val)
{
	struct usart *u = state;
	uint32_t old;

	(void)size;
	switch (off & ~3u) {
	case USART_CR1:
		old = u->cr1;
		u->cr1 = val;
		if (!(val & USART_CR1_UE)) {
			/* Disabling the USART stops both directions (RM0351 40.8.1). */
			sim_event_cancel(b, &u->tx_done);
			u->shifting = false;
			u->tdr_full = false;
			u->isr = USART_ISR_RESET;
		} else {
			u->isr = (u->isr & ~(USART_ISR_TEACK | USART_ISR_REACK)) |
				 ((val & USART_CR1_TE) ? USART_ISR_TEACK : 0) |
				 ((val & USART_CR1_RE) ? USART_ISR_REACK : 0);
			if (!(old & USART_CR1_UE) || ((old ^ val) & (USART_CR1_M0 | USART_CR1_M1 | USART_CR1_PCE)))
				board_trace(b, SIM_TRACE_UART, b->last_pc,
					    "USART%u enabled: %u baud, %s%s, TE=%u RE=%u", u->index,
					    baud_rate(b, u),
					    (val & USART_CR1_M0) ? "9-bit word" : "8-bit word",
					    (val & USART_CR1_PCE) ? ((val & USART_CR1_PS) ? " odd parity" : " even parity") : "",
					    !!(val & USART_CR1_TE), !!(val & USART_CR1_RE));
		}
		break;
	case USART_CR2:
		u->cr2 = val;
		break;
	case USART_CR3:
		u->cr3 = val;
		break;
	case USART_BRR:
		u->brr = val & 0xFFFFu;
		break;
	case USART_GTPR:
		u->gtpr = val;
		break;
	case USART_RTOR:
		u->rtor = val;
		break;
	case USART_RQR:
		if (val & USART_RQR_RXFRQ)
			u->isr &= ~USART_ISR_RXNE;
		break;
	case USART_ICR:
		u->isr &= ~(val & (USART_ICR_PECF | USART_ICR_FECF | USART_ICR_NCF | USART_ICR_ORECF |
				   USART_ICR_IDLECF | USART_ICR_TCCF));
		break;
	case USART_TDR:
		write_tdr(b, u, (uint8_t)val);
		break;
	}
	update_irq(b, u);
}

/* ---- Life cycle ----------------------------------------------------------------- */

int usart_init(struct board *b, struct usart *u, unsigned index,
	       const struct sim_link_config *lc, char *err, size_t errlen)
{
	static const uint32_t bases[3] = { USART1_BASE, USART2_BASE, USART3_BASE };
	static const unsigned irqs[3] = { IRQ_USART1, IRQ_USART2, IRQ_USART3 };
	static const char *const tx_names[3] = { "USART1 TX", "USART2 TX", "USART3 TX" };
	static const char *const rx_names[3] = { "USART1 RX", "USART2 RX", "USART3 RX" };

	(void)b;
	memset(u, 0, sizeof(*u));
	u->index = index;
	u->base = bases[index - 1];
	u->irq = irqs[index - 1];
	sim_event_init(&u->tx_done, tx_names[index - 1], tx_done, u);
	sim_event_init(&u->rx_done, rx_names[index - 1], rx_done, u);
	if (lc->kind != SIM_LINK_NONE) {
		char inner[256];

		u->link = link_open(lc, inner, sizeof(inner));
		if (!u->link) {
			snprintf(err, errlen, "USART%u: %s", index, inner);
			return -1;
		}
	}
	u->isr = USART_ISR_RESET;
	return 0;
}

void usart_fini(struct usart *u)
{
	link_close(u->link);
	u->link = NULL;
	free(u->log);
	u->log = NULL;
}

void usart_reset(struct board *b, struct usart *u)
{
	sim_event_cancel(b, &u->tx_done);
	sim_event_cancel(b, &u->rx_done);
	u->cr1 = u->cr2 = u->cr3 = u->brr = u->gtpr = u->rtor = u->rdr = 0;
	u->isr = USART_ISR_RESET;
	u->tdr_full = u->shifting = u->receiving = false;
	u->lost_traced = false;
	/* Bytes already on the wire keep arriving; the receiver is off now. */
	start_receive(b, u);
	nvic_set_irq_level(b, u->irq, false);
}

bool usart_output_contains(const struct usart *u, size_t from, const char *text)
{
	size_t n = strlen(text), start;

	if (from < u->log_base)
		from = u->log_base;
	start = from - u->log_base;
	if (!u->log || start > u->log_len || u->log_len - start < n)
		return false;
	return memmem(u->log + start, u->log_len - start, text, n) != NULL;
}

size_t usart_output_len(const struct usart *u)
{
	return u->log_base + u->log_len;
}
