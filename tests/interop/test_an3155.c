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
#include "transport.h"
#include "sysboot/stm32l476.h"

#define FAKE_FLASH_SIZE 0x4000u

struct fake_rom {
	int fd;
	pthread_t thread;
	uint16_t pid;
	bool synced;
	int drop_write_ack;      /* swallow the ACK of this many writes (done) */
	int drop_read_bytes;     /* send one byte short on this many reads */
	int ignore_syncs;        /* ignore this many 0x7F before syncing */
	uint8_t wrp_page;        /* writes to this page are NACKed (0 = none) */
	unsigned cmds_seen;
	uint32_t go_addr;
	uint8_t flash[FAKE_FLASH_SIZE];
};

static bool rx(struct fake_rom *r, uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(r->fd, buf + done, len - done);

		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

static void txb(struct fake_rom *r, uint8_t b)
{
	if (write(r->fd, &b, 1) != 1)
		return;
}

static bool rx_addr(struct fake_rom *r, uint32_t *addr)
{
	uint8_t a[5];

	if (!rx(r, a, 5))
		return false;
	if ((a[0] ^ a[1] ^ a[2] ^ a[3]) != a[4]) {
		txb(r, AN3155_NACK);
		return false;
	}
	*addr = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
		(uint32_t)a[2] << 8 | a[3];
	return true;
}

static uint8_t *flash_at(struct fake_rom *r, uint32_t addr, size_t len)
{
	if (addr < STM32_FLASH_BASE || addr - STM32_FLASH_BASE + len > FAKE_FLASH_SIZE)
		return NULL;
	return r->flash + (addr - STM32_FLASH_BASE);
}

static void *fake_rom_main(void *arg)
{
	struct fake_rom *r = arg;
	uint8_t c[2], buf[300];
	uint32_t addr;

	for (;;) {
		if (!rx(r, c, 1))
			return NULL;
		if (!r->synced) {
			if (c[0] == AN3155_SYNC) {
				if (r->ignore_syncs > 0) {
					r->ignore_syncs--;
					continue;
				}
				r->synced = true;
				txb(r, AN3155_ACK);
			}
			continue;
		}
		if (!rx(r, c + 1, 1))
			return NULL;
		if ((uint8_t)(c[0] ^ c[1]) != 0xFF) {
			txb(r, AN3155_NACK);
			continue;
		}
		r->cmds_seen++;
		switch (c[0]) {
		case AN3155_CMD_GET: {
			static const uint8_t ans[] = { 11, 0x31, 0x00, 0x01, 0x02,
				0x11, 0x21, 0x31, 0x44, 0x63, 0x73, 0x82, 0x92 };
			txb(r, AN3155_ACK);
			for (size_t i = 0; i < sizeof(ans); i++)
				txb(r, ans[i]);
			txb(r, AN3155_ACK);
			break;
		}
		case AN3155_CMD_GET_VERSION:
			txb(r, AN3155_ACK);
			txb(r, 0x31);
			txb(r, 0);
			txb(r, 0);
			txb(r, AN3155_ACK);
			break;
		case AN3155_CMD_GET_ID:
			txb(r, AN3155_ACK);
			txb(r, 1);
			txb(r, (uint8_t)(r->pid >> 8));
			txb(r, (uint8_t)r->pid);
			txb(r, AN3155_ACK);
			break;
		case AN3155_CMD_READ_MEMORY: {
			uint8_t *p;
			size_t n;

			txb(r, AN3155_ACK);
			if (!rx_addr(r, &addr))
				break;
			txb(r, AN3155_ACK);
			if (!rx(r, c, 2))
				return NULL;
			n = (size_t)c[0] + 1;
			p = flash_at(r, addr, n);
			if ((uint8_t)(c[0] ^ c[1]) != 0xFF || !p) {
				txb(r, AN3155_NACK);
				break;
			}
			txb(r, AN3155_ACK);
			if (r->drop_read_bytes > 0) {
				r->drop_read_bytes--;
				n--;
			}
			for (size_t i = 0; i < n; i++)
				txb(r, p[i]);
			break;
		}
		case AN3155_CMD_WRITE_MEMORY: {
			uint8_t x, *p;
			size_t n, i;
			bool ok = true;

			txb(r, AN3155_ACK);
			if (!rx_addr(r, &addr))
				break;
			txb(r, AN3155_ACK);
			if (!rx(r, c, 1))
				return NULL;
			n = (size_t)c[0] + 1;
			if (!rx(r, buf, n + 1))
				return NULL;
			x = c[0];
			for (i = 0; i < n; i++)
				x ^= buf[i];
			p = flash_at(r, addr, n);
			if (x != buf[n] || !p ||
			    (r->wrp_page && (addr - STM32_FLASH_BASE) /
			     STM32_FLASH_PAGE_SIZE == r->wrp_page)) {
				txb(r, AN3155_NACK);
				break;
			}
			for (i = 0; i < n; i++)
				if (p[i] != 0xFF)
					ok = false;
			if (!ok) {
				txb(r, AN3155_NACK);
				break;
			}
			memcpy(p, buf, n);
			if (r->drop_write_ack > 0) {
				r->drop_write_ack--;
				break;
			}
			txb(r, AN3155_ACK);
			break;
		}
		case AN3155_CMD_EXT_ERASE: {
			uint8_t x = 0;
			size_t n, i;

			txb(r, AN3155_ACK);
			if (!rx(r, buf, 2))
				return NULL;
			n = ((size_t)buf[0] << 8 | buf[1]);
			if (n >= 0xFFF0) {
				if (!rx(r, buf + 2, 1))
					return NULL;
				memset(r->flash, 0xFF, sizeof(r->flash));
				txb(r, (buf[0] ^ buf[1]) == buf[2] ?
				    AN3155_ACK : AN3155_NACK);
				break;
			}
			n++;
			if (!rx(r, buf + 2, 2 * n + 1))
				return NULL;
			for (i = 0; i < 2 * n + 2; i++)
				x ^= buf[i];
			if (x != buf[2 * n + 2]) {
				txb(r, AN3155_NACK);
				break;
			}
			for (i = 0; i < n; i++) {
				unsigned pg = (unsigned)buf[2 + 2 * i] << 8 | buf[3 + 2 * i];

				if ((pg + 1) * STM32_FLASH_PAGE_SIZE <= FAKE_FLASH_SIZE)
					memset(r->flash + pg * STM32_FLASH_PAGE_SIZE,
					       0xFF, STM32_FLASH_PAGE_SIZE);
			}
			txb(r, AN3155_ACK);
			break;
		}
		case AN3155_CMD_GO:
			txb(r, AN3155_ACK);
			if (!rx_addr(r, &addr))
				break;
			r->go_addr = addr;
			txb(r, AN3155_ACK);
			break;
		default:
			txb(r, AN3155_NACK);
			break;
		}
	}
}

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sync_then_already_synced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_retries_until_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_and_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_chip, setup, teardown),
		cmocka_unit_test(test_parse_id),
		cmocka_unit_test_setup_teardown(test_write_read_erase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_alignment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_read_byte_resyncs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_write_ack_checked_by_readback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nack_names_command_and_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_closed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, 0, NULL);
}
