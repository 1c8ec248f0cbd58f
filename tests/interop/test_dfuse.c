/*
 * test_dfuse.c - the DfuSe client and the USB session against the scripted
 * DFU device (fake_dfu.h).
 *
 * Why: the requests a DfuSe operation makes, the waits it honours and how
 * it recovers from a stall, an error state, a lost status or a vanished
 * device decide whether an update over USB is safe; here each of them is
 * forced at an exact request and its message checked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootloader.h"
#include "dfuse.h"
#include "fake_dfu.h"
#include "sysboot/stm32l476.h"

struct fx {
	struct fake_dfu f;
	struct dfuse d;
	uint8_t buf[4096], back[4096];
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	unsigned i;

	fake_dfu_init(&x->f);
	fake_dfu_attach(&x->f, &x->d);
	assert_int_equal(dfuse_select(&x->d, 0), DF_OK);
	for (i = 0; i < sizeof(x->buf); i++)
		x->buf[i] = (uint8_t)(i * 7 + 3);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	fake_dfu_free(&x->f);
	free(x);
	return 0;
}

static void expect_err(const struct dfuse *d, const char *needle)
{
	if (!strstr(dfuse_error(d), needle))
		fail_msg("error '%s' lacks '%s'", dfuse_error(d), needle);
}

static void write_read_round_trip(void **state)
{
	struct fx *x = *state;

	assert_int_equal(dfuse_erase_page(&x->d, 0x08004000), DF_OK);
	assert_int_equal(dfuse_write(&x->d, 0x08004000, x->buf, 2048), DF_OK);
	assert_memory_equal(x->f.flash + 0x4000, x->buf, 2048);
	/* Across two transfers. */
	memset(x->back, 0, sizeof(x->back));
	assert_int_equal(dfuse_read(&x->d, 0x08003F00, x->back, 2304), DF_OK);
	assert_memory_equal(x->back + 0x100, x->buf, 2048);
	assert_int_equal(x->back[0], 0xFF);
	assert_int_equal(x->f.erase_order[0], 0x08004000);
	assert_int_equal(x->f.write_order[0], 0x08004000);
	assert_int_equal(x->d.retry_count, 0);
	/* Every poll waited exactly what the device asked for. */
	assert_true(x->f.sleeps >= 3);
	assert_int_equal(x->f.last_sleep_ms, 25);
	assert_int_equal(x->f.sleep_ms_total, 25 * x->f.sleeps);
}

static void poll_timeout_honoured(void **state)
{
	struct fx *x = *state;

	x->f.poll_ms = 490;
	assert_int_equal(dfuse_erase_page(&x->d, 0x08008000), DF_OK);
	/* Set address is not needed for an erase: one DNLOAD, one wait. */
	assert_int_equal(x->f.sleeps, 1);
	assert_int_equal(x->f.last_sleep_ms, 490);
}

static void long_writes_padded_to_8(void **state)
{
	struct fx *x = *state;

	assert_int_equal(dfuse_write(&x->d, 0x08010000, x->buf, 300), DF_OK);
	assert_int_equal(x->f.last_write_len, 304);
	assert_int_equal(x->f.last_write_tail, 0xFF);
	assert_memory_equal(x->f.flash + 0x10000, x->buf, 300);
	assert_int_equal(x->f.flash[0x10000 + 300], 0xFF);
	/* 256 bytes and less go as they are (AN2606 only names longer ones). */
	assert_int_equal(dfuse_write(&x->d, 0x08011000, x->buf, 104), DF_OK);
	assert_int_equal(x->f.last_write_len, 104);
	assert_int_equal(x->f.bad_len_writes, 0);
	assert_int_equal(dfuse_write(&x->d, 0x08012000, x->buf, 4096), DF_ERR_ARG);
	expect_err(&x->d, "a DfuSe write of 4096 bytes: 1 to 2048 (wTransferSize) allowed");
}

