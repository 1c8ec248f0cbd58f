/*
 * diagnose.c - run the user's firmware, trigger its way into the ROM
 * bootloader, and record what the board does (see diagnose.h).
 *
 * The run has four acts: the firmware starts and settles; the trigger
 * (a line on USART2, B1 held, a debugger-style call, or nothing); the CPU
 * reaches the ROM's entry point, or faults, or never gets there; and, when
 * the ROM kept control, the ROM is handed back to the firmware (AN3155 Go,
 * then a reset) to see whether the board comes back into the ROM by itself.
 * An observer (sim_observe) sees every peripheral access and every SRAM
 * access as it happens, and the board's state at the moment the CPU
 * reaches the ROM; the models stay the only source of truth.
 */
#include <stdlib.h>
#include <string.h>

#include "diag_obs.h"
#include "sysboot/an3155.h"

#define IDLE_MIN       SIM_MS(20)    /* the firmware has started... */
#define IDLE_QUIET     SIM_MS(20)    /* ...and said nothing for this long */
#define IDLE_MAX       SIM_MS(2000)  /* trigger anyway after this */
#define SLICE          SIM_MS(1)
#define ROM_SETTLE     SIM_MS(1)     /* after the start-up time */
#define ANSWER_WAIT    SIM_MS(5)
#define HANDBACK_WATCH SIM_MS(200)   /* does the ROM come back after a hand-back? */
#define GO_ADDRESS     STM32_FLASH_BASE

void diag_options_default(struct diag_options *o)
{
	memset(o, 0, sizeof(*o));
	sim_config_default(&o->cfg);
	o->trigger = DIAG_TRIGGER_RESET;
	o->button_ms = 3000;
	o->at_ms = -1;
	o->timeout_ms = 1000;
	o->iface = DIAG_IF_BOTH;
}

/* ---- The observer ------------------------------------------------------------ */

static void note_write(struct diag_write *w, const struct sim_access *a)
{
	w->seen = true;
	w->pc = a->pc;
	w->value = a->value;
	w->lost = a->lost;
}

static void periph_write(struct diag_obs *ob, const struct sim_access *a)
{
	uint32_t addr = a->addr;
	unsigned i;

	if (addr == SYSCFG_BASE + SYSCFG_MEMRMP) {
		note_write(&ob->memrmp, a);
	} else if (addr == RCC_BASE + RCC_CFGR) {
		if ((a->value & RCC_CFGR_SW) == RCC_CFGR_SW_PLL)
			note_write(&ob->sysclk_switch, a);
	} else if (addr == SYSTICK_BASE + SYST_CSR) {
		if (a->value & SYST_CSR_ENABLE)
			note_write(&ob->systick_start, a);
	} else if (addr == IWDG_BASE + IWDG_KR) {
		if ((a->value & 0xFFFFu) == IWDG_KR_ENABLE)
			note_write(&ob->iwdg_start, a);
	} else if (addr >= NVIC_BASE + NVIC_ISER(0) && addr < NVIC_BASE + NVIC_ISER(3)) {
		for (i = 0; i < 32; i++) {
			unsigned irq = (addr - NVIC_BASE - NVIC_ISER(0)) / 4u * 32u + i;

			if ((a->value & (1u << i)) && irq < STM32_IRQ_COUNT)
				note_write(&ob->nvic_enable[irq], a);
		}
	} else if (addr >= NVIC_BASE + NVIC_ISPR(0) && addr < NVIC_BASE + NVIC_ISPR(3)) {
		for (i = 0; i < 32; i++) {
			unsigned irq = (addr - NVIC_BASE - NVIC_ISPR(0)) / 4u * 32u + i;

			if ((a->value & (1u << i)) && irq < STM32_IRQ_COUNT)
				note_write(&ob->nvic_pend[irq], a);
		}
	} else if (addr >= RTC_BASE + RTC_BKP0R && addr < RTC_BASE + RTC_BKPR(RTC_BKP_COUNT)) {
		note_write(&ob->bkp_write[(addr - RTC_BASE - RTC_BKP0R) / 4u], a);
	}
}

static bool overlaps(const struct diag_cand *c, uint32_t addr, unsigned size)
{
	return addr < c->addr + c->size && c->addr < addr + size;
}

