/*
 * periph.c - the small peripherals on the boot path: SYSCFG (memory remap),
 * RTC backup registers, the CRC unit, GPIO A-C (LD2, B1), the independent
 * watchdog and DBGMCU.
 *
 * Each is modelled only as far as firmware entering the bootloader or
 * checking an image touches it, but that far exactly as RM0351 says: the
 * remap takes effect at the next fetch, backup registers survive a system
 * reset but not a power cut, the CRC unit honours REV_IN/REV_OUT/POLYSIZE,
 * and the watchdog resets the board when nobody refreshes it.
 */
#include <string.h>

#include "board.h"

/* ---- SYSCFG (RM0351 9.2) ---------------------------------------------------- */

static uint32_t syscfg_read(struct board *b, void *state, uint32_t off, unsigned size)
{
	(void)state;
	(void)size;
	switch (off & ~3u) {
	case SYSCFG_MEMRMP:
		return b->syscfg.memrmp;
	case SYSCFG_CFGR1:
		return b->syscfg.cfgr1;
	}
	return 0;
}

static void syscfg_write(struct board *b, void *state, uint32_t off, unsigned size, uint32_t val)
{
	(void)state;
	(void)size;
	switch (off & ~3u) {
	case SYSCFG_MEMRMP:
		b->syscfg.memrmp = val & (SYSCFG_MEMRMP_MEM_MODE | SYSCFG_MEMRMP_FB_MODE);
		board_set_memory_mode(b, val & SYSCFG_MEMRMP_MEM_MODE,
				      (val & SYSCFG_MEMRMP_FB_MODE) != 0);
		break;
	case SYSCFG_CFGR1:
		b->syscfg.cfgr1 = val;
		break;
	}
}

/* ---- RTC backup registers (RM0351 38.3.15) --------------------------------- */

static uint32_t rtc_read(struct board *b, void *state, uint32_t off, unsigned size)
{
	(void)state;
	(void)size;
	off &= ~3u;
	if (off >= RTC_BKP0R && off < RTC_BKPR(RTC_BKP_COUNT))
		return b->rtc.bkp[(off - RTC_BKP0R) / 4u];
	return 0;
}

static void rtc_write(struct board *b, void *state, uint32_t off, unsigned size, uint32_t val)
{
	(void)state;
	(void)size;
	off &= ~3u;
	if (!(b->pwr.cr1 & PWR_CR1_DBP)) {
		board_trace(b, SIM_TRACE_LOST_WRITE, b->last_pc,
			    "write of 0x%08x to RTC+0x%02x lost: backup domain write protected (PWR_CR1.DBP clear)",
			    val, off);
		return;
	}
	if (off >= RTC_BKP0R && off < RTC_BKPR(RTC_BKP_COUNT))
		b->rtc.bkp[(off - RTC_BKP0R) / 4u] = val;
}

/* ---- CRC unit (RM0351 14) ----------------------------------------------------- */

static uint32_t reflect(uint32_t v, unsigned bits)
{
	uint32_t r = 0;
	unsigned i;

	for (i = 0; i < bits; i++)
		if (v & (1u << i))
			r |= 1u << (bits - 1u - i);
	return r;
}

static unsigned crc_poly_bits(const struct crc_state *c)
{
	static const unsigned bits[4] = { 32, 16, 8, 7 };

	return bits[(c->cr & CRC_CR_POLYSIZE) >> CRC_CR_POLYSIZE_Pos];
}

static void crc_feed(struct crc_state *c, uint32_t data, unsigned size)
{
	unsigned width = crc_poly_bits(c), nbits = 8u * size, i;
	unsigned rev_in = (c->cr & CRC_CR_REV_IN) >> CRC_CR_REV_IN_Pos;
	uint32_t top = 1u << (width - 1u);
	uint32_t mask = width == 32 ? 0xFFFFFFFFu : (1u << width) - 1u;
	uint32_t crc = c->dr & mask;

	/* Input reversal: by byte, half-word or word (RM0351 14.3.2). */
	if (rev_in == 1) {
		uint32_t r = 0;

		for (i = 0; i < size; i++)
			r |= reflect((data >> (8 * i)) & 0xFFu, 8) << (8 * i);
		data = r;
	} else if (rev_in == 2) {
		data = size == 4 ? (reflect(data & 0xFFFFu, 16) | (reflect(data >> 16, 16) << 16))
				 : reflect(data, nbits);
	} else if (rev_in == 3) {
		data = reflect(data, nbits);
	}
	/* The unit processes the most significant bit first. */
	for (i = 0; i < nbits; i++) {
		uint32_t in = (data >> (nbits - 1u - i)) & 1u;
		uint32_t fb = ((crc & top) ? 1u : 0u) ^ in;

		crc = (crc << 1) & mask;
		if (fb)
			crc ^= c->pol & mask;
	}
	c->dr = crc;
}

