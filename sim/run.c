/*
 * run.c - running the firmware: the hooks around Unicorn and the run loop.
 *
 * Unicorn gives us a Cortex-M4 instruction set and nothing else: it does
 * not count time, cannot sleep, cannot return from an exception, lets
 * every store reach the host buffer behind flash, and stops with a bare
 * error code when something goes wrong. The hooks here do what the chip
 * does around the core before each instruction: time counted per
 * instruction at the configured HCLK, with the events due run in between;
 * a pending remap applied; flash stores handed to the flash controller
 * model and the raw stores undone; WFI and WFE sleeping until an
 * interrupt; a debugger-style call (sim_call) started and returned from;
 * a jump to the ROM's entry point handed to the ROM model; and faults
 * reported in plain words. sim_run alternates between the CPU and the ROM
 * model until one of the caller's limits is reached.
 */
#include <string.h>
#include <time.h>

#include "board.h"

#define PAGE_4K 0x1000u

static void poll_event(struct board *b, void *arg);

enum region { REGION_NONE, REGION_ALIAS, REGION_FLASH, REGION_SYSMEM, REGION_SRAM };

static enum region region_of(uint32_t addr)
{
	if (addr < STM32_BOOT_ALIAS_SIZE)
		return REGION_ALIAS;
	if (addr >= STM32_FLASH_BASE && addr < STM32_FLASH_BASE + STM32_FLASH_SIZE)
		return REGION_FLASH;
	if (addr >= STM32_SYSMEM_BASE && addr < STM32_SYSMEM_BASE + STM32_SYSMEM_SIZE)
		return REGION_SYSMEM;
	if ((addr >= STM32_SRAM1_BASE && addr < STM32_SRAM1_BASE + STM32_SRAM1_SIZE + STM32_SRAM2_SIZE) ||
	    (addr >= STM32_SRAM2_BASE && addr < STM32_SRAM2_BASE + STM32_SRAM2_SIZE))
		return REGION_SRAM;
	return REGION_NONE;
}

static const char *region_name(struct board *b, enum region r)
{
	switch (r) {
	case REGION_ALIAS:
		return b->alias_mode == SYSCFG_MEM_MODE_SYSMEM ? "system memory (at 0x0)" :
		       b->alias_mode == SYSCFG_MEM_MODE_SRAM1 ? "SRAM1 (at 0x0)" : "flash (at 0x0)";
	case REGION_FLASH:
		return "flash";
	case REGION_SYSMEM:
		return "system memory";
	case REGION_SRAM:
		return "SRAM";
	default:
		return "unmapped memory";
	}
}

static void apply_flash_undo(struct board *b)
{
	unsigned i;

	/* Newest first, so the oldest saved bytes win where stores overlap. */
	for (i = b->flash_undo_count; i-- > 0;) {
		struct flash_undo *u = &b->flash_undo[i];
		uint8_t *p = board_host_ptr(b, u->addr, u->len);

		if (p)
			memcpy(p, u->bytes, u->len);
	}
	b->flash_undo_count = 0;
	b->flash_undo_pending = false;
}

static uint32_t rom_entry_point(struct board *b)
{
	uint32_t v;

	memcpy(&v, b->sysmem + 4, 4);
	return v & ~1u;
}

/* Is addr the ROM's entry point, seen directly or through the alias? */
static bool is_rom_address(struct board *b, uint32_t addr, uint32_t *rom_addr)
{
	if (addr >= STM32_SYSMEM_BASE && addr < STM32_SYSMEM_BASE + STM32_SYSMEM_SIZE) {
		*rom_addr = addr;
		return true;
	}
	if (b->alias_mode == SYSCFG_MEM_MODE_SYSMEM && addr < STM32_SYSMEM_SIZE) {
		*rom_addr = addr + STM32_SYSMEM_BASE;
		return true;
	}
	return false;
}

static void stop_cpu(struct board *b, enum sim_stop_reason reason)
{
	b->stop_requested = true;
	b->stop_reason = reason;
	uc_emu_stop(b->uc);
}

static bool wake_pending(const struct board *b)
{
	unsigned i;

	/* A debugger halting a sleeping core to call a function wakes it too. */
	if (b->call.state == SIM_CALL_PENDING)
		return true;
	for (i = 1; i < NVIC_EXC_COUNT; i++)
		if (b->nvic.pending[i] && (i < EXC_IRQ0 || b->nvic.enabled[i]))
			return true;
	return false;
}

