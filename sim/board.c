/*
 * board.c - the emulated Nucleo-L476RG: Unicorn, memory, time and resets.
 *
 * Unicorn gives us a Cortex-M4 instruction set and nothing else: it does not
 * fetch the reset vector, has no NVIC, SysTick or SCB, cannot return from an
 * exception, and lets every store reach the host buffer behind flash. This
 * file supplies what a real chip does around the core: the memory map with a
 * boot alias that follows SYSCFG_MEMRMP (RM0351 2.2, 9.2.1), simulated time
 * counted per instruction at the configured HCLK, timed events for the
 * peripherals, reset and power sequencing, flash stores handed to the flash
 * controller model, entry into the ROM bootloader model, and faults reported
 * in plain words instead of being hidden.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "board.h"
#include "link.h"
#include "usb_link.h"

#define SRAM2_ALIAS STM32_SRAM2_ALIAS_BASE
#define INFO_BASE   0x1FFF7000u
#define INFO2_BASE  0x1FFFF000u
#define PAGE_4K     0x1000u

/* Memory windows mapped as MMIO and dispatched through the periph table. */
static const struct {
	uint32_t base, size;
} mmio_windows[] = {
	{ 0x40000000u, 0x00030000u },  /* APB1, APB2, AHB1 */
	{ 0x48000000u, 0x00002000u },  /* AHB2 GPIO */
	{ 0x50000000u, 0x00070000u },  /* AHB2 OTG FS, ADC, AES, RNG */
	{ 0xE0000000u, 0x00100000u },  /* Cortex-M4 private peripheral bus */
};

uint64_t board_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- Trace ------------------------------------------------------------- */

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

/* ---- Events ------------------------------------------------------------ */

void sim_event_init(struct sim_event *ev, const char *name, sim_event_fn fn, void *arg)
{
	memset(ev, 0, sizeof(*ev));
	ev->name = name;
	ev->fn = fn;
	ev->arg = arg;
}

static void update_next_event(struct board *b)
{
	b->next_event = b->events ? b->events->when : UINT64_MAX;
}

void sim_event_cancel(struct board *b, struct sim_event *ev)
{
	struct sim_event **pp;

	if (!ev->armed)
		return;
	for (pp = &b->events; *pp; pp = &(*pp)->next) {
		if (*pp == ev) {
			*pp = ev->next;
			break;
		}
	}
	ev->armed = false;
	ev->next = NULL;
	update_next_event(b);
}

void sim_event_schedule_at(struct board *b, struct sim_event *ev, sim_time_t when)
{
	struct sim_event **pp;

	sim_event_cancel(b, ev);
	ev->when = when;
	/* Events due at the same time run in the order they were scheduled. */
	for (pp = &b->events; *pp && (*pp)->when <= when; pp = &(*pp)->next)
		;
	ev->next = *pp;
	*pp = ev;
	ev->armed = true;
	update_next_event(b);
}

void sim_event_schedule(struct board *b, struct sim_event *ev, sim_time_t delay)
{
	sim_event_schedule_at(b, ev, b->now + delay);
}

/* Run every event due at or before the current time. */
static void run_due_events(struct board *b)
{
	while (b->events && b->events->when <= b->now && b->powered) {
		struct sim_event *ev = b->events;

		b->events = ev->next;
		ev->armed = false;
		ev->next = NULL;
		update_next_event(b);
		ev->fn(b, ev->arg);
	}
}

bool board_advance(struct board *b, sim_time_t delay)
{
	sim_time_t end = b->now + delay;

	while (b->powered && !b->reset_requested) {
		if (b->events && b->events->when <= end) {
			if (b->events->when > b->now)
				b->now = b->events->when;
			run_due_events(b);
			continue;
		}
		b->now = end;
		break;
	}
	return b->powered && !b->reset_requested;
}

/* ---- Memory map -------------------------------------------------------- */

/*
 * Drop translated code after memory changed behind the CPU's back. Range
 * by range: a full TB flush makes Unicorn 2.0.1 clear its whole 1 GB code
 * buffer, which takes a second.
 */
static void flush_translations(struct board *b)
{
	static const struct {
		uint32_t base, size;
	} code[] = {
		{ STM32_BOOT_ALIAS_BASE, STM32_BOOT_ALIAS_SIZE },
		{ STM32_FLASH_BASE, STM32_FLASH_SIZE },
		{ STM32_SYSMEM_BASE, STM32_SYSMEM_SIZE },
		{ STM32_SRAM1_BASE, STM32_SRAM1_SIZE + STM32_SRAM2_SIZE },
		{ STM32_SRAM2_BASE, STM32_SRAM2_SIZE },
	};
	unsigned i;

	for (i = 0; i < sizeof(code) / sizeof(code[0]); i++)
		uc_ctl_remove_cache(b->uc, code[i].base, (uint64_t)code[i].base + code[i].size);
}

