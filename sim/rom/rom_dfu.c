/*
 * rom_dfu.c - the DFU 1.1 / DfuSe state machine of the STM32L476 ROM
 * bootloader, one control transfer at a time.
 *
 * Why a transfer-level engine: the emulator receives USB control
 * transfers from a host it does not control (dfu-util through umockdev,
 * or a test), and the flash work must take simulated time between the
 * GETSTATUS that starts it and the next request. Everything the engine
 * knows about the chip comes through struct rom_dfu_ops and the region
 * table of its configuration, so the unit tests drive it against an
 * in-memory target and check every state and status.
 *
 * Sources: USB Device Firmware Upgrade 1.1 (states, requests, status
 * codes, appendix A.2 transitions), ST AN3156 "USB DFU protocol used in
 * the STM32 bootloader" (DfuSe commands, address computation, errTARGET
 * and errVENDOR cases, leave sequence), AN2606 for what the STM32L47x/48x
 * ROM allows and its documented limit on long writes.
 *
 * Choices where the documents are silent (see also docs/sim.md):
 *  - Requests are allowed per DFU 1.1 appendix A.2; anything else stalls
 *    and enters dfuERROR with errSTALLEDPKT (a stall in dfuERROR keeps the
 *    status that explains the error). CLRSTATUS is only valid in dfuERROR.
 *  - A zero-length DNLOAD in dfuIDLE is the leave request too (AN3156
 *    accepts it in dfuIDLE and dfuDNLOAD-IDLE).
 *  - UPLOAD and DNLOAD data blocks are placed with the fixed wTransferSize
 *    of the functional descriptor, so a short last block lands where the
 *    host expects it.
 *  - An UPLOAD that runs past the end of its region returns the bytes up
 *    to that end: a short frame, which ends the upload (DFU 1.1 6.2).
 *  - A write whose first byte is in a region but whose last is not is
 *    errADDRESS; an address in no writable region is errTARGET (AN3156).
 *  - Each write is read back: a difference is errVERIFY. Option bytes are
 *    not compared (the chip stores complements beside them).
 *  - DFU_DETACH (valid in dfuIDLE, dfuDNLOAD-IDLE and dfuUPLOAD-IDLE)
 *    returns to dfuIDLE and makes the device detach and attach again, as
 *    bitWillDetach promises; the ROM stays in DFU mode.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rom/rom_dfu.h"

enum work {
	WORK_NONE,
	WORK_EXECUTE,                 /* the stored DNLOAD, after dfuDNBUSY */
	WORK_LEAVE,                   /* after dfuMANIFEST */
	WORK_DETACH,
};

/* The DfuSe commands this ROM lists for UPLOAD block 0 (AN3156 6.1). */
static const uint8_t rom_commands[] = {
	DFUSE_CMD_GET_COMMANDS, DFUSE_CMD_SET_ADDRESS, DFUSE_CMD_ERASE, DFUSE_CMD_READ_UNPROTECT,
};

static void trace(struct rom_dfu *dfu, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void trace(struct rom_dfu *dfu, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	if (!dfu->ops->trace)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	dfu->ops->trace(dfu->ctx, text);
}

/* The operation failed: dfuERROR with status, and the reason kept and traced. */
static void fail(struct rom_dfu *dfu, uint8_t status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct rom_dfu *dfu, uint8_t status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dfu->last_error, sizeof(dfu->last_error), fmt, ap);
	va_end(ap);
	dfu->state = DFU_STATE_ERROR;
	dfu->status = status;
	trace(dfu, "DFU: dfuERROR, %s: %s", dfu_status_name(status), dfu->last_error);
}

/*
 * The request is not allowed now: STALL, and dfuERROR with errSTALLEDPKT
 * (DFU 1.1 6.1.2). In dfuERROR the status that explains the error stays.
 */
