/*
 * test_an3155.c - unit tests of the host's AN3155 client against a small
 * scripted ROM on the other end of a socketpair.
 *
 * Why a fake ROM here when the emulator has a real model: the emulator
 * cannot pretend to be another chip, lose a byte on demand or swallow an
 * ACK, and those are exactly the paths (wrong chip, resynchronisation,
 * a write whose ACK was lost) that must be proven to work. The fake ROM
 * follows AN3155's byte sequences; flash is 16 KB at 0x08000000 and, like
 * the real part (RM0351 3.3.7), refuses to program a non-erased double word.
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
#include <unistd.h>

#include "an3155.h"
#include "fake_rom.h"
#include "transport.h"
#include "sysboot/stm32l476.h"

struct fixture {
	struct fake_rom rom;
	struct transport *tp;
	struct an3155 an;
};

static int setup(void **state)
{
	static struct fixture f;
	int sv[2];

	memset(&f, 0, sizeof(f));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return -1;
	f.rom.fd = sv[1];
	f.rom.pid = STM32_DEV_ID;
	memset(f.rom.flash, 0xFF, sizeof(f.rom.flash));
	f.tp = transport_from_fd(sv[0], "fake-rom");
	an3155_init(&f.an, f.tp);
	f.an.ack_timeout_ms = 200;
	*state = &f;
	return 0;
}

static void start(struct fixture *f)
{
	pthread_create(&f->rom.thread, NULL, fake_rom_main, &f->rom);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	transport_close(f->tp);   /* the fake ROM sees EOF and ends */
	pthread_join(f->rom.thread, NULL);
	close(f->rom.fd);
	return 0;
}

static void test_sync_then_already_synced(void **state)
{
	struct fixture *f = *state;

	start(f);
	assert_int_equal(an3155_sync(&f->an, 3, 200), AN_OK);
	/* The second sync: 0x7F taken as a command, then NACK. */
	assert_int_equal(an3155_sync(&f->an, 3, 200), AN_OK);
	assert_int_equal(an3155_get(&f->an), AN_OK);
	assert_int_equal(f->an.bl_version, 0x31);
	assert_true(an3155_has_cmd(&f->an, AN3155_CMD_EXT_ERASE));
}

static void test_sync_retries_until_answer(void **state)
{
	struct fixture *f = *state;

	f->rom.ignore_syncs = 2;
	start(f);
	assert_int_equal(an3155_sync(&f->an, 5, 100), AN_OK);
}

static void test_no_answer(void **state)
{
	struct fixture *f = *state;
	char expect[200];

	f->rom.ignore_syncs = 1000;
	start(f);
	assert_int_equal(an3155_sync(&f->an, 3, 50), AN_ERR_NO_ANSWER);
	snprintf(expect, sizeof(expect), "no answer from the ROM bootloader on "
		 "fake-rom: is the board in bootloader mode? (tried 3 times)");
	assert_string_equal(an3155_error(&f->an), expect);
}

/*
 * A ROM that is starting loses what it hears (AN2606). An LSE board's ROM
 * listens after 55 ms: the startup sync must try often at first (every
 * 25 ms for 500 ms), then every 100 ms for one without LSE (2.56 s).
 * Counted in attempts, not timed: 1000 ms are 20 fast + 5 slow ones.
 */
static void test_startup_sync_tries_often_then_less(void **state)
{
	(void)state;
	assert_int_equal(an3155_startup_attempts(1000), 25);
	assert_int_equal(an3155_startup_attempts(4000), 55);
	assert_int_equal(an3155_startup_attempts(300), 12);
	assert_int_equal(an3155_startup_attempts(0), 0);
}

static void test_startup_sync_reaches_a_rom_still_starting(void **state)
{
	struct fixture *f = *state;

	/* 12 bytes lost: past the old 100 ms schedule's 10 tries in 1 s. */
	f->rom.ignore_syncs = 12;
	start(f);
	assert_int_equal(an3155_sync_startup(&f->an, 1000), AN_OK);
	assert_int_equal(an3155_get(&f->an), AN_OK);
}

