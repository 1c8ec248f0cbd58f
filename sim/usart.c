/*
 * usart.c - the STM32L476 USART (RM0351 section 40) with bytes that take
 * their time.
 *
 * Firmware talks to the USART registers; the model turns that into bytes on
 * a link, each taking one frame time (start bit, the word including its
 * parity bit, stop bits) at the baud rate BRR gives with the kernel clock.
 * That timing is what makes banners, command echoes and interrupt-driven
 * drivers behave as on the real board, including overruns when firmware
 * reads too slowly and bytes lost while the receiver is disabled.
 *
 * Modelling choices (RM0351 40.5 and 40.8):
 * - the kernel clock is PCLK2 for USART1 and PCLK1 for USART2/3, the reset
 *   selection of RCC_CCIPR; other selections (SYSCLK, HSI16, LSE) are not
 *   modelled;
 * - the line carries bytes: a 7-bit word loses bit 7, a 9-bit word without
 *   parity loses bit 8; with PCE the parity bit is the word's top bit and
 *   RDR shows it, as the chip does;
 * - TEACK/REACK follow TE/RE at once; the idle frame sent when TE is set,
 *   IDLE, the receiver timeout, LIN, smartcard, IrDA, auto baud rate,
 *   hardware flow control and DMA requests are not modelled;
 * - an overrun (ORE) loses the word that found RXNE set and every word
 *   after it until software clears ORE, as RM0351 40.5.3 says; with OVRDIS
 *   a new word replaces the unread one;
 * - a frame already on the line completes when TE is cleared; clearing UE
 *   discards it, and resets the ISR flags while keeping the configuration;
 * - the bits RM0351 lets software write only while UE=0 (word length,
 *   parity, OVER8, BRR, CR2, CR3.OVRDIS/ONEBIT) keep their value, with a
 *   trace, when written while the USART stays enabled;
 * - framing, parity and noise errors never come from a pty or TCP link
 *   (there is no electrical line); usart_inject_error() makes them for tests.
 */
#define _GNU_SOURCE             /* memmem */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "link.h"

/* ISR after reset or when UE is cleared: transmitter empty, nothing sent. */
#define ISR_RESET       (USART_ISR_TXE | USART_ISR_TC)
/* Bits RM0351 40.8 lets software change only while UE=0. */
#define CR1_LOCKED      (USART_CR1_M0 | USART_CR1_M1 | USART_CR1_OVER8 | USART_CR1_PCE | USART_CR1_PS)
#define CR3_LOCKED      (USART_CR3_OVRDIS | USART_CR3_ONEBIT)
/* Configuration bits whose change is worth a trace line. */
#define CR1_FRAMING     (CR1_LOCKED | USART_CR1_TE | USART_CR1_RE)
#define ISR_ERRORS      (USART_ISR_PE | USART_ISR_FE | USART_ISR_NF)
#define LOG_MAX         (1u << 20)

static uint32_t kernel_clock(const struct board *b, const struct usart *u)
{
	return u->index == 1 ? rcc_pclk2_hz(b) : rcc_pclk1_hz(b);
}

/* USARTDIV from BRR (RM0351 40.5.4); with OVER8, BRR[2:0] is USARTDIV[3:1]. */
static uint32_t usartdiv(const struct usart *u)
{
	uint32_t div = u->brr & 0xFFFFu;

	if (u->cr1 & USART_CR1_OVER8)
		div = (div & 0xFFF0u) | ((div & 7u) << 1);
	/* RM0351 40.5.4: BRR must be at least 16. */
	return div >= 16 ? div : 0;
}

uint32_t usart_baud(const struct board *b, const struct usart *u)
{
	uint64_t clk = kernel_clock(b, u);
	uint32_t div = usartdiv(u);

	if (!div)
		return 0;
	if (u->cr1 & USART_CR1_OVER8)
		clk *= 2;
	return (uint32_t)((clk + div / 2) / div);
}

/* Word length in bits (M1:M0 = 00: 8, 01: 9, 10: 7), parity bit included. */
static unsigned word_bits(const struct usart *u)
{
	if (u->cr1 & USART_CR1_M1)
		return 7;
	return (u->cr1 & USART_CR1_M0) ? 9 : 8;
}

static unsigned data_bits(const struct usart *u)
{
	return word_bits(u) - ((u->cr1 & USART_CR1_PCE) ? 1 : 0);
}

