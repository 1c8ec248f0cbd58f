/*
 * rom_usb_verdict.c - would the ROM bootloader's USB DFU work, were the ROM
 * entered in the board's present state?
 *
 * One answer for the two places that need it: the ROM model at its entry
 * (rom.c: the device attaches, or never does, and the trace says why) and
 * `sysboot-sim diagnose`, whose usb-clock and primask checks ask at the
 * same instant. What diagnose tells a user is then what the emulated board
 * does.
 *
 * AN2606 (STM32L47x/48x) gives two conditions. The ROM offers USB DFU only
 * when it can make a 48 MHz clock for it: from the MSI trimmed by the LSE,
 * or from an HSE of one of the frequencies it lists. And its USB DFU runs
 * from interrupts, so they must be enabled at the jump. Whether the ROM's
 * OTG_FS interrupt is taken is the Cortex-M4's rule (ARMv7-M B1.5.4): only
 * if its group priority is above (numerically below) the execution
 * priority, which PRIMASK, FAULTMASK, BASEPRI and an exception handler
 * still active all lower. So PRIMASK or FAULTMASK always keep it out, while
 * BASEPRI and a jump from a handler keep it out only when they mask the
 * priority the ROM gives it, which no ST document states: that is the model
 * parameter cfg.rom_usb_irq_priority (UNCERTAIN; docs/sim.md).
 */
#include <stdio.h>

#include "board.h"

/* AN2606 STM32L47x/48x: without an LSE, USB needs an HSE of one of these (MHz). */
static const uint32_t listed_hse_mhz[] = { 24, 20, 18, 16, 12, 9, 8, 6, 4 };

bool rom_usb_clock(const struct sim_config *cfg, char *why, size_t n)
{
	unsigned i;

	if (cfg->lse)
		return true;
	for (i = 0; i < sizeof(listed_hse_mhz) / sizeof(listed_hse_mhz[0]); i++)
		if (cfg->hse_hz == listed_hse_mhz[i] * 1000000u)
			return true;
	if (cfg->hse_hz)
		snprintf(why, n, "the board has no LSE and an HSE of %.6g MHz, not one of 24, 20, 18, 16, 12, 9, 8, 6 or 4 MHz",
			 cfg->hse_hz / 1e6);
	else
		snprintf(why, n, "the board has no LSE and no HSE");
	return false;
}

/* The active exception that keeps an interrupt of group priority prio out (there is one). */
static unsigned blocking_exception(const struct board *b, int prio)
{
	unsigned i;

	for (i = 0; i < b->nvic.depth; i++) {
		unsigned exc = b->nvic.active_stack[i];

		if (cpu_group_priority(b, cpu_exception_priority(b, exc)) <= prio)
			return exc;
	}
	return b->nvic.depth ? b->nvic.active_stack[b->nvic.depth - 1] : 0;
}

void rom_usb_judge(const struct board *b, struct rom_usb_verdict *v)
{
	uint32_t primask = 0, faultmask = 0, basepri = 0;
	int prio;

	v->clock = rom_usb_clock(&b->cfg, v->clock_why, sizeof(v->clock_why));
	if (v->clock)
		v->clock_why[0] = '\0';
	v->irq_priority = b->cfg.rom_usb_irq_priority;
	v->execution_priority = cpu_execution_priority(b);
	prio = cpu_group_priority(b, v->irq_priority);
	v->irq = prio < v->execution_priority;
	v->irq_why[0] = '\0';
	if (v->irq)
		return;
	uc_reg_read(b->uc, UC_ARM_REG_PRIMASK, &primask);
	uc_reg_read(b->uc, UC_ARM_REG_FAULTMASK, &faultmask);
	uc_reg_read(b->uc, UC_ARM_REG_BASEPRI, &basepri);
	basepri &= 0xFFu;
	if (faultmask & 1u) {
		snprintf(v->irq_why, sizeof(v->irq_why), "the ROM was entered with FAULTMASK set (interrupts disabled)");
	} else if (primask & 1u) {
		snprintf(v->irq_why, sizeof(v->irq_why), "the ROM was entered with PRIMASK set (interrupts disabled)");
	} else if (basepri && cpu_group_priority(b, (int)basepri) <= prio) {
		snprintf(v->irq_why, sizeof(v->irq_why),
			 "the ROM was entered with BASEPRI = 0x%02X, which masks its USB interrupt (priority 0x%02X)",
			 basepri, v->irq_priority);
	} else {
		unsigned exc = blocking_exception(b, prio);
		int p = cpu_exception_priority(b, exc);
		char what[48];

		if (exc >= EXC_IRQ0)
			snprintf(what, sizeof(what), "IRQ %u, priority 0x%02X", exc - EXC_IRQ0, (unsigned)p);
		else
			snprintf(what, sizeof(what), "exception %u, priority %d", exc, p);
		snprintf(v->irq_why, sizeof(v->irq_why),
			 "the ROM was entered from an exception handler (%s), which its USB interrupt (priority 0x%02X) cannot preempt",
			 what, v->irq_priority);
	}
}
