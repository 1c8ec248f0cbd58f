/*
 * rcc.c - reset and clock control (RM0351 6) and power control (RM0351 5).
 *
 * The boot path depends on a handful of RCC behaviours that firmware gets
 * wrong: peripheral clocks gate register access (a SYSCFG write with
 * SYSCFGEN clear is lost), oscillators only become ready when fitted, the
 * system clock switch waits for its source, the reset flags in RCC_CSR
 * accumulate until RMVF, and the backup domain (BDCR, RTC) only accepts
 * writes once PWR_CR1.DBP is set. The core asks this file for HCLK to turn
 * instructions into time.
 */
#include <string.h>

#include "board.h"

#define HSI16_HZ  16000000u
#define LSE_STARTUP SIM_MS(200)   /* DS10198 tSU(LSE) depends on drive level; typical order */
#define RCC_CFGR_PPRE1_Pos 8u
#define RCC_CFGR_PPRE2_Pos 11u

static const uint32_t msi_range_hz[12] = {
	100000u, 200000u, 400000u, 800000u, 1000000u, 2000000u,
	4000000u, 8000000u, 16000000u, 24000000u, 32000000u, 48000000u,
};

static uint32_t msi_hz(const struct board *b)
{
	const struct rcc_state *r = &b->rcc;
	unsigned range;

	/* MSIRGSEL picks CR.MSIRANGE; otherwise CSR.MSISRANGE applies (RM0351 6.4.1). */
	if (r->cr & RCC_CR_MSIRGSEL)
		range = (r->cr & RCC_CR_MSIRANGE) >> RCC_CR_MSIRANGE_Pos;
	else
		range = (r->csr >> RCC_CSR_MSISRANGE_Pos) & 0xFu;
	return range < 12 ? msi_range_hz[range] : 4000000u;
}

static uint32_t pll_input_hz(const struct board *b)
{
	switch (b->rcc.pllcfgr & RCC_PLLCFGR_PLLSRC) {
	case 1:
		return msi_hz(b);
	case 2:
		return HSI16_HZ;
	case 3:
		return b->cfg.hse_hz;
	default:
		return 0;
	}
}

static uint32_t pll_r_hz(const struct board *b)
{
	uint32_t c = b->rcc.pllcfgr;
	uint64_t in = pll_input_hz(b);
	uint32_t m = ((c & RCC_PLLCFGR_PLLM) >> RCC_PLLCFGR_PLLM_Pos) + 1u;
	uint32_t n = (c & RCC_PLLCFGR_PLLN) >> RCC_PLLCFGR_PLLN_Pos;
	uint32_t r = 2u * (((c & RCC_PLLCFGR_PLLR) >> RCC_PLLCFGR_PLLR_Pos) + 1u);

	return (uint32_t)(in * n / m / r);
}

uint32_t rcc_sysclk_hz(const struct board *b)
{
	switch ((b->rcc.cfgr & RCC_CFGR_SWS) >> RCC_CFGR_SWS_Pos) {
	case RCC_CFGR_SW_MSI:
		return msi_hz(b);
	case RCC_CFGR_SW_HSI16:
		return HSI16_HZ;
	case RCC_CFGR_SW_HSE:
		return b->cfg.hse_hz;
	default:
		return pll_r_hz(b);
	}
}

static uint32_t ahb_divider(uint32_t hpre)
{
	static const uint16_t div[8] = { 2, 4, 8, 16, 64, 128, 256, 512 };

	return (hpre & 8u) ? div[hpre & 7u] : 1u;
}

static uint32_t apb_divider(uint32_t ppre)
{
	return (ppre & 4u) ? (2u << (ppre & 3u)) : 1u;
}

uint32_t rcc_hclk_hz(const struct board *b)
{
	return rcc_sysclk_hz(b) / ahb_divider((b->rcc.cfgr & RCC_CFGR_HPRE) >> RCC_CFGR_HPRE_Pos);
}

uint32_t rcc_pclk1_hz(const struct board *b)
{
	return rcc_hclk_hz(b) / apb_divider((b->rcc.cfgr >> RCC_CFGR_PPRE1_Pos) & 7u);
}

uint32_t rcc_pclk2_hz(const struct board *b)
{
	return rcc_hclk_hz(b) / apb_divider((b->rcc.cfgr >> RCC_CFGR_PPRE2_Pos) & 7u);
}