/*
 * WFI/WFE: time passes from event to event until an exception is pending
 * (ARMv7-M B1.5.19: a pending interrupt wakes the core even when PRIMASK
 * keeps it from being taken). Then execution resumes after the instruction.
 */
static void handle_sleep(struct board *b, uint32_t addr)
{
	uint32_t pc = (addr + 2) | 1u;

	while (!wake_pending(b)) {
		if (!b->powered || b->reset_requested || b->stop_requested || !b->events)
			return;
		if (b->next_event > b->now)
			b->now = b->next_event;
		board_run_due_events(b);
	}
	uc_reg_write(b->uc, UC_ARM_REG_PC, &pc);
}

/* ---- Debugger-style calls (sim_call) ------------------------------------ */

/*
 * Where a called function returns to: a page of "b ." at the end of FMC
 * bank 1, where a Nucleo has no memory, so no firmware reaches it by
 * accident; executable in the ARMv7-M default memory map (B3.1), unlike
 * the system and vendor regions from 0xE0000000 (execute never).
 */
#define CALL_TRAP_BASE 0x6FFFF000u

static const int call_regs[16] = {
	UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3, UC_ARM_REG_R4,
	UC_ARM_REG_R5, UC_ARM_REG_R6, UC_ARM_REG_R7, UC_ARM_REG_R8, UC_ARM_REG_R9,
	UC_ARM_REG_R10, UC_ARM_REG_R11, UC_ARM_REG_R12, UC_ARM_REG_SP, UC_ARM_REG_LR,
	UC_ARM_REG_PC,
};

/* Start the pending call in place of the instruction at pc (not executed yet). */
static void call_start(struct board *b, uint32_t pc)
{
	uint32_t sp, lr = CALL_TRAP_BASE | 1u, target = b->call.addr | 1u;
	unsigned i;

	for (i = 0; i < 16; i++)
		uc_reg_read(b->uc, call_regs[i], &b->call.regs[i]);
	b->call.regs[15] = pc;
	uc_reg_read(b->uc, UC_ARM_REG_XPSR, &b->call.xpsr);
	/* AAPCS: the stack is 8-byte aligned at a call. */
	sp = b->call.regs[13] & ~7u;
	uc_reg_write(b->uc, UC_ARM_REG_SP, &sp);
	uc_reg_write(b->uc, UC_ARM_REG_LR, &lr);
	uc_reg_write(b->uc, UC_ARM_REG_PC, &target);
	b->call.state = SIM_CALL_RUNNING;
	board_trace(b, SIM_TRACE_NOTE, pc, "debugger call: the CPU calls 0x%08x (interrupted at 0x%08x)",
		    target, pc);
}

/* The called function returned into the trap: carry on where the call began. */
static void call_return(struct board *b)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		uint32_t v = b->call.regs[i] | (i == 15 ? 1u : 0u);

		uc_reg_write(b->uc, call_regs[i], &v);
	}
	uc_reg_write(b->uc, UC_ARM_REG_XPSR, &b->call.xpsr);
	b->call.state = SIM_CALL_RETURNED;
	board_trace(b, SIM_TRACE_NOTE, b->last_pc,
		    "debugger call: 0x%08x returned; the firmware carries on at 0x%08x",
		    b->call.addr | 1u, b->call.regs[15]);
	b->last_pc = b->call.regs[15];
}

int sim_call(struct sim_board *sb, uint32_t addr)
{
	struct board *b = board_of(sb);

	if (b->call.state == SIM_CALL_PENDING || b->call.state == SIM_CALL_RUNNING)
		return -1;
	b->call.state = SIM_CALL_PENDING;
	b->call.addr = addr & ~1u;
	return 0;
}

enum sim_call_state sim_call_state(const struct sim_board *sb)
{
	return board_of_const(sb)->call.state;
}

