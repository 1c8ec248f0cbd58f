/*
 * test_powercut.c - power cuts aimed at a point of an update, and what they
 * leave in flash: the trigger syntax, a cut inside the nth erase, a double
 * word torn in each of the three models (nothing written, bits, bad ECC),
 * the ECC error kept in the flash file and raised on a read until an erase,
 * and the ROM's points (entry, block acknowledged, Go) counted and cut at.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "board.h"
#include "harness.h"
#include "sysboot/an3155.h"

#define PAGE300 (STM32_FLASH_BASE + 300u * STM32_FLASH_PAGE_SIZE)
#define OFF300  (300u * STM32_FLASH_PAGE_SIZE)

static struct sim_board *torn_board(enum sim_torn_mode mode, const char *flash_path)
{
	struct sim_config cfg;
	struct sim_board *sb;

	sim_config_default(&cfg);
	cfg.torn_program = mode;
	cfg.flash_path = flash_path;
	sb = board_new(&cfg);
	sim_power_on(sb);
	return sb;
}

static void aim(struct sim_board *sb, const char *spec)
{
	struct sim_cut_trigger t;
	char err[256];

	if (sim_cut_trigger_parse(spec, &t, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	sim_power_cut_on(sb, &t);
}

static unsigned zero_bits(const uint8_t *p, size_t n)
{
	unsigned z = 0;
	size_t i;

	for (i = 0; i < n; i++)
		z += 8u - (unsigned)__builtin_popcount(p[i]);
	return z;
}

static void trigger_syntax(void **state)
{
	struct sim_cut_trigger t;
	char err[256];

	(void)state;
	assert_int_equal(sim_cut_trigger_parse("program@0x08002000-0x0800203f#3+40", &t, err,
					       sizeof(err)), 0);
	assert_int_equal(t.point, SIM_CUT_PROGRAM);
	assert_int_equal(t.lo, 0x08002000u);
	assert_int_equal(t.hi, 0x0800203Fu);
	assert_int_equal(t.nth, 3);
	assert_true(t.delay == SIM_US(40));
	assert_int_equal(sim_cut_trigger_parse("go", &t, err, sizeof(err)), 0);
	assert_int_equal(t.point, SIM_CUT_GO);
	assert_int_equal(t.nth, 1);
	assert_true(t.lo == 0 && t.hi == 0xFFFFFFFFu && t.delay == 0);
	assert_int_equal(sim_cut_trigger_parse("erase@0x08002000+10.5", &t, err, sizeof(err)), 0);
	assert_true(t.lo == t.hi && t.delay == SIM_NS(10500));

	assert_int_equal(sim_cut_trigger_parse("bogus#2", &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown cut point in 'bogus#2'"));
	assert_int_equal(sim_cut_trigger_parse("erase#0", &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bad cut trigger 'erase#0'"));
	assert_int_equal(sim_cut_trigger_parse("block@0x200-0x100", &t, err, sizeof(err)), -1);
	assert_int_equal(sim_cut_trigger_parse("go+soon", &t, err, sizeof(err)), -1);
	assert_int_equal(sim_cut_trigger_parse("erasex", &t, err, sizeof(err)), -1);
}

static void cut_inside_the_second_erase(void **state)
{
	struct sim_board *sb = torn_board(SIM_TORN_NONE, NULL);
	struct board *b = board_of(sb);
	uint16_t pages[2] = { 300, 301 };
	uint8_t zeros[STM32_FLASH_PAGE_SIZE];
	char why[128];
	unsigned i, erased = 0;

	(void)state;
	memset(zeros, 0, sizeof(zeros));
	for (i = 0; i < 2; i++)
		flash_debug_write(b, PAGE300 + i * STM32_FLASH_PAGE_SIZE, zeros, sizeof(zeros));
	/* Half way through the second page's 22 ms. */
	aim(sb, "erase#2+11000");
	assert_int_equal(flash_rom_erase_pages(b, pages, 2, why, sizeof(why)), -1);
	assert_false(b->powered);
	assert_int_equal(sim_cut_point_count(sb, SIM_CUT_ERASE), 2);
	for (i = 0; i < STM32_FLASH_PAGE_SIZE; i++)
		assert_int_equal(b->flash[OFF300 + i], 0xFF);
	for (i = 0; i < STM32_FLASH_PAGE_SIZE; i++)
		erased += b->flash[OFF300 + STM32_FLASH_PAGE_SIZE + i] == 0xFF;
	assert_int_equal(erased, STM32_FLASH_PAGE_SIZE / 2);
	assert_true(traced(sb, SIM_TRACE_POWER, "power cut aimed at erase #2 (0x08096800)"));
	sim_board_free(sb);
}