static void test_startup_sync_keeps_trying_slowly(void **state)
{
	struct fixture *f = *state;

	/* Past the fast phase, found in the slow one. */
	f->rom.ignore_syncs = 22;
	start(f);
	assert_int_equal(an3155_sync_startup(&f->an, 1000), AN_OK);
	assert_int_equal(an3155_get_id(&f->an, &(uint16_t){ 0 }), AN_OK);
}

static void test_startup_sync_gives_up(void **state)
{
	struct fixture *f = *state;

	f->rom.ignore_syncs = 1000;
	start(f);
	assert_int_equal(an3155_sync_startup(&f->an, 1000), AN_ERR_NO_ANSWER);
	assert_string_equal(an3155_error(&f->an), "no answer from the ROM bootloader on "
			    "fake-rom: is the board in bootloader mode? (tried 25 times)");
}

static void test_id_and_version(void **state)
{
	struct fixture *f = *state;
	uint16_t pid = 0;
	uint8_t v = 0, opt[2];

	start(f);
	assert_int_equal(an3155_sync(&f->an, 3, 200), AN_OK);
	assert_int_equal(an3155_get_id(&f->an, &pid), AN_OK);
	assert_int_equal(pid, 0x415);
	assert_int_equal(an3155_get_version(&f->an, &v, opt), AN_OK);
	assert_int_equal(v, 0x31);
}

static void test_wrong_chip(void **state)
{
	struct fixture *f = *state;
	uint16_t pid = 0;
	char msg[128];

	f->rom.pid = 0x413;
	start(f);
	assert_int_equal(an3155_sync(&f->an, 3, 200), AN_OK);
	assert_int_equal(an3155_get_id(&f->an, &pid), AN_OK);
	assert_int_equal(pid, 0x413);
	assert_int_equal(an3155_check_id(pid, msg, sizeof(msg)), AN_ERR_WRONG_CHIP);
	assert_string_equal(msg, "wrong chip: device ID 0x413, expected 0x415 "
			    "(STM32L47x/48x)");
	assert_int_equal(an3155_check_id(0x415, msg, sizeof(msg)), AN_OK);
}

static void test_parse_id(void **state)
{
	const uint8_t two[] = { 1, 0x04, 0x15 };
	const uint8_t one[] = { 0, 0x15 };
	const uint8_t bad[] = { 1, 0x04 };
	uint16_t pid = 0;

	(void)state;
	assert_int_equal(an3155_parse_id(two, sizeof(two), &pid), AN_OK);
	assert_int_equal(pid, 0x415);
	assert_int_equal(an3155_parse_id(one, sizeof(one), &pid), AN_OK);
	assert_int_equal(pid, 0x15);
	assert_int_equal(an3155_parse_id(bad, sizeof(bad), &pid), AN_ERR_PROTOCOL);
}

static void test_write_read_erase(void **state)
{
	struct fixture *f = *state;
	uint8_t data[256], back[256];
	uint16_t page = 1;
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	start(f);
	assert_int_equal(an3155_sync(&f->an, 3, 200), AN_OK);
	assert_int_equal(an3155_write(&f->an, 0x08000800, data, 256), AN_OK);
	assert_int_equal(an3155_read(&f->an, 0x08000800, back, 256), AN_OK);
	assert_memory_equal(data, back, 256);
	/* Programming twice is refused, like real flash. */
	assert_int_equal(an3155_write(&f->an, 0x08000800, data, 8), AN_ERR_NACK);
	assert_non_null(strstr(an3155_error(&f->an), "refused Write Memory at "
			       "0x08000800 (NACK to the data, 4 attempts)"));
	assert_int_equal(an3155_erase_pages(&f->an, &page, 1), AN_OK);
	assert_int_equal(an3155_read(&f->an, 0x08000800, back, 16), AN_OK);
	for (i = 0; i < 16; i++)
		assert_int_equal(back[i], 0xFF);
	assert_int_equal(an3155_erase_special(&f->an, AN3155_ERASE_MASS), AN_OK);
	assert_int_equal(an3155_go(&f->an, 0x08000000), AN_OK);
	assert_int_equal(f->rom.go_addr, 0x08000000);
}

static void test_write_alignment(void **state)
{
	struct fixture *f = *state;
	uint8_t data[8] = { 0 };

	start(f);
	assert_int_equal(an3155_write(&f->an, 0x08000004, data, 8), AN_ERR_ARG);
	assert_non_null(strstr(an3155_error(&f->an), "multiples of 8"));
	assert_int_equal(an3155_write(&f->an, 0x08000000, data, 6), AN_ERR_ARG);
	assert_int_equal(f->rom.cmds_seen, 0);
}