static enum rom_dfu_result stall(struct rom_dfu *dfu, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum rom_dfu_result stall(struct rom_dfu *dfu, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dfu->last_error, sizeof(dfu->last_error), fmt, ap);
	va_end(ap);
	dfu->stalls++;
	if (dfu->state != DFU_STATE_ERROR) {
		dfu->state = DFU_STATE_ERROR;
		dfu->status = DFU_STATUS_ERR_STALLEDPKT;
	}
	dfu->work = WORK_NONE;
	trace(dfu, "DFU: stall, %s: %s", dfu_status_name(dfu->status), dfu->last_error);
	return ROM_DFU_STALL;
}

static int rdp_level(struct rom_dfu *dfu)
{
	return dfu->ops->rdp_level ? dfu->ops->rdp_level(dfu->ctx) : 0;
}

static const struct rom_dfu_region *find_region(const struct rom_dfu *dfu, uint32_t addr)
{
	unsigned i;

	for (i = 0; i < dfu->cfg.nregions; i++) {
		const struct rom_dfu_region *r = &dfu->cfg.regions[i];

		if (addr >= r->base && addr - r->base < r->size)
			return r;
	}
	return NULL;
}

/* Where data block n goes (AN3156 6.3). */
static bool block_address(const struct rom_dfu *dfu, uint16_t block, uint32_t *addr)
{
	return dfuse_block_address(dfu->pointer, block, dfu->cfg.transfer_size, addr);
}

static uint32_t ns_to_ms(uint64_t ns)
{
	return (uint32_t)((ns + 999999u) / 1000000u);
}

/* bwPollTimeout for the stored DNLOAD: how long its operation will take. */
static uint32_t poll_estimate(const struct rom_dfu *dfu)
{
	const struct rom_dfu_region *r;
	uint32_t addr;

	if (dfu->block == DFUSE_BLOCK_COMMAND) {
		switch (dfu->buf[0]) {
		case DFUSE_CMD_ERASE:
			return ns_to_ms(dfu->len == 1 ? dfu->cfg.mass_erase_ns : dfu->cfg.page_erase_ns);
		case DFUSE_CMD_READ_UNPROTECT:
			return ns_to_ms(dfu->cfg.mass_erase_ns);
		default:
			return 0;
		}
	}
	if (dfu->block < DFUSE_BLOCK_DATA || !block_address(dfu, dfu->block, &addr))
		return 0;
	r = find_region(dfu, addr);
	if (!r || (r->kind != ROM_DFU_MEM_FLASH && r->kind != ROM_DFU_MEM_OTP &&
		   r->kind != ROM_DFU_MEM_OPTIONS))
		return 0;
	if (r->kind == ROM_DFU_MEM_OPTIONS)
		return ns_to_ms(dfu->cfg.page_erase_ns);
	return ns_to_ms((uint64_t)((dfu->len + 7u) / 8u) * dfu->cfg.dword_program_ns);
}

/* ---- Commands (DNLOAD block 0), run after GETSTATUS ------------------------- */

static void cmd_set_address(struct rom_dfu *dfu, uint32_t addr)
{
	const struct rom_dfu_region *r = find_region(dfu, addr);

	/* AN3156 6.2: allowed in flash, RAM, system memory and option bytes, even under RDP. */
	if (!r || !(r->access & ROM_DFU_POINTER)) {
		fail(dfu, DFU_STATUS_ERR_TARGET, "Set Address Pointer 0x%08x: not an address of the memory map", addr);
		return;
	}
	dfu->pointer = addr;
	dfu->state = DFU_STATE_DNLOAD_IDLE;
}

static void cmd_mass_erase(struct rom_dfu *dfu)
{
	if (rdp_level(dfu) >= 1) {
		fail(dfu, DFU_STATUS_ERR_VENDOR, "mass erase refused under readout protection level 1");
		return;
	}
	if (!dfu->ops->mass_erase || dfu->ops->mass_erase(dfu->ctx) < 0) {
		fail(dfu, DFU_STATUS_ERR_ERASE, "mass erase failed");
		return;
	}
	trace(dfu, "DFU: mass erase done");
	dfu->state = DFU_STATE_DNLOAD_IDLE;
}