static void sram_access(struct diag_obs *ob, const struct sim_access *a)
{
	const struct board *b = board_of(ob->sb);
	unsigned i;

	if (a->write) {
		ob->ring[ob->ring_next].pc = a->pc;
		ob->ring[ob->ring_next].addr = a->addr;
		ob->ring[ob->ring_next].value = a->value;
		ob->ring[ob->ring_next].size = a->size;
		ob->ring_next = (ob->ring_next + 1) % DIAG_STORE_RING;
		if (ob->ring_len < DIAG_STORE_RING)
			ob->ring_len++;
	}
	if (!ob->cands_taken || ob->cands_frozen)
		return;
	for (i = 0; i < ob->ncands; i++) {
		struct diag_cand *c = &ob->cands[i];

		if (!overlaps(c, a->addr, a->size))
			continue;
		if (!c->written_after && !c->read_first) {
			if (a->write) {
				c->written_after = true;
				c->write_pc = a->pc;
				c->write_value = a->value;
			} else {
				c->read_first = true;
			}
		} else if (c->written_after && !a->write && !c->read_after) {
			c->read_after = true;
			c->read_pc = a->pc;
			c->read_insns = b->insns;
			c->read_in_handler = b->nvic.depth > 0;
		}
	}
}

static void on_access(void *ctx, struct sim_board *sb, const struct sim_access *a)
{
	struct diag_obs *ob = ctx;

	(void)sb;
	if (!a->periph)
		sram_access(ob, a);
	else if (a->write)
		periph_write(ob, a);
}

/* Is this SRAM word initialised by the C start-up code (.data, .bss)? */
static bool startup_initialised(struct sim_board *sb, uint32_t addr)
{
	struct sim_location loc;

	if (!sim_locate(sb, addr, &loc) || !loc.section || !loc.section_writable)
		return false;
	return strncmp(loc.section, ".data", 5) == 0 || strncmp(loc.section, ".bss", 4) == 0;
}

/*
 * The stores just before the first software reset after the trigger are
 * where a request flag would be set; keep those the start-up code
 * initialises, newest first, to see what happens to them next.
 */
static void take_candidates(struct diag_obs *ob)
{
	unsigned k, i;

	for (k = 0; k < ob->ring_len && ob->ncands < DIAG_MAX_CANDS; k++) {
		unsigned idx = (ob->ring_next + DIAG_STORE_RING - 1 - k) % DIAG_STORE_RING;
		uint32_t addr = ob->ring[idx].addr;
		bool dup = false;

		for (i = 0; i < ob->ncands; i++)
			if (overlaps(&ob->cands[i], addr, ob->ring[idx].size))
				dup = true;
		if (dup || !startup_initialised(ob->sb, addr))
			continue;
		ob->cands[ob->ncands++] = (struct diag_cand){
			.addr = addr, .value = ob->ring[idx].value, .store_pc = ob->ring[idx].pc,
			.size = ob->ring[idx].size,
		};
	}
	ob->cands_taken = true;
}

static void on_reset(void *ctx, struct sim_board *sb, enum sim_reset_cause cause)
{
	struct diag_obs *ob = ctx;

	ob->resets++;
	ob->last_reset = sim_now(sb);
	ob->last_cause = cause;
	if (ob->watch_reset && !ob->got_reset) {
		ob->got_reset = true;
		ob->first_reset = sim_now(sb);
		ob->first_cause = cause;
	}
	if (cause == SIM_RESET_SOFTWARE)
		ob->software_resets++;
	if (ob->cands_taken)
		ob->cands_frozen = true;
	else if (cause == SIM_RESET_SOFTWARE && ob->triggered)
		take_candidates(ob);
	ob->ring_len = ob->ring_next = 0;
}

