/*
 * fake_dfu.c - the scripted DfuSe device (fake_dfu.h).
 *
 * Kept literal: each request does what DFU 1.1's state table and AN3156
 * say, in the order they say it, so a client that gets a sequence wrong
 * meets a stall here as it would on a board.
 *
 * The address pointer is the least a client may rely on: Set Address
 * Pointer sets it, the blocks after it are placed from it (AN3156), and
 * the DFU_ABORT that follows a Set Address keeps it (UPLOAD is taken in
 * dfuIDLE or dfuUPLOAD-IDLE only, so a DfuSe read sets the address, aborts
 * to dfuIDLE, then uploads, as dfu-util does). Everything else forgets
 * it, back to 0x08000000 where AN3156 puts a pointer never set: an error
 * or stall, CLRSTATUS, any other ABORT, a change of alternate setting; an
 * erase moves it to the page erased, as ST's USB device library does.
 */
#include "fake_dfu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sysboot/dfuse.h"
#include "sysboot/stm32l476.h"

#define FAKE_OB_ADDR 0x1FFF7800u
#define L476_LAYOUT  "@Internal Flash  /0x08000000/256*0002Kg,256*0002Kg"
#define OB_LAYOUT    "@Option Bytes  /0x1FFF7800/01*040 e"

enum { P_NONE, P_CMD, P_DATA, P_LEAVE };

static enum usb_find fake_open(const struct usb_provider *p, const struct usb_spec *spec,
			       void **handle, const struct dfu_link_ops **ops,
			       struct usb_device_info *info, char *err, size_t errlen);
static int fake_count(const struct usb_provider *p, const struct usb_spec *spec);
static void fake_close(void *handle);

void fake_dfu_init(struct fake_dfu *f)
{
	memset(f, 0, sizeof(*f));
	f->flash = malloc(FAKE_DFU_FLASH_SIZE);
	memset(f->flash, 0xFF, FAKE_DFU_FLASH_SIZE);
	/* RDP level 0, software watchdog, dual bank, nBOOT1 (RM0351 3.4.1). */
	f->ob[0] = 0xAA;
	f->ob[1] = 0xF8;
	f->ob[2] = 0xFF;
	f->ob[3] = 0xFF;
	f->state = DFU_STATE_IDLE;
	f->ptr = STM32_FLASH_BASE;
	f->poll_ms = 25;
	f->transfer_size = DFUSE_TRANSFER_SIZE;
	f->present = true;
	f->vid = DFUSE_VID;
	f->pid = DFUSE_PID;
	f->provider.open = fake_open;
	f->provider.count = fake_count;
	f->provider.close = fake_close;
	f->provider.ctx = f;
}

void fake_dfu_free(struct fake_dfu *f)
{
	free(f->flash);
	f->flash = NULL;
}

static void forget_pointer(struct fake_dfu *f)
{
	f->ptr = STM32_FLASH_BASE;
	f->ptr_just_set = false;
}

static int stall(struct fake_dfu *f, uint8_t status)
{
	f->state = DFU_STATE_ERROR;
	f->status = status;
	forget_pointer(f);
	return USB_ERR_STALL;
}

static bool in_flash(uint32_t addr, uint32_t len)
{
	return addr >= STM32_FLASH_BASE && len <= FAKE_DFU_FLASH_SIZE &&
	       addr - STM32_FLASH_BASE <= FAKE_DFU_FLASH_SIZE - len;
}

static void error_state(struct fake_dfu *f, uint8_t status)
{
	f->state = DFU_STATE_ERROR;
	f->status = status;
	forget_pointer(f);
}