static void cmd_page_erase(struct rom_dfu *dfu, uint32_t addr)
{
	const struct rom_dfu_region *r = find_region(dfu, addr);
	int ret;

	/* AN3156 6.3: page erase only in flash; errTARGET else, errVENDOR under RDP. */
	if (!r || !(r->access & ROM_DFU_ERASE)) {
		fail(dfu, DFU_STATUS_ERR_TARGET, "page erase at 0x%08x: not a flash page", addr);
		return;
	}
	if (rdp_level(dfu) >= 1) {
		fail(dfu, DFU_STATUS_ERR_VENDOR, "page erase at 0x%08x refused under readout protection level 1", addr);
		return;
	}
	ret = dfu->ops->erase_page ? dfu->ops->erase_page(dfu->ctx, addr) : ROM_DFU_ERASE_FAILED;
	if (ret == ROM_DFU_ERASE_FAILED) {
		fail(dfu, DFU_STATUS_ERR_ERASE, "page erase at 0x%08x failed", addr);
		return;
	}
	if (ret == ROM_DFU_ERASE_PROTECTED)
		trace(dfu, "DFU: page at 0x%08x is write protected: left as it is, and no error reported (AN3156)", addr);
	dfu->state = DFU_STATE_DNLOAD_IDLE;
}

static void cmd_read_unprotect(struct rom_dfu *dfu)
{
	trace(dfu, "DFU: Read Unprotect: readout protection back to level 0, the flash is erased, then the chip resets");
	/* AN3156 6.4: the device then disconnects and resets; an answer is not guaranteed. */
	dfu->state = DFU_STATE_DNLOAD_IDLE;
	if (!dfu->ops->read_unprotect || dfu->ops->read_unprotect(dfu->ctx) < 0)
		fail(dfu, DFU_STATUS_ERR_UNKNOWN, "Read Unprotect failed");
}

static void execute_command(struct rom_dfu *dfu)
{
	struct dfuse_command c;
	bool ok = dfuse_command_decode(dfu->buf, dfu->len, &c);

	switch (c.cmd) {
	case DFUSE_CMD_GET_COMMANDS:
		/* Selects the command list; UPLOAD block 0 returns it. */
		dfu->state = DFU_STATE_DNLOAD_IDLE;
		return;
	case DFUSE_CMD_SET_ADDRESS:
		if (!c.has_addr)
			fail(dfu, DFU_STATUS_ERR_STALLEDPKT, "Set Address Pointer with %u bytes, not 5", dfu->len);
		else
			cmd_set_address(dfu, c.addr);
		return;
	case DFUSE_CMD_ERASE:
		if (!ok)
			fail(dfu, DFU_STATUS_ERR_STALLEDPKT, "Erase with %u bytes, not 1 (mass erase) or 5 (page)", dfu->len);
		else if (c.has_addr)
			cmd_page_erase(dfu, c.addr);
		else
			cmd_mass_erase(dfu);
		return;
	case DFUSE_CMD_READ_UNPROTECT:
		if (!ok || c.has_addr)
			fail(dfu, DFU_STATUS_ERR_STALLEDPKT, "Read Unprotect with %u bytes, not 1", dfu->len);
		else
			cmd_read_unprotect(dfu);
		return;
	default:
		/* AN3156 figure "Download request": unsupported command. */
		fail(dfu, DFU_STATUS_ERR_STALLEDPKT, "unsupported DfuSe command 0x%02x", c.cmd);
		return;
	}
}

/* ---- Writes (DNLOAD block >= 2) ------------------------------------------- */

