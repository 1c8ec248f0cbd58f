/*
 * test_rom_session.c - what a ROM bootloader session's time is made of,
 * through the board's pseudo-terminal as a host program sees it.
 *
 * With an instant host (sim_config.instant_host) the session must last
 * exactly its bytes on the wire at 11 bits each plus the flash operations
 * the host asked for, however long the host dawdles between commands: this
 * is what makes the benchmark's figures exact (bench/run.h). Without it the
 * host's pauses show up as simulated time, as on a real line.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "sysboot/an3155.h"
#include "sysboot/stm32l476.h"

#define HOST_PAUSE_MS 40

/* The host program: a thread of its own, so that the board waits for it as for a process. */
struct host {
	struct sim_board *sb;
	int fd;
	uint64_t in, out;            /* bytes sent to the board, received from it */
	volatile int done;           /* 1 when the session went through, -1 when it failed */
	char why[128];
};

static void pause_ms(unsigned ms)
{
	struct timespec ts = { 0, (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* A board held in the ROM by BOOT0, its USART2 on a pty the test opens at 115200. */
static void host_open(struct host *h, bool instant)
{
	struct sim_config cfg;
	struct termios tio;
	struct sim_run_limits lim = { .until_time = SIM_MS(100) };

	memset(h, 0, sizeof(*h));
	sim_config_default(&cfg);
	cfg.boot0 = true;
	cfg.usart[1].kind = SIM_LINK_PTY;
	cfg.instant_host = instant;
	h->sb = board_new(&cfg);
	h->fd = open(sim_uart_pty(h->sb, 2), O_RDWR | O_NOCTTY);
	assert_true(h->fd >= 0);
	assert_int_equal(tcgetattr(h->fd, &tio), 0);
	cfmakeraw(&tio);
	cfsetispeed(&tio, B115200);
	cfsetospeed(&tio, B115200);
	assert_int_equal(tcsetattr(h->fd, TCSANOW, &tio), 0);
	sim_power_on(h->sb);
	/* The ROM becomes ready after its start-up (55 ms with LSE) and then waits. */
	while (!traced(h->sb, SIM_TRACE_ROM, "ROM bootloader ready"))
		assert_int_not_equal(sim_run(h->sb, &lim), SIM_STOP_FAULT);
}

static void host_close(struct host *h)
{
	close(h->fd);
	sim_board_free(h->sb);
}

/* Send a request and wait (2 s at most) for `want` bytes of answer. */
static int transact(struct host *h, const uint8_t *req, size_t n, uint8_t *ans, size_t want)
{
	size_t got = 0;

	if (write(h->fd, req, n) != (ssize_t)n) {
		snprintf(h->why, sizeof(h->why), "write to the pty failed");
		return -1;
	}
	h->in += n;
	while (got < want) {
		struct pollfd p = { .fd = h->fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 2000) <= 0 || (r = read(h->fd, ans + got, want - got)) <= 0) {
			snprintf(h->why, sizeof(h->why), "request 0x%02x: %zu of %zu answer bytes",
				 req[0], got, want);
			return -1;
		}
		got += (size_t)r;
	}
	h->out += want;
	return 0;
}

static int expect_ack(struct host *h, const uint8_t *req, size_t n)
{
	uint8_t a;

	if (transact(h, req, n, &a, 1) < 0)
		return -1;
	if (a != AN3155_ACK) {
		snprintf(h->why, sizeof(h->why), "request 0x%02x: answer 0x%02x, not ACK", req[0], a);
		return -1;
	}
	return 0;
}

/*
 * Sync, Get ID, a 256-byte Write Memory and a one-page Extended Erase,
 * the host pausing between commands as a slow program would.
 */
static int session(struct host *h)
{
	static const uint8_t sync = AN3155_SYNC;
	static const uint8_t get_id[] = { AN3155_CMD_GET_ID, 0xFD };
	static const uint8_t write[] = { AN3155_CMD_WRITE_MEMORY, 0xCE };
	static const uint8_t where[] = { 0x08, 0x01, 0x00, 0x00, 0x09 };
	static const uint8_t erase[] = { AN3155_CMD_EXT_ERASE, 0xBB };
	static const uint8_t page[] = { 0x00, 0x00, 0x00, 0x40, 0x40 };   /* 1 page: 64 */
	uint8_t data[258], id[5];
	unsigned i;

	if (expect_ack(h, &sync, 1) < 0)
		return -1;
	pause_ms(HOST_PAUSE_MS);
	if (transact(h, get_id, sizeof(get_id), id, sizeof(id)) < 0)
		return -1;
	if (id[0] != AN3155_ACK || id[2] != 0x04 || id[3] != 0x15) {
		snprintf(h->why, sizeof(h->why), "Get ID answered %02x %02x %02x %02x", id[0], id[1],
			 id[2], id[3]);
		return -1;
	}
	pause_ms(HOST_PAUSE_MS);
	if (expect_ack(h, write, sizeof(write)) < 0 || expect_ack(h, where, sizeof(where)) < 0)
		return -1;
	data[0] = 255;
	data[257] = 255;
	for (i = 0; i < 256; i++) {
		data[1 + i] = (uint8_t)(i * 7u);
		data[257] ^= data[1 + i];
	}
	pause_ms(HOST_PAUSE_MS);
	if (expect_ack(h, data, sizeof(data)) < 0)
		return -1;
	pause_ms(HOST_PAUSE_MS);
	if (expect_ack(h, erase, sizeof(erase)) < 0 || expect_ack(h, page, sizeof(page)) < 0)
		return -1;
	return 0;
}

static void *host_thread(void *arg)
{
	struct host *h = arg;

	h->done = session(h) < 0 ? -1 : 1;
	return NULL;
}

/* Run the board while the host thread goes through its session. */
static void run_session(struct host *h)
{
	pthread_t th;

	assert_int_equal(pthread_create(&th, NULL, host_thread, h), 0);
	while (!h->done) {
		struct sim_run_limits lim = { .until_time = sim_now(h->sb) + SIM_MS(5) };

		assert_int_not_equal(sim_run(h->sb, &lim), SIM_STOP_FAULT);
	}
	pthread_join(th, NULL);
	if (h->done < 0)
		fail_msg("the host's session failed: %s", h->why);
}

static void instant_host_session_is_wire_plus_flash_exactly(void **state)
{
	struct sim_config def;
	struct sim_rom_session rs;
	struct host h;
	sim_time_t frame = SIM_S(1) * AN3155_FRAME_BITS / 115200u, expected;

	(void)state;
	sim_config_default(&def);
	host_open(&h, true);
	run_session(&h);
	sim_rom_session(h.sb, &rs);

	assert_int_equal(rs.frame_time, frame);
	assert_int_equal(rs.bytes_in, h.in);
	assert_int_equal(rs.bytes_out, h.out);
	/* Every request but the first followed an answer. */
	assert_int_equal(rs.turnarounds, 6);
	assert_int_equal(rs.program_time, 256 / STM32_FLASH_DWORD * def.timing.flash_dword_program);
	assert_int_equal(rs.erase_time, def.timing.flash_page_erase);
	assert_int_equal(rs.idle_time, 0);
	/* The host's four pauses were seen on the wall clock, and not counted. */
	assert_true(rs.host_wait_ns >= 4ull * HOST_PAUSE_MS * 1000000ull);
	/* Its first byte starts the moment the ROM is ready. */
	assert_int_equal(rs.first_byte, rs.entered + def.timing.rom_startup_lse);
	expected = (h.in + h.out) * frame + rs.program_time + rs.erase_time;
	assert_int_equal(sim_uart_last_tx(h.sb, 2) - rs.first_byte, expected);
	host_close(&h);
}

static void waits_follow_the_wall_clock_without_an_instant_host(void **state)
{
	struct sim_rom_session rs;
	struct host h;
	sim_time_t wire;

	(void)state;
	host_open(&h, false);
	run_session(&h);
	sim_rom_session(h.sb, &rs);
	wire = (h.in + h.out) * rs.frame_time;
	/*
	 * The host's four pauses are in the session's simulated time (most
	 * of them: a wait that runs past the caller's time limit is cut
	 * there, so a little of each can be lost).
	 */
	assert_true(sim_uart_last_tx(h.sb, 2) - rs.first_byte >=
		    wire + rs.program_time + rs.erase_time + SIM_MS(3 * HOST_PAUSE_MS));
	assert_true(rs.idle_time >= SIM_MS(3 * HOST_PAUSE_MS));
	host_close(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(instant_host_session_is_wire_plus_flash_exactly),
		cmocka_unit_test(waits_follow_the_wall_clock_without_an_instant_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
