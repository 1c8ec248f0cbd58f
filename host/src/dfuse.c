/*
 * dfuse.c - DfuSe client: the DFU state machine, retries.
 *
 * Why the state machine needs care: a DfuSe command (set address, erase)
 * or a block of data is only accepted by DNLOAD; the device does the work
 * while the host polls GETSTATUS, and must not be asked again before the
 * bwPollTimeout it reported has passed (DFU 1.1 6.1.2). A device that
 * refuses something stalls the request and sits in dfuERROR until the
 * host sends CLRSTATUS; one that was interrupted may sit in dfuDNLOAD-IDLE
 * or dfuUPLOAD-IDLE and needs ABORT. So every operation starts from
 * dfuIDLE, and after a failure the client first learns the device's status
 * (for the message), then brings it back to dfuIDLE and tries again, a
 * bounded number of times. A device that disconnects is never retried:
 * there is nothing to talk to.
 *
 * Retrying a write whose GETSTATUS timed out may program the same double
 * words twice, which flash refuses (RM0351 3.3.7); a write refused after an
 * earlier timeout is therefore read back before it is reported as failed.
 *
 * Blocks go in runs. DfuSe places data block n >= 2 at the address pointer
 * plus (n - 2) * wTransferSize (AN3156, Read memory and Write memory), so
 * one Set Address Pointer serves a run of consecutive blocks, and a read of
 * many blocks is one UPLOAD each in dfuUPLOAD-IDLE. The client trusts the
 * pointer only as far as AN3156 describes it: set, then the blocks that
 * follow (for a read, after the DFU_ABORT that leaves dfuDNLOAD-IDLE). It
 * sets it again after anything else: an error, a stall, a timeout and the
 * CLRSTATUS or ABORT that clear them (DFU 1.1 makes the next DNLOAD or
 * UPLOAD from dfuIDLE the start of a new transfer, and a ROM may well
 * reset its pointer with its state), a DfuSe command (ST's USB device
 * library moves the pointer to the page an erase names), another alternate
 * setting, a change of direction, a gap. A block shorter than wTransferSize
 * always goes alone as block 2: AN3156 says the address is computed with
 * "the length of the data buffer", which for a short block with n > 2
 * could mean its own length. A run ends before wBlockNum would wrap
 * (65535 to 0, a DfuSe command); at 2 KB a run could cover 128 MB, far more
 * than the flash, so it never does on this chip.
 */
#include "dfuse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_RETRIES     3u
#define DEFAULT_TIMEOUT_MS  5000u
#define BUSY_LIMIT_MS       30000u   /* mass erase: both banks, with margin */
#define MAX_POLLS           2000u    /* GETSTATUS rounds per command */

/* ---- Set-up -------------------------------------------------------------- */

void dfuse_init(struct dfuse *d, const struct dfu_link_ops *ops, void *ctx,
		const char *where, uint16_t transfer_size)
{
	memset(d, 0, sizeof(*d));
	d->ops = ops;
	d->ctx = ctx;
	snprintf(d->where, sizeof(d->where), "%s", where);
	d->transfer_size = transfer_size;
	d->cur_alt = -1;
	d->retries = DEFAULT_RETRIES;
	d->timeout_ms = DEFAULT_TIMEOUT_MS;
	d->busy_limit_ms = BUSY_LIMIT_MS;
}

void dfuse_add_alt(struct dfuse *d, uint8_t alt, const char *desc)
{
	struct dfuse_alt *a;
	char why[160];

	if (d->nalts == DFUSE_MAX_ALTS)
		return;
	a = &d->alts[d->nalts++];
	a->alt = alt;
	snprintf(a->desc, sizeof(a->desc), "%s", desc ? desc : "");
	a->parsed = desc && dfuse_parse_layout(desc, &a->layout, why, sizeof(why)) == 0;
}

