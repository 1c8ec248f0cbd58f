/*
 * rom.c - the STM32L476 ROM bootloader ("system memory"), as native code.
 *
 * When the core reaches the entry point stored at 0x1FFF0004, this model
 * takes over the board and does what AN2606 documents for the STM32L47x/48x:
 *
 *  - the dual-bank boot routine: unless system memory is mapped at 0x0
 *    (which is how the ROM recognises a BOOT0 boot, and why user code must
 *    remap before jumping), it looks at the first word of bank 2, then of
 *    bank 1, and jumps to that bank's code when it is an SRAM address. A
 *    jump from user code without the remap therefore "bounces back";
 *  - its start-up time, with and without LSE;
 *  - the independent watchdog rule (prescaler to maximum, kept refreshed);
 *  - the USART protocol of AN3155 on USART2 (the Nucleo's virtual COM
 *    port), with every byte taking its time on the wire at the host's baud
 *    rate in 8E1 framing, through the protocol engine in rom/rom_usart.c;
 *  - Go: MSP and PC loaded from the target, peripherals left as they are.
 */
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "link.h"
#include "rom/rom_usart.h"
#include "sysboot/an3155.h"

#define ROM_USART_DEFAULT 1        /* USART2: PA2/PA3, the ST-LINK VCP */
#define ROM_DEFAULT_BAUD 115200u
#define ROM_FRAME_BITS   11u       /* 8 data bits, even parity, 1 stop (AN3155 2) */
#define ROM_IWDG_REFRESH SIM_MS(10)

struct rom_state {
	struct rom_usart engine;
	bool ready;                  /* start-up time elapsed */
	sim_time_t ready_at;
	uint32_t baud;
	struct sim_event iwdg_kick;
	bool left;                   /* Go executed: the CPU runs again */
	char why[160];
	uint64_t bytes_in, bytes_out;
	sim_time_t session_start;
	bool reset_after_reply;      /* option bytes changed: reset once answered */
	int active;                  /* USART index chosen by the first 0x7F, -1 before */
	uint8_t pending[64];         /* read from the link, not yet on the wire */
	size_t pending_len, pending_pos;
	bool block_written;          /* a flash write is being acknowledged */
	uint32_t block_addr;
	bool rx_arrived;             /* pending[pending_pos] is off the wire: */
	uint8_t rx_byte;             /* ... as the line left it */
	bool rx_drop;
	sim_time_t rx_ready_at;      /* ... held back until then */
};

/* The interface the ROM talks on: the first to send 0x7F (AN2606 4). */
static struct link *rom_link(struct board *b)
{
	int i = b->rom->active >= 0 ? b->rom->active : ROM_USART_DEFAULT;

	return b->usart[i].link;
}

static bool chance(struct sim_line_faults *lf, uint32_t ppm)
{
	lf->rng = lf->rng * 1103515245u + 12345u;
	return (lf->rng >> 8) % 1000000u < ppm;
}

/*
 * The line's faults (sim_line_faults, sim_line_delays) on one byte: true to
 * drop it; *hold is how long it is held back on the wire.
 */
static bool line_fault(struct board *b, uint8_t *byte, sim_time_t *hold)
{
	struct sim_line_faults *lf = &b->line_faults;

	*hold = 0;
	if (lf->stall_ppm && chance(lf, lf->stall_ppm)) {
		*hold = lf->stall;
		lf->stalled++;
	} else if (lf->delay_ppm && chance(lf, lf->delay_ppm)) {
		*hold = lf->delay;
		lf->delayed++;
	}
	if (!lf->drop_ppm && !lf->corrupt_ppm)
		return false;
	if (chance(lf, lf->drop_ppm)) {
		lf->dropped++;
		return true;
	}
	if (chance(lf, lf->corrupt_ppm)) {
		*byte ^= (uint8_t)(1u << ((lf->rng >> 4) & 7u));
		lf->corrupted++;
	}
	return false;
}

static sim_time_t byte_time(const struct rom_state *r)
{
	return SIM_S(1) * ROM_FRAME_BITS / r->baud;
}

/* ---- Target operations for the protocol engine ---------------------------- */

