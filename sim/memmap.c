/*
 * memmap.c - the chip's memory map: what answers each address the CPU uses.
 *
 * Why it is more than a list of Unicorn mappings: what the core sees at
 * 0x00000000 follows SYSCFG_MEMRMP and FB_MODE swaps the flash banks (RM0351
 * 2.2, 9.2.1), so a remap must redo the mappings between two instructions
 * and drop the code translated from the old ones, which is the behaviour
 * every bootloader jump depends on. Peripheral registers are routed to
 * their models with the RCC clock gate applied (a write to a peripheral
 * whose clock is off is lost, as on the chip, and traced); flash reads are
 * watched while a double word has a broken ECC; and an observer
 * (sim_observe) sees every peripheral and SRAM access, for diagnose.
 */
#include <string.h>

#include "board.h"

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

void board_flush_translations(struct board *b)
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

const char *board_mem_mode_name(unsigned mode)
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

void board_apply_remap(struct board *b)
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
		    board_mem_mode_name(mode), fb ? ", flash banks swapped" : "",
		    board_mem_mode_name(b->alias_mode));
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

uint8_t *board_host_ptr(struct board *b, uint32_t addr, uint32_t len)
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
	uint8_t *p = board_host_ptr(b, addr, len);

	if (!p)
		return -1;
	memcpy(buf, p, len);
	return 0;
}

int board_mem_write(struct board *b, uint32_t addr, const void *buf, uint32_t len)
{
	uint8_t *p = board_host_ptr(b, addr, len);

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
	board_flush_translations(b);
}

void board_flash_changed(struct board *b, uint32_t addr, uint32_t len)
{
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

struct periph *board_find_periph(struct board *b, uint32_t addr)
{
	unsigned i;

	for (i = 0; i < b->nperiphs; i++) {
		struct periph *p = &b->periphs[i];

		if (addr >= p->base && addr - p->base < p->size)
			return p;
	}
	return NULL;
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
	struct periph *p = board_find_periph(b, addr);

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
	struct periph *p = board_find_periph(b, addr);

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

/* ---- Mapping at creation and at reset ------------------------------------ */

int board_map_memory(struct board *b, char *err, size_t errlen)
{
	unsigned i;
	uc_err e;

	map_flash_at(b, STM32_FLASH_BASE, false);
	b->alias_mode = SYSCFG_MEM_MODE_FLASH;
	map_alias(b, SYSCFG_MEM_MODE_FLASH, false);
	uc_mem_map_ptr(b->uc, STM32_SYSMEM_BASE, STM32_SYSMEM_SIZE, UC_PROT_READ | UC_PROT_EXEC, b->sysmem);
	uc_mem_map_ptr(b->uc, INFO_BASE, PAGE_4K, UC_PROT_READ, b->info);
	uc_mem_map_ptr(b->uc, INFO2_BASE, PAGE_4K, UC_PROT_READ, b->info2);
	uc_mem_map_ptr(b->uc, STM32_SRAM1_BASE, STM32_SRAM1_SIZE, UC_PROT_ALL, b->sram1);
	uc_mem_map_ptr(b->uc, SRAM2_ALIAS, STM32_SRAM2_SIZE, UC_PROT_ALL, b->sram2);
	uc_mem_map_ptr(b->uc, STM32_SRAM2_BASE, STM32_SRAM2_SIZE, UC_PROT_ALL, b->sram2);
	for (i = 0; i < sizeof(mmio_windows) / sizeof(mmio_windows[0]); i++) {
		b->windows[i].b = b;
		b->windows[i].base = mmio_windows[i].base;
		e = uc_mmio_map(b->uc, mmio_windows[i].base, mmio_windows[i].size,
				window_read, &b->windows[i], window_write, &b->windows[i]);
		if (e != UC_ERR_OK) {
			snprintf(err, errlen, "cannot map peripherals at 0x%08x: %s",
				 mmio_windows[i].base, uc_strerror(e));
			return -1;
		}
	}
	return 0;
}

void board_map_boot(struct board *b, unsigned mem_mode)
{
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
	board_flush_translations(b);
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
