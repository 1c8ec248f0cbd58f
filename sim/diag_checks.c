/*
 * diag_checks.c - what the diagnose run saw, judged against what AN2606
 * asks of a jump from user code into the STM32L476 ROM bootloader, in
 * plain words, with the places in the firmware (see diagnose.h).
 *
 * Each check is one of the ways such a jump fails (docs/diagnose.md has
 * the symptom each gives on a real board). A check that could not be
 * made, because the run never got that far, says so and why.
 */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "diag_obs.h"

#define ROM_ENTRY_VECTOR (STM32_SYSMEM_BASE + 4u)

static const char *const irq_names[STM32_IRQ_COUNT] = {
	"WWDG", "PVD_PVM", "TAMP_STAMP", "RTC_WKUP", "FLASH", "RCC", "EXTI0", "EXTI1",
	"EXTI2", "EXTI3", "EXTI4", "DMA1_CH1", "DMA1_CH2", "DMA1_CH3", "DMA1_CH4",
	"DMA1_CH5", "DMA1_CH6", "DMA1_CH7", "ADC1_2", "CAN1_TX", "CAN1_RX0", "CAN1_RX1",
	"CAN1_SCE", "EXTI9_5", "TIM1_BRK_TIM15", "TIM1_UP_TIM16", "TIM1_TRG_COM_TIM17",
	"TIM1_CC", "TIM2", "TIM3", "TIM4", "I2C1_EV", "I2C1_ER", "I2C2_EV", "I2C2_ER",
	"SPI1", "SPI2", "USART1", "USART2", "USART3", "EXTI15_10", "RTC_ALARM",
	"DFSDM1_FLT3", "TIM8_BRK", "TIM8_UP", "TIM8_TRG_COM", "TIM8_CC", "ADC3", "FMC",
	"SDMMC1", "TIM5", "SPI3", "UART4", "UART5", "TIM6_DAC", "TIM7", "DMA2_CH1",
	"DMA2_CH2", "DMA2_CH3", "DMA2_CH4", "DMA2_CH5", "DFSDM1_FLT0", "DFSDM1_FLT1",
	"DFSDM1_FLT2", "COMP", "LPTIM1", "LPTIM2", "OTG_FS", "DMA2_CH6", "DMA2_CH7",
	"LPUART1", "QUADSPI", "I2C3_EV", "I2C3_ER", "SAI1", "SAI2", "SWPMI1", "TSC",
	"LCD", "AES", "RNG", "FPU",
};

/* ---- Building checks ------------------------------------------------------ */

static struct diag_check *check(struct diag_report *r, const char *id, const char *title)
{
	struct diag_check *c;

	if (r->nchecks == DIAG_MAX_CHECKS)
		c = &r->checks[DIAG_MAX_CHECKS - 1];   /* never: the list below is shorter */
	else
		c = &r->checks[r->nchecks++];
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->title = title;
	return c;
}

static void __attribute__((format(printf, 3, 4)))
verdict(struct diag_check *c, enum diag_status st, const char *fmt, ...)
{
	va_list ap;

	c->status = st;
	va_start(ap, fmt);
	vsnprintf(c->summary, sizeof(c->summary), fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 2, 3))) fix(struct diag_check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->fix, sizeof(c->fix), fmt, ap);
	va_end(ap);
}

static void place(const struct diag_report *r, struct diag_check *c, const char *role, uint32_t pc)
{
	struct diag_place *p;

	if (c->nplaces == DIAG_MAX_PLACES)
		return;
	p = &c->places[c->nplaces++];
	snprintf(p->role, sizeof(p->role), "%s", role);
	sim_locate(r->sb, pc, &p->loc);
	p->loc.addr = pc;
}

/* "remap.c:31", else "main+0x12", else "0x08000123": a place in a sentence. */
static const char *where(const struct diag_report *r, uint32_t pc, char *buf, size_t len)
{
	struct sim_location loc;
	const char *file;

	if (sim_locate(r->sb, pc, &loc) && loc.file) {
		file = strrchr(loc.file, '/');
		snprintf(buf, len, "%s:%u", file ? file + 1 : loc.file, loc.line);
	} else if (loc.symbol) {
		snprintf(buf, len, "%s+0x%x", loc.symbol, loc.offset);
	} else {
		snprintf(buf, len, "0x%08X", pc);
	}
	return buf;
}

static double ms(sim_time_t t)
{
	return (double)t / 1e9;
}

static const struct diag_entry *first_entry(const struct diag_obs *ob)
{
	return ob->nentries ? &ob->entries[0] : NULL;
}

static const char *not_reached(const struct diag_obs *ob)
{
	if (ob->fault)
		return "not checked: the CPU faulted before it reached the ROM";
	return "not checked: the CPU never reached the ROM";
}

