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
 *  - the independent watchdog rule (prescaler to maximum, kept refreshed),
 *    at the point of the start-up that cfg.rom_iwdg says;
 *  - the USART protocol of AN3155 on USART2 (the Nucleo's virtual COM
 *    port), with every byte taking its time on the wire at the host's baud
 *    rate in 8E1 framing, through the protocol engine in rom/rom_usart.c;
 *  - Go: MSP and PC loaded from the target, peripherals left as they are;
 *  - USB DFU on USB OTG FS (AN3156) through the engines in rom/rom_usb.c
 *    and rom/rom_dfu.c: offered only with an LSE or an HSE of a listed
 *    frequency, and only if the ROM was entered with interrupts enabled;
 *    the device attaches 300 ms after start-up to the board's USB link
 *    (usb_link.c: a test's in-process host, or umockdev for libusb
 *    programs), each control transfer takes its time on a full-speed bus,
 *    and the DFU work its flash time; it detaches on leave, reset or power
 *    cut. The first interface the host uses is the one the ROM keeps.
 *
 * While it waits for the host, simulated time follows the wall clock; with
 * an instant host (sim_config.instant_host) it stands still, so that what a
 * session takes is exactly the wire (serial or USB) and the flash, whatever
 * the host program or the machine running it costs (struct sim_rom_session).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "link.h"
#include "rom/rom_dfu.h"
#include "rom/rom_usart.h"
#include "rom/rom_usb.h"
#include "sysboot/an3155.h"
#include "sysboot/dfuse.h"
#include "usb_link.h"

#define ROM_USART_DEFAULT 1        /* USART2: PA2/PA3, the ST-LINK VCP */
#define ROM_DEFAULT_BAUD 115200u
#define ROM_IWDG_REFRESH SIM_MS(4)       /* under the 8 ms shortest timeout at /256 */
#define ROM_WAIT_MS      5         /* longest wall-clock wait for the host */

/* The DFU device (AN2606 STM32L47x/48x, AN3156); see docs/sim.md for sources. */
#define ROM_USB_PRODUCT  "STM32  BOOTLOADER"
#define ROM_USB_VENDOR   "STMicroelectronics"
#define ROM_USB_BCD      0x0200u   /* UNCERTAIN: an F4 ROM reports 1.00, newer ROMs 2.00 */
#define ROM_DFU_ATTRS    (DFU_ATTR_CAN_DNLOAD | DFU_ATTR_CAN_UPLOAD | DFU_ATTR_WILL_DETACH)
#define ROM_DFU_DETACH_MS 255u
#define ROM_USB_POWER_MA 100u

/* DfuSe memory layout strings of the alternate settings, as STM32L4 ROMs name them. */
static const char *const default_alt_names[SIM_DFU_ALTS] = {
	"@Internal Flash  /0x08000000/0512*0002Kg",
	"@Option Bytes  /0x1FFF7800/01*040 e",
	"@OTP Memory /0x1FFF7000/01*0001Ke",
	"@Device Feature/0xFFFF0000/01*004 e",
};

enum rom_usb_offer {
	USB_NOT_OFFERED,             /* no DFU clock, interrupts masked, or detached */
	USB_PENDING,                 /* attaches at usb_at */
	USB_ATTACHED,
};

enum rom_interface { IFACE_NONE, IFACE_USART, IFACE_USB };

struct rom_state {
	struct rom_usart engine;
	bool ready;                  /* start-up time elapsed */
	sim_time_t ready_at;
	uint32_t baud;
	struct sim_event iwdg_kick;
	bool left;                   /* Go executed: the CPU runs again */
	char why[160];
	struct sim_rom_session session; /* what the last session spent its time on */
	bool sent_last;              /* the last byte on the wire went to the host */
	bool reset_after_reply;      /* option bytes changed: reset once answered */
	int active;                  /* USART index chosen by the first 0x7F, -1 before */
	uint8_t pending[64];         /* read from the link, not yet on the wire */
	size_t pending_len, pending_pos;
	bool rx_arrived;             /* pending[pending_pos] is off the wire: */
	uint8_t rx_byte;             /* ... as the line left it */
	bool rx_drop;
	sim_time_t rx_ready_at;      /* ... held back until then */
	bool block_written;          /* a flash block is being acknowledged: */
	uint32_t block_addr;         /* ... a cut point once it is (cutpoint.c) */