/* Flash and OTP take whole double words: pad, or apply the ROM's long-write limit. */
static bool shape_flash_write(struct rom_dfu *dfu, uint32_t addr, uint32_t *n)
{
	uint32_t tail = *n % 8u;

	if (addr % 8u) {
		fail(dfu, DFU_STATUS_ERR_WRITE, "write at 0x%08x: flash is programmed in 8-byte double words, the address is not aligned", addr);
		return false;
	}
	if (!tail)
		return true;
	if (*n > dfu->cfg.write_padding_limit) {
		switch (dfu->cfg.tail) {
		case ROM_DFU_TAIL_LOST:
			*n -= tail;
			trace(dfu, "DFU: ROM limit (AN2606): a write of %u bytes, more than %u and not a multiple of 8, at 0x%08x: its last %u bytes (from 0x%08x) are not written, and no error is reported",
			      *n + tail, dfu->cfg.write_padding_limit, addr, tail, addr + *n);
			return true;
		case ROM_DFU_TAIL_ERROR:
			fail(dfu, DFU_STATUS_ERR_WRITE, "write of %u bytes at 0x%08x: more than %u bytes and not a multiple of 8 (AN2606 ROM limit)",
			     *n, addr, dfu->cfg.write_padding_limit);
			return false;
		case ROM_DFU_TAIL_PAD:
			break;
		}
	}
	memset(&dfu->buf[*n], 0xFF, 8u - tail);
	*n += 8u - tail;
	return true;
}

static bool verify(struct rom_dfu *dfu, uint32_t addr, uint32_t n)
{
	uint8_t back[ROM_DFU_MAX_TRANSFER + 8];
	uint32_t i;

	if (!dfu->ops->read || dfu->ops->read(dfu->ctx, addr, back, n) < 0) {
		fail(dfu, DFU_STATUS_ERR_VERIFY, "%u bytes written at 0x%08x cannot be read back", n, addr);
		return false;
	}
	for (i = 0; i < n; i++) {
		if (back[i] != dfu->buf[i]) {
			fail(dfu, DFU_STATUS_ERR_VERIFY, "byte at 0x%08x reads 0x%02x after writing 0x%02x",
			     addr + i, back[i], dfu->buf[i]);
			return false;
		}
	}
	return true;
}

static void execute_write(struct rom_dfu *dfu)
{
	const struct rom_dfu_region *r;
	uint32_t addr, n = dfu->len;

	if (!block_address(dfu, dfu->block, &addr)) {
		fail(dfu, DFU_STATUS_ERR_ADDRESS, "block %u from pointer 0x%08x lies beyond 4 GB", dfu->block, dfu->pointer);
		return;
	}
	r = find_region(dfu, addr);
	/* AN3156 6.3 "Write memory": address allowed? else errTARGET; RDP? errVENDOR. */
	if (!r || !(r->access & ROM_DFU_WRITE)) {
		fail(dfu, DFU_STATUS_ERR_TARGET, "write of %u bytes at 0x%08x: %s%s", n, addr,
		     r ? r->name : "no memory there", r ? " is not writable" : "");
		return;
	}
	if ((uint64_t)addr + n > (uint64_t)r->base + r->size) {
		fail(dfu, DFU_STATUS_ERR_ADDRESS, "write of %u bytes at 0x%08x runs past the end of %s (0x%08x)",
		     n, addr, r->name, r->base + r->size - 1u);
		return;
	}
	if (rdp_level(dfu) >= 1) {
		fail(dfu, DFU_STATUS_ERR_VENDOR, "write at 0x%08x refused under readout protection level 1", addr);
		return;
	}
	if (r->kind == ROM_DFU_MEM_FEATURE) {
		memcpy(&dfu->feature[addr - r->base], dfu->buf, n);
		trace(dfu, "DFU: %u bytes written to the Device Feature area (its meaning is not public: kept, no effect)", n);
		dfu->state = DFU_STATE_DNLOAD_IDLE;
		return;
	}
	if ((r->kind == ROM_DFU_MEM_FLASH || r->kind == ROM_DFU_MEM_OTP) && !shape_flash_write(dfu, addr, &n))
		return;
	if (!dfu->ops->write || dfu->ops->write(dfu->ctx, addr, dfu->buf, n) < 0) {
		fail(dfu, DFU_STATUS_ERR_WRITE, "writing %u bytes at 0x%08x failed", n, addr);
		return;
	}
	if (r->kind != ROM_DFU_MEM_OPTIONS && !verify(dfu, addr, n))
		return;
	dfu->bytes_written += n;
	dfu->state = DFU_STATE_DNLOAD_IDLE;
	if (r->kind == ROM_DFU_MEM_OPTIONS) {
		/* AN3156 "Write memory": new option bytes take effect with a system reset. */
		trace(dfu, "DFU: option bytes written: the chip resets to load them");
		if (dfu->ops->option_reset)
			dfu->ops->option_reset(dfu->ctx);
	}
}

