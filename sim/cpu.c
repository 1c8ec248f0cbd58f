/*
 * cpu.c - the parts of the Cortex-M4 that Unicorn leaves out: NVIC, SysTick,
 * SCB, and exception entry and return.
 *
 * Unicorn executes instructions but has no interrupt controller and its
 * EXC_RETURN handling does not work on the M4 model, so the emulator does
 * what the ARMv7-M architecture says (ARMv7-M ARM B1.5: exception model;
 * B3.2: SCB; B3.3: SysTick; B3.4: NVIC; PM0214 for the M4 specifics):
 * exceptions are taken between two instructions by pushing the basic stack
 * frame and loading the vector from VTOR; a branch to EXC_RETURN surfaces
 * from Unicorn as a failed fetch at 0xFFFFFFFx, which run.c hands to
 * cpu_exception_return() to unstack the frame.
 */
#include <string.h>

#include "board.h"

#define PRIO_BITS      4u          /* STM32L4: 16 priority levels (RM0351 11.3) */
#define PRIO_MASK      ((uint8_t)(0xFFu << (8u - PRIO_BITS)))
#define EXC_RETURN_HANDLER   0xFFFFFFF1u
#define EXC_RETURN_THREAD_MSP 0xFFFFFFF9u
#define EXC_RETURN_THREAD_PSP 0xFFFFFFFDu
#define XPSR_STKALIGN  (1u << 9)

/* ---- Priorities ----------------------------------------------------------- */

int cpu_exception_priority(const struct board *b, unsigned exc)
{
	switch (exc) {
	case EXC_RESET:
		return -3;
	case EXC_NMI:
		return -2;
	case EXC_HARDFAULT:
		return -1;
	default:
		return b->nvic.priority[exc];
	}
}

/* The group priority: PRIGROUP splits priority into group and subpriority. */
int cpu_group_priority(const struct board *b, int prio)
{
	unsigned prigroup = (b->nvic.aircr >> 8) & 7u;
	uint8_t mask = (uint8_t)(0xFFu << (prigroup + 1u));

	if (prio < 0)
		return prio;
	return prio & mask;
}

int cpu_execution_priority(const struct board *b)
{
	int prio = 256;
	uint32_t primask = 0, basepri = 0, faultmask = 0;
	unsigned i;

	for (i = 0; i < b->nvic.depth; i++) {
		int p = cpu_group_priority(b, cpu_exception_priority(b, b->nvic.active_stack[i]));

		if (p < prio)
			prio = p;
	}
	uc_reg_read(b->uc, UC_ARM_REG_PRIMASK, &primask);
	uc_reg_read(b->uc, UC_ARM_REG_BASEPRI, &basepri);
	uc_reg_read(b->uc, UC_ARM_REG_FAULTMASK, &faultmask);
	if ((basepri & 0xFFu) && cpu_group_priority(b, (int)(basepri & 0xFFu)) < prio)
		prio = cpu_group_priority(b, (int)(basepri & 0xFFu));
	if ((primask & 1u) && prio > 0)
		prio = 0;
	if ((faultmask & 1u) && prio > -1)
		prio = -1;
	return prio;
}

static bool exc_enabled(const struct board *b, unsigned exc)
{
	if (exc >= EXC_IRQ0)
		return b->nvic.enabled[exc];
	return true;
}

/* ---- Entry and return ------------------------------------------------------ */

static void write_word(struct board *b, uint32_t addr, uint32_t v)
{
	uc_mem_write(b->uc, addr, &v, 4);
}

static uint32_t read_word(struct board *b, uint32_t addr)
{
	uint32_t v = 0;

	uc_mem_read(b->uc, addr, &v, 4);
	return v;
}