static void error_state_cleared_and_retried(void **state)
{
	struct fx *x = *state;

	x->f.fail_addr = 0x08020000;
	x->f.fail_count = 1;
	assert_int_equal(dfuse_write(&x->d, 0x08020000, x->buf, 2048), DF_OK);
	assert_int_equal(x->d.retry_count, 1);
	assert_int_equal(x->f.clrstatus, 1);
	assert_memory_equal(x->f.flash + 0x20000, x->buf, 2048);
}

static void error_state_persists(void **state)
{
	struct fx *x = *state;

	x->f.fail_addr = 0x08020000;
	x->f.fail_count = 100;
	assert_int_equal(dfuse_write(&x->d, 0x08020000, x->buf, 2048), DF_ERR_REFUSED);
	expect_err(&x->d, "the DFU device on usb (fake) reported errPROG (programming "
		   "failed) for the write of 2048 bytes at 0x08020000 (4 attempts): the "
		   "page may be write-protected, or the chip readout-protected (see "
		   "sysboot info)");
	assert_int_equal(x->d.retry_count, 3);
	/* The device was left usable. */
	assert_int_equal(x->f.state, DFU_STATE_IDLE);
}

static void stall_once_recovers(void **state)
{
	struct fx *x = *state;

	x->f.stall_dnload_at = x->f.dnloads + 2;  /* the data DNLOAD */
	assert_int_equal(dfuse_write(&x->d, 0x08030000, x->buf, 2048), DF_OK);
	assert_int_equal(x->d.retry_count, 1);
	assert_memory_equal(x->f.flash + 0x30000, x->buf, 2048);
}

static void stall_always(void **state)
{
	struct fx *x = *state;

	x->f.stall_dnload_at = 1;
	x->f.stall_dnloads = 1000;
	assert_int_equal(dfuse_erase_page(&x->d, 0x08030000), DF_ERR_REFUSED);
	expect_err(&x->d, "the DFU device on usb (fake) refused the erase of the page "
		   "at 0x08030000: it stalled DFU_DNLOAD (status errTARGET: not meant "
		   "for this device or address) (4 attempts): the page may be "
		   "write-protected");
}

static void vanishes_mid_write(void **state)
{
	struct fx *x = *state;
	unsigned before;

	x->f.vanish_at = x->f.requests + 3;
	assert_int_equal(dfuse_write(&x->d, 0x08040000, x->buf, 2048), DF_ERR_GONE);
	expect_err(&x->d, "the board disconnected during the write of 2048 bytes at "
		   "0x08040000: the DFU device on usb (fake) went away (unplugged, "
		   "reset or powered off?)");
	/* Not retried: nothing is there to retry with. */
	before = x->f.requests;
	assert_int_equal(x->d.retry_count, 0);
	assert_int_equal(dfuse_read(&x->d, 0x08040000, x->back, 16), DF_ERR_GONE);
	assert_int_equal(x->f.requests, before + 1);
}

static void status_timeouts(void **state)
{
	struct fx *x = *state;

	x->f.timeout_status_at = x->f.getstatus + 1;
	x->f.timeout_status_count = 1000;
	assert_int_equal(dfuse_erase_page(&x->d, 0x08050000), DF_ERR_TIMEOUT);
	expect_err(&x->d, "timeout: the DFU device on usb (fake) did not answer "
		   "DFU_GETSTATUS within 5000 ms during the erase of the page at "
		   "0x08050000");
}

static void busy_for_ever(void **state)
{
	struct fx *x = *state;

	x->f.always_busy = true;
	x->f.poll_ms = 1000;
	x->d.busy_limit_ms = 3000;
	x->d.retries = 0;
	assert_int_equal(dfuse_mass_erase(&x->d), DF_ERR_TIMEOUT);
	expect_err(&x->d, "timeout: the DFU device on usb (fake) was still busy with "
		   "the mass erase after 3000 ms");
	assert_int_equal(x->f.sleep_ms_total, 3000);
}

static void lost_status_after_programming(void **state)
{
	struct fx *x = *state;

	/* The block is programmed, but its GETSTATUS never comes back: the
	 * retry meets programmed flash, so the client reads it back. */
	x->f.lose_status_after_write = true;
	assert_int_equal(dfuse_write(&x->d, 0x08060000, x->buf, 2048), DF_OK);
	assert_memory_equal(x->f.flash + 0x60000, x->buf, 2048);
	assert_true(x->d.retry_count >= 1);
}