	/* USB DFU. */
	struct rom_dfu dfu;
	struct rom_usb usbdev;
	struct rom_dfu_region regions[10];
	enum rom_usb_offer usb;
	sim_time_t usb_at;
	sim_time_t usb_poll_until;   /* the bwPollTimeout an instant host waits out */
	uint8_t usb_address;
	enum rom_interface selected; /* AN2606: the first interface used is kept */
	char serial[16];
};

/* The interface the ROM talks on: the first to send 0x7F (AN2606 4). */
static struct usart *rom_usart(struct board *b)
{
	return &b->usart[b->rom->active >= 0 ? b->rom->active : ROM_USART_DEFAULT];
}

static struct link *rom_link(struct board *b)
{
	return rom_usart(b)->link;
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
	return SIM_S(1) * AN3155_FRAME_BITS / r->baud;
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

/* Program flash (or OTP) for the host, its time counted in the session. */
static int rom_program(struct board *b, uint32_t addr, const uint8_t *buf, uint32_t len,
		       enum sim_trace_kind kind, const char *what)
{
	struct rom_state *r = b->rom;
	sim_time_t t0 = b->now;
	int ret = flash_rom_program(b, addr, buf, len, r->why, sizeof(r->why));

	r->session.program_time += b->now - t0;
	if (ret < 0) {
		if (b->powered)
			board_trace(b, kind, 0, "%s refused: %s", what, r->why);
		return ret;
	}
	board_trace(b, kind, 0, "%s: %u bytes programmed at 0x%08x", what, len, addr);
	/* A cut point once the host has been told (rom_run, serve_usb). */
	r->block_written = true;
	r->block_addr = addr;
	return ret;
}

/* The block programmed last has been acknowledged to the host. */
static void block_acknowledged(struct board *b)
{
	struct rom_state *r = b->rom;

	if (r->block_written) {
		r->block_written = false;
		board_cut_point(b, SIM_CUT_BLOCK, r->block_addr);
	}
}

static bool in_options(uint32_t addr)
{
	return addr >= STM32_OPTION_BANK1_BASE && addr < STM32_OPTION_BANK1_BASE + 0x800;
}

static int rom_write_options(struct board *b, uint32_t addr, const uint8_t *buf, uint32_t len,
			     enum sim_trace_kind kind, const char *what)
{
	struct rom_state *r = b->rom;