static void execute(struct rom_dfu *dfu)
{
	if (dfu->block == DFUSE_BLOCK_COMMAND)
		execute_command(dfu);
	else if (dfu->block == 1)
		fail(dfu, DFU_STATUS_ERR_STALLEDPKT, "DNLOAD block 1 means nothing to this ROM (AN3156)");
	else
		execute_write(dfu);
}

/* ---- Requests --------------------------------------------------------------- */

static enum rom_dfu_result req_dnload(struct rom_dfu *dfu, uint16_t value, uint16_t length,
				      const uint8_t *data)
{
	if (dfu->state != DFU_STATE_IDLE && dfu->state != DFU_STATE_DNLOAD_IDLE)
		return stall(dfu, "DFU_DNLOAD not allowed in %s", dfu_state_name(dfu->state));
	if (length > dfu->cfg.transfer_size)
		return stall(dfu, "DFU_DNLOAD of %u bytes, more than wTransferSize %u",
			     length, dfu->cfg.transfer_size);
	if (length == 0) {
		/* AN3156 6.5: the leave request; it runs on the next GETSTATUS. */
		dfu->state = DFU_STATE_MANIFEST_SYNC;
		return ROM_DFU_ACK;
	}
	memcpy(dfu->buf, data, length);
	dfu->block = value;
	dfu->len = length;
	dfu->state = DFU_STATE_DNLOAD_SYNC;
	return ROM_DFU_ACK;
}

static enum rom_dfu_result req_upload(struct rom_dfu *dfu, uint16_t value, uint16_t length,
				      uint8_t *data, uint16_t *len)
{
	const struct rom_dfu_region *r;
	uint32_t addr, n;

	if (dfu->state != DFU_STATE_IDLE && dfu->state != DFU_STATE_UPLOAD_IDLE)
		return stall(dfu, "DFU_UPLOAD not allowed in %s", dfu_state_name(dfu->state));
	if (value == DFUSE_BLOCK_COMMAND) {
		n = length < sizeof(rom_commands) ? length : sizeof(rom_commands);
		memcpy(data, rom_commands, n);
		*len = (uint16_t)n;
		dfu->state = DFU_STATE_UPLOAD_IDLE;
		return ROM_DFU_ACK;
	}
	if (value == 1)
		return stall(dfu, "DFU_UPLOAD block 1 means nothing to this ROM (AN3156)");
	if (length > dfu->cfg.transfer_size)
		return stall(dfu, "DFU_UPLOAD of %u bytes, more than wTransferSize %u",
			     length, dfu->cfg.transfer_size);
	if (!block_address(dfu, value, &addr) || !(r = find_region(dfu, addr)) ||
	    !(r->access & ROM_DFU_READ)) {
		dfu->state = DFU_STATE_ERROR;
		dfu->status = DFU_STATUS_ERR_TARGET;
		return stall(dfu, "DFU_UPLOAD block %u from pointer 0x%08x: no readable memory there",
			     value, dfu->pointer);
	}
	if (rdp_level(dfu) >= 1) {
		/* AN3156 6.1: no read under readout protection, errVENDOR. */
		dfu->state = DFU_STATE_ERROR;
		dfu->status = DFU_STATUS_ERR_VENDOR;
		return stall(dfu, "DFU_UPLOAD at 0x%08x refused under readout protection level 1", addr);
	}
	n = length;
	if ((uint64_t)addr + n > (uint64_t)r->base + r->size)
		n = r->base + r->size - addr;
	if (r->kind == ROM_DFU_MEM_FEATURE) {
		memcpy(data, &dfu->feature[addr - r->base], n);
	} else if (!dfu->ops->read || dfu->ops->read(dfu->ctx, addr, data, n) < 0) {
		dfu->state = DFU_STATE_ERROR;
		dfu->status = DFU_STATUS_ERR_TARGET;
		return stall(dfu, "DFU_UPLOAD of %u bytes at 0x%08x: the target cannot read them", n, addr);
	}
	*len = (uint16_t)n;
	dfu->bytes_read += n;
	/* A short frame ends the upload (DFU 1.1 6.2). */
	dfu->state = n < length ? DFU_STATE_IDLE : DFU_STATE_UPLOAD_IDLE;
	return ROM_DFU_ACK;
}

