/*
 * test_core.c - the emulator core against small test firmwares (built in
 * firmware/tests): reset vector fetch, remap with and without the SYSCFG
 * clock, backup registers across reset and power cut, the flash controller
 * from the CPU side, SysTick exception entry and return, a UART echo, a
 * jump to an even address reported as a fault (with its kind and target),
 * the debugger-style call, the observer hooks and the debug information
 * of loaded ELF files.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "sysboot/stm32l476.h"

static void reset_fetches_sp_and_pc_from_the_vector_table(void **state)
{
	struct sim_board *sb = board_with("tests/reset_vector.elf", NULL);

	(void)state;
	run_to_done(sb, 100);
	assert_int_equal(result(sb, 1), sim_read32(sb, STM32_FLASH_BASE));
	assert_int_equal(result(sb, 3), result(sb, 4));
	assert_true(result(sb, 3) & 1u);
	assert_in_range(result(sb, 0), result(sb, 1) - 64u, result(sb, 1));
	assert_int_equal(result(sb, 6), 1);
	/* A power-on reset sets BORRSTF and PINRSTF. */
	assert_int_equal(result(sb, 2) & RCC_CSR_RSTF_ALL, RCC_CSR_BORRSTF | RCC_CSR_PINRSTF);
	assert_true(traced(sb, SIM_TRACE_RESET, "power-on reset: boot from main flash"));
	sim_board_free(sb);
}

static void remap_needs_the_syscfg_clock(void **state)
{
	struct sim_board *sb = board_with("tests/remap.elf", NULL);

	(void)state;
	run_to_done(sb, 100);
	assert_int_equal(result(sb, 7) & RCC_APB2ENR_SYSCFGEN, 0);
	assert_int_equal(result(sb, 0), 0);          /* lost: clock off */
	assert_int_equal(result(sb, 1), 1);
	assert_int_equal(result(sb, 2), result(sb, 3));
	assert_int_equal(result(sb, 3), 0x20003000u);  /* the ROM's initial SP */
	assert_int_equal(result(sb, 4), 0);
	assert_int_equal(result(sb, 5), result(sb, 6));
	assert_true(traced(sb, SIM_TRACE_LOST_WRITE, "SYSCFG+0x00 lost: its clock is off"));
	assert_true(traced(sb, SIM_TRACE_REMAP, "0x00000000 now shows system memory"));
	sim_board_free(sb);
}

static void backup_registers_survive_reset_not_power_cut(void **state)
{
	struct sim_board *sb = board_with("tests/backup.elf", NULL);

	(void)state;
	run_to_done(sb, 200);
	assert_int_equal(result(sb, 6), 2);
	assert_true(result(sb, 0) & RCC_CSR_SFTRSTF);
	assert_int_equal(result(sb, 1), 0xB00C0DE0u);
	assert_int_equal(result(sb, 2), 1);
	assert_int_equal(result(sb, 3), 0);          /* written without DBP: lost */
	assert_true(result(sb, 5) & PWR_CR1_DBP);
	assert_true(traced(sb, SIM_TRACE_LOST_WRITE, "backup domain write protected"));

	/* A power cut clears the backup domain (no VBAT): the firmware starts over. */
	sim_power_off(sb);
	sim_power_on(sb);
	run_to_done(sb, 200);
	assert_int_equal(result(sb, 6), 2);
	assert_true(traced(sb, SIM_TRACE_POWER, "power cut"));
	sim_board_free(sb);
}

