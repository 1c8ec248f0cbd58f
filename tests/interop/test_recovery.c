/*
 * test_recovery.c - the host's recovery from a bad line, against the real
 * AN3155 engine of the emulated ROM (sim/rom/rom_usart.c) at the end of a
 * socketpair, with faults placed on exact bytes.
 *
 * Why the engine and not the scripted fake ROM: what a lost byte does
 * depends on the state the ROM is left in (waiting for the rest of 256
 * data bytes, for 65536 page numbers, a byte out of step with the host),
 * and only the real state machine has those states. Each test loses or
 * damages one chosen byte, or a byte of every long frame, and checks that
 * the client gets the ROM back in step, quickly, without doing anything
 * twice.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "an3155.h"
#include "memtarget.h"
#include "rom/rom_usart.h"
#include "transport.h"
#include "bootloader.h"
#include "update.h"
#include "sysboot/stm32l476.h"

/* Faults, by byte number from 1 on each direction, or by place in a frame. */
struct faults {
	unsigned long drop_in;       /* host to ROM */
	unsigned long corrupt_in;
	uint8_t corrupt_mask;
	unsigned long drop_out;      /* ROM to host */
	unsigned frame_drop_at;      /* drop byte k of every frame received since the ROM last spoke */
	unsigned long mute_after;    /* host to ROM: every byte after this one lost */
};

struct rig {
	struct memtarget t;
	struct rom_usart rom;
	struct faults f;
	int fd;
	pthread_t thread;
	unsigned long in, out;
	unsigned frame;
	struct transport *tp;
	struct an3155 an;
	struct session s;
};

static struct rig rig;

static void rom_tx(struct memtarget *t, const uint8_t *buf, uint32_t len)
{
	struct rig *r = t->tx_ctx;
	uint32_t i;

	for (i = 0; i < len; i++) {
		r->frame = 0;
		if (++r->out == r->f.drop_out)
			continue;
		if (write(r->fd, &buf[i], 1) != 1)
			return;
	}
}

static void *rom_main(void *arg)
{
	struct rig *r = arg;
	uint8_t b;

	while (read(r->fd, &b, 1) == 1) {
		r->in++;
		if (r->in == r->f.drop_in || (r->f.mute_after && r->in > r->f.mute_after))
			continue;
		if (r->f.frame_drop_at && ++r->frame == r->f.frame_drop_at)
			continue;
		if (r->in == r->f.corrupt_in)
			b ^= r->f.corrupt_mask;
		rom_usart_rx(&r->rom, b);
	}
	return NULL;
}

static int setup(void **state)
{
	static const struct rom_usart_config cfg = {
		.product_id = STM32_DEV_ID,
		.protocol_version = AN3155_L476_PROTOCOL_VERSION,
		.ram_reserved = 12u * 1024u,
	};
	int sv[2];

	memset(&rig, 0, sizeof(rig));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return -1;
	rig.fd = sv[1];
	rig.t.tx_fn = rom_tx;
	rig.t.tx_ctx = &rig;
	memtarget_reset(&rig.t);
	rom_usart_init(&rig.rom, &cfg, &memtarget_ops, &rig.t);
	rig.tp = transport_from_fd(sv[0], "engine");
	an3155_init(&rig.an, rig.tp);
	rig.an.ack_timeout_ms = 50;
	*state = &rig;
	return 0;
}

/* Faults set, the ROM starts listening and the host synchronises. */
static void start(struct rig *r)
{
	pthread_create(&r->thread, NULL, rom_main, r);
	assert_int_equal(an3155_sync(&r->an, 3, 200), AN_OK);
}