static void hook_code(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
	struct board *b = user;
	uint32_t addr = (uint32_t)address;
	uint32_t rom_addr;

	(void)uc;
	(void)size;
	if (b->flash_undo_pending)
		apply_flash_undo(b);
	if (b->alias_pending)
		board_apply_remap(b);

	if (addr == CALL_TRAP_BASE && b->call.state == SIM_CALL_RUNNING) {
		call_return(b);
		return;
	}
	if (is_rom_address(b, addr, &rom_addr)) {
		if (rom_addr == rom_entry_point(b)) {
			if (b->observing && b->obs.rom_entry)
				b->obs.rom_entry(b->obs.ctx, sim_board_of(b), b->last_pc);
			b->rom_entry = true;
			b->rom_entry_pc = rom_addr;
			board_trace(b, SIM_TRACE_JUMP, b->last_pc,
				    "%s -> ROM bootloader entry 0x%08x", region_name(b, region_of(b->last_pc)),
				    rom_addr);
			stop_cpu(b, SIM_STOP_NONE);
		} else {
			board_fault_at(b, SIM_FAULT_SYSMEM_BRANCH, b->last_pc, rom_addr,
				    "jump to 0x%08x in system memory, which is not the ROM bootloader's entry point (0x%08x, the value stored at 0x1FFF0004)%s",
				    rom_addr, rom_entry_point(b) | 1u,
				    rom_addr == STM32_SYSMEM_BASE + 4 || rom_addr == STM32_SYSMEM_BASE ?
				    ": the code jumped to the address of the vector instead of the address stored in it (missing dereference)" : "");
		}
		return;
	}

	if (b->stop_pc_set && addr == b->stop_pc) {
		stop_cpu(b, SIM_STOP_PC);
		return;
	}
	if (b->stop_insns && b->insns >= b->stop_insns) {
		stop_cpu(b, SIM_STOP_INSNS);
		return;
	}

	if (region_of(addr) != region_of(b->last_pc) && b->insns) {
		enum region from = region_of(b->last_pc), to = region_of(addr);

		if (to == REGION_NONE) {
			board_fault_at(b, SIM_FAULT_NO_MEMORY, b->last_pc, addr,
				       "execution reached 0x%08x, where there is no memory", addr);
			return;
		}
		board_trace(b, SIM_TRACE_JUMP, b->last_pc, "%s -> %s at 0x%08x",
			    region_name(b, from), region_name(b, to), addr);
	}
	b->last_pc = addr;

	b->insns++;
	b->cycles++;
	b->now += b->ps_per_insn;
	if (b->now >= b->next_event)
		board_run_due_events(b);
	if (!b->powered || b->reset_requested || b->stop_requested) {
		if (b->mode == MODE_CPU || !b->powered)
			uc_emu_stop(uc);
		return;
	}
	if (b->nvic.check)
		cpu_check_exceptions(b, addr);
	if (b->call.state == SIM_CALL_PENDING && b->nvic.depth == 0) {
		call_start(b, addr);
		return;
	}

	/* WFI (0xBF30) and WFE (0xBF20) need the core's sleep model. */
	if (size == 2) {
		uint8_t *p = board_host_ptr(b, addr, 2);

		if (p && p[1] == 0xBF && (p[0] == 0x30 || p[0] == 0x20))
			handle_sleep(b, addr);
	}
}

static bool hook_write_prot(uc_engine *uc, uc_mem_type type, uint64_t address, int size,
			    int64_t value, void *user)
{
	struct board *b = user;
	uint32_t addr = (uint32_t)address;
	uint32_t phys = addr;
	uint8_t *p;

	(void)uc;
	(void)type;
	if (addr < STM32_BOOT_ALIAS_SIZE) {
		if (b->alias_mode == SYSCFG_MEM_MODE_FLASH)
			phys = addr + STM32_FLASH_BASE;
		else
			phys = addr + STM32_SYSMEM_BASE;
	}
	if (phys >= STM32_SYSMEM_BASE && phys < STM32_SYSMEM_BASE + STM32_SYSMEM_SIZE) {
		board_trace(b, SIM_TRACE_NOTE, b->last_pc,
			    "store to system memory 0x%08x ignored (it is ROM)", phys);
	} else {
		flash_cpu_store(b, phys, (unsigned)size, (uint32_t)value);
	}
	/* Unicorn now stores into the host buffer: put back what the model says. */
	p = board_host_ptr(b, addr, (uint32_t)size);
	if (p && size <= 8 && b->flash_undo_count < sizeof(b->flash_undo) / sizeof(b->flash_undo[0])) {
		struct flash_undo *u = &b->flash_undo[b->flash_undo_count++];

		u->addr = addr;
		u->len = (unsigned)size;
		memcpy(u->bytes, p, (size_t)size);
		b->flash_undo_pending = true;
	}
	return true;
}

