/*
 * test_serial.c - the serial line of the emulated board: links to the host
 * (memory, pseudo-terminal, TCP) and the USART model's timing and flags.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include <cmocka.h>

#include "board.h"
#include "harness.h"
#include "link.h"

static size_t read_some(int fd, char *buf, size_t cap)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, 1000) <= 0)
		return 0;
	n = read(fd, buf, cap);
	return n > 0 ? (size_t)n : 0;
}

static void memory_link_round_trip(void **state)
{
	struct sim_link_config cfg = { .kind = SIM_LINK_MEMORY };
	char err[256], out[16] = { 0 };
	uint8_t in[8];
	struct link *l = link_open(&cfg, err, sizeof(err));

	(void)state;
	assert_non_null(l);
	link_inject(l, "abc", 3);
	assert_true(link_wait(l, 0));
	assert_int_equal(link_read(l, in, sizeof(in)), 3);
	assert_memory_equal(in, "abc", 3);
	assert_int_equal(link_read(l, in, sizeof(in)), 0);
	link_write(l, (const uint8_t *)"xyz", 3);
	assert_int_equal(link_take_output(l, out, sizeof(out)), 3);
	assert_string_equal(out, "xyz");
	link_close(l);
}

static void pty_link_with_symlink(void **state)
{
	char dir[] = "/tmp/sysboot-pty-XXXXXX", path[300], err[256], buf[32];
	struct sim_link_config cfg = { .kind = SIM_LINK_PTY };
	struct termios tio;
	struct link *l;
	uint8_t in[8];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tty", dir);
	cfg.path = path;
	l = link_open(&cfg, err, sizeof(err));
	assert_non_null(l);
	assert_true(strncmp(link_pty_path(l), "/dev/pts/", 9) == 0);

	fd = open(path, O_RDWR | O_NOCTTY);
	assert_true(fd >= 0);
	tcgetattr(fd, &tio);
	cfmakeraw(&tio);
	cfsetospeed(&tio, B57600);
	cfsetispeed(&tio, B57600);
	assert_int_equal(tcsetattr(fd, TCSANOW, &tio), 0);
	assert_int_equal(link_host_baud(l), 57600);

	assert_int_equal(write(fd, "\x7f", 1), 1);
	assert_true(link_wait(l, 1000));
	assert_int_equal(link_read(l, in, sizeof(in)), 1);
	assert_int_equal(in[0], 0x7F);
	link_write(l, (const uint8_t *)"\x79", 1);
	assert_int_equal(read_some(fd, buf, sizeof(buf)), 1);
	assert_int_equal((uint8_t)buf[0], 0x79);
	/* A host program closing and reopening the port keeps working. */
	close(fd);
	fd = open(path, O_RDWR | O_NOCTTY);
	assert_true(fd >= 0);
	link_write(l, (const uint8_t *)"ok", 2);
	assert_int_equal(read_some(fd, buf, sizeof(buf)), 2);
	close(fd);

	link_close(l);
	assert_int_equal(access(path, F_OK), -1);   /* the symlink is gone */
	rmdir(dir);
}

static void pty_link_refuses_to_replace_a_file(void **state)
{
	char path[] = "/tmp/sysboot-file-XXXXXX", err[256];
	struct sim_link_config cfg = { .kind = SIM_LINK_PTY };
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	cfg.path = path;
	assert_null(link_open(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "is not a symbolic link: refusing to replace it"));
	unlink(path);
}

static int tcp_connect(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void tcp_link_both_ways_and_reconnect(void **state)
{
	struct sim_link_config cfg = { .kind = SIM_LINK_TCP, .port = 0 };
	char err[256], buf[16];
	uint8_t in[8];
	struct link *l = link_open(&cfg, err, sizeof(err)), *busy;
	int fd;

	(void)state;
	assert_non_null(l);
	assert_int_not_equal(link_tcp_port(l), 0);
	fd = tcp_connect(link_tcp_port(l));
	assert_int_equal(write(fd, "hi", 2), 2);
	assert_true(link_wait(l, 1000) || link_wait(l, 1000));
	assert_int_equal(link_read(l, in, sizeof(in)), 2);
	link_write(l, (const uint8_t *)"yo", 2);
	assert_int_equal(read_some(fd, buf, sizeof(buf)), 2);
	close(fd);
	/* A new client takes over. */
	fd = tcp_connect(link_tcp_port(l));
	assert_int_equal(write(fd, "x", 1), 1);
	assert_true(link_wait(l, 1000) || link_wait(l, 1000));
	assert_int_equal(link_read(l, in, sizeof(in)), 1);
	/* The same port twice: a specific error. */
	cfg.port = link_tcp_port(l);
	busy = link_open(&cfg, err, sizeof(err));
	assert_null(busy);
	assert_non_null(strstr(err, "cannot listen on 127.0.0.1:"));
	close(fd);
	link_close(l);
}

/* 115200 baud from the 4 MHz reset clock: BRR = 4000000 / 115200 = 35. */
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
		cmocka_unit_test(memory_link_round_trip),
		cmocka_unit_test(pty_link_with_symlink),
		cmocka_unit_test(pty_link_refuses_to_replace_a_file),
		cmocka_unit_test(tcp_link_both_ways_and_reconnect),
		cmocka_unit_test(usart_transmit_timing_and_flags),
		cmocka_unit_test(usart_receive_overrun_and_disabled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