static int op_read(void *ctx, uint32_t addr, uint8_t *buf, uint32_t len)
{
	struct board *b = ctx;

	return board_mem_read(b, addr, buf, len);
}

static bool in_flash(uint32_t addr, uint32_t len)
{
	return addr >= STM32_FLASH_BASE && addr < STM32_FLASH_BASE + STM32_FLASH_SIZE &&
	       len <= STM32_FLASH_BASE + STM32_FLASH_SIZE - addr;
}

static int op_write(void *ctx, uint32_t addr, const uint8_t *buf, uint32_t len)
{
	struct board *b = ctx;
	struct rom_state *r = b->rom;

	if (in_flash(addr, len)) {
		if (flash_rom_program(b, addr, buf, len, r->why, sizeof(r->why)) < 0) {
			if (b->powered)
				board_trace(b, SIM_TRACE_ROM, 0, "write memory refused: %s", r->why);
			return -1;
		}
		board_trace(b, SIM_TRACE_ROM, 0, "write memory: %u bytes programmed at 0x%08x",
			    len, addr);
		/* A cut point once the ACK is on the wire (rom_run). */
		r->block_written = true;
		r->block_addr = addr;
		return 0;
	}
	if (addr >= STM32_OPTION_BANK1_BASE && addr < STM32_OPTION_BANK1_BASE + 0x800) {
		if (flash_rom_write_options(b, addr, buf, len, r->why, sizeof(r->why)) < 0) {
			board_trace(b, SIM_TRACE_ROM, 0, "option byte write refused: %s", r->why);
			return -1;
		}
		/* AN3155 3.6: after writing the option bytes the ROM reloads them (reset). */
		b->rom->reset_after_reply = true;
		return 0;
	}
	if (board_mem_write(b, addr, buf, len) < 0)
		return -1;
	return 0;
}

static int op_erase_pages(void *ctx, const uint16_t *pages, uint32_t count)
{
	struct board *b = ctx;
	struct rom_state *r = b->rom;

	if (flash_rom_erase_pages(b, pages, count, r->why, sizeof(r->why)) < 0) {
		if (b->powered)
			board_trace(b, SIM_TRACE_ROM, 0, "erase refused: %s", r->why);
		return -1;
	}
	return 0;
}

static int op_erase_bank(void *ctx, int bank)
{
	struct board *b = ctx;
	struct rom_state *r = b->rom;

	if (flash_rom_erase_bank(b, bank, r->why, sizeof(r->why)) < 0) {
		if (b->powered)
			board_trace(b, SIM_TRACE_ROM, 0, "mass erase refused: %s", r->why);
		return -1;
	}
	return 0;
}

/* Start the CPU at the vector table at addr, as the ROM's Go does. */
static void rom_jump(struct board *b, uint32_t vectors, const char *why)
{
	uint32_t sp = 0, pc = 0, zero = 0;

	board_mem_read(b, vectors, &sp, 4);
	board_mem_read(b, vectors + 4, &pc, 4);
	board_trace(b, SIM_TRACE_ROM, 0, "%s: MSP=0x%08x, jump to 0x%08x", why, sp, pc);
	uc_reg_write(b->uc, UC_ARM_REG_CONTROL, &zero);
	uc_reg_write(b->uc, UC_ARM_REG_MSP, &sp);
	uc_reg_write(b->uc, UC_ARM_REG_SP, &sp);
	uc_reg_write(b->uc, UC_ARM_REG_PC, &pc);
	sim_event_cancel(b, &b->rom->iwdg_kick);
	b->rom->left = true;
	b->last_pc = STM32_SYSMEM_BASE;
	b->mode = MODE_CPU;
	if ((pc & 1u) == 0)
		board_fault(b, pc, "the ROM jumped to 0x%08x (from the vector at 0x%08x), an even address: no valid application there",
			    pc, vectors + 4);
}

static void op_go(void *ctx, uint32_t addr)
{
	struct board *b = ctx;
	char why[64];

	snprintf(why, sizeof(why), "Go 0x%08x", addr);
	board_cut_point(b, SIM_CUT_GO, addr);
	rom_jump(b, addr, why);
}