static void flash_controller_from_the_cpu(void **state)
{
	struct sim_board *sb = board_with("tests/flash.elf", NULL);

	(void)state;
	run_to_done(sb, 200);
	assert_int_equal(result(sb, 14), 0xFFFFFFFFu);
	assert_int_equal(result(sb, 0) & FLASH_CR_LOCK, 0);
	assert_int_equal(result(sb, 1) & FLASH_SR_ERRORS, 0);
	assert_int_equal(result(sb, 2), 0x11223344u);
	assert_int_equal(result(sb, 3), 0x55667788u);
	assert_true(result(sb, 4) & FLASH_SR_PROGERR);  /* programmed twice */
	assert_int_equal(result(sb, 5), 0x11223344u);
	assert_int_equal(result(sb, 6) & FLASH_SR_ERRORS, 0);
	assert_true(result(sb, 7) & (FLASH_SR_PGAERR | FLASH_SR_PGSERR));
	assert_int_equal(result(sb, 8) & FLASH_SR_ERRORS, 0);
	assert_int_equal(result(sb, 9) & FLASH_SR_ERRORS, 0);
	assert_int_equal(result(sb, 10), 0xFFFFFFFFu);
	assert_int_equal(result(sb, 11), 0xFFFFFFFFu);
	assert_true(result(sb, 12) & FLASH_CR_LOCK);
	assert_int_equal(result(sb, 13) & FLASH_CR_PG, 0);
	sim_board_free(sb);
}

static void systick_exception_entry_and_return(void **state)
{
	struct sim_board *sb = board_with("tests/systick.elf", NULL);

	(void)state;
	run_to_done(sb, 200);
	assert_true(result(sb, 0) >= 10);
	assert_int_equal(result(sb, 1), EXC_SYSTICK);
	assert_int_equal(result(sb, 2), 0xC0FFEE04u);
	assert_int_equal(result(sb, 3), 0x0BADF00Du);
	assert_int_equal(result(sb, 4), 1);
	assert_int_equal(result(sb, 5), 0);
	/* Ten 1 ms ticks at 4 MHz take about 10 ms of simulated time. */
	assert_in_range(sim_now(sb), SIM_MS(9), SIM_MS(30));
	sim_board_free(sb);
}

static void uart_echo(void **state)
{
	struct sim_board *sb = board_with("tests/uart_echo.elf", NULL);
	char out[64] = { 0 };

	(void)state;
	assert_true(run_until_uart(sb, "echo ready\r\n", 100));
	sim_uart_take(sb, 2, out, sizeof(out) - 1);
	sim_uart_send(sb, 2, "ping", 4);
	run_for(sb, 5);
	memset(out, 0, sizeof(out));
	sim_uart_take(sb, 2, out, sizeof(out) - 1);
	assert_string_equal(out, "ping");
	assert_int_equal(sim_read32(sb, sim_symbol(sb, "test_result")), 4);
	assert_int_equal(result(sb, 1), 35);
	assert_int_equal(result(sb, 2), 'g');
	assert_int_equal(result(sb, 3), 0);
	sim_board_free(sb);
}

static void uart_echo_through_the_pty(void **state)
{
	struct sim_config cfg;
	struct sim_board *sb;
	struct termios tio;
	struct pollfd p;
	char buf[128] = { 0 };
	size_t got = 0;
	int fd, i;

	(void)state;
	sim_config_default(&cfg);
	cfg.usart[1].kind = SIM_LINK_PTY;
	sb = board_new(&cfg);
	board_load(sb, "tests/uart_echo.elf", 0);
	fd = open(sim_uart_pty(sb, 2), O_RDWR | O_NOCTTY);
	assert_true(fd >= 0);
	assert_int_equal(tcgetattr(fd, &tio), 0);
	cfmakeraw(&tio);
	assert_int_equal(tcsetattr(fd, TCSANOW, &tio), 0);
	sim_power_on(sb);
	run_for(sb, 5);
	assert_int_equal(write(fd, "ping", 4), 4);
	for (i = 0; i < 50 && !strstr(buf, "ping"); i++) {
		ssize_t n;

		run_for(sb, 2);
		p.fd = fd;
		p.events = POLLIN;
		if (poll(&p, 1, 10) <= 0)
			continue;
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n > 0)
			got += (size_t)n;
	}
	assert_non_null(strstr(buf, "echo ready\r\n"));
	assert_non_null(strstr(buf, "ping"));
	assert_int_equal(result(sb, 0), 4);
	close(fd);
	sim_board_free(sb);
}