static enum rom_dfu_result req_getstatus(struct rom_dfu *dfu, uint16_t length, uint8_t *data,
					 uint16_t *len)
{
	struct dfu_status st = { 0 };     /* iString 0: no status string */

	if (length < DFU_GETSTATUS_LENGTH)
		return stall(dfu, "DFU_GETSTATUS with wLength %u, not 6", length);
	dfu->poll_ms = 0;
	switch (dfu->state) {
	case DFU_STATE_DNLOAD_SYNC:
		if (!dfu->len) {
			/* The block is done (rom_dfu_complete): DFU 1.1 A.2.4. */
			dfu->state = DFU_STATE_DNLOAD_IDLE;
			break;
		}
		dfu->poll_ms = poll_estimate(dfu);
		dfu->state = DFU_STATE_DNBUSY;
		dfu->work = WORK_EXECUTE;
		break;
	case DFU_STATE_MANIFEST_SYNC:
		dfu->state = DFU_STATE_MANIFEST;
		dfu->work = WORK_LEAVE;
		break;
	case DFU_STATE_DNBUSY:
	case DFU_STATE_MANIFEST:
		return stall(dfu, "DFU_GETSTATUS while in %s", dfu_state_name(dfu->state));
	default:
		break;
	}
	st.status = dfu->status;
	st.poll_ms = dfu->poll_ms;
	st.state = dfu->state;
	dfu_status_encode(&st, data);
	*len = DFU_GETSTATUS_LENGTH;
	return ROM_DFU_ACK;
}

static bool direction_ok(uint8_t request, bool in)
{
	switch (request) {
	case DFU_UPLOAD:
	case DFU_GETSTATUS:
	case DFU_GETSTATE:
		return in;
	default:
		return !in;
	}
}

enum rom_dfu_result rom_dfu_request(struct rom_dfu *dfu, uint8_t request, uint16_t value,
				    uint16_t length, bool in, uint8_t *data, uint16_t *len)
{
	*len = 0;
	dfu->requests++;
	if (request > DFU_ABORT)
		return stall(dfu, "unknown DFU request %u", request);
	if (!direction_ok(request, in))
		return stall(dfu, "%s sent %s", dfu_request_name(request),
			     in ? "device-to-host" : "host-to-device");
	switch (request) {
	case DFU_DETACH:
		if (dfu->state != DFU_STATE_IDLE && dfu->state != DFU_STATE_DNLOAD_IDLE &&
		    dfu->state != DFU_STATE_UPLOAD_IDLE)
			return stall(dfu, "DFU_DETACH not allowed in %s", dfu_state_name(dfu->state));
		dfu->state = DFU_STATE_IDLE;
		dfu->work = WORK_DETACH;
		return ROM_DFU_ACK;
	case DFU_DNLOAD:
		return req_dnload(dfu, value, length, data);
	case DFU_UPLOAD:
		return req_upload(dfu, value, length, data, len);
	case DFU_GETSTATUS:
		return req_getstatus(dfu, length, data, len);
	case DFU_CLRSTATUS:
		if (dfu->state != DFU_STATE_ERROR)
			return stall(dfu, "DFU_CLRSTATUS not allowed in %s", dfu_state_name(dfu->state));
		dfu->state = DFU_STATE_IDLE;
		dfu->status = DFU_STATUS_OK;
		return ROM_DFU_ACK;
	case DFU_GETSTATE:
		if (dfu->state == DFU_STATE_DNBUSY || dfu->state == DFU_STATE_MANIFEST)
			return stall(dfu, "DFU_GETSTATE while in %s", dfu_state_name(dfu->state));
		if (length < 1)
			return stall(dfu, "DFU_GETSTATE with wLength 0");
		data[0] = dfu->state;
		*len = 1;
		return ROM_DFU_ACK;
	case DFU_ABORT:
		if (dfu->state != DFU_STATE_IDLE && dfu->state != DFU_STATE_DNLOAD_IDLE &&
		    dfu->state != DFU_STATE_UPLOAD_IDLE)
			return stall(dfu, "DFU_ABORT not allowed in %s", dfu_state_name(dfu->state));
		dfu->state = DFU_STATE_IDLE;
		return ROM_DFU_ACK;
	}
	return stall(dfu, "unknown DFU request %u", request);
}

