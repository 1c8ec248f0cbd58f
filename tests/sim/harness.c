/*
 * harness.c - see harness.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

const char *fw_path(const char *name)
{
	static char path[4][512];
	static unsigned next;
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%s", SYSBOOT_FIRMWARE_DIR, name);
	return p;
}

struct sim_board *board_new(const struct sim_config *cfg)
{
	struct sim_config def;
	struct sim_board *sb;
	char err[256];

	if (!cfg) {
		sim_config_default(&def);
		cfg = &def;
	}
	sb = sim_board_new(cfg, err, sizeof(err));
	if (!sb)
		fail_msg("cannot create board: %s", err);
	return sb;
}

void board_load(struct sim_board *sb, const char *name, uint32_t addr)
{
	char err[512];

	if (sim_load_file(sb, fw_path(name), addr, err, sizeof(err)) < 0)
		fail_msg("cannot load %s: %s", name, err);
}

struct sim_board *board_with(const char *first, ...)
{
	struct sim_board *sb = board_new(NULL);
	const char *name;
	va_list ap;

	va_start(ap, first);
	for (name = first; name; name = va_arg(ap, const char *))
		board_load(sb, name, 0);
	va_end(ap);
	sim_power_on(sb);
	return sb;
}

void dump_trace(struct sim_board *sb)
{
	size_t i, n = sim_trace_count(sb);

	for (i = n > 60 ? n - 60 : 0; i < n; i++) {
		const struct sim_trace_entry *e = sim_trace_get(sb, i);

		print_message("  [%.6f] %-10s pc=0x%08x %s\n", (double)e->time / 1e12,
			      sim_trace_kind_str(e->kind), e->pc, e->text);
	}
}

void run_to_done(struct sim_board *sb, unsigned max_ms)
{
	struct sim_run_limits lim = { 0 };
	enum sim_stop_reason r;

	lim.stop_at_pc = true;
	lim.pc = sim_symbol(sb, "test_done");
	lim.until_time = sim_now(sb) + SIM_MS(max_ms);
	assert_int_not_equal(lim.pc, 0);
	r = sim_run(sb, &lim);
	if (r != SIM_STOP_PC) {
		dump_trace(sb);
		fail_msg("firmware did not reach test_done: %s %s", sim_stop_reason_str(r),
			 sim_fault_text(sb));
	}
}

enum sim_stop_reason run_for(struct sim_board *sb, unsigned ms)
{
	struct sim_run_limits lim = { 0 };

	lim.until_time = sim_now(sb) + SIM_MS(ms);
	return sim_run(sb, &lim);
}

bool run_until_uart(struct sim_board *sb, const char *text, unsigned max_ms)
{
	struct sim_run_limits lim = { 0 };

	lim.uart_text = text;
	lim.until_time = sim_now(sb) + SIM_MS(max_ms);
	return sim_run(sb, &lim) == SIM_STOP_UART;
}

uint32_t result(struct sim_board *sb, unsigned slot)
{
	uint32_t base = sim_symbol(sb, "test_result");

	assert_int_not_equal(base, 0);
	return sim_read32(sb, base + 4u * slot);
}

bool traced(struct sim_board *sb, enum sim_trace_kind kind, const char *needle)
{
	return sim_trace_find(sb, 0, kind, needle) != NULL;
}
