/*
 * bl_dfuse.c - the bootloader backend over USB DFU (DfuSe, AN3156).
 *
 * Three things differ from the serial path and live here. Entering: a USB
 * board's application cannot be asked over USB (the ROM's DFU device only
 * exists once the ROM runs), so it is asked over its serial line
 * (--enter-port) or by the user's own command (--enter-exec), or it is
 * already in DFU; then the device is waited for, re-enumerating the bus on
 * every poll. Identifying: DFU has no Get ID, so the chip is known by what
 * the device reports: the ROM's IDs (0483:df11, AN2606) and the layout of
 * its internal flash (1 MB in 2 KB pages from 0x08000000 for the
 * STM32L47x/48x, RM0351 3.3.1); anything else is the wrong chip. After a
 * go: the ROM leaves the bus, and the stub starts it again when it refuses
 * the image, so its DFU device coming back is the stub's verdict.
 */
#include "bootloader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfuse.h"
#include "sysboot/dfuse.h"
#include "sysboot/stm32l476.h"
#include "usb.h"

#define POLL_MS          100u
/*
 * A device that has just appeared may refuse to open for a moment: udev
 * applies the rule that grants the user access after the kernel creates
 * the node. Beyond this, the permission is really missing.
 */
#define ACCESS_GRACE_S   1.0
#define FLASH_ALT_NAME   "Internal Flash"
/* AN2606: what the ROM needs to offer USB at all on this part. */
#define DFU_CLOCK_ADVICE "the ROM offers USB DFU only with an LSE (32.768 kHz) " \
	"or an HSE of 24, 20, 18, 16, 12, 9, 8, 6 or 4 MHz (AN2606); a board " \
	"without one has no DFU device: update it over its serial port instead"

struct dfu_backend {
	struct dfuse d;
	const struct usb_provider *p;
	struct usb_spec spec;
	struct usb_device_info info;
	void *handle;
};

static enum op_status op_from_df(enum df_rc rc)
{
	switch (rc) {
	case DF_OK: return OP_OK;
	case DF_ERR_REFUSED: return OP_ERR_NACK;
	case DF_ERR_TIMEOUT: return OP_ERR_TIMEOUT;
	case DF_ERR_GONE: return OP_ERR_LINK;
	case DF_ERR_IO: return OP_ERR_LINK;
	case DF_ERR_PROTOCOL: return OP_ERR_PROTOCOL;
	case DF_ERR_ARG: return OP_ERR_USAGE;
	}
	return OP_ERR_INTERNAL;
}

static enum op_status df_result(struct session *s, enum df_rc rc)
{
	if (rc != DF_OK)
		snprintf(s->err, sizeof(s->err), "%s", dfuse_error(&s->dfb->d));
	return op_from_df(rc);
}

const struct usb_device_info *dfuse_session_device(const struct session *s)
{
	return s->dfb ? &s->dfb->info : NULL;
}

struct dfuse *dfuse_session_client(struct session *s)
{
	return s->dfb ? &s->dfb->d : NULL;
}

/* Let go of the device (it may be gone already), keep what it said. */
static void release_device(struct dfu_backend *b)
{
	if (b->handle)
		b->p->close(b->handle);
	b->handle = NULL;
}

static void df_close(struct session *s)
{
	if (s->dfb) {
		/* A read keeps the device in dfuUPLOAD-IDLE: leave it idle. */
		if (s->dfb->handle)
			(void)dfuse_finish(&s->dfb->d);
		release_device(s->dfb);
	}
	free(s->dfb);
	s->dfb = NULL;
	transport_close(s->app);
	s->app = NULL;
}

/* ---- Which chip ---------------------------------------------------------- */

/*
 * The STM32L47x/48x's flash as the ROM describes it: 1 MB of 2 KB pages
 * from 0x08000000, readable, erasable and writable (one run of 512 pages,
 * or one per bank).
 */
static bool is_l476_flash(const struct dfuse_layout *l)
{
	uint32_t next = STM32_FLASH_BASE;
	unsigned i;

	for (i = 0; i < l->nregions; i++) {
		const struct dfuse_region *r = &l->region[i];

		if (r->addr != next || r->size != STM32_FLASH_PAGE_SIZE ||
		    (r->flags & 7u) != 7u)
			return false;
		next += r->count * r->size;
		if (next > STM32_FLASH_BASE + STM32_FLASH_SIZE)
			return false;
	}
	return next == STM32_FLASH_BASE + STM32_FLASH_SIZE;
}

