/*
 * test_usb.c - the ROM bootloader's USB DFU device on the emulated board,
 * through the in-process USB host (sim_usb_control): when the ROM offers
 * it (the clocks of AN2606, interrupts enabled at entry), when it attaches
 * and detaches (start-up, leave, reset, power cut, DFU_DETACH, the USART
 * chosen instead), what the transfers cost in simulated time (bus and
 * flash), the leave sequence starting the application, readout
 * protection, and the ROM's documented long-write limit on a real flash.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "board.h"
#include "harness.h"
#include "sysboot/dfuse.h"

#define T         SIM_MS(200)     /* simulated time a transfer may take */
#define MODE_ADDR 0x20010000u

static struct sim_config dfu_config(void)
{
	struct sim_config cfg;

	sim_config_default(&cfg);
	cfg.boot0 = true;
	cfg.usb.kind = SIM_USB_MEMORY;
	return cfg;
}

static struct sim_board *dfu_board_with(const struct sim_config *cfg)
{
	struct sim_board *sb = board_new(cfg);

	sim_power_on(sb);
	return sb;
}

static struct sim_board *dfu_board(void)
{
	struct sim_config cfg = dfu_config();

	return dfu_board_with(&cfg);
}

/* Run until the DFU device is on the bus; returns the simulated time then. */
static sim_time_t attach(struct sim_board *sb, unsigned max_ms)
{
	unsigned ms;

	for (ms = 0; ms < max_ms && !sim_usb_attached(sb); ms++)
		run_for(sb, 1);
	if (!sim_usb_attached(sb)) {
		dump_trace(sb);
		fail_msg("the USB DFU device did not attach within %u ms", max_ms);
	}
	return sim_now(sb);
}

static int dfu_out(struct sim_board *sb, uint8_t req, uint16_t value, const void *data, uint16_t len)
{
	return sim_usb_control(sb, DFU_REQTYPE_OUT, req, value, 0, (void *)data, len, T);
}

static int dfu_in(struct sim_board *sb, uint8_t req, uint16_t value, void *data, uint16_t len)
{
	return sim_usb_control(sb, DFU_REQTYPE_IN, req, value, 0, data, len, T);
}

static struct dfu_status getstatus(struct sim_board *sb)
{
	uint8_t b[6] = { 0 };
	struct dfu_status s;

	assert_int_equal(dfu_in(sb, DFU_GETSTATUS, 0, b, 6), 6);
	dfu_status_decode(b, &s);
	return s;
}

/* DNLOAD, then GETSTATUS until it is done; returns the final status. */
static struct dfu_status dnload(struct sim_board *sb, uint16_t block, const void *data, uint16_t len)
{
	struct dfu_status s;

	assert_int_equal(dfu_out(sb, DFU_DNLOAD, block, data, len), len);
	s = getstatus(sb);
	assert_int_equal(s.state, DFU_STATE_DNBUSY);
	return getstatus(sb);
}

/* A DfuSe command with an address. */
static struct dfu_status command_at(struct sim_board *sb, uint8_t cmd, uint32_t a)
{
	struct dfuse_command dc = { .cmd = cmd, .has_addr = true, .addr = a };
	uint8_t c[DFUSE_COMMAND_MAX];

	return dnload(sb, DFUSE_BLOCK_COMMAND, c, (uint16_t)dfuse_command_encode(&dc, c));
}

static struct dfu_status set_address(struct sim_board *sb, uint32_t a)
{
	return command_at(sb, DFUSE_CMD_SET_ADDRESS, a);
}

static struct dfu_status page_erase(struct sim_board *sb, uint32_t a)
{
	return command_at(sb, DFUSE_CMD_ERASE, a);
}

static void assert_status(struct dfu_status s, uint8_t state, uint8_t status)
{
	assert_int_equal(s.state, state);
	assert_int_equal(s.status, status);
}

/* ---- When the ROM offers USB DFU ------------------------------------------------- */

static void test_attaches_300ms_after_startup(void **state)
{
	struct sim_board *sb = dfu_board();
	uint8_t b[6];

	(void)state;
	/* 55 ms of start-up with LSE, then 300 ms of USB connection (AN2606). */
	run_for(sb, 354);
	assert_false(sim_usb_attached(sb));
	assert_int_equal(dfu_in(sb, DFU_GETSTATUS, 0, b, 6), -ENODEV);
	run_for(sb, 2);
	assert_true(sim_usb_attached(sb));
	assert_true(traced(sb, SIM_TRACE_USB, "USB DFU device attached: 0483:df11 \"STM32  BOOTLOADER\""));
	assert_status(getstatus(sb), DFU_STATE_IDLE, DFU_STATUS_OK);
	sim_board_free(sb);
}