static bool hook_unmapped(uc_engine *uc, uc_mem_type type, uint64_t address, int size,
			  int64_t value, void *user)
{
	struct board *b = user;
	uint32_t addr = (uint32_t)address;

	(void)uc;
	(void)value;
	switch (type) {
	case UC_MEM_FETCH_UNMAPPED:
		board_fault_at(b, SIM_FAULT_NO_MEMORY, b->last_pc, addr,
			    "jump to 0x%08x, where there is no memory (from the instruction at 0x%08x)",
			    addr, b->last_pc);
		break;
	case UC_MEM_WRITE_UNMAPPED:
		board_fault(b, b->last_pc,
			    "bus fault: %d-byte write to 0x%08x, where there is no memory", size, addr);
		break;
	default:
		board_fault(b, b->last_pc,
			    "bus fault: %d-byte read from 0x%08x, where there is no memory", size, addr);
		break;
	}
	return false;
}

/* QEMU's ARM exception numbers as Unicorn reports them to UC_HOOK_INTR. */
enum {
	QEMU_EXCP_UDEF = 1,
	QEMU_EXCP_SWI = 2,
	QEMU_EXCP_PREFETCH_ABORT = 3,
	QEMU_EXCP_DATA_ABORT = 4,
	QEMU_EXCP_BKPT = 7,
	QEMU_EXCP_EXCEPTION_EXIT = 8,
	QEMU_EXCP_NOCP = 17,
	QEMU_EXCP_INVSTATE = 18,
	QEMU_EXCP_UNALIGNED = 22,
};

static void hook_intr(uc_engine *uc, uint32_t intno, void *user)
{
	struct board *b = user;
	uint32_t pc = 0;

	uc_reg_read(uc, UC_ARM_REG_PC, &pc);
	switch (intno) {
	case QEMU_EXCP_PREFETCH_ABORT:
	case QEMU_EXCP_EXCEPTION_EXIT:
		if ((pc | 1u) >= 0xFFFFFFE1u) {
			/* BX to an EXC_RETURN value: the core returns from an exception. */
			if (!cpu_exception_return(b, pc | 1u))
				board_fault(b, b->last_pc,
					    "branch to EXC_RETURN value 0x%08x while no exception is active",
					    pc | 1u);
			return;
		}
		board_fault_at(b, SIM_FAULT_NO_MEMORY, b->last_pc, pc,
			       "instruction fetch from 0x%08x failed (no executable memory there)", pc);
		return;
	case QEMU_EXCP_SWI:
		if (!cpu_take_svc(b))
			board_fault(b, b->last_pc, "SVC executed where it cannot be taken");
		return;
	case QEMU_EXCP_INVSTATE:
		board_fault_at(b, SIM_FAULT_EVEN_BRANCH, b->last_pc, pc,
			    "usage fault: branch to an even address (0x%08x): on Cortex-M the lowest bit of a branch target must be 1 (Thumb state); a function pointer was built from an address without |1, or read from the wrong place",
			    pc);
		return;
	case QEMU_EXCP_UDEF:
		board_fault(b, pc, "usage fault: undefined instruction at 0x%08x (executing data?)", pc);
		return;
	case QEMU_EXCP_NOCP:
		board_fault(b, pc, "usage fault: floating-point instruction at 0x%08x while the FPU is disabled (SCB_CPACR)", pc);
		return;
	case QEMU_EXCP_BKPT:
		board_fault(b, pc, "breakpoint instruction (BKPT) at 0x%08x with no debugger attached", pc);
		return;
	case QEMU_EXCP_UNALIGNED:
		board_fault(b, pc, "usage fault: unaligned access at 0x%08x", pc);
		return;
	case QEMU_EXCP_DATA_ABORT:
		board_fault(b, pc, "bus fault: data access at 0x%08x failed", pc);
		return;
	default:
		board_fault(b, pc, "CPU exception %u at 0x%08x", intno, pc);
		return;
	}
}

/* ---- The run loop -------------------------------------------------------- */