static void run_command(struct fake_dfu *f)
{
	struct dfuse_command c;
	bool ok = dfuse_command_decode(f->pbuf, f->plen, &c);
	uint32_t addr = c.addr;

	switch (c.cmd) {
	case DFUSE_CMD_SET_ADDRESS:
		if (!c.has_addr)
			return error_state(f, DFU_STATUS_ERR_TARGET);
		f->ptr = addr;
		f->ptr_just_set = true;
		f->set_addresses++;
		break;
	case DFUSE_CMD_ERASE:
		if (ok && !c.has_addr) {
			memset(f->flash, 0xFF, FAKE_DFU_FLASH_SIZE);
			f->mass_erases++;
			break;
		}
		if (!c.has_addr || f->alt != 0 || !in_flash(addr, 1))
			return error_state(f, DFU_STATUS_ERR_TARGET);
		addr &= ~(uint32_t)(STM32_FLASH_PAGE_SIZE - 1);
		memset(f->flash + (addr - STM32_FLASH_BASE), 0xFF, STM32_FLASH_PAGE_SIZE);
		f->ptr = c.addr;
		f->ptr_just_set = false;
		if (f->nerased < FAKE_DFU_RECORDS)
			f->erase_order[f->nerased++] = addr;
		break;
	case DFUSE_CMD_READ_UNPROTECT:
		memset(f->flash, 0xFF, FAKE_DFU_FLASH_SIZE);
		f->rdp = false;
		f->unprotects++;
		/* AN3156: the ROM resets once it is done. */
		f->vanish_at = f->requests + 1;
		break;
	default:
		error_state(f, DFU_STATUS_ERR_STALLEDPKT);
	}
}

static void run_data(struct fake_dfu *f)
{
	uint32_t addr = 0, i;
	bool placed = dfuse_block_address(f->ptr, f->pblock, f->transfer_size, &addr);

	f->ptr_just_set = false;
	f->last_write_len = f->plen;
	f->last_write_tail = f->pbuf[f->plen - 1];
	if (f->plen > DFUSE_ROM_LONG_WRITE && f->plen % 8)
		f->bad_len_writes++;
	if (!placed || f->alt != 0 || !in_flash(addr, f->plen) || addr % 8)
		return error_state(f, DFU_STATUS_ERR_ADDRESS);
	if (f->rdp)
		return error_state(f, DFU_STATUS_ERR_WRITE);
	if (f->fail_count && addr == f->fail_addr) {
		f->fail_count--;
		return error_state(f, DFU_STATUS_ERR_PROG);
	}
	/* RM0351 3.3.7: a double word is programmed once after an erase. */
	for (i = 0; i < f->plen; i += 8) {
		const uint8_t *p = f->flash + (addr - STM32_FLASH_BASE) + i;
		unsigned k;

		for (k = 0; k < 8; k++)
			if (p[k] != 0xFF)
				return error_state(f, DFU_STATUS_ERR_PROG);
	}
	memcpy(f->flash + (addr - STM32_FLASH_BASE), f->pbuf, f->plen);
	if (f->nwritten < FAKE_DFU_RECORDS)
		f->write_order[f->nwritten++] = addr;
}

static int get_status(struct fake_dfu *f, uint8_t *b, uint16_t len)
{
	struct dfu_status st = { 0 };

	f->getstatus++;
	if (len < 6)
		return stall(f, DFU_STATUS_ERR_STALLEDPKT);
	if (f->timeout_status_at && f->getstatus >= f->timeout_status_at &&
	    f->getstatus <= f->timeout_status_at + f->timeout_status_count)
		return USB_ERR_TIMEOUT;
	if (f->state == DFU_STATE_DNLOAD_SYNC) {
		int p = f->pending;

		f->pending = P_NONE;
		f->state = DFU_STATE_DNBUSY;
		if (p == P_CMD)
			run_command(f);
		else if (p == P_DATA)
			run_data(f);
		else if (p == P_LEAVE) {
			/* This answer is the last: the ROM jumps and leaves the bus. */
			f->state = DFU_STATE_MANIFEST;
			f->left = true;
			f->jumped_to = f->ptr;
			f->present = false;
		}
		if (f->state == DFU_STATE_DNBUSY)
			st.poll_ms = f->poll_ms;
		if (p == P_DATA && f->lose_status_after_write &&
		    f->state == DFU_STATE_DNBUSY) {
			f->lose_status_after_write = false;
			return USB_ERR_TIMEOUT;
		}
	} else if (f->state == DFU_STATE_DNBUSY) {
		if (f->always_busy)
			st.poll_ms = f->poll_ms;
		else
			f->state = DFU_STATE_DNLOAD_IDLE;
	}
	st.status = f->status;
	st.state = f->state;
	dfu_status_encode(&st, b);
	return DFU_GETSTATUS_LENGTH;
}