static void test_hse_of_a_listed_frequency(void **state)
{
	struct sim_config cfg = dfu_config();
	struct sim_board *sb;
	const struct sim_trace_entry *e;

	(void)state;
	cfg.lse = false;
	cfg.hse_hz = 12000000;
	sb = dfu_board_with(&cfg);
	/* Without LSE the ROM starts in 2.56 s; USB comes 300 ms later. */
	run_for(sb, 2859);
	assert_false(sim_usb_attached(sb));
	attach(sb, 10);
	e = sim_trace_find(sb, 0, SIM_TRACE_USB, "USB DFU device attached");
	assert_non_null(e);
	assert_int_equal(e->time, SIM_MS(2860));
	sim_board_free(sb);
}

static void test_no_dfu_clock(void **state)
{
	struct sim_config cfg = dfu_config();
	struct sim_board *sb;
	uint8_t b[6];

	(void)state;
	cfg.lse = false;
	cfg.hse_hz = 0;
	sb = dfu_board_with(&cfg);
	run_for(sb, 3500);
	assert_false(sim_usb_attached(sb));
	assert_int_equal(dfu_in(sb, DFU_GETSTATUS, 0, b, 6), -ENODEV);
	assert_true(traced(sb, SIM_TRACE_USB, "USB DFU not offered: the board has no LSE and no HSE;"));
	assert_false(traced(sb, SIM_TRACE_USB, "attached"));
	sim_board_free(sb);
}

static void test_unlisted_hse(void **state)
{
	struct sim_config cfg = dfu_config();
	struct sim_board *sb;

	(void)state;
	cfg.lse = false;
	cfg.hse_hz = 25000000;
	sb = dfu_board_with(&cfg);
	run_for(sb, 3500);
	assert_false(sim_usb_attached(sb));
	assert_true(traced(sb, SIM_TRACE_USB,
			   "an HSE of 25 MHz, not one of 24, 20, 18, 16, 12, 9, 8, 6 or 4 MHz"));
	sim_board_free(sb);
}

/* A board running tests/sim/fw/rom_jump.S in mode (its header lists them). */
static struct sim_board *jump_board(uint32_t mode, uint8_t rom_usb_priority)
{
	struct sim_config cfg;
	struct sim_board *sb;
	uint32_t words[2] = { mode, 0 };
	char err[256];