/* False, with the check marked not checked, when the CPU never reached the ROM. */
static bool reached(const struct diag_obs *ob, struct diag_check *c)
{
	if (ob->nentries)
		return true;
	verdict(c, DIAG_NOT_CHECKED, "%s", not_reached(ob));
	return false;
}

static uint32_t rom_entry_point(const struct diag_report *r)
{
	return sim_read32(r->sb, ROM_ENTRY_VECTOR);
}

static bool in_sysmem(uint32_t addr)
{
	return addr >= STM32_SYSMEM_BASE && addr < STM32_SYSMEM_BASE + STM32_SYSMEM_SIZE;
}

/* ---- The checks, in the order the jump meets them --------------------------------- */

static void check_rom_entry(const struct diag_obs *ob, struct diag_report *r)
{
	struct diag_check *c = check(r, "rom-entry", "The CPU reaches the ROM bootloader's entry point");
	const struct diag_entry *e = first_entry(ob);
	const struct diag_options *o = ob->o;

	if (e) {
		verdict(c, DIAG_PASSED,
			"The firmware branched to the ROM's entry point 0x%08X (the word stored at 0x1FFF0004)%s.",
			rom_entry_point(r), ob->triggered && e->time >= ob->trigger_time ? "" :
			", before the trigger");
		place(r, c, "the branch into the ROM", e->branch_pc);
		return;
	}
	if (ob->fault && (ob->fault_info.kind == SIM_FAULT_EVEN_BRANCH ||
			  ob->fault_info.kind == SIM_FAULT_SYSMEM_BRANCH)) {
		verdict(c, DIAG_FAILED,
			"The CPU faulted on the branch towards the ROM (see branch) and never reached its entry point.");
		place(r, c, "the branch", ob->fault_info.pc);
		return;
	}
	if (ob->fault) {
		verdict(c, DIAG_FAILED, "The CPU stopped on a fault before it reached the ROM: %s.",
			ob->fault_text);
		place(r, c, "the faulting instruction", ob->fault_info.pc);
		fix(c, "The fault is in the firmware itself, before any jump to the ROM: fix it first.");
		return;
	}
	if (o->trigger == DIAG_TRIGGER_CALL && ob->call_never_started) {
		verdict(c, DIAG_FAILED,
			"The call of %s never started: the CPU did not come back to thread mode (it stays in an interrupt handler) within %.0f ms.",
			o->call_symbol, o->timeout_ms);
		return;
	}
	if (o->trigger == DIAG_TRIGGER_CALL && ob->call_returned) {
		verdict(c, DIAG_FAILED,
			"%s returned to its caller without entering the ROM, and the ROM was not entered within %.0f ms.",
			o->call_symbol, o->timeout_ms);
		fix(c, "A function that enters the bootloader ends in the branch to the ROM's entry point and never returns.");
		return;
	}
	if (ob->software_resets) {
		verdict(c, DIAG_FAILED,
			"After the trigger the firmware reset itself (%u software reset%s), then started normally: the ROM's entry point was never reached within %.0f ms.",
			ob->software_resets, ob->software_resets == 1 ? "" : "s", o->timeout_ms);
		fix(c, "The request must survive the reset and be acted on right after it; see request-flag.");
		return;
	}
	if (!ob->triggered) {
		verdict(c, DIAG_FAILED, "The run ended before the trigger could be applied.");
		return;
	}
	verdict(c, DIAG_FAILED,
		"Nothing happened: within %.0f ms of the trigger the firmware neither reset nor branched to the ROM's entry point.",
		o->timeout_ms);
	fix(c, "Check that the firmware reacts to this trigger (the text, the button, the function) and ends in a jump to the ROM.");
}