/* Program 8 zero bytes at PAGE300 with the cut half way through the 82 us. */
static struct sim_board *torn_dword(enum sim_torn_mode mode, const char *path)
{
	struct sim_board *sb = torn_board(mode, path);
	struct board *b = board_of(sb);
	uint8_t zeros[8] = { 0 };
	char why[128];

	aim(sb, "program@0x08096000#1+41");
	assert_int_equal(flash_rom_program(b, PAGE300, zeros, 8, why, sizeof(why)), -1);
	assert_false(b->powered);
	return sb;
}

static void torn_double_word_models(void **state)
{
	struct sim_board *sb;
	struct board *b;

	(void)state;
	sb = torn_dword(SIM_TORN_NONE, NULL);
	b = board_of(sb);
	assert_int_equal(zero_bits(b->flash + OFF300, 8), 0);
	assert_true(traced(sb, SIM_TRACE_FLASH, "not written (0 of 64 bits programmed)"));
	assert_false(flash_has_ecc_errors(b));
	sim_board_free(sb);

	sb = torn_dword(SIM_TORN_BITS, NULL);
	b = board_of(sb);
	assert_int_equal(zero_bits(b->flash + OFF300, 8), 32);
	assert_false(flash_has_ecc_errors(b));
	sim_power_on(sb);
	assert_false(flash_ecc_read(b, OFF300));
	sim_board_free(sb);

	sb = torn_dword(SIM_TORN_ECC, NULL);
	b = board_of(sb);
	assert_int_equal(zero_bits(b->flash + OFF300, 8), 32);
	assert_true(flash_has_ecc_errors(b));
	assert_true(traced(sb, SIM_TRACE_FLASH, "its ECC no longer matches"));
	sim_power_on(sb);
	/* RM0351 3.3.8: ECCD, the failing double word's bank and offset, the NMI. */
	assert_false(flash_ecc_read(b, OFF300 + 8));
	assert_false(b->nvic.pending[EXC_NMI]);
	assert_true(flash_ecc_read(b, OFF300 + 4));
	assert_true(b->nvic.pending[EXC_NMI]);
	assert_int_equal(b->flashc.eccr,
			 FLASH_ECCR_ECCD | FLASH_ECCR_BK_ECC | (OFF300 - STM32_FLASH_BANK_SIZE));
	/* ECCD clears by writing 1; the address stays until the next error. */
	flash_reg_write(b, &b->flashc, FLASH_ECCR, 4, FLASH_ECCR_ECCD);
	assert_int_equal(b->flashc.eccr, FLASH_ECCR_BK_ECC | (OFF300 - STM32_FLASH_BANK_SIZE));
	sim_board_free(sb);
}

static void ecc_error_outlives_the_run_until_erased(void **state)
{
	char path[] = "/tmp/sysboot-ecc.XXXXXX";
	int fd = mkstemp(path);
	struct sim_board *sb;
	struct board *b;
	uint16_t page = 300;
	char why[128];

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	sb = torn_dword(SIM_TORN_ECC, path);
	sim_board_free(sb);

	/* A new run on the same flash file: the double word still fails. */
	sb = torn_board(SIM_TORN_NONE, path);
	b = board_of(sb);
	assert_true(flash_has_ecc_errors(b));
	assert_true(flash_ecc_read(b, OFF300));
	assert_int_equal(flash_rom_erase_pages(b, &page, 1, why, sizeof(why)), 0);
	assert_false(flash_has_ecc_errors(b));
	sim_board_free(sb);

	sb = torn_board(SIM_TORN_NONE, path);
	assert_false(flash_has_ecc_errors(board_of(sb)));
	assert_false(flash_ecc_read(board_of(sb), OFF300));
	sim_board_free(sb);
	unlink(path);
}