static int op_write_protect(void *ctx, const uint8_t *pages, uint32_t count)
{
	struct board *b = ctx;
	struct rom_state *r = b->rom;

	if (flash_rom_write_protect(b, pages, count, r->why, sizeof(r->why)) < 0)
		return -1;
	b->rom->reset_after_reply = true;
	return 0;
}

static int op_write_unprotect(void *ctx)
{
	struct board *b = ctx;
	struct rom_state *r = b->rom;

	if (flash_rom_write_unprotect(b, r->why, sizeof(r->why)) < 0)
		return -1;
	b->rom->reset_after_reply = true;
	return 0;
}

static int op_readout_protect(void *ctx)
{
	struct board *b = ctx;
	struct rom_state *r = b->rom;

	if (flash_rom_set_rdp(b, 1, r->why, sizeof(r->why)) < 0)
		return -1;
	b->rom->reset_after_reply = true;
	return 0;
}

static int op_readout_unprotect(void *ctx)
{
	struct board *b = ctx;
	struct rom_state *r = b->rom;

	/* Back to level 0 mass-erases the flash (RM0351 3.5.1). */
	if (flash_rom_set_rdp(b, 0, r->why, sizeof(r->why)) < 0)
		return -1;
	b->rom->reset_after_reply = true;
	return 0;
}

static int op_rdp_level(void *ctx)
{
	return flash_rdp_level(ctx);
}

static void op_tx(void *ctx, const uint8_t *buf, uint32_t len)
{
	struct board *b = ctx;
	struct rom_state *r = b->rom;
	uint32_t i;

	for (i = 0; i < len; i++) {
		uint8_t c = buf[i];
		sim_time_t hold;
		bool drop = line_fault(b, &c, &hold);

		if (!board_advance(b, byte_time(r) + hold))
			return;
		r->bytes_out++;
		if (!drop)
			link_write(rom_link(b), &c, 1);
	}
}

static const struct rom_target_ops rom_ops = {
	.read = op_read,
	.write = op_write,
	.erase_pages = op_erase_pages,
	.erase_bank = op_erase_bank,
	.go = op_go,
	.write_protect = op_write_protect,
	.write_unprotect = op_write_unprotect,
	.readout_protect = op_readout_protect,
	.readout_unprotect = op_readout_unprotect,
	.rdp_level = op_rdp_level,
	.tx = op_tx,
};

/* ---- Entry ------------------------------------------------------------------ */

static bool holds_sram_address(const struct board *b, uint32_t word)
{
	return word >= b->cfg.rom_sp_min && word <= b->cfg.rom_sp_max;
}

static void iwdg_kick(struct board *b, void *arg)
{
	(void)arg;
	iwdg_refresh(b);
	sim_event_schedule(b, &b->rom->iwdg_kick, ROM_IWDG_REFRESH);
}