static void check_branch(const struct diag_obs *ob, struct diag_report *r)
{
	struct diag_check *c = check(r, "branch", "The branch goes to the ROM's entry point, with the Thumb bit");
	const struct diag_entry *e = first_entry(ob);
	uint32_t entry = rom_entry_point(r), target = ob->fault_info.addr;
	bool branch_fault = ob->fault && (ob->fault_info.kind == SIM_FAULT_EVEN_BRANCH ||
					  ob->fault_info.kind == SIM_FAULT_SYSMEM_BRANCH);

	if (e && !branch_fault) {
		verdict(c, DIAG_PASSED, "The branch target was 0x%08X, the value stored at 0x1FFF0004.", entry);
		place(r, c, "the branch into the ROM", e->branch_pc);
		return;
	}
	if (!branch_fault) {
		verdict(c, DIAG_NOT_CHECKED, "not checked: no branch towards the ROM was seen");
		return;
	}
	place(r, c, "the branch", ob->fault_info.pc);
	if ((target & ~1u) == ROM_ENTRY_VECTOR || (target & ~1u) == STM32_SYSMEM_BASE) {
		verdict(c, DIAG_FAILED,
			"The firmware branched to 0x%08X, into the ROM's vector table, instead of to the address stored there: the word at 0x1FFF0004 holds the ROM's entry point (0x%08X). The function pointer was built from the address of the vector, not from its value (a missing dereference). The CPU faults at once: an INVSTATE usage fault, a HardFault on the board.",
			target, entry);
		fix(c, "Read the entry point from the table: void (*boot)(void) = (void (*)(void))*(volatile uint32_t *)0x1FFF0004; (and the stack pointer from the word at 0x1FFF0000).");
		return;
	}
	if ((target | 1u) == entry) {
		verdict(c, DIAG_FAILED,
			"The branch target 0x%08X is the ROM's entry point without the Thumb bit: a Cortex-M only executes Thumb code, and a branch to an even address takes an INVSTATE usage fault (a HardFault on the board). The value stored at 0x1FFF0004 (0x%08X) is odd, as a Thumb address must be.",
			target, entry);
		fix(c, "Branch to the value stored at 0x1FFF0004 as it is; never to an address copied from a disassembly or masked with ~1.");
		return;
	}
	if (ob->fault_info.kind == SIM_FAULT_EVEN_BRANCH) {
		verdict(c, DIAG_FAILED,
			"The firmware branched to the even address 0x%08X: a Cortex-M only executes Thumb code (bit 0 set) and takes an INVSTATE usage fault.%s",
			target, in_sysmem(target) ? " It is not the ROM's entry point either." : "");
		fix(c, "Branch through a function pointer loaded from a vector table (the word at 0x1FFF0004 for the ROM).");
		return;
	}
	verdict(c, DIAG_FAILED,
		"The firmware branched to 0x%08X in system memory, which is not the ROM's entry point (0x%08X, the value stored at 0x1FFF0004).",
		target, entry);
	fix(c, "Branch to the value stored at 0x1FFF0004.");
}

/*
 * A store to SRAM before the reset, wiped by the start-up code before it
 * was read. Of several, the request flag is the one the firmware looks at
 * first after the reset, outside an interrupt handler (a counter that an
 * interrupt bumps is wiped too, but read later, in its handler).
 */
static const struct diag_cand *wiped_flag(const struct diag_obs *ob)
{
	const struct diag_cand *best = NULL;
	unsigned i;

	for (i = 0; i < ob->ncands; i++) {
		const struct diag_cand *c = &ob->cands[i];

		if (!c->written_after || !c->read_after || c->write_value == c->value)
			continue;
		if (!best || (best->read_in_handler && !c->read_in_handler) ||
		    (best->read_in_handler == c->read_in_handler && c->read_insns < best->read_insns))
			best = c;
	}
	return best;
}

static void check_request_flag(const struct diag_obs *ob, struct diag_report *r)
{
	struct diag_check *c = check(r, "request-flag", "A request kept across the reset survives the C start-up code");
	const struct diag_cand *f = wiped_flag(ob);
	const struct diag_entry *e = first_entry(ob);
	struct sim_location loc;
	char a[64], b[64], d[64];

	if (e) {
		/* resets_before counts the power-on reset too. */
		if (e->resets_before > 1)
			verdict(c, DIAG_PASSED, "The ROM was reached after the firmware's reset: the request survived it.");
		else
			verdict(c, DIAG_NOT_CHECKED, "not checked: the firmware went to the ROM without a reset");
		return;
	}
	if (!ob->software_resets) {
		verdict(c, DIAG_NOT_CHECKED, "not checked: the firmware did not reset itself");
		return;
	}
	if (!f) {
		verdict(c, DIAG_NOT_CHECKED,
			"not checked: the firmware reset itself, but no word it stored just before is wiped by its start-up code and read after");
		return;
	}
	sim_locate(r->sb, f->addr, &loc);
	verdict(c, DIAG_FAILED,
		"Just before its software reset the firmware stored 0x%08X at 0x%08X (%s, in %s) at %s. After the reset the C start-up code %s that word (0x%08X at %s) before the firmware read it at %s: the request was gone, the firmware started normally and never entered the ROM. .data and .bss are set up again at every reset.",
		f->value, f->addr, loc.symbol ? loc.symbol : "a variable", loc.section ? loc.section : "RAM",
		where(r, f->store_pc, a, sizeof(a)), f->write_value == 0 ? "zeroed" : "re-initialised",
		f->write_value, where(r, f->write_pc, b, sizeof(b)), where(r, f->read_pc, d, sizeof(d)));
	place(r, c, "the request stored", f->store_pc);
	place(r, c, "the start-up code wiping it", f->write_pc);
	place(r, c, "the request read", f->read_pc);
	fix(c, "Keep the request where nothing initialises it: an RTC backup register (PWR_CR1.DBP set first), or a variable in a .noinit section the start-up code skips; or act on it first thing in the reset handler, before .data and .bss are set up.");
}