static void *alloc_pages(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void map_flash_at(struct board *b, uint32_t base, bool fb_mode)
{
	uint8_t *first = b->flash + (fb_mode ? STM32_FLASH_BANK_SIZE : 0);
	uint8_t *second = b->flash + (fb_mode ? 0 : STM32_FLASH_BANK_SIZE);

	uc_mem_map_ptr(b->uc, base, STM32_FLASH_BANK_SIZE, UC_PROT_READ | UC_PROT_EXEC, first);
	uc_mem_map_ptr(b->uc, base + STM32_FLASH_BANK_SIZE, STM32_FLASH_BANK_SIZE,
		       UC_PROT_READ | UC_PROT_EXEC, second);
}

static uint32_t alias_size(unsigned mode)
{
	switch (mode) {
	case SYSCFG_MEM_MODE_SYSMEM:
		return STM32_SYSMEM_SIZE;
	case SYSCFG_MEM_MODE_SRAM1:
		return STM32_SRAM1_SIZE;
	case SYSCFG_MEM_MODE_FLASH:
		return STM32_FLASH_SIZE;
	default:
		return 0;   /* FMC / QUADSPI: nothing fitted on a Nucleo */
	}
}

static void map_alias(struct board *b, unsigned mode, bool fb_mode)
{
	switch (mode) {
	case SYSCFG_MEM_MODE_FLASH:
		map_flash_at(b, 0, fb_mode);
		break;
	case SYSCFG_MEM_MODE_SYSMEM:
		uc_mem_map_ptr(b->uc, 0, STM32_SYSMEM_SIZE, UC_PROT_READ | UC_PROT_EXEC, b->sysmem);
		break;
	case SYSCFG_MEM_MODE_SRAM1:
		uc_mem_map_ptr(b->uc, 0, STM32_SRAM1_SIZE, UC_PROT_ALL, b->sram1);
		break;
	default:
		break;
	}
}

static void unmap_alias(struct board *b)
{
	uint32_t size = alias_size(b->alias_mode);

	if (size)
		uc_mem_unmap(b->uc, 0, size);
}

static const char *mem_mode_name(unsigned mode)
{
	switch (mode) {
	case SYSCFG_MEM_MODE_FLASH:
		return "main flash";
	case SYSCFG_MEM_MODE_SYSMEM:
		return "system memory";
	case SYSCFG_MEM_MODE_FMC:
		return "FMC";
	case SYSCFG_MEM_MODE_SRAM1:
		return "SRAM1";
	case SYSCFG_MEM_MODE_QUADSPI:
		return "QUADSPI";
	default:
		return "reserved";
	}
}

/* Apply a pending remap; runs between instructions. */
static void apply_alias(struct board *b)
{
	unsigned mode = b->syscfg.memrmp & SYSCFG_MEMRMP_MEM_MODE;
	bool fb = (b->syscfg.memrmp & SYSCFG_MEMRMP_FB_MODE) != 0;

	b->alias_pending = false;
	if (mode == b->alias_mode && fb == b->alias_fb_mode)
		return;
	unmap_alias(b);
	if (fb != b->alias_fb_mode) {
		uc_mem_unmap(b->uc, STM32_FLASH_BASE, STM32_FLASH_SIZE);
		map_flash_at(b, STM32_FLASH_BASE, fb);
	}
	map_alias(b, mode, fb);
	board_trace(b, SIM_TRACE_REMAP, b->last_pc, "0x00000000 now shows %s%s (was %s)",
		    mem_mode_name(mode), fb ? ", flash banks swapped" : "",
		    mem_mode_name(b->alias_mode));
	b->alias_mode = mode;
	b->alias_fb_mode = fb;
	/*
	 * Drop code translated from the old mapping. Not a full flush: this
	 * runs between two instructions of a translated block that must
	 * survive (it executes from flash, not from the alias).
	 */
	uc_ctl_remove_cache(b->uc, 0, STM32_FLASH_SIZE);
	if (fb)
		uc_ctl_remove_cache(b->uc, STM32_FLASH_BASE, STM32_FLASH_BASE + STM32_FLASH_SIZE);
}

void board_set_memory_mode(struct board *b, unsigned mem_mode, bool fb_mode)
{
	(void)mem_mode;
	(void)fb_mode;
	/* The new mapping is visible from the next instruction fetch on. */
	b->alias_pending = true;
}

/* Map an address seen by the CPU to the host byte behind it, or NULL. */
static uint8_t *host_ptr(struct board *b, uint32_t addr, uint32_t len)
{
	uint32_t alias = alias_size(b->alias_mode);

	if (addr < alias && len <= alias - addr) {
		switch (b->alias_mode) {
		case SYSCFG_MEM_MODE_FLASH:
			addr += STM32_FLASH_BASE;
			break;
		case SYSCFG_MEM_MODE_SYSMEM:
			addr += STM32_SYSMEM_BASE;
			break;
		case SYSCFG_MEM_MODE_SRAM1:
			addr += STM32_SRAM1_BASE;
			break;
		}
	}
#define IN(base, size) (addr >= (base) && addr - (base) < (size) && len <= (size) - (addr - (base)))
	if (IN(STM32_FLASH_BASE, STM32_FLASH_SIZE)) {
		uint32_t off = addr - STM32_FLASH_BASE;

		if (b->alias_fb_mode)
			off ^= STM32_FLASH_BANK_SIZE;
		if ((off & (STM32_FLASH_BANK_SIZE - 1)) + len > STM32_FLASH_BANK_SIZE && b->alias_fb_mode)
			return NULL;
		return b->flash + off;
	}
	if (IN(STM32_SYSMEM_BASE, STM32_SYSMEM_SIZE))
		return b->sysmem + (addr - STM32_SYSMEM_BASE);
	if (IN(INFO_BASE, PAGE_4K))
		return b->info + (addr - INFO_BASE);
	if (IN(INFO2_BASE, PAGE_4K))
		return b->info2 + (addr - INFO2_BASE);
	if (IN(STM32_SRAM1_BASE, STM32_SRAM1_SIZE))
		return b->sram1 + (addr - STM32_SRAM1_BASE);
	if (IN(SRAM2_ALIAS, STM32_SRAM2_SIZE))
		return b->sram2 + (addr - SRAM2_ALIAS);
	if (IN(STM32_SRAM2_BASE, STM32_SRAM2_SIZE))
		return b->sram2 + (addr - STM32_SRAM2_BASE);
#undef IN
	return NULL;
}

int board_mem_read(struct board *b, uint32_t addr, void *buf, uint32_t len)
{
	uint8_t *p = host_ptr(b, addr, len);

	if (!p)
		return -1;
	memcpy(buf, p, len);
	return 0;
}

int board_mem_write(struct board *b, uint32_t addr, const void *buf, uint32_t len)
{
	uint8_t *p = host_ptr(b, addr, len);

	/* Flash and ROM are written through their own models only. */
	if (!p || (addr >= STM32_FLASH_BASE && addr < STM32_FLASH_BASE + STM32_FLASH_SIZE) ||
	    (addr >= STM32_SYSMEM_BASE && addr < 0x20000000u) || addr < STM32_BOOT_ALIAS_SIZE)
		return -1;
	memcpy(p, buf, len);
	return 0;
}

/* A CPU data read of flash while some double word has an ECC error. */
static void hook_ecc_read(uc_engine *uc, uc_mem_type type, uint64_t address, int size,
			  int64_t value, void *user)
{
	struct board *b = user;
	uint32_t addr = (uint32_t)address, off;

	(void)uc;
	(void)type;
	(void)value;
	if (addr < STM32_BOOT_ALIAS_SIZE) {
		if (b->alias_mode != SYSCFG_MEM_MODE_FLASH)
			return;
		off = addr;
	} else if (addr >= STM32_FLASH_BASE && addr - STM32_FLASH_BASE < STM32_FLASH_SIZE) {
		off = addr - STM32_FLASH_BASE;
	} else {
		return;
	}
	if (b->alias_fb_mode)
		off ^= STM32_FLASH_BANK_SIZE;
	if (!flash_ecc_read(b, off) && size > 1 && ((off + (uint32_t)size - 1u) & ~7u) != (off & ~7u))
		flash_ecc_read(b, off + (uint32_t)size - 1u);
}

void board_ecc_watch(struct board *b)
{
	bool want = flash_has_ecc_errors(b);

	if (!b->uc || want == b->ecc_hooked)
		return;
	if (want) {
		/*
		 * One hook over flash and the boot alias, only while errors
		 * exist: a read hook slows every load it covers.
		 */
		if (uc_hook_add(b->uc, &b->ecc_hook, UC_HOOK_MEM_READ, hook_ecc_read, b,
				0, (uint64_t)STM32_FLASH_BASE + STM32_FLASH_SIZE - 1) != UC_ERR_OK)
			return;
	} else {
		uc_hook_del(b->uc, b->ecc_hook);
	}
	b->ecc_hooked = want;
	/* Code translated without (or with) the hook's calls must go. */
	flush_translations(b);
}

void board_flash_changed(struct board *b, uint32_t addr, uint32_t len)
{
	(void)addr;
	(void)len;
	/*
	 * Translated code may hold the old bytes. Invalidate it, before the
	 * next instruction when the CPU is running (uc_ctl_remove_cache only
	 * drops blocks overlapping the range, so the code doing the
	 * programming keeps running).
	 */
	uc_ctl_remove_cache(b->uc, addr, addr + len);
	if (b->alias_mode == SYSCFG_MEM_MODE_FLASH && addr >= STM32_FLASH_BASE) {
		uint32_t a = addr - STM32_FLASH_BASE;

		uc_ctl_remove_cache(b->uc, a, a + len);
	}
}

/* ---- Peripheral dispatch ------------------------------------------------ */

void board_add_periph(struct board *b, const struct periph *p)
{
	if (b->nperiphs < sizeof(b->periphs) / sizeof(b->periphs[0]))
		b->periphs[b->nperiphs++] = *p;
}

static struct periph *find_periph(struct board *b, uint32_t addr)
{
	unsigned i;

	for (i = 0; i < b->nperiphs; i++) {
		struct periph *p = &b->periphs[i];

		if (addr >= p->base && addr - p->base < p->size)
			return p;
	}
	return NULL;
}

bool rcc_clock_enabled(const struct board *b, uint32_t enr, uint32_t enbit)
{
	const struct rcc_state *r = &b->rcc;
	uint32_t v;

	switch (enr) {
	case 0:
		return true;
	case RCC_AHB1ENR:
		v = r->ahb1enr;
		break;
	case RCC_AHB2ENR:
		v = r->ahb2enr;
		break;
	case RCC_APB1ENR1:
		v = r->apb1enr1;
		break;
	case RCC_APB1ENR2:
		v = r->apb1enr2;
		break;
	case RCC_APB2ENR:
		v = r->apb2enr;
		break;
	default:
		return true;
	}
	return (v & enbit) != 0;
}

/* Tell an observer about a CPU access (sim_observe). */
static void observe(struct board *b, const char *periph, uint32_t addr, unsigned size,
		    uint32_t value, bool write, bool lost)
{
	struct sim_access a = {
		.pc = b->last_pc, .addr = addr, .value = value, .size = size,
		.write = write, .lost = lost, .periph = periph,
	};

	if (b->observing && b->obs.access)
		b->obs.access(b->obs.ctx, sim_board_of(b), &a);
}

static uint64_t mmio_read(uc_engine *uc, uint64_t offset, unsigned size, void *user)
{
	struct board *b = user;
	uint32_t addr = (uint32_t)offset, v;
	struct periph *p = find_periph(b, addr);

	(void)uc;
	if (!p) {
		board_trace(b, SIM_TRACE_NOTE, b->last_pc,
			    "read of unmodelled register 0x%08x returns 0", addr);
		return 0;
	}
	if (!rcc_clock_enabled(b, p->enr, p->enbit)) {
		observe(b, p->name, addr, size, 0, false, true);
		return 0;
	}
	v = p->read(b, p->state, addr - p->base, size);
	observe(b, p->name, addr, size, v, false, false);
	return v;
}

static void mmio_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value, void *user)
{
	struct board *b = user;
	uint32_t addr = (uint32_t)offset;
	struct periph *p = find_periph(b, addr);

	(void)uc;
	if (!p) {
		board_trace(b, SIM_TRACE_NOTE, b->last_pc,
			    "write of 0x%08x to unmodelled register 0x%08x ignored",
			    (uint32_t)value, addr);
		return;
	}
	if (!rcc_clock_enabled(b, p->enr, p->enbit)) {
		board_trace(b, SIM_TRACE_LOST_WRITE, b->last_pc,
			    "write of 0x%08x to %s+0x%02x lost: its clock is off (RCC+0x%02x bit %u clear)",
			    (uint32_t)value, p->name, addr - p->base, p->enr,
			    (unsigned)__builtin_ctz(p->enbit));
		observe(b, p->name, addr, size, (uint32_t)value, true, true);
		return;
	}
	observe(b, p->name, addr, size, (uint32_t)value, true, false);
	p->write(b, p->state, addr - p->base, size, (uint32_t)value);
}

