/*
 * test_rom.c - the ROM bootloader model on the emulated board: how it is
 * entered (BOOT0, BFB2, a jump from user code with and without the remap),
 * its start-up time, its USART protocol on USART2 with bytes taking their
 * time on the wire, and Go back to user code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "board.h"
#include "harness.h"
#include "sysboot/an3155.h"

#define MODE_ADDR  0x20010000u

static struct sim_board *board_running(const char *elf, uint32_t mode)
{
	struct sim_board *sb = board_new(NULL);
	uint32_t zero[2] = { mode, 0 };
	char err[256];

	if (sim_load_file(sb, elf, 0, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	sim_power_on(sb);
	sim_write_mem(sb, MODE_ADDR, zero, sizeof(zero));
	return sb;
}

/* A board that boots the ROM (BOOT0 high), powered; lse and USART1 optional. */
static struct sim_board *boot0_board(bool lse, bool usart1)
{
	struct sim_config cfg;
	struct sim_board *sb;

	sim_config_default(&cfg);
	cfg.boot0 = true;
	cfg.lse = lse;
	if (usart1)
		cfg.usart[0].kind = SIM_LINK_MEMORY;
	sb = board_new(&cfg);
	sim_power_on(sb);
	return sb;
}

static struct sim_board *rom_jump_board(uint32_t mode)
{
	return board_running(ROM_JUMP_ELF, mode);
}

/* Send bytes to the ROM and collect what it answers within ms. */
static size_t exchange(struct sim_board *sb, const void *out, size_t n, uint8_t *in, size_t cap,
		       unsigned ms)
{
	sim_uart_send(sb, 2, out, n);
	run_for(sb, ms);
	return sim_uart_take(sb, 2, (char *)in, cap);
}

static void sync_rom(struct sim_board *sb)
{
	uint8_t in[8];
	const uint8_t sync = AN3155_SYNC;

	assert_int_equal(exchange(sb, &sync, 1, in, sizeof(in), 5), 1);
	assert_int_equal(in[0], AN3155_ACK);
}

static void boot0_enters_the_rom(void **state)
{
	struct sim_board *sb;
	struct sim_run_limits lim = { .stop_on_rom = true, .until_time = SIM_MS(10) };
	const uint8_t get_id[2] = { AN3155_CMD_GET_ID, 0xFD };
	uint8_t in[16];

	(void)state;
	sb = boot0_board(true, false);
	assert_int_equal(sim_run(sb, &lim), SIM_STOP_ROM);
	assert_true(traced(sb, SIM_TRACE_RESET, "boot from system memory"));
	assert_true(traced(sb, SIM_TRACE_ROM, "0x0 shows system memory"));
	/* Bytes sent during the ROM's 55 ms start-up are lost. */
	run_for(sb, 60);
	sync_rom(sb);
	assert_int_equal(exchange(sb, get_id, 2, in, sizeof(in), 5), 5);
	assert_memory_equal(in, ((uint8_t[]){ AN3155_ACK, 0x01, 0x04, 0x15, AN3155_ACK }), 5);
	sim_board_free(sb);
}

static void startup_time_depends_on_lse(void **state)
{
	struct sim_board *sb;
	const uint8_t sync = AN3155_SYNC;
	uint8_t in[4];

	(void)state;
	sb = boot0_board(false, false);
	/* AN2606: 2.56 s without LSE; not ready at 2.5 s, ready at 2.6 s. */
	run_for(sb, 2500);
	assert_int_equal(exchange(sb, &sync, 1, in, sizeof(in), 5), 0);
	run_for(sb, 100);
	assert_int_equal(exchange(sb, &sync, 1, in, sizeof(in), 5), 1);
	assert_int_equal(in[0], AN3155_ACK);
	sim_board_free(sb);
}