static void mass_erase_leave_unprotect(void **state)
{
	struct fx *x = *state;

	x->f.flash[0x1234] = 0;
	assert_int_equal(dfuse_mass_erase(&x->d), DF_OK);
	assert_int_equal(x->f.mass_erases, 1);
	assert_int_equal(x->f.flash[0x1234], 0xFF);
	x->f.rdp = true;
	assert_int_equal(dfuse_read(&x->d, 0x08000000, x->back, 8), DF_ERR_REFUSED);
	expect_err(&x->d, "(4 attempts): the chip may be readout-protected (RDP level 1)");
	assert_int_equal(dfuse_read_unprotect(&x->d), DF_OK);
	assert_int_equal(x->f.unprotects, 1);
	assert_false(x->f.rdp);
}

static void leave_jumps(void **state)
{
	struct fx *x = *state;

	assert_int_equal(dfuse_leave(&x->d, 0x08000000), DF_OK);
	assert_true(x->f.left);
	assert_int_equal(x->f.jumped_to, 0x08000000);
	assert_false(x->f.present);
}

static void memories_chosen_by_address(void **state)
{
	struct fx *x = *state;
	uint8_t ob[0x28];

	assert_int_equal(dfuse_read(&x->d, 0x1FFF7800, ob, sizeof(ob)), DF_OK);
	assert_int_equal(x->f.alt, 1);
	assert_int_equal(ob[0], 0xAA);
	assert_int_equal(dfuse_write(&x->d, 0x08000000, x->buf, 8), DF_OK);
	assert_int_equal(x->f.alt, 0);
	assert_int_equal(dfuse_read(&x->d, 0x20000000, x->back, 4), DF_ERR_ARG);
	expect_err(&x->d, "cannot do the read of 4 bytes at 0x20000000: 0x20000000 is in "
		   "none of the memories it offers (Internal Flash 0x08000000-0x080fffff, "
		   "Option Bytes 0x1fff7800-0x1fff7827)");
	assert_int_equal(dfuse_erase_page(&x->d, 0x1FFF7800), DF_ERR_ARG);
	expect_err(&x->d, "the memory there (alt 1, Option Bytes) is not erasable");
}

static void get_commands(void **state)
{
	struct fx *x = *state;
	uint8_t cmds[8];
	size_t n;

	assert_int_equal(dfuse_get_commands(&x->d, cmds, sizeof(cmds), &n), DF_OK);
	assert_int_equal(n, 4);
	assert_int_equal(cmds[1], DFUSE_CMD_SET_ADDRESS);
	assert_int_equal(cmds[3], DFUSE_CMD_READ_UNPROTECT);
	assert_int_equal(x->f.state, DFU_STATE_IDLE);
}

/* ---- Runs of blocks after one Set Address Pointer ------------------- */

/* The fake keeps its pointer only as far as AN3156 promises (fake_dfu.c). */

static void erase_pages(struct fx *x, uint32_t addr, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		assert_int_equal(dfuse_erase_page(&x->d, addr + i * 2048), DF_OK);
}

/* Block i of a run: the two halves of buf in turn. */
static const uint8_t *pattern(const struct fx *x, unsigned i)
{
	return x->buf + (i % 2) * 2048;
}

static void write_run(struct fx *x, uint32_t addr, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		assert_int_equal(dfuse_write(&x->d, addr + i * 2048, pattern(x, i), 2048), DF_OK);
}

static void assert_run(const struct fx *x, uint32_t addr, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		assert_memory_equal(x->f.flash + (addr - STM32_FLASH_BASE) + i * 2048,
				    pattern(x, i), 2048);
}