static void check_remap(const struct diag_obs *ob, struct diag_report *r)
{
	struct diag_check *c = check(r, "remap", "System memory is mapped at 0x00000000 when the ROM starts");
	const struct diag_entry *e = first_entry(ob);
	char a[64];

	if (!reached(ob, c))
		return;
	if (e->mem_mode == SYSCFG_MEM_MODE_SYSMEM) {
		verdict(c, DIAG_PASSED, "SYSCFG_MEMRMP.MEM_MODE was 1: system memory at 0x0, as after a BOOT0 boot.");
		if (e->memrmp.seen)
			place(r, c, "the remap", e->memrmp.pc);
		return;
	}
	if (e->memrmp.seen && e->memrmp.lost) {
		verdict(c, DIAG_FAILED,
			"The write of 0x%08X to SYSCFG_MEMRMP at %s was lost: the SYSCFG clock (RCC_APB2ENR.SYSCFGEN) was off, and a peripheral ignores writes while its clock is off. 0x0 still showed main flash when the ROM started.",
			e->memrmp.value, where(r, e->memrmp.pc, a, sizeof(a)));
		place(r, c, "the lost write", e->memrmp.pc);
		place(r, c, "the branch into the ROM", e->branch_pc);
		fix(c, "Switch the SYSCFG clock on, and read the register back, before the remap: RCC->APB2ENR |= RCC_APB2ENR_SYSCFGEN; (void)RCC->APB2ENR; SYSCFG->MEMRMP = 1;");
		return;
	}
	if (e->memrmp.seen) {
		verdict(c, DIAG_FAILED,
			"SYSCFG_MEMRMP was written (0x%08X at %s), but MEM_MODE was %u, not 1 (system memory), when the ROM started.",
			e->memrmp.value, where(r, e->memrmp.pc, a, sizeof(a)), e->mem_mode);
		place(r, c, "the last write", e->memrmp.pc);
		fix(c, "Write MEM_MODE = 1 (system memory) and leave it until the jump.");
		return;
	}
	verdict(c, DIAG_FAILED,
		"System memory was not mapped at 0x0: SYSCFG_MEMRMP was never written and 0x0 showed main flash when the ROM started.");
	place(r, c, "the branch into the ROM", e->branch_pc);
	fix(c, "Before the jump: RCC->APB2ENR |= RCC_APB2ENR_SYSCFGEN; (void)RCC->APB2ENR; SYSCFG->MEMRMP = 1; then DSB and ISB.");
}

static void check_dual_bank(const struct diag_obs *ob, struct diag_report *r)
{
	struct diag_check *c = check(r, "dual-bank", "The ROM keeps control (no dual-bank bounce back to flash)");
	const struct diag_entry *e = first_entry(ob);

	if (!reached(ob, c))
		return;
	if (!e->bounced) {
		verdict(c, DIAG_PASSED, "The ROM stayed: with system memory at 0x0 it skips its dual-bank boot routine.");
		return;
	}
	verdict(c, DIAG_FAILED,
		"The ROM's dual-bank boot routine (AN2606, STM32L47x/48x) found a stack pointer in SRAM (0x%08X) at the start of bank %u and jumped to that bank's reset handler: the application started again, without a reset, and the bootloader never ran. The ROM only stays when system memory is mapped at 0x0, which is how it recognises a BOOT0 boot.",
		e->bounce_sp, e->bounce_bank2 ? 2u : 1u);
	place(r, c, "the branch into the ROM", e->branch_pc);
	place(r, c, "where the ROM jumped back to", e->bounce_to);
	fix(c, "Map system memory at 0x0 before the jump (see remap).");
}

static const char *clock_name(unsigned sws)
{
	static const char *const names[4] = { "MSI", "HSI16", "HSE", "the PLL" };

	return names[sws & 3u];
}

