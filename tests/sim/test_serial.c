/*
 * test_serial.c - the USART model as firmware sees it: frame timing from
 * BRR and the bus clock, TXE/TC/RXNE/ORE, interrupts, and bytes lost while
 * the receiver is off. (The links themselves are tested in test_link.c.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "board.h"
#include "harness.h"

static void usart_setup(struct board *b, struct usart *u, uint32_t cr1_extra)
{
	usart_reg_write(b, u, USART_BRR, 4, 35);
	usart_reg_write(b, u, USART_CR1, 4,
			USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | cr1_extra);
}

static void usart_transmit_timing_and_flags(void **state)
{
	struct sim_board *sb = board_new(NULL);
	struct board *b = board_of(sb);
	struct usart *u = &b->usart[1];
	char out[8] = { 0 };
	sim_time_t frame;

	(void)state;
	sim_power_on(sb);
	usart_setup(b, u, 0);
	frame = usart_frame_time(b, u);
	/* 10 bits at 4 MHz / 35 = 114286 baud: 87.5 us. */
	assert_in_range(frame, SIM_NS(87400), SIM_NS(87600));
	assert_true(usart_reg_read(b, u, USART_ISR, 4) & USART_ISR_TEACK);
	usart_reg_write(b, u, USART_TDR, 4, 'A');
	assert_true(usart_reg_read(b, u, USART_ISR, 4) & USART_ISR_TXE);   /* moved to the shift register */
	assert_false(usart_reg_read(b, u, USART_ISR, 4) & USART_ISR_TC);
	usart_reg_write(b, u, USART_TDR, 4, 'B');
	assert_false(usart_reg_read(b, u, USART_ISR, 4) & USART_ISR_TXE);  /* waiting in TDR */
	assert_true(board_advance(b, frame));
	assert_true(usart_reg_read(b, u, USART_ISR, 4) & USART_ISR_TXE);
	assert_false(usart_reg_read(b, u, USART_ISR, 4) & USART_ISR_TC);
	assert_true(board_advance(b, frame));
	assert_true(usart_reg_read(b, u, USART_ISR, 4) & USART_ISR_TC);
	assert_int_equal(sim_uart_take(sb, 2, out, sizeof(out)), 2);
	assert_string_equal(out, "AB");
	assert_true(usart_output_contains(u, 0, "AB"));

	/* 8E1 (M0 + PCE: 9-bit words including parity) takes 11 bits. */
	usart_reg_write(b, u, USART_CR1, 4, 0);
	usart_setup(b, u, USART_CR1_M0 | USART_CR1_PCE);
	assert_in_range(usart_frame_time(b, u), SIM_NS(96200), SIM_NS(96300));
	sim_board_free(sb);
}

static void usart_receive_overrun_and_disabled(void **state)
{
	struct sim_board *sb = board_new(NULL);
	struct board *b = board_of(sb);
	struct usart *u = &b->usart[1];
	sim_time_t frame;

	(void)state;
	sim_power_on(sb);
	usart_setup(b, u, USART_CR1_RXNEIE);
	frame = usart_frame_time(b, u);
	sim_uart_send(sb, 2, "xy", 2);
	usart_poll(b, u);
	assert_false(usart_reg_read(b, u, USART_ISR, 4) & USART_ISR_RXNE);
	assert_true(board_advance(b, frame));
	assert_true(usart_reg_read(b, u, USART_ISR, 4) & USART_ISR_RXNE);
	assert_true(b->nvic.level[EXC_IRQ0 + IRQ_USART2]);
	/* Not read in time: the second byte overruns. */
	assert_true(board_advance(b, frame));
	assert_true(usart_reg_read(b, u, USART_ISR, 4) & USART_ISR_ORE);
	assert_int_equal(usart_reg_read(b, u, USART_RDR, 4), 'x');
	assert_false(usart_reg_read(b, u, USART_ISR, 4) & USART_ISR_RXNE);
	usart_reg_write(b, u, USART_ICR, 4, USART_ICR_ORECF);
	assert_false(usart_reg_read(b, u, USART_ISR, 4) & USART_ISR_ORE);
	assert_false(b->nvic.level[EXC_IRQ0 + IRQ_USART2]);

	/* Bytes arriving while the receiver is off are lost. */
	usart_reg_write(b, u, USART_CR1, 4, 0);
	sim_uart_send(sb, 2, "z", 1);
	usart_poll(b, u);
	assert_true(board_advance(b, SIM_MS(1)));
	usart_setup(b, u, 0);
	assert_false(usart_reg_read(b, u, USART_ISR, 4) & USART_ISR_RXNE);
	assert_true(traced(sb, SIM_TRACE_UART, "receiver is disabled (UE/RE clear): lost"));
	sim_board_free(sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(usart_transmit_timing_and_flags),
		cmocka_unit_test(usart_receive_overrun_and_disabled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
