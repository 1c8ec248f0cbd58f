/*
 * flash.c - the STM32L476 flash memory and its interface (RM0351 3).
 *
 * An update is only as safe as the flash lets it be, so the model keeps the
 * rules that decide what a board holds after a power cut or a bad write:
 * one 64-bit double word at a time, never twice without an erase; pages and
 * banks erased as wholes, taking their datasheet time (DS10198); write
 * protection and readout protection from option bytes that load at power-on
 * or OBL_LAUNCH only; and an operation cut by a power loss left half done,
 * including a double word left partly programmed whose ECC no longer
 * matches, which the chip reports by an NMI when it is read (RM0351 3.3.8).
 *
 * The flash lives in a file mapped into memory when the board has one, so
 * a board keeps its content between runs like a chip, and a crash of the
 * emulator cannot lose it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "board.h"
#include "sysboot/byteorder.h"

#define INFO_BASE        0x1FFF7000u
#define INFO2_BASE       0x1FFFF000u
#define INFO_SIZE        0x1000u
#define OTP_SIZE         STM32_OTP_SIZE
#define OPT_OFF          0x800u       /* option bytes within an information page */
#define OPT_OPTR         0x00u
#define OPT_PCROP_STRT   0x08u
#define OPT_PCROP_END    0x10u
#define OPT_WRPA         0x18u
#define OPT_WRPB         0x20u
#define TRAILER_SIZE     0x1000u
#define MAP_SIZE         (STM32_FLASH_SIZE + 2u * INFO_SIZE + TRAILER_SIZE)
#define FILE_MAGIC       "sysboot-sim flash v1"
#define TRAILER_ECC      0x40u        /* in the trailer: count, then offsets */
#define ECC_MAX          64u
#define WRP_DISABLED     0xFF00FFFFu  /* start 0xFF > end 0x00: no area */
#define FLASH_ERRORS_PROG (FLASH_SR_PROGERR | FLASH_SR_WRPERR | FLASH_SR_PGAERR | \
			   FLASH_SR_SIZERR | FLASH_SR_PGSERR | FLASH_SR_MISERR | FLASH_SR_FASTERR)
#define RDP_LEVEL1_VALUE 0xBBu

static struct flash_ctl *fc(struct board *b)
{
	return &b->flashc;
}

/* ---- Option byte storage ------------------------------------------------------- */

static uint8_t *opt_ptr(struct board *b, int bank, uint32_t field)
{
	return (bank == 1 ? b->info : b->info2) + OPT_OFF + field;
}

/* Each option is stored as a double word: value, then its complement (RM0351 3.4.1). */
static void opt_store(struct board *b, int bank, uint32_t field, uint32_t value)
{
	put_le32(opt_ptr(b, bank, field), value);
	put_le32(opt_ptr(b, bank, field) + 4, ~value);
}

static bool opt_load(struct board *b, int bank, uint32_t field, uint32_t *value)
{
	uint32_t v = get_le32(opt_ptr(b, bank, field));
	uint32_t c = get_le32(opt_ptr(b, bank, field) + 4);

	*value = v;
	return v == ~c;
}

/*
 * The option registers and where each loads from (RM0351 3.4.1, 3.7.8):
 * OPTR is in bank 1's page only, the other areas have one pair per bank.
 */
static const struct option_field {
	int bank;
	uint32_t field;
	size_t reg;                  /* offset in struct flash_ctl */
	uint32_t factory;
} option_fields[] = {
	{ 1, OPT_OPTR, offsetof(struct flash_ctl, optr), FLASH_OPTR_DEFAULT },
	{ 1, OPT_PCROP_STRT, offsetof(struct flash_ctl, pcrop1sr), 0xFFFFFFFFu },
	{ 1, OPT_PCROP_END, offsetof(struct flash_ctl, pcrop1er), 0xFFFF0000u },
	{ 1, OPT_WRPA, offsetof(struct flash_ctl, wrp1ar), WRP_DISABLED },
	{ 1, OPT_WRPB, offsetof(struct flash_ctl, wrp1br), WRP_DISABLED },
	{ 2, OPT_PCROP_STRT, offsetof(struct flash_ctl, pcrop2sr), 0xFFFFFFFFu },
	{ 2, OPT_PCROP_END, offsetof(struct flash_ctl, pcrop2er), 0xFFFF0000u },
	{ 2, OPT_WRPA, offsetof(struct flash_ctl, wrp2ar), WRP_DISABLED },
	{ 2, OPT_WRPB, offsetof(struct flash_ctl, wrp2br), WRP_DISABLED },
};

#define N_OPTION_FIELDS (sizeof(option_fields) / sizeof(option_fields[0]))

static uint32_t *option_field_reg(struct flash_ctl *f, const struct option_field *of)
{
	return (uint32_t *)(void *)((char *)f + of->reg);
}

static void factory_options(struct board *b)
{
	size_t i;

	for (i = 0; i < N_OPTION_FIELDS; i++)
		opt_store(b, option_fields[i].bank, option_fields[i].field,
			  option_fields[i].factory);
	/* Bank 2's page has no OPTR: its first double word is all ones, and complement. */
	opt_store(b, 2, OPT_OPTR, 0xFFFFFFFFu);
}