void rom_enter(struct board *b, uint32_t entry_pc)
{
	struct rom_state *r = b->rom;
	uint32_t bank1 = 0, bank2 = 0;
	unsigned mem_mode = b->syscfg.memrmp & SYSCFG_MEMRMP_MEM_MODE;

	r->left = false;
	board_trace(b, SIM_TRACE_ROM, entry_pc, "ROM bootloader entered (0x0 shows %s)",
		    mem_mode == SYSCFG_MEM_MODE_SYSMEM ? "system memory" : "not system memory");
	board_cut_point(b, SIM_CUT_ROM_ENTRY, entry_pc);

	if (flash_rdp_level(b) == 2) {
		board_fault(b, entry_pc, "readout protection level 2: the ROM bootloader is disabled (AN2606)");
		return;
	}

	/*
	 * AN2606, STM32L47x/48x dual-bank boot: not booted through BOOT0, so
	 * look for valid code in bank 2, then in bank 1.
	 */
	if (mem_mode != SYSCFG_MEM_MODE_SYSMEM) {
		board_mem_read(b, STM32_FLASH_BANK2_BASE, &bank2, 4);
		board_mem_read(b, STM32_FLASH_BASE, &bank1, 4);
		if (b->alias_fb_mode) {
			uint32_t t = bank1;

			bank1 = bank2;
			bank2 = t;
		}
		if (holds_sram_address(b, bank2)) {
			b->syscfg.memrmp = SYSCFG_MEMRMP_FB_MODE;
			board_set_memory_mode(b, 0, true);
			rom_jump(b, STM32_FLASH_BASE + (b->alias_fb_mode ? 0 : STM32_FLASH_BANK_SIZE),
				 "dual-bank boot: bank 2 holds a stack pointer in SRAM, jumping to it");
			return;
		}
		if (holds_sram_address(b, bank1)) {
			rom_jump(b, STM32_FLASH_BASE + (b->alias_fb_mode ? STM32_FLASH_BANK_SIZE : 0),
				 "dual-bank boot: bank 1 holds a stack pointer in SRAM, jumping back to it (system memory was not remapped at 0x0, so the ROM did not see a BOOT0 boot)");
			return;
		}
		board_trace(b, SIM_TRACE_ROM, entry_pc,
			    "dual-bank boot: no valid code in bank 2 (0x%08x) nor bank 1 (0x%08x): the bootloader runs",
			    bank2, bank1);
	}

	r->ready = false;
	r->ready_at = b->now + (b->cfg.lse ? b->cfg.timing.rom_startup_lse :
				b->cfg.timing.rom_startup_no_lse);
	r->session_start = b->now;
	r->bytes_in = r->bytes_out = 0;
	r->active = -1;
	rom_usart_reset(&r->engine);
	if (b->iwdg.running) {
		/* AN2606: the ROM sets the prescaler to its maximum and keeps refreshing. */
		b->iwdg.pr = 6;
		iwdg_kick(b, NULL);
	}
}

/* ---- Running -------------------------------------------------------------- */

static void rom_become_ready(struct board *b)
{
	struct rom_state *r = b->rom;
	uint32_t host = link_host_baud(rom_link(b));

	r->ready = true;
	r->baud = host ? host : ROM_DEFAULT_BAUD;
	board_trace(b, SIM_TRACE_ROM, 0,
		    "ROM bootloader ready after %.1f ms, USART2 waits for 0x7F (%u baud, 8E1)%s",
		    (double)(b->now - r->session_start) / 1e9, r->baud,
		    b->usart[0].link || b->usart[2].link ? ", and USART1/USART3 too" : "");
}

/* Take what the host sent: from the active USART, or the first that speaks. */
static void fetch_input(struct board *b)
{
	struct rom_state *r = b->rom;
	int i;

	r->pending_pos = r->pending_len = 0;
	if (r->active >= 0) {
		r->pending_len = link_read(b->usart[r->active].link, r->pending, sizeof(r->pending));
		return;
	}
	for (i = 0; i < 3; i++) {
		if (!b->usart[i].link)
			continue;
		r->pending_len = link_read(b->usart[i].link, r->pending, sizeof(r->pending));
		if (r->pending_len) {
			r->active = i;
			if (i != ROM_USART_DEFAULT)
				board_trace(b, SIM_TRACE_ROM, 0, "the host speaks on USART%d: the ROM uses it", i + 1);
			return;
		}
	}
}

/* Discard what arrives while the ROM is not listening yet. */
static void drain_input(struct board *b)
{
	uint8_t buf[64];
	int i;

	for (i = 0; i < 3; i++)
		while (b->usart[i].link && link_read(b->usart[i].link, buf, sizeof(buf)))
			;
}

enum sim_stop_reason rom_run(struct board *b)
{
	struct rom_state *r = b->rom;
	struct link *link = rom_link(b);
	const struct sim_run_limits *lim = b->limits;

	if (!r->ready) {
		sim_time_t target = r->ready_at;

		if (lim && lim->until_time && lim->until_time < target)
			target = lim->until_time;
		if (target > b->now && !board_advance(b, target - b->now))
			return SIM_STOP_NONE;
		/* Bytes sent while the ROM is starting are lost. */
		drain_input(b);
		if (b->now < r->ready_at)
			return b->stop_requested ? SIM_STOP_NONE : SIM_STOP_TIME;
		rom_become_ready(b);
	}