static void check_uart_stop(struct board *b)
{
	const struct sim_run_limits *lim = b->limits;

	if (!lim || !lim->uart_text)
		return;
	if (usart_output_contains(&b->usart[1], b->uart_scan_from, lim->uart_text))
		stop_cpu(b, SIM_STOP_UART);
}

/*
 * Every 100 us of simulated time: read the serial links, check the output
 * the caller waits for, and in realtime mode do not run ahead of the wall
 * clock, so programs on the other end of a link see a board that keeps
 * real time.
 */
static void poll_event(struct board *b, void *arg)
{
	unsigned i;

	(void)arg;
	for (i = 0; i < 3; i++)
		usart_poll(b, &b->usart[i]);
	check_uart_stop(b);
	if (b->cfg.realtime) {
		uint64_t wall = board_wall_ns() - b->wall_start_ns;
		uint64_t sim_ns = (b->now - b->sim_at_wall_start) / 1000u;

		if (sim_ns > wall + 2000000u) {
			struct timespec ts = { 0, (long)(sim_ns - wall) };

			if (ts.tv_nsec > 20000000)
				ts.tv_nsec = 20000000;
			nanosleep(&ts, NULL);
		}
	}
	sim_event_schedule(b, &b->poll, SIM_US(100));
}

static void time_limit_event(struct board *b, void *arg)
{
	(void)arg;
	b->stop_requested = true;
	b->stop_reason = SIM_STOP_TIME;
	if (b->mode == MODE_CPU)
		uc_emu_stop(b->uc);
}

/*
 * Unicorn stopped with an error no hook explained. The commonest is a
 * branch to an even address: the core leaves Thumb state, which a
 * Cortex-M cannot execute (ARMv7-M B1.4.2, INVSTATE usage fault).
 */
static void explain_stop(struct board *b, uc_err e)
{
	uint32_t pc = 0, xpsr = 0;

	uc_reg_read(b->uc, UC_ARM_REG_PC, &pc);
	uc_reg_read(b->uc, UC_ARM_REG_XPSR, &xpsr);
	if (e == UC_ERR_INSN_INVALID && !(xpsr & (1u << 24))) {
		const char *hint = "";

		if (pc == STM32_SYSMEM_BASE + 4 || pc == 4)
			hint = ". 0x1FFF0004 is where the ROM's entry point is stored, not the entry point: read the word there and jump to that (missing dereference)";
		else if (pc == STM32_SYSMEM_BASE || pc == 0)
			hint = ". That is the ROM's vector table, not code";
		board_fault_at(b, SIM_FAULT_EVEN_BRANCH, b->last_pc, pc,
			    "usage fault (INVSTATE): branch to the even address 0x%08x from 0x%08x; on Cortex-M a branch target must have bit 0 set (Thumb)%s",
			    pc, b->last_pc, hint);
		return;
	}
	if (e == UC_ERR_INSN_INVALID) {
		board_fault(b, pc, "usage fault: undefined instruction at 0x%08x (executing data or erased flash?)", pc);
		return;
	}
	board_fault(b, b->last_pc, "the core stopped at 0x%08x: %s", pc, uc_strerror(e));
}

static enum sim_stop_reason run_cpu(struct board *b)
{
	uint32_t pc;
	uc_err e;

	/* A remap made outside the CPU (by the ROM) applies before any fetch. */
	if (b->alias_pending)
		board_apply_remap(b);
	uc_reg_read(b->uc, UC_ARM_REG_PC, &pc);
	e = uc_emu_start(b->uc, pc | 1u, 0xFFFFFFFFu, 0, 0);
	if (b->flash_undo_pending)
		apply_flash_undo(b);
	if (b->alias_pending)
		board_apply_remap(b);
	if (e != UC_ERR_OK && b->mode == MODE_CPU && b->powered)
		explain_stop(b, e);
	return SIM_STOP_NONE;
}

enum sim_stop_reason sim_run(struct sim_board *sb, const struct sim_run_limits *lim)
{
	struct board *b = board_of(sb);
	static const struct sim_run_limits none;
	enum sim_stop_reason reason = SIM_STOP_NONE;

