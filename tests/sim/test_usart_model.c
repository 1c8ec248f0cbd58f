/*
 * test_usart_model.c - the USART model at register level, without firmware.
 *
 * Firmware drivers, the "run until text appears" stop and the timing the
 * host tools see all rest on the USART's flags and frame times being
 * right, so these tests drive USART2 through its registers the way a
 * driver would and check flags, the interrupt line, timing to the
 * picosecond and what crosses the memory link.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "board.h"
#include "link.h"

/* 115200 baud from the 4 MHz reset clock: BRR = 4000000 / 115200 = 35 (34.7). */
#define BRR_115200  35u
#define FRAME_8N1   SIM_NS(87500)     /* 10 bits of 35 / 4 MHz = 8.75 us */

struct fx {
	struct sim_board *sb;
	struct board *b;
	struct usart *u;
};

static int setup(void **state)
{
	struct sim_config cfg;
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	if (!f)
		return -1;
	sim_config_default(&cfg);
	cfg.usart[1].kind = SIM_LINK_MEMORY;
	cfg.usart[1].path = NULL;
	f->sb = sim_board_new(&cfg, err, sizeof(err));
	if (!f->sb) {
		fprintf(stderr, "sim_board_new: %s\n", err);
		free(f);
		return -1;
	}
	sim_power_on(f->sb);
	f->b = board_of(f->sb);
	f->u = &f->b->usart[1];
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sim_board_free(f->sb);
	free(f);
	return 0;
}

static uint32_t rd(struct fx *f, uint32_t off)
{
	return usart_reg_read(f->b, f->u, off, 4);
}

static void wr(struct fx *f, uint32_t off, uint32_t val)
{
	usart_reg_write(f->b, f->u, off, 4, val);
}

static bool isr(struct fx *f, uint32_t flag)
{
	return (rd(f, USART_ISR) & flag) != 0;
}

static bool irq_line(struct fx *f)
{
	return f->b->nvic.level[EXC_IRQ0 + IRQ_USART2] != 0;
}

static void advance(struct fx *f, sim_time_t t)
{
	assert_true(board_advance(f->b, t));
}

static void enable(struct fx *f, uint32_t cr1_extra)
{
	wr(f, USART_BRR, BRR_115200);
	wr(f, USART_CR1, USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | cr1_extra);
}

/* Bytes as if the host sent them, moved onto the line by the core's poll. */
static void host_sends(struct fx *f, const char *data, size_t len)
{
	sim_uart_send(f->sb, 2, data, len);
	usart_poll(f->b, f->u);
}

static bool traced(struct fx *f, const char *needle)
{
	return sim_trace_find(f->sb, 0, SIM_TRACE_UART, needle) != NULL;
}

