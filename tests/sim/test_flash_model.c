/*
 * test_flash_model.c - the flash model's rules, driven through its register
 * interface and the ROM-side API on a real board instance: what firmware
 * and the ROM bootloader rely on, and what a power cut leaves behind.
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

#define PAGE300 (STM32_FLASH_BASE + 300u * STM32_FLASH_PAGE_SIZE)

static struct board *new_board(struct sim_board **sb)
{
	*sb = board_new(NULL);
	sim_power_on(*sb);
	return board_of(*sb);
}

static uint32_t sr(struct board *b)
{
	return flash_reg_read(b, &b->flashc, FLASH_SR, 4);
}

static void unlock(struct board *b)
{
	flash_reg_write(b, &b->flashc, FLASH_KEYR, 4, FLASH_KEY1);
	flash_reg_write(b, &b->flashc, FLASH_KEYR, 4, FLASH_KEY2);
}

static void wait_idle(struct board *b)
{
	assert_true(board_advance(b, SIM_MS(100)));
	assert_int_equal(sr(b) & FLASH_SR_BSY, 0);
}

static uint32_t word_at(struct board *b, uint32_t addr)
{
	uint32_t v;

	assert_int_equal(board_mem_read(b, addr, &v, 4), 0);
	return v;
}

static void program_dword(struct board *b, uint32_t addr, uint32_t lo, uint32_t hi)
{
	flash_cpu_store(b, addr, 4, lo);
	flash_cpu_store(b, addr + 4, 4, hi);
}

static void locked_at_reset_and_unlock(void **state)
{
	struct sim_board *sb;
	struct board *b = new_board(&sb);

	(void)state;
	assert_true(flash_reg_read(b, &b->flashc, FLASH_CR, 4) & FLASH_CR_LOCK);
	/* Writes to a locked CR are ignored. */
	flash_reg_write(b, &b->flashc, FLASH_CR, 4, FLASH_CR_PG);
	assert_int_equal(flash_reg_read(b, &b->flashc, FLASH_CR, 4) & FLASH_CR_PG, 0);
	unlock(b);
	assert_int_equal(flash_reg_read(b, &b->flashc, FLASH_CR, 4) & FLASH_CR_LOCK, 0);
	flash_reg_write(b, &b->flashc, FLASH_CR, 4, FLASH_CR_PG);
	assert_true(flash_reg_read(b, &b->flashc, FLASH_CR, 4) & FLASH_CR_PG);
	sim_board_free(sb);
}

static void wrong_key_locks_until_reset(void **state)
{
	struct sim_board *sb;
	struct board *b = new_board(&sb);

	(void)state;
	flash_reg_write(b, &b->flashc, FLASH_KEYR, 4, FLASH_KEY2);
	unlock(b);
	assert_true(flash_reg_read(b, &b->flashc, FLASH_CR, 4) & FLASH_CR_LOCK);
	assert_true(traced(sb, SIM_TRACE_FLASH, "wrong key sequence"));
	sim_reset(sb, SIM_RESET_PIN);
	unlock(b);
	assert_int_equal(flash_reg_read(b, &b->flashc, FLASH_CR, 4) & FLASH_CR_LOCK, 0);
	sim_board_free(sb);
}

static void program_takes_time_and_refuses_twice(void **state)
{
	struct sim_board *sb;
	struct board *b = new_board(&sb);
	sim_time_t t0;

	(void)state;
	unlock(b);
	flash_reg_write(b, &b->flashc, FLASH_CR, 4, FLASH_CR_PG | FLASH_CR_EOPIE);
	t0 = b->now;
	program_dword(b, PAGE300, 0x11223344u, 0x55667788u);
	assert_true(sr(b) & FLASH_SR_BSY);
	/* Not written until the operation ends. */
	assert_int_equal(word_at(b, PAGE300), 0xFFFFFFFFu);
	assert_true(board_advance(b, b->cfg.timing.flash_dword_program - 1));
	assert_true(sr(b) & FLASH_SR_BSY);
	wait_idle(b);
	assert_true(b->now - t0 >= b->cfg.timing.flash_dword_program);
	assert_true(sr(b) & FLASH_SR_EOP);
	assert_int_equal(word_at(b, PAGE300), 0x11223344u);
	assert_int_equal(word_at(b, PAGE300 + 4), 0x55667788u);

	/* A double word cannot be programmed twice without an erase. */
	flash_reg_write(b, &b->flashc, FLASH_SR, 4, FLASH_SR_EOP);
	program_dword(b, PAGE300, 0xAAAAAAAAu, 0xBBBBBBBBu);
	assert_true(sr(b) & FLASH_SR_PROGERR);
	assert_int_equal(sr(b) & FLASH_SR_BSY, 0);
	assert_int_equal(word_at(b, PAGE300), 0x11223344u);
	assert_true(traced(sb, SIM_TRACE_FLASH, "is not erased: PROGERR"));
	sim_board_free(sb);
}