static uint32_t crc_read(struct board *b, void *state, uint32_t off, unsigned size)
{
	struct crc_state *c = &b->crc;

	(void)state;
	(void)size;
	switch (off & ~3u) {
	case CRC_DR:
		if (c->cr & CRC_CR_REV_OUT)
			return reflect(c->dr, crc_poly_bits(c));
		return c->dr;
	case CRC_IDR:
		return c->idr;
	case CRC_CR:
		return c->cr;
	case CRC_INIT:
		return c->init;
	case CRC_POL:
		return c->pol;
	}
	return 0;
}

static void crc_write(struct board *b, void *state, uint32_t off, unsigned size, uint32_t val)
{
	struct crc_state *c = &b->crc;

	(void)state;
	switch (off) {
	case CRC_DR:
	case CRC_DR + 1:
	case CRC_DR + 2:
	case CRC_DR + 3:
		crc_feed(c, val, size);
		break;
	case CRC_IDR:
		c->idr = val & 0xFFu;
		break;
	case CRC_CR:
		c->cr = val & (CRC_CR_POLYSIZE | CRC_CR_REV_IN | CRC_CR_REV_OUT);
		if (val & CRC_CR_RESET)
			c->dr = c->init;
		break;
	case CRC_INIT:
		c->init = val;
		break;
	case CRC_POL:
		c->pol = val;
		break;
	}
}

/* ---- GPIO (RM0351 8) --------------------------------------------------------- */

static void gpio_update_led(struct board *b)
{
	struct gpio_state *a = &b->gpio[0];
	unsigned mode = (a->moder >> (2 * NUCLEO_LD2_PIN)) & 3u;
	bool on = mode == GPIO_MODE_OUTPUT && (a->odr & (1u << NUCLEO_LD2_PIN));

	if (on != b->led_on) {
		b->led_on = on;
		b->led_toggles++;
	}
}

void gpio_update_inputs(struct board *b)
{
	/* B1 pulls PC13 low when pressed; an external pull-up holds it high. */
	if (b->button_pressed)
		b->gpio[2].input &= ~(1u << NUCLEO_B1_PIN);
	else
		b->gpio[2].input |= 1u << NUCLEO_B1_PIN;
}

static uint32_t gpio_read(struct board *b, void *state, uint32_t off, unsigned size)
{
	struct gpio_state *g = state;
	uint32_t idr = 0;
	unsigned pin;

	(void)b;
	(void)size;
	switch (off & ~3u) {
	case GPIO_MODER:
		return g->moder;
	case GPIO_OTYPER:
		return g->otyper;
	case GPIO_OSPEEDR:
		return g->ospeedr;
	case GPIO_PUPDR:
		return g->pupdr;
	case GPIO_IDR:
		/* Outputs read back their level; inputs the external level or the pull. */
		for (pin = 0; pin < 16; pin++) {
			unsigned mode = (g->moder >> (2 * pin)) & 3u;
			unsigned pull = (g->pupdr >> (2 * pin)) & 3u;
			bool level;

			if (mode == GPIO_MODE_OUTPUT)
				level = g->odr & (1u << pin);
			else if (mode == GPIO_MODE_ANALOG)
				level = false;
			else if (g->input & (0x10000u << pin))
				level = g->input & (1u << pin);
			else
				level = pull == 1u;
			if (level)
				idr |= 1u << pin;
		}
		return idr;
	case GPIO_ODR:
		return g->odr;
	case GPIO_LCKR:
		return g->lckr;
	case GPIO_AFRL:
		return g->afrl;
	case GPIO_AFRH:
		return g->afrh;
	case GPIO_ASCR:
		return g->ascr;
	}
	return 0;
}