static void check_sysclk(const struct diag_obs *ob, struct diag_report *r)
{
	struct diag_check *c = check(r, "sysclk", "The PLL is off (the system clock as after a reset)");
	const struct diag_entry *e = first_entry(ob);
	char a[64];

	if (!reached(ob, c))
		return;
	if (e->sysclk == RCC_CFGR_SW_PLL) {
		verdict(c, DIAG_FAILED,
			"The system clock was still the PLL (%.0f MHz, switched to at %s) when the CPU reached the ROM. AN2606 asks for the PLL to be disabled before a jump from user code: the ROM sets up its own clocks (HSI16 for its USART, a 48 MHz clock for USB, from the MSI or the PLL) expecting the clock tree of a reset, and the PLL cannot be reconfigured while it runs (RM0351: PLLCFGR only changes with PLLON clear). Its USART baud-rate detection and USB then run from the wrong clock.",
			e->sysclk_hz / 1e6, e->sysclk_switch.seen ? where(r, e->sysclk_switch.pc, a, sizeof(a)) : "an unknown place");
		if (e->sysclk_switch.seen)
			place(r, c, "the switch to the PLL", e->sysclk_switch.pc);
		place(r, c, "the branch into the ROM", e->branch_pc);
		fix(c, "Before the jump switch SYSCLK back to MSI (RCC_CFGR.SW = 0, wait for SWS = 0), then clear PLLON and wait for PLLRDY to clear; or enter the ROM right after a reset.");
		return;
	}
	if (e->pll_on) {
		verdict(c, DIAG_WARNING,
			"The system clock was %s, but the PLL was still running: AN2606 asks for it to be off.",
			clock_name(e->sysclk));
		place(r, c, "the branch into the ROM", e->branch_pc);
		fix(c, "Clear RCC_CR.PLLON before the jump.");
		return;
	}
	verdict(c, DIAG_PASSED, "The system clock was %s at %.1f MHz and the PLL off.",
		clock_name(e->sysclk), e->sysclk_hz / 1e6);
}

static void check_systick(const struct diag_obs *ob, struct diag_report *r)
{
	struct diag_check *c = check(r, "systick", "SysTick is stopped");
	const struct diag_entry *e = first_entry(ob);
	char a[64];

	if (!reached(ob, c))
		return;
	if (!(e->systick_csr & SYST_CSR_ENABLE) && !e->systick_pending) {
		verdict(c, DIAG_PASSED, "SysTick was stopped and its exception not pending.");
		return;
	}
	verdict(c, (e->systick_csr & SYST_CSR_TICKINT) || e->systick_pending ? DIAG_FAILED : DIAG_WARNING,
		"SysTick was %s (SYST_CSR = 0x%08X, started at %s)%s when the CPU reached the ROM. Its interrupt then fires inside the bootloader, into a handler that is not the ROM's (your application's, through VTOR) or that the ROM does not expect; your handler runs on the ROM's stack and in its RAM (the first 12 KB of SRAM1).",
		e->systick_csr & SYST_CSR_ENABLE ? "still counting" : "stopped",
		e->systick_csr,
		e->systick_start.seen ? where(r, e->systick_start.pc, a, sizeof(a)) : "an unknown place",
		e->systick_pending ? " and its exception pending" : "");
	if (e->systick_start.seen)
		place(r, c, "SysTick started", e->systick_start.pc);
	place(r, c, "the branch into the ROM", e->branch_pc);
	fix(c, "Before the jump: SysTick->CTRL = 0; SCB->ICSR = SCB_ICSR_PENDSTCLR_Msk;");
}

static size_t irq_list(char *buf, size_t len, const uint32_t bits[3])
{
	size_t n = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < STM32_IRQ_COUNT && n < len; i++) {
		if (!(bits[i / 32] & (1u << (i % 32))))
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s%s (IRQ %u)", n ? ", " : "", irq_names[i], i);
	}
	return n;
}

static void check_nvic(const struct diag_obs *ob, struct diag_report *r)
{
	struct diag_check *c = check(r, "nvic", "No interrupt is enabled or pending in the NVIC");
	const struct diag_entry *e = first_entry(ob);
	char en[200], pend[200];
	unsigned i, shown = 0;

	if (!reached(ob, c))
		return;
	irq_list(en, sizeof(en), e->nvic_enabled);
	irq_list(pend, sizeof(pend), e->nvic_pending);
	if (!en[0] && !pend[0] && !e->pendsv_pending) {
		verdict(c, DIAG_PASSED, "No interrupt was enabled or pending in the NVIC.");
		return;
	}
	verdict(c, DIAG_FAILED,
		"When the CPU reached the ROM the NVIC still had %s%s%s%s%s%s. As soon as the ROM unmasks interrupts (its USB DFU needs them) these are taken, into handlers that are not the ROM's: the bootloader hangs or crashes.",
		en[0] ? "enabled: " : "", en, en[0] && pend[0] ? "; " : "",
		pend[0] ? "pending: " : "", pend,
		e->pendsv_pending ? (en[0] || pend[0] ? "; PendSV pending" : "PendSV pending") : "");
	for (i = 0; i < STM32_IRQ_COUNT && shown < 2; i++) {
		if ((e->nvic_enabled[i / 32] & (1u << (i % 32))) && ob->nvic_enable[i].seen) {
			char role[64];

			snprintf(role, sizeof(role), "%s enabled", irq_names[i]);
			place(r, c, role, ob->nvic_enable[i].pc);
			shown++;
		}
	}
	for (i = 0; i < STM32_IRQ_COUNT && shown < 3; i++) {
		if ((e->nvic_pending[i / 32] & (1u << (i % 32))) && ob->nvic_pend[i].seen) {
			char role[64];

			snprintf(role, sizeof(role), "%s set pending", irq_names[i]);
			place(r, c, role, ob->nvic_pend[i].pc);
			shown++;
		}
	}
	place(r, c, "the branch into the ROM", e->branch_pc);
	fix(c, "Before the jump, for every NVIC register: NVIC->ICER[i] = 0xFFFFFFFF; NVIC->ICPR[i] = 0xFFFFFFFF; (and stop the peripherals that raise them).");
}