	if (flash_rom_write_options(b, addr, buf, len, r->why, sizeof(r->why)) < 0) {
		board_trace(b, kind, 0, "%s refused: %s", what, r->why);
		return -1;
	}
	return 0;
}

static int op_write(void *ctx, uint32_t addr, const uint8_t *buf, uint32_t len)
{
	struct board *b = ctx;

	if (in_flash(addr, len))
		return rom_program(b, addr, buf, len, SIM_TRACE_ROM, "write memory");
	if (in_options(addr)) {
		if (rom_write_options(b, addr, buf, len, SIM_TRACE_ROM, "option byte write") < 0)
			return -1;
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
	sim_time_t t0 = b->now;
	int ret = flash_rom_erase_pages(b, pages, count, r->why, sizeof(r->why));

	r->session.erase_time += b->now - t0;
	if (ret < 0) {
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
	sim_time_t t0 = b->now;
	int ret = flash_rom_erase_bank(b, bank, r->why, sizeof(r->why));

	r->session.erase_time += b->now - t0;
	if (ret < 0) {
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
		r->session.bytes_out++;
		r->sent_last = true;
		rom_usart(b)->tx_last = b->now;
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

/* ---- USB DFU: the DFU engine's target operations ------------------------------ */

static bool in_otp(uint32_t addr, uint32_t len)
{
	return addr >= STM32_OTP_BASE && addr < STM32_OTP_BASE + STM32_OTP_SIZE &&
	       len <= STM32_OTP_BASE + STM32_OTP_SIZE - addr;
}

static int dfu_read(void *ctx, uint32_t addr, uint8_t *buf, uint32_t len)
{
	return board_mem_read(ctx, addr, buf, len);
}

/* The option bytes take effect with the reset the DFU engine asks for (option_reset). */
static int dfu_write(void *ctx, uint32_t addr, const uint8_t *buf, uint32_t len)
{
	struct board *b = ctx;

	if (in_flash(addr, len) || in_otp(addr, len))
		return rom_program(b, addr, buf, len, SIM_TRACE_USB, "DFU write");
	if (in_options(addr))
		return rom_write_options(b, addr, buf, len, SIM_TRACE_USB, "DFU option byte write");
	return board_mem_write(b, addr, buf, len);
}

static int dfu_erase_page(void *ctx, uint32_t addr)
{
	struct board *b = ctx;
	uint16_t page = (uint16_t)((addr - STM32_FLASH_BASE) / STM32_FLASH_PAGE_SIZE);

	if (flash_page_write_protected(b, page))
		return ROM_DFU_ERASE_PROTECTED;
	return op_erase_pages(b, &page, 1) < 0 ? ROM_DFU_ERASE_FAILED : ROM_DFU_ERASED;
}

static int dfu_mass_erase(void *ctx)
{
	return op_erase_bank(ctx, 0);
}

static int dfu_read_unprotect(void *ctx)
{
	struct board *b = ctx;

	/* RM0351 3.5.1: back to level 0 erases the flash; the options reload (reset). */
	if (op_readout_unprotect(b) < 0)
		return -1;
	b->rom->reset_after_reply = false;
	board_request_reset(b, SIM_RESET_OPTION_LOAD);
	return 0;
}

static void usb_detach(struct board *b, const char *why);

/* Valid code at vectors: a stack pointer in SRAM and an odd entry in memory. */
static bool holds_code(struct board *b, uint32_t vectors, uint32_t *sp, uint32_t *pc)
{
	*sp = *pc = 0;
	if (board_mem_read(b, vectors, sp, 4) < 0 || board_mem_read(b, vectors + 4, pc, 4) < 0)
		return false;
	return *sp >= b->cfg.rom_sp_min && *sp <= b->cfg.rom_sp_max && (*pc & 1u) &&
	       (in_flash(*pc & ~1u, 2) ||
		(*pc >= STM32_SRAM1_BASE && *pc < STM32_SRAM1_BASE + STM32_SRAM1_SIZE + STM32_SRAM2_SIZE) ||
		(*pc >= STM32_SRAM2_BASE && *pc < STM32_SRAM2_BASE + STM32_SRAM2_SIZE));
}

static void dfu_leave(void *ctx, uint32_t addr)
{
	struct board *b = ctx;
	uint32_t sp, pc;
	char why[64];

	usb_detach(b, "the ROM leaves DFU mode");
	if (!holds_code(b, addr, &sp, &pc)) {
		/* AN3156 "Leave DFU mode": no executable code there, the device resets. */
		board_trace(b, SIM_TRACE_ROM, 0,
			    "DFU leave to 0x%08x: no code there (SP 0x%08x, reset vector 0x%08x): the ROM resets the chip",
			    addr, sp, pc);
		board_request_reset(b, SIM_RESET_SOFTWARE);
		return;
	}
	snprintf(why, sizeof(why), "DFU leave to 0x%08x", addr);
	board_cut_point(b, SIM_CUT_GO, addr);
	rom_jump(b, addr, why);
}

static void dfu_option_reset(void *ctx)
{
	board_request_reset(ctx, SIM_RESET_OPTION_LOAD);
}

static void dfu_detach(void *ctx)
{
	struct board *b = ctx;

	usb_detach(b, "DFU_DETACH");
	b->rom->usb = USB_PENDING;
	b->rom->usb_at = b->now + b->cfg.timing.rom_usb_connect;
}

static void dfu_trace(void *ctx, const char *text)
{
	board_trace(ctx, SIM_TRACE_USB, 0, "%s", text);
}

static const struct rom_dfu_ops dfu_ops = {
	.read = dfu_read,
	.write = dfu_write,
	.erase_page = dfu_erase_page,
	.mass_erase = dfu_mass_erase,
	.read_unprotect = dfu_read_unprotect,
	.rdp_level = op_rdp_level,
	.leave = dfu_leave,
	.option_reset = dfu_option_reset,
	.detach = dfu_detach,
	.trace = dfu_trace,
};

/* ---- USB DFU: offer, attach, serve, detach ------------------------------------ */

/* At entry: does the ROM offer USB DFU, and will it work? (rom_usb_verdict.c) */
static void usb_decide(struct board *b)
{
	struct rom_state *r = b->rom;
	struct rom_usb_verdict v;

	rom_usb_judge(b, &v);
	r->usb = USB_NOT_OFFERED;
	if (!v.clock) {
		board_trace(b, SIM_TRACE_USB, 0,
			    "USB DFU not offered: %s; the ROM clocks USB from the LSE or such an HSE (AN2606), so no USB device appears",
			    v.clock_why);
		return;
	}
	if (!v.irq) {
		board_trace(b, SIM_TRACE_USB, 0,
			    "USB DFU not working: %s; the ROM's USB DFU is interrupt driven (AN2606), so the device never enumerates. Jump to the bootloader from thread mode with PRIMASK, FAULTMASK and BASEPRI clear",
			    v.irq_why);
		return;
	}
	r->usb = USB_PENDING;
	r->usb_at = r->ready_at + b->cfg.timing.rom_usb_connect;
}

/* AN2606 does not say how the L476 ROM builds its serial string; the F2/F4 ROMs do this. */
static void usb_serial(struct board *b, char *buf, size_t n)
{
	uint16_t uid[6] = { 0 };

	if (b->cfg.usb_serial) {
		snprintf(buf, n, "%s", b->cfg.usb_serial);
		return;
	}
	board_mem_read(b, STM32_UID_BASE, uid, sizeof(uid));
	snprintf(buf, n, "%04X%04X%04X", (uint16_t)(uid[1] + uid[5]), (uint16_t)(uid[0] + uid[4]), uid[3]);
}

static void usb_attach(struct board *b)
{
	struct rom_state *r = b->rom;
	struct rom_usb_config uc = {
		.vid = DFUSE_VID, .pid = DFUSE_PID,
		.bcd_usb = ROM_USB_BCD, .bcd_device = b->cfg.usb_bcd_device,
		.manufacturer = ROM_USB_VENDOR, .product = ROM_USB_PRODUCT, .serial = r->serial,
		.nalts = SIM_DFU_ALTS, .self_powered = true, .max_power_ma = ROM_USB_POWER_MA,
		.functional = { .attributes = ROM_DFU_ATTRS, .detach_timeout_ms = ROM_DFU_DETACH_MS,
				.transfer_size = DFUSE_TRANSFER_SIZE, .bcd_dfu = DFUSE_BCD_DFU },
	};
	uint8_t desc[256];
	struct usb_device_info info;
	char err[256];
	unsigned i;

	usb_serial(b, r->serial, sizeof(r->serial));
	for (i = 0; i < SIM_DFU_ALTS; i++)
		uc.alt_names[i] = b->cfg.dfu_alt_names[i] ? b->cfg.dfu_alt_names[i] : default_alt_names[i];
	rom_usb_init(&r->usbdev, &uc, &r->dfu);
	r->usb = USB_ATTACHED;
	r->usb_address = 1;
	if (!b->usb) {
		board_trace(b, SIM_TRACE_USB, 0,
			    "USB DFU device attached (0483:df11, serial %s), but nothing is on the emulator's USB connector",
			    r->serial);
		return;
	}
	info = (struct usb_device_info){
		.descriptors = desc, .descriptors_len = rom_usb_descriptors(&r->usbdev, desc, sizeof(desc)),
		.vid = uc.vid, .pid = uc.pid, .bcd_device = uc.bcd_device,
		.manufacturer = uc.manufacturer, .product = uc.product, .serial = uc.serial,
		.nalts = uc.nalts,
	};
	if (usb_link_attach(b->usb, &info, &r->usb_address, err, sizeof(err)) < 0) {
		r->usb = USB_NOT_OFFERED;
		board_trace(b, SIM_TRACE_USB, 0, "USB DFU device could not attach: %s", err);
		return;
	}
	/* The host's stack enumerates it: address, configuration 1. */
	rom_usb_enumerate(&r->usbdev, r->usb_address);
	board_trace(b, SIM_TRACE_USB, 0,
		    "USB DFU device attached: %04x:%04x \"%s\", serial %s, bus 1 device %u, %u alternate settings",
		    uc.vid, uc.pid, uc.product, r->serial, r->usb_address, uc.nalts);
}

static void usb_detach(struct board *b, const char *why)
{
	struct rom_state *r = b->rom;

	if (r->usb == USB_PENDING) {
		r->usb = USB_NOT_OFFERED;
		return;
	}
	if (r->usb != USB_ATTACHED)
		return;
	r->usb = USB_NOT_OFFERED;
	if (b->usb)
		usb_link_detach(b->usb);
	board_trace(b, SIM_TRACE_USB, 0, "USB DFU device detached: %s", why);
}

/* One transfer from the host, if one waits. True if something was done. */
static bool serve_usb(struct board *b)
{
	struct rom_state *r = b->rom;
	struct usb_xfer *x;
	enum rom_dfu_result res;
	uint16_t len = 0;
	sim_time_t bus;
	uint32_t told_addr;
	bool dfu, told, work_first;

	if (!b->usb || r->usb != USB_ATTACHED || !(x = usb_link_next(b->usb)))
		return false;
	/*
	 * An instant host sends its next request the moment the board can
	 * take it, but not before the bwPollTimeout the last GETSTATUS gave
	 * (DFU 1.1 6.1.2, as dfu-util and sysboot wait): the device asked for
	 * that wait, so it counts, where the flash work was shorter.
	 */
	if (b->cfg.instant_host && r->usb_poll_until > b->now) {
		sim_time_t wait = r->usb_poll_until - b->now;

		r->session.usb_poll_wait += wait;
		if (!board_advance(b, wait)) {
			usb_link_complete(b->usb, x, -ENODEV, 0);
			return true;
		}
	}
	r->usb_poll_until = 0;
	if (x->kind == USB_XFER_BUS_RESET) {
		/* Linux restores the address and configuration after a port reset. */
		rom_usb_enumerate(&r->usbdev, r->usb_address);
		board_trace(b, SIM_TRACE_USB, 0, "USB bus reset by the host: the DFU state machine is back in dfuIDLE");
		usb_link_complete(b->usb, x, 0, 0);
		return true;
	}
	dfu = (x->setup.request_type & USB_TYPE_MASK) == USB_TYPE_CLASS;
	if (dfu && r->selected == IFACE_NONE) {
		r->selected = IFACE_USB;
		board_trace(b, SIM_TRACE_USB, 0, "the host speaks USB DFU: the ROM uses it and stops listening on its USARTs");
	}
	if (!r->session.first_byte)
		r->session.first_byte = b->now;
	res = rom_usb_control(&r->usbdev, &x->setup, x->data, &len);
	if (!(x->setup.request_type & USB_DIR_IN))
		len = x->setup.length;   /* an accepted OUT data stage went through whole */
	/* The answer reaches the host once the transfer has crossed the bus. */
	bus = (sim_time_t)rom_usb_control_bits(len) * b->cfg.timing.usb_bit;
	r->session.usb_transfers++;
	r->session.usb_bus_time += bus;
	if (!board_advance(b, bus)) {
		usb_link_complete(b->usb, x, -ENODEV, 0);
		return true;
	}
	/*
	 * A block programmed by an earlier request's work is reported to the
	 * host by this answer (its GETSTATUS); this one's waits for the next.
	 */
	told = r->block_written;
	told_addr = r->block_addr;
	r->block_written = false;
	/*
	 * Where the download's flash work runs (sim_config.dfu_work): after
	 * this GETSTATUS has reached the host, below, or before its status
	 * stage completes, so that the host has its answer only once the
	 * work is done (and its bwPollTimeout starts then).
	 */
	work_first = b->cfg.dfu_work == SIM_DFU_WORK_IN_STATUS && rom_dfu_download_pending(&r->dfu);
	if (work_first) {
		rom_dfu_complete(&r->dfu);
		if (!b->powered || r->usb != USB_ATTACHED) {
			usb_link_complete(b->usb, x, -ENODEV, 0);
			return true;
		}
	}
	r->session.usb_last_answer = b->now;
	if (dfu && x->setup.request == DFU_GETSTATUS && res == ROM_DFU_ACK && r->dfu.poll_ms)
		r->usb_poll_until = b->now + SIM_MS(r->dfu.poll_ms);
	if (res == ROM_DFU_STALL && !dfu)
		board_trace(b, SIM_TRACE_USB, 0, "USB stall: %s", rom_usb_last_stall(&r->usbdev));
	usb_link_complete(b->usb, x, res == ROM_DFU_ACK ? 0 : -EPIPE, len);
	if (told)
		board_cut_point(b, SIM_CUT_BLOCK, told_addr);
	/* What the answered GETSTATUS started: flash work, leave, detach. */
	if (!work_first)
		rom_dfu_complete(&r->dfu);
	return true;
}

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

/*
 * AN2606: with the independent watchdog running, the ROM sets its
 * prescaler to the maximum and refreshes it; keep_refreshing also starts
 * the periodic refresh (otherwise that waits for the end of the start-up).
 */
static void rom_take_watchdog(struct board *b, bool keep_refreshing)
{
	b->iwdg.pr = 6;
	if (keep_refreshing)
		iwdg_kick(b, NULL);
	else
		iwdg_refresh(b);
	board_trace(b, SIM_TRACE_WATCHDOG, 0,
		    "the ROM sets the watchdog prescaler to /256 and reloads it: timeout %.1f ms%s",
		    (double)iwdg_period(b) / 1e9,
		    keep_refreshing ? ", refreshed from now on" : ", refreshed again once the ROM is ready");
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
	memset(&r->session, 0, sizeof(r->session));
	r->session.entered = b->now;
	r->usb_poll_until = 0;
	r->sent_last = false;
	r->active = -1;
	r->selected = IFACE_NONE;
	rom_usart_reset(&r->engine);
	usb_decide(b);
	if (b->iwdg.running && b->cfg.rom_iwdg != SIM_ROM_IWDG_READY)
		rom_take_watchdog(b, b->cfg.rom_iwdg == SIM_ROM_IWDG_ALWAYS);
}

/* ---- Running -------------------------------------------------------------- */

static void rom_become_ready(struct board *b)
{
	struct rom_state *r = b->rom;
	uint32_t host = link_host_baud(rom_link(b));

	r->ready = true;
	r->baud = host ? host : ROM_DEFAULT_BAUD;
	r->session.frame_time = byte_time(r);
	if (b->iwdg.running && !b->rom->iwdg_kick.armed) {
		if (b->cfg.rom_iwdg == SIM_ROM_IWDG_READY)
			rom_take_watchdog(b, true);
		else
			iwdg_kick(b, NULL);
	}
	board_trace(b, SIM_TRACE_ROM, 0,
		    "ROM bootloader ready after %.1f ms, USART2 waits for 0x7F (%u baud, 8E1)%s%s",
		    (double)(b->now - r->session.entered) / 1e9, r->baud,
		    b->usart[0].link || b->usart[2].link ? ", and USART1/USART3 too" : "",
		    r->usb == USB_PENDING ? "; USB DFU attaches 300 ms later" : "");
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

/*
 * Nothing to do: wait for the host (its serial line, its USB transfers),
 * letting simulated time follow the wall clock (or stand still for an
 * instant host). Returns false when nothing can arrive now and no
 * deadline is due: the caller stops, so that a test or the command acts.
 */
static bool rom_wait(struct board *b)
{
	struct rom_state *r = b->rom;
	const struct sim_run_limits *lim = b->limits;
	struct link *link = rom_link(b);
	struct pollfd pfd[2];
	nfds_t n = 0, i;
	uint64_t t0;
	sim_time_t target;
	bool input = false, usb_ready = false;

	if (b->usb && usb_link_fd(b->usb) >= 0 && r->usb == USB_ATTACHED) {
		pfd[n++] = (struct pollfd){ .fd = usb_link_fd(b->usb), .events = POLLIN };
		if (link && link_fd(link) >= 0)
			pfd[n++] = (struct pollfd){ .fd = link_fd(link), .events = POLLIN };
	}
	if (!n && (!link || link_fd(link) < 0)) {
		/* In-process links: nothing can arrive while we run. */
		target = r->usb == USB_PENDING && b->usb ? r->usb_at : 0;
		if (lim && lim->until_time && (!target || lim->until_time < target))
			target = lim->until_time;
		if (!target)
			return false;
		if (target > b->now)
			board_advance(b, target - b->now);
		return true;
	}
	t0 = board_wall_ns();
	if (!n) {
		/* The serial line alone: its own wait knows what counts as input. */
		input = link_wait(link, ROM_WAIT_MS);
	} else if (poll(pfd, n, ROM_WAIT_MS) > 0) {
		/* The USB queue (first) is readable while transfers wait; any line activity counts too. */
		usb_ready = (pfd[0].revents & POLLIN) != 0;
		for (i = 0; i < n; i++)
			input |= (pfd[i].revents & (POLLIN | POLLHUP)) != 0;
	}
	if (r->session.first_byte)
		r->session.host_wait_ns += board_wall_ns() - t0;
	if (b->cfg.instant_host) {
		/*
		 * The host answers at once: its next byte or transfer starts
		 * the moment the board is ready for it, however long the
		 * program took. Only the USB attach is worth waiting for.
		 */
		if (usb_ready)
			return true;
		if (input) {
			fetch_input(b);
			if (r->pending_pos < r->pending_len)
				return true;
		}
		if (r->usb != USB_PENDING || !b->usb)
			return false;
		target = r->usb_at;
		if (lim && lim->until_time && lim->until_time < target)
			target = lim->until_time;
		if (target > b->now)
			board_advance(b, target - b->now);
		return true;
	}
	/*
	 * Idle time follows the wall clock. In real time the board's clock
	 * is anchored to the wall clock, so time spent outside this wait (the
	 * host thinking) is not lost and the next bytes cannot run faster
	 * than real.
	 */
	if (b->cfg.realtime)
		target = b->sim_at_wall_start + SIM_NS(board_wall_ns() - b->wall_start_ns);
	else
		target = b->now + SIM_NS(board_wall_ns() - t0);
	if (lim && lim->until_time && target > lim->until_time)
		target = lim->until_time;
	if (target > b->now) {
		if (r->session.first_byte)
			r->session.idle_time += target - b->now;
		board_advance(b, target - b->now);
	}
	if (lim && lim->until_time && b->now >= lim->until_time) {
		b->stop_requested = true;
		b->stop_reason = SIM_STOP_TIME;
	}
	return true;
}

/* A byte from the host reached the ROM's USART engine. */
static void usart_byte(struct board *b, uint8_t c)
{
	struct rom_state *r = b->rom;

	uint64_t nacks = rom_usart_nacks(&r->engine);

	if (r->selected == IFACE_USB)
		return;              /* the host chose USB DFU: the USARTs are not listened to */
	rom_usart_rx(&r->engine, c);
	if (rom_usart_nacks(&r->engine) != nacks)
		board_trace(b, SIM_TRACE_ROM, 0, "NACK: %s", rom_usart_last_nack(&r->engine));
	if (r->selected == IFACE_NONE && rom_usart_synced(&r->engine)) {
		r->selected = IFACE_USART;
		usb_detach(b, "the host spoke on a USART first: the ROM uses that interface");
	}
}

enum sim_stop_reason rom_run(struct board *b)
{
	struct rom_state *r = b->rom;
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
		if (r->usb == USB_PENDING && b->now >= r->usb_at)
			usb_attach(b);
		if (serve_usb(b)) {
			/* An in-process host must see its answer before more time passes. */
			if (b->usb && usb_link_take_answered(b->usb))
				return SIM_STOP_ROM;
			continue;
		}
		if (r->pending_pos == r->pending_len)
			fetch_input(b);
		if (r->pending_pos < r->pending_len) {
			if (!r->rx_arrived) {
				sim_time_t hold;

				if (!r->session.first_byte)
					r->session.first_byte = b->now;
				if (r->sent_last)
					r->session.turnarounds++;
				r->sent_last = false;
				/* The byte has crossed the wire once its last bit arrived. */
				if (!board_advance(b, byte_time(r)))
					break;
				r->session.bytes_in++;
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
			if (!r->rx_drop)
				usart_byte(b, r->rx_byte);
			block_acknowledged(b);
			/* AN3155: the ROM acknowledges, then the option bytes reload (reset). */
			if (r->reset_after_reply) {
				r->reset_after_reply = false;
				board_request_reset(b, SIM_RESET_OPTION_LOAD);
			}
			continue;
		}
		if (!rom_wait(b))
			return SIM_STOP_ROM;
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
	r->rx_arrived = false;
	r->block_written = false;
	r->reset_after_reply = false;
	r->active = -1;
	r->selected = IFACE_NONE;
	rom_usart_reset(&r->engine);
	usb_detach(b, "the chip resets");
}

void rom_power_lost(struct board *b)
{
	usb_detach(b, "power cut");
}

/* The DFU engine with the STM32L476 memory map as the ROM checks it (AN3156 6). */
static void dfu_init(struct board *b)
{
	struct rom_state *r = b->rom;
	const struct sim_timing *t = &b->cfg.timing;
	uint32_t reserved = b->cfg.rom_sram_reserved;
	const struct rom_dfu_region regions[] = {
		{ STM32_FLASH_BASE, STM32_FLASH_SIZE,
		  ROM_DFU_READ | ROM_DFU_WRITE | ROM_DFU_ERASE | ROM_DFU_POINTER, ROM_DFU_MEM_FLASH, "flash" },
		{ STM32_SRAM1_BASE, reserved, ROM_DFU_READ | ROM_DFU_POINTER, ROM_DFU_MEM_RAM,
		  "the part of SRAM1 the ROM uses" },
		{ STM32_SRAM1_BASE + reserved, STM32_SRAM1_SIZE - reserved,
		  ROM_DFU_READ | ROM_DFU_WRITE | ROM_DFU_POINTER, ROM_DFU_MEM_RAM, "SRAM1" },
		{ STM32_SRAM2_ALIAS_BASE, STM32_SRAM2_SIZE,
		  ROM_DFU_READ | ROM_DFU_WRITE | ROM_DFU_POINTER, ROM_DFU_MEM_RAM, "SRAM2" },
		{ STM32_SRAM2_BASE, STM32_SRAM2_SIZE,
		  ROM_DFU_READ | ROM_DFU_WRITE | ROM_DFU_POINTER, ROM_DFU_MEM_RAM, "SRAM2" },
		{ STM32_SYSMEM_BASE, STM32_SYSMEM_SIZE, ROM_DFU_READ | ROM_DFU_POINTER, ROM_DFU_MEM_SYSTEM,
		  "system memory" },
		{ STM32_OTP_BASE, STM32_OTP_SIZE, ROM_DFU_READ | ROM_DFU_WRITE | ROM_DFU_POINTER,
		  ROM_DFU_MEM_OTP, "OTP" },
		{ STM32_OPTION_BANK1_BASE, 40, ROM_DFU_READ | ROM_DFU_WRITE | ROM_DFU_POINTER,
		  ROM_DFU_MEM_OPTIONS, "the option bytes" },
		/* UNCERTAIN: bank 2's option bytes are readable; writing them is not modelled. */
		{ STM32_OPTION_BANK2_BASE, 40, ROM_DFU_READ | ROM_DFU_POINTER, ROM_DFU_MEM_OPTIONS,
		  "the bank 2 option bytes" },
		{ 0xFFFF0000u, 4, ROM_DFU_READ | ROM_DFU_WRITE | ROM_DFU_POINTER, ROM_DFU_MEM_FEATURE,
		  "the Device Feature area" },
	};
	struct rom_dfu_config dc = {
		.transfer_size = DFUSE_TRANSFER_SIZE,
		.default_pointer = STM32_FLASH_BASE,
		.regions = r->regions,
		.nregions = sizeof(regions) / sizeof(regions[0]),
		.flash_page_size = STM32_FLASH_PAGE_SIZE,
		.write_padding_limit = DFUSE_ROM_LONG_WRITE,
		.tail = b->cfg.dfu_tail == SIM_DFU_TAIL_PAD ? ROM_DFU_TAIL_PAD :
			b->cfg.dfu_tail == SIM_DFU_TAIL_ERROR ? ROM_DFU_TAIL_ERROR : ROM_DFU_TAIL_LOST,
		.dword_program_ns = (uint32_t)(t->flash_dword_program / 1000u),
		.page_erase_ns = (uint32_t)(t->flash_page_erase / 1000u),
		.mass_erase_ns = (uint32_t)(t->flash_bank_erase / 1000u),
	};

	memcpy(r->regions, regions, sizeof(regions));
	rom_dfu_init(&r->dfu, &dc, &dfu_ops, b);
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
	dfu_init(b);
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

	return b->rom ? b->now - b->rom->session.entered : 0;
}

void sim_rom_session(const struct sim_board *sb, struct sim_rom_session *s)
{
	const struct board *b = board_of_const(sb);

	if (b->rom)
		*s = b->rom->session;
	else
		memset(s, 0, sizeof(*s));
}

/* ---- The in-process USB host (tests) ------------------------------------------------ */

bool sim_usb_attached(const struct sim_board *sb)
{
	const struct board *b = board_of_const(sb);

	return b->rom && b->rom->usb == USB_ATTACHED;
}

static void memory_xfer_done(struct usb_xfer *x)
{
	*(bool *)x->owner = true;
}

int sim_usb_control(struct sim_board *sb, uint8_t request_type, uint8_t request, uint16_t value,
		    uint16_t index, void *data, uint16_t length, sim_time_t timeout)
{
	struct board *b = board_of(sb);
	bool answered = false;
	struct usb_xfer x = {
		.kind = USB_XFER_CONTROL,
		.setup = { request_type, request, value, index, length },
		.data = data,
		.done = memory_xfer_done,
		.owner = &answered,
	};
	struct sim_run_limits lim = { .until_time = b->now + timeout };
	uint8_t dummy;

	if (!length)
		x.data = &dummy;
	if (!b->usb || !b->rom || !sim_usb_attached(sb))
		return -ENODEV;
	x.generation = usb_link_generation(b->usb);
	if (usb_link_submit(b->usb, &x) < 0)
		return -ENODEV;
	while (!answered && b->powered && b->now < lim.until_time) {
		enum sim_stop_reason why = sim_run(sb, &lim);

		if (why == SIM_STOP_FAULT || why == SIM_STOP_POWER_OFF)
			break;
	}
	if (!answered) {
		usb_link_cancel(b->usb, &x);
		return b->powered ? -ETIMEDOUT : -ENODEV;
	}
	return x.status < 0 ? x.status : x.actual;
}

const char *sim_usb_env(const struct sim_board *sb)
{
	const struct board *b = board_of_const(sb);

	return b->usb ? usb_link_env(b->usb) : "";
}