static void even_jump_is_reported_as_a_fault(void **state)
{
	struct sim_board *sb = board_with("tests/even_jump.elf", NULL);
	struct sim_run_limits lim = { .until_time = SIM_MS(100) };
	const struct sim_trace_entry *e;

	(void)state;
	lim.stop_at_pc = true;
	lim.pc = sim_symbol(sb, "test_done");
	assert_int_equal(sim_run(sb, &lim), SIM_STOP_FAULT);
	assert_int_equal(result(sb, 0), 1);
	assert_int_not_equal(result(sb, 2), 0xFA11ED00u);
	assert_non_null(strstr(sim_fault_text(sb), "branch to the even address"));
	e = sim_trace_find(sb, 0, SIM_TRACE_FAULT, "Thumb");
	assert_non_null(e);
	{
		struct sim_fault f;
		struct sim_location loc;

		sim_fault_info(sb, &f);
		assert_int_equal(f.kind, SIM_FAULT_EVEN_BRANCH);
		assert_int_equal(f.addr, result(sb, 1));    /* the even target */
		assert_true(sim_locate(sb, f.pc, &loc));     /* the branch, in main() */
		assert_string_equal(loc.symbol, "main");
		assert_non_null(loc.file);
		assert_string_equal(loc.file, "tests/even_jump.c");
	}
	sim_board_free(sb);
}

static void jump_to_unmapped_memory_is_reported(void **state)
{
	struct sim_board *sb = board_new(NULL);
	/* Vector table whose reset vector points where there is no memory. */
	const uint32_t vectors[2] = { 0x20018000u, 0x60000001u };
	char err[256];

	(void)state;
	assert_int_equal(sim_load_bytes(sb, STM32_FLASH_BASE, vectors, sizeof(vectors), err, sizeof(err)), 0);
	sim_power_on(sb);
	assert_int_equal(run_for(sb, 10), SIM_STOP_FAULT);
	assert_non_null(strstr(sim_fault_text(sb), "0x60000000"));
	assert_non_null(strstr(sim_fault_text(sb), "no memory"));
	{
		struct sim_fault f;

		sim_fault_info(sb, &f);
		assert_int_equal(f.kind, SIM_FAULT_NO_MEMORY);
		assert_int_equal(f.addr, 0x60000000u);
	}
	sim_board_free(sb);
}

static void erased_flash_is_reported_at_reset(void **state)
{
	struct sim_board *sb = board_new(NULL);

	(void)state;
	sim_power_on(sb);
	assert_int_equal(run_for(sb, 10), SIM_STOP_FAULT);
	assert_non_null(strstr(sim_fault_text(sb), "the boot memory is erased"));
	sim_board_free(sb);
}

/* ---- Debugger-style calls ---------------------------------------------------- */

static uint32_t systick_csr(struct sim_board *sb)
{
	return sim_read32(sb, SYSTICK_BASE + SYST_CSR);
}

static void call_runs_a_function_and_the_firmware_carries_on(void **state)
{
	struct sim_board *sb = board_with("tests/diag/remap_lost.elf", NULL);
	uint32_t fn = sim_symbol(sb, "diag_systick_stop");

	(void)state;
	assert_int_not_equal(fn, 0);
	run_for(sb, 30);                          /* waiting for "bootloader" */
	assert_true(systick_csr(sb) & SYST_CSR_ENABLE);
	assert_int_equal(sim_call_state(sb), SIM_CALL_NONE);
	assert_int_equal(sim_call(sb, fn), 0);
	assert_int_equal(sim_call(sb, fn), -1);   /* one at a time */
	assert_int_equal(sim_call_state(sb), SIM_CALL_PENDING);
	run_for(sb, 2);
	assert_int_equal(sim_call_state(sb), SIM_CALL_RETURNED);
	assert_false(systick_csr(sb) & SYST_CSR_ENABLE);   /* it ran */
	assert_true(traced(sb, SIM_TRACE_NOTE, "returned; the firmware carries on"));
	/* Every register came back: the firmware still reads its command. */
	sim_uart_send(sb, 2, "bootloader\r\n", 12);
	run_for(sb, 20);
	assert_true(traced(sb, SIM_TRACE_ROM, "ROM bootloader entered"));
	sim_board_free(sb);
}