/*
 * Whether the ROM's USB DFU can take its interrupt is the ROM model's
 * verdict, made at the same instant (e->usb, rom_usb_verdict.c): this
 * check says why in the firmware's terms, and never disagrees with what
 * the emulated board then does.
 */
static void check_interrupts(const struct diag_obs *ob, struct diag_report *r)
{
	struct diag_check *c = check(r, "primask", "Interrupts can be taken at the jump (thread mode; PRIMASK, BASEPRI, FAULTMASK clear)");
	const struct diag_entry *e = first_entry(ob);
	enum diag_status st = ob->o->iface == DIAG_IF_USART ? DIAG_WARNING : DIAG_FAILED;
	unsigned basepri;

	if (!reached(ob, c))
		return;
	basepri = e->basepri & 0xFFu;
	if (e->ipsr) {
		char exc[40];
		size_t n;

		if (e->ipsr >= EXC_IRQ0 && e->ipsr - EXC_IRQ0 < STM32_IRQ_COUNT)
			snprintf(exc, sizeof(exc), "%s's handler", irq_names[e->ipsr - EXC_IRQ0]);
		else
			snprintf(exc, sizeof(exc), "exception %u", e->ipsr);
		verdict(c, DIAG_FAILED,
			"The jump was made inside an exception handler (%s, IPSR = %u): the ROM runs in handler mode, at that exception's priority, so none of its own interrupts of the same or lower priority can be taken, and the exception is never returned from.",
			exc, e->ipsr);
		n = strlen(c->summary);
		snprintf(c->summary + n, sizeof(c->summary) - n, e->usb.irq ?
			 " Its USB interrupt (priority 0x%02X in the model, --rom-usb-priority) is more urgent and still runs; the application it starts runs in handler mode all the same." :
			 " Its USB interrupt (priority 0x%02X in the model, --rom-usb-priority) is one of them: the board never shows up as a DFU device.",
			 e->usb.irq_priority);
		place(r, c, "the branch into the ROM", e->branch_pc);
		fix(c, "Do not jump from an interrupt handler: set a flag there, and enter the ROM from thread mode (better, through a reset).");
		return;
	}
	if ((e->primask & 1u) || (e->faultmask & 1u)) {
		verdict(c, st,
			"Interrupts were masked when the CPU reached the ROM (PRIMASK = %u, FAULTMASK = %u, BASEPRI = 0x%02X): __disable_irq() with no __enable_irq() before the jump. The ROM's USART protocol polls and still works; its USB DFU is driven by interrupts and never answers, so the board does not show up as a DFU device (AN2606: interrupts must be enabled at the jump on products whose bootloader uses them).",
			e->primask & 1u, e->faultmask & 1u, basepri);
		place(r, c, "the branch into the ROM", e->branch_pc);
		fix(c, "After clearing every NVIC enable and pending bit, __enable_irq() (and BASEPRI = 0) right before the branch.");
		return;
	}
	if (!basepri) {
		verdict(c, DIAG_PASSED, "PRIMASK, FAULTMASK and BASEPRI were clear, in thread mode.");
		return;
	}
	if (!e->usb.irq)
		verdict(c, st,
			"BASEPRI was 0x%02X when the CPU reached the ROM: interrupts of priority 0x%02X to 0xF0 were masked, the ROM's USB interrupt among them (0x%02X in the model, --rom-usb-priority: AN2606 does not give it). The ROM's USART protocol polls and still works; its USB DFU never answers, so the board does not show up as a DFU device.",
			basepri, basepri, e->usb.irq_priority);
	else
		verdict(c, DIAG_WARNING,
			"BASEPRI was 0x%02X when the CPU reached the ROM. The ROM's USB interrupt is more urgent in the model (0x%02X, --rom-usb-priority), so its USB DFU works here; but AN2606 does not give that priority, and a ROM using 0x%02X or less urgent would never take it.",
			basepri, e->usb.irq_priority, basepri);
	place(r, c, "the branch into the ROM", e->branch_pc);
	fix(c, "Clear BASEPRI as well as PRIMASK right before the branch: __set_BASEPRI(0); __enable_irq(); (a jump from inside an RTOS critical section leaves BASEPRI set).");
}