static void bytes_take_their_time_on_the_wire(void **state)
{
	struct sim_board *sb;
	const uint8_t get_id[2] = { AN3155_CMD_GET_ID, 0xFD };
	struct sim_run_limits lim = { 0 };
	sim_time_t t0, took;
	uint8_t in[8];

	(void)state;
	sb = boot0_board(true, false);
	run_for(sb, 60);
	sync_rom(sb);
	t0 = sim_now(sb);
	sim_uart_send(sb, 2, get_id, 2);
	/*
	 * Each byte takes 11 bits at 115200 baud (95.5 us) to cross the wire:
	 * a run limited to 1 us still lets the first byte arrive, no more.
	 */
	lim.until_time = t0 + SIM_US(1);
	sim_run(sb, &lim);
	took = sim_now(sb) - t0;
	assert_in_range(took, SIM_NS(95400), SIM_NS(95600));
	assert_int_equal(sim_uart_take(sb, 2, (char *)in, sizeof(in)), 0);
	/* Two bytes in, five out: 668 us in all. */
	lim.until_time = t0 + SIM_MS(2);
	sim_run(sb, &lim);
	assert_int_equal(sim_uart_take(sb, 2, (char *)in, sizeof(in)), 5);
	assert_memory_equal(in, ((uint8_t[]){ AN3155_ACK, 0x01, 0x04, 0x15, AN3155_ACK }), 5);
	assert_true(sim_rom_session_time(sb) >= SIM_US(60 * 1000 + 668));
	sim_board_free(sb);
}

static void jump_without_remap_bounces_back(void **state)
{
	struct sim_board *sb = rom_jump_board(0);

	(void)state;
	run_to_done(sb, 100);
	assert_true(traced(sb, SIM_TRACE_ROM, "0x0 shows not system memory"));
	assert_true(traced(sb, SIM_TRACE_ROM, "bank 1 holds a stack pointer in SRAM, jumping back"));
	assert_int_equal(sim_read32(sb, MODE_ADDR + 4), 2);   /* booted twice */
	sim_board_free(sb);
}

static void jump_with_remap_stays_in_the_rom(void **state)
{
	struct sim_board *sb = rom_jump_board(1);
	struct sim_run_limits lim = { .stop_on_rom = true, .until_time = SIM_MS(10) };

	(void)state;
	assert_int_equal(sim_run(sb, &lim), SIM_STOP_ROM);
	assert_true(traced(sb, SIM_TRACE_REMAP, "0x00000000 now shows system memory"));
	run_for(sb, 100);
	assert_true(sim_in_rom(sb));
	assert_false(traced(sb, SIM_TRACE_ROM, "jumping back"));
	sync_rom(sb);
	assert_int_equal(sim_read32(sb, MODE_ADDR + 4), 1);
	sim_board_free(sb);
}

static void remap_without_syscfg_clock_is_lost(void **state)
{
	struct sim_board *sb = rom_jump_board(2);

	(void)state;
	run_to_done(sb, 100);
	assert_true(traced(sb, SIM_TRACE_LOST_WRITE, "SYSCFG+0x00 lost: its clock is off"));
	assert_true(traced(sb, SIM_TRACE_ROM, "jumping back"));
	sim_board_free(sb);
}

static void go_returns_to_user_code(void **state)
{
	struct sim_board *sb = rom_jump_board(1);
	const uint8_t go[2] = { AN3155_CMD_GO, 0xDE };
	const uint8_t addr[5] = { 0x08, 0x00, 0x00, 0x00, 0x08 };
	uint8_t in[4];

	(void)state;
	run_for(sb, 100);
	assert_true(sim_in_rom(sb));
	sync_rom(sb);
	assert_int_equal(exchange(sb, go, 2, in, sizeof(in), 2), 1);
	assert_int_equal(in[0], AN3155_ACK);
	sim_uart_send(sb, 2, addr, sizeof(addr));
	/* Go does not reset: the boot counter in SRAM reaches 2. */
	run_to_done(sb, 50);
	assert_int_equal(sim_uart_take(sb, 2, (char *)in, sizeof(in)), 1);
	assert_int_equal(in[0], AN3155_ACK);
	assert_true(traced(sb, SIM_TRACE_ROM, "Go 0x08000000"));
	assert_int_equal(sim_read32(sb, MODE_ADDR + 4), 2);
	sim_board_free(sb);
}