static int upload(struct fake_dfu *f, uint16_t value, uint8_t *data, uint16_t len)
{
	static const uint8_t cmds[] = { DFUSE_CMD_GET_COMMANDS, DFUSE_CMD_SET_ADDRESS,
					DFUSE_CMD_ERASE, DFUSE_CMD_READ_UNPROTECT };
	uint32_t addr;

	if (f->state != DFU_STATE_IDLE && f->state != DFU_STATE_UPLOAD_IDLE)
		return stall(f, DFU_STATUS_ERR_STALLEDPKT);
	if (value == 0) {
		uint16_t n = len < sizeof(cmds) ? len : sizeof(cmds);

		memcpy(data, cmds, n);
		f->state = DFU_STATE_UPLOAD_IDLE;
		return n;
	}
	if (value < 2 || f->rdp)
		return stall(f, DFU_STATUS_ERR_TARGET);
	f->uploads++;
	f->ptr_just_set = false;
	if (f->stall_upload_at && f->uploads == f->stall_upload_at)
		return stall(f, DFU_STATUS_ERR_TARGET);
	if (!dfuse_block_address(f->ptr, value, f->transfer_size, &addr))
		return stall(f, DFU_STATUS_ERR_ADDRESS);
	if (f->alt == 1) {
		if (addr < FAKE_OB_ADDR || addr - FAKE_OB_ADDR + len > sizeof(f->ob))
			return stall(f, DFU_STATUS_ERR_ADDRESS);
		memcpy(data, f->ob + (addr - FAKE_OB_ADDR), len);
	} else {
		if (!in_flash(addr, len))
			return stall(f, DFU_STATUS_ERR_ADDRESS);
		memcpy(data, f->flash + (addr - STM32_FLASH_BASE), len);
	}
	f->state = DFU_STATE_UPLOAD_IDLE;
	return len;
}

static int fake_request(void *ctx, bool in, uint8_t request, uint16_t value,
			void *data, uint16_t len, unsigned timeout_ms)
{
	struct fake_dfu *f = ctx;

	(void)timeout_ms;
	f->requests++;
	if (f->vanish_at && f->requests >= f->vanish_at)
		f->present = false;
	if (!f->present)
		return USB_ERR_NO_DEVICE;
	switch (request) {
	case DFU_GETSTATUS:
		return in ? get_status(f, data, len) : stall(f, DFU_STATUS_ERR_STALLEDPKT);
	case DFU_CLRSTATUS:
		f->clrstatus++;
		if (f->state != DFU_STATE_ERROR)
			return stall(f, DFU_STATUS_ERR_STALLEDPKT);
		f->state = DFU_STATE_IDLE;
		f->status = DFU_STATUS_OK;
		forget_pointer(f);
		return 0;
	case DFU_ABORT:
		f->aborts++;
		if (f->state != DFU_STATE_IDLE && f->state != DFU_STATE_DNLOAD_IDLE &&
		    f->state != DFU_STATE_UPLOAD_IDLE)
			return stall(f, DFU_STATUS_ERR_STALLEDPKT);
		f->state = DFU_STATE_IDLE;
		if (!f->ptr_just_set)
			forget_pointer(f);
		return 0;
	case DFU_GETSTATE:
		((uint8_t *)data)[0] = f->state;
		return 1;
	case DFU_UPLOAD:
		return in ? upload(f, value, data, len) : stall(f, DFU_STATUS_ERR_STALLEDPKT);
	case DFU_DNLOAD:
		if (in)
			return stall(f, DFU_STATUS_ERR_STALLEDPKT);
		f->dnloads++;
		if (f->state != DFU_STATE_IDLE && f->state != DFU_STATE_DNLOAD_IDLE)
			return stall(f, DFU_STATUS_ERR_STALLEDPKT);
		if (f->stall_dnload_at && f->dnloads >= f->stall_dnload_at &&
		    f->dnloads <= f->stall_dnload_at + f->stall_dnloads)
			return stall(f, DFU_STATUS_ERR_TARGET);
		if (len > sizeof(f->pbuf))
			return stall(f, DFU_STATUS_ERR_STALLEDPKT);
		if (value == 0) {
			if (len == 0)
				return stall(f, DFU_STATUS_ERR_STALLEDPKT);
			f->pending = P_CMD;
		} else if (len == 0) {
			f->pending = P_LEAVE;
		} else {
			f->pending = P_DATA;
		}
		if (len)
			memcpy(f->pbuf, data, len);
		f->plen = len;
		f->pblock = value;
		f->state = DFU_STATE_DNLOAD_SYNC;
		return len;
	}
	return stall(f, DFU_STATUS_ERR_STALLEDPKT);
}