static void take_exception(struct board *b, unsigned exc, uint32_t return_pc)
{
	static const int frame_regs[5] = {
		UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3, UC_ARM_REG_R12,
	};
	uint32_t control = 0, sp, xpsr = 0, lr = 0, vector, exc_return, frame;
	bool on_psp, handler_mode = b->nvic.depth > 0;
	unsigned i;

	uc_reg_read(b->uc, UC_ARM_REG_CONTROL, &control);
	on_psp = !handler_mode && (control & 2u);
	uc_reg_read(b->uc, on_psp ? UC_ARM_REG_PSP : UC_ARM_REG_MSP, &sp);
	uc_reg_read(b->uc, UC_ARM_REG_XPSR, &xpsr);
	uc_reg_read(b->uc, UC_ARM_REG_LR, &lr);

	/* B1.5.7: the frame is 8-byte aligned; xPSR bit 9 records the padding. */
	frame = (sp - 32u) & ~7u;
	xpsr &= ~XPSR_STKALIGN;
	if ((sp - 32u) & 4u)
		xpsr |= XPSR_STKALIGN;
	xpsr = (xpsr & ~0x1FFu) | (handler_mode ? b->nvic.active_stack[b->nvic.depth - 1] : 0u);
	for (i = 0; i < 5; i++) {
		uint32_t v = 0;

		uc_reg_read(b->uc, frame_regs[i], &v);
		write_word(b, frame + 4u * i, v);
	}
	write_word(b, frame + 20, lr);
	write_word(b, frame + 24, return_pc & ~1u);
	write_word(b, frame + 28, xpsr | (1u << 24));

	if (on_psp) {
		uc_reg_write(b->uc, UC_ARM_REG_PSP, &frame);
		control &= ~2u;              /* handlers run on MSP */
		uc_reg_write(b->uc, UC_ARM_REG_CONTROL, &control);
		exc_return = EXC_RETURN_THREAD_PSP;
	} else {
		uc_reg_write(b->uc, UC_ARM_REG_MSP, &frame);
		uc_reg_write(b->uc, UC_ARM_REG_SP, &frame);
		exc_return = handler_mode ? EXC_RETURN_HANDLER : EXC_RETURN_THREAD_MSP;
	}

	b->nvic.pending[exc] = 0;
	b->nvic.active[exc] = 1;
	b->nvic.active_stack[b->nvic.depth++] = exc;
	vector = read_word(b, (b->nvic.vtor & ~0x7Fu) + 4u * exc);
	{
		uint32_t ipsr = exc;

		uc_reg_write(b->uc, UC_ARM_REG_IPSR, &ipsr);
	}
	uc_reg_write(b->uc, UC_ARM_REG_LR, &exc_return);
	if ((vector & 1u) == 0) {
		board_fault(b, return_pc,
			    "exception %u: vector 0x%08x at 0x%08x is even or missing (VTOR = 0x%08x); the vector table is not where VTOR says",
			    exc, vector, (b->nvic.vtor & ~0x7Fu) + 4u * exc, b->nvic.vtor);
		return;
	}
	uc_reg_write(b->uc, UC_ARM_REG_PC, &vector);
}

void cpu_check_exceptions(struct board *b, uint32_t return_pc)
{
	int best_prio = 1000, exec_prio;
	unsigned i, best = 0;
	bool any_pending = false;

	for (i = 2; i < NVIC_EXC_COUNT; i++) {
		int p;

		if (!b->nvic.pending[i] || b->nvic.active[i] || !exc_enabled(b, i))
			continue;
		any_pending = true;
		p = cpu_exception_priority(b, i);
		/* Same priority: the lower exception number wins (B1.5.4). */
		if (p < best_prio) {
			best_prio = p;
			best = i;
		}
	}
	if (!any_pending) {
		b->nvic.check = false;
		return;
	}
	exec_prio = cpu_execution_priority(b);
	if (cpu_group_priority(b, best_prio) < exec_prio) {
		take_exception(b, best, return_pc);
		return;
	}
	/* Masked: keep looking each instruction until PRIMASK/BASEPRI allow it. */
	b->nvic.check = true;
}

