/*
 * board.c - the emulated Nucleo-L476RG: building it, resetting it, power.
 *
 * Why a board and not just a core: what decides whether a jump into the
 * ROM bootloader works is the state the chip is in, and most of that
 * state is set by resets. This file builds the board (Unicorn, memories,
 * peripherals, the ROM model) and owns what a reset does: which memory
 * boots (BOOT0, nBOOT1, BFB2: RM0351 2.6), what SRAM keeps (SRAM2 is
 * erased by a system reset unless SRAM2_RST says otherwise, and holds
 * garbage at power-on), the option bytes loaded, every peripheral back in
 * its reset state, and the core's registers as the vector table sets
 * them; and what a power cut leaves behind (an interrupted flash
 * operation). Running the firmware is run.c, the memory map memmap.c.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "board.h"
#include "usb_link.h"

/* ---- Reset and power ---------------------------------------------------- */

void board_power_lost(struct board *b)
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

void board_reset(struct board *b, enum sim_reset_cause cause)
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
	board_map_boot(b, mem_mode);

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
		    cause_name(cause), sysmem_boot ? "system memory" : board_mem_mode_name(mem_mode),
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
	board_reset(b, SIM_RESET_POWER_ON);
}

void sim_power_off(struct sim_board *sb)
{
	struct board *b = board_of(sb);

	if (b->powered)
		board_power_lost(b);
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
	board_reset(b, cause);
}

static void power_cut_event(struct board *b, void *arg)
{
	(void)arg;
	board_power_lost(b);
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

/* ---- Creation ----------------------------------------------------------- */

static void *alloc_pages(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

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

	if (board_map_memory(b, err, errlen) < 0 || board_run_init(b, err, errlen) < 0)
		goto fail;
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