static uint64_t layout_bytes(const struct dfuse_layout *l)
{
	uint64_t n = 0;
	unsigned i;

	for (i = 0; i < l->nregions; i++)
		n += (uint64_t)l->region[i].count * l->region[i].size;
	return n;
}

static enum op_status check_chip(struct dfu_backend *b, const char *port,
				 unsigned *flash_index, char *err, size_t errlen)
{
	const struct usb_device_info *info = &b->info;
	const struct dfuse_alt *a;

	if (info->vid != DFUSE_VID || info->pid != DFUSE_PID) {
		snprintf(err, errlen, "wrong chip: USB device %04x:%04x on %s is not "
			 "the STM32 ROM bootloader (%04x:%04x, AN2606)", info->vid,
			 info->pid, port, DFUSE_VID, DFUSE_PID);
		return OP_ERR_WRONG_CHIP;
	}
	a = dfuse_find_alt(&b->d, FLASH_ALT_NAME);
	if (!a) {
		snprintf(err, errlen, "wrong chip: the DFU device on %s has no \"@%s\" "
			 "memory among its %u alternate setting%s (the first says "
			 "\"%s\"), so it is not an STM32L47x/48x ROM bootloader", port,
			 FLASH_ALT_NAME, b->d.nalts, b->d.nalts == 1 ? "" : "s",
			 b->d.nalts ? b->d.alts[0].desc : "");
		return OP_ERR_WRONG_CHIP;
	}
	if (!is_l476_flash(&a->layout)) {
		snprintf(err, errlen, "wrong chip: the DFU device on %s describes its "
			 "internal flash as \"%s\" (%llu KB in %u-byte sectors from "
			 "0x%08x), but an STM32L47x/48x has 1 MB in 2 KB pages from "
			 "0x%08x (2 banks of 256)", port, a->desc,
			 (unsigned long long)(layout_bytes(&a->layout) / 1024),
			 a->layout.region[0].size, a->layout.region[0].addr,
			 STM32_FLASH_BASE);
		return OP_ERR_WRONG_CHIP;
	}
	*flash_index = (unsigned)(a - b->d.alts);
	return OP_OK;
}

/* The largest power of two not above wTransferSize, at most a page. */
static size_t block_for(uint16_t transfer_size)
{
	size_t b = STM32_FLASH_PAGE_SIZE;

	while (b > transfer_size)
		b /= 2;
	return b;
}

/* ---- Connecting ---------------------------------------------------------- */

/* Ask the application over its serial line, and keep the line (banner). */
static enum op_status enter_over_serial(struct session *s, const struct connect_opts *co,
					bool send, char *err, size_t errlen)
{
	const char *cmd = co->enter_cmd ? co->enter_cmd : DEFAULT_ENTER_CMD;
	enum tp_status ts;

	ts = transport_open(&s->app, co->enter_port, TRANSPORT_DEFAULT_BAUD,
			    TP_PARITY_NONE, err, errlen);
	if (ts != TP_OK)
		return ts == TP_ERR_CLOSED ? OP_ERR_LINK : OP_ERR_PORT;
	if (!send)
		return OP_OK;
	if (transport_write(s->app, cmd, strlen(cmd)) != TP_OK ||
	    transport_drain(s->app) != TP_OK) {
		snprintf(err, errlen, "%s", transport_error(s->app));
		return OP_ERR_LINK;
	}
	return OP_OK;
}

static void describe_trigger(const struct connect_opts *co, char *buf, size_t len)
{
	if (co->no_enter)
		snprintf(buf, len, "with --no-enter");
	else if (co->enter_exec)
		snprintf(buf, len, "after running --enter-exec \"%s\"", co->enter_exec);
	else if (co->enter_port)
		snprintf(buf, len, "after sending the enter command %s on %s",
			 co->enter_cmd ? "given by --enter-cmd" : "\"bootloader\"",
			 co->enter_port);
	else
		snprintf(buf, len, "(nothing asked the board to enter it: give "
			 "--enter-port PORT or --enter-exec CMD)");
}