/* Stop bits in halves: STOP = 00: 1, 01: 0.5, 10: 2, 11: 1.5. */
static unsigned stop_halves(const struct usart *u)
{
	static const unsigned halves[4] = { 2, 1, 4, 3 };

	return halves[(u->cr2 & USART_CR2_STOP) >> USART_CR2_STOP_Pos];
}

sim_time_t usart_frame_time(const struct board *b, const struct usart *u)
{
	uint64_t clk = kernel_clock(b, u);
	uint64_t halves = 2u * (1u + word_bits(u)) + stop_halves(u);
	uint32_t div = usartdiv(u);

	/* Unusable BRR or no clock: keep the line moving, slowly, rather than stall it. */
	if (!div || !clk)
		return SIM_MS(1);
	/* A bit lasts USARTDIV / fck, half that with OVER8. */
	clk *= (u->cr1 & USART_CR1_OVER8) ? 4u : 2u;
	return SIM_S(1) * div * halves / clk;
}

static void trace(struct board *b, const struct usart *u, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void trace(struct board *b, const struct usart *u, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	board_trace(b, SIM_TRACE_UART, b->last_pc, "USART%u: %s", u->index, text);
}

/* Tell the configuration when the USART is enabled or its line changes. */
static void trace_config(struct board *b, struct usart *u)
{
	static const char *const stops[4] = { "1", "0.5", "2", "1.5" };
	uint32_t baud = usart_baud(b, u);
	uint32_t frame = u->cr1 & CR1_FRAMING;
	sim_time_t ft = usart_frame_time(b, u);
	char parity = 'N';

	if (u->cr1 & USART_CR1_PCE)
		parity = (u->cr1 & USART_CR1_PS) ? 'O' : 'E';
	frame |= u->cr2 & USART_CR2_STOP;
	if (baud == u->traced_baud && frame == u->traced_frame)
		return;
	u->traced_baud = baud;
	u->traced_frame = frame;
	if (!baud) {
		trace(b, u, "enabled with an unusable baud rate (BRR 0x%x, %s %u Hz): BRR must be at least 16; frames take 1 ms",
		      u->brr, u->index == 1 ? "PCLK2" : "PCLK1", kernel_clock(b, u));
		return;
	}
	trace(b, u, "%u baud (BRR %u, %s %u Hz, oversampling by %u), %u%c%s (%u-bit word), frame %.1f us, transmitter %s, receiver %s",
	      baud, u->brr, u->index == 1 ? "PCLK2" : "PCLK1", kernel_clock(b, u),
	      (u->cr1 & USART_CR1_OVER8) ? 8u : 16u, data_bits(u), parity,
	      stops[(u->cr2 & USART_CR2_STOP) >> USART_CR2_STOP_Pos], word_bits(u),
	      (double)ft / 1e6, (u->cr1 & USART_CR1_TE) ? "on" : "off",
	      (u->cr1 & USART_CR1_RE) ? "on" : "off");
}

static void update_irq(struct board *b, struct usart *u)
{
	uint32_t cr1 = u->cr1, isr = u->isr;
	bool level;

	level = ((cr1 & USART_CR1_RXNEIE) && (isr & (USART_ISR_RXNE | USART_ISR_ORE))) ||
		((cr1 & USART_CR1_TXEIE) && (isr & USART_ISR_TXE)) ||
		((cr1 & USART_CR1_TCIE) && (isr & USART_ISR_TC)) ||
		((cr1 & USART_CR1_PEIE) && (isr & USART_ISR_PE)) ||
		((u->cr3 & USART_CR3_EIE) && (isr & (USART_ISR_FE | USART_ISR_ORE | USART_ISR_NF)));
	/* A disabled USART (prescaler stopped) raises nothing. */
	nvic_set_irq_level(b, u->irq, level && (cr1 & USART_CR1_UE));
}

static void log_byte(struct usart *u, uint8_t c)
{
	if (u->log_len == u->log_cap) {
		if (u->log_cap >= LOG_MAX) {
			/* Keep the newer half; log_base keeps offsets meaningful. */
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

static bool tx_enabled(const struct usart *u)
{
	return (u->cr1 & (USART_CR1_UE | USART_CR1_TE)) == (USART_CR1_UE | USART_CR1_TE);
}

/* TDR moves into the shift register: TXE, and the frame starts. */
static void load_shift(struct board *b, struct usart *u)
{
	u->shift = u->tdr;
	u->tdr_full = false;
	u->isr |= USART_ISR_TXE;
	u->shifting = true;
	trace_config(b, u);          /* tells a baud rate changed by the clock */
	sim_event_schedule(b, &u->tx_done, usart_frame_time(b, u));
}

static void tx_done(struct board *b, void *arg)
{
	struct usart *u = arg;
	uint8_t c = (uint8_t)(u->shift & ((1u << data_bits(u)) - 1u));

	/* The stop bits are out: the byte has crossed the line. */
	u->shifting = false;
	link_write(u->link, &c, 1);
	log_byte(u, c);
	u->tx_last = b->now;
	if (u->tdr_full && tx_enabled(u))
		load_shift(b, u);
	else if (!u->tdr_full)
		u->isr |= USART_ISR_TC;
	update_irq(b, u);
}

static void write_tdr(struct board *b, struct usart *u, uint16_t val)
{
	if (!(u->cr1 & USART_CR1_UE)) {
		if (!u->tx_lost_traced)
			trace(b, u, "TDR written (0x%02x) while the USART is disabled (UE clear): not sent",
			      val);
		u->tx_lost_traced = true;
		return;
	}
	if (u->tdr_full)
		trace(b, u, "TDR written while TXE was clear: byte 0x%02x overwritten, never sent",
		      u->tdr);
	u->tdr = val;
	u->tdr_full = true;
	u->isr &= ~(USART_ISR_TXE | USART_ISR_TC);
	if (tx_enabled(u) && !u->shifting)
		load_shift(b, u);
}

/* ---- Receiver --------------------------------------------------------------- */

static bool rx_enabled(const struct usart *u)
{
	return (u->cr1 & (USART_CR1_UE | USART_CR1_RE)) == (USART_CR1_UE | USART_CR1_RE);
}

static void start_receive(struct board *b, struct usart *u)
{
	if (u->receiving || !u->line_count)
		return;
	u->receiving = true;
	if (rx_enabled(u))
		trace_config(b, u);
	sim_event_schedule(b, &u->rx_done, usart_frame_time(b, u));
}

static void line_put(struct usart *u, uint16_t v)
{
	u->line[(u->line_head + u->line_count) % USART_LINE_SIZE] = v;
	u->line_count++;
}

/* The word as it lands in RDR: data bits, and the parity bit above them. */
static uint16_t rx_word(const struct usart *u, uint8_t c, unsigned errors)
{
	unsigned n = data_bits(u);
	uint16_t word = (uint16_t)(c & ((1u << n) - 1u));
	unsigned ones = (unsigned)__builtin_popcount(word);
	unsigned p;

	if (!(u->cr1 & USART_CR1_PCE))
		return word;
	/* Even parity: the parity bit makes the count of ones even; odd: odd. */
	p = (ones & 1u) ^ ((u->cr1 & USART_CR1_PS) ? 1u : 0u);
	if (errors & USART_ERR_PE)
		p ^= 1u;
	return (uint16_t)(word | (p << n));
}

static void rx_done(struct board *b, void *arg)
{
	struct usart *u = arg;
	uint16_t v = u->line[u->line_head];
	uint8_t c = (uint8_t)v;
	unsigned errors = v >> 8;

	u->line_head = (u->line_head + 1u) % USART_LINE_SIZE;
	u->line_count--;
	u->receiving = false;
	if (!rx_enabled(u)) {
		u->rx_lost++;
		if (!u->rx_lost_traced)
			trace(b, u, "byte 0x%02x arrived while the receiver is disabled (UE/RE clear): lost (further losses until RE is set are not traced)",
			      c);
		u->rx_lost_traced = true;
	} else if ((u->isr & (USART_ISR_RXNE | USART_ISR_ORE)) && !(u->cr3 & USART_CR3_OVRDIS)) {
		/*
		 * RM0351 40.5.3: the new word is lost, RDR keeps the unread one,
		 * and every word received after it is lost too until software
		 * clears ORE (ICR.ORECF), even once RDR has been read.
		 */
		u->rx_lost++;
		if (!(u->isr & USART_ISR_ORE))
			trace(b, u, "overrun: byte 0x%02x lost, RDR was not read in time (ORE set)", c);
		else if (!(u->isr & USART_ISR_RXNE) && !u->ore_block_traced) {
			trace(b, u, "byte 0x%02x lost: ORE is still set, and nothing is received until ICR.ORECF clears it",
			      c);
			u->ore_block_traced = true;
		}
		u->isr |= USART_ISR_ORE;
	} else {
		/* With OVRDIS an unread word is simply replaced. */
		u->rdr = rx_word(u, c, errors);
		u->isr |= USART_ISR_RXNE;
		if (errors & USART_ERR_PE)
			u->isr |= USART_ISR_PE;
		if (errors & USART_ERR_FE)
			u->isr |= USART_ISR_FE;
		if (errors & USART_ERR_NF)
			u->isr |= USART_ISR_NF;
	}
	update_irq(b, u);
	start_receive(b, u);
}

void usart_poll(struct board *b, struct usart *u)
{
	uint8_t buf[256];
	size_t n, i, room;

	/* The ROM bootloader model reads USART2's link itself while it runs. */
	if (!u->link || b->mode == MODE_ROM)
		return;
	/* What does not fit on the line waits in the link (the host's buffers). */
	while ((room = USART_LINE_SIZE - u->line_count) > 0) {
		n = link_read(u->link, buf, room < sizeof(buf) ? room : sizeof(buf));
		if (!n)
			break;
		for (i = 0; i < n; i++)
			line_put(u, buf[i]);
	}
	start_receive(b, u);
}

void usart_inject_error(struct board *b, struct usart *u, uint8_t byte, unsigned errors)
{
	if (u->line_count == USART_LINE_SIZE)
		return;
	errors &= USART_ERR_PE | USART_ERR_FE | USART_ERR_NF;
	line_put(u, (uint16_t)(byte | (errors << 8)));
	start_receive(b, u);
}

size_t usart_take_line(struct board *b, struct usart *u, uint8_t *buf, size_t cap)
{
	size_t n = 0;

	if (u->receiving) {
		sim_event_cancel(b, &u->rx_done);
		u->receiving = false;
	}
	while (n < cap && u->line_count) {
		buf[n++] = (uint8_t)u->line[u->line_head];
		u->line_head = (u->line_head + 1u) % USART_LINE_SIZE;
		u->line_count--;
	}
	start_receive(b, u);
	return n;
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
		/* BUSY: a word is being received. */
		if (u->receiving && rx_enabled(u))
			v |= USART_ISR_BUSY;
		return v;
	case USART_RDR:
		v = u->rdr;
		u->isr &= ~USART_ISR_RXNE;
		update_irq(b, u);
		return v;
	case USART_TDR:
		return u->tdr;
	default:
		/* RQR and ICR are write-only and read as 0, so are the gaps. */
		return 0;
	}
}

/* Bits software may only change while UE=0 keep their value, with a word why. */
static uint32_t locked_bits(struct board *b, struct usart *u, const char *reg, uint32_t old,
			    uint32_t val, uint32_t mask)
{
	if (!(u->cr1 & USART_CR1_UE) || !((old ^ val) & mask))
		return val;
	trace(b, u, "%s bits 0x%x written while UE=1: ignored (RM0351 40.8: writable only while the USART is disabled)",
	      reg, (old ^ val) & mask);
	return (val & ~mask) | (old & mask);
}

static void write_cr1(struct board *b, struct usart *u, uint32_t val)
{
	uint32_t old = u->cr1;
	bool was_rx = rx_enabled(u);

	/* Only a write that keeps the USART enabled is bound by the lock. */
	if (val & USART_CR1_UE)
		val = locked_bits(b, u, "CR1", old, val, CR1_LOCKED);
	u->cr1 = val;
	if (!(val & USART_CR1_UE)) {
		if (old & USART_CR1_UE) {
			/* RM0351 40.8.1 UE: current operations are discarded, flags reset. */
			sim_event_cancel(b, &u->tx_done);
			u->shifting = false;
			u->tdr_full = false;
			u->isr = ISR_RESET;
			u->ore_block_traced = false;
			u->traced_baud = u->traced_frame = 0;
		}
		return;
	}
	u->isr &= ~(USART_ISR_TEACK | USART_ISR_REACK);
	if (val & USART_CR1_TE)
		u->isr |= USART_ISR_TEACK;
	if (val & USART_CR1_RE)
		u->isr |= USART_ISR_REACK;
	/* A new episode of a disabled receiver gets its own trace line. */
	if (rx_enabled(u) && !was_rx)
		u->rx_lost_traced = false;
	if (!(old & USART_CR1_UE))
		u->tx_lost_traced = false;
	trace_config(b, u);
	/* A word left waiting in TDR goes once the transmitter is on. */
	if (tx_enabled(u) && u->tdr_full && !u->shifting)
		load_shift(b, u);
}

void usart_reg_write(struct board *b, void *state, uint32_t off, unsigned size, uint32_t val)
{
	struct usart *u = state;

	(void)size;
	switch (off & ~3u) {
	case USART_CR1:
		write_cr1(b, u, val);
		break;
	case USART_CR2:
		u->cr2 = locked_bits(b, u, "CR2", u->cr2, val, 0xFFFFFFFFu);
		break;
	case USART_CR3:
		u->cr3 = locked_bits(b, u, "CR3", u->cr3, val, CR3_LOCKED);
		break;
	case USART_BRR:
		u->brr = locked_bits(b, u, "BRR", u->brr, val & 0xFFFFu, 0xFFFFu);
		break;
	case USART_GTPR:
		u->gtpr = val & 0xFFFFu;
		break;
	case USART_RTOR:
		u->rtor = val;
		break;
	case USART_RQR:
		if (val & USART_RQR_RXFRQ)
			u->isr &= ~USART_ISR_RXNE;
		break;
	case USART_ICR:
		if (val & USART_ICR_PECF)
			u->isr &= ~USART_ISR_PE;
		if (val & USART_ICR_FECF)
			u->isr &= ~USART_ISR_FE;
		if (val & USART_ICR_NCF)
			u->isr &= ~USART_ISR_NF;
		if (val & USART_ICR_ORECF) {
			u->isr &= ~USART_ISR_ORE;
			u->ore_block_traced = false;
		}
		if (val & USART_ICR_IDLECF)
			u->isr &= ~USART_ISR_IDLE;
		if (val & USART_ICR_TCCF)
			u->isr &= ~USART_ISR_TC;
		break;
	case USART_TDR:
		write_tdr(b, u, (uint16_t)(val & 0x1FFu));
		break;
	default:
		/* ISR and RDR are read-only. */
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
	char inner[400];

	(void)b;
	if (index < 1 || index > 3) {
		snprintf(err, errlen, "there is no USART%u on this board (USART1..3)", index);
		return -1;
	}
	memset(u, 0, sizeof(*u));
	u->index = index;
	u->base = bases[index - 1];
	u->irq = irqs[index - 1];
	u->isr = ISR_RESET;
	sim_event_init(&u->tx_done, tx_names[index - 1], tx_done, u);
	sim_event_init(&u->rx_done, rx_names[index - 1], rx_done, u);
	if (lc && lc->kind != SIM_LINK_NONE) {
		u->link = link_open(lc, inner, sizeof(inner));
		if (!u->link) {
			snprintf(err, errlen, "USART%u: %s", index, inner);
			u->index = 0;
			return -1;
		}
	}
	return 0;
}

void usart_fini(struct usart *u)
{
	link_close(u->link);
	u->link = NULL;
	free(u->log);
	u->log = NULL;
	u->log_len = u->log_cap = 0;
	u->index = 0;
}

void usart_reset(struct board *b, struct usart *u)
{
	sim_event_cancel(b, &u->tx_done);
	sim_event_cancel(b, &u->rx_done);
	u->cr1 = u->cr2 = u->cr3 = u->brr = u->gtpr = u->rtor = 0;
	u->rdr = u->tdr = u->shift = 0;
	u->isr = ISR_RESET;
	u->tdr_full = u->shifting = u->receiving = false;
	u->tx_lost_traced = u->rx_lost_traced = u->ore_block_traced = false;
	u->traced_baud = u->traced_frame = 0;
	/* Bytes already on their way keep arriving, at a receiver that is off. */
	start_receive(b, u);
	nvic_set_irq_level(b, u->irq, false);
}

bool usart_output_contains(const struct usart *u, size_t from, const char *text)
{
	size_t n = strlen(text), start;

	if (from < u->log_base)
		from = u->log_base;
	start = from - u->log_base;
	if (start > u->log_len || u->log_len - start < n)
		return false;
	if (!n)
		return true;
	return memmem(u->log + start, u->log_len - start, text, n) != NULL;
}

size_t usart_output_len(const struct usart *u)
{
	return u->log_base + u->log_len;
}