	while (b->mode == MODE_ROM && b->powered && !b->reset_requested && !b->stop_requested) {
		if (r->pending_pos == r->pending_len)
			fetch_input(b);
		if (r->pending_pos < r->pending_len) {
			if (!r->rx_arrived) {
				sim_time_t hold;

				/* The byte has crossed the wire once its last bit arrived. */
				if (!board_advance(b, byte_time(r)))
					break;
				r->bytes_in++;
				r->rx_byte = r->pending[r->pending_pos];
				r->rx_drop = line_fault(b, &r->rx_byte, &hold);
				r->rx_ready_at = b->now + hold;
				r->rx_arrived = true;
			}
			if (b->now < r->rx_ready_at) {
				/* Held back on the line: wait for it, within the run's limit. */
				sim_time_t target = r->rx_ready_at;

				if (lim && lim->until_time && lim->until_time < target)
					target = lim->until_time;
				if (target > b->now && !board_advance(b, target - b->now))
					break;
				continue;
			}
			r->pending_pos++;
			r->rx_arrived = false;
			if (!r->rx_drop) {
				uint64_t nacks = rom_usart_nacks(&r->engine);

				rom_usart_rx(&r->engine, r->rx_byte);
				if (rom_usart_nacks(&r->engine) != nacks)
					board_trace(b, SIM_TRACE_ROM, 0, "NACK: %s",
						    rom_usart_last_nack(&r->engine));
			}
			if (r->block_written) {
				r->block_written = false;
				board_cut_point(b, SIM_CUT_BLOCK, r->block_addr);
			}
			/* AN3155: the ROM acknowledges, then the option bytes reload (reset). */
			if (r->reset_after_reply) {
				r->reset_after_reply = false;
				board_request_reset(b, SIM_RESET_OPTION_LOAD);
			}
			continue;
		}
		/* Nothing to read: wait, letting simulated time follow the wall clock. */
		link = rom_link(b);
		if (!link || link_fd(link) < 0) {
			/* A memory link: nothing can arrive while we run. */
			if (lim && lim->until_time && lim->until_time > b->now) {
				board_advance(b, lim->until_time - b->now);
				continue;
			}
			return SIM_STOP_ROM;
		} else {
			uint64_t t0 = board_wall_ns();
			sim_time_t target;

			link_wait(link, 5);
			/*
			 * Idle time follows the wall clock. In real time the
			 * board's clock is anchored to the wall clock, so time
			 * spent outside this wait (the host thinking) is not
			 * lost and the next bytes cannot run faster than real.
			 */
			if (b->cfg.realtime)
				target = b->sim_at_wall_start + SIM_NS(board_wall_ns() - b->wall_start_ns);
			else
				target = b->now + SIM_NS(board_wall_ns() - t0);
			if (lim && lim->until_time && target > lim->until_time)
				target = lim->until_time;
			if (target > b->now)
				board_advance(b, target - b->now);
			if (lim && lim->until_time && b->now >= lim->until_time) {
				b->stop_requested = true;
				b->stop_reason = SIM_STOP_TIME;
			}
		}
	}
	return SIM_STOP_NONE;
}

void rom_reset(struct board *b)
{
	struct rom_state *r = b->rom;

	sim_event_cancel(b, &r->iwdg_kick);
	r->ready = false;
	r->left = false;
	r->pending_len = r->pending_pos = 0;
	r->reset_after_reply = false;
	r->block_written = false;
	r->rx_arrived = false;
	r->active = -1;
	rom_usart_reset(&r->engine);
}

int rom_init(struct board *b, char *err, size_t errlen)
{
	struct rom_usart_config cfg = {
		.product_id = STM32_DEV_ID,
		.protocol_version = AN3155_L476_PROTOCOL_VERSION,
		.ram_reserved = b->cfg.rom_sram_reserved,
	};

	b->rom = calloc(1, sizeof(*b->rom));
	if (!b->rom) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rom_usart_init(&b->rom->engine, &cfg, &rom_ops, b);
	sim_event_init(&b->rom->iwdg_kick, "ROM IWDG refresh", iwdg_kick, NULL);
	return 0;
}

void rom_fini(struct board *b)
{
	free(b->rom);
	b->rom = NULL;
}

sim_time_t sim_rom_session_time(const struct sim_board *sb)
{
	const struct board *b = board_of_const(sb);

	return b->rom ? b->now - b->rom->session_start : 0;
}