void rom_dfu_complete(struct rom_dfu *dfu)
{
	enum work work = (enum work)dfu->work;

	dfu->work = WORK_NONE;
	switch (work) {
	case WORK_EXECUTE:
		execute(dfu);
		/*
		 * DFU 1.1 A.2.5: once bwPollTimeout has passed, dfuDNBUSY
		 * becomes dfuDNLOAD-SYNC, and only the next GETSTATUS reports
		 * dfuDNLOAD-IDLE; a DNLOAD before it stalls.
		 */
		if (dfu->state == DFU_STATE_DNLOAD_IDLE)
			dfu->state = DFU_STATE_DNLOAD_SYNC;
		dfu->len = 0;
		return;
	case WORK_LEAVE:
		trace(dfu, "DFU: leave request: jump to the vector table at 0x%08x (%llu bytes written, %llu read this session)",
		      dfu->pointer, (unsigned long long)dfu->bytes_written,
		      (unsigned long long)dfu->bytes_read);
		if (dfu->ops->leave)
			dfu->ops->leave(dfu->ctx, dfu->pointer);
		return;
	case WORK_DETACH:
		trace(dfu, "DFU: DFU_DETACH: the device detaches from the bus and attaches again (bitWillDetach)");
		if (dfu->ops->detach)
			dfu->ops->detach(dfu->ctx);
		return;
	case WORK_NONE:
		return;
	}
}

bool rom_dfu_download_pending(const struct rom_dfu *dfu)
{
	return dfu->work == WORK_EXECUTE;
}

/* ---- Setup -------------------------------------------------------------------- */

void rom_dfu_init(struct rom_dfu *dfu, const struct rom_dfu_config *cfg,
		  const struct rom_dfu_ops *ops, void *ctx)
{
	memset(dfu, 0, sizeof(*dfu));
	dfu->cfg = *cfg;
	if (!dfu->cfg.transfer_size || dfu->cfg.transfer_size > ROM_DFU_MAX_TRANSFER)
		dfu->cfg.transfer_size = DFUSE_TRANSFER_SIZE;
	if (!dfu->cfg.write_padding_limit)
		dfu->cfg.write_padding_limit = DFUSE_ROM_LONG_WRITE;
	dfu->ops = ops;
	dfu->ctx = ctx;
	rom_dfu_reset(dfu);
}

void rom_dfu_reset(struct rom_dfu *dfu)
{
	dfu->state = DFU_STATE_IDLE;
	dfu->status = DFU_STATUS_OK;
	dfu->pointer = dfu->cfg.default_pointer;
	dfu->alt = 0;
	dfu->poll_ms = 0;
	dfu->work = WORK_NONE;
	dfu->block = 0;
	dfu->len = 0;
	dfu->bytes_written = dfu->bytes_read = 0;
}

void rom_dfu_set_alt(struct rom_dfu *dfu, uint8_t alt)
{
	dfu->alt = alt;
}

const char *rom_dfu_last_error(const struct rom_dfu *dfu)
{
	return dfu->last_error;
}