/* A BOOT0 board whose ROM is ready and synchronised. */
static struct sim_board *rom_board(void)
{
	struct sim_config cfg;
	struct sim_board *sb;
	const uint8_t sync = AN3155_SYNC;
	char in[8];

	sim_config_default(&cfg);
	cfg.boot0 = true;
	sb = board_new(&cfg);
	sim_power_on(sb);
	run_for(sb, 60);
	sim_uart_send(sb, 2, &sync, 1);
	run_for(sb, 2);
	assert_int_equal(sim_uart_take(sb, 2, in, sizeof(in)), 1);
	assert_int_equal((uint8_t)in[0], AN3155_ACK);
	return sb;
}

/* Write Memory of 8 bytes at addr, as a host sends it, byte gaps included. */
static void send_write(struct sim_board *sb, uint32_t addr, uint8_t fill)
{
	uint8_t cmd[2] = { AN3155_CMD_WRITE_MEMORY, 0xCE }, a[AN3155_ADDRESS_FRAME], d[10];
	unsigned i;

	an3155_address_frame(addr, a);
	d[0] = 7;
	d[9] = 7;
	for (i = 1; i <= 8; i++) {
		d[i] = fill;
		d[9] ^= fill;
	}
	sim_uart_send(sb, 2, cmd, 2);
	run_for(sb, 2);
	sim_uart_send(sb, 2, a, 5);
	run_for(sb, 2);
	sim_uart_send(sb, 2, d, 10);
	run_for(sb, 5);
}

static void rom_points_are_counted_and_cut_at(void **state)
{
	struct sim_board *sb = rom_board();
	struct board *b = board_of(sb);
	char in[16];
	uint32_t w;

	(void)state;
	assert_int_equal(sim_cut_point_count(sb, SIM_CUT_ROM_ENTRY), 1);
	send_write(sb, PAGE300, 0x11);
	assert_int_equal(sim_cut_point_count(sb, SIM_CUT_BLOCK), 1);
	assert_int_equal(sim_cut_point_count(sb, SIM_CUT_PROGRAM), 1);
	assert_true(traced(sb, SIM_TRACE_ROM, "write memory: 8 bytes programmed at 0x08096000"));
	while (sim_uart_take(sb, 2, in, sizeof(in)))
		;

	/* 100 us after a block is acknowledged: that block is whole. */
	aim(sb, "block@0x08096008#1+100");
	send_write(sb, PAGE300 + 8, 0x22);
	assert_false(b->powered);
	/* Command, address and data were all acknowledged. */
	assert_int_equal(sim_uart_take(sb, 2, in, sizeof(in)), 3);
	assert_memory_equal(in, ((char[]){ AN3155_ACK, AN3155_ACK, AN3155_ACK }), 3);
	w = 0;
	memcpy(&w, b->flash + OFF300 + 8, 4);
	assert_int_equal(w, 0x22222222u);
	assert_true(traced(sb, SIM_TRACE_POWER, "power cut aimed at block #1 (0x08096008)"));
	sim_board_free(sb);
}

static void go_point_is_reported_with_its_address(void **state)
{
	struct sim_board *sb = rom_board();
	const uint8_t go[2] = { AN3155_CMD_GO, 0xDE };
	const uint8_t addr[5] = { 0x08, 0x00, 0x00, 0x00, 0x08 };

	(void)state;
	aim(sb, "go@0x08000000+500");
	sim_uart_send(sb, 2, go, 2);
	run_for(sb, 2);
	sim_uart_send(sb, 2, addr, 5);
	/* The flash is erased: the Go faults at once, before the cut is due. */
	run_for(sb, 5);
	assert_int_equal(sim_cut_point_count(sb, SIM_CUT_GO), 1);
	assert_true(traced(sb, SIM_TRACE_POWER, "power cut aimed at go #1 (0x08000000) in 500.0 us"));
	sim_board_free(sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(trigger_syntax),
		cmocka_unit_test(cut_inside_the_second_erase),
		cmocka_unit_test(torn_double_word_models),
		cmocka_unit_test(ecc_error_outlives_the_run_until_erased),
		cmocka_unit_test(rom_points_are_counted_and_cut_at),
		cmocka_unit_test(go_point_is_reported_with_its_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