	sim_config_default(&cfg);
	cfg.usb.kind = SIM_USB_MEMORY;
	cfg.rom_usb_irq_priority = rom_usb_priority;
	sb = board_new(&cfg);
	if (sim_load_file(sb, ROM_JUMP_ELF, 0, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	sim_power_on(sb);
	sim_write_mem(sb, MODE_ADDR, words, sizeof(words));
	return sb;
}

/*
 * The jump of mode, and a ROM giving its USB interrupt rom_usb_priority:
 * the device attaches, or (not_working) never does and the trace says so.
 */
static void expect_usb(uint32_t mode, uint8_t rom_usb_priority, const char *not_working)
{
	struct sim_board *sb = jump_board(mode, rom_usb_priority);

	if (not_working) {
		run_for(sb, 1000);
		assert_true(sim_in_rom(sb));
		assert_false(sim_usb_attached(sb));
		if (!traced(sb, SIM_TRACE_USB, not_working)) {
			dump_trace(sb);
			fail_msg("mode %u: no trace \"%s\"", mode, not_working);
		}
	} else {
		attach(sb, 1000);
		assert_false(traced(sb, SIM_TRACE_USB, "not working"));
	}
	sim_board_free(sb);
}

static void test_entered_with_primask_set(void **state)
{
	(void)state;
	expect_usb(3, 0x60, "USB DFU not working: the ROM was entered with PRIMASK set (interrupts disabled)");
	expect_usb(3, 0x00, "PRIMASK set");       /* whatever the ROM's priority */
	/* The same jump with interrupts enabled: the device attaches. */
	expect_usb(1, 0x60, NULL);
}

/*
 * Whether the ROM's USB interrupt is taken: the Cortex-M4's rule, with the
 * priority the ROM gives it (0x60 unless configured). BASEPRI or a handler
 * still active masks it only at that priority or more urgent.
 */
static void test_basepri_and_handler_mode(void **state)
{
	(void)state;
	expect_usb(4, 0x60, "USB DFU not working: the ROM was entered with BASEPRI = 0x50, "
		   "which masks its USB interrupt (priority 0x60)");
	expect_usb(5, 0x60, NULL);                  /* BASEPRI 0x70 masks 0x70 and below only */
	expect_usb(4, 0x40, NULL);                  /* a ROM with a more urgent USB interrupt */
	expect_usb(4, 0x50, "which masks its USB interrupt (priority 0x50)");
	expect_usb(6, 0x60, "USB DFU not working: the ROM was entered from an exception handler "
		   "(exception 14, priority 0), which its USB interrupt (priority 0x60) cannot preempt");
	expect_usb(7, 0x60, NULL);                  /* PendSV at 0xF0: USB preempts it */
	expect_usb(7, 0xF0, "cannot preempt");      /* the same priority does not preempt */
}

/* ---- The device and its transfers ---------------------------------------------------- */

static void test_descriptors_and_serial(void **state)
{
	struct sim_board *sb = dfu_board();
	uint8_t d[64];
	const char *serial = "327931683634";  /* from the factory unique ID, as the F4 ROMs do */
	size_t i;

	(void)state;
	attach(sb, 500);
	assert_int_equal(sim_usb_control(sb, 0x80, 6, 0x0100, 0, d, 18, T), 18);
	assert_int_equal(d[8] | d[9] << 8, DFUSE_VID);
	assert_int_equal(d[10] | d[11] << 8, DFUSE_PID);
	assert_int_equal(sim_usb_control(sb, 0x80, 6, 0x0303, 0x0409, d, 64, T), 2 + 2 * 12);
	for (i = 0; i < strlen(serial); i++)
		assert_int_equal(d[2 + 2 * i], serial[i]);
	/* A standard request the device refuses: a stall, and the trace says why. */
	assert_int_equal(sim_usb_control(sb, 0x80, 6, 0x0600, 0, d, 10, T), -EPIPE);
	assert_true(traced(sb, SIM_TRACE_USB, "USB stall: GET_DESCRIPTOR type 6"));
	sim_board_free(sb);
}

/* A string descriptor, as ASCII (the ROM's strings are ASCII in UTF-16LE). */
static void string_descriptor(struct sim_board *sb, uint8_t index, char *s, size_t cap)
{
	uint8_t d[2 + 2 * 126];
	int n = sim_usb_control(sb, 0x80, 6, (uint16_t)(0x0300u | index), 0x0409, d, sizeof(d), T);
	size_t i;

	assert_true(n >= 2 && d[0] == n && d[1] == 3);
	for (i = 0; i < (size_t)(n - 2) / 2 && i + 1 < cap; i++)
		s[i] = (char)d[2 + 2 * i];
	s[i] = '\0';
}

/*
 * A host plans with the memory layouts of the alternate settings; the DFU
 * engine checks addresses with its own memory map. Both must describe the
 * same memory: every region a layout names takes the address pointer, and
 * every readable one reads.
 */
static void test_layouts_describe_the_engine(void **state)
{
	struct sim_board *sb = dfu_board();
	uint8_t cfg[9 + SIM_DFU_ALTS * 9 + DFU_FUNCTIONAL_LENGTH], b[8];
	struct dfuse_layout l;
	char s[128], err[200];
	unsigned alt, i;

	(void)state;
	attach(sb, 500);
	assert_int_equal(sim_usb_control(sb, 0x80, 6, 0x0200, 0, cfg, sizeof(cfg), T), (int)sizeof(cfg));
	for (alt = 0; alt < SIM_DFU_ALTS; alt++) {
		string_descriptor(sb, cfg[9 + 9 * alt + 8], s, sizeof(s));
		if (dfuse_parse_layout(s, &l, err, sizeof(err)) < 0)
			fail_msg("alternate setting %u: %s", alt, err);
		assert_int_equal(sim_usb_control(sb, 0x01, 11, (uint16_t)alt, 0, NULL, 0, T), 0);
		for (i = 0; i < l.nregions; i++) {
			const struct dfuse_region *r = &l.region[i];
			uint32_t last = r->addr + r->count * r->size - 1u;
			uint16_t n = r->size < sizeof(b) ? (uint16_t)r->size : (uint16_t)sizeof(b);

			assert_status(set_address(sb, last), DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
			assert_status(set_address(sb, r->addr), DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
			assert_int_equal(dfu_out(sb, DFU_ABORT, 0, NULL, 0), 0);
			if (r->flags & DFUSE_MEM_READABLE)
				assert_int_equal(dfu_in(sb, DFU_UPLOAD, DFUSE_BLOCK_DATA, b, n), n);
			assert_int_equal(dfu_out(sb, DFU_ABORT, 0, NULL, 0), 0);
		}
		if (alt == 0) {
			/* The whole flash of an STM32L47x/48x: 1 MB of 2 KB pages, read, erase, write. */
			assert_string_equal(l.name, "Internal Flash");
			assert_int_equal(l.region[0].addr, STM32_FLASH_BASE);
			assert_int_equal(l.region[0].count * l.region[0].size, STM32_FLASH_SIZE);
			assert_int_equal(l.region[0].size, STM32_FLASH_PAGE_SIZE);
			assert_int_equal(l.region[0].flags, DFUSE_MEM_READABLE | DFUSE_MEM_ERASABLE |
					 DFUSE_MEM_WRITABLE);
		}
	}
	sim_board_free(sb);
}

static void test_bus_time(void **state)
{
	struct sim_board *sb = dfu_board();
	struct sim_config cfg = dfu_config();
	uint8_t st;
	sim_time_t t0;

	(void)state;
	attach(sb, 500);
	t0 = sim_now(sb);
	assert_int_equal(dfu_in(sb, DFU_GETSTATE, 0, &st, 1), 1);
	/* setup, one data packet of one byte, status: 387 bits at 12 Mbit/s */
	assert_int_equal(sim_now(sb) - t0, 387 * cfg.timing.usb_bit);
	assert_int_equal(st, DFU_STATE_IDLE);
	sim_board_free(sb);
}

static void test_write_read_with_flash_times(void **state)
{
	struct sim_board *sb = dfu_board();
	uint8_t d[DFUSE_TRANSFER_SIZE], back[DFUSE_TRANSFER_SIZE];
	struct dfu_status s;
	sim_time_t t0;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)(i * 13u + 1u);
	attach(sb, 500);
	assert_status(set_address(sb, 0x08004000u), DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
	t0 = sim_now(sb);
	assert_status(page_erase(sb, 0x08004000u), DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
	assert_true(sim_now(sb) - t0 >= SIM_MS(22));       /* DS10198 page erase */
	assert_true(traced(sb, SIM_TRACE_FLASH, "page 8 erased"));
	assert_int_equal(dfu_out(sb, DFU_DNLOAD, 2, d, sizeof(d)), (int)sizeof(d));
	t0 = sim_now(sb);
	s = getstatus(sb);
	assert_int_equal(s.state, DFU_STATE_DNBUSY);
	assert_int_equal(s.poll_ms, 21);                       /* 256 double words of 82 us */
	assert_true(sim_now(sb) - t0 >= 256 * SIM_US(82));
	assert_status(getstatus(sb), DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
	assert_int_equal(sim_read_mem(sb, 0x08004000u, back, sizeof(back)), 0);
	assert_memory_equal(back, d, sizeof(d));
	/* Read it back over DFU. */
	assert_int_equal(dfu_out(sb, DFU_ABORT, 0, NULL, 0), 0);
	memset(back, 0, sizeof(back));
	assert_int_equal(dfu_in(sb, DFU_UPLOAD, 2, back, sizeof(back)), (int)sizeof(back));
	assert_memory_equal(back, d, sizeof(d));
	sim_board_free(sb);
}

/*
 * An instant host (the benchmark's) sends each request the moment the
 * board can take it, yet honours bwPollTimeout as dfu-util and sysboot
 * do (DFU 1.1 6.1.2): the 2 KB write takes 256 x 82 us = 20.992 ms of
 * flash work but asks for 21 ms, so the next GETSTATUS starts 21 ms after
 * the answer that asked, and the 8 us beyond the work are counted apart.
 * Without an instant host the wait is the host's own, not the board's.
 */
static void test_instant_host_waits_out_the_poll_timeout(void **state)
{
	struct sim_config cfg = dfu_config();
	uint8_t d[DFUSE_TRANSFER_SIZE];
	struct sim_rom_session rs;
	struct sim_board *sb;
	struct dfu_status s;
	sim_time_t t1, getstatus_bus = 427 * cfg.timing.usb_bit;   /* setup, 6 bytes, status */
	int instant;

	(void)state;
	memset(d, 0x5A, sizeof(d));
	for (instant = 0; instant < 2; instant++) {
		cfg.instant_host = instant;
		sb = dfu_board_with(&cfg);
		attach(sb, 500);
		assert_status(set_address(sb, 0x08004000u), DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
		assert_status(page_erase(sb, 0x08004000u), DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
		assert_int_equal(dfu_out(sb, DFU_DNLOAD, 2, d, sizeof(d)), (int)sizeof(d));
		s = getstatus(sb);
		assert_int_equal(s.state, DFU_STATE_DNBUSY);
		assert_int_equal(s.poll_ms, 21);
		/* The work runs once the answer has reached the host. */
		sim_rom_session(sb, &rs);
		t1 = rs.usb_last_answer;
		assert_int_equal(sim_now(sb) - t1, 256 * SIM_US(82));
		s = getstatus(sb);
		assert_status(s, DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
		sim_rom_session(sb, &rs);
		assert_int_equal(rs.usb_last_answer, sim_now(sb));
		if (instant) {
			assert_int_equal(sim_now(sb) - t1, SIM_MS(21) + getstatus_bus);
			assert_int_equal(rs.usb_poll_wait, SIM_MS(21) - 256 * SIM_US(82));
		} else {
			assert_int_equal(sim_now(sb) - t1, 256 * SIM_US(82) + getstatus_bus);
			assert_int_equal(rs.usb_poll_wait, 0);
		}
		sim_board_free(sb);
	}
}

/*
 * --dfu-work: the 2 KB write's flash work (256 x 82 us) runs after the
 * GETSTATUS that answers dfuDNBUSY (after-status, the default), or before
 * that GETSTATUS completes (in-status, as ST's USB device library does it):
 * then the answer reaches the host only after the work, the host's 21 ms
 * of bwPollTimeout start after it, and an instant host waits all of them.
 * The same for the page erase (22 ms of work, 22 ms asked). Without an
 * instant host (the in-process host asks at once) only the answer moves.
 */
static void test_dfu_work_after_or_in_status(void **state)
{
	struct sim_config cfg = dfu_config();
	const sim_time_t work = 256 * SIM_US(82), erase = SIM_MS(22);
	const sim_time_t gs_bus = 427 * cfg.timing.usb_bit;   /* GETSTATUS: setup, 6 bytes, status */
	uint8_t d[DFUSE_TRANSFER_SIZE];
	struct sim_rom_session rs;
	struct sim_board *sb;
	struct dfu_status s;
	sim_time_t t0, t1, block[2][2];
	int in_status, instant;

	(void)state;
	memset(d, 0xA5, sizeof(d));
	for (in_status = 0; in_status < 2; in_status++) {
		for (instant = 0; instant < 2; instant++) {
			cfg.dfu_work = in_status ? SIM_DFU_WORK_IN_STATUS : SIM_DFU_WORK_AFTER_STATUS;
			cfg.instant_host = instant;
			sb = dfu_board_with(&cfg);
			attach(sb, 500);
			assert_status(set_address(sb, 0x08004000u), DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
			/* The erase. */
			assert_int_equal(dfu_out(sb, DFU_DNLOAD, 0, (uint8_t[]){ DFUSE_CMD_ERASE, 0x00, 0x40,
										   0x00, 0x08 }, 5), 5);
			t0 = sim_now(sb);
			s = getstatus(sb);
			assert_int_equal(s.state, DFU_STATE_DNBUSY);
			assert_int_equal(s.poll_ms, 22);
			sim_rom_session(sb, &rs);
			assert_int_equal(rs.usb_last_answer, t0 + gs_bus + (in_status ? erase : 0));
			assert_int_equal(sim_now(sb), t0 + gs_bus + erase);
			assert_status(getstatus(sb), DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
			/* The block. */
			t0 = sim_now(sb);
			assert_int_equal(dfu_out(sb, DFU_DNLOAD, 2, d, sizeof(d)), (int)sizeof(d));
			t1 = sim_now(sb);
			s = getstatus(sb);
			assert_int_equal(s.state, DFU_STATE_DNBUSY);
			assert_int_equal(s.poll_ms, 21);
			sim_rom_session(sb, &rs);
			assert_int_equal(rs.usb_last_answer, t1 + gs_bus + (in_status ? work : 0));
			assert_int_equal(sim_now(sb), t1 + gs_bus + work);
			t1 = rs.usb_last_answer;
			assert_status(getstatus(sb), DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
			sim_rom_session(sb, &rs);
			assert_int_equal(rs.usb_last_answer, sim_now(sb));
			if (instant) {
				assert_int_equal(sim_now(sb), t1 + SIM_MS(21) + gs_bus);
				assert_int_equal(rs.usb_poll_wait, in_status ? SIM_MS(22) + SIM_MS(21) :
						 SIM_MS(21) - work);
			} else {
				assert_int_equal(sim_now(sb), t1 + (in_status ? 0 : work) + gs_bus);
				assert_int_equal(rs.usb_poll_wait, 0);
			}
			block[in_status][instant] = sim_now(sb) - t0;
			sim_read_mem(sb, 0x08004000u, d, 8);
			assert_int_equal(d[0], 0xA5);
			assert_int_equal(d[7], 0xA5);
			sim_board_free(sb);
		}
	}
	/* For a DFU 1.1 host the work then counts twice: about 42 ms a block, not 21. */
	assert_int_equal(block[1][1] - block[0][1], work);
	assert_int_equal(block[1][0], block[0][0]);
}

/* In-status, a power cut during the work: that GETSTATUS never completes. */
static void test_dfu_work_in_status_power_cut(void **state)
{
	struct sim_config cfg = dfu_config();
	uint8_t d[DFUSE_TRANSFER_SIZE], b[6];
	struct sim_board *sb;
	int in_status;

	(void)state;
	memset(d, 0x3C, sizeof(d));
	for (in_status = 0; in_status < 2; in_status++) {
		cfg.dfu_work = in_status ? SIM_DFU_WORK_IN_STATUS : SIM_DFU_WORK_AFTER_STATUS;
		sb = dfu_board_with(&cfg);
		attach(sb, 500);
		set_address(sb, 0x08004000u);
		page_erase(sb, 0x08004000u);
		assert_int_equal(dfu_out(sb, DFU_DNLOAD, 2, d, sizeof(d)), (int)sizeof(d));
		sim_power_cut_at_time(sb, sim_now(sb) + SIM_MS(10));
		if (in_status) {
			assert_int_equal(dfu_in(sb, DFU_GETSTATUS, 0, b, 6), -ENODEV);
		} else {
			assert_int_equal(dfu_in(sb, DFU_GETSTATUS, 0, b, 6), 6);
			assert_int_equal(b[4], DFU_STATE_DNBUSY);
			assert_int_equal(dfu_in(sb, DFU_GETSTATUS, 0, b, 6), -ENODEV);
		}
		assert_true(traced(sb, SIM_TRACE_USB, "USB DFU device detached: power cut"));
		sim_board_free(sb);
	}
}

static void test_long_write_limit(void **state)
{
	struct sim_board *sb = dfu_board();
	uint8_t d[300], back[304];

	(void)state;
	memset(d, 0x5A, sizeof(d));
	attach(sb, 500);
	set_address(sb, 0x08000000u);
	/* AN2606: a write over 256 bytes, not a multiple of 8, is corrupted. */
	assert_status(dnload(sb, 2, d, sizeof(d)), DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
	sim_read_mem(sb, 0x08000000u, back, sizeof(back));
	assert_int_equal(back[295], 0x5A);
	assert_int_equal(back[296], 0xFF);
	assert_int_equal(back[299], 0xFF);
	assert_true(traced(sb, SIM_TRACE_USB, "ROM limit (AN2606)"));
	sim_board_free(sb);
}

static void test_write_outside_memory(void **state)
{
	struct sim_board *sb = dfu_board();
	uint8_t d[8] = { 0 };

	(void)state;
	attach(sb, 500);
	assert_status(set_address(sb, 0x08100000u), DFU_STATE_ERROR, DFU_STATUS_ERR_TARGET);
	assert_int_equal(dfu_out(sb, DFU_CLRSTATUS, 0, NULL, 0), 0);
	set_address(sb, 0x080FF800u);
	/* Block 3 lands at 0x08100000, past the end of flash. */
	assert_status(dnload(sb, 3, d, sizeof(d)), DFU_STATE_ERROR, DFU_STATUS_ERR_TARGET);
	assert_true(traced(sb, SIM_TRACE_USB, "write of 8 bytes at 0x08100000: no memory there"));
	sim_board_free(sb);
}

static void test_stall_then_clrstatus(void **state)
{
	struct sim_board *sb = dfu_board();
	uint8_t b[16];

	(void)state;
	attach(sb, 500);
	set_address(sb, 0x08000000u);
	/* UPLOAD in dfuDNLOAD-IDLE is not allowed: the device stalls. */
	assert_int_equal(dfu_in(sb, DFU_UPLOAD, 2, b, sizeof(b)), -EPIPE);
	assert_status(getstatus(sb), DFU_STATE_ERROR, DFU_STATUS_ERR_STALLEDPKT);
	assert_true(traced(sb, SIM_TRACE_USB, "DFU: stall, errSTALLEDPKT: DFU_UPLOAD not allowed in dfuDNLOAD-IDLE"));
	assert_int_equal(dfu_out(sb, DFU_CLRSTATUS, 0, NULL, 0), 0);
	assert_status(getstatus(sb), DFU_STATE_IDLE, DFU_STATUS_OK);
	assert_int_equal(dfu_in(sb, DFU_UPLOAD, 2, b, sizeof(b)), (int)sizeof(b));
	sim_board_free(sb);
}

/* ---- Leaving, resets, power ------------------------------------------------------------ */

static void test_leave_starts_the_application(void **state)
{
	struct sim_board *sb = dfu_board();

	(void)state;
	board_load(sb, "stub.elf", 0);
	board_load(sb, "app-v1.img", 0x08002000u);
	attach(sb, 500);
	assert_status(set_address(sb, 0x08000000u), DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
	assert_int_equal(dfu_out(sb, DFU_DNLOAD, 2, NULL, 0), 0);
	assert_status(getstatus(sb), DFU_STATE_MANIFEST, DFU_STATUS_OK);
	/* The answer left; the ROM detached and jumped, peripherals as they were. */
	assert_false(sim_usb_attached(sb));
	assert_false(sim_in_rom(sb));
	assert_true(traced(sb, SIM_TRACE_USB, "USB DFU device detached: the ROM leaves DFU mode"));
	assert_true(traced(sb, SIM_TRACE_ROM, "DFU leave to 0x08000000: MSP=0x20018000"));
	assert_true(run_until_uart(sb, "sysboot reference application v1", 500));
	sim_board_free(sb);
}

static void test_leave_to_no_code_resets(void **state)
{
	struct sim_board *sb = dfu_board();

	(void)state;
	attach(sb, 500);
	set_address(sb, 0x08000000u);         /* erased flash */
	dfu_out(sb, DFU_DNLOAD, 2, NULL, 0);
	assert_int_equal(getstatus(sb).state, DFU_STATE_MANIFEST);
	assert_true(traced(sb, SIM_TRACE_ROM, "DFU leave to 0x08000000: no code there"));
	assert_true(traced(sb, SIM_TRACE_RESET, "software (SYSRESETREQ) reset"));
	/* BOOT0 still high: the ROM again, and its device again. */
	attach(sb, 500);
	sim_board_free(sb);
}

static void test_reset_and_power_cut_detach(void **state)
{
	struct sim_board *sb = dfu_board();
	uint8_t b[6];

	(void)state;
	attach(sb, 500);
	sim_reset(sb, SIM_RESET_PIN);
	assert_false(sim_usb_attached(sb));
	assert_true(traced(sb, SIM_TRACE_USB, "USB DFU device detached: the chip resets"));
	assert_int_equal(dfu_in(sb, DFU_GETSTATUS, 0, b, 6), -ENODEV);
	attach(sb, 500);
	sim_power_off(sb);
	assert_false(sim_usb_attached(sb));
	assert_true(traced(sb, SIM_TRACE_USB, "USB DFU device detached: power cut"));
	sim_board_free(sb);
}

static void test_detach_reattaches(void **state)
{
	struct sim_board *sb = dfu_board();
	sim_time_t t0;

	(void)state;
	attach(sb, 500);
	assert_int_equal(dfu_out(sb, DFU_DETACH, 1000, NULL, 0), 0);
	assert_false(sim_usb_attached(sb));
	assert_true(traced(sb, SIM_TRACE_USB, "USB DFU device detached: DFU_DETACH"));
	t0 = sim_now(sb);
	assert_true(attach(sb, 500) - t0 >= SIM_MS(299));
	assert_true(sim_in_rom(sb));
	sim_board_free(sb);
}

/* ---- Interfaces, protection, option bytes ------------------------------------------------ */

static void test_usart_first_detaches_usb(void **state)
{
	struct sim_board *sb = dfu_board();
	uint8_t sync = 0x7F;
	char ack[4];

	(void)state;
	attach(sb, 500);
	sim_uart_send(sb, 2, &sync, 1);
	run_for(sb, 5);
	assert_int_equal(sim_uart_take(sb, 2, ack, sizeof(ack)), 1);
	assert_int_equal((uint8_t)ack[0], 0x79);
	assert_false(sim_usb_attached(sb));
	assert_true(traced(sb, SIM_TRACE_USB, "detached: the host spoke on a USART first"));
	sim_board_free(sb);
}

static void test_usb_first_ignores_usart(void **state)
{
	struct sim_board *sb = dfu_board();
	uint8_t sync = 0x7F;
	char ack[4];

	(void)state;
	attach(sb, 500);
	getstatus(sb);
	assert_true(traced(sb, SIM_TRACE_USB, "the host speaks USB DFU"));
	sim_uart_send(sb, 2, &sync, 1);
	run_for(sb, 5);
	assert_int_equal(sim_uart_take(sb, 2, ack, sizeof(ack)), 0);
	assert_true(sim_usb_attached(sb));
	sim_board_free(sb);
}

static void test_readout_protection(void **state)
{
	struct sim_board *sb = dfu_board();
	struct board *b = board_of(sb);
	uint8_t buf[64], word[8] = { 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0 };
	uint8_t unprotect = DFUSE_CMD_READ_UNPROTECT;
	char why[128];

	(void)state;
	board_load(sb, "stub.elf", 0);
	assert_int_equal(flash_rom_set_rdp(b, 1, why, sizeof(why)), 0);
	sim_reset(sb, SIM_RESET_POWER_ON);
	assert_int_equal(flash_rdp_level(b), 1);
	attach(sb, 500);
	/* Under RDP level 1 the pointer moves, nothing is read, written or erased (AN3156). */
	assert_status(set_address(sb, 0x08000000u), DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
	dfu_out(sb, DFU_ABORT, 0, NULL, 0);
	assert_int_equal(dfu_in(sb, DFU_UPLOAD, 2, buf, sizeof(buf)), -EPIPE);
	assert_status(getstatus(sb), DFU_STATE_ERROR, DFU_STATUS_ERR_VENDOR);
	dfu_out(sb, DFU_CLRSTATUS, 0, NULL, 0);
	assert_status(page_erase(sb, 0x08000000u), DFU_STATE_ERROR, DFU_STATUS_ERR_VENDOR);
	dfu_out(sb, DFU_CLRSTATUS, 0, NULL, 0);
	set_address(sb, 0x20008000u);
	assert_status(dnload(sb, 2, word, sizeof(word)), DFU_STATE_ERROR, DFU_STATUS_ERR_VENDOR);
	dfu_out(sb, DFU_CLRSTATUS, 0, NULL, 0);
	/* Read Unprotect: level 0, the flash erased, the chip resets and comes back. */
	assert_int_equal(dfu_out(sb, DFU_DNLOAD, 0, &unprotect, 1), 1);
	assert_int_equal(getstatus(sb).state, DFU_STATE_DNBUSY);
	assert_false(sim_usb_attached(sb));
	run_for(sb, 1);
	assert_true(traced(sb, SIM_TRACE_RESET, "option byte loading reset"));
	assert_int_equal(flash_rdp_level(b), 0);
	assert_int_equal(sim_read32(sb, 0x08000000u), 0xFFFFFFFFu);
	attach(sb, 500);
	sim_board_free(sb);
}

static void test_option_bytes_write_resets(void **state)
{
	struct sim_board *sb = dfu_board();
	uint8_t opt[40];

	(void)state;
	attach(sb, 500);
	set_address(sb, STM32_OPTION_BANK1_BASE);
	dfu_out(sb, DFU_ABORT, 0, NULL, 0);
	assert_int_equal(dfu_in(sb, DFU_UPLOAD, 2, opt, sizeof(opt)), (int)sizeof(opt));
	assert_int_equal(opt[0], 0xAA);       /* OPTR: RDP level 0 */
	assert_int_equal(getstatus(sb).state, DFU_STATE_UPLOAD_IDLE);
	dfu_out(sb, DFU_ABORT, 0, NULL, 0);
	set_address(sb, STM32_OPTION_BANK1_BASE);
	/* Written back as read: the options reload with a system reset. */
	assert_int_equal(dfu_out(sb, DFU_DNLOAD, 2, opt, sizeof(opt)), (int)sizeof(opt));
	assert_int_equal(getstatus(sb).state, DFU_STATE_DNBUSY);
	assert_true(traced(sb, SIM_TRACE_USB, "option bytes written: the chip resets"));
	run_for(sb, 1);
	assert_true(traced(sb, SIM_TRACE_RESET, "option byte loading reset"));
	assert_false(sim_usb_attached(sb));
	attach(sb, 500);
	sim_board_free(sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attaches_300ms_after_startup),
		cmocka_unit_test(test_hse_of_a_listed_frequency),
		cmocka_unit_test(test_no_dfu_clock),
		cmocka_unit_test(test_unlisted_hse),
		cmocka_unit_test(test_entered_with_primask_set),
		cmocka_unit_test(test_basepri_and_handler_mode),
		cmocka_unit_test(test_descriptors_and_serial),
		cmocka_unit_test(test_layouts_describe_the_engine),
		cmocka_unit_test(test_bus_time),
		cmocka_unit_test(test_instant_host_waits_out_the_poll_timeout),
		cmocka_unit_test(test_dfu_work_after_or_in_status),
		cmocka_unit_test(test_dfu_work_in_status_power_cut),
		cmocka_unit_test(test_write_read_with_flash_times),
		cmocka_unit_test(test_long_write_limit),
		cmocka_unit_test(test_write_outside_memory),
		cmocka_unit_test(test_stall_then_clrstatus),
		cmocka_unit_test(test_leave_starts_the_application),
		cmocka_unit_test(test_leave_to_no_code_resets),
		cmocka_unit_test(test_reset_and_power_cut_detach),
		cmocka_unit_test(test_detach_reattaches),
		cmocka_unit_test(test_usart_first_detaches_usb),
		cmocka_unit_test(test_usb_first_ignores_usart),
		cmocka_unit_test(test_readout_protection),
		cmocka_unit_test(test_option_bytes_write_resets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