/* The MMIO callbacks receive offsets from the window base. */
static uint64_t window_read(uc_engine *uc, uint64_t off, unsigned size, void *user)
{
	struct mmio_window *w = user;

	return mmio_read(uc, w->base + off, size, w->b);
}

static void window_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t value, void *user)
{
	struct mmio_window *w = user;

	mmio_write(uc, w->base + off, size, value, w->b);
}

/* ---- Hooks -------------------------------------------------------------- */

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
		uint8_t *p = host_ptr(b, u->addr, u->len);

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

static void power_lost(struct board *b)
{
	b->powered = false;
	b->mode = MODE_OFF;
	flash_power_cut(b);
	if (b->rom)
		rom_power_lost(b);
	while (b->events)
		sim_event_cancel(b, b->events);
	board_trace(b, SIM_TRACE_POWER, b->last_pc, "power cut after %llu instructions",
		    (unsigned long long)b->insns);
	b->stop_requested = true;
	b->stop_reason = SIM_STOP_POWER_OFF;
	if (b->uc)
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
		run_due_events(b);
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
		apply_alias(b);

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
		run_due_events(b);
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
		uint8_t *p = host_ptr(b, addr, 2);

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
	p = host_ptr(b, addr, (uint32_t)size);
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

/* ---- Reset and power ---------------------------------------------------- */

void board_request_reset(struct board *b, enum sim_reset_cause cause)
{
	if (b->reset_requested)
		return;
	b->reset_requested = true;
	b->reset_cause = cause;
	if (b->uc && b->mode == MODE_CPU)
		uc_emu_stop(b->uc);
}

void board_clock_changed(struct board *b)
{
	uint32_t hclk = rcc_hclk_hz(b);

	b->ps_per_insn = hclk ? 1000000000000ull / hclk : 1000000ull;
	systick_clock_changed(b);
}

static void fill_pattern(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t x = seed ? seed : 0x9E3779B9u;
	size_t i;

	/* Power-on SRAM holds garbage; a fixed pattern keeps runs repeatable. */
	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static const char *cause_name(enum sim_reset_cause cause)
{
	switch (cause) {
	case SIM_RESET_POWER_ON:
		return "power-on";
	case SIM_RESET_PIN:
		return "NRST pin";
	case SIM_RESET_SOFTWARE:
		return "software (SYSRESETREQ)";
	case SIM_RESET_IWDG:
		return "independent watchdog";
	case SIM_RESET_OPTION_LOAD:
		return "option byte loading";
	}
	return "?";
}

static void do_reset(struct board *b, enum sim_reset_cause cause)
{
	enum reset_kind kind = cause == SIM_RESET_POWER_ON ? RESET_POWER_ON : RESET_SYSTEM;
	uint32_t optr, sp = 0, pc = 0, boot_base;
	unsigned mem_mode;
	bool sysmem_boot;
	unsigned i;

	b->reset_requested = false;
	b->flash_undo_pending = false;
	b->flash_undo_count = 0;
	/* The chip's own timers stop; a scheduled power cut or run limit does not. */
	{
		struct sim_event *ev = b->events;

		while (ev) {
			struct sim_event *next = ev->next;

			if (ev != &b->power_cut && ev != &b->time_limit)
				sim_event_cancel(b, ev);
			ev = next;
		}
	}

	if (kind == RESET_POWER_ON) {
		fill_pattern(b->sram1, STM32_SRAM1_SIZE, b->cfg.sram_seed);
		fill_pattern(b->sram2, STM32_SRAM2_SIZE, b->cfg.sram_seed ^ 0x5A5A5A5Au);
	}
	flash_reset(b, cause == SIM_RESET_OPTION_LOAD ? RESET_POWER_ON : kind);
	optr = flash_optr(b);
	if (kind == RESET_SYSTEM && !(optr & FLASH_OPTR_SRAM2_RST))
		memset(b->sram2, 0, STM32_SRAM2_SIZE);   /* RM0351 2.4.2: SRAM2 erased on reset */

	rcc_reset(b, kind, cause);
	pwr_reset(b, kind);
	periph_reset(b, kind);
	for (i = 0; i < 3; i++)
		usart_reset(b, &b->usart[i]);
	cpu_reset(b);
	if (b->rom)
		rom_reset(b);
	board_clock_changed(b);

	/*
	 * Boot selection (RM0351 2.6, table 7): BOOT0 = 0 boots main flash
	 * unless BFB2 is set, which boots system memory so that the ROM can
	 * pick a bank; BOOT0 = 1 boots system memory (nBOOT1 = 1) or SRAM1.
	 */
	if (b->cfg.boot0)
		mem_mode = (optr & FLASH_OPTR_nBOOT1) ? SYSCFG_MEM_MODE_SYSMEM : SYSCFG_MEM_MODE_SRAM1;
	else
		mem_mode = SYSCFG_MEM_MODE_FLASH;
	sysmem_boot = mem_mode == SYSCFG_MEM_MODE_SYSMEM ||
		      (!b->cfg.boot0 && (optr & FLASH_OPTR_BFB2));
	b->syscfg.memrmp = mem_mode;
	b->alias_pending = false;
	if (b->alias_mode != mem_mode || b->alias_fb_mode) {
		unmap_alias(b);
		if (b->alias_fb_mode) {
			uc_mem_unmap(b->uc, STM32_FLASH_BASE, STM32_FLASH_SIZE);
			map_flash_at(b, STM32_FLASH_BASE, false);
		}
		b->alias_fb_mode = false;
		b->alias_mode = mem_mode;
		map_alias(b, mem_mode, false);
	}
	flush_translations(b);

	boot_base = sysmem_boot ? STM32_SYSMEM_BASE : 0;
	board_mem_read(b, boot_base, &sp, 4);
	board_mem_read(b, boot_base + 4, &pc, 4);
	b->mode = MODE_CPU;
	b->rom_entry = false;
	{
		uint32_t zero = 0, xpsr = 0x01000000u, lr = 0xFFFFFFFFu;
		int r;

		for (r = UC_ARM_REG_R0; r <= UC_ARM_REG_R12; r++)
			uc_reg_write(b->uc, r, &zero);
		uc_reg_write(b->uc, UC_ARM_REG_CONTROL, &zero);
		uc_reg_write(b->uc, UC_ARM_REG_PRIMASK, &zero);
		uc_reg_write(b->uc, UC_ARM_REG_BASEPRI, &zero);
		uc_reg_write(b->uc, UC_ARM_REG_FAULTMASK, &zero);
		uc_reg_write(b->uc, UC_ARM_REG_IPSR, &zero);
		uc_reg_write(b->uc, UC_ARM_REG_XPSR, &xpsr);
		uc_reg_write(b->uc, UC_ARM_REG_MSP, &sp);
		uc_reg_write(b->uc, UC_ARM_REG_SP, &sp);
		uc_reg_write(b->uc, UC_ARM_REG_LR, &lr);
		uc_reg_write(b->uc, UC_ARM_REG_PC, &pc);
	}
	b->last_pc = pc & ~1u;
	board_trace(b, SIM_TRACE_RESET, pc, "%s reset: boot from %s%s, SP=0x%08x PC=0x%08x",
		    cause_name(cause), sysmem_boot ? "system memory" : mem_mode_name(mem_mode),
		    (sysmem_boot && !b->cfg.boot0) ? " (BFB2 set)" : "", sp, pc);
	if (sp == 0xFFFFFFFFu && pc == 0xFFFFFFFFu)
		board_fault(b, pc & ~1u,
			    "the boot memory is erased (initial SP and reset vector 0xffffffff at 0x%08x): there is no firmware to start",
			    boot_base);
	else if ((pc & 1u) == 0)
		board_fault(b, pc & ~1u,
			    "reset vector 0x%08x is even: the vector table at 0x%08x holds no valid Thumb entry point (erased or not a vector table)",
			    pc, boot_base);
	if (b->cfg.realtime) {
		b->wall_start_ns = board_wall_ns();
		b->sim_at_wall_start = b->now;
	}
	if (b->poll.fn)
		sim_event_schedule(b, &b->poll, SIM_US(100));
	if (b->call.state == SIM_CALL_PENDING || b->call.state == SIM_CALL_RUNNING)
		board_trace(b, SIM_TRACE_NOTE, pc, "debugger call of 0x%08x abandoned by the reset",
			    b->call.addr | 1u);
	b->call.state = SIM_CALL_NONE;
	if (b->observing && b->obs.reset)
		b->obs.reset(b->obs.ctx, sim_board_of(b), cause);
}

void sim_power_on(struct sim_board *sb)
{
	struct board *b = board_of(sb);

	if (b->powered)
		return;
	b->powered = true;
	board_trace(b, SIM_TRACE_POWER, 0, "power on");
	do_reset(b, SIM_RESET_POWER_ON);
}

void sim_power_off(struct sim_board *sb)
{
	struct board *b = board_of(sb);

	if (b->powered)
		power_lost(b);
	b->stop_requested = false;
}

void sim_reset(struct sim_board *sb, enum sim_reset_cause cause)
{
	struct board *b = board_of(sb);

	if (cause == SIM_RESET_POWER_ON) {
		sim_power_off(sb);
		sim_power_on(sb);
		return;
	}
	if (!b->powered)
		return;
	do_reset(b, cause);
}

static void power_cut_event(struct board *b, void *arg)
{
	(void)arg;
	power_lost(b);
}

void sim_power_cut_at_time(struct sim_board *sb, sim_time_t when)
{
	struct board *b = board_of(sb);

	sim_event_schedule_at(b, &b->power_cut, when);
}

void sim_power_cut_at_insn(struct sim_board *sb, uint64_t insns)
{
	board_of(sb)->stop_at_insn = insns;
}

void sim_set_button(struct sim_board *sb, bool pressed)
{
	struct board *b = board_of(sb);

	b->button_pressed = pressed;
	gpio_update_inputs(b);
	board_trace(b, SIM_TRACE_NOTE, b->last_pc, "user button B1 %s", pressed ? "pressed" : "released");
}

void sim_line_faults(struct sim_board *sb, uint32_t drop_ppm, uint32_t corrupt_ppm, uint32_t seed)
{
	struct sim_line_faults *lf = &board_of(sb)->line_faults;

	lf->drop_ppm = drop_ppm;
	lf->corrupt_ppm = corrupt_ppm;
	lf->rng = seed ? seed : 1u;
}

void sim_line_fault_counts(const struct sim_board *sb, uint64_t *dropped, uint64_t *corrupted)
{
	const struct sim_line_faults *lf = &board_of_const(sb)->line_faults;

	*dropped = lf->dropped;
	*corrupted = lf->corrupted;
}

void sim_line_delays(struct sim_board *sb, uint32_t delay_ppm, sim_time_t delay,
		     uint32_t stall_ppm, sim_time_t stall)
{
	struct sim_line_faults *lf = &board_of(sb)->line_faults;

	lf->delay_ppm = delay_ppm;
	lf->delay = delay;
	lf->stall_ppm = stall_ppm;
	lf->stall = stall;
	if (!lf->rng)
		lf->rng = 1u;
}

void sim_line_delay_counts(const struct sim_board *sb, uint64_t *delayed, uint64_t *stalled)
{
	const struct sim_line_faults *lf = &board_of_const(sb)->line_faults;

	*delayed = lf->delayed;
	*stalled = lf->stalled;
}

void sim_set_boot0(struct sim_board *sb, bool level)
{
	board_of(sb)->cfg.boot0 = level;
}

/* ---- Creation ----------------------------------------------------------- */

void sim_config_default(struct sim_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->lse = true;                    /* X2 is fitted on the Nucleo-L476RG (UM1724) */
	cfg->hse_hz = 8000000u;             /* ST-LINK MCO into OSC_IN */
	cfg->bootloader_id = 0xA3;          /* AN2606: V10.x on silicon rev 2/3 */
	cfg->rom_sram_reserved = 12u * 1024u;
	/* UNCERTAIN in ST's documents: SRAM1 plus the SRAM2 alias that follows it. */
	cfg->rom_sp_min = STM32_SRAM1_BASE;
	cfg->rom_sp_max = STM32_SRAM1_BASE + STM32_SRAM1_SIZE + STM32_SRAM2_SIZE;
	cfg->sram_seed = 0x5EED1234u;
	cfg->usart[1].kind = SIM_LINK_MEMORY;
	/* DS10198 typical values. */
	cfg->timing.flash_dword_program = SIM_US(82);
	cfg->timing.flash_page_erase = SIM_US(22000);
	cfg->timing.flash_bank_erase = SIM_US(22000);
	cfg->timing.rom_startup_lse = SIM_MS(55);      /* AN2606 */
	cfg->timing.rom_startup_no_lse = SIM_MS(2560);
	cfg->timing.rom_usb_connect = SIM_MS(300);     /* AN2606 "USB connection" */
	cfg->timing.usb_bit = SIM_S(1) / 12000000u;    /* full speed, 12 Mbit/s */
	cfg->usb_bcd_device = 0x2200u;      /* as other STM32 ROMs (UNCERTAIN for the L476) */
	cfg->rom_usb_irq_priority = 0x60u;  /* UNCERTAIN (sim.h) */
}

static void poll_event(struct board *b, void *arg);

static void build_sysmem(struct board *b)
{
	/* ROM entry point: inside system memory, odd for Thumb. */
	uint32_t sp = STM32_SRAM1_BASE + b->cfg.rom_sram_reserved;
	uint32_t entry = STM32_SYSMEM_BASE + 0x0F69u;
	size_t i;

	/* Anything the CPU might execute here loops on itself (B .). */
	for (i = 0; i + 1 < STM32_SYSMEM_SIZE; i += 2) {
		b->sysmem[i] = 0xFE;
		b->sysmem[i + 1] = 0xE7;
	}
	memcpy(b->sysmem, &sp, 4);
	memcpy(b->sysmem + 4, &entry, 4);
	b->sysmem[STM32_BOOTLOADER_ID_ADDR - STM32_SYSMEM_BASE] = b->cfg.bootloader_id;
}

struct sim_board *sim_board_new(const struct sim_config *cfg, char *err, size_t errlen)
{
	struct sim_board *sb;
	struct board *b;
	uc_hook h;
	uc_err e;
	unsigned i;

	sb = calloc(1, sizeof(*sb));
	if (!sb) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	b = board_of(sb);
	b->cfg = *cfg;
	if (b->cfg.instant_host)
		b->cfg.realtime = false;   /* a board that waits for nobody keeps no wall clock */
	b->mode = MODE_OFF;
	b->next_event = UINT64_MAX;

	e = uc_open(UC_ARCH_ARM, UC_MODE_THUMB, &b->uc);
	if (e != UC_ERR_OK) {
		snprintf(err, errlen, "cannot start Unicorn: %s", uc_strerror(e));
		goto fail;
	}
	/* Select the M4 before anything else; UC_MODE_MCLASS would give an M33. */
	e = uc_ctl_set_cpu_model(b->uc, UC_CPU_ARM_CORTEX_M4);
	if (e != UC_ERR_OK) {
		snprintf(err, errlen, "Unicorn has no Cortex-M4 model: %s", uc_strerror(e));
		goto fail;
	}

	b->sysmem = alloc_pages(0x8000);
	b->sram1 = alloc_pages(STM32_SRAM1_SIZE);
	b->sram2 = alloc_pages(STM32_SRAM2_SIZE);
	if (!b->sysmem || !b->sram1 || !b->sram2) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (flash_init(b, err, errlen) < 0)
		goto fail;
	build_sysmem(b);

	map_flash_at(b, STM32_FLASH_BASE, false);
	b->alias_mode = SYSCFG_MEM_MODE_FLASH;
	map_alias(b, SYSCFG_MEM_MODE_FLASH, false);
	uc_mem_map_ptr(b->uc, STM32_SYSMEM_BASE, STM32_SYSMEM_SIZE, UC_PROT_READ | UC_PROT_EXEC, b->sysmem);
	uc_mem_map_ptr(b->uc, INFO_BASE, PAGE_4K, UC_PROT_READ, b->info);
	uc_mem_map_ptr(b->uc, INFO2_BASE, PAGE_4K, UC_PROT_READ, b->info2);
	uc_mem_map_ptr(b->uc, STM32_SRAM1_BASE, STM32_SRAM1_SIZE, UC_PROT_ALL, b->sram1);
	uc_mem_map_ptr(b->uc, SRAM2_ALIAS, STM32_SRAM2_SIZE, UC_PROT_ALL, b->sram2);
	uc_mem_map_ptr(b->uc, STM32_SRAM2_BASE, STM32_SRAM2_SIZE, UC_PROT_ALL, b->sram2);
	{
		static uint16_t trap[PAGE_4K / 2];

		for (i = 0; i < PAGE_4K / 2; i++)
			trap[i] = 0xE7FEu;           /* b . */
		if (uc_mem_map(b->uc, CALL_TRAP_BASE, PAGE_4K, UC_PROT_READ | UC_PROT_EXEC) != UC_ERR_OK ||
		    uc_mem_write(b->uc, CALL_TRAP_BASE, trap, sizeof(trap)) != UC_ERR_OK) {
			snprintf(err, errlen, "cannot map the debugger call trap");
			goto fail;
		}
	}
	for (i = 0; i < sizeof(mmio_windows) / sizeof(mmio_windows[0]); i++) {
		b->windows[i].b = b;
		b->windows[i].base = mmio_windows[i].base;
		e = uc_mmio_map(b->uc, mmio_windows[i].base, mmio_windows[i].size,
				window_read, &b->windows[i], window_write, &b->windows[i]);
		if (e != UC_ERR_OK) {
			snprintf(err, errlen, "cannot map peripherals at 0x%08x: %s",
				 mmio_windows[i].base, uc_strerror(e));
			goto fail;
		}
	}

	uc_hook_add(b->uc, &h, UC_HOOK_CODE, hook_code, b, 1, 0);
	uc_hook_add(b->uc, &h, UC_HOOK_MEM_WRITE_PROT, hook_write_prot, b, 1, 0);
	uc_hook_add(b->uc, &h, UC_HOOK_MEM_UNMAPPED, hook_unmapped, b, 1, 0);
	uc_hook_add(b->uc, &h, UC_HOOK_INTR, hook_intr, b, 1, 0);
	/* A flash file may hold double words a power cut left with bad ECC. */
	board_ecc_watch(b);

	rcc_register(b);
	cpu_register(b);
	periph_register(b);
	{
		struct periph p = {
			.name = "FLASH", .base = FLASH_R_BASE, .size = 0x400,
			.read = flash_reg_read, .write = flash_reg_write, .state = &b->flashc,
		};
		board_add_periph(b, &p);
	}
	for (i = 0; i < 3; i++) {
		static const uint32_t bases[3] = { USART1_BASE, USART2_BASE, USART3_BASE };
		static const uint32_t enrs[3] = { RCC_APB2ENR, RCC_APB1ENR1, RCC_APB1ENR1 };
		static const uint32_t bits[3] = { RCC_APB2ENR_USART1EN, RCC_APB1ENR1_USART2EN,
						  RCC_APB1ENR1_USART3EN };
		static const char *const names[3] = { "USART1", "USART2", "USART3" };
		struct periph p = {
			.name = names[i], .base = bases[i], .size = 0x400,
			.read = usart_reg_read, .write = usart_reg_write, .state = &b->usart[i],
			.enr = enrs[i], .enbit = bits[i],
		};

		if (usart_init(b, &b->usart[i], i + 1, &b->cfg.usart[i], err, errlen) < 0)
			goto fail;
		board_add_periph(b, &p);
	}
	if (cfg->usb.kind != SIM_USB_NONE) {
		b->usb = usb_link_open(&cfg->usb, err, errlen);
		if (!b->usb)
			goto fail;
	}
	if (rom_init(b, err, errlen) < 0)
		goto fail;

	sim_event_init(&b->power_cut, "power cut", power_cut_event, NULL);
	sim_event_init(&b->poll, "poll", poll_event, NULL);
	return sb;

fail:
	sim_board_free(sb);
	return NULL;
}

void sim_board_free(struct sim_board *sb)
{
	struct board *b;
	unsigned i;

	if (!sb)
		return;
	b = board_of(sb);
	usb_link_close(b->usb);
	b->usb = NULL;
	if (b->rom)
		rom_fini(b);
	for (i = 0; i < 3; i++)
		if (b->usart[i].index)
			usart_fini(&b->usart[i]);
	if (b->uc)
		uc_close(b->uc);
	flash_fini(b);
	if (b->sysmem)
		munmap(b->sysmem, 0x8000);
	if (b->sram1)
		munmap(b->sram1, STM32_SRAM1_SIZE);
	if (b->sram2)
		munmap(b->sram2, STM32_SRAM2_SIZE);
	debuginfo_free(b);
	free(b->trace);
	free(sb);
}

/* ---- Running ------------------------------------------------------------ */

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
		apply_alias(b);
	uc_reg_read(b->uc, UC_ARM_REG_PC, &pc);
	e = uc_emu_start(b->uc, pc | 1u, 0xFFFFFFFFu, 0, 0);
	if (b->flash_undo_pending)
		apply_flash_undo(b);
	if (b->alias_pending)
		apply_alias(b);
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
			do_reset(b, b->reset_cause);
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
				power_lost(b);
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

void sim_request_stop(struct sim_board *sb)
{
	struct board *b = board_of(sb);

	b->stop_requested = true;
	b->stop_reason = SIM_STOP_QUIT;
	if (b->mode == MODE_CPU)
		uc_emu_stop(b->uc);
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
	case SIM_STOP_QUIT:
		return "stopped";
	}
	return "?";
}

/* ---- Inspection --------------------------------------------------------- */

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

/* ---- Observers (sim_observe) --------------------------------------------- */

static bool in_sram(uint32_t addr)
{
	return (addr >= STM32_SRAM1_BASE && addr - STM32_SRAM1_BASE < STM32_SRAM1_SIZE + STM32_SRAM2_SIZE) ||
	       (addr >= STM32_SRAM2_BASE && addr - STM32_SRAM2_BASE < STM32_SRAM2_SIZE);
}

static void hook_sram(uc_engine *uc, uc_mem_type type, uint64_t address, int size,
		      int64_t value, void *user)
{
	struct board *b = user;

	(void)uc;
	if (in_sram((uint32_t)address))
		observe(b, NULL, (uint32_t)address, (unsigned)size, (uint32_t)value,
			type == UC_MEM_WRITE, false);
}

void sim_observe(struct sim_board *sb, const struct sim_observer *obs)
{
	struct board *b = board_of(sb);
	bool sram = obs && obs->sram;

	if (sram && !b->sram_hooked) {
		/* One range over SRAM2, system memory and SRAM1; hook_sram filters. */
		uc_hook_add(b->uc, &b->sram_hooks[0], UC_HOOK_MEM_WRITE, hook_sram, b,
			    STM32_SRAM2_BASE, STM32_SRAM1_BASE + STM32_SRAM1_SIZE + STM32_SRAM2_SIZE - 1);
		uc_hook_add(b->uc, &b->sram_hooks[1], UC_HOOK_MEM_READ_AFTER, hook_sram, b,
			    STM32_SRAM2_BASE, STM32_SRAM1_BASE + STM32_SRAM1_SIZE + STM32_SRAM2_SIZE - 1);
		b->sram_hooked = true;
	} else if (!sram && b->sram_hooked) {
		uc_hook_del(b->uc, b->sram_hooks[0]);
		uc_hook_del(b->uc, b->sram_hooks[1]);
		b->sram_hooked = false;
	}
	b->observing = obs != NULL;
	if (obs)
		b->obs = *obs;
	else
		memset(&b->obs, 0, sizeof(b->obs));
}

sim_time_t sim_now(const struct sim_board *sb)
{
	return board_of_const(sb)->now;
}

uint64_t sim_insns(const struct sim_board *sb)
{
	return board_of_const(sb)->insns;
}

bool sim_in_rom(const struct sim_board *sb)
{
	return board_of_const(sb)->mode == MODE_ROM;
}

uint32_t sim_pc(const struct sim_board *sb)
{
	const struct board *b = board_of_const(sb);
	uint32_t pc = 0;

	uc_reg_read(b->uc, UC_ARM_REG_PC, &pc);
	return pc;
}

int sim_read_mem(struct sim_board *sb, uint32_t addr, void *buf, size_t len)
{
	struct board *b = board_of(sb);
	uint8_t *p = buf;

	/* Peripherals read through their models, memories directly. */
	if (!host_ptr(b, addr, (uint32_t)len)) {
		size_t i;

		for (i = 0; i < len; i++) {
			struct periph *per = find_periph(b, addr + (uint32_t)i);

			if (!per)
				return -1;
			p[i] = (uint8_t)(per->read(b, per->state, (addr + (uint32_t)i - per->base) & ~3u, 4) >>
					 (8 * ((addr + i) & 3)));
		}
		return 0;
	}
	return board_mem_read(b, addr, buf, (uint32_t)len);
}

int sim_write_mem(struct sim_board *sb, uint32_t addr, const void *buf, size_t len)
{
	return board_mem_write(board_of(sb), addr, buf, (uint32_t)len);
}

uint32_t sim_read32(struct sim_board *sb, uint32_t addr)
{
	uint32_t v = 0;

	sim_read_mem(sb, addr, &v, 4);
	return v;
}

bool sim_led(const struct sim_board *sb)
{
	return board_of_const(sb)->led_on;
}

unsigned sim_led_toggles(const struct sim_board *sb)
{
	return board_of_const(sb)->led_toggles;
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

void sim_uart_send(struct sim_board *sb, unsigned n, const void *data, size_t len)
{
	struct board *b = board_of(sb);

	if (n >= 1 && n <= 3 && b->usart[n - 1].link)
		link_inject(b->usart[n - 1].link, data, len);
}

size_t sim_uart_take(struct sim_board *sb, unsigned n, char *buf, size_t cap)
{
	struct board *b = board_of(sb);

	if (n < 1 || n > 3 || !b->usart[n - 1].link)
		return 0;
	return link_take_output(b->usart[n - 1].link, buf, cap);
}

const char *sim_uart_pty(const struct sim_board *sb, unsigned n)
{
	const struct board *b = board_of_const(sb);

	if (n < 1 || n > 3 || !b->usart[n - 1].link)
		return "";
	return link_pty_path(b->usart[n - 1].link);
}

sim_time_t sim_uart_last_tx(const struct sim_board *sb, unsigned n)
{
	const struct board *b = board_of_const(sb);

	return n >= 1 && n <= 3 ? b->usart[n - 1].tx_last : 0;
}

int sim_load_bytes(struct sim_board *sb, uint32_t addr, const void *data, size_t len,
		   char *err, size_t errlen)
{
	struct board *b = board_of(sb);

	if (addr < STM32_FLASH_BASE || addr >= STM32_FLASH_BASE + STM32_FLASH_SIZE ||
	    len > STM32_FLASH_BASE + STM32_FLASH_SIZE - addr) {
		snprintf(err, errlen, "0x%08x..0x%08x is outside the 1 MB flash (0x08000000..0x080FFFFF)",
			 addr, addr + (uint32_t)len - 1);
		return -1;
	}
	flash_debug_write(b, addr, data, len);
	flush_translations(b);
	return 0;
}

void sim_erase_flash(struct sim_board *sb)
{
	struct board *b = board_of(sb);

	flash_debug_mass_erase(b);
	flush_translations(b);
}

int sim_load_file(struct sim_board *sb, const char *path, uint32_t addr, char *err, size_t errlen)
{
	struct board *b = board_of(sb);
	FILE *f;
	unsigned char magic[4] = { 0 };
	uint8_t *data = NULL;
	long size;
	int ret = -1;

	f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fread(magic, 1, 4, f) == 4 && memcmp(magic, "\177ELF", 4) == 0) {
		fclose(f);
		return sim_elf_load(b, path, err, errlen);
	}
	if (!addr) {
		snprintf(err, errlen, "%s: not an ELF file; give the address to load a binary at", path);
		goto out;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	data = malloc(size ? (size_t)size : 1);
	if (!data || fread(data, 1, (size_t)size, f) != (size_t)size) {
		snprintf(err, errlen, "%s: cannot read", path);
		goto out;
	}
	ret = sim_load_bytes(sb, addr, data, (size_t)size, err, errlen);
out:
	free(data);
	fclose(f);
	return ret;
}