static int fake_set_alt(void *ctx, uint8_t alt)
{
	struct fake_dfu *f = ctx;

	if (!f->present)
		return USB_ERR_NO_DEVICE;
	if (alt > 1)
		return USB_ERR_STALL;
	f->alt = alt;
	f->state = DFU_STATE_IDLE;
	forget_pointer(f);
	return 0;
}

static void fake_sleep(void *ctx, unsigned ms)
{
	struct fake_dfu *f = ctx;

	f->sleeps++;
	f->sleep_ms_total += ms;
	f->last_sleep_ms = ms;
}

const struct dfu_link_ops fake_dfu_link = {
	.request = fake_request,
	.set_alt = fake_set_alt,
	.sleep_ms = fake_sleep,
};

void fake_dfu_attach(struct fake_dfu *f, struct dfuse *d)
{
	dfuse_init(d, &fake_dfu_link, f, "usb (fake)", f->transfer_size);
	dfuse_add_alt(d, 0, f->layout ? f->layout : L476_LAYOUT);
	dfuse_add_alt(d, 1, OB_LAYOUT);
}

/* ---- As a usb_provider ------------------------------------------------ */

static enum usb_find fake_open(const struct usb_provider *p, const struct usb_spec *spec,
			       void **handle, const struct dfu_link_ops **ops,
			       struct usb_device_info *info, char *err, size_t errlen)
{
	struct fake_dfu *f = p->ctx;

	f->opens++;
	if (f->several) {
		struct usb_candidate c[4];
		unsigned i;

		memset(c, 0, sizeof(c));
		for (i = 0; i < f->several && i < 4; i++) {
			c[i].vid = f->vid;
			c[i].pid = f->pid;
			c[i].bus = 1;
			c[i].address = (uint8_t)(5 + i);
			snprintf(c[i].serial, sizeof(c[i].serial), "FAKE%04u", i + 1);
		}
		if (usb_pick(c, i, spec, err, errlen) == -2)
			return USB_SEVERAL;
	}
	if (f->absent_opens) {
		f->absent_opens--;
		return USB_NONE;
	}
	if (f->denied_opens) {
		f->denied_opens--;
		snprintf(err, errlen, "permission denied opening USB device %04x:%04x "
			 "(bus 1 device 5): install a udev rule", f->vid, f->pid);
		return USB_DENIED;
	}
	if (f->mute_opens) {
		f->mute_opens--;
		snprintf(err, errlen, "USB device %04x:%04x (bus 1 device 5) does not give "
			 "its string descriptors: Operation timed out", f->vid, f->pid);
		return USB_NOT_READY;
	}
	if (!f->present || spec->vid != f->vid || spec->pid != f->pid)
		return USB_NONE;
	memset(info, 0, sizeof(*info));
	info->vid = f->vid;
	info->pid = f->pid;
	info->bcd_device = 0x2200;
	info->bus = 1;
	info->address = 5;
	snprintf(info->serial, sizeof(info->serial), "FAKE0001");
	info->nalts = 2;
	info->alt[0] = 0;
	info->alt[1] = 1;
	snprintf(info->alt_desc[0], sizeof(info->alt_desc[0]), "%s",
		 f->layout ? f->layout : L476_LAYOUT);
	snprintf(info->alt_desc[1], sizeof(info->alt_desc[1]), "%s", OB_LAYOUT);
	info->have_functional = true;
	info->func.transfer_size = f->transfer_size;
	info->func.bcd_dfu = DFUSE_BCD_DFU;
	info->func.attributes = 0x0B;
	f->state = DFU_STATE_IDLE;
	f->alt = 0;
	forget_pointer(f);
	*handle = f;
	*ops = &fake_dfu_link;
	return USB_FOUND;
}

/* After a leave the device is gone; a refused image brings the ROM back. */
static int fake_count(const struct usb_provider *p, const struct usb_spec *spec)
{
	struct fake_dfu *f = p->ctx;

	(void)spec;
	if (f->left && f->stub_rejects && ++f->counts_after_leave > 2) {
		f->present = true;
		f->left = false;
		f->state = DFU_STATE_IDLE;
	}
	return f->present ? 1 : 0;
}

static void fake_close(void *handle)
{
	(void)handle;
}