/* A factory-fresh chip: erased flash and OTP, identity words, default options. */
static void factory_fill(struct board *b)
{
	static const uint8_t uid[12] = { 0x30, 0x00, 0x41, 0x00, 0x12, 0x51, 0x34, 0x36,
					 0x38, 0x31, 0x38, 0x32 };
	uint16_t size_kb = STM32_FLASH_SIZE / 1024u;

	memset(b->flash, 0xFF, STM32_FLASH_SIZE);
	memset(b->info, 0xFF, INFO_SIZE);
	memset(b->info2, 0xFF, INFO_SIZE);
	memcpy(b->info + (STM32_UID_BASE - INFO_BASE), uid, sizeof(uid));
	memcpy(b->info + (STM32_FLASHSIZE_BASE - INFO_BASE), &size_kb, 2);
	b->info[0x500] = 0x13;   /* package: LQFP64 (RM0351 48.2) */
	factory_options(b);
}

int flash_init(struct board *b, char *err, size_t errlen)
{
	struct flash_ctl *f = fc(b);
	const char *path = b->cfg.flash_path;
	uint8_t *trailer;
	bool fresh = true;

	f->fd = -1;
	f->map_len = MAP_SIZE;
	if (!path) {
		f->map = mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	} else {
		struct stat st;

		f->fd = open(path, O_RDWR | O_CREAT, 0644);
		if (f->fd < 0) {
			snprintf(err, errlen, "flash file %s: %s", path, strerror(errno));
			return -1;
		}
		if (fstat(f->fd, &st) < 0) {
			snprintf(err, errlen, "flash file %s: %s", path, strerror(errno));
			return -1;
		}
		if (st.st_size != 0 && st.st_size != (off_t)MAP_SIZE) {
			snprintf(err, errlen,
				 "flash file %s has %lld bytes, not the %u of an emulated STM32L476 (1 MB flash + %u bytes of OTP and option bytes): not a sysboot-sim flash file",
				 path, (long long)st.st_size, MAP_SIZE, MAP_SIZE - STM32_FLASH_SIZE);
			return -1;
		}
		fresh = st.st_size == 0;
		if (fresh && ftruncate(f->fd, MAP_SIZE) < 0) {
			snprintf(err, errlen, "flash file %s: %s", path, strerror(errno));
			return -1;
		}
		f->map = mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
	}
	if (f->map == MAP_FAILED) {
		f->map = NULL;
		snprintf(err, errlen, "cannot map the flash: %s", strerror(errno));
		return -1;
	}
	b->flash = f->map;
	b->info = b->flash + STM32_FLASH_SIZE;
	b->info2 = b->info + INFO_SIZE;
	trailer = b->info2 + INFO_SIZE;
	if (!fresh && memcmp(trailer, FILE_MAGIC, sizeof(FILE_MAGIC)) != 0) {
		snprintf(err, errlen, "flash file %s is not a sysboot-sim flash file (bad magic)", path);
		return -1;
	}
	if (fresh) {
		factory_fill(b);
		memset(trailer, 0, TRAILER_SIZE);
		memcpy(trailer, FILE_MAGIC, sizeof(FILE_MAGIC));
	}
	/* The board's option bytes as set up for the run (hardware watchdog, ...). */
	if (b->cfg.optr)
		opt_store(b, 1, OPT_OPTR, b->cfg.optr);
	sim_event_init(&f->op_done, "flash operation", NULL, NULL);
	return 0;
}

void flash_fini(struct board *b)
{
	struct flash_ctl *f = fc(b);

	if (f->map) {
		if (f->fd >= 0)
			msync(f->map, f->map_len, MS_SYNC);
		munmap(f->map, f->map_len);
	}
	if (f->fd >= 0)
		close(f->fd);
	f->map = NULL;
	f->fd = -1;
	b->flash = b->info = b->info2 = NULL;
}

/* ---- Protection ------------------------------------------------------------------ */

static bool wrp_covers(uint32_t wrp, unsigned page)
{
	unsigned start = wrp & 0xFFu, end = (wrp >> 16) & 0xFFu;

	return start <= end && page >= start && page <= end;
}

bool flash_page_write_protected(const struct board *b, unsigned global_page)
{
	const struct flash_ctl *f = &b->flashc;
	unsigned page = global_page % STM32_FLASH_PAGES_PER_BANK;

	if (global_page < STM32_FLASH_PAGES_PER_BANK)
		return wrp_covers(f->wrp1ar, page) || wrp_covers(f->wrp1br, page);
	return wrp_covers(f->wrp2ar, page) || wrp_covers(f->wrp2br, page);
}

/* The first write-protected page of a bank (1, 2, or 0 for both); -1 if none. */
static int bank_protected_page(const struct board *b, int bank)
{
	unsigned p;

	for (p = 0; p < 2 * STM32_FLASH_PAGES_PER_BANK; p++) {
		int pb = p < STM32_FLASH_PAGES_PER_BANK ? 1 : 2;

		if ((bank == 0 || bank == pb) && flash_page_write_protected(b, p))
			return (int)p;
	}
	return -1;
}

uint32_t flash_optr(const struct board *b)
{
	return b->flashc.optr;
}

/* RM0351 3.5.1: 0xAA is level 0, 0xCC level 2, any other value level 1. */
static int rdp_level(uint32_t optr)
{
	uint32_t rdp = optr & FLASH_OPTR_RDP;

	if (rdp == FLASH_RDP_LEVEL0)
		return 0;
	if (rdp == FLASH_RDP_LEVEL2)
		return 2;
	return 1;
}

int flash_rdp_level(const struct board *b)
{
	return rdp_level(b->flashc.optr);
}

/* ---- Addresses ------------------------------------------------------------------- */

/* Offset in b->flash of a CPU address, following the bank swap. */
static uint32_t flash_offset(const struct board *b, uint32_t addr)
{
	uint32_t off = addr - STM32_FLASH_BASE;

	if (b->alias_fb_mode)
		off ^= STM32_FLASH_BANK_SIZE;
	return off;
}