	if (!lim)
		lim = &none;
	b->limits = lim;
	b->stop_requested = false;
	b->stop_reason = SIM_STOP_NONE;
	b->stop_pc_set = lim->stop_at_pc;
	b->stop_pc = lim->pc & ~1u;
	b->stop_insns = lim->max_insns ? b->insns + lim->max_insns : 0;
	if (b->stop_at_insn && (!b->stop_insns || b->stop_at_insn < b->stop_insns))
		b->stop_insns = b->stop_at_insn;
	b->uart_scan_from = usart_output_len(&b->usart[1]);
	if (lim->uart_text) {
		size_t n = strlen(lim->uart_text);

		b->uart_scan_from = b->uart_scan_from > n ? b->uart_scan_from - n : 0;
	}
	sim_event_init(&b->time_limit, "time limit", time_limit_event, NULL);
	if (lim->until_time)
		sim_event_schedule_at(b, &b->time_limit, lim->until_time);
	if (b->powered && !b->poll.armed)
		sim_event_schedule(b, &b->poll, SIM_US(100));

	for (;;) {
		if (!b->powered) {
			reason = SIM_STOP_POWER_OFF;
			break;
		}
		if (b->reset_requested) {
			board_reset(b, b->reset_cause);
			continue;
		}
		if (b->mode == MODE_HALTED) {
			reason = SIM_STOP_FAULT;
			break;
		}
		if (b->stop_requested && b->stop_reason != SIM_STOP_NONE) {
			reason = b->stop_reason;
			break;
		}
		b->stop_requested = false;
		if (b->mode == MODE_CPU) {
			run_cpu(b);
			if (b->stop_reason == SIM_STOP_INSNS && b->stop_at_insn &&
			    b->insns >= b->stop_at_insn) {
				b->stop_at_insn = 0;
				board_power_lost(b);
			}
			if (b->rom_entry && b->powered && !b->reset_requested) {
				b->rom_entry = false;
				b->mode = MODE_ROM;
				rom_enter(b, b->rom_entry_pc);
				if (lim->stop_on_rom) {
					reason = SIM_STOP_ROM;
					break;
				}
			}
		} else if (b->mode == MODE_ROM) {
			enum sim_stop_reason r = rom_run(b);

			if (r != SIM_STOP_NONE && !b->stop_requested) {
				b->stop_requested = true;
				b->stop_reason = r;
			}
			check_uart_stop(b);
		}
	}
	sim_event_cancel(b, &b->time_limit);
	b->limits = NULL;
	b->stop_requested = false;
	return reason;
}

const char *sim_stop_reason_str(enum sim_stop_reason reason)
{
	switch (reason) {
	case SIM_STOP_NONE:
		return "none";
	case SIM_STOP_TIME:
		return "time limit reached";
	case SIM_STOP_INSNS:
		return "instruction limit reached";
	case SIM_STOP_PC:
		return "address reached";
	case SIM_STOP_UART:
		return "expected serial output seen";
	case SIM_STOP_ROM:
		return "ROM bootloader entered";
	case SIM_STOP_FAULT:
		return "fault";
	case SIM_STOP_POWER_OFF:
		return "power off";
	}
	return "?";
}

/* ---- Set-up ---------------------------------------------------------------- */

int board_run_init(struct board *b, char *err, size_t errlen)
{
	static uint16_t trap[PAGE_4K / 2];
	uc_hook h;
	unsigned i;

	for (i = 0; i < PAGE_4K / 2; i++)
		trap[i] = 0xE7FEu;           /* b . */
	if (uc_mem_map(b->uc, CALL_TRAP_BASE, PAGE_4K, UC_PROT_READ | UC_PROT_EXEC) != UC_ERR_OK ||
	    uc_mem_write(b->uc, CALL_TRAP_BASE, trap, sizeof(trap)) != UC_ERR_OK) {
		snprintf(err, errlen, "cannot map the debugger call trap");
		return -1;
	}
	uc_hook_add(b->uc, &h, UC_HOOK_CODE, hook_code, b, 1, 0);
	uc_hook_add(b->uc, &h, UC_HOOK_MEM_WRITE_PROT, hook_write_prot, b, 1, 0);
	uc_hook_add(b->uc, &h, UC_HOOK_MEM_UNMAPPED, hook_unmapped, b, 1, 0);
	uc_hook_add(b->uc, &h, UC_HOOK_INTR, hook_intr, b, 1, 0);
	sim_event_init(&b->poll, "poll", poll_event, NULL);
	return 0;
}