static const char *rom_iwdg_words(enum sim_rom_iwdg mode)
{
	switch (mode) {
	case SIM_ROM_IWDG_ALWAYS:
		return "sets its prescaler to /256 at entry and keeps refreshing it through its start-up";
	case SIM_ROM_IWDG_READY:
		return "leaves it alone until its start-up is over";
	case SIM_ROM_IWDG_ONCE:
		break;
	}
	return "sets its prescaler to /256 and reloads it once at entry, then refreshes it only once it is ready";
}

static void check_watchdog(const struct diag_obs *ob, struct diag_report *r)
{
	struct diag_check *c = check(r, "watchdog", "The watchdog lets the ROM finish its start-up");
	const struct diag_entry *e = first_entry(ob);
	const struct sim_config *cfg = &ob->o->cfg;
	sim_time_t startup = cfg->lse ? cfg->timing.rom_startup_lse : cfg->timing.rom_startup_no_lse;
	double at256 = (double)(e ? e->iwdg_rlr + 1u : 1u) * 256.0 * 1000.0 / STM32_LSI_HZ;
	double user = e ? (double)(e->iwdg_rlr + 1u) * (4u << (e->iwdg_pr > 6 ? 6 : e->iwdg_pr)) * 1000.0 / STM32_LSI_HZ : 0;
	char a[64];

	if (!reached(ob, c))
		return;
	if (!e->iwdg_running) {
		verdict(c, DIAG_PASSED, "The independent watchdog was not running.");
		return;
	}
	if (e->bounced) {
		verdict(c, DIAG_NOT_CHECKED, "not checked: the ROM jumped back to the application before its start-up");
		return;
	}
	if (e->reset_in_rom && e->reset_cause == SIM_RESET_IWDG) {
		verdict(c, DIAG_FAILED,
			"The independent watchdog (started at %s, timeout %.0f ms) reset the board %.0f ms after the jump, before the ROM had finished its start-up (%.0f ms %s). The ROM %s (here: %.0f ms at /256 with RLR = %u): shorter than its start-up. The board comes back in the application, and the bootloader never answers.",
			e->iwdg_start.seen ? where(r, e->iwdg_start.pc, a, sizeof(a)) : "reset, by the IWDG_SW option",
			user, ms(e->reset_after), ms(startup), cfg->lse ? "with the LSE" : "without an LSE",
			rom_iwdg_words(cfg->rom_iwdg), at256, e->iwdg_rlr);
		if (e->iwdg_start.seen)
			place(r, c, "the watchdog started", e->iwdg_start.pc);
		place(r, c, "the branch into the ROM", e->branch_pc);
		fix(c, "Enter the ROM through a reset, before the application starts the watchdog (a reset stops a watchdog started by software); or give it a reload value long enough at /256: RLR >= %u for a %.0f ms start-up.",
		    (unsigned)(ms(startup) * STM32_LSI_HZ / 256000.0) + 1u, ms(startup));
		return;
	}
	verdict(c, DIAG_PASSED,
		"The independent watchdog was running (timeout %.0f ms, %.0f ms at /256) and did not reset the ROM during its %.0f ms start-up (the ROM %s).",
		user, at256, ms(startup), rom_iwdg_words(cfg->rom_iwdg));
}

/* The ROM model's own rule (rom_usb_clock), from the board's configuration. */
static void check_usb_clock(const struct diag_obs *ob, struct diag_report *r)
{
	struct diag_check *c = check(r, "usb-clock", "USB DFU has a clock: an LSE, or an HSE the ROM knows");
	const struct sim_config *cfg = &ob->o->cfg;
	char why[160];

	if (ob->o->iface == DIAG_IF_USART) {
		verdict(c, DIAG_NOT_CHECKED, "not checked: only the USART is wanted (--interface usart)");
		return;
	}
	if (rom_usb_clock(cfg, why, sizeof(why))) {
		if (cfg->lse)
			verdict(c, DIAG_PASSED, "The board has a 32.768 kHz LSE: the ROM trims the MSI to 48 MHz with it for USB.");
		else
			verdict(c, DIAG_PASSED, "The board has no LSE, but an HSE of %g MHz, one the ROM's USB DFU can use.",
				cfg->hse_hz / 1e6);
		return;
	}
	why[0] = (char)toupper((unsigned char)why[0]);
	verdict(c, ob->o->iface == DIAG_IF_USB ? DIAG_FAILED : DIAG_WARNING,
		"%s: the ROM cannot make its 48 MHz USB clock and does not offer USB DFU (AN2606). Only its USART (and I2C, SPI) work; a USB host sees no DFU device.",
		why);
	fix(c, "Fit a 32.768 kHz crystal, or an HSE of 24, 20, 18, 16, 12, 9, 8, 6 or 4 MHz; or update over the ROM's USART.");
}