bool cpu_exception_return(struct board *b, uint32_t exc_return)
{
	static const int frame_regs[5] = {
		UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3, UC_ARM_REG_R12,
	};
	uint32_t sp, frame, xpsr, pc, lr, control = 0, ipsr, apsr;
	bool to_psp = exc_return == EXC_RETURN_THREAD_PSP;
	unsigned exc, i;

	if (b->nvic.depth == 0)
		return false;
	if (exc_return != EXC_RETURN_HANDLER && exc_return != EXC_RETURN_THREAD_MSP &&
	    exc_return != EXC_RETURN_THREAD_PSP) {
		board_fault(b, b->last_pc,
			    "exception return with unsupported EXC_RETURN 0x%08x (floating-point frames are not modelled)",
			    exc_return);
		return true;
	}
	exc = b->nvic.active_stack[--b->nvic.depth];
	b->nvic.active[exc] = 0;
	/* A level-sensitive line still asserted pends its IRQ again. */
	if (exc >= EXC_IRQ0 && b->nvic.level[exc])
		b->nvic.pending[exc] = 1;

	if (to_psp) {
		uc_reg_read(b->uc, UC_ARM_REG_CONTROL, &control);
		control |= 2u;
		uc_reg_write(b->uc, UC_ARM_REG_CONTROL, &control);
		uc_reg_read(b->uc, UC_ARM_REG_PSP, &frame);
	} else {
		uc_reg_read(b->uc, UC_ARM_REG_MSP, &frame);
	}
	for (i = 0; i < 5; i++) {
		uint32_t v = read_word(b, frame + 4u * i);

		uc_reg_write(b->uc, frame_regs[i], &v);
	}
	lr = read_word(b, frame + 20);
	pc = read_word(b, frame + 24);
	xpsr = read_word(b, frame + 28);
	sp = frame + 32u + ((xpsr & XPSR_STKALIGN) ? 4u : 0u);
	if (to_psp) {
		uc_reg_write(b->uc, UC_ARM_REG_PSP, &sp);
		uc_reg_write(b->uc, UC_ARM_REG_SP, &sp);
	} else {
		uc_reg_write(b->uc, UC_ARM_REG_MSP, &sp);
		uc_reg_write(b->uc, UC_ARM_REG_SP, &sp);
	}
	uc_reg_write(b->uc, UC_ARM_REG_LR, &lr);
	apsr = xpsr & 0xF80F0000u;
	uc_reg_write(b->uc, UC_ARM_REG_APSR, &apsr);
	ipsr = b->nvic.depth ? b->nvic.active_stack[b->nvic.depth - 1] : 0u;
	uc_reg_write(b->uc, UC_ARM_REG_IPSR, &ipsr);
	pc |= 1u;
	uc_reg_write(b->uc, UC_ARM_REG_PC, &pc);
	b->nvic.check = true;
	return true;
}

bool cpu_take_svc(struct board *b)
{
	uint32_t pc = 0;

	/* SVC is synchronous: it must be taken now, or it escalates (B1.5.12). */
	uc_reg_read(b->uc, UC_ARM_REG_PC, &pc);
	if (cpu_group_priority(b, cpu_exception_priority(b, EXC_SVCALL)) >= cpu_execution_priority(b))
		return false;
	take_exception(b, EXC_SVCALL, pc);
	return true;
}

void nvic_set_pending(struct board *b, unsigned exc)
{
	if (exc >= NVIC_EXC_COUNT)
		return;
	b->nvic.pending[exc] = 1;
	b->nvic.check = true;
}

void nvic_set_irq_level(struct board *b, unsigned irq, bool level)
{
	unsigned exc = EXC_IRQ0 + irq;

	if (exc >= NVIC_EXC_COUNT)
		return;
	b->nvic.level[exc] = level;
	if (level && !b->nvic.active[exc])
		nvic_set_pending(b, exc);
}

/* ---- SysTick (ARMv7-M B3.3) ----------------------------------------------- */

static uint32_t systick_hz(const struct board *b)
{
	/* CLKSOURCE = 0: the STM32 feeds HCLK/8 (RM0351 6.2, figure 15). */
	return (b->systick.csr & SYST_CSR_CLKSOURCE) ? rcc_hclk_hz(b) : rcc_hclk_hz(b) / 8u;
}

static uint64_t systick_elapsed_ticks(const struct board *b)
{
	uint64_t hz = systick_hz(b);

	return (b->now - b->systick.period_start) * hz / 1000000000000ull;
}