static void consecutive_writes_share_one_address(void **state)
{
	struct fx *x = *state;
	unsigned before, i;

	erase_pages(x, 0x08004000, 4);
	x->f.set_addresses = 0;
	before = x->f.requests;
	write_run(x, 0x08004000, 4);
	assert_int_equal(x->f.set_addresses, 1);
	/* The Set Address and its two GETSTATUS, then three per block. */
	assert_int_equal(x->f.requests - before, 3 + 4 * 3);
	assert_run(x, 0x08004000, 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(x->f.write_order[i], 0x08004000 + i * 2048);
	assert_int_equal(x->d.retry_count, 0);
}

static void the_address_is_set_again_where_the_run_ends(void **state)
{
	struct fx *x = *state;
	uint8_t ob[8];

	erase_pages(x, 0x08010000, 8);
	x->f.set_addresses = 0;
	write_run(x, 0x08010000, 2);
	assert_int_equal(x->f.set_addresses, 1);
	/* A gap: 0x08011800 is not the next block. */
	assert_int_equal(dfuse_write(&x->d, 0x08011800, x->buf, 2048), DF_OK);
	assert_int_equal(x->f.set_addresses, 2);
	/* An erase moves the pointer (ST's USB device library): set again. */
	assert_int_equal(dfuse_erase_page(&x->d, 0x08013000), DF_OK);
	assert_int_equal(dfuse_write(&x->d, 0x08012000, x->buf, 2048), DF_OK);
	assert_int_equal(x->f.set_addresses, 3);
	/* A short block goes alone as block 2; the whole one after it follows. */
	assert_int_equal(dfuse_write(&x->d, 0x08012800, x->buf, 64), DF_OK);
	assert_int_equal(x->f.set_addresses, 4);
	assert_int_equal(dfuse_write(&x->d, 0x08013000, x->buf, 2048), DF_OK);
	assert_int_equal(x->f.set_addresses, 4);
	/* Another alternate setting, then back. */
	assert_int_equal(dfuse_read(&x->d, 0x1FFF7800, ob, sizeof(ob)), DF_OK);
	assert_int_equal(x->f.set_addresses, 5);
	assert_int_equal(dfuse_write(&x->d, 0x08013800, x->buf, 2048), DF_OK);
	assert_int_equal(x->f.set_addresses, 6);
	assert_memory_equal(x->f.flash + 0x10000, x->buf, 2048);
	assert_memory_equal(x->f.flash + 0x11800, x->buf, 2048);
	assert_memory_equal(x->f.flash + 0x12000, x->buf, 2048);
	assert_memory_equal(x->f.flash + 0x12800, x->buf, 64);
	assert_memory_equal(x->f.flash + 0x13000, x->buf, 2048);
	assert_memory_equal(x->f.flash + 0x13800, x->buf, 2048);
	assert_int_equal(x->f.flash[0x11000], 0xFF);
	assert_int_equal(x->f.flash[0x12800 + 64], 0xFF);
	assert_int_equal(x->d.retry_count, 0);
}

/* After CLRSTATUS the fake's pointer is back at 0x08000000: blocks 4 and
 * 5 of the old run would land on the stub. */
static void a_failed_block_sets_the_address_again(void **state)
{
	struct fx *x = *state;

	erase_pages(x, 0x08020000, 5);
	x->f.fail_addr = 0x08021000;
	x->f.fail_count = 1;
	x->f.set_addresses = 0;
	write_run(x, 0x08020000, 5);
	assert_int_equal(x->d.retry_count, 1);
	assert_int_equal(x->f.clrstatus, 1);
	/* The run's, the retry's; the blocks after the retry follow it. */
	assert_int_equal(x->f.set_addresses, 2);
	assert_run(x, 0x08020000, 5);
	assert_int_equal(x->f.nwritten, 5);
	assert_int_equal(x->f.write_order[3], 0x08021800);
	assert_int_equal(x->f.write_order[4], 0x08022000);
}

static void a_stalled_block_sets_the_address_again(void **state)
{
	struct fx *x = *state;

	erase_pages(x, 0x08024000, 4);
	write_run(x, 0x08024000, 1);
	x->f.stall_dnload_at = x->f.dnloads + 2;   /* the third block's DNLOAD */
	x->f.set_addresses = 0;
	assert_int_equal(dfuse_write(&x->d, 0x08024800, pattern(x, 1), 2048), DF_OK);
	assert_int_equal(dfuse_write(&x->d, 0x08025000, pattern(x, 2), 2048), DF_OK);
	assert_int_equal(dfuse_write(&x->d, 0x08025800, pattern(x, 3), 2048), DF_OK);
	assert_int_equal(x->d.retry_count, 1);
	assert_int_equal(x->f.set_addresses, 1);
	assert_run(x, 0x08024000, 4);
}

/* A block programmed whose status was lost, in the middle of a run: the
 * retry meets programmed flash, the client reads it back, and the next
 * block (after the read) is placed right. */
static void a_lost_status_in_a_run(void **state)
{
	struct fx *x = *state;

	erase_pages(x, 0x08028000, 4);
	write_run(x, 0x08028000, 2);
	x->f.lose_status_after_write = true;
	assert_int_equal(dfuse_write(&x->d, 0x08029000, pattern(x, 2), 2048), DF_OK);
	assert_int_equal(dfuse_write(&x->d, 0x08029800, pattern(x, 3), 2048), DF_OK);
	assert_true(x->d.retry_count >= 1);
	assert_run(x, 0x08028000, 4);
}

static void reads_are_one_upload_per_block(void **state)
{
	struct fx *x = *state;
	uint8_t *back = malloc(8192);
	unsigned aborts, i;

	for (i = 0; i < 10240; i++)
		x->f.flash[0x30000 + i] = (uint8_t)(i * 11 + 1);
	x->f.set_addresses = 0;
	aborts = x->f.aborts;
	assert_int_equal(dfuse_read(&x->d, 0x08030000, back, 8192), DF_OK);
	assert_memory_equal(back, x->f.flash + 0x30000, 8192);
	/* Set Address, the ABORT to dfuIDLE, then an UPLOAD each. */
	assert_int_equal(x->f.set_addresses, 1);
	assert_int_equal(x->f.uploads, 4);
	assert_int_equal(x->f.aborts, aborts + 1);
	assert_int_equal(x->f.state, DFU_STATE_UPLOAD_IDLE);
	/* The next block, in another call: one more UPLOAD. */
	assert_int_equal(dfuse_read(&x->d, 0x08032000, back, 2048), DF_OK);
	assert_memory_equal(back, x->f.flash + 0x32000, 2048);
	assert_int_equal(x->f.set_addresses, 1);
	assert_int_equal(x->f.uploads, 5);
	/* The end of the read leaves the device idle, once. */
	assert_int_equal(dfuse_finish(&x->d), DF_OK);
	assert_int_equal(x->f.state, DFU_STATE_IDLE);
	assert_int_equal(x->f.aborts, aborts + 2);
	assert_int_equal(dfuse_finish(&x->d), DF_OK);
	assert_int_equal(x->f.aborts, aborts + 2);
	/* Not the next block: the address again. */
	assert_int_equal(dfuse_read(&x->d, 0x08030000, back, 64), DF_OK);
	assert_memory_equal(back, x->f.flash + 0x30000, 64);
	assert_int_equal(x->f.set_addresses, 2);
	/* A write after a read: ABORT first, and nothing refused. */
	assert_int_equal(dfuse_erase_page(&x->d, 0x08034000), DF_OK);
	assert_int_equal(dfuse_write(&x->d, 0x08034000, x->buf, 2048), DF_OK);
	assert_int_equal(x->d.retry_count, 0);
	free(back);
}

static void a_stalled_upload_sets_the_address_again(void **state)
{
	struct fx *x = *state;
	uint8_t *back = malloc(8192);
	unsigned i;

	for (i = 0; i < 8192; i++)
		x->f.flash[0x38000 + i] = (uint8_t)(i * 5 + 9);
	x->f.stall_upload_at = 3;
	x->f.set_addresses = 0;
	assert_int_equal(dfuse_read(&x->d, 0x08038000, back, 8192), DF_OK);
	assert_memory_equal(back, x->f.flash + 0x38000, 8192);
	assert_int_equal(x->d.retry_count, 1);
	assert_int_equal(x->f.set_addresses, 2);
	assert_int_equal(x->f.uploads, 5);
	free(back);
}

/*
 * wBlockNum is 16 bits: after block 65535 a run would wrap to block 0, a
 * DfuSe command. With 16-byte transfers the whole flash is 65536 blocks,
 * so both directions must start a second run at block 2.
 */
static void block_numbers_stop_before_they_wrap(void **state)
{
	struct fx *x = *state;
	uint8_t *img = malloc(FAKE_DFU_FLASH_SIZE), *back = malloc(FAKE_DFU_FLASH_SIZE);
	uint32_t off;

	for (off = 0; off < FAKE_DFU_FLASH_SIZE; off++)
		img[off] = (uint8_t)(off * 7 + off / 4096);
	x->f.transfer_size = 16;
	fake_dfu_attach(&x->f, &x->d);
	assert_int_equal(dfuse_select(&x->d, 0), DF_OK);
	x->f.set_addresses = 0;
	for (off = 0; off < FAKE_DFU_FLASH_SIZE; off += 16)
		if (dfuse_write(&x->d, STM32_FLASH_BASE + off, img + off, 16) != DF_OK)
			fail_msg("write at 0x%08x: %s", STM32_FLASH_BASE + off, dfuse_error(&x->d));
	assert_int_equal(x->f.set_addresses, 2);
	assert_memory_equal(x->f.flash, img, FAKE_DFU_FLASH_SIZE);
	x->f.set_addresses = 0;
	assert_int_equal(dfuse_read(&x->d, STM32_FLASH_BASE, back, FAKE_DFU_FLASH_SIZE), DF_OK);
	assert_int_equal(x->f.set_addresses, 2);
	assert_int_equal(x->f.uploads, 65536);
	assert_memory_equal(back, img, FAKE_DFU_FLASH_SIZE);
	assert_int_equal(x->d.retry_count, 0);
	free(img);
	free(back);
}

/* The ABORT that ends a read meets a device that went away. */
static void gone_after_a_read(void **state)
{
	struct fx *x = *state;

	assert_int_equal(dfuse_read(&x->d, 0x08000000, x->back, 2048), DF_OK);
	x->f.present = false;
	assert_int_equal(dfuse_erase_page(&x->d, 0x08004000), DF_ERR_GONE);
	expect_err(&x->d, "the board disconnected during the erase of the page at "
		   "0x08004000: the DFU device on usb (fake) went away");
	x->f.present = true;
	x->f.state = DFU_STATE_UPLOAD_IDLE;
	assert_int_equal(dfuse_read(&x->d, 0x08000000, x->back, 2048), DF_OK);
	x->f.present = false;
	assert_int_equal(dfuse_finish(&x->d), DF_ERR_GONE);
	expect_err(&x->d, "the board disconnected during the end of the read: the DFU "
		   "device on usb (fake) went away");
}

/* ---- The session: finding the device, the chip check ---------------- */

static void opts(struct connect_opts *co, struct fx *x)
{
	memset(co, 0, sizeof(*co));
	co->port = "usb";
	co->usb = &x->f.provider;
	co->dfu_wait_ms = 400;
}

static void session_ok(void **state)
{
	struct fx *x = *state;
	struct connect_opts co;
	struct session s;
	char err[1024] = "";

	opts(&co, x);
	x->f.absent_opens = 2;        /* appears on the third look */
	if (session_open(&s, &co, err, sizeof(err)) != OP_OK)
		fail_msg("%s", err);
	assert_int_equal(x->f.opens, 3);
	assert_int_equal(s.block, 2048);
	assert_int_equal(s.chip.usb_vid, 0x0483);
	assert_int_equal(s.chip.usb_pid, 0xDF11);
	assert_string_equal(s.ops->protocol, "DfuSe");
	assert_int_equal(s.ops->read(&s, 0x08000000, x->back, 16), OP_OK);
	assert_int_equal(x->f.state, DFU_STATE_UPLOAD_IDLE);
	session_close(&s);
	/* The read's end: back in dfuIDLE for the next program. */
	assert_int_equal(x->f.state, DFU_STATE_IDLE);
}

static void session_expect(struct fx *x, struct connect_opts *co, enum op_status want,
			   const char *needle)
{
	struct session s;
	char err[1024] = "";

	assert_int_equal(session_open(&s, co, err, sizeof(err)), want);
	if (!strstr(err, needle))
		fail_msg("error '%s' lacks '%s'", err, needle);
	session_close(&s);
	(void)x;
}

static void no_device(void **state)
{
	struct fx *x = *state;
	struct connect_opts co;

	opts(&co, x);
	x->f.present = false;
	session_expect(x, &co, OP_ERR_NO_ANSWER,
		       "no DFU device 0483:df11 appeared within 400 ms (nothing asked "
		       "the board to enter it: give --enter-port PORT or --enter-exec "
		       "CMD): is the board in its ROM bootloader? the ROM offers USB DFU "
		       "only with an LSE (32.768 kHz) or an HSE of 24, 20, 18, 16, 12, 9, "
		       "8, 6 or 4 MHz (AN2606)");
	assert_true(x->f.opens >= 4);   /* looked again every 100 ms */
}

/* Just after it appears, udev may not have granted access yet. */
static void access_granted_late(void **state)
{
	struct fx *x = *state;
	struct connect_opts co;
	struct session s;
	char err[1024] = "";

	opts(&co, x);
	x->f.denied_opens = 3;
	if (session_open(&s, &co, err, sizeof(err)) != OP_OK)
		fail_msg("%s", err);
	assert_int_equal(x->f.opens, 4);
	session_close(&s);
}

/* Denied for good: the permission error, after a bounded wait. */
static void access_denied(void **state)
{
	struct fx *x = *state;
	struct connect_opts co;

	opts(&co, x);
	co.dfu_wait_ms = 3000;
	x->f.denied_opens = 1000;
	session_expect(x, &co, OP_ERR_PORT,
		       "permission denied opening USB device 0483:df11 (bus 1 device 5)");
	/* Given about a second (every 100 ms), not the whole --dfu-wait. */
	assert_in_range(x->f.opens, 8, 16);
}

static void not_answering_yet(void **state)
{
	struct fx *x = *state;
	struct connect_opts co;
	struct session s;
	char err[1024] = "";

	/* Strings refused twice, just after attaching: waited for, not
	 * taken for another chip. */
	opts(&co, x);
	x->f.mute_opens = 2;
	if (session_open(&s, &co, err, sizeof(err)) != OP_OK)
		fail_msg("%s", err);
	assert_int_equal(x->f.opens, 3);
	session_close(&s);
	/* Never answering: a timeout that says what did not come. */
	opts(&co, x);
	x->f.mute_opens = 1000;
	session_expect(x, &co, OP_ERR_TIMEOUT,
		       "timeout: the DFU device 0483:df11 appeared but did not answer "
		       "within 400 ms: USB device 0483:df11 (bus 1 device 5) does not give "
		       "its string descriptors: Operation timed out");
}

static void wrong_ids(void **state)
{
	struct fx *x = *state;
	struct connect_opts co;

	opts(&co, x);
	x->f.vid = 0x1234;
	x->f.pid = 0x5678;
	co.port = "usb:1234:5678";
	session_expect(x, &co, OP_ERR_WRONG_CHIP,
		       "wrong chip: USB device 1234:5678 on usb:1234:5678 (bus 1 device 5) "
		       "is not the STM32 ROM bootloader (0483:df11, AN2606)");
}

static void wrong_layout(void **state)
{
	struct fx *x = *state;
	struct connect_opts co;

	opts(&co, x);
	x->f.layout = "@Internal Flash  /0x08000000/256*0002Kg";
	session_expect(x, &co, OP_ERR_WRONG_CHIP,
		       "wrong chip: the DFU device on usb (bus 1 device 5) describes its "
		       "internal flash as \"@Internal Flash  /0x08000000/256*0002Kg\" "
		       "(512 KB in 2048-byte sectors from 0x08000000), but an "
		       "STM32L47x/48x has 1 MB in 2 KB pages from 0x08000000");
	x->f.layout = "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg";
	session_expect(x, &co, OP_ERR_WRONG_CHIP, "(1024 KB in 16384-byte sectors");
	x->f.layout = "@Flash  /0x08000000/512*0002Kg";
	session_expect(x, &co, OP_ERR_WRONG_CHIP,
		       "has no \"@Internal Flash\" memory among its 2 alternate settings");
}

static void several_devices(void **state)
{
	struct fx *x = *state;
	struct connect_opts co;

	opts(&co, x);
	x->f.several = 2;
	session_expect(x, &co, OP_ERR_USAGE,
		       "2 DFU devices match 0483:df11; choose one with --port "
		       "usb:0483:df11:SERIAL: serial FAKE0001 (bus 1 device 5), serial "
		       "FAKE0002 (bus 1 device 6)");
}

static void enter_options(void **state)
{
	struct fx *x = *state;
	struct connect_opts co;
	struct session s;
	char err[1024] = "";

	opts(&co, x);
	co.enter_cmd = "bootloader\r\n";
	session_expect(x, &co, OP_ERR_USAGE, "--enter-cmd needs --enter-port PORT over USB");
	opts(&co, x);
	co.enter_exec = "exit 3";
	session_expect(x, &co, OP_ERR_INTERNAL,
		       "the --enter-exec command \"exit 3\" failed (exit status 3), so the "
		       "board was not asked to enter the ROM bootloader");
	assert_int_equal(x->f.opens, 0);
	opts(&co, x);
	co.enter_exec = "true";
	if (session_open(&s, &co, err, sizeof(err)) != OP_OK)
		fail_msg("%s", err);
	session_close(&s);
	opts(&co, x);
	co.enter_port = "/dev/ttyNOSUCHsysboot";
	session_expect(x, &co, OP_ERR_PORT, "no such device: /dev/ttyNOSUCHsysboot");
	opts(&co, x);
	co.port = "usb:xyz";
	session_expect(x, &co, OP_ERR_USAGE, "bad USB port 'usb:xyz'");
}

static void serial_port_refuses_enter_port(void **state)
{
	struct fx *x = *state;
	struct connect_opts co;

	opts(&co, x);
	co.port = "/dev/ttyNOSUCHsysboot";
	co.enter_port = "/dev/ttyUSB0";
	session_expect(x, &co, OP_ERR_USAGE,
		       "--enter-port is for USB ports: over a serial port the enter "
		       "command goes on --port itself");
}

static void stop_while_waiting(void **state)
{
	struct fx *x = *state;
	struct connect_opts co;
	volatile sig_atomic_t stop = 1;

	opts(&co, x);
	x->f.present = false;
	co.stop = &stop;
	session_expect(x, &co, OP_ERR_INTERRUPTED, "interrupted while waiting for the DFU device");
	assert_int_equal(x->f.opens, 1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(write_read_round_trip),
		T(poll_timeout_honoured),
		T(long_writes_padded_to_8),
		T(error_state_cleared_and_retried),
		T(error_state_persists),
		T(stall_once_recovers),
		T(stall_always),
		T(vanishes_mid_write),
		T(status_timeouts),
		T(busy_for_ever),
		T(lost_status_after_programming),
		T(mass_erase_leave_unprotect),
		T(leave_jumps),
		T(memories_chosen_by_address),
		T(get_commands),
		T(consecutive_writes_share_one_address),
		T(the_address_is_set_again_where_the_run_ends),
		T(a_failed_block_sets_the_address_again),
		T(a_stalled_block_sets_the_address_again),
		T(a_lost_status_in_a_run),
		T(reads_are_one_upload_per_block),
		T(a_stalled_upload_sets_the_address_again),
		T(block_numbers_stop_before_they_wrap),
		T(gone_after_a_read),
		T(session_ok),
		T(no_device),
		T(access_granted_late),
		T(access_denied),
		T(not_answering_yet),
		T(wrong_ids),
		T(wrong_layout),
		T(several_devices),
		T(enter_options),
		T(serial_port_refuses_enter_port),
		T(stop_while_waiting),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