static void check_rom_answers(const struct diag_obs *ob, struct diag_report *r)
{
	struct diag_check *c = check(r, "rom-answers", "The ROM bootloader answers on USART2");
	const struct diag_entry *e = first_entry(ob);
	const struct sim_config *cfg = &ob->o->cfg;

	if (!reached(ob, c))
		return;
	if (e->bounced) {
		verdict(c, DIAG_NOT_CHECKED, "not checked: the ROM jumped back to the application");
		return;
	}
	if (e->reset_in_rom) {
		verdict(c, DIAG_NOT_CHECKED, "not checked: a reset ended the ROM session %.0f ms after the jump",
			ms(e->reset_after));
		return;
	}
	if (e->fault) {
		verdict(c, DIAG_FAILED, "The board faulted in the ROM: %s.", ob->fault_text);
		return;
	}
	if (!e->answered) {
		verdict(c, DIAG_FAILED, "The ROM did not acknowledge 0x7F on USART2 after its start-up.");
		return;
	}
	verdict(c, DIAG_PASSED, "After its %.0f ms start-up the ROM acknowledged 0x7F (AN3155) on USART2.",
		ms(cfg->lse ? cfg->timing.rom_startup_lse : cfg->timing.rom_startup_no_lse));
}

/* Backup registers that were set before the first entry and never changed since. */
static void surviving_request(const struct diag_obs *ob, struct diag_report *r, struct diag_check *c)
{
	const struct diag_entry *e0 = &ob->entries[0], *last = &ob->entries[ob->nentries - 1];
	unsigned i;

	for (i = 0; i < RTC_BKP_COUNT; i++) {
		size_t n = strlen(c->summary);
		char a[64];

		if (!e0->bkp[i] || e0->bkp[i] != last->bkp[i])
			continue;
		snprintf(c->summary + n, sizeof(c->summary) - n,
			 " RTC_BKP%uR still holds 0x%08X%s%s.", i, e0->bkp[i],
			 ob->bkp_write[i].seen ? ", written at " : "",
			 ob->bkp_write[i].seen ? where(r, ob->bkp_write[i].pc, a, sizeof(a)) : "");
		if (ob->bkp_write[i].seen)
			place(r, c, "the request written", ob->bkp_write[i].pc);
		break;
	}
}

static void check_request_loop(const struct diag_obs *ob, struct diag_report *r)
{
	struct diag_check *c = check(r, "request-loop", "The board leaves the bootloader when told to (Go, reset)");
	unsigned i, done = 0, back = 0;
	char how[96] = "";

	for (i = 0; i < ob->nhandbacks; i++) {
		const struct diag_handback *h = &ob->handbacks[i];
		size_t n = strlen(how);

		if (!h->done)
			continue;
		done++;
		if (h->reentered) {
			back++;
			snprintf(how + n, sizeof(how) - n, "%s%s", n ? ", " : "",
				 h->go ? "after Go 0x08000000" : "after a reset");
		}
	}
	if (!done) {
		verdict(c, DIAG_NOT_CHECKED, "not checked: the ROM never got to hand control back");
		return;
	}
	if (!back) {
		verdict(c, DIAG_PASSED,
			"After Go 0x08000000 (AN3155) and after a reset, the firmware ran without coming back into the ROM.");
		return;
	}
	verdict(c, DIAG_FAILED,
		"The firmware entered the ROM again by itself %s (%u of %u hand-backs): the request that brought it there is never cleared, so the board cannot leave the bootloader and a new application never runs.",
		how, back, done);
	if (ob->nentries > 1) {
		surviving_request(ob, r, c);
		place(r, c, "the branch into the ROM, again", ob->entries[1].branch_pc);
	}
	fix(c, "Clear the request before acting on it: read it, write 0 (or anything that is not the request), then jump; as sysboot_early_check() does.");
}

void diag_judge(const struct diag_obs *ob, struct diag_report *r)
{
	check_rom_entry(ob, r);
	check_branch(ob, r);
	check_request_flag(ob, r);
	check_remap(ob, r);
	check_dual_bank(ob, r);
	check_sysclk(ob, r);
	check_systick(ob, r);
	check_nvic(ob, r);
	check_interrupts(ob, r);
	check_watchdog(ob, r);
	check_usb_clock(ob, r);
	check_rom_answers(ob, r);
	check_request_loop(ob, r);
}