static void on_rom_entry(void *ctx, struct sim_board *sb, uint32_t from_pc)
{
	struct diag_obs *ob = ctx;
	const struct board *b = board_of(sb);
	struct diag_entry *e;
	unsigned i;

	ob->entries_total++;
	if (ob->nentries == DIAG_MAX_ENTRIES)
		return;
	e = &ob->entries[ob->nentries++];
	memset(e, 0, sizeof(*e));
	e->time = sim_now(sb);
	e->branch_pc = from_pc;
	e->resets_before = ob->resets;
	e->mem_mode = b->syscfg.memrmp & SYSCFG_MEMRMP_MEM_MODE;
	e->fb_mode = (b->syscfg.memrmp & SYSCFG_MEMRMP_FB_MODE) != 0;
	e->memrmp = ob->memrmp;
	e->sysclk = (b->rcc.cfgr & RCC_CFGR_SWS) >> RCC_CFGR_SWS_Pos;
	e->sysclk_hz = rcc_sysclk_hz(b);
	e->pll_on = (b->rcc.cr & RCC_CR_PLLON) != 0;
	e->sysclk_switch = ob->sysclk_switch;
	e->systick_csr = b->systick.csr;
	e->systick_start = ob->systick_start;
	for (i = 0; i < STM32_IRQ_COUNT; i++) {
		if (b->nvic.enabled[EXC_IRQ0 + i])
			e->nvic_enabled[i / 32] |= 1u << (i % 32);
		if (b->nvic.pending[EXC_IRQ0 + i])
			e->nvic_pending[i / 32] |= 1u << (i % 32);
	}
	e->systick_pending = b->nvic.pending[EXC_SYSTICK] != 0;
	e->pendsv_pending = b->nvic.pending[EXC_PENDSV] != 0;
	uc_reg_read(b->uc, UC_ARM_REG_PRIMASK, &e->primask);
	uc_reg_read(b->uc, UC_ARM_REG_BASEPRI, &e->basepri);
	uc_reg_read(b->uc, UC_ARM_REG_FAULTMASK, &e->faultmask);
	uc_reg_read(b->uc, UC_ARM_REG_IPSR, &e->ipsr);
	rom_usb_judge(b, &e->usb);
	e->iwdg_running = b->iwdg.running;
	e->iwdg_pr = b->iwdg.pr;
	e->iwdg_rlr = b->iwdg.rlr;
	e->iwdg_remaining = iwdg_remaining(b);
	e->iwdg_start = ob->iwdg_start;
	memcpy(e->bkp, b->rtc.bkp, sizeof(e->bkp));
}

/* ---- Running the board ----------------------------------------------------- */

struct runner {
	const struct diag_options *o;
	struct diag_obs *ob;
	struct diag_report *r;
	struct sim_board *sb;
	size_t fw_out;               /* USART2 output of the firmware seen so far */
	sim_time_t last_output;
	bool stopped;                /* faulted or lost power: nothing more to run */
	bool rom_talk;               /* talking to the ROM: its bytes are not the firmware's */
};

/* What arrived on USART2: the firmware's text into the report, or ROM bytes. */
static size_t drain(struct runner *rn, uint8_t *rom, size_t cap)
{
	char buf[512];
	size_t n, k, got = 0;

	while ((n = sim_uart_take(rn->sb, 2, buf, sizeof(buf))) > 0) {
		if (rom) {
			size_t k = n < cap - got ? n : cap - got;

			memcpy(rom + got, buf, k);
			got += k;
			continue;
		}
		if (rn->r->serial_len + n >= sizeof(rn->r->serial))
			n = sizeof(rn->r->serial) - 1 - rn->r->serial_len;
		for (k = 0; k < n; k++) {
			unsigned char c = (unsigned char)buf[k];

			/* Text as it would show on a terminal; anything else (a wrong baud rate) as '.'. */
			rn->r->serial[rn->r->serial_len++] =
				(c >= 0x20 && c < 0x7F) || c == '\r' || c == '\n' || c == '\t' ? (char)c : '.';
		}
		rn->r->serial[rn->r->serial_len] = '\0';
	}
	return got;
}

static enum sim_stop_reason step(struct runner *rn, sim_time_t until, bool stop_on_rom)
{
	struct sim_run_limits lim = { 0 };
	enum sim_stop_reason why;
	size_t out;