/* Poll the bus until the device is there, the time is up, or Ctrl-C. */
static enum op_status wait_device(struct session *s, const struct connect_opts *co,
				  const struct dfu_link_ops **ops, char *err,
				  size_t errlen)
{
	struct dfu_backend *b = s->dfb;
	unsigned wait = co->dfu_wait_ms ? co->dfu_wait_ms : DEFAULT_DFU_WAIT_MS;
	double deadline = now_s() + wait / 1000.0;
	double denied_since = 0;
	char trigger[300];
	enum usb_find f;

	for (;;) {
		f = b->p->open(b->p, &b->spec, &b->handle, ops, &b->info, err, errlen);
		if (f == USB_FOUND)
			return OP_OK;
		if (f == USB_SEVERAL)
			return OP_ERR_USAGE;
		if (f == USB_FAILED)
			return OP_ERR_PORT;
		if (f == USB_DENIED) {
			if (!denied_since)
				denied_since = now_s();
			if (now_s() - denied_since >= ACCESS_GRACE_S)
				return OP_ERR_PORT;
		} else {
			denied_since = 0;
		}
		if (co->stop && *co->stop) {
			snprintf(err, errlen, "interrupted while waiting for the DFU device");
			return OP_ERR_INTERRUPTED;
		}
		if (now_s() >= deadline)
			break;
		sleep_ms(POLL_MS);
	}
	if (f == USB_DENIED)
		return OP_ERR_PORT;
	/* There, but it never answered: say what it did not answer. */
	if (f == USB_NOT_READY) {
		char why[300];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "timeout: the DFU device %04x:%04x appeared but did "
			 "not answer within %u ms: %s", b->spec.vid, b->spec.pid, wait, why);
		return OP_ERR_TIMEOUT;
	}
	describe_trigger(co, trigger, sizeof(trigger));
	snprintf(err, errlen, "no DFU device %04x:%04x%s%s appeared within %u ms %s: "
		 "is the board in its ROM bootloader? %s", b->spec.vid, b->spec.pid,
		 b->spec.serial[0] ? " with serial " : "", b->spec.serial, wait,
		 trigger, DFU_CLOCK_ADVICE);
	return OP_ERR_NO_ANSWER;
}

enum op_status dfuse_session_open(struct session *s, const struct connect_opts *co,
				  char *err, size_t errlen)
{
	const struct dfu_link_ops *ops = NULL;
	struct dfu_backend *b;
	unsigned flash, i;
	char where[160];
	enum op_status ret;
	enum df_rc rc;

	if (co->enter_cmd && !co->enter_port) {
		snprintf(err, errlen, "--enter-cmd needs --enter-port PORT over USB: "
			 "the enter command goes to the application's serial line");
		return OP_ERR_USAGE;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return OP_ERR_INTERNAL;
	}
	s->dfb = b;
	b->p = co->usb ? co->usb : &usb_libusb;
	if (usb_parse_port(co->port, &b->spec, err, errlen) != 0) {
		ret = OP_ERR_USAGE;
		goto fail;
	}
	/* (a) Ask the board, unless it is there already. */
	if (!co->no_enter) {
		ret = session_run_enter_exec(co, err, errlen);
		if (ret != OP_OK)
			goto fail;
	}
	if (co->enter_port) {
		ret = enter_over_serial(s, co, !co->no_enter && !co->enter_exec, err, errlen);
		if (ret != OP_OK)
			goto fail;
	}
	ret = wait_device(s, co, &ops, err, errlen);
	if (ret != OP_OK)
		goto fail;

	/* (b) Who is there. */
	snprintf(where, sizeof(where), "%s (bus %u device %u)", co->port,
		 b->info.bus, b->info.address);
	if (!b->info.have_functional) {
		snprintf(err, errlen, "the DFU device on %s has no DFU functional "
			 "descriptor, so its transfer size is unknown", where);
		ret = OP_ERR_PROTOCOL;
		goto fail;
	}
	dfuse_init(&b->d, ops, b->handle, where, b->info.func.transfer_size);
	for (i = 0; i < b->info.nalts; i++)
		dfuse_add_alt(&b->d, b->info.alt[i], b->info.alt_desc[i]);
	ret = check_chip(b, where, &flash, err, errlen);
	if (ret != OP_OK)
		goto fail;
	s->block = block_for(b->info.func.transfer_size);
	if (s->block < STM32_FLASH_DWORD) {
		snprintf(err, errlen, "the DFU device on %s reports a transfer size "
			 "of %u bytes, too small to program flash double words",
			 where, b->info.func.transfer_size);
		ret = OP_ERR_PROTOCOL;
		goto fail;
	}
	rc = dfuse_select(&b->d, flash);
	if (rc != DF_OK) {
		snprintf(err, errlen, "%s", dfuse_error(&b->d));
		ret = op_from_df(rc);
		goto fail;
	}
	s->chip.usb_vid = b->info.vid;
	s->chip.usb_pid = b->info.pid;
	s->chip.usb_bcd = b->info.bcd_device;
	return OP_OK;
fail:
	df_close(s);
	return ret;
}