static bool source_ready(const struct board *b, unsigned sw)
{
	const struct rcc_state *r = &b->rcc;

	switch (sw) {
	case RCC_CFGR_SW_MSI:
		return r->cr & RCC_CR_MSIRDY;
	case RCC_CFGR_SW_HSI16:
		return r->cr & RCC_CR_HSIRDY;
	case RCC_CFGR_SW_HSE:
		return r->cr & RCC_CR_HSERDY;
	default:
		return r->cr & RCC_CR_PLLRDY;
	}
}

/* Let SWS follow SW once the selected source is ready. */
static void update_switch(struct board *b)
{
	struct rcc_state *r = &b->rcc;
	unsigned sw = r->cfgr & RCC_CFGR_SW;
	unsigned sws = (r->cfgr & RCC_CFGR_SWS) >> RCC_CFGR_SWS_Pos;

	if (sw != sws && source_ready(b, sw)) {
		r->cfgr = (r->cfgr & ~RCC_CFGR_SWS) | (sw << RCC_CFGR_SWS_Pos);
		board_trace(b, SIM_TRACE_NOTE, b->last_pc, "system clock now %u Hz (source %u)",
			    rcc_sysclk_hz(b), sw);
	}
}

static void update_ready(struct board *b)
{
	struct rcc_state *r = &b->rcc;
	uint32_t cr = r->cr;

	cr = (cr & RCC_CR_MSION) ? (cr | RCC_CR_MSIRDY) : (cr & ~RCC_CR_MSIRDY);
	cr = (cr & RCC_CR_HSION) ? (cr | RCC_CR_HSIRDY) : (cr & ~RCC_CR_HSIRDY);
	/* HSE only becomes ready when the board has one (crystal or ST-LINK MCO). */
	cr = ((cr & RCC_CR_HSEON) && b->cfg.hse_hz) ? (cr | RCC_CR_HSERDY) : (cr & ~RCC_CR_HSERDY);
	r->cr = cr;
	/* The PLL locks when on and its input is running. */
	if ((cr & RCC_CR_PLLON) && pll_input_hz(b) &&
	    (((r->pllcfgr & RCC_PLLCFGR_PLLSRC) != 3) || (cr & RCC_CR_HSERDY)))
		r->cr |= RCC_CR_PLLRDY;
	else
		r->cr &= ~RCC_CR_PLLRDY;

	/* The source in use cannot be stopped (RM0351 6.4.1). */
	if (!source_ready(b, (r->cfgr & RCC_CFGR_SWS) >> RCC_CFGR_SWS_Pos)) {
		board_trace(b, SIM_TRACE_NOTE, b->last_pc,
			    "the clock source in use cannot be switched off: falling back to MSI");
		r->cr |= RCC_CR_MSION | RCC_CR_MSIRDY;
		r->cfgr &= ~(RCC_CFGR_SW | RCC_CFGR_SWS);
	}
	update_switch(b);
}

static void lse_ready(struct board *b, void *arg)
{
	(void)arg;
	if ((b->rcc.bdcr & RCC_BDCR_LSEON) && b->cfg.lse)
		b->rcc.bdcr |= RCC_BDCR_LSERDY;
}

static uint32_t *rcc_reg(struct rcc_state *r, uint32_t off)
{
	switch (off) {
	case RCC_CR:
		return &r->cr;
	case RCC_ICSCR:
		return &r->icscr;
	case RCC_CFGR:
		return &r->cfgr;
	case RCC_PLLCFGR:
		return &r->pllcfgr;
	case RCC_CIER:
		return &r->cier;
	case RCC_CIFR:
		return &r->cifr;
	case RCC_AHB1ENR:
		return &r->ahb1enr;
	case RCC_AHB2ENR:
		return &r->ahb2enr;
	case RCC_AHB2ENR + 4:
		return &r->ahb3enr;
	case RCC_APB1ENR1:
		return &r->apb1enr1;
	case RCC_APB1ENR2:
		return &r->apb1enr2;
	case RCC_APB2ENR:
		return &r->apb2enr;
	case RCC_CCIPR:
		return &r->ccipr;
	case RCC_BDCR:
		return &r->bdcr;
	case RCC_CSR:
		return &r->csr;
	default:
		return off / 4u < 64u ? &r->other[off / 4u] : NULL;
	}
}