static void set_bfb2(struct sim_board *sb)
{
	struct board *b = board_of(sb);
	char why[160];
	uint32_t optr = (flash_optr(b) | FLASH_OPTR_BFB2);

	assert_int_equal(flash_rom_write_options(b, STM32_OPTION_BANK1_BASE, (uint8_t *)&optr, 4,
						 why, sizeof(why)), 0);
}

static void bfb2_boots_bank2_or_the_bootloader(void **state)
{
	struct sim_board *sb = board_new(NULL);
	struct sim_run_limits lim = { .stop_on_rom = true, .until_time = SIM_MS(10) };
	char err[256];

	(void)state;
	sim_power_on(sb);
	set_bfb2(sb);
	/* Both banks empty: the bootloader runs. */
	sim_reset(sb, SIM_RESET_POWER_ON);
	assert_true(traced(sb, SIM_TRACE_RESET, "(BFB2 set)"));
	assert_int_equal(sim_run(sb, &lim), SIM_STOP_ROM);
	run_for(sb, 60);
	assert_true(traced(sb, SIM_TRACE_ROM, "no valid code in bank 2"));
	sync_rom(sb);

	/* Valid code in bank 2: the ROM swaps the banks and runs it. */
	if (sim_load_file(sb, ROM_JUMP_ELF, 0, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	{
		uint8_t image[0x60];

		assert_int_equal(sim_read_mem(sb, STM32_FLASH_BASE, image, sizeof(image)), 0);
		assert_int_equal(sim_load_bytes(sb, STM32_FLASH_BANK2_BASE, image, sizeof(image),
						 err, sizeof(err)), 0);
		sim_erase_flash(sb);
		assert_int_equal(sim_load_bytes(sb, STM32_FLASH_BANK2_BASE, image, sizeof(image),
						 err, sizeof(err)), 0);
	}
	sim_reset(sb, SIM_RESET_PIN);
	{
		uint32_t mode[2] = { 5, 1 };   /* second boot: straight to test_done */

		sim_write_mem(sb, MODE_ADDR, mode, sizeof(mode));
	}
	run_to_done(sb, 200);
	assert_true(traced(sb, SIM_TRACE_ROM, "bank 2 holds a stack pointer in SRAM"));
	assert_true(traced(sb, SIM_TRACE_REMAP, "flash banks swapped"));
	sim_board_free(sb);
}

static void watchdog_resets_an_unrefreshed_board(void **state)
{
	struct sim_board *sb = board_running(IWDG_ELF, 0);
	const struct sim_trace_entry *e;

	(void)state;
	run_to_done(sb, 100);
	assert_int_equal(sim_read32(sb, MODE_ADDR + 4), 2);
	assert_true(sim_read32(sb, MODE_ADDR + 8) & RCC_CSR_IWDGRSTF);
	e = sim_trace_find(sb, 0, SIM_TRACE_WATCHDOG, "expired");
	assert_non_null(e);
	/* (RLR + 1) * 4 / 32 kHz = 12.6 ms after the start. */
	assert_in_range(e->time, SIM_US(12500), SIM_US(12800));
	sim_board_free(sb);
}

static void rom_keeps_the_watchdog_refreshed(void **state)
{
	struct sim_board *sb = board_running(IWDG_ELF, 1);

	(void)state;
	run_for(sb, 2000);
	assert_true(sim_in_rom(sb));
	assert_false(traced(sb, SIM_TRACE_WATCHDOG, "expired"));
	assert_int_equal(sim_read32(sb, MODE_ADDR + 4), 1);
	assert_int_equal(board_of(sb)->iwdg.pr, 6);   /* AN2606: prescaler at its maximum */
	sync_rom(sb);
	sim_board_free(sb);
}

/* The watchdog test firmware entering the ROM (mode 1), on a board with cfg. */
static struct sim_board *iwdg_board(bool lse, enum sim_rom_iwdg mode)
{
	struct sim_config cfg;
	struct sim_board *sb;
	uint32_t words[2] = { 1, 0 };

	sim_config_default(&cfg);
	cfg.lse = lse;
	cfg.rom_iwdg = mode;
	sb = board_new(&cfg);
	{
		char err[256];

		if (sim_load_file(sb, IWDG_ELF, 0, err, sizeof(err)) < 0)
			fail_msg("%s", err);
	}
	sim_power_on(sb);
	sim_write_mem(sb, MODE_ADDR, words, sizeof(words));
	return sb;
}

/*
 * --rom-iwdg once (the default): /256 and one reload at entry, refreshed
 * once ready. The firmware's RLR = 100 gives 101 * 8 ms = 808 ms at /256:
 * longer than the 55 ms start-up with an LSE, shorter than 2.56 s without.
 */
static void rom_reloads_the_watchdog_once_at_entry(void **state)
{
	struct sim_board *sb = iwdg_board(false, SIM_ROM_IWDG_ONCE);
	const struct sim_trace_entry *entry, *e;

	(void)state;
	run_to_done(sb, 3000);
	entry = sim_trace_find(sb, 0, SIM_TRACE_ROM, "ROM bootloader entered");
	assert_non_null(entry);
	assert_non_null(sim_trace_find(sb, 0, SIM_TRACE_WATCHDOG,
				       "prescaler to /256 and reloads it: timeout 808.0 ms, refreshed again once the ROM is ready"));
	e = sim_trace_find(sb, 0, SIM_TRACE_WATCHDOG, "expired");
	assert_non_null(e);
	assert_in_range(e->time - entry->time, SIM_MS(807), SIM_MS(809));
	assert_null(sim_trace_find(sb, 0, SIM_TRACE_ROM, "ready after"));
	assert_true(sim_read32(sb, MODE_ADDR + 8) & RCC_CSR_IWDGRSTF);
	sim_board_free(sb);
}

/* --rom-iwdg always: refreshed all through the 2.56 s start-up. */
static void rom_refreshes_the_watchdog_through_its_start_up(void **state)
{
	struct sim_board *sb = iwdg_board(false, SIM_ROM_IWDG_ALWAYS);

	(void)state;
	run_for(sb, 3000);
	assert_true(sim_in_rom(sb));
	assert_false(traced(sb, SIM_TRACE_WATCHDOG, "expired"));
	assert_true(traced(sb, SIM_TRACE_WATCHDOG, "refreshed from now on"));
	sync_rom(sb);
	sim_board_free(sb);
}

/* --rom-iwdg ready: the firmware's 12.6 ms watchdog beats even the 55 ms start-up. */
static void rom_leaves_the_watchdog_alone_until_ready(void **state)
{
	struct sim_board *sb = iwdg_board(true, SIM_ROM_IWDG_READY);

	(void)state;
	run_to_done(sb, 200);
	assert_true(traced(sb, SIM_TRACE_WATCHDOG, "expired"));
	assert_false(traced(sb, SIM_TRACE_WATCHDOG, "prescaler to /256"));
	assert_true(sim_read32(sb, MODE_ADDR + 8) & RCC_CSR_IWDGRSTF);
	sim_board_free(sb);
}

static void rom_listens_on_usart1_too(void **state)
{
	struct sim_board *sb;
	const uint8_t sync = AN3155_SYNC;
	uint8_t in[4];

	(void)state;
	sb = boot0_board(true, true);
	run_for(sb, 60);
	/* AN2606: the interface that receives 0x7F first is the one used. */
	sim_uart_send(sb, 1, &sync, 1);
	run_for(sb, 2);
	assert_int_equal(sim_uart_take(sb, 1, (char *)in, sizeof(in)), 1);
	assert_int_equal(in[0], AN3155_ACK);
	assert_int_equal(sim_uart_take(sb, 2, (char *)in, sizeof(in)), 0);
	assert_true(traced(sb, SIM_TRACE_ROM, "the host speaks on USART1"));
	sim_board_free(sb);
}

static void line_faults_drop_and_corrupt_bytes(void **state)
{
	struct sim_board *sb;
	const uint8_t sync = AN3155_SYNC;
	const uint8_t get_id[2] = { AN3155_CMD_GET_ID, 0xFD };
	uint64_t dropped, corrupted;
	uint8_t in[8];

	(void)state;
	sb = boot0_board(true, false);
	run_for(sb, 60);
	/* Every byte lost: the ROM never hears the 0x7F. */
	sim_line_faults(sb, 1000000, 0, 1);
	assert_int_equal(exchange(sb, &sync, 1, in, sizeof(in), 5), 0);
	sim_line_fault_counts(sb, &dropped, &corrupted);
	assert_int_equal(dropped, 1);
	/* A clean line again: in sync. */
	sim_line_faults(sb, 0, 0, 1);
	sync_rom(sb);
	/* Every byte damaged: the command's complement no longer matches, NACK. */
	sim_line_faults(sb, 0, 1000000, 3);
	assert_true(exchange(sb, get_id, 2, in, sizeof(in), 5) >= 1);
	assert_int_not_equal(in[0], AN3155_ACK);
	sim_line_fault_counts(sb, &dropped, &corrupted);
	assert_true(corrupted >= 3);
	sim_board_free(sb);
}

static void line_delays_hold_bytes_back(void **state)
{
	struct sim_board *sb;
	const uint8_t sync = AN3155_SYNC;
	uint64_t delayed, stalled;
	uint8_t in[8];

	(void)state;
	sb = boot0_board(true, false);
	run_for(sb, 60);
	/* Every byte held 3 ms: the 0x7F is answered, but not within 2 ms. */
	sim_line_delays(sb, 1000000, SIM_MS(3), 0, 0);
	assert_int_equal(exchange(sb, &sync, 1, in, sizeof(in), 2), 0);
	run_for(sb, 10);
	assert_int_equal(sim_uart_take(sb, 2, (char *)in, sizeof(in)), 1);
	assert_int_equal(in[0], AN3155_ACK);
	sim_line_delay_counts(sb, &delayed, &stalled);
	assert_int_equal(delayed, 2);           /* the 0x7F in, the ACK out */
	assert_int_equal(stalled, 0);
	/* A stall outlasts a host's 1 s timeout; the byte is not lost. */
	sim_line_delays(sb, 0, 0, 1000000, SIM_MS(1500));
	assert_int_equal(exchange(sb, &sync, 1, in, sizeof(in), 1000), 0);
	sim_line_delays(sb, 0, 0, 0, 0);
	/* 0x7F then 0x80 is command 0x7F with a good complement: unknown, NACK. */
	assert_int_equal(exchange(sb, &(uint8_t){ 0x80 }, 1, in, sizeof(in), 400), 0);
	run_for(sb, 200);
	assert_int_equal(sim_uart_take(sb, 2, (char *)in, sizeof(in)), 1);
	assert_int_equal(in[0], AN3155_NACK);
	sim_line_delay_counts(sb, &delayed, &stalled);
	assert_int_equal(stalled, 1);
	sim_board_free(sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(boot0_enters_the_rom),
		cmocka_unit_test(startup_time_depends_on_lse),
		cmocka_unit_test(bytes_take_their_time_on_the_wire),
		cmocka_unit_test(jump_without_remap_bounces_back),
		cmocka_unit_test(jump_with_remap_stays_in_the_rom),
		cmocka_unit_test(remap_without_syscfg_clock_is_lost),
		cmocka_unit_test(go_returns_to_user_code),
		cmocka_unit_test(bfb2_boots_bank2_or_the_bootloader),
		cmocka_unit_test(watchdog_resets_an_unrefreshed_board),
		cmocka_unit_test(rom_keeps_the_watchdog_refreshed),
		cmocka_unit_test(rom_reloads_the_watchdog_once_at_entry),
		cmocka_unit_test(rom_refreshes_the_watchdog_through_its_start_up),
		cmocka_unit_test(rom_leaves_the_watchdog_alone_until_ready),
		cmocka_unit_test(rom_listens_on_usart1_too),
		cmocka_unit_test(line_faults_drop_and_corrupt_bytes),
		cmocka_unit_test(line_delays_hold_bytes_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