static uint32_t systick_cvr(const struct board *b)
{
	uint64_t t;

	if (!(b->systick.csr & SYST_CSR_ENABLE))
		return b->systick.loaded;
	t = systick_elapsed_ticks(b);
	if (t >= b->systick.loaded)
		return 0;
	return b->systick.loaded - (uint32_t)t;
}

static void systick_arm(struct board *b, uint32_t from)
{
	uint64_t hz = systick_hz(b);

	b->systick.period_start = b->now;
	b->systick.loaded = from;
	if (!(b->systick.csr & SYST_CSR_ENABLE) || !hz) {
		sim_event_cancel(b, &b->systick.wrap);
		return;
	}
	/* The counter reaches 0 after 'from' ticks, then reloads on the next. */
	sim_event_schedule(b, &b->systick.wrap,
			   ((uint64_t)from + 1u) * 1000000000000ull / hz);
}

static void systick_wrap(struct board *b, void *arg)
{
	(void)arg;
	b->systick.csr |= SYST_CSR_COUNTFLAG;
	if (b->systick.csr & SYST_CSR_TICKINT)
		nvic_set_pending(b, EXC_SYSTICK);
	if (b->systick.rvr == 0) {
		b->systick.loaded = 0;
		return;
	}
	systick_arm(b, b->systick.rvr);
}

void systick_clock_changed(struct board *b)
{
	if (b->systick.csr & SYST_CSR_ENABLE)
		systick_arm(b, systick_cvr(b));
}

/* ---- System control space register file ----------------------------------- */

/*
 * Priority bytes, one per exception (NVIC_IPRn from IRQ0, SCB_SHPRn from
 * exception 4): an access of size bytes from the byte of exception first;
 * exceptions from end on do not exist.
 */
static uint32_t priority_read(const struct board *b, unsigned first, unsigned size,
			      unsigned end)
{
	uint32_t v = 0;
	unsigned i;

	for (i = 0; i < size && i < 4 && first + i < end; i++)
		v |= (uint32_t)b->nvic.priority[first + i] << (8 * i);
	return v;
}

static void priority_write(struct board *b, unsigned first, unsigned size, unsigned end,
			   uint32_t val)
{
	unsigned i;

	for (i = 0; i < size && i < 4 && first + i < end; i++)
		b->nvic.priority[first + i] = (uint8_t)(val >> (8 * i)) & PRIO_MASK;
	b->nvic.check = true;
}