static void gpio_write(struct board *b, void *state, uint32_t off, unsigned size, uint32_t val)
{
	struct gpio_state *g = state;

	(void)size;
	switch (off & ~3u) {
	case GPIO_MODER:
		g->moder = val;
		break;
	case GPIO_OTYPER:
		g->otyper = val;
		break;
	case GPIO_OSPEEDR:
		g->ospeedr = val;
		break;
	case GPIO_PUPDR:
		g->pupdr = val;
		break;
	case GPIO_ODR:
		g->odr = val & 0xFFFFu;
		break;
	case GPIO_BSRR:
		g->odr = (g->odr | (val & 0xFFFFu)) & ~(val >> 16);
		break;
	case GPIO_BRR:
		g->odr &= ~(val & 0xFFFFu);
		break;
	case GPIO_LCKR:
		g->lckr = val;
		break;
	case GPIO_AFRL:
		g->afrl = val;
		break;
	case GPIO_AFRH:
		g->afrh = val;
		break;
	case GPIO_ASCR:
		g->ascr = val;
		break;
	}
	if (g == &b->gpio[0])
		gpio_update_led(b);
}

/* ---- Independent watchdog (RM0351 32) ------------------------------------- */

sim_time_t iwdg_period(const struct board *b)
{
	uint32_t div = 4u << (b->iwdg.pr > 6 ? 6 : b->iwdg.pr);

	/* Timeout = (RLR + 1) * prescaler / LSI (RM0351 32.3.3). */
	return ((sim_time_t)(b->iwdg.rlr + 1u) * div * 1000000000000ull) / STM32_LSI_HZ;
}

sim_time_t iwdg_remaining(const struct board *b)
{
	/* The reset is the timeout event the last reload scheduled. */
	if (!b->iwdg.running || !b->iwdg.timeout.armed)
		return 0;
	return b->iwdg.timeout.when > b->now ? b->iwdg.timeout.when - b->now : 0;
}

void iwdg_refresh(struct board *b)
{
	b->iwdg.reloaded_at = b->now;
	if (b->iwdg.running)
		sim_event_schedule(b, &b->iwdg.timeout, iwdg_period(b));
}

void iwdg_start(struct board *b)
{
	if (!b->iwdg.running)
		board_trace(b, SIM_TRACE_WATCHDOG, b->last_pc,
			    "independent watchdog started: timeout %.1f ms",
			    (double)iwdg_period(b) / 1e9);
	b->iwdg.running = true;
	b->rcc.csr |= RCC_CSR_LSION | RCC_CSR_LSIRDY;
	iwdg_refresh(b);
}

static void iwdg_expired(struct board *b, void *arg)
{
	(void)arg;
	board_trace(b, SIM_TRACE_WATCHDOG, b->last_pc,
		    "independent watchdog expired (not refreshed for %.1f ms): reset",
		    (double)(b->now - b->iwdg.reloaded_at) / 1e9);
	board_request_reset(b, SIM_RESET_IWDG);
}

static uint32_t iwdg_read(struct board *b, void *state, uint32_t off, unsigned size)
{
	(void)state;
	(void)size;
	switch (off & ~3u) {
	case IWDG_PR:
		return b->iwdg.pr;
	case IWDG_RLR:
		return b->iwdg.rlr;
	case IWDG_SR:
		return 0;   /* updates complete at once */
	case IWDG_WINR:
		return b->iwdg.winr;
	}
	return 0;
}

static void iwdg_write(struct board *b, void *state, uint32_t off, unsigned size, uint32_t val)
{
	(void)state;
	(void)size;
	switch (off & ~3u) {
	case IWDG_KR:
		switch (val & 0xFFFFu) {
		case IWDG_KR_ENABLE:
			iwdg_start(b);
			break;
		case IWDG_KR_REFRESH:
			b->iwdg.unlocked = false;
			iwdg_refresh(b);
			break;
		case IWDG_KR_ACCESS:
			b->iwdg.unlocked = true;
			break;
		default:
			b->iwdg.unlocked = false;
			break;
		}
		break;
	case IWDG_PR:
		if (b->iwdg.unlocked)
			b->iwdg.pr = val & 7u;
		break;
	case IWDG_RLR:
		if (b->iwdg.unlocked)
			b->iwdg.rlr = val & 0xFFFu;
		break;
	case IWDG_WINR:
		if (b->iwdg.unlocked)
			b->iwdg.winr = val & 0xFFFu;
		break;
	}
}

/* ---- DBGMCU (RM0351 48.16.1) ------------------------------------------------- */

static uint32_t dbgmcu_read(struct board *b, void *state, uint32_t off, unsigned size)
{
	(void)b;
	(void)state;
	(void)size;
	if ((off & ~3u) == DBGMCU_IDCODE)
		return 0x10070000u | STM32_DEV_ID;   /* REV_ID 0x1007: revision 4 */
	return 0;
}