static uint32_t rcc_read(struct board *b, void *state, uint32_t off, unsigned size)
{
	uint32_t *reg = rcc_reg(&b->rcc, off & ~3u);

	(void)state;
	(void)size;
	return reg ? *reg >> (8 * (off & 3u)) : 0;
}

static void rcc_write(struct board *b, void *state, uint32_t off, unsigned size, uint32_t val)
{
	struct rcc_state *r = &b->rcc;
	uint32_t old_hclk = rcc_hclk_hz(b);
	uint32_t *reg;

	(void)state;
	if (size != 4) {
		uint32_t shift = 8u * (off & 3u), mask = (size == 1 ? 0xFFu : 0xFFFFu) << shift;

		off &= ~3u;
		reg = rcc_reg(r, off);
		if (!reg)
			return;
		val = (*reg & ~mask) | ((val << shift) & mask);
	}
	reg = rcc_reg(r, off);
	if (!reg)
		return;

	switch (off) {
	case RCC_CR:
		r->cr = (val & ~(RCC_CR_MSIRDY | RCC_CR_HSIRDY | RCC_CR_HSERDY | RCC_CR_PLLRDY)) |
			(r->cr & (RCC_CR_MSIRDY | RCC_CR_HSIRDY | RCC_CR_HSERDY | RCC_CR_PLLRDY));
		if ((val & RCC_CR_HSEON) && !b->cfg.hse_hz)
			board_trace(b, SIM_TRACE_NOTE, b->last_pc,
				    "HSE switched on but the board has no HSE: HSERDY never sets");
		update_ready(b);
		break;
	case RCC_CFGR:
		r->cfgr = (val & ~RCC_CFGR_SWS) | (r->cfgr & RCC_CFGR_SWS);
		update_switch(b);
		break;
	case RCC_PLLCFGR:
		if (r->cr & RCC_CR_PLLON) {
			board_trace(b, SIM_TRACE_NOTE, b->last_pc,
				    "RCC_PLLCFGR write while the PLL is on is ignored (RM0351 6.4.4)");
			break;
		}
		r->pllcfgr = val;
		break;
	case RCC_BDCR:
		/* The backup domain is write protected until PWR_CR1.DBP (RM0351 5.1.6). */
		if (!(b->pwr.cr1 & PWR_CR1_DBP)) {
			board_trace(b, SIM_TRACE_LOST_WRITE, b->last_pc,
				    "write of 0x%08x to RCC_BDCR lost: backup domain write protected (PWR_CR1.DBP clear)",
				    val);
			break;
		}
		if (val & RCC_BDCR_BDRST) {
			memset(b->rtc.bkp, 0, sizeof(b->rtc.bkp));
			r->bdcr = RCC_BDCR_BDRST;
			break;
		}
		r->bdcr = (val & ~RCC_BDCR_LSERDY) | (r->bdcr & RCC_BDCR_LSERDY);
		if (!(val & RCC_BDCR_LSEON)) {
			r->bdcr &= ~RCC_BDCR_LSERDY;
		} else if (!(r->bdcr & RCC_BDCR_LSERDY) && !r->lse_ready.armed) {
			if (b->cfg.lse)
				sim_event_schedule(b, &r->lse_ready, LSE_STARTUP);
			else
				board_trace(b, SIM_TRACE_NOTE, b->last_pc,
					    "LSE switched on but the board has no 32.768 kHz crystal: LSERDY never sets");
		}
		break;
	case RCC_CSR:
		if (val & RCC_CSR_RMVF)
			r->csr &= ~RCC_CSR_RSTF_ALL;
		r->csr = (r->csr & (RCC_CSR_RSTF_ALL | RCC_CSR_LSIRDY)) |
			 (val & ~(RCC_CSR_RSTF_ALL | RCC_CSR_RMVF | RCC_CSR_LSIRDY));
		if (r->csr & RCC_CSR_LSION)
			r->csr |= RCC_CSR_LSIRDY;
		else if (!b->iwdg.running)
			r->csr &= ~RCC_CSR_LSIRDY;
		break;
	case RCC_CIFR:
		break;
	case RCC_CICR:
		r->cifr &= ~val;
		break;
	default:
		*reg = val;
		break;
	}
	if (rcc_hclk_hz(b) != old_hclk)
		board_clock_changed(b);
}