static uint32_t scs_read(struct board *b, void *state, uint32_t off, unsigned size)
{
	uint32_t addr = SCS_BASE + off, v = 0;
	unsigned i, n;

	(void)state;
	if (addr >= SYSTICK_BASE && addr < SYSTICK_BASE + 0x10) {
		switch (addr - SYSTICK_BASE) {
		case SYST_CSR:
			v = b->systick.csr;
			b->systick.csr &= ~SYST_CSR_COUNTFLAG;   /* cleared by reading */
			return v;
		case SYST_RVR:
			return b->systick.rvr;
		case SYST_CVR:
			return systick_cvr(b);
		case SYST_CALIB:
			return 0x40000000u | 9999u;   /* no reference clock; 1 ms at 80 MHz / 8 */
		}
		return 0;
	}
	if (addr >= NVIC_BASE && addr < NVIC_BASE + 0x400) {
		uint32_t r = addr - NVIC_BASE;

		if (r >= NVIC_IPR(0) && r < NVIC_IPR(0) + STM32_IRQ_COUNT + 3)
			return priority_read(b, EXC_IRQ0 + (r - NVIC_IPR(0)), size, NVIC_EXC_COUNT);
		if (r < 0x280) {
			unsigned word = (r & 0x7Fu) / 4u;

			for (i = 0; i < 32; i++) {
				n = EXC_IRQ0 + word * 32u + i;
				if (n >= NVIC_EXC_COUNT)
					break;
				switch (r & ~0x7Fu) {
				case 0x000:
				case 0x080:
					v |= (uint32_t)b->nvic.enabled[n] << i;
					break;
				case 0x100:
				case 0x180:
					v |= (uint32_t)b->nvic.pending[n] << i;
					break;
				case 0x200:
					v |= (uint32_t)b->nvic.active[n] << i;
					break;
				}
			}
			return v;
		}
		return 0;
	}
	if (addr >= SCB_BASE + SCB_SHPR(0) && addr < SCB_BASE + SCB_SHPR(3)) {
		/* System handler priorities, one byte per exception 4..15. */
		return priority_read(b, 4u + (addr - SCB_BASE - SCB_SHPR(0)), size, 16);
	}
	if (addr >= SCB_BASE && addr < SCB_BASE + 0x100) {
		switch (addr - SCB_BASE) {
		case SCB_CPUID:
			return CORTEX_M4_CPUID;
		case SCB_ICSR:
			v = b->nvic.depth ? b->nvic.active_stack[b->nvic.depth - 1] : 0u;
			if (b->nvic.pending[EXC_SYSTICK])
				v |= SCB_ICSR_PENDSTSET;
			if (b->nvic.pending[EXC_PENDSV])
				v |= SCB_ICSR_PENDSVSET;
			return v;
		case SCB_VTOR:
			return b->nvic.vtor;
		case SCB_AIRCR:
			return (0xFA05u << 16) | (b->nvic.aircr & 0x700u);
		case SCB_SCR:
			return b->nvic.scr;
		case SCB_CCR:
			return b->nvic.ccr;
		case SCB_SHCSR:
			return b->nvic.shcsr;
		case SCB_CFSR:
			return b->nvic.cfsr;
		case SCB_HFSR:
			return b->nvic.hfsr;
		case SCB_CPACR:
			return b->nvic.cpacr;
		}
		return 0;
	}
	if (addr == 0xE000E004u)   /* ICTR: 3 x 32 interrupt lines */
		return 2;
	return 0;
}