static unsigned page_of_offset(uint32_t off)
{
	return off / STM32_FLASH_PAGE_SIZE;
}

static bool is_erased(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != 0xFF)
			return false;
	return true;
}

static bool is_zero(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* RM0351 3.3.7: only an erased double word (or all-zero data) programs. */
static bool dword_programs(const uint8_t *cur, const uint8_t *data)
{
	return is_erased(cur, 8) || is_zero(data, 8);
}

static void changed(struct board *b, uint32_t off, uint32_t len, bool otp)
{
	if (otp)
		board_flash_changed(b, INFO_BASE + off, len);
	else
		board_flash_changed(b, STM32_FLASH_BASE + off, len);
}

/* ---- Uncorrectable ECC errors ----------------------------------------------------- */

/*
 * Double words a power cut left with inconsistent ECC, by offset in
 * b->flash. Kept in the flash file's trailer so they outlive the run, as
 * the bits do on a chip; erasing their page clears them.
 */
static uint32_t *ecc_list(struct board *b, uint32_t **count)
{
	uint8_t *trailer = b->info2 + INFO_SIZE;

	*count = (uint32_t *)(void *)(trailer + TRAILER_ECC);
	return *count + 1;
}

static void ecc_mark(struct board *b, uint32_t off)
{
	uint32_t *n, *list = ecc_list(b, &n);
	uint32_t i;

	for (i = 0; i < *n; i++)
		if (list[i] == off)
			return;
	if (*n == ECC_MAX)
		return;
	list[(*n)++] = off;
	board_ecc_watch(b);
}

static void ecc_clear(struct board *b, uint32_t off, uint32_t len)
{
	uint32_t *n, *list = ecc_list(b, &n);
	uint32_t i, kept = 0, before = *n;

	for (i = 0; i < *n; i++)
		if (list[i] < off || list[i] >= off + len)
			list[kept++] = list[i];
	*n = kept;
	if (kept != before)
		board_ecc_watch(b);
}

bool flash_has_ecc_errors(struct board *b)
{
	uint32_t *n;

	ecc_list(b, &n);
	return *n != 0 && *n <= ECC_MAX;
}

bool flash_ecc_read(struct board *b, uint32_t off)
{
	struct flash_ctl *f = fc(b);
	uint32_t *n, *list = ecc_list(b, &n);
	uint32_t i, dw = off & ~7u;

	for (i = 0; i < *n && i < ECC_MAX; i++) {
		if (list[i] != dw)
			continue;
		/* RM0351 3.3.8: a second error while ECCD is set keeps the first address. */
		if (!(f->eccr & FLASH_ECCR_ECCD))
			f->eccr = (f->eccr & FLASH_ECCR_ECCIE) | FLASH_ECCR_ECCD |
				  (dw >= STM32_FLASH_BANK_SIZE ? FLASH_ECCR_BK_ECC : 0) |
				  (dw % STM32_FLASH_BANK_SIZE);
		board_trace(b, SIM_TRACE_FLASH, b->last_pc,
			    "uncorrectable ECC error reading the double word at 0x%08x (left partly programmed by a power cut): FLASH_ECCR.ECCD set, NMI",
			    STM32_FLASH_BASE + dw);
		nvic_set_pending(b, EXC_NMI);
		return true;
	}
	return false;
}

/* ---- Operations ------------------------------------------------------------------ */

static void set_error(struct board *b, uint32_t flag, const char *what)
{
	struct flash_ctl *f = fc(b);

	f->sr |= flag;
	board_trace(b, SIM_TRACE_FLASH, b->last_pc, "%s", what);
	if (f->cr & FLASH_CR_ERRIE)
		nvic_set_irq_level(b, IRQ_FLASH, true);
}

static void erase_range(struct board *b, uint32_t off, uint32_t len)
{
	memset(b->flash + off, 0xFF, len);
	ecc_clear(b, off, len);
	changed(b, off, len, false);
}

static void bank_range(int bank, uint32_t *off, uint32_t *len)
{
	*off = bank == 2 ? STM32_FLASH_BANK_SIZE : 0;
	*len = bank == 0 ? STM32_FLASH_SIZE : STM32_FLASH_BANK_SIZE;
}

static void op_finish(struct board *b)
{
	struct flash_ctl *f = fc(b);
	uint32_t off, len;

	switch (f->op) {
	case FLASH_OP_PROGRAM:
		memcpy((f->op_otp ? b->info : b->flash) + f->op_offset, f->op_data, 8);
		if (!f->op_otp)
			ecc_clear(b, f->op_offset, 8);
		changed(b, f->op_offset, 8, f->op_otp);
		break;
	case FLASH_OP_ERASE_PAGE:
		erase_range(b, f->op_offset, STM32_FLASH_PAGE_SIZE);
		board_trace(b, SIM_TRACE_FLASH, b->last_pc, "page %u erased", page_of_offset(f->op_offset));
		break;
	case FLASH_OP_ERASE_BANK:
		bank_range(f->op_bank, &off, &len);
		erase_range(b, off, len);
		board_trace(b, SIM_TRACE_FLASH, b->last_pc, "%s erased",
			    f->op_bank == 0 ? "whole flash" : f->op_bank == 1 ? "bank 1" : "bank 2");
		break;
	case FLASH_OP_OPTIONS:
	case FLASH_OP_NONE:
		break;
	}
	f->op = FLASH_OP_NONE;
}

static void op_done_event(struct board *b, void *arg)
{
	struct flash_ctl *f = fc(b);

	(void)arg;
	op_finish(b);
	f->sr &= ~FLASH_SR_BSY;
	f->cr &= ~(FLASH_CR_STRT | FLASH_CR_OPTSTRT);
	/* RM0351 3.7.5: EOP is set only when EOPIE is set. */
	if (f->cr & FLASH_CR_EOPIE) {
		f->sr |= FLASH_SR_EOP;
		nvic_set_irq_level(b, IRQ_FLASH, true);
	}
}

/* The point of an update an operation is, for aimed power cuts (cutpoint.c). */
static void report_cut_point(struct board *b, enum flash_op op)
{
	struct flash_ctl *f = fc(b);
	uint32_t off, len;

	switch (op) {
	case FLASH_OP_PROGRAM:
		board_cut_point(b, SIM_CUT_PROGRAM,
				(f->op_otp ? INFO_BASE : STM32_FLASH_BASE) + f->op_offset);
		break;
	case FLASH_OP_ERASE_PAGE:
		board_cut_point(b, SIM_CUT_ERASE, STM32_FLASH_BASE + f->op_offset);
		break;
	case FLASH_OP_ERASE_BANK:
		bank_range(f->op_bank, &off, &len);
		board_cut_point(b, SIM_CUT_ERASE, STM32_FLASH_BASE + off);
		break;
	default:
		break;
	}
}

static void op_start(struct board *b, enum flash_op op, sim_time_t len)
{
	struct flash_ctl *f = fc(b);

	report_cut_point(b, op);
	f->op = op;
	f->op_start = b->now;
	f->op_len = len;
	f->sr |= FLASH_SR_BSY;
	f->op_done.fn = op_done_event;
	sim_event_schedule(b, &f->op_done, len);
}

/*
 * A double word being programmed when the power went: per the model
 * parameter, nothing of it, or the first done/1000 of the bits it was to
 * clear (in bit order), with or without its ECC left inconsistent.
 */
static void torn_program(struct board *b, unsigned done)
{
	struct flash_ctl *f = fc(b);
	enum sim_torn_mode mode = b->cfg.torn_program;
	uint8_t *mem = (f->op_otp ? b->info : b->flash) + f->op_offset;
	unsigned bits = 0, k, i, j;
	uint32_t addr = (f->op_otp ? INFO_BASE : STM32_FLASH_BASE) + f->op_offset;

	for (i = 0; i < 8; i++)
		bits += (unsigned)__builtin_popcount((unsigned)(mem[i] & (uint8_t)~f->op_data[i]));
	k = mode == SIM_TORN_NONE ? 0 : bits * done / 1000u;
	for (i = 0, j = 0; i < 64 && j < k; i++) {
		uint8_t bit = (uint8_t)(1u << (i % 8));

		if ((mem[i / 8] & bit) && !(f->op_data[i / 8] & bit)) {
			mem[i / 8] &= (uint8_t)~bit;
			j++;
		}
	}
	if (k)
		changed(b, f->op_offset, 8, f->op_otp);
	if (mode == SIM_TORN_ECC && done > 0 && bits > 0 && !f->op_otp)
		ecc_mark(b, f->op_offset);
	board_trace(b, SIM_TRACE_FLASH, b->last_pc,
		    "power lost while programming the double word at 0x%08x: %s (%u of %u bits programmed)",
		    addr, mode == SIM_TORN_NONE ? "not written" :
		    mode == SIM_TORN_BITS ? "partly programmed" :
		    "partly programmed, its ECC no longer matches (reading it will raise an NMI)",
		    k, bits);
}

void flash_power_cut(struct board *b)
{
	struct flash_ctl *f = fc(b);
	uint64_t done;
	uint32_t off, len, part;

	sim_event_cancel(b, &f->op_done);
	done = f->op_len ? (b->now - f->op_start) * 1000u / f->op_len : 0;
	if (done > 1000)
		done = 1000;
	switch (f->op) {
	case FLASH_OP_PROGRAM:
		torn_program(b, (unsigned)done);
		break;
	case FLASH_OP_ERASE_PAGE:
	case FLASH_OP_ERASE_BANK:
		if (f->op == FLASH_OP_ERASE_PAGE) {
			off = f->op_offset;
			len = STM32_FLASH_PAGE_SIZE;
		} else {
			bank_range(f->op_bank, &off, &len);
		}
		/* The part erased so far, in whole double words, from the start. */
		part = (uint32_t)(len * done / 1000u) & ~7u;
		erase_range(b, off, part);
		board_trace(b, SIM_TRACE_FLASH, b->last_pc,
			    "power lost during an erase: %u of %u bytes at offset 0x%05x erased",
			    part, len, off);
		break;
	case FLASH_OP_OPTIONS:
		board_trace(b, SIM_TRACE_FLASH, b->last_pc,
			    "power lost while programming the option bytes: they keep their old values");
		break;
	case FLASH_OP_NONE:
		break;
	}
	f->op = FLASH_OP_NONE;
	f->half = false;
}

/* ---- Registers --------------------------------------------------------------------- */

static void load_options(struct board *b)
{
	struct flash_ctl *f = fc(b);
	bool ok = true;
	size_t i;

	for (i = 0; i < N_OPTION_FIELDS; i++)
		ok &= opt_load(b, option_fields[i].bank, option_fields[i].field,
			       option_field_reg(f, &option_fields[i]));
	if (!ok) {
		/* RM0351 3.4.2: a mismatch sets OPTVERR and the part is protected. */
		f->sr |= FLASH_SR_OPTVERR;
		f->optr = (f->optr & ~FLASH_OPTR_RDP) | RDP_LEVEL1_VALUE;
		board_trace(b, SIM_TRACE_FLASH, 0,
			    "option bytes and their complements disagree: OPTVERR, readout protection level 1");
	}
}

void flash_reset(struct board *b, enum reset_kind kind)
{
	struct flash_ctl *f = fc(b);
	uint32_t sr_keep = 0;

	if (f->op != FLASH_OP_NONE)
		flash_power_cut(b);
	sim_event_cancel(b, &f->op_done);
	f->acr = 0x00000600u;
	f->cr = FLASH_CR_LOCK | FLASH_CR_OPTLOCK;
	f->eccr = 0;
	f->key_stage = f->optkey_stage = 0;
	f->locked_out = false;
	f->half = false;
	f->op = FLASH_OP_NONE;
	if (kind == RESET_POWER_ON) {
		f->sr = 0;
		load_options(b);
		sr_keep = f->sr & FLASH_SR_OPTVERR;
	}
	f->sr = sr_keep;
	nvic_set_irq_level(b, IRQ_FLASH, false);
}

static uint32_t *option_reg(struct flash_ctl *f, uint32_t off)
{
	switch (off) {
	case FLASH_OPTR:
		return &f->optr;
	case FLASH_PCROP1SR:
		return &f->pcrop1sr;
	case FLASH_PCROP1ER:
		return &f->pcrop1er;
	case FLASH_WRP1AR:
		return &f->wrp1ar;
	case FLASH_WRP1BR:
		return &f->wrp1br;
	case FLASH_PCROP2SR:
		return &f->pcrop2sr;
	case FLASH_PCROP2ER:
		return &f->pcrop2er;
	case FLASH_WRP2AR:
		return &f->wrp2ar;
	case FLASH_WRP2BR:
		return &f->wrp2br;
	}
	return NULL;
}

uint32_t flash_reg_read(struct board *b, void *state, uint32_t off, unsigned size)
{
	struct flash_ctl *f = fc(b);
	uint32_t *opt;

	(void)state;
	(void)size;
	off &= ~3u;
	switch (off) {
	case FLASH_ACR:
		return f->acr;
	case FLASH_SR:
		return f->sr;
	case FLASH_CR:
		return f->cr;
	case FLASH_ECCR:
		return f->eccr;
	}
	opt = option_reg(f, off);
	return opt ? *opt : 0;
}

static void lock_out(struct board *b, const char *why)
{
	struct flash_ctl *f = fc(b);

	f->locked_out = true;
	f->cr |= FLASH_CR_LOCK | FLASH_CR_OPTLOCK;
	board_trace(b, SIM_TRACE_FLASH, b->last_pc,
		    "%s: FLASH_CR locked until the next reset (RM0351 3.3.5; a bus error on the chip)", why);
}

/*
 * One write of an unlock sequence (RM0351 3.3.5, 3.4.2): the first key,
 * then the second clears the lock bit; any other value locks the interface
 * out until reset.
 */
static void key_write(struct board *b, unsigned *stage, uint32_t val, uint32_t key1,
		      uint32_t key2, uint32_t lock_bit, const char *reg)
{
	char why[64];

	if (*stage == 0 && val == key1) {
		*stage = 1;
	} else if (*stage == 1 && val == key2) {
		*stage = 0;
		fc(b)->cr &= ~lock_bit;
	} else {
		snprintf(why, sizeof(why), "wrong key sequence on %s", reg);
		lock_out(b, why);
	}
}

/* Program the option bytes from the option registers (OPTSTRT). */
static void program_options(struct board *b)
{
	struct flash_ctl *f = fc(b);
	uint32_t stored_optr = 0;
	int old_level, new_level;
	size_t i;

	opt_load(b, 1, OPT_OPTR, &stored_optr);
	old_level = rdp_level(stored_optr);
	new_level = rdp_level(f->optr);
	if (old_level == 2) {
		set_error(b, FLASH_SR_OPTVERR, "option bytes cannot change at readout protection level 2");
		return;
	}
	if (old_level == 1 && new_level == 0) {
		/* RM0351 3.5.1: leaving level 1 mass-erases the main flash. */
		erase_range(b, 0, STM32_FLASH_SIZE);
		board_trace(b, SIM_TRACE_FLASH, b->last_pc,
			    "readout protection back to level 0: the whole flash is erased");
	}
	for (i = 0; i < N_OPTION_FIELDS; i++)
		opt_store(b, option_fields[i].bank, option_fields[i].field,
			  *option_field_reg(f, &option_fields[i]));
	board_trace(b, SIM_TRACE_FLASH, b->last_pc,
		    "option bytes programmed: OPTR=0x%08x WRP1A=0x%08x WRP1B=0x%08x (effective after OBL_LAUNCH or power-on)",
		    f->optr, f->wrp1ar, f->wrp1br);
}

static void start_erase(struct board *b)
{
	struct flash_ctl *f = fc(b);
	uint32_t cr = f->cr;

	if (cr & FLASH_CR_PER) {
		unsigned page = ((cr & FLASH_CR_PNB) >> FLASH_CR_PNB_Pos) +
				((cr & FLASH_CR_BKER) ? STM32_FLASH_PAGES_PER_BANK : 0);

		if (flash_page_write_protected(b, page)) {
			set_error(b, FLASH_SR_WRPERR, "page erase refused: the page is write protected (WRPERR)");
			return;
		}
		f->op_offset = page * STM32_FLASH_PAGE_SIZE;
		board_trace(b, SIM_TRACE_FLASH, b->last_pc, "erasing page %u (0x%08x)", page,
			    STM32_FLASH_BASE + f->op_offset);
		op_start(b, FLASH_OP_ERASE_PAGE, b->cfg.timing.flash_page_erase);
		return;
	}
	if (cr & (FLASH_CR_MER1 | FLASH_CR_MER2)) {
		int bank = (cr & FLASH_CR_MER1) && (cr & FLASH_CR_MER2) ? 0 : (cr & FLASH_CR_MER1) ? 1 : 2;

		if (bank_protected_page(b, bank) >= 0) {
			set_error(b, FLASH_SR_WRPERR, "mass erase refused: a write protection area is set (WRPERR)");
			return;
		}
		f->op_bank = bank;
		board_trace(b, SIM_TRACE_FLASH, b->last_pc, "mass erase of %s",
			    bank == 0 ? "both banks" : bank == 1 ? "bank 1" : "bank 2");
		op_start(b, FLASH_OP_ERASE_BANK, b->cfg.timing.flash_bank_erase);
		return;
	}
	set_error(b, FLASH_SR_PGSERR, "STRT set without PER or MER1/MER2: programming sequence error (PGSERR)");
}

void flash_reg_write(struct board *b, void *state, uint32_t off, unsigned size, uint32_t val)
{
	struct flash_ctl *f = fc(b);
	uint32_t *opt;

	(void)state;
	(void)size;
	off &= ~3u;
	switch (off) {
	case FLASH_ACR:
		f->acr = val & 0x7F07u;
		return;
	case FLASH_KEYR:
		if (f->locked_out)
			return;
		if (!(f->cr & FLASH_CR_LOCK))
			lock_out(b, "key written to FLASH_KEYR while unlocked");
		else
			key_write(b, &f->key_stage, val, FLASH_KEY1, FLASH_KEY2, FLASH_CR_LOCK,
				  "FLASH_KEYR");
		return;
	case FLASH_OPTKEYR:
		if (f->locked_out || (f->cr & FLASH_CR_LOCK)) {
			board_trace(b, SIM_TRACE_FLASH, b->last_pc,
				    "FLASH_OPTKEYR written while FLASH_CR is locked: ignored");
			return;
		}
		key_write(b, &f->optkey_stage, val, FLASH_OPTKEY1, FLASH_OPTKEY2, FLASH_CR_OPTLOCK,
			  "FLASH_OPTKEYR");
		return;
	case FLASH_SR:
		f->sr &= ~(val & (FLASH_SR_ERRORS | FLASH_SR_EOP));
		if (!(f->sr & (FLASH_SR_ERRORS | FLASH_SR_EOP)))
			nvic_set_irq_level(b, IRQ_FLASH, false);
		return;
	case FLASH_CR:
		if (f->cr & FLASH_CR_LOCK) {
			board_trace(b, SIM_TRACE_FLASH, b->last_pc,
				    "write of 0x%08x to FLASH_CR ignored: it is locked (write KEY1, KEY2 to FLASH_KEYR)",
				    val);
			return;
		}
		if (f->sr & FLASH_SR_BSY) {
			board_trace(b, SIM_TRACE_FLASH, b->last_pc,
				    "write to FLASH_CR while busy: the previous operation is still running");
		}
		f->cr = (val & ~(FLASH_CR_STRT | FLASH_CR_OPTSTRT | FLASH_CR_OBL_LAUNCH)) |
			(f->cr & (FLASH_CR_STRT | FLASH_CR_OPTSTRT));
		if (!(f->cr & FLASH_CR_PG))
			f->half = false;
		if (val & FLASH_CR_LOCK)
			f->cr |= FLASH_CR_OPTLOCK;
		if ((val & FLASH_CR_FSTPG) && !(f->sr & FLASH_SR_BSY))
			board_trace(b, SIM_TRACE_FLASH, b->last_pc,
				    "fast programming (FSTPG) is not modelled: stores will be refused");
		if ((val & FLASH_CR_STRT) && !(f->sr & FLASH_SR_BSY)) {
			if (f->sr & FLASH_ERRORS_PROG) {
				set_error(b, FLASH_SR_PGSERR,
					  "erase started while an error flag is still set: PGSERR (clear FLASH_SR first)");
			} else {
				f->cr |= FLASH_CR_STRT;
				start_erase(b);
				if (!(f->sr & FLASH_SR_BSY))
					f->cr &= ~FLASH_CR_STRT;
			}
		}
		if ((val & FLASH_CR_OPTSTRT) && !(f->sr & FLASH_SR_BSY)) {
			if (f->cr & FLASH_CR_OPTLOCK) {
				board_trace(b, SIM_TRACE_FLASH, b->last_pc,
					    "OPTSTRT ignored: option bytes locked (write OPTKEY1, OPTKEY2 to FLASH_OPTKEYR)");
			} else {
				program_options(b);
				op_start(b, FLASH_OP_OPTIONS, b->cfg.timing.flash_page_erase);
			}
		}
		if (val & FLASH_CR_OBL_LAUNCH) {
			if (f->cr & FLASH_CR_OPTLOCK) {
				board_trace(b, SIM_TRACE_FLASH, b->last_pc,
					    "OBL_LAUNCH ignored: option bytes locked");
			} else {
				board_trace(b, SIM_TRACE_FLASH, b->last_pc, "OBL_LAUNCH: reloading the option bytes (reset)");
				board_request_reset(b, SIM_RESET_OPTION_LOAD);
			}
		}
		return;
	case FLASH_ECCR:
		/* ECCC and ECCD clear by writing 1; ECCIE is read/write. */
		f->eccr &= ~(val & (FLASH_ECCR_ECCC | FLASH_ECCR_ECCD));
		f->eccr = (f->eccr & ~FLASH_ECCR_ECCIE) | (val & FLASH_ECCR_ECCIE);
		return;
	}
	opt = option_reg(f, off);
	if (opt) {
		if (f->cr & FLASH_CR_OPTLOCK) {
			board_trace(b, SIM_TRACE_FLASH, b->last_pc,
				    "write to option register FLASH+0x%02x ignored: OPTLOCK set", off);
			return;
		}
		*opt = val;
	}
}

/* ---- CPU stores -------------------------------------------------------------------- */

void flash_cpu_store(struct board *b, uint32_t addr, unsigned size, uint32_t val)
{
	struct flash_ctl *f = fc(b);
	bool otp = addr >= INFO_BASE && addr < INFO_BASE + INFO_SIZE;
	uint32_t off;
	uint8_t *mem, *dw;
	char msg[160];

	if (otp && addr >= INFO_BASE + OTP_SIZE) {
		board_trace(b, SIM_TRACE_FLASH, b->last_pc,
			    "store to 0x%08x ignored: option bytes change through FLASH_OPTR and OPTSTRT", addr);
		return;
	}
	if (!otp && (addr < STM32_FLASH_BASE || addr >= STM32_FLASH_BASE + STM32_FLASH_SIZE))
		return;
	if (!(f->cr & FLASH_CR_PG) || (f->cr & FLASH_CR_LOCK)) {
		snprintf(msg, sizeof(msg),
			 "store to flash 0x%08x with %s: programming sequence error (PGSERR), nothing written",
			 addr, (f->cr & FLASH_CR_LOCK) ? "FLASH_CR locked" : "PG clear");
		set_error(b, FLASH_SR_PGSERR, msg);
		return;
	}
	if (f->cr & FLASH_CR_FSTPG) {
		set_error(b, FLASH_SR_FASTERR, "fast programming store refused (not modelled): FASTERR");
		return;
	}
	if (f->sr & FLASH_SR_BSY) {
		set_error(b, FLASH_SR_PGSERR, "store to flash while an operation is running: PGSERR");
		return;
	}
	if (size != 4) {
		snprintf(msg, sizeof(msg), "%u-byte store to flash 0x%08x: only word stores program (SIZERR)",
			 size, addr);
		set_error(b, FLASH_SR_SIZERR, msg);
		f->half = false;
		return;
	}
	if (f->sr & FLASH_ERRORS_PROG) {
		set_error(b, FLASH_SR_PGSERR, "programming while an error flag is still set: PGSERR");
		f->half = false;
		return;
	}
	if (!f->half) {
		if (addr & 7u) {
			snprintf(msg, sizeof(msg),
				 "first word of a double word at 0x%08x, not 8-byte aligned: PGAERR", addr);
			set_error(b, FLASH_SR_PGAERR, msg);
			return;
		}
		f->half = true;
		f->half_addr = addr;
		f->half_val = val;
		return;
	}
	f->half = false;
	if (addr != f->half_addr + 4u) {
		snprintf(msg, sizeof(msg),
			 "second word at 0x%08x does not follow the first at 0x%08x: PGAERR", addr, f->half_addr);
		set_error(b, FLASH_SR_PGAERR, msg);
		return;
	}
	off = otp ? f->half_addr - INFO_BASE : flash_offset(b, f->half_addr);
	mem = otp ? b->info : b->flash;
	if (!otp && flash_page_write_protected(b, page_of_offset(off))) {
		snprintf(msg, sizeof(msg), "double word at 0x%08x is in a write-protected page: WRPERR",
			 f->half_addr);
		set_error(b, FLASH_SR_WRPERR, msg);
		return;
	}
	dw = f->op_data;
	memcpy(dw, &f->half_val, 4);
	memcpy(dw + 4, &val, 4);
	if (!dword_programs(mem + off, dw)) {
		snprintf(msg, sizeof(msg),
			 "double word at 0x%08x is not erased: PROGERR, nothing written", f->half_addr);
		set_error(b, FLASH_SR_PROGERR, msg);
		return;
	}
	f->op_offset = off;
	f->op_otp = otp;
	op_start(b, FLASH_OP_PROGRAM, b->cfg.timing.flash_dword_program);
}

/* ---- The ROM's operations ----------------------------------------------------------- */

static int run_op(struct board *b, enum flash_op op, sim_time_t len, char *why, size_t whylen)
{
	struct flash_ctl *f = fc(b);

	report_cut_point(b, op);
	f->op = op;
	f->op_start = b->now;
	f->op_len = len;
	if (!board_advance(b, len)) {
		/* power_lost() already left the operation half done. */
		snprintf(why, whylen, "power lost or reset during the operation");
		return -1;
	}
	op_finish(b);
	return 0;
}

int flash_rom_program(struct board *b, uint32_t addr, const uint8_t *data, uint32_t len,
		      char *why, size_t whylen)
{
	struct flash_ctl *f = fc(b);
	uint32_t done;

	if (addr & 7u) {
		snprintf(why, whylen, "address 0x%08x is not 8-byte aligned", addr);
		return -1;
	}
	if (addr < STM32_FLASH_BASE || addr >= STM32_FLASH_BASE + STM32_FLASH_SIZE ||
	    len > STM32_FLASH_BASE + STM32_FLASH_SIZE - addr) {
		snprintf(why, whylen, "0x%08x+%u is outside the flash", addr, len);
		return -1;
	}
	for (done = 0; done < len; done += 8) {
		uint32_t off = flash_offset(b, addr + done);
		uint32_t n = len - done < 8 ? len - done : 8;

		memset(f->op_data, 0xFF, 8);
		memcpy(f->op_data, data + done, n);
		if (flash_page_write_protected(b, page_of_offset(off))) {
			snprintf(why, whylen, "page %u (0x%08x) is write protected", page_of_offset(off),
				 addr + done);
			return -1;
		}
		if (!dword_programs(b->flash + off, f->op_data)) {
			snprintf(why, whylen, "double word at 0x%08x is not erased", addr + done);
			return -1;
		}
		f->op_offset = off;
		f->op_otp = false;
		if (run_op(b, FLASH_OP_PROGRAM, b->cfg.timing.flash_dword_program, why, whylen) < 0)
			return -1;
	}
	return 0;
}

int flash_rom_erase_pages(struct board *b, const uint16_t *pages, uint32_t count,
			  char *why, size_t whylen)
{
	struct flash_ctl *f = fc(b);
	uint32_t i;

	for (i = 0; i < count; i++) {
		if (pages[i] >= 2 * STM32_FLASH_PAGES_PER_BANK) {
			snprintf(why, whylen, "page %u does not exist (0..511)", pages[i]);
			return -1;
		}
		if (flash_page_write_protected(b, pages[i])) {
			snprintf(why, whylen, "page %u is write protected", pages[i]);
			return -1;
		}
		f->op_offset = pages[i] * STM32_FLASH_PAGE_SIZE;
		if (run_op(b, FLASH_OP_ERASE_PAGE, b->cfg.timing.flash_page_erase, why, whylen) < 0)
			return -1;
	}
	return 0;
}

int flash_rom_erase_bank(struct board *b, int bank, char *why, size_t whylen)
{
	struct flash_ctl *f = fc(b);
	int p = bank_protected_page(b, bank);

	if (p >= 0) {
		snprintf(why, whylen, "page %d is write protected", p);
		return -1;
	}
	f->op_bank = bank;
	/* Both banks erase in parallel (MER1 and MER2 together). */
	return run_op(b, FLASH_OP_ERASE_BANK, b->cfg.timing.flash_bank_erase, why, whylen);
}

static int options_commit(struct board *b, char *why, size_t whylen)
{
	struct flash_ctl *f = fc(b);

	program_options(b);
	if (f->sr & FLASH_SR_OPTVERR) {
		snprintf(why, whylen, "option bytes cannot change at readout protection level 2");
		return -1;
	}
	return run_op(b, FLASH_OP_OPTIONS, b->cfg.timing.flash_page_erase, why, whylen);
}

int flash_rom_write_options(struct board *b, uint32_t addr, const uint8_t *data, uint32_t len,
			    char *why, size_t whylen)
{
	struct flash_ctl *f = fc(b);
	uint32_t i;

	/* Take the value words of the option double words written (bank 1's page). */
	for (i = 0; i + 4 <= len; i += 4) {
		uint32_t field = addr + i - STM32_OPTION_BANK1_BASE;
		const struct option_field *of = NULL;
		size_t k;

		if (field & 4u)
			continue;   /* complement word: the chip computes it */
		for (k = 0; k < N_OPTION_FIELDS && !of; k++)
			if (option_fields[k].bank == 1 && option_fields[k].field == field)
				of = &option_fields[k];
		if (!of) {
			snprintf(why, whylen, "0x%08x is not an option byte", addr + i);
			return -1;
		}
		*option_field_reg(f, of) = get_le32(data + i);
	}
	return options_commit(b, why, whylen);
}

int flash_rom_write_protect(struct board *b, const uint8_t *pages, uint32_t count,
			    char *why, size_t whylen)
{
	struct flash_ctl *f = fc(b);
	unsigned lo = 0xFF, hi = 0;
	uint32_t i;

	/*
	 * The L476 protects areas, not single pages: the codes given become
	 * one bank-1 area from the lowest to the highest (a model choice).
	 */
	if (!count) {
		snprintf(why, whylen, "no page to protect");
		return -1;
	}
	for (i = 0; i < count; i++) {
		if (pages[i] < lo)
			lo = pages[i];
		if (pages[i] > hi)
			hi = pages[i];
	}
	f->wrp1ar = 0xFF00FF00u | lo | (hi << FLASH_WRPxR_END_Pos);
	return options_commit(b, why, whylen);
}

int flash_rom_write_unprotect(struct board *b, char *why, size_t whylen)
{
	struct flash_ctl *f = fc(b);

	f->wrp1ar = f->wrp1br = f->wrp2ar = f->wrp2br = WRP_DISABLED;
	return options_commit(b, why, whylen);
}

int flash_rom_set_rdp(struct board *b, int level, char *why, size_t whylen)
{
	struct flash_ctl *f = fc(b);

	f->optr = (f->optr & ~FLASH_OPTR_RDP) |
		  (level == 0 ? FLASH_RDP_LEVEL0 : level == 2 ? FLASH_RDP_LEVEL2 : RDP_LEVEL1_VALUE);
	if (level == 0)
		f->wrp1ar = f->wrp1br = f->wrp2ar = f->wrp2br = WRP_DISABLED;
	return options_commit(b, why, whylen);
}

/* ---- Debugger access ------------------------------------------------------------------ */

void flash_debug_write(struct board *b, uint32_t addr, const uint8_t *data, size_t len)
{
	uint32_t off = addr - STM32_FLASH_BASE;

	memcpy(b->flash + off, data, len);
	ecc_clear(b, off & ~7u, ((off + (uint32_t)len + 7u) & ~7u) - (off & ~7u));
	changed(b, off, (uint32_t)len, false);
}

void flash_debug_mass_erase(struct board *b)
{
	erase_range(b, 0, STM32_FLASH_SIZE);
}
