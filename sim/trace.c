/*
 * trace.c - what happened on the board, in words: the trace and faults.
 *
 * Why: the emulator exists to show why a jump to the bootloader fails, so
 * every model records what matters (a remap, a lost write, a reset and its
 * cause, a NACK and its reason) as a timed line in one trace that the
 * tests search and sysboot-sim prints; and a fault stops the core with a
 * sentence saying what went wrong and where, instead of hanging or
 * running into garbage as a chip would.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"

const char *sim_trace_kind_str(enum sim_trace_kind kind)
{
	static const char *const names[SIM_TRACE_KIND_COUNT] = {
		[SIM_TRACE_RESET] = "reset",
		[SIM_TRACE_POWER] = "power",
		[SIM_TRACE_REMAP] = "remap",
		[SIM_TRACE_JUMP] = "jump",
		[SIM_TRACE_FAULT] = "fault",
		[SIM_TRACE_LOST_WRITE] = "lost-write",
		[SIM_TRACE_ROM] = "rom",
		[SIM_TRACE_FLASH] = "flash",
		[SIM_TRACE_WATCHDOG] = "watchdog",
		[SIM_TRACE_UART] = "uart",
		[SIM_TRACE_USB] = "usb",
		[SIM_TRACE_NOTE] = "note",
	};

	if ((unsigned)kind >= SIM_TRACE_KIND_COUNT)
		return "?";
	return names[kind];
}

void board_trace(struct board *b, enum sim_trace_kind kind, uint32_t pc,
		 const char *fmt, ...)
{
	struct sim_trace_entry *e;
	va_list ap;

	if (b->ntrace == b->trace_cap) {
		size_t cap = b->trace_cap ? b->trace_cap * 2 : 256;
		struct sim_trace_entry *t = realloc(b->trace, cap * sizeof(*t));

		if (!t)
			return;
		b->trace = t;
		b->trace_cap = cap;
	}
	e = &b->trace[b->ntrace++];
	e->time = b->now;
	e->insns = b->insns;
	e->kind = kind;
	e->pc = pc;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);

	if (b->cfg.trace_out) {
		fprintf(b->cfg.trace_out, "[%10.6f s] %-10s pc=0x%08x %s\n",
			(double)e->time / 1e12, sim_trace_kind_str(kind), pc, e->text);
		fflush(b->cfg.trace_out);
	}
}

static void fault_v(struct board *b, enum sim_fault_kind kind, uint32_t pc, uint32_t addr,
		    const char *fmt, va_list ap)
{
	vsnprintf(b->fault_text, sizeof(b->fault_text), fmt, ap);
	b->fault_pc = pc;
	b->fault_addr = addr;
	b->fault_kind = kind;
	b->mode = MODE_HALTED;
	b->stop_requested = true;
	b->stop_reason = SIM_STOP_FAULT;
	board_trace(b, SIM_TRACE_FAULT, pc, "%s", b->fault_text);
	if (b->uc)
		uc_emu_stop(b->uc);
}

void board_fault(struct board *b, uint32_t pc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fault_v(b, SIM_FAULT_OTHER, pc, 0, fmt, ap);
	va_end(ap);
}

void board_fault_at(struct board *b, enum sim_fault_kind kind, uint32_t pc, uint32_t addr,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fault_v(b, kind, pc, addr, fmt, ap);
	va_end(ap);
}

const char *sim_fault_text(const struct sim_board *sb)
{
	return board_of_const(sb)->fault_text;
}

void sim_fault_info(const struct sim_board *sb, struct sim_fault *f)
{
	const struct board *b = board_of_const(sb);

	f->kind = b->fault_kind;
	f->pc = b->fault_pc;
	f->addr = b->fault_addr;
}

size_t sim_trace_count(const struct sim_board *sb)
{
	return board_of_const(sb)->ntrace;
}

const struct sim_trace_entry *sim_trace_get(const struct sim_board *sb, size_t i)
{
	const struct board *b = board_of_const(sb);

	return i < b->ntrace ? &b->trace[i] : NULL;
}

const struct sim_trace_entry *sim_trace_find(const struct sim_board *sb, size_t from,
					     enum sim_trace_kind kind, const char *needle)
{
	const struct board *b = board_of_const(sb);
	size_t i;

	for (i = from; i < b->ntrace; i++)
		if (b->trace[i].kind == kind && (!needle || strstr(b->trace[i].text, needle)))
			return &b->trace[i];
	return NULL;
}