static int teardown(void **state)
{
	struct rig *r = *state;

	transport_close(r->tp);
	pthread_join(r->thread, NULL);
	close(r->fd);
	return 0;
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pattern(uint8_t *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

static void lost_address_ack_is_filled_in_at_once(void **state)
{
	struct rig *r = *state;
	uint8_t data[256];
	double t0;

	/* ROM bytes: 1 the sync's ACK, 2 the command's, 3 the address's. */
	r->f.drop_out = 3;
	start(r);
	pattern(data, sizeof(data), 1);
	t0 = seconds();
	assert_int_equal(an3155_write(&r->an, 0x08004000, data, sizeof(data)), AN_OK);
	/*
	 * The ROM waited for 258 more bytes: one 0x7F at a time, with a wait
	 * for each, that took seconds; the filler takes one timeout and a
	 * few milliseconds.
	 */
	assert_true(seconds() - t0 < 1.0);
	assert_memory_equal(r->t.flash + 0x4000, data, sizeof(data));
	/* The filler's own 256 bytes of 0xFF (which change nothing), then the data. */
	assert_int_equal(r->t.writes, 2);
	assert_int_equal(r->an.retry_count, 1);
}

static void garbled_erase_count_is_filled_in(void **state)
{
	struct rig *r = *state;
	uint16_t page = 10;

	/* Host bytes: 1 sync, 2-3 the command, 4 the count's high byte. */
	r->f.corrupt_in = 4;
	r->f.corrupt_mask = 0x80;
	start(r);
	memset(r->t.flash + 10 * STM32_FLASH_PAGE_SIZE, 0, 16);
	/* The ROM now waits for 32769 page numbers: 65539 bytes to fill. */
	assert_int_equal(an3155_erase_pages(&r->an, &page, 1), AN_OK);
	assert_int_equal(r->t.flash[10 * STM32_FLASH_PAGE_SIZE], 0xFF);
	assert_int_equal(r->t.erased_count, 1);
	assert_int_equal(r->t.bank_erased, -1);   /* the 0xFFFF code never erased all */
}

static void failed_command_leaves_the_rom_in_step(void **state)
{
	struct rig *r = *state;
	uint8_t data[256];
	uint16_t page = 12;
	unsigned before;

	/* Every 256-byte data frame loses a byte: the write fails for good. */
	r->f.frame_drop_at = 200;
	start(r);
	pattern(data, sizeof(data), 2);
	assert_int_equal(an3155_write(&r->an, 0x08006000, data, sizeof(data)), AN_ERR_TIMEOUT);
	assert_non_null(strstr(an3155_error(&r->an),
			       "timeout: no answer from the ROM bootloader on engine to Write Memory at 0x08006000 (waiting for the answer to the data, 4 attempts)"));
	/* The next command is not swallowed by the ROM as the rest of that one. */
	before = r->an.retry_count;
	assert_int_equal(an3155_erase_pages(&r->an, &page, 1), AN_OK);
	assert_int_equal(r->an.retry_count, before);
	assert_int_equal(r->t.writes, 0);
}

static void long_block_is_written_in_pieces(void **state)
{
	struct rig *r = *state;
	static uint8_t data[512];
	struct flash_image im = { .base = 0x08008000, .len = sizeof(data), .data = data };
	struct write_stats ws;
	char err[512];

	r->f.frame_drop_at = 200;
	start(r);
	r->s.ops = &an3155_bl_ops;
	r->s.block = AN3155_MAX_DATA;
	r->s.tp = r->s.app = r->tp;
	r->s.an = r->an;
	pattern(data, sizeof(data), 3);
	if (flash_write_image(&r->s, &im, NULL, NULL, NULL, NULL, &ws, err, sizeof(err)) != OP_OK)
		fail_msg("%s", err);
	assert_memory_equal(r->t.flash + 0x8000, data, sizeof(data));
	/* 256-byte frames never get through; 64-byte ones do. */
	assert_int_equal(r->t.writes, 8);
	assert_int_equal(ws.pages_rewritten, 0);
}

static void go_without_its_last_ack_is_not_repeated(void **state)
{
	struct rig *r = *state;

	r->f.drop_out = 3;    /* the ACK to Go's address */
	start(r);
	assert_int_equal(an3155_go(&r->an, 0x08000000), AN_ERR_TIMEOUT);
	assert_int_equal(r->t.go_calls, 1);
	assert_non_null(strstr(an3155_error(&r->an), "to Go at 0x08000000 (waiting for the answer to the address, 1 attempt): it may have carried it out"));
}

static void rom_that_stopped_listening_is_reported(void **state)
{
	struct rig *r = *state;

	/* After the sync, nothing reaches the ROM any more: no fill, no probe. */
	r->f.mute_after = 1;
	start(r);
	assert_int_equal(an3155_resync(&r->an), AN_ERR_TIMEOUT);
	assert_string_equal(an3155_error(&r->an),
			    "no answer from the ROM bootloader on engine after 135168 filler bytes "
			    "and 4 probes: it no longer listens (reset the board)");
}

static void redo_only_what_leaves_the_board_in_the_rom(void **state)
{
	struct update_result res;

	(void)state;
	memset(&res, 0, sizeof(res));
	res.rejected = true;
	assert_true(update_worth_redoing(OP_ERR_VERIFY, &res));
	res.rejected = false;
	assert_false(update_worth_redoing(OP_ERR_VERIFY, &res));   /* a wrong version runs */
	assert_false(update_worth_redoing(OP_ERR_TIMEOUT, &res));  /* nothing erased yet */
	res.erase_started = true;
	assert_true(update_worth_redoing(OP_ERR_TIMEOUT, &res));
	assert_true(update_worth_redoing(OP_ERR_NACK, &res));
	assert_true(update_worth_redoing(OP_ERR_PROTOCOL, &res));
	assert_false(update_worth_redoing(OP_ERR_LINK, &res));
	assert_false(update_worth_redoing(OP_ERR_INTERRUPTED, &res));
	assert_false(update_worth_redoing(OP_ERR_INPUT, &res));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(lost_address_ack_is_filled_in_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(garbled_erase_count_is_filled_in, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_command_leaves_the_rom_in_step, setup, teardown),
		cmocka_unit_test_setup_teardown(long_block_is_written_in_pieces, setup, teardown),
		cmocka_unit_test_setup_teardown(go_without_its_last_ack_is_not_repeated, setup, teardown),
		cmocka_unit_test_setup_teardown(rom_that_stopped_listening_is_reported, setup, teardown),
		cmocka_unit_test(redo_only_what_leaves_the_board_in_the_rom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