static void alignment_size_and_sequence_errors(void **state)
{
	struct sim_board *sb;
	struct board *b = new_board(&sb);

	(void)state;
	/* A store with PG clear. */
	unlock(b);
	flash_cpu_store(b, PAGE300, 4, 0);
	assert_true(sr(b) & FLASH_SR_PGSERR);
	flash_reg_write(b, &b->flashc, FLASH_SR, 4, FLASH_SR_ERRORS);
	assert_int_equal(sr(b) & FLASH_SR_ERRORS, 0);

	flash_reg_write(b, &b->flashc, FLASH_CR, 4, FLASH_CR_PG);
	flash_cpu_store(b, PAGE300 + 4, 4, 0x1234);            /* misaligned first word */
	assert_true(sr(b) & FLASH_SR_PGAERR);
	flash_reg_write(b, &b->flashc, FLASH_SR, 4, FLASH_SR_ERRORS);

	flash_cpu_store(b, PAGE300, 4, 0x1234);
	flash_cpu_store(b, PAGE300 + 12, 4, 0x5678);           /* not the next word */
	assert_true(sr(b) & FLASH_SR_PGAERR);
	flash_reg_write(b, &b->flashc, FLASH_SR, 4, FLASH_SR_ERRORS);

	flash_cpu_store(b, PAGE300, 2, 0x1234);                 /* half-word store */
	assert_true(sr(b) & FLASH_SR_SIZERR);
	/* With an error flag still set, the next programming is a sequence error. */
	program_dword(b, PAGE300, 1, 2);
	assert_true(sr(b) & FLASH_SR_PGSERR);
	assert_int_equal(word_at(b, PAGE300), 0xFFFFFFFFu);
	sim_board_free(sb);
}

static void page_and_bank_erase(void **state)
{
	struct sim_board *sb;
	struct board *b = new_board(&sb);
	uint8_t ones[16];

	(void)state;
	memset(ones, 0, sizeof(ones));
	flash_debug_write(b, PAGE300, ones, sizeof(ones));
	flash_debug_write(b, STM32_FLASH_BASE + 0x100, ones, sizeof(ones));
	unlock(b);
	flash_reg_write(b, &b->flashc, FLASH_CR, 4,
			FLASH_CR_PER | FLASH_CR_BKER | (44u << FLASH_CR_PNB_Pos));
	flash_reg_write(b, &b->flashc, FLASH_CR, 4,
			FLASH_CR_PER | FLASH_CR_BKER | (44u << FLASH_CR_PNB_Pos) | FLASH_CR_STRT);
	assert_true(sr(b) & FLASH_SR_BSY);
	assert_true(board_advance(b, b->cfg.timing.flash_page_erase / 2));
	assert_int_equal(word_at(b, PAGE300), 0);
	wait_idle(b);
	assert_int_equal(word_at(b, PAGE300), 0xFFFFFFFFu);
	/* Bank 1 untouched by a bank-2 page erase. */
	assert_int_equal(word_at(b, STM32_FLASH_BASE + 0x100), 0);

	flash_reg_write(b, &b->flashc, FLASH_CR, 4, FLASH_CR_MER1);
	flash_reg_write(b, &b->flashc, FLASH_CR, 4, FLASH_CR_MER1 | FLASH_CR_STRT);
	wait_idle(b);
	assert_int_equal(word_at(b, STM32_FLASH_BASE + 0x100), 0xFFFFFFFFu);

	/* STRT with nothing selected is a sequence error. */
	flash_reg_write(b, &b->flashc, FLASH_CR, 4, FLASH_CR_STRT);
	assert_true(sr(b) & FLASH_SR_PGSERR);
	sim_board_free(sb);
}

static void write_protection_from_option_bytes(void **state)
{
	struct sim_board *sb;
	struct board *b = new_board(&sb);
	char why[160];
	uint8_t page0 = 0, page3 = 3;
	uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	(void)state;
	(void)page0;
	assert_false(flash_page_write_protected(b, 0));
	assert_int_equal(flash_rom_write_protect(b, (uint8_t[]){ 0, page3 }, 2, why, sizeof(why)), 0);
	/* Not effective until the option bytes load again. */
	sim_reset(sb, SIM_RESET_OPTION_LOAD);
	assert_true(flash_page_write_protected(b, 0));
	assert_true(flash_page_write_protected(b, 3));
	assert_false(flash_page_write_protected(b, 4));
	assert_int_equal(flash_rom_program(b, STM32_FLASH_BASE + 8, data, 8, why, sizeof(why)), -1);
	assert_string_equal(why, "page 0 (0x08000008) is write protected");
	/* And through the registers: WRPERR. */
	unlock(b);
	flash_reg_write(b, &b->flashc, FLASH_CR, 4, FLASH_CR_PG);
	program_dword(b, STM32_FLASH_BASE + 0x808, 1, 2);
	assert_true(sr(b) & FLASH_SR_WRPERR);
	/* Unprotect. */
	assert_int_equal(flash_rom_write_unprotect(b, why, sizeof(why)), 0);
	sim_reset(sb, SIM_RESET_OPTION_LOAD);
	assert_false(flash_page_write_protected(b, 0));
	sim_board_free(sb);
}