static void reset_abandons_a_call(void **state)
{
	struct sim_board *sb = board_with("tests/diag/remap_lost.elf", NULL);

	(void)state;
	run_for(sb, 5);
	assert_int_equal(sim_call(sb, sim_symbol(sb, "diag_systick_stop")), 0);
	sim_reset(sb, SIM_RESET_PIN);
	assert_int_equal(sim_call_state(sb), SIM_CALL_NONE);
	assert_true(traced(sb, SIM_TRACE_NOTE, "abandoned by the reset"));
	sim_board_free(sb);
}

/* ---- Observers ------------------------------------------------------------------ */

struct seen {
	unsigned memrmp_writes, memrmp_lost, sram_writes, resets, rom_entries;
	uint32_t lost_pc, rom_from, memrmp_at_entry, test_result;
	bool in_rom_at_entry;
};

static void seen_access(void *ctx, struct sim_board *sb, const struct sim_access *a)
{
	struct seen *s = ctx;

	(void)sb;
	if (a->write && a->periph && strcmp(a->periph, "SYSCFG") == 0 &&
	    a->addr == SYSCFG_BASE + SYSCFG_MEMRMP) {
		s->memrmp_writes++;
		if (a->lost) {
			s->memrmp_lost++;
			s->lost_pc = a->pc;
		}
	}
	if (a->write && !a->periph && a->addr >= s->test_result && a->addr < s->test_result + 64)
		s->sram_writes++;
}

static void seen_reset(void *ctx, struct sim_board *sb, enum sim_reset_cause cause)
{
	struct seen *s = ctx;

	(void)sb;
	(void)cause;
	s->resets++;
}

static void seen_rom_entry(void *ctx, struct sim_board *sb, uint32_t from_pc)
{
	struct seen *s = ctx;

	s->rom_entries++;
	s->rom_from = from_pc;
	s->in_rom_at_entry = sim_in_rom(sb);
	s->memrmp_at_entry = sim_read32(sb, SYSCFG_BASE + SYSCFG_MEMRMP);
}

static void observer_sees_accesses_with_their_pc(void **state)
{
	struct sim_board *sb = board_new(NULL);
	struct seen s = { 0 };
	struct sim_observer obs = {
		.ctx = &s, .access = seen_access, .reset = seen_reset, .sram = true,
	};
	struct sim_location loc;

	(void)state;
	board_load(sb, "tests/remap.elf", 0);
	s.test_result = sim_symbol(sb, "test_result");
	sim_observe(sb, &obs);
	sim_power_on(sb);
	run_to_done(sb, 100);
	assert_int_equal(s.resets, 1);
	assert_int_equal(s.memrmp_writes, 3);      /* lost, system memory, flash */
	assert_int_equal(s.memrmp_lost, 1);
	assert_true(sim_locate(sb, s.lost_pc, &loc));
	assert_string_equal(loc.symbol, "main");
	assert_string_equal(loc.file, "tests/remap.c");
	/* The start-up code zeroes test_result[16] (.bss), main() sets [0..7]. */
	assert_int_equal(s.sram_writes, 16 + 8);
	/* Removed: nothing more is seen. */
	sim_observe(sb, NULL);
	sim_reset(sb, SIM_RESET_PIN);
	run_to_done(sb, 100);
	assert_int_equal(s.resets, 1);
	assert_int_equal(s.memrmp_writes, 3);
	sim_board_free(sb);
}