	if (rn->stopped)
		return SIM_STOP_FAULT;
	lim.until_time = until > sim_now(rn->sb) ? until : sim_now(rn->sb) + 1;
	lim.stop_on_rom = stop_on_rom;
	why = sim_run(rn->sb, &lim);
	out = usart_output_len(&board_of(rn->sb)->usart[1]);
	if (out != rn->fw_out) {
		rn->fw_out = out;
		rn->last_output = sim_now(rn->sb);
	}
	if (!rn->rom_talk)
		drain(rn, NULL, 0);
	if (why == SIM_STOP_FAULT || why == SIM_STOP_POWER_OFF) {
		rn->stopped = true;
		if (why == SIM_STOP_FAULT && !rn->ob->fault) {
			rn->ob->fault = true;
			sim_fault_info(rn->sb, &rn->ob->fault_info);
			snprintf(rn->ob->fault_text, sizeof(rn->ob->fault_text), "%s", sim_fault_text(rn->sb));
		}
	}
	return why;
}

static bool receiver_on(struct runner *rn)
{
	const struct usart *u = &board_of(rn->sb)->usart[1];

	return (u->cr1 & (USART_CR1_UE | USART_CR1_RE)) == (USART_CR1_UE | USART_CR1_RE);
}

/* Run until it is time for the trigger; false when the run ended before. */
static bool until_trigger(struct runner *rn)
{
	const struct diag_options *o = rn->o;

	if (o->trigger == DIAG_TRIGGER_RESET)
		return true;
	for (;;) {
		sim_time_t now = sim_now(rn->sb);

		if (o->at_ms >= 0) {
			if (now >= (sim_time_t)(o->at_ms * 1e9))
				return true;
		} else if (now >= IDLE_MAX ||
			   (now >= IDLE_MIN && now - rn->last_output >= IDLE_QUIET &&
			    (o->trigger != DIAG_TRIGGER_UART || receiver_on(rn)))) {
			return true;
		}
		/* The firmware may enter the ROM by itself before: fine, watch it. */
		if (step(rn, now + SLICE, true) == SIM_STOP_ROM || rn->stopped)
			return false;
	}
}

static void apply_trigger(struct runner *rn, uint32_t call_addr)
{
	const struct diag_options *o = rn->o;

	rn->ob->triggered = true;
	rn->ob->trigger_time = sim_now(rn->sb);
	rn->r->trigger_ms = (double)sim_now(rn->sb) / 1e9;
	switch (o->trigger) {
	case DIAG_TRIGGER_UART:
		sim_uart_send(rn->sb, 2, o->uart_text, o->uart_len);
		break;
	case DIAG_TRIGGER_BUTTON:
		sim_set_button(rn->sb, true);
		break;
	case DIAG_TRIGGER_CALL:
		sim_call(rn->sb, call_addr);
		break;
	case DIAG_TRIGGER_RESET:
		break;
	}
}

/* After the trigger: until the CPU reaches the ROM, faults, or time is up. */
static bool until_rom(struct runner *rn)
{
	const struct diag_options *o = rn->o;
	sim_time_t start = sim_now(rn->sb), release = 0, deadline;

	if (o->trigger == DIAG_TRIGGER_BUTTON)
		release = start + (sim_time_t)(o->button_ms * 1e9);
	deadline = (release ? release : start) + (sim_time_t)(o->timeout_ms * 1e9);
	while (sim_now(rn->sb) < deadline) {
		sim_time_t until = deadline;
		enum sim_stop_reason why;

		if (release && sim_now(rn->sb) < release && release < until)
			until = release;
		why = step(rn, until, true);
		if (release && sim_now(rn->sb) >= release) {
			sim_set_button(rn->sb, false);
			release = 0;
		}
		if (why == SIM_STOP_ROM)
			return true;
		if (rn->stopped)
			return false;
	}
	if (release)
		sim_set_button(rn->sb, false);
	return false;
}

static struct diag_entry *last_entry(struct runner *rn)
{
	return rn->ob->nentries ? &rn->ob->entries[rn->ob->nentries - 1] : NULL;
}

/* The ROM model has acted on the entry: stayed, or bounced back to flash. */
static void note_rom_decision(struct runner *rn)
{
	struct diag_entry *e = last_entry(rn);
	const struct board *b = board_of(rn->sb);

	if (!e || sim_in_rom(rn->sb) || rn->stopped)
		return;
	e->bounced = true;
	e->bounce_to = sim_pc(rn->sb);
	uc_reg_read(b->uc, UC_ARM_REG_MSP, &e->bounce_sp);
	e->bounce_bank2 = (b->syscfg.memrmp & SYSCFG_MEMRMP_FB_MODE) != 0 && !e->fb_mode;
}