static void dbgmcu_write(struct board *b, void *state, uint32_t off, unsigned size, uint32_t val)
{
	(void)b;
	(void)state;
	(void)off;
	(void)size;
	(void)val;
}

/* ---- Registration and reset --------------------------------------------------- */

void periph_register(struct board *b)
{
	static const char *const gpio_names[3] = { "GPIOA", "GPIOB", "GPIOC" };
	static const uint32_t gpio_en[3] = { RCC_AHB2ENR_GPIOAEN, RCC_AHB2ENR_GPIOBEN,
					     RCC_AHB2ENR_GPIOCEN };
	const struct periph list[] = {
		{ .name = "SYSCFG", .base = SYSCFG_BASE, .size = 0x400,
		  .read = syscfg_read, .write = syscfg_write,
		  .enr = RCC_APB2ENR, .enbit = RCC_APB2ENR_SYSCFGEN },
		{ .name = "RTC", .base = RTC_BASE, .size = 0x400,
		  .read = rtc_read, .write = rtc_write },
		{ .name = "CRC", .base = CRC_BASE, .size = 0x400,
		  .read = crc_read, .write = crc_write,
		  .enr = RCC_AHB1ENR, .enbit = RCC_AHB1ENR_CRCEN },
		{ .name = "IWDG", .base = IWDG_BASE, .size = 0x400,
		  .read = iwdg_read, .write = iwdg_write },
		{ .name = "DBGMCU", .base = DBGMCU_BASE, .size = 0x400,
		  .read = dbgmcu_read, .write = dbgmcu_write },
	};
	unsigned i;

	for (i = 0; i < sizeof(list) / sizeof(list[0]); i++)
		board_add_periph(b, &list[i]);
	for (i = 0; i < 3; i++) {
		struct periph p = {
			.name = gpio_names[i], .base = GPIOA_BASE + i * GPIO_PORT_STRIDE, .size = 0x400,
			.read = gpio_read, .write = gpio_write, .state = &b->gpio[i],
			.enr = RCC_AHB2ENR, .enbit = gpio_en[i],
		};

		board_add_periph(b, &p);
	}
	sim_event_init(&b->iwdg.timeout, "IWDG", iwdg_expired, NULL);
}

void periph_reset(struct board *b, enum reset_kind kind)
{
	unsigned i;

	memset(&b->syscfg, 0, sizeof(b->syscfg));
	memset(&b->crc, 0, sizeof(b->crc));
	b->crc.dr = 0xFFFFFFFFu;
	b->crc.init = 0xFFFFFFFFu;
	b->crc.pol = 0x04C11DB7u;
	for (i = 0; i < 3; i++) {
		uint32_t input = b->gpio[i].input;

		memset(&b->gpio[i], 0, sizeof(b->gpio[i]));
		b->gpio[i].moder = 0xFFFFFFFFu;   /* analog */
		b->gpio[i].input = input;
	}
	/* RM0351 8.5: PA13/PA14/PA15 and PB3/PB4 are debug pins at reset. */
	b->gpio[0].moder = 0xABFFFFFFu;
	b->gpio[0].pupdr = 0x64000000u;
	b->gpio[0].ospeedr = 0x0C000000u;
	b->gpio[1].moder = 0xFFFFFEBFu;
	b->gpio[1].pupdr = 0x00000100u;
	/* B1 is wired with an external pull-up: it drives PC13 at all times. */
	b->gpio[2].input = (b->gpio[2].input & ~(0x10001u << NUCLEO_B1_PIN)) |
			   (0x10000u << NUCLEO_B1_PIN);
	gpio_update_inputs(b);
	gpio_update_led(b);

	if (kind == RESET_POWER_ON && !b->cfg.vbat)
		memset(b->rtc.bkp, 0, sizeof(b->rtc.bkp));

	sim_event_cancel(b, &b->iwdg.timeout);
	b->iwdg.running = false;
	b->iwdg.unlocked = false;
	b->iwdg.pr = 0;
	b->iwdg.rlr = 0xFFFu;
	b->iwdg.winr = 0xFFFu;
	/* IWDG_SW = 0: the watchdog runs from reset (hardware watchdog). */
	if (!(flash_optr(b) & FLASH_OPTR_IWDG_SW))
		iwdg_start(b);
}