static void test_lost_read_byte_resyncs(void **state)
{
	struct fixture *f = *state;
	uint8_t back[64];

	f->rom.flash[5] = 0x42;
	f->rom.drop_read_bytes = 1;
	start(f);
	assert_int_equal(an3155_sync(&f->an, 3, 200), AN_OK);
	assert_int_equal(an3155_read(&f->an, 0x08000000, back, 64), AN_OK);
	assert_int_equal(back[5], 0x42);
	assert_int_equal(f->an.retry_count, 1);
	/* Still in step afterwards. */
	assert_int_equal(an3155_read(&f->an, 0x08000000, back, 8), AN_OK);
}

static void test_lost_write_ack_checked_by_readback(void **state)
{
	struct fixture *f = *state;
	uint8_t data[32], back[32];

	memset(data, 0x5A, sizeof(data));
	f->rom.drop_write_ack = 1;
	start(f);
	assert_int_equal(an3155_sync(&f->an, 3, 200), AN_OK);
	assert_int_equal(an3155_write(&f->an, 0x08001000, data, 32), AN_OK);
	assert_int_equal(an3155_read(&f->an, 0x08001000, back, 32), AN_OK);
	assert_memory_equal(data, back, 32);
}

static void test_nack_names_command_and_address(void **state)
{
	struct fixture *f = *state;
	uint8_t data[8] = { 0 };

	f->rom.wrp_page = 2;
	start(f);
	assert_int_equal(an3155_sync(&f->an, 3, 200), AN_OK);
	assert_int_equal(an3155_write(&f->an, 0x08001000, data, 8), AN_ERR_NACK);
	assert_non_null(strstr(an3155_error(&f->an),
			       "the ROM bootloader refused Write Memory at 0x08001000"));
	assert_non_null(strstr(an3155_error(&f->an), "write-protected"));
}

static void test_link_closed(void **state)
{
	struct fixture *f = *state;
	uint8_t b[8];

	start(f);
	assert_int_equal(an3155_sync(&f->an, 3, 200), AN_OK);
	shutdown(f->rom.fd, SHUT_RDWR);
	assert_int_equal(an3155_read(&f->an, 0x08000000, b, 8), AN_ERR_LINK);
	assert_non_null(strstr(an3155_error(&f->an), "link closed by the peer"));
}

static void test_transport_errors(void **state)
{
	struct transport *t = NULL;
	char err[512];

	(void)state;
	assert_int_equal(transport_open(&t, "/dev/ttyNOSUCHsysboot", 115200,
					TP_PARITY_EVEN, err, sizeof(err)),
			 TP_ERR_NODEV);
	assert_non_null(strstr(err, "no such device: /dev/ttyNOSUCHsysboot"));
	/* Port 1 on loopback: nothing listens there. */
	assert_int_equal(transport_open(&t, "tcp:127.0.0.1:1", 115200,
					TP_PARITY_EVEN, err, sizeof(err)),
			 TP_ERR_REFUSED);
	assert_non_null(strstr(err, "connection refused by tcp:127.0.0.1:1"));
	assert_int_equal(transport_open(&t, "/dev/null", 115200, TP_PARITY_EVEN,
					err, sizeof(err)), TP_ERR_NODEV);
	assert_non_null(strstr(err, "is not a serial port"));
	assert_null(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sync_then_already_synced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_retries_until_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_answer, setup, teardown),
		cmocka_unit_test(test_startup_sync_tries_often_then_less),
		cmocka_unit_test_setup_teardown(test_startup_sync_reaches_a_rom_still_starting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_startup_sync_keeps_trying_slowly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_startup_sync_gives_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_and_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_chip, setup, teardown),
		cmocka_unit_test(test_parse_id),
		cmocka_unit_test_setup_teardown(test_write_read_erase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_alignment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_read_byte_resyncs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_write_ack_checked_by_readback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nack_names_command_and_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_closed, setup, teardown),
		cmocka_unit_test(test_transport_errors),
	};

	return cmocka_run_group_tests(tests, 0, NULL);
}