/* Let the ROM start; true when it is still there and answers 0x7F. */
static bool rom_start(struct runner *rn)
{
	struct diag_entry *e = last_entry(rn);
	const struct sim_config *cfg = &rn->o->cfg;
	sim_time_t ready = e->time + (cfg->lse ? cfg->timing.rom_startup_lse :
				      cfg->timing.rom_startup_no_lse) + ROM_SETTLE;
	struct diag_obs *ob = rn->ob;
	uint8_t sync = AN3155_SYNC, got[16];
	size_t n;

	ob->watch_reset = true;
	ob->got_reset = false;
	step(rn, ready, true);
	ob->watch_reset = false;
	if (rn->stopped) {
		e->fault = true;
		return false;
	}
	if (ob->got_reset || !sim_in_rom(rn->sb)) {
		e->reset_in_rom = ob->got_reset;
		e->reset_cause = ob->first_cause;
		e->reset_after = ob->first_reset - e->time;
		return false;
	}
	drain(rn, NULL, 0);
	rn->rom_talk = true;
	sim_uart_send(rn->sb, 2, &sync, 1);
	step(rn, sim_now(rn->sb) + ANSWER_WAIT, true);
	n = drain(rn, got, sizeof(got));
	rn->rom_talk = false;
	e->answered = n >= 1 && got[0] == AN3155_ACK;
	return e->answered;
}

/* AN3155 Go to addr: command, then the address; the ROM acknowledges both. */
static bool rom_go(struct runner *rn, uint32_t addr)
{
	uint8_t cmd[2] = { AN3155_CMD_GO, (uint8_t)~AN3155_CMD_GO }, a[AN3155_ADDRESS_FRAME];
	uint8_t got[16];
	size_t n;
	bool ok;

	an3155_address_frame(addr, a);
	rn->rom_talk = true;
	sim_uart_send(rn->sb, 2, cmd, sizeof(cmd));
	step(rn, sim_now(rn->sb) + ANSWER_WAIT, true);
	n = drain(rn, got, sizeof(got));
	ok = n >= 1 && got[0] == AN3155_ACK;
	if (ok) {
		/* Two ACKs take 0.2 ms at 115200 baud; then the ROM jumps. */
		sim_uart_send(rn->sb, 2, a, sizeof(a));
		step(rn, sim_now(rn->sb) + SIM_US(500), true);
		n = drain(rn, got, sizeof(got));
		ok = n >= 1 && got[0] == AN3155_ACK;
	}
	rn->rom_talk = false;
	return ok;
}

/*
 * Hand the ROM back to the firmware (Go, reset, Go) and watch whether the
 * ROM comes back on its own: a request flag that survives.
 */
static void handbacks(struct runner *rn)
{
	static const bool plan[3] = { true, false, true };
	unsigned i;

	for (i = 0; i < 3 && !rn->stopped; i++) {
		struct diag_handback *h = &rn->ob->handbacks[rn->ob->nhandbacks++];
		unsigned entries = rn->ob->entries_total;
		sim_time_t until;

		h->go = plan[i];
		if (i == 2 && !(rn->ob->handbacks[0].reentered && rn->ob->handbacks[1].reentered)) {
			rn->ob->nhandbacks--;
			break;
		}
		if (h->go) {
			if (!sim_in_rom(rn->sb))
				break;
			h->done = rom_go(rn, GO_ADDRESS);
		} else {
			sim_reset(rn->sb, SIM_RESET_PIN);
			h->done = true;
		}
		if (!h->done)
			break;
		until = sim_now(rn->sb) + HANDBACK_WATCH;
		while (rn->ob->entries_total == entries && sim_now(rn->sb) < until && !rn->stopped &&
		       step(rn, until, true) != SIM_STOP_ROM)
			;
		h->reentered = rn->ob->entries_total > entries;
		if (!h->reentered)
			continue;
		note_rom_decision(rn);
		if (!sim_in_rom(rn->sb) || !rom_start(rn))
			break;
	}
}

/* ---- Set-up ------------------------------------------------------------------ */