const struct dfuse_alt *dfuse_find_alt(const struct dfuse *d, const char *name)
{
	unsigned i;

	for (i = 0; i < d->nalts; i++)
		if (d->alts[i].parsed && strcmp(d->alts[i].layout.name, name) == 0)
			return &d->alts[i];
	return NULL;
}

/* ---- One request ------------------------------------------------------- */

static void set_err(struct dfuse *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(struct dfuse *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
}

static void add_err(struct dfuse *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_err(struct dfuse *d, const char *fmt, ...)
{
	size_t n = strlen(d->err);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->err + n, sizeof(d->err) - n, fmt, ap);
	va_end(ap);
}

/* What an operation is, for its messages: "the write of 2048 bytes at 0x...". */
struct op {
	char what[96];
	uint8_t need;            /* DFUSE_MEM_* the address must have */
	bool timed_out;          /* an attempt ended in a timeout */
};

static enum df_rc link_fail(struct dfuse *d, const struct op *op, const char *req, int r)
{
	const char *io;

	switch (r) {
	case USB_ERR_STALL:
		set_err(d, "the DFU device on %s refused %s: it stalled %s",
			d->where, op->what, req);
		return DF_ERR_REFUSED;
	case USB_ERR_TIMEOUT:
		set_err(d, "timeout: the DFU device on %s did not answer %s "
			"within %u ms during %s", d->where, req,
			d->timeout_ms, op->what);
		return DF_ERR_TIMEOUT;
	case USB_ERR_NO_DEVICE:
		set_err(d, "the board disconnected during %s: the DFU device on "
			"%s went away (unplugged, reset or powered off?)",
			op->what, d->where);
		return DF_ERR_GONE;
	default:
		io = d->ops->io_error ? d->ops->io_error(d->ctx) : NULL;
		set_err(d, "USB error on %s during %s (%s): %s", d->where,
			op->what, req, io ? io : "input/output error");
		return DF_ERR_IO;
	}
}

static enum df_rc request(struct dfuse *d, const struct op *op, bool in,
			  uint8_t req, uint16_t value, void *data, uint16_t len,
			  int *moved)
{
	int r = d->ops->request(d->ctx, in, req, value, data, len, d->timeout_ms);

	if (r < 0)
		return link_fail(d, op, dfu_request_name(req), r);
	/* A control OUT whose status stage completed has delivered its data
	 * stage, whatever count the stack reports; only IN counts matter. */
	if (!in)
		r = len;
	if (moved)
		*moved = r;
	else if (r != len) {
		set_err(d, "the DFU device on %s moved %d of %u bytes of %s during %s",
			d->where, r, len, dfu_request_name(req), op->what);
		return DF_ERR_PROTOCOL;
	}
	return DF_OK;
}

static enum df_rc get_status(struct dfuse *d, const struct op *op,
			     struct dfu_status *st)
{
	uint8_t b[DFU_GETSTATUS_LENGTH];
	enum df_rc rc = request(d, op, true, DFU_GETSTATUS, 0, b, sizeof(b), NULL);

	if (rc == DF_OK)
		dfu_status_decode(b, st);
	return rc;
}

/* ---- Runs of blocks ------------------------------------------------------ */

static void run_end(struct dfuse *d)
{
	d->run.open = false;
}

/* The pointer was just set to addr: its first block is block 2. */
static void run_start(struct dfuse *d, bool upload, uint32_t addr)
{
	d->run = (struct dfuse_run){ .open = true, .upload = upload, .next_addr = addr,
				     .next_block = DFUSE_BLOCK_DATA };
}

/* Can len bytes at addr go as the run's next block, without an address? */
static bool run_continues(const struct dfuse *d, bool upload, uint32_t addr, size_t len)
{
	return d->run.open && d->run.upload == upload && d->run.next_addr == addr &&
	       len == d->transfer_size;
}

/* The run's next block went through. */
static void run_advance(struct dfuse *d)
{
	if (d->run.next_block == UINT16_MAX ||
	    d->run.next_addr > UINT32_MAX - d->transfer_size) {
		run_end(d);
		return;
	}
	d->run.next_block++;
	d->run.next_addr += d->transfer_size;
}

/*
 * A read left the device in dfuUPLOAD-IDLE, where DNLOAD stalls: ABORT to
 * dfuIDLE first. The run ends with it.
 */
static enum df_rc leave_upload(struct dfuse *d, const struct op *op)
{
	if (!d->upload_idle)
		return DF_OK;
	d->upload_idle = false;
	run_end(d);
	return request(d, op, false, DFU_ABORT, 0, NULL, 0, NULL);
}

enum df_rc dfuse_finish(struct dfuse *d)
{
	struct op op = { .what = "the end of the read" };

	return leave_upload(d, &op);
}

enum df_rc dfuse_get_status(struct dfuse *d, struct dfu_status *st)
{
	struct op op = { .what = "DFU_GETSTATUS" };

	return get_status(d, &op, st);
}

enum df_rc dfuse_clear_status(struct dfuse *d)
{
	struct op op = { .what = "DFU_CLRSTATUS" };

	run_end(d);
	return request(d, &op, false, DFU_CLRSTATUS, 0, NULL, 0, NULL);
}

enum df_rc dfuse_abort(struct dfuse *d)
{
	struct op op = { .what = "DFU_ABORT" };

	run_end(d);
	d->upload_idle = false;
	return request(d, &op, false, DFU_ABORT, 0, NULL, 0, NULL);
}

/*
 * After a stall the device holds the reason in its status: add it to the
 * stall's message and clear it. The message stays the stall's whatever the
 * two extra requests meet.
 */
static void explain_stall(struct dfuse *d, const struct op *op)
{
	char saved[sizeof(d->err)];
	struct dfu_status st;
	bool known;

	memcpy(saved, d->err, sizeof(saved));
	known = get_status(d, op, &st) == DF_OK;
	if (known && st.state == DFU_STATE_ERROR)
		(void)dfuse_clear_status(d);
	memcpy(d->err, saved, sizeof(saved));
	if (known && st.state == DFU_STATE_ERROR)
		add_err(d, " (status %s: %s)", dfu_status_name(st.status),
			dfu_status_text(st.status));
}

enum df_rc dfuse_make_idle(struct dfuse *d)
{
	struct op op = { .what = "the return to dfuIDLE" };
	struct dfu_status st = { 0 };
	bool have = false;
	enum df_rc rc;
	unsigned i;

	/* A recovery: the next block sets the address again. */
	run_end(d);
	d->upload_idle = false;
	for (i = 0; i < 4; i++) {
		rc = get_status(d, &op, &st);
		if (rc == DF_ERR_GONE || rc == DF_ERR_TIMEOUT)
			return rc;
		have = rc == DF_OK;
		if (!have) {
			/* A stalled GETSTATUS: the error state, most likely. */
			rc = request(d, &op, false, DFU_CLRSTATUS, 0, NULL, 0, NULL);
		} else if (st.state == DFU_STATE_IDLE) {
			return DF_OK;
		} else if (st.state == DFU_STATE_ERROR) {
			rc = request(d, &op, false, DFU_CLRSTATUS, 0, NULL, 0, NULL);
		} else if (st.state == DFU_STATE_DNBUSY || st.state == DFU_STATE_DNLOAD_SYNC) {
			/* Let a command under way finish first. */
			d->ops->sleep_ms(d->ctx, st.poll_ms);
		} else {
			rc = request(d, &op, false, DFU_ABORT, 0, NULL, 0, NULL);
		}
		if (rc == DF_ERR_GONE)
			return rc;
	}
	if (have)
		set_err(d, "the DFU device on %s does not return to dfuIDLE: it "
			"stays in %s (status %s) after CLRSTATUS and ABORT",
			d->where, dfu_state_name(st.state), dfu_status_name(st.status));
	else
		set_err(d, "the DFU device on %s does not return to dfuIDLE: it "
			"stalls DFU_GETSTATUS even after CLRSTATUS", d->where);
	return DF_ERR_PROTOCOL;
}

/* The device went to dfuERROR: say why, and clear it for the next try. */
static enum df_rc error_state(struct dfuse *d, const struct op *op,
			      const struct dfu_status *st)
{
	set_err(d, "the DFU device on %s reported %s (%s) for %s", d->where,
		dfu_status_name(st->status), dfu_status_text(st->status), op->what);
	(void)dfuse_clear_status(d);
	return DF_ERR_REFUSED;
}

/*
 * GETSTATUS until the device has finished what the last DNLOAD asked,
 * waiting bwPollTimeout between polls; then it must be in state want.
 */
static enum df_rc poll_done(struct dfuse *d, struct op *op, uint8_t want)
{
	struct dfu_status st;
	unsigned waited = 0, polls;
	enum df_rc rc;

	for (polls = 0; polls < MAX_POLLS; polls++) {
		rc = get_status(d, op, &st);
		if (rc != DF_OK) {
			if (rc == DF_ERR_REFUSED)
				explain_stall(d, op);
			return rc;
		}
		if (st.state == DFU_STATE_ERROR)
			return error_state(d, op, &st);
		if (st.state != DFU_STATE_DNBUSY && st.state != DFU_STATE_DNLOAD_SYNC) {
			if (st.state == want)
				return DF_OK;
			set_err(d, "the DFU device on %s went to state %s after %s, "
				"expected %s", d->where, dfu_state_name(st.state),
				op->what, dfu_state_name(want));
			return DF_ERR_PROTOCOL;
		}
		if (waited + st.poll_ms > d->busy_limit_ms)
			break;
		/* DFU 1.1 6.1.2: no request before bwPollTimeout has passed. */
		d->ops->sleep_ms(d->ctx, st.poll_ms);
		waited += st.poll_ms;
	}
	set_err(d, "timeout: the DFU device on %s was still busy with %s after "
		"%u ms (%u polls)", d->where, op->what, waited, polls);
	return DF_ERR_TIMEOUT;
}

/* DNLOAD of block, then the polls until the device is done with it. */
static enum df_rc dnload(struct dfuse *d, struct op *op, uint16_t block,
			 const void *data, uint16_t len, uint8_t want)
{
	enum df_rc rc = request(d, op, false, DFU_DNLOAD, block, (void *)data, len, NULL);

	if (rc == DF_ERR_REFUSED)
		explain_stall(d, op);
	if (rc != DF_OK)
		return rc;
	return poll_done(d, op, want);
}

/* A DfuSe command: its byte and, for most, an address. */
static enum df_rc command(struct dfuse *d, struct op *op, uint8_t cmd,
			  const uint32_t *addr, uint8_t want)
{
	struct dfuse_command c = { .cmd = cmd, .has_addr = addr != NULL, .addr = addr ? *addr : 0 };
	uint8_t b[DFUSE_COMMAND_MAX];
	size_t len = dfuse_command_encode(&c, b);
	enum df_rc rc = leave_upload(d, op);

	if (rc != DF_OK)
		return rc;
	/* Whatever the command, the pointer is not the run's any more. */
	run_end(d);
	return dnload(d, op, DFUSE_BLOCK_COMMAND, b, (uint16_t)len, want);
}

static enum df_rc set_address(struct dfuse *d, struct op *op, uint32_t addr)
{
	return command(d, op, DFUSE_CMD_SET_ADDRESS, &addr, DFU_STATE_DNLOAD_IDLE);
}

/* ---- Alternate settings ------------------------------------------------ */

enum df_rc dfuse_select(struct dfuse *d, unsigned index)
{
	struct op op;
	int r;

	if (index >= d->nalts) {
		set_err(d, "no alternate setting %u on %s", index, d->where);
		return DF_ERR_ARG;
	}
	if (d->cur_alt == (int)index)
		return DF_OK;
	snprintf(op.what, sizeof(op.what), "the selection of alternate setting %u",
		 d->alts[index].alt);
	if (leave_upload(d, &op) == DF_ERR_GONE)
		return DF_ERR_GONE;
	run_end(d);
	r = d->ops->set_alt(d->ctx, d->alts[index].alt);
	if (r < 0)
		return link_fail(d, &op, "SET_INTERFACE", r);
	d->cur_alt = (int)index;
	return dfuse_make_idle(d);
}

static const char *flag_word(uint8_t need)
{
	return need & DFUSE_MEM_WRITABLE ? "writable" :
	       need & DFUSE_MEM_ERASABLE ? "erasable" : "readable";
}

/*
 * The alternate setting whose layout holds [addr, addr + len) with the
 * flags the operation needs becomes the current one.
 */
static enum df_rc select_for(struct dfuse *d, const struct op *op, uint32_t addr,
			     size_t len)
{
	unsigned i;
	size_t used;

	for (i = 0; i < d->nalts; i++) {
		const struct dfuse_region *r, *e;

		if (!d->alts[i].parsed)
			continue;
		r = dfuse_layout_find(&d->alts[i].layout, addr);
		e = dfuse_layout_find(&d->alts[i].layout, addr + (uint32_t)(len ? len - 1 : 0));
		if (!r || !e)
			continue;
		if ((r->flags & op->need) != op->need || (e->flags & op->need) != op->need) {
			set_err(d, "the DFU device on %s cannot do %s: the memory there "
				"(alt %u, %s) is not %s", d->where, op->what,
				d->alts[i].alt, d->alts[i].layout.name,
				flag_word(op->need));
			return DF_ERR_ARG;
		}
		return dfuse_select(d, i);
	}
	set_err(d, "the DFU device on %s cannot do %s: 0x%08x is in none of the "
		"memories it offers (", d->where, op->what, addr);
	for (i = 0, used = 0; i < d->nalts; i++) {
		const struct dfuse_layout *l = &d->alts[i].layout;
		const struct dfuse_region *last;

		if (!d->alts[i].parsed)
			continue;
		last = &l->region[l->nregions - 1];
		add_err(d, "%s%s 0x%08x-0x%08x", used++ ? ", " : "", l->name,
			l->region[0].addr,
			(uint32_t)(last->addr + (uint64_t)last->count * last->size - 1));
	}
	add_err(d, ")");
	return DF_ERR_ARG;
}

/* ---- Retries ------------------------------------------------------------ */

typedef enum df_rc (*once_fn)(struct dfuse *d, struct op *op, void *ctx);

static const char *hint(const struct op *op, enum df_rc rc)
{
	if (rc != DF_ERR_REFUSED)
		return "";
	if (op->need & (DFUSE_MEM_WRITABLE | DFUSE_MEM_ERASABLE))
		return ": the page may be write-protected, or the chip "
		       "readout-protected (see sysboot info)";
	if (op->need & DFUSE_MEM_READABLE)
		return ": the chip may be readout-protected (RDP level 1)";
	return "";
}

static enum df_rc run(struct dfuse *d, struct op *op, once_fn once, void *ctx)
{
	enum df_rc rc = DF_ERR_ARG;
	unsigned tries;

	for (tries = 1; tries <= d->retries + 1; tries++) {
		char saved[sizeof(d->err)];
		enum df_rc r;

		rc = once(d, op, ctx);
		if (rc == DF_OK || rc == DF_ERR_GONE || rc == DF_ERR_ARG)
			return rc;
		if (rc == DF_ERR_TIMEOUT)
			op->timed_out = true;
		if (tries == d->retries + 1)
			break;
		d->retry_count++;
		memcpy(saved, d->err, sizeof(saved));
		r = dfuse_make_idle(d);
		if (r == DF_ERR_GONE)
			return r;
		memcpy(d->err, saved, sizeof(saved));
		/* A device that does not even answer GETSTATUS: stop here. */
		if (r == DF_ERR_TIMEOUT)
			break;
	}
	add_err(d, " (%u attempt%s)%s", tries, tries == 1 ? "" : "s", hint(op, rc));
	return rc;
}

/* ---- Operations -------------------------------------------------------- */

static enum df_rc erase_once(struct dfuse *d, struct op *op, void *ctx)
{
	const uint32_t *addr = ctx;

	return command(d, op, DFUSE_CMD_ERASE, addr, DFU_STATE_DNLOAD_IDLE);
}

enum df_rc dfuse_erase_page(struct dfuse *d, uint32_t addr)
{
	struct op op = { .need = DFUSE_MEM_ERASABLE };
	enum df_rc rc;

	snprintf(op.what, sizeof(op.what), "the erase of the page at 0x%08x", addr);
	rc = select_for(d, &op, addr, 1);
	if (rc != DF_OK)
		return rc;
	return run(d, &op, erase_once, &addr);
}

static const struct dfuse_alt *flash_alt(struct dfuse *d, unsigned *index)
{
	const struct dfuse_alt *a = dfuse_find_alt(d, "Internal Flash");

	if (a)
		*index = (unsigned)(a - d->alts);
	return a;
}

static enum df_rc special(struct dfuse *d, struct op *op, once_fn once)
{
	unsigned index;
	enum df_rc rc;

	if (!flash_alt(d, &index)) {
		set_err(d, "the DFU device on %s has no \"Internal Flash\" "
			"alternate setting for %s", d->where, op->what);
		return DF_ERR_ARG;
	}
	rc = dfuse_select(d, index);
	if (rc != DF_OK)
		return rc;
	return run(d, op, once, NULL);
}

static enum df_rc mass_once(struct dfuse *d, struct op *op, void *ctx)
{
	(void)ctx;
	return command(d, op, DFUSE_CMD_ERASE, NULL, DFU_STATE_DNLOAD_IDLE);
}

enum df_rc dfuse_mass_erase(struct dfuse *d)
{
	struct op op = { .what = "the mass erase", .need = DFUSE_MEM_ERASABLE };

	return special(d, &op, mass_once);
}

static enum df_rc unprotect_once(struct dfuse *d, struct op *op, void *ctx)
{
	uint8_t cmd = DFUSE_CMD_READ_UNPROTECT;
	enum df_rc rc;

	(void)ctx;
	rc = leave_upload(d, op);
	if (rc != DF_OK)
		return rc;
	run_end(d);
	rc = request(d, op, false, DFU_DNLOAD, DFUSE_BLOCK_COMMAND, &cmd, 1, NULL);
	if (rc == DF_ERR_REFUSED)
		explain_stall(d, op);
	if (rc != DF_OK)
		return rc;
	rc = poll_done(d, op, DFU_STATE_DNLOAD_IDLE);
	/* The ROM erases everything and resets once the command is taken:
	 * the device leaving the bus is how it ends (AN3156 6.5). */
	if (rc == DF_ERR_GONE || rc == DF_ERR_IO) {
		set_err(d, "%s", "");
		return DF_OK;
	}
	return rc;
}

enum df_rc dfuse_read_unprotect(struct dfuse *d)
{
	struct op op = { .what = "Read Unprotect" };

	return special(d, &op, unprotect_once);
}

struct mem_ctx {
	uint32_t addr;
	const uint8_t *wbuf;
	uint8_t *rbuf;
	size_t len;
};

static enum df_rc write_once(struct dfuse *d, struct op *op, void *ctx)
{
	struct mem_ctx *mc = ctx;
	enum df_rc rc;

	if (!run_continues(d, false, mc->addr, mc->len)) {
		rc = set_address(d, op, mc->addr);
		if (rc != DF_OK)
			return rc;
		run_start(d, false, mc->addr);
	}
	rc = dnload(d, op, d->run.next_block, mc->wbuf, (uint16_t)mc->len,
		    DFU_STATE_DNLOAD_IDLE);
	if (rc != DF_OK) {
		run_end(d);
		return rc;
	}
	run_advance(d);
	return DF_OK;
}

static enum df_rc read_chunk(struct dfuse *d, struct op *op, uint32_t addr,
			     uint8_t *buf, size_t len)
{
	enum df_rc rc;
	int got;

	if (!run_continues(d, true, addr, len)) {
		rc = set_address(d, op, addr);
		if (rc != DF_OK)
			return rc;
		/* UPLOAD is taken in dfuIDLE and dfuUPLOAD-IDLE only. */
		rc = request(d, op, false, DFU_ABORT, 0, NULL, 0, NULL);
		if (rc != DF_OK)
			return rc;
		run_start(d, true, addr);
	}
	rc = request(d, op, true, DFU_UPLOAD, d->run.next_block, buf, (uint16_t)len, &got);
	if (rc == DF_OK && (size_t)got != len) {
		/* A short frame ends the upload (DFU 1.1 6.2): dfuIDLE. */
		set_err(d, "the DFU device on %s sent %d of %zu bytes for %s",
			d->where, got, len, op->what);
		rc = DF_ERR_PROTOCOL;
	}
	if (rc != DF_OK) {
		if (rc == DF_ERR_REFUSED)
			explain_stall(d, op);
		run_end(d);
		d->upload_idle = false;
		return rc;
	}
	d->upload_idle = true;
	run_advance(d);
	return DF_OK;
}

static enum df_rc read_once(struct dfuse *d, struct op *op, void *ctx)
{
	struct mem_ctx *mc = ctx;

	return read_chunk(d, op, mc->addr, mc->rbuf, mc->len);
}

enum df_rc dfuse_write(struct dfuse *d, uint32_t addr, const void *buf, size_t len)
{
	struct op op = { .need = DFUSE_MEM_WRITABLE };
	uint8_t *padded = NULL, *back = NULL;
	struct mem_ctx mc = { .addr = addr, .wbuf = buf, .len = len };
	char saved[sizeof(d->err)];
	enum df_rc rc;

	snprintf(op.what, sizeof(op.what), "the write of %zu bytes at 0x%08x", len, addr);
	if (len == 0 || len > d->transfer_size) {
		set_err(d, "a DfuSe write of %zu bytes: 1 to %u (wTransferSize) "
			"allowed", len, d->transfer_size);
		return DF_ERR_ARG;
	}
	if (len > DFUSE_ROM_LONG_WRITE && len % 8) {
		size_t n = (len + 7) & ~(size_t)7;

		if (n > d->transfer_size) {
			set_err(d, "a DfuSe write of %zu bytes cannot be padded to "
				"a multiple of 8 within wTransferSize %u", len,
				d->transfer_size);
			return DF_ERR_ARG;
		}
		padded = malloc(n);
		if (!padded) {
			set_err(d, "out of memory");
			return DF_ERR_ARG;
		}
		memset(padded, 0xFF, n);
		memcpy(padded, buf, len);
		mc.wbuf = padded;
		mc.len = n;
	}
	rc = select_for(d, &op, addr, mc.len);
	if (rc == DF_OK)
		rc = run(d, &op, write_once, &mc);
	if (rc != DF_ERR_REFUSED || !op.timed_out)
		goto out;
	/* Maybe only the status was lost and the retry met programmed flash. */
	memcpy(saved, d->err, sizeof(saved));
	back = malloc(mc.len);
	if (back && dfuse_make_idle(d) == DF_OK &&
	    dfuse_read(d, addr, back, mc.len) == DF_OK &&
	    memcmp(back, mc.wbuf, mc.len) == 0) {
		rc = DF_OK;
		goto out;
	}
	memcpy(d->err, saved, sizeof(saved));
out:
	free(back);
	free(padded);
	return rc;
}

enum df_rc dfuse_read(struct dfuse *d, uint32_t addr, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t done = 0;
	enum df_rc rc;

	if (len == 0) {
		set_err(d, "a DfuSe read of 0 bytes");
		return DF_ERR_ARG;
	}
	while (done < len) {
		size_t n = len - done > d->transfer_size ? d->transfer_size : len - done;
		struct op op = { .need = DFUSE_MEM_READABLE };
		struct mem_ctx mc = { .addr = addr + (uint32_t)done, .rbuf = p + done, .len = n };

		snprintf(op.what, sizeof(op.what), "the read of %zu bytes at 0x%08x",
			 n, mc.addr);
		rc = select_for(d, &op, mc.addr, n);
		if (rc == DF_OK)
			rc = run(d, &op, read_once, &mc);
		if (rc != DF_OK)
			return rc;
		done += n;
	}
	return DF_OK;
}

static enum df_rc leave_once(struct dfuse *d, struct op *op, void *ctx)
{
	const uint32_t *addr = ctx;
	struct dfu_status st;
	enum df_rc rc;

	rc = set_address(d, op, *addr);
	if (rc != DF_OK)
		return rc;
	rc = request(d, op, false, DFU_DNLOAD, DFUSE_BLOCK_DATA, NULL, 0, NULL);
	if (rc == DF_ERR_REFUSED)
		explain_stall(d, op);
	if (rc != DF_OK)
		return rc;
	/* The GETSTATUS that starts the manifestation: the ROM jumps and
	 * leaves the bus, so losing the device here is success. */
	rc = get_status(d, op, &st);
	if (rc == DF_ERR_GONE || rc == DF_ERR_IO) {
		set_err(d, "%s", "");
		return DF_OK;
	}
	if (rc != DF_OK)
		return rc;
	if (st.state == DFU_STATE_ERROR)
		return error_state(d, op, &st);
	if (st.state != DFU_STATE_MANIFEST && st.state != DFU_STATE_MANIFEST_SYNC &&
	    st.state != DFU_STATE_MANIFEST_WAIT_RESET && st.state != DFU_STATE_DNBUSY) {
		set_err(d, "the DFU device on %s went to state %s after %s, "
			"expected dfuMANIFEST", d->where, dfu_state_name(st.state),
			op->what);
		return DF_ERR_PROTOCOL;
	}
	return DF_OK;
}

enum df_rc dfuse_leave(struct dfuse *d, uint32_t addr)
{
	struct op op = { 0 };
	unsigned index;
	enum df_rc rc;

	snprintf(op.what, sizeof(op.what), "the leave to 0x%08x", addr);
	if (!flash_alt(d, &index)) {
		set_err(d, "the DFU device on %s has no \"Internal Flash\" "
			"alternate setting for %s", d->where, op.what);
		return DF_ERR_ARG;
	}
	rc = dfuse_select(d, index);
	if (rc != DF_OK)
		return rc;
	return run(d, &op, leave_once, &addr);
}

enum df_rc dfuse_get_commands(struct dfuse *d, uint8_t *cmds, size_t max, size_t *n)
{
	struct op op = { .what = "Get Commands" };
	uint8_t buf[32];
	enum df_rc rc;
	int got;

	*n = 0;
	rc = dfuse_make_idle(d);
	if (rc != DF_OK)
		return rc;
	rc = request(d, &op, true, DFU_UPLOAD, DFUSE_BLOCK_COMMAND, buf, sizeof(buf), &got);
	if (rc == DF_ERR_REFUSED)
		explain_stall(d, &op);
	if (rc != DF_OK)
		return rc;
	if (got < 1 || buf[0] != DFUSE_CMD_GET_COMMANDS) {
		set_err(d, "the DFU device on %s answered Get Commands with %d "
			"bytes not starting with 0x00", d->where, got);
		return DF_ERR_PROTOCOL;
	}
	*n = (size_t)got < max ? (size_t)got : max;
	memcpy(cmds, buf, *n);
	return request(d, &op, false, DFU_ABORT, 0, NULL, 0, NULL);
}