static void observer_sees_the_rom_entry_before_the_rom_acts(void **state)
{
	struct sim_board *sb = board_new(NULL);
	struct seen s = { 0 };
	struct sim_observer obs = { .ctx = &s, .rom_entry = seen_rom_entry };
	struct sim_location loc;

	(void)state;
	/* The stub alone: no application, so it enters the ROM. */
	board_load(sb, "stub.elf", 0);
	sim_observe(sb, &obs);
	sim_power_on(sb);
	run_for(sb, 10);
	assert_true(sim_in_rom(sb));
	assert_int_equal(s.rom_entries, 1);
	assert_false(s.in_rom_at_entry);
	assert_int_equal(s.memrmp_at_entry & SYSCFG_MEMRMP_MEM_MODE, SYSCFG_MEM_MODE_SYSMEM);
	assert_true(sim_locate(sb, s.rom_from, &loc));
	assert_string_equal(loc.symbol, "sysboot_enter_rom");
	assert_string_equal(loc.file, "lib/enter.c");
	sim_board_free(sb);
}

/* ---- Debug information ------------------------------------------------------------ */

static void locations_name_functions_objects_and_sections(void **state)
{
	struct sim_board *sb = board_new(NULL);
	struct sim_location loc;
	const char *paths[4], *errors[4];
	uint32_t main_addr, result_addr;

	(void)state;
	board_load(sb, "tests/remap.elf", 0);
	board_load(sb, "app-v1.img", 0x08002000u);      /* not ELF: no debug information */
	main_addr = sim_symbol(sb, "main") & ~1u;
	result_addr = sim_symbol(sb, "test_result");
	assert_true(sim_locate(sb, main_addr + 2, &loc));
	assert_string_equal(loc.symbol, "main");
	assert_int_equal(loc.offset, 2);
	assert_string_equal(loc.section, ".text");
	assert_false(loc.section_writable);
	assert_string_equal(loc.file, "tests/remap.c");
	assert_true(loc.line > 0);
	assert_true(sim_locate(sb, result_addr + 8, &loc));
	assert_string_equal(loc.symbol, "test_result");
	assert_int_equal(loc.offset, 8);
	assert_string_equal(loc.section, ".bss");
	assert_true(loc.section_writable);
	assert_null(loc.file);
	/* The same code seen through the boot alias at 0x0. */
	assert_true(sim_locate(sb, main_addr - STM32_FLASH_BASE, &loc));
	assert_string_equal(loc.symbol, "main");
	/* The application image is a binary: nothing is known there. */
	assert_false(sim_locate(sb, 0x08002400u, &loc));
	assert_null(loc.symbol);
	assert_int_equal(sim_debug_files(sb, paths, errors, 4), 1);
	assert_string_equal(errors[0], "");
	sim_board_free(sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reset_fetches_sp_and_pc_from_the_vector_table),
		cmocka_unit_test(remap_needs_the_syscfg_clock),
		cmocka_unit_test(backup_registers_survive_reset_not_power_cut),
		cmocka_unit_test(flash_controller_from_the_cpu),
		cmocka_unit_test(systick_exception_entry_and_return),
		cmocka_unit_test(uart_echo),
		cmocka_unit_test(uart_echo_through_the_pty),
		cmocka_unit_test(even_jump_is_reported_as_a_fault),
		cmocka_unit_test(jump_to_unmapped_memory_is_reported),
		cmocka_unit_test(erased_flash_is_reported_at_reset),
		cmocka_unit_test(call_runs_a_function_and_the_firmware_carries_on),
		cmocka_unit_test(reset_abandons_a_call),
		cmocka_unit_test(observer_sees_accesses_with_their_pc),
		cmocka_unit_test(observer_sees_the_rom_entry_before_the_rom_acts),
		cmocka_unit_test(locations_name_functions_objects_and_sections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