static int load(struct sim_board *sb, const struct diag_options *o, char *err, size_t errlen)
{
	unsigned i;

	for (i = 0; i < o->nfiles; i++)
		if (sim_load_file(sb, o->files[i], o->addrs[i], err, errlen) < 0)
			return -1;
	return 0;
}

int diagnose_run(const struct diag_options *o, struct diag_report *r, char *err, size_t errlen)
{
	struct sim_config cfg = o->cfg;
	struct diag_obs *ob;
	struct sim_observer obs = {
		.rom_entry = on_rom_entry, .reset = on_reset, .access = on_access, .sram = true,
	};
	struct runner rn = { 0 };
	uint32_t call_addr = 0;
	int status = DIAG_EXIT_SETUP;

	memset(r, 0, sizeof(*r));
	r->opts = o;
	r->trigger_ms = -1;
	if (!o->nfiles) {
		snprintf(err, errlen, "no firmware to diagnose");
		return DIAG_EXIT_SETUP;
	}
	/* The tool talks to the board itself: USART2 on a memory link, no wall clock. */
	cfg.usart[1].kind = SIM_LINK_MEMORY;
	cfg.realtime = false;
	cfg.trace_out = o->cfg.trace_out;
	r->sb = sim_board_new(&cfg, err, errlen);
	if (!r->sb)
		return DIAG_EXIT_SETUP;
	if (load(r->sb, o, err, errlen) < 0)
		goto fail;
	if (o->trigger == DIAG_TRIGGER_CALL) {
		call_addr = sim_symbol(r->sb, o->call_symbol);
		if (!call_addr) {
			snprintf(err, errlen, "--trigger call:%s: no symbol '%s' in the ELF files loaded",
				 o->call_symbol, o->call_symbol);
			status = DIAG_EXIT_USAGE;
			goto fail;
		}
	}
	ob = calloc(1, sizeof(*ob));
	if (!ob) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	ob->o = o;
	ob->sb = r->sb;
	obs.ctx = ob;
	rn.o = o;
	rn.ob = ob;
	rn.r = r;
	rn.sb = r->sb;
	sim_observe(r->sb, &obs);
	sim_power_on(r->sb);

	if (until_trigger(&rn)) {
		apply_trigger(&rn, call_addr);
		if (o->trigger == DIAG_TRIGGER_RESET)
			ob->triggered = true;
		until_rom(&rn);
	}
	if (ob->nentries) {
		/* SRAM accesses only matter on the way to the first entry: faster without. */
		obs.sram = false;
		sim_observe(r->sb, &obs);
		note_rom_decision(&rn);
		if (sim_in_rom(r->sb) && rom_start(&rn))
			handbacks(&rn);
	}
	if (o->trigger == DIAG_TRIGGER_CALL) {
		enum sim_call_state cs = sim_call_state(r->sb);

		ob->call_returned = cs == SIM_CALL_RETURNED;
		ob->call_never_started = cs == SIM_CALL_PENDING;
	}
	sim_observe(r->sb, NULL);
	r->rom_entries = ob->entries_total;
	r->end_ms = (double)sim_now(r->sb) / 1e9;
	diag_judge(ob, r);
	free(ob);
	return 0;
fail:
	sim_board_free(r->sb);
	r->sb = NULL;
	return status;
}

void diag_report_free(struct diag_report *r)
{
	sim_board_free(r->sb);
	r->sb = NULL;
}

const struct diag_check *diag_find(const struct diag_report *r, const char *id)
{
	unsigned i;

	for (i = 0; i < r->nchecks; i++)
		if (strcmp(r->checks[i].id, id) == 0)
			return &r->checks[i];
	return NULL;
}

bool diag_report_ok(const struct diag_report *r)
{
	unsigned i;

	for (i = 0; i < r->nchecks; i++)
		if (r->checks[i].status == DIAG_FAILED)
			return false;
	return true;
}

const char *diag_status_str(enum diag_status s)
{
	switch (s) {
	case DIAG_PASSED:
		return "passed";
	case DIAG_FAILED:
		return "failed";
	case DIAG_WARNING:
		return "warning";
	case DIAG_NOT_CHECKED:
		return "not checked";
	}
	return "?";
}