/* ---- Operations ----------------------------------------------------------- */

static enum op_status df_read(struct session *s, uint32_t addr, void *buf, size_t len)
{
	return df_result(s, dfuse_read(&s->dfb->d, addr, buf, len));
}

static enum op_status df_write(struct session *s, uint32_t addr, const void *buf,
			       size_t len)
{
	return df_result(s, dfuse_write(&s->dfb->d, addr, buf, len));
}

/* Banks follow each other, so page p starts p pages into the flash. */
static uint32_t page_addr(unsigned page)
{
	return STM32_FLASH_BASE + page * STM32_FLASH_PAGE_SIZE;
}

static enum op_status df_erase_pages(struct session *s, const uint16_t *pages, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		enum df_rc rc = dfuse_erase_page(&s->dfb->d, page_addr(pages[i]));

		if (rc != DF_OK)
			return df_result(s, rc);
	}
	return OP_OK;
}

/* DfuSe has mass erase only: a bank is erased page by page. */
static enum op_status df_erase_special(struct session *s, enum bl_erase what)
{
	unsigned first, p;

	if (what == BL_ERASE_MASS)
		return df_result(s, dfuse_mass_erase(&s->dfb->d));
	first = what == BL_ERASE_BANK1 ? 0 : STM32_FLASH_PAGES_PER_BANK;
	for (p = first; p < first + STM32_FLASH_PAGES_PER_BANK; p++) {
		enum df_rc rc = dfuse_erase_page(&s->dfb->d, page_addr(p));

		if (rc != DF_OK)
			return df_result(s, rc);
	}
	return OP_OK;
}

static enum op_status df_go(struct session *s, uint32_t addr)
{
	enum op_status st = df_result(s, dfuse_leave(&s->dfb->d, addr));

	/* The ROM has left the bus (or is about to): nothing more to say. */
	if (st == OP_OK)
		release_device(s->dfb);
	return st;
}

static enum op_status df_readout_unprotect(struct session *s)
{
	enum op_status st = df_result(s, dfuse_read_unprotect(&s->dfb->d));

	if (st == OP_OK)
		release_device(s->dfb);
	return st;
}

/*
 * After a leave: the ROM is back when its device is present at the end of
 * the watch, or was seen gone and then present again (the stub starting
 * the ROM after refusing the image). Looking at the bus never disturbs a
 * running application.
 */
static bool df_rom_back(struct session *s, unsigned timeout_ms)
{
	struct dfu_backend *b = s->dfb;
	double deadline = now_s() + timeout_ms / 1000.0;
	bool gone = false;

	release_device(b);
	while (now_s() < deadline) {
		int n = b->p->count(b->p, &b->spec);

		if (n == 0)
			gone = true;
		else if (n > 0 && gone)
			return true;
		sleep_ms(POLL_MS);
	}
	return b->p->count(b->p, &b->spec) > 0;
}

static unsigned df_retries(const struct session *s)
{
	return s->dfb ? s->dfb->d.retry_count : 0;
}

const struct bl_ops dfuse_bl_ops = {
	.protocol = "DfuSe",
	.read = df_read,
	.write = df_write,
	.erase_pages = df_erase_pages,
	.erase_special = df_erase_special,
	.bank_erase = false,
	.go = df_go,
	.readout_unprotect = df_readout_unprotect,
	.cannot = "the ROM's USB DFU interface has no write-protect, "
		  "write-unprotect or readout-protect command (AN3156: of the "
		  "protection commands DfuSe has only Read Unprotect); do it "
		  "over the board's serial port (--port /dev/ttyACM0 or the like)",
	.rom_back = df_rom_back,
	.passive_watch = true,
	.retries = df_retries,
	.close = df_close,
};