static void readout_protection_levels(void **state)
{
	struct sim_board *sb;
	struct board *b = new_board(&sb);
	char why[160];
	uint8_t data[8] = { 0 };

	(void)state;
	assert_int_equal(flash_rdp_level(b), 0);
	assert_int_equal(flash_rom_program(b, STM32_FLASH_BASE + 0x4000, data, 8, why, sizeof(why)), 0);
	assert_int_equal(flash_rom_set_rdp(b, 1, why, sizeof(why)), 0);
	sim_reset(sb, SIM_RESET_OPTION_LOAD);
	assert_int_equal(flash_rdp_level(b), 1);
	assert_int_equal(word_at(b, STM32_FLASH_BASE + 0x4000), 0);
	/* Back to level 0 erases the flash. */
	assert_int_equal(flash_rom_set_rdp(b, 0, why, sizeof(why)), 0);
	sim_reset(sb, SIM_RESET_OPTION_LOAD);
	assert_int_equal(flash_rdp_level(b), 0);
	assert_int_equal(word_at(b, STM32_FLASH_BASE + 0x4000), 0xFFFFFFFFu);
	sim_board_free(sb);
}

static void power_cut_during_program_and_erase(void **state)
{
	struct sim_board *sb;
	struct board *b = new_board(&sb);
	uint8_t zeros[STM32_FLASH_PAGE_SIZE];
	uint8_t data[8] = { 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80 };
	char why[160];
	uint32_t off = 300u * STM32_FLASH_PAGE_SIZE, i, erased = 0;

	(void)state;
	/* Cut in the middle of a double-word program: not written. */
	sim_power_cut_at_time(sb, b->now + b->cfg.timing.flash_dword_program / 2);
	assert_int_equal(flash_rom_program(b, PAGE300, data, 8, why, sizeof(why)), -1);
	assert_string_equal(why, "power lost or reset during the operation");
	assert_int_equal(word_at(b, PAGE300), 0xFFFFFFFFu);
	assert_true(traced(sb, SIM_TRACE_FLASH, "not written"));

	/* Cut at 40% of a page erase: the page is partly erased. */
	sim_power_on(sb);
	memset(zeros, 0, sizeof(zeros));
	flash_debug_write(b, PAGE300, zeros, sizeof(zeros));
	sim_power_cut_at_time(sb, b->now + b->cfg.timing.flash_page_erase * 4 / 10);
	assert_int_equal(flash_rom_erase_pages(b, (uint16_t[]){ 300 }, 1, why, sizeof(why)), -1);
	for (i = 0; i < STM32_FLASH_PAGE_SIZE; i++)
		erased += b->flash[off + i] == 0xFF;
	assert_in_range(erased, STM32_FLASH_PAGE_SIZE * 35 / 100, STM32_FLASH_PAGE_SIZE * 45 / 100);
	assert_int_equal(b->flash[off], 0xFF);
	assert_int_equal(b->flash[off + STM32_FLASH_PAGE_SIZE - 1], 0);
	sim_board_free(sb);
}

static void content_persists_in_the_flash_file(void **state)
{
	char path[] = "/tmp/sysboot-flash-XXXXXX";
	struct sim_config cfg;
	struct sim_board *sb;
	char err[512];
	uint8_t data[8] = { 0xDE, 0xAD, 0xBE, 0xEF, 1, 2, 3, 4 };
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	sim_config_default(&cfg);
	cfg.flash_path = path;
	sb = board_new(&cfg);
	sim_power_on(sb);
	assert_int_equal(flash_rom_program(board_of(sb), PAGE300, data, 8, err, sizeof(err)), 0);
	sim_board_free(sb);

	sb = board_new(&cfg);
	assert_int_equal(sim_read32(sb, PAGE300), 0xEFBEADDEu);
	sim_board_free(sb);

	/* A file of the wrong size is refused with a specific message. */
	f = fopen(path, "ab");
	assert_non_null(f);
	fputc(0, f);
	fclose(f);
	assert_null(sim_board_new(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "not a sysboot-sim flash file"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(locked_at_reset_and_unlock),
		cmocka_unit_test(wrong_key_locks_until_reset),
		cmocka_unit_test(program_takes_time_and_refuses_twice),
		cmocka_unit_test(alignment_size_and_sequence_errors),
		cmocka_unit_test(page_and_bank_erase),
		cmocka_unit_test(write_protection_from_option_bytes),
		cmocka_unit_test(readout_protection_levels),
		cmocka_unit_test(power_cut_during_program_and_erase),
		cmocka_unit_test(content_persists_in_the_flash_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