static void scs_write(struct board *b, void *state, uint32_t off, unsigned size, uint32_t val)
{
	uint32_t addr = SCS_BASE + off;
	unsigned i, n;

	(void)state;
	if (addr >= SYSTICK_BASE && addr < SYSTICK_BASE + 0x10) {
		switch (addr - SYSTICK_BASE) {
		case SYST_CSR: {
			uint32_t cvr = systick_cvr(b);
			bool was_on = b->systick.csr & SYST_CSR_ENABLE;

			b->systick.csr = (b->systick.csr & SYST_CSR_COUNTFLAG) | (val & 7u);
			if (!(val & SYST_CSR_ENABLE)) {
				b->systick.loaded = cvr;
				sim_event_cancel(b, &b->systick.wrap);
			} else {
				systick_arm(b, was_on ? cvr : b->systick.loaded);
			}
			break;
		}
		case SYST_RVR:
			b->systick.rvr = val & 0x00FFFFFFu;
			break;
		case SYST_CVR:
			/* Any write clears the counter and COUNTFLAG (B3.3.3). */
			b->systick.csr &= ~SYST_CSR_COUNTFLAG;
			systick_arm(b, 0);
			break;
		}
		return;
	}
	if (addr >= NVIC_BASE && addr < NVIC_BASE + 0x400) {
		uint32_t r = addr - NVIC_BASE;

		if (r >= NVIC_IPR(0) && r < NVIC_IPR(0) + STM32_IRQ_COUNT + 3) {
			priority_write(b, EXC_IRQ0 + (r - NVIC_IPR(0)), size, NVIC_EXC_COUNT, val);
			return;
		}
		if (r < 0x200) {
			unsigned word = (r & 0x7Fu) / 4u;

			for (i = 0; i < 32; i++) {
				n = EXC_IRQ0 + word * 32u + i;
				if (n >= NVIC_EXC_COUNT)
					break;
				if (!(val & (1u << i)))
					continue;
				switch (r & ~0x7Fu) {
				case 0x000:
					b->nvic.enabled[n] = 1;
					break;
				case 0x080:
					b->nvic.enabled[n] = 0;
					break;
				case 0x100:
					b->nvic.pending[n] = 1;
					break;
				case 0x180:
					/*
					 * A level-sensitive line still asserted
					 * keeps its interrupt pending (PM0214,
					 * NVIC: hardware and software control
					 * of interrupts).
					 */
					if (!b->nvic.level[n])
						b->nvic.pending[n] = 0;
					break;
				}
			}
			b->nvic.check = true;
		}
		return;
	}
	if (addr >= SCB_BASE + SCB_SHPR(0) && addr < SCB_BASE + SCB_SHPR(3)) {
		priority_write(b, 4u + (addr - SCB_BASE - SCB_SHPR(0)), size, 16, val);
		return;
	}
	if (addr >= SCB_BASE && addr < SCB_BASE + 0x100) {
		switch (addr - SCB_BASE) {
		case SCB_ICSR:
			if (val & SCB_ICSR_PENDSTSET)
				nvic_set_pending(b, EXC_SYSTICK);
			if (val & SCB_ICSR_PENDSTCLR)
				b->nvic.pending[EXC_SYSTICK] = 0;
			if (val & SCB_ICSR_PENDSVSET)
				nvic_set_pending(b, EXC_PENDSV);
			if (val & SCB_ICSR_PENDSVCLR)
				b->nvic.pending[EXC_PENDSV] = 0;
			break;
		case SCB_VTOR:
			b->nvic.vtor = val & 0xFFFFFF80u;
			break;
		case SCB_AIRCR:
			if ((val >> 16) != 0x05FAu) {
				board_trace(b, SIM_TRACE_NOTE, b->last_pc,
					    "write 0x%08x to SCB_AIRCR ignored: VECTKEY must be 0x05FA", val);
				break;
			}
			b->nvic.aircr = val & 0x700u;
			if (val & SCB_AIRCR_SYSRESETREQ)
				board_request_reset(b, SIM_RESET_SOFTWARE);
			break;
		case SCB_SCR:
			b->nvic.scr = val & 0x16u;
			break;
		case SCB_CCR:
			b->nvic.ccr = val & 0x31Bu;
			break;
		case SCB_SHCSR:
			b->nvic.shcsr = val;
			break;
		case SCB_CFSR:
			b->nvic.cfsr &= ~val;
			break;
		case SCB_HFSR:
			b->nvic.hfsr &= ~val;
			break;
		case SCB_CPACR:
			b->nvic.cpacr = val;
			break;
		}
		return;
	}
	if (addr == 0xE000EF00u) {   /* STIR: software trigger */
		if ((val & 0x1FFu) < STM32_IRQ_COUNT)
			nvic_set_pending(b, EXC_IRQ0 + (val & 0x1FFu));
	}
}

/* DWT (ARMv7-M C1.8): CYCCNT is what delay loops in vendor HALs read. */
static uint32_t dwt_read(struct board *b, void *state, uint32_t off, unsigned size)
{
	(void)state;
	(void)size;
	if (off == 0x004)
		return (uint32_t)b->cycles;
	if (off == 0x000)
		return 0x40000000u;  /* NUMCOMP = 4 */
	return 0;
}

static void dwt_write(struct board *b, void *state, uint32_t off, unsigned size, uint32_t val)
{
	(void)state;
	(void)size;
	if (off == 0x004)
		b->cycles = val;
}

void cpu_register(struct board *b)
{
	struct periph scs = {
		.name = "SCS", .base = SCS_BASE, .size = 0x1000,
		.read = scs_read, .write = scs_write,
	};
	struct periph dwt = {
		.name = "DWT", .base = 0xE0001000u, .size = 0x1000,
		.read = dwt_read, .write = dwt_write,
	};

	board_add_periph(b, &scs);
	board_add_periph(b, &dwt);
	sim_event_init(&b->systick.wrap, "SysTick", systick_wrap, NULL);
}

void cpu_reset(struct board *b)
{
	sim_event_cancel(b, &b->systick.wrap);
	memset(&b->systick, 0, offsetof(struct systick_state, wrap));
	memset(&b->nvic, 0, sizeof(b->nvic));
	b->nvic.ccr = 0x200u;              /* STKALIGN set at reset on the M4 */
	b->nvic.aircr = 0;
}