static void test_reset_values(void **state)
{
	struct fx *f = *state;
	static const uint32_t zero[] = { USART_CR1, USART_CR2, USART_CR3, USART_BRR, USART_GTPR,
					 USART_RTOR, USART_RQR, USART_ICR, USART_RDR, USART_TDR };
	size_t i;

	for (i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		assert_int_equal(rd(f, zero[i]), 0);
	assert_int_equal(rd(f, USART_ISR), USART_ISR_TXE | USART_ISR_TC);
	enable(f, 0);
	assert_true(isr(f, USART_ISR_TEACK));
	assert_true(isr(f, USART_ISR_REACK));
	assert_true(traced(f, "USART2: 114286 baud (BRR 35, PCLK1 4000000 Hz, oversampling by 16), 8N1"));
	wr(f, USART_CR1, USART_CR1_UE | USART_CR1_RE);
	assert_false(isr(f, USART_ISR_TEACK));
	usart_reset(f->b, f->u);
	assert_int_equal(rd(f, USART_CR1), 0);
	assert_int_equal(rd(f, USART_BRR), 0);
	assert_int_equal(rd(f, USART_ISR), USART_ISR_TXE | USART_ISR_TC);
}

static void test_frame_times(void **state)
{
	struct fx *f = *state;

	enable(f, 0);
	assert_int_equal(usart_frame_time(f->b, f->u), FRAME_8N1);
	assert_int_equal(usart_baud(f->b, f->u), 114286);
	/* 8E1 as the ROM uses it: M0 gives a 9-bit word that holds the parity bit. */
	wr(f, USART_CR1, 0);
	enable(f, USART_CR1_M0 | USART_CR1_PCE);
	assert_int_equal(usart_frame_time(f->b, f->u), SIM_NS(96250));
	assert_true(traced(f, "8E1 (9-bit word)"));
	/* 7-bit word (M1), odd parity: 6 data bits + parity, 9 bits. */
	wr(f, USART_CR1, 0);
	enable(f, USART_CR1_M1 | USART_CR1_PCE | USART_CR1_PS);
	assert_int_equal(usart_frame_time(f->b, f->u), SIM_NS(78750));
	assert_true(traced(f, "6O1 (7-bit word)"));
	/* Two stop bits, then half a stop bit. */
	wr(f, USART_CR1, 0);
	wr(f, USART_CR2, 2u << USART_CR2_STOP_Pos);
	enable(f, 0);
	assert_int_equal(usart_frame_time(f->b, f->u), SIM_NS(96250));
	wr(f, USART_CR1, 0);
	wr(f, USART_CR2, 1u << USART_CR2_STOP_Pos);
	enable(f, 0);
	assert_int_equal(usart_frame_time(f->b, f->u), SIM_NS(83125));
	/* OVER8: USARTDIV 70 is written as BRR 0x43 (RM0351 40.5.4). */
	wr(f, USART_CR1, 0);
	wr(f, USART_CR2, 0);
	wr(f, USART_BRR, 0x43);
	wr(f, USART_CR1, USART_CR1_UE | USART_CR1_TE | USART_CR1_OVER8);
	assert_int_equal(usart_baud(f->b, f->u), 114286);
	assert_int_equal(usart_frame_time(f->b, f->u), FRAME_8N1);
	/* USARTDIV[0] has no place in BRR: 0x42 means 68, not 69. */
	wr(f, USART_CR1, 0);
	wr(f, USART_BRR, 0x42);
	wr(f, USART_CR1, USART_CR1_UE | USART_CR1_TE | USART_CR1_OVER8);
	assert_int_equal(usart_baud(f->b, f->u), 117647);
}

/* USART2 runs from PCLK1, USART1 from PCLK2. */
static void test_kernel_clock(void **state)
{
	struct fx *f = *state;
	struct usart *u1 = &f->b->usart[0];

	enable(f, 0);
	usart_reg_write(f->b, u1, USART_BRR, 4, BRR_115200);
	usart_reg_write(f->b, u1, USART_CR1, 4, USART_CR1_UE | USART_CR1_TE);
	/* APB1 prescaler /2 (RCC_CFGR.PPRE1 = 100). */
	f->b->rcc.cfgr |= 4u << 8;
	assert_int_equal(usart_baud(f->b, f->u), 57143);
	assert_int_equal(usart_frame_time(f->b, f->u), 2 * FRAME_8N1);
	assert_int_equal(usart_baud(f->b, u1), 114286);
	/* The next frame tells the new rate. */
	wr(f, USART_TDR, 'x');
	assert_true(traced(f, "USART2: 57143 baud (BRR 35, PCLK1 2000000 Hz"));
}

static void test_unusable_brr(void **state)
{
	struct fx *f = *state;

	wr(f, USART_BRR, 15);
	wr(f, USART_CR1, USART_CR1_UE | USART_CR1_TE);
	assert_int_equal(usart_baud(f->b, f->u), 0);
	assert_true(traced(f, "unusable baud rate (BRR 0xf, PCLK1 4000000 Hz): BRR must be at least 16"));
}

static void test_transmit_timing(void **state)
{
	struct fx *f = *state;
	char out[8] = "";

	enable(f, 0);
	wr(f, USART_TDR, 'A');
	/* Straight into the shift register: TXE again, TC cleared. */
	assert_true(isr(f, USART_ISR_TXE));
	assert_false(isr(f, USART_ISR_TC));
	wr(f, USART_TDR, 'B');
	assert_false(isr(f, USART_ISR_TXE));
	/* A is on the line for one frame; it crosses it at the very end. */
	advance(f, FRAME_8N1 - 1);
	assert_int_equal(sim_uart_take(f->sb, 2, out, sizeof(out)), 0);
	assert_int_equal(usart_output_len(f->u), 0);
	advance(f, 1);
	assert_int_equal(sim_uart_take(f->sb, 2, out, sizeof(out)), 1);
	assert_int_equal(out[0], 'A');
	/* B moved into the shift register: TXE, but not TC yet. */
	assert_true(isr(f, USART_ISR_TXE));
	assert_false(isr(f, USART_ISR_TC));
	advance(f, FRAME_8N1);
	assert_int_equal(sim_uart_take(f->sb, 2, out, sizeof(out)), 1);
	assert_int_equal(out[0], 'B');
	assert_true(isr(f, USART_ISR_TC));
	assert_true(usart_output_contains(f->u, 0, "AB"));
	assert_false(usart_output_contains(f->u, 1, "AB"));
	assert_true(usart_output_contains(f->u, 1, "B"));
	assert_int_equal(usart_output_len(f->u), 2);
	/* TC clears through ICR. */
	wr(f, USART_ICR, USART_ICR_TCCF);
	assert_false(isr(f, USART_ISR_TC));
}

static void test_transmit_overwrite_and_disabled(void **state)
{
	struct fx *f = *state;
	char out[8] = "";

	/* Nothing goes out of a disabled USART. */
	wr(f, USART_TDR, 'z');
	advance(f, SIM_MS(1));
	assert_int_equal(usart_output_len(f->u), 0);
	assert_true(traced(f, "TDR written (0x7a) while the USART is disabled (UE clear): not sent"));

	enable(f, 0);
	wr(f, USART_TDR, '1');
	wr(f, USART_TDR, '2');
	wr(f, USART_TDR, '3');        /* TXE was clear: '2' is overwritten */
	assert_true(traced(f, "TDR written while TXE was clear: byte 0x32 overwritten"));
	advance(f, 2 * FRAME_8N1);
	assert_int_equal(sim_uart_take(f->sb, 2, out, sizeof(out)), 2);
	assert_memory_equal(out, "13", 2);

	/* Clearing UE mid-frame discards the frame and resets the flags. */
	wr(f, USART_TDR, '4');
	wr(f, USART_TDR, '5');
	advance(f, FRAME_8N1 / 2);
	wr(f, USART_CR1, USART_CR1_TE);
	assert_int_equal(rd(f, USART_ISR), USART_ISR_TXE | USART_ISR_TC);
	advance(f, 3 * FRAME_8N1);
	assert_int_equal(sim_uart_take(f->sb, 2, out, sizeof(out)), 0);
}

/* A word waits in TDR while TE is clear and goes when TE is set. */
static void test_transmit_waits_for_te(void **state)
{
	struct fx *f = *state;
	char out[4];

	wr(f, USART_BRR, BRR_115200);
	wr(f, USART_CR1, USART_CR1_UE);
	wr(f, USART_TDR, 'w');
	assert_false(isr(f, USART_ISR_TXE));
	advance(f, 2 * FRAME_8N1);
	assert_int_equal(usart_output_len(f->u), 0);
	wr(f, USART_CR1, USART_CR1_UE | USART_CR1_TE);
	assert_true(isr(f, USART_ISR_TXE));
	advance(f, FRAME_8N1);
	assert_int_equal(sim_uart_take(f->sb, 2, out, sizeof(out)), 1);
	assert_int_equal(out[0], 'w');
	assert_true(isr(f, USART_ISR_TC));
}

static void test_receive_timing(void **state)
{
	struct fx *f = *state;

	enable(f, 0);
	host_sends(f, "xy", 2);
	assert_true(isr(f, USART_ISR_BUSY));
	advance(f, FRAME_8N1 - 1);
	assert_false(isr(f, USART_ISR_RXNE));
	advance(f, 1);
	assert_true(isr(f, USART_ISR_RXNE));
	assert_int_equal(rd(f, USART_RDR), 'x');
	assert_false(isr(f, USART_ISR_RXNE));
	/* The second byte follows one frame after the first. */
	advance(f, FRAME_8N1 - 1);
	assert_false(isr(f, USART_ISR_RXNE));
	advance(f, 1);
	assert_int_equal(rd(f, USART_RDR), 'y');
	assert_false(isr(f, USART_ISR_BUSY));
	/* RQR.RXFRQ drops an unread word. */
	host_sends(f, "z", 1);
	advance(f, FRAME_8N1);
	assert_true(isr(f, USART_ISR_RXNE));
	wr(f, USART_RQR, USART_RQR_RXFRQ);
	assert_false(isr(f, USART_ISR_RXNE));
}

static void test_receive_overrun(void **state)
{
	struct fx *f = *state;

	enable(f, 0);
	host_sends(f, "abc", 3);
	advance(f, 3 * FRAME_8N1);
	assert_true(isr(f, USART_ISR_ORE));
	assert_true(isr(f, USART_ISR_RXNE));
	assert_int_equal(rd(f, USART_RDR), 'a');   /* RDR keeps the unread word */
	assert_true(traced(f, "overrun: byte 0x62 lost"));
	assert_int_equal(f->u->rx_lost, 2);
	wr(f, USART_ICR, USART_ICR_ORECF);
	assert_false(isr(f, USART_ISR_ORE));

	/* With overrun detection disabled the new word replaces the old one. */
	wr(f, USART_CR1, 0);
	wr(f, USART_CR3, USART_CR3_OVRDIS);
	enable(f, 0);
	host_sends(f, "de", 2);
	advance(f, 2 * FRAME_8N1);
	assert_false(isr(f, USART_ISR_ORE));
	assert_int_equal(rd(f, USART_RDR), 'e');
}

static void test_receive_while_disabled(void **state)
{
	struct fx *f = *state;

	/* Bytes on the line take their frame time even for a disabled USART. */
	wr(f, USART_BRR, BRR_115200);
	host_sends(f, "lost", 4);
	advance(f, 4 * FRAME_8N1 + SIM_MS(1));
	assert_int_equal(f->u->rx_lost, 4);
	assert_int_equal(f->u->line_count, 0);
	assert_true(traced(f, "byte 0x6c arrived while the receiver is disabled (UE/RE clear): lost"));
	assert_false(traced(f, "byte 0x6f arrived"));   /* told once */
	enable(f, 0);
	assert_false(isr(f, USART_ISR_RXNE));
	host_sends(f, "k", 1);
	advance(f, FRAME_8N1);
	assert_int_equal(rd(f, USART_RDR), 'k');
	/* RE cleared: lost again, and told again for this new episode. */
	wr(f, USART_CR1, USART_CR1_UE | USART_CR1_TE);
	host_sends(f, "q", 1);
	advance(f, FRAME_8N1);
	assert_false(isr(f, USART_ISR_RXNE));
	assert_true(traced(f, "byte 0x71 arrived while the receiver is disabled"));
}

/* With PCE the parity bit is the word's top bit, and RDR shows it. */
static void test_parity_in_the_word(void **state)
{
	struct fx *f = *state;
	char out[4];

	enable(f, USART_CR1_M0 | USART_CR1_PCE);   /* 8E1 */
	host_sends(f, "\x03\x01", 2);
	advance(f, usart_frame_time(f->b, f->u));
	assert_int_equal(rd(f, USART_RDR), 0x003);
	advance(f, usart_frame_time(f->b, f->u));
	assert_int_equal(rd(f, USART_RDR), 0x101);
	/* The parity bit written to TDR is the hardware's business. */
	wr(f, USART_TDR, 0x1C1);
	advance(f, usart_frame_time(f->b, f->u));
	assert_int_equal(sim_uart_take(f->sb, 2, out, sizeof(out)), 1);
	assert_int_equal((uint8_t)out[0], 0xC1);

	/* 7E1 (8-bit word with parity): bit 7 of the byte cannot be carried. */
	wr(f, USART_CR1, 0);
	enable(f, USART_CR1_PCE);
	host_sends(f, "\x81", 1);
	advance(f, usart_frame_time(f->b, f->u));
	assert_int_equal(rd(f, USART_RDR), 0x81);   /* data 0x01, parity 1 */
	wr(f, USART_TDR, 0xFF);
	advance(f, usart_frame_time(f->b, f->u));
	assert_int_equal(sim_uart_take(f->sb, 2, out, sizeof(out)), 1);
	assert_int_equal((uint8_t)out[0], 0x7F);
}

static void test_injected_errors(void **state)
{
	struct fx *f = *state;

	enable(f, USART_CR1_M0 | USART_CR1_PCE | USART_CR1_PEIE);
	usart_inject_error(f->b, f->u, 0x03, USART_ERR_PE);
	advance(f, usart_frame_time(f->b, f->u));
	assert_true(isr(f, USART_ISR_PE));
	assert_true(isr(f, USART_ISR_RXNE));
	assert_true(irq_line(f));
	/* The wrong parity bit is what the chip would show in RDR[8]. */
	assert_int_equal(rd(f, USART_RDR), 0x103);
	assert_true(irq_line(f));                  /* PE still set */
	wr(f, USART_ICR, USART_ICR_PECF);
	assert_false(irq_line(f));

	/* Framing error and noise raise the line through CR3.EIE. */
	wr(f, USART_CR1, 0);
	wr(f, USART_CR3, USART_CR3_EIE);
	enable(f, 0);
	usart_inject_error(f->b, f->u, 0x55, USART_ERR_FE | USART_ERR_NF);
	advance(f, FRAME_8N1);
	assert_true(isr(f, USART_ISR_FE));
	assert_true(isr(f, USART_ISR_NF));
	assert_int_equal(rd(f, USART_RDR), 0x55);
	assert_true(irq_line(f));
	wr(f, USART_ICR, USART_ICR_FECF | USART_ICR_NCF);
	assert_false(irq_line(f));
}

static void test_interrupt_line(void **state)
{
	struct fx *f = *state;

	enable(f, 0);
	assert_false(irq_line(f));
	/* TXEIE with an empty TDR: the line is up at once. */
	wr(f, USART_CR1, USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_TXEIE);
	assert_true(irq_line(f));
	wr(f, USART_TDR, 'a');                   /* shift register takes it */
	assert_true(irq_line(f));
	wr(f, USART_TDR, 'b');                   /* TDR full: TXE clear */
	assert_false(irq_line(f));
	advance(f, FRAME_8N1);
	assert_true(irq_line(f));
	/* TCIE: up only once everything went out. */
	wr(f, USART_CR1, USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_TCIE);
	assert_false(irq_line(f));
	advance(f, FRAME_8N1);
	assert_true(irq_line(f));
	wr(f, USART_ICR, USART_ICR_TCCF);
	assert_false(irq_line(f));
	/* RXNEIE: up with RXNE, down when RDR is read. */
	wr(f, USART_CR1, USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE);
	host_sends(f, "r", 1);
	advance(f, FRAME_8N1 - 1);
	assert_false(irq_line(f));
	advance(f, 1);
	assert_true(irq_line(f));
	rd(f, USART_RDR);
	assert_false(irq_line(f));
	/* Disabling the USART drops the line. */
	wr(f, USART_CR1, USART_CR1_UE | USART_CR1_TE | USART_CR1_TXEIE);
	assert_true(irq_line(f));
	wr(f, USART_CR1, USART_CR1_TE | USART_CR1_TXEIE);
	assert_false(irq_line(f));
}

/*
 * RM0351 40.5.3: once ORE is set every word received is lost until
 * ICR.ORECF clears it, even after RDR was read; with RXNEIE, ORE holds the
 * interrupt line up (40.8.1), so a handler that only reads RDR would be
 * entered forever.
 */
static void test_overrun_holds_until_cleared(void **state)
{
	struct fx *f = *state;

	enable(f, USART_CR1_RXNEIE);
	host_sends(f, "ab", 2);
	advance(f, 2 * FRAME_8N1);
	assert_true(isr(f, USART_ISR_ORE));
	assert_int_equal(rd(f, USART_RDR), 'a');
	assert_false(isr(f, USART_ISR_RXNE));
	assert_true(irq_line(f));                  /* ORE alone keeps it up */
	host_sends(f, "c", 1);
	advance(f, FRAME_8N1);
	assert_false(isr(f, USART_ISR_RXNE));      /* lost: ORE still set */
	assert_int_equal(f->u->rx_lost, 2);
	assert_true(traced(f, "byte 0x63 lost: ORE is still set, and nothing is received until ICR.ORECF clears it"));
	host_sends(f, "d", 1);
	advance(f, FRAME_8N1);
	assert_int_equal(f->u->rx_lost, 3);
	wr(f, USART_ICR, USART_ICR_ORECF);
	assert_false(irq_line(f));
	host_sends(f, "e", 1);
	advance(f, FRAME_8N1);
	assert_true(irq_line(f));
	assert_int_equal(rd(f, USART_RDR), 'e');
	assert_false(irq_line(f));
	/* A new overrun that blocks is told again. */
	host_sends(f, "fgh", 3);
	advance(f, 3 * FRAME_8N1);
	assert_int_equal(rd(f, USART_RDR), 'f');
	host_sends(f, "i", 1);
	advance(f, FRAME_8N1);
	assert_true(traced(f, "byte 0x69 lost: ORE is still set"));
}

/* Write an NVIC register as the CPU would. */
static void nvic_wr(struct fx *f, uint32_t reg, uint32_t val)
{
	uint32_t addr = NVIC_BASE + reg;
	unsigned i;

	for (i = 0; i < f->b->nperiphs; i++) {
		const struct periph *p = &f->b->periphs[i];

		if (addr >= p->base && addr - p->base < p->size) {
			p->write(f->b, p->state, addr - p->base, 4, val);
			return;
		}
	}
	fail_msg("no peripheral at 0x%08x", addr);
}

/*
 * USART2's line into the NVIC is level-sensitive: asserted, it makes the
 * interrupt pending whether enabled or not, and a clear-pending write
 * changes nothing while the line is still up (PM0214, NVIC: hardware and
 * software control of interrupts).
 */
static void test_interrupt_pends_in_the_nvic(void **state)
{
	struct fx *f = *state;
	unsigned exc = EXC_IRQ0 + IRQ_USART2;
	uint32_t word = NVIC_ICPR(IRQ_USART2 / 32u), bit = 1u << (IRQ_USART2 % 32u);

	enable(f, USART_CR1_RXNEIE);
	host_sends(f, "p", 1);
	advance(f, FRAME_8N1);
	assert_true(irq_line(f));
	assert_true(f->b->nvic.pending[exc]);
	assert_false(f->b->nvic.enabled[exc]);
	nvic_wr(f, word, bit);
	assert_true(f->b->nvic.pending[exc]);       /* the line is still up */
	rd(f, USART_RDR);
	assert_false(irq_line(f));
	assert_true(f->b->nvic.pending[exc]);       /* latched */
	nvic_wr(f, word, bit);
	assert_false(f->b->nvic.pending[exc]);
	/* Set-enable and set-pending do what they say. */
	nvic_wr(f, NVIC_ISER(IRQ_USART2 / 32u), bit);
	assert_true(f->b->nvic.enabled[exc]);
	nvic_wr(f, NVIC_ISPR(IRQ_USART2 / 32u), bit);
	assert_true(f->b->nvic.pending[exc]);
	nvic_wr(f, word, bit);
	assert_false(f->b->nvic.pending[exc]);
}

/* Word length, parity, OVER8, BRR and CR2 only change while UE=0. */
static void test_locked_while_enabled(void **state)
{
	struct fx *f = *state;

	enable(f, 0);
	wr(f, USART_BRR, 69);
	assert_int_equal(rd(f, USART_BRR), BRR_115200);
	assert_true(traced(f, "BRR bits 0x66 written while UE=1: ignored"));
	wr(f, USART_CR1, USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_M0);
	assert_int_equal(rd(f, USART_CR1), USART_CR1_UE | USART_CR1_TE | USART_CR1_RE);
	wr(f, USART_CR2, 2u << USART_CR2_STOP_Pos);
	assert_int_equal(rd(f, USART_CR2), 0);
	assert_int_equal(usart_frame_time(f->b, f->u), FRAME_8N1);
	/* Disabling and configuring in one write is allowed. */
	wr(f, USART_CR1, USART_CR1_M0);
	assert_int_equal(rd(f, USART_CR1), USART_CR1_M0);
}

/* While the ROM model runs, USART2's link is the ROM's: poll leaves it alone. */
static void test_poll_leaves_rom_link(void **state)
{
	struct fx *f = *state;
	enum board_mode mode = f->b->mode;
	uint8_t buf[8];

	enable(f, 0);
	f->b->mode = MODE_ROM;
	host_sends(f, "\x7f", 1);
	f->b->mode = mode;
	assert_int_equal(f->u->line_count, 0);
	assert_int_equal(link_read(f->u->link, buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], 0x7F);

	/* Bytes already on the line can be handed over. */
	host_sends(f, "ab", 2);
	assert_int_equal(usart_take_line(f->b, f->u, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "ab", 2);
	advance(f, 3 * FRAME_8N1);
	assert_false(isr(f, USART_ISR_RXNE));
}

/* The output log keeps the last MB and offsets keep counting from the start. */
static void test_output_log_cap(void **state)
{
	struct fx *f = *state;
	const size_t total = (1u << 20) + 1000;
	char line[4096];
	size_t i;

	wr(f, USART_BRR, 16);                    /* 250 kbaud: 40 us frames */
	wr(f, USART_CR1, USART_CR1_UE | USART_CR1_TE);
	for (i = 0; i < total; i++) {
		wr(f, USART_TDR, i == 0 ? '<' : i == total - 1 ? '>' : 'a' + (char)(i % 26));
		advance(f, SIM_US(40));
		/* Keep the memory link from filling up. */
		if (i % 4000 == 3999)
			sim_uart_take(f->sb, 2, line, sizeof(line));
	}
	assert_int_equal(usart_output_len(f->u), total);
	assert_false(usart_output_contains(f->u, 0, "<"));       /* dropped */
	assert_true(usart_output_contains(f->u, 0, ">"));
	assert_true(usart_output_contains(f->u, total - 1, ">"));
	assert_false(usart_output_contains(f->u, total, ">"));
	assert_true(f->u->log_len <= (1u << 20));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_times, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unusable_brr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transmit_timing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transmit_overwrite_and_disabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transmit_waits_for_te, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive_timing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive_overrun, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive_while_disabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parity_in_the_word, setup, teardown),
		cmocka_unit_test_setup_teardown(test_injected_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupt_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overrun_holds_until_cleared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupt_pends_in_the_nvic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locked_while_enabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_leaves_rom_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_log_cap, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