void rcc_reset(struct board *b, enum reset_kind kind, enum sim_reset_cause cause)
{
	struct rcc_state *r = &b->rcc;
	uint32_t flags = r->csr & RCC_CSR_RSTF_ALL;
	uint32_t bdcr = r->bdcr;

	sim_event_cancel(b, &r->lse_ready);
	memset(r, 0, offsetof(struct rcc_state, lse_ready));
	/* Reset values, RM0351 6.4: MSI on at 4 MHz (range 6), SW = MSI. */
	r->cr = RCC_CR_MSION | RCC_CR_MSIRDY | (6u << RCC_CR_MSIRANGE_Pos);
	r->pllcfgr = 0x00001000u;
	r->ahb1enr = RCC_AHB1ENR_FLASHEN;
	r->csr = 6u << RCC_CSR_MSISRANGE_Pos;

	/*
	 * Reset flags (RM0351 6.4.29): every reset also drives NRST, so the
	 * internal causes set PINRSTF with their own flag; a power-on reset
	 * sets BORRSTF.
	 */
	switch (cause) {
	case SIM_RESET_POWER_ON:
		flags = RCC_CSR_BORRSTF | RCC_CSR_PINRSTF;
		break;
	case SIM_RESET_PIN:
		flags |= RCC_CSR_PINRSTF;
		break;
	case SIM_RESET_SOFTWARE:
		flags |= RCC_CSR_SFTRSTF | RCC_CSR_PINRSTF;
		break;
	case SIM_RESET_IWDG:
		flags |= RCC_CSR_IWDGRSTF | RCC_CSR_PINRSTF;
		break;
	case SIM_RESET_OPTION_LOAD:
		flags |= RCC_CSR_OBLRSTF | RCC_CSR_PINRSTF;
		break;
	}
	r->csr |= flags;

	/* BDCR is in the backup domain: kept across system resets. */
	if (kind == RESET_POWER_ON && !b->cfg.vbat)
		bdcr = 0;
	r->bdcr = bdcr;
	if ((bdcr & RCC_BDCR_LSEON) && !b->cfg.lse)
		r->bdcr &= ~RCC_BDCR_LSERDY;
}

/* ---- PWR ----------------------------------------------------------------- */

static uint32_t pwr_read(struct board *b, void *state, uint32_t off, unsigned size)
{
	(void)state;
	(void)size;
	switch (off & ~3u) {
	case 0x00:
		return b->pwr.cr1;
	case 0x04:
		return b->pwr.cr2;
	case 0x08:
		return b->pwr.cr3;
	case 0x0C:
		return b->pwr.cr4;
	case 0x14:
		return 0;   /* SR2: regulator ready, VOSF clear */
	default:
		return 0;
	}
}

static void pwr_write(struct board *b, void *state, uint32_t off, unsigned size, uint32_t val)
{
	(void)state;
	(void)size;
	switch (off & ~3u) {
	case 0x00:
		b->pwr.cr1 = val;
		break;
	case 0x04:
		b->pwr.cr2 = val;
		break;
	case 0x08:
		b->pwr.cr3 = val;
		break;
	case 0x0C:
		b->pwr.cr4 = val;
		break;
	case 0x18:
		b->pwr.scr = val;
		break;
	}
}

void pwr_reset(struct board *b, enum reset_kind kind)
{
	(void)kind;
	memset(&b->pwr, 0, sizeof(b->pwr));
	b->pwr.cr1 = 0x00000200u;          /* VOS = range 1 */
	b->pwr.cr3 = 0x00008000u;          /* EIWUL */
}

void rcc_register(struct board *b)
{
	struct periph rcc = {
		.name = "RCC", .base = RCC_BASE, .size = 0x400,
		.read = rcc_read, .write = rcc_write,
	};
	struct periph pwr = {
		.name = "PWR", .base = PWR_BASE, .size = 0x400,
		.read = pwr_read, .write = pwr_write,
		.enr = RCC_APB1ENR1, .enbit = RCC_APB1ENR1_PWREN,
	};

	board_add_periph(b, &rcc);
	board_add_periph(b, &pwr);
	sim_event_init(&b->rcc.lse_ready, "LSE ready", lse_ready, NULL);
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
