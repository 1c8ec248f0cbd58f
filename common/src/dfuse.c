/*
 * dfuse.c - the bytes of USB DFU 1.1 / DfuSe that the host tool and the
 * emulator's ROM model share (see sysboot/dfuse.h).
 *
 * Both sides of the wire run this code, one building what the other reads
 * back, so each function here is pinned to the documents byte by byte in
 * tests/unit/test_dfuse.c, and dfu-util, which shares none of it, talks to
 * the ROM model in tests/sim/dfu_util.sh.
 */
#include "sysboot/dfuse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sysboot/byteorder.h"

/* ---- Names ------------------------------------------------------------- */

const char *dfu_state_name(uint8_t state)
{
	static const char *const names[] = {
		[DFU_STATE_APP_IDLE] = "appIDLE",
		[DFU_STATE_APP_DETACH] = "appDETACH",
		[DFU_STATE_IDLE] = "dfuIDLE",
		[DFU_STATE_DNLOAD_SYNC] = "dfuDNLOAD-SYNC",
		[DFU_STATE_DNBUSY] = "dfuDNBUSY",
		[DFU_STATE_DNLOAD_IDLE] = "dfuDNLOAD-IDLE",
		[DFU_STATE_MANIFEST_SYNC] = "dfuMANIFEST-SYNC",
		[DFU_STATE_MANIFEST] = "dfuMANIFEST",
		[DFU_STATE_MANIFEST_WAIT_RESET] = "dfuMANIFEST-WAIT-RESET",
		[DFU_STATE_UPLOAD_IDLE] = "dfuUPLOAD-IDLE",
		[DFU_STATE_ERROR] = "dfuERROR",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "unknown state";
}

const char *dfu_status_name(uint8_t status)
{
	static const char *const names[] = {
		[DFU_STATUS_OK] = "OK",
		[DFU_STATUS_ERR_TARGET] = "errTARGET",
		[DFU_STATUS_ERR_FILE] = "errFILE",
		[DFU_STATUS_ERR_WRITE] = "errWRITE",
		[DFU_STATUS_ERR_ERASE] = "errERASE",
		[DFU_STATUS_ERR_CHECK_ERASED] = "errCHECK_ERASED",
		[DFU_STATUS_ERR_PROG] = "errPROG",
		[DFU_STATUS_ERR_VERIFY] = "errVERIFY",
		[DFU_STATUS_ERR_ADDRESS] = "errADDRESS",
		[DFU_STATUS_ERR_NOTDONE] = "errNOTDONE",
		[DFU_STATUS_ERR_FIRMWARE] = "errFIRMWARE",
		[DFU_STATUS_ERR_VENDOR] = "errVENDOR",
		[DFU_STATUS_ERR_USBR] = "errUSBR",
		[DFU_STATUS_ERR_POR] = "errPOR",
		[DFU_STATUS_ERR_UNKNOWN] = "errUNKNOWN",
		[DFU_STATUS_ERR_STALLEDPKT] = "errSTALLEDPKT",
	};

	return status < sizeof(names) / sizeof(names[0]) ? names[status] : "unknown status";
}

const char *dfu_request_name(uint8_t request)
{
	static const char *const names[] = {
		[DFU_DETACH] = "DFU_DETACH",
		[DFU_DNLOAD] = "DFU_DNLOAD",
		[DFU_UPLOAD] = "DFU_UPLOAD",
		[DFU_GETSTATUS] = "DFU_GETSTATUS",
		[DFU_CLRSTATUS] = "DFU_CLRSTATUS",
		[DFU_GETSTATE] = "DFU_GETSTATE",
		[DFU_ABORT] = "DFU_ABORT",
	};

	return request < sizeof(names) / sizeof(names[0]) ? names[request] : "unknown DFU request";
}

const char *dfu_status_text(uint8_t status)
{
	static const char *const texts[] = {
		[DFU_STATUS_OK] = "no error",
		[DFU_STATUS_ERR_TARGET] = "not meant for this device or address",
		[DFU_STATUS_ERR_FILE] = "the data failed the device's own check",
		[DFU_STATUS_ERR_WRITE] = "the device cannot write that memory",
		[DFU_STATUS_ERR_ERASE] = "the erase failed",
		[DFU_STATUS_ERR_CHECK_ERASED] = "the memory did not read as erased",
		[DFU_STATUS_ERR_PROG] = "programming failed",
		[DFU_STATUS_ERR_VERIFY] = "the programmed data did not verify",
		[DFU_STATUS_ERR_ADDRESS] = "the address is out of range",
		[DFU_STATUS_ERR_NOTDONE] = "the device expected more data",
		[DFU_STATUS_ERR_FIRMWARE] = "the device's firmware is corrupt",
		[DFU_STATUS_ERR_VENDOR] = "a vendor-specific error",
		[DFU_STATUS_ERR_USBR] = "an unexpected USB reset",
		[DFU_STATUS_ERR_POR] = "an unexpected power-on reset",
		[DFU_STATUS_ERR_UNKNOWN] = "an error the device cannot name",
		[DFU_STATUS_ERR_STALLEDPKT] = "the device stalled an unexpected request",
	};

	return status < sizeof(texts) / sizeof(texts[0]) ? texts[status] :
	       "a status DFU 1.1 does not define";
}

/* ---- GETSTATUS ------------------------------------------------------------ */

void dfu_status_encode(const struct dfu_status *st, uint8_t out[DFU_GETSTATUS_LENGTH])
{
	uint32_t poll = st->poll_ms > DFU_POLL_TIMEOUT_MAX ? DFU_POLL_TIMEOUT_MAX : st->poll_ms;

	out[0] = st->status;
	out[1] = (uint8_t)poll;
	out[2] = (uint8_t)(poll >> 8);
	out[3] = (uint8_t)(poll >> 16);
	out[4] = st->state;
	out[5] = st->istring;
}

void dfu_status_decode(const uint8_t in[DFU_GETSTATUS_LENGTH], struct dfu_status *st)
{
	st->status = in[0];
	st->poll_ms = (uint32_t)in[1] | (uint32_t)in[2] << 8 | (uint32_t)in[3] << 16;
	st->state = in[4];
	st->istring = in[5];
}

/* ---- DfuSe commands and blocks -------------------------------------------- */

size_t dfuse_command_encode(const struct dfuse_command *c, uint8_t out[DFUSE_COMMAND_MAX])
{
	out[0] = c->cmd;
	if (!c->has_addr)
		return 1;
	put_le32(out + 1, c->addr);
	return DFUSE_COMMAND_MAX;
}

bool dfuse_command_decode(const uint8_t *buf, size_t len, struct dfuse_command *c)
{
	memset(c, 0, sizeof(*c));
	if (len)
		c->cmd = buf[0];
	if (len == DFUSE_COMMAND_MAX) {
		c->has_addr = true;
		c->addr = get_le32(buf + 1);
	}
	return len == 1 || len == DFUSE_COMMAND_MAX;
}

bool dfuse_block_address(uint32_t pointer, uint16_t block, uint16_t transfer_size,
			 uint32_t *addr)
{
	uint64_t a;

	if (block < DFUSE_BLOCK_DATA)
		return false;
	a = (uint64_t)pointer + (uint64_t)(block - DFUSE_BLOCK_DATA) * transfer_size;
	if (a > UINT32_MAX)
		return false;
	*addr = (uint32_t)a;
	return true;
}

/* ---- The functional descriptor ------------------------------------------- */

void dfu_functional_encode(const struct dfu_functional *f, uint8_t out[DFU_FUNCTIONAL_LENGTH])
{
	out[0] = DFU_FUNCTIONAL_LENGTH;
	out[1] = DFU_DESC_FUNCTIONAL;
	out[2] = f->attributes;
	put_le16(out + 3, f->detach_timeout_ms);
	put_le16(out + 5, f->transfer_size);
	put_le16(out + 7, f->bcd_dfu);
}

bool dfu_functional_find(const uint8_t *desc, size_t len, struct dfu_functional *f)
{
	size_t i = 0;

	/* Descriptors back to back, each starting with its length and type. */
	while (i + 2 <= len && desc[i] >= 2 && desc[i] <= len - i) {
		const uint8_t *d = desc + i;

		if (d[1] == DFU_DESC_FUNCTIONAL && d[0] >= 7) {
			memset(f, 0, sizeof(*f));
			f->attributes = d[2];
			f->detach_timeout_ms = get_le16(d + 3);
			f->transfer_size = get_le16(d + 5);
			if (d[0] >= DFU_FUNCTIONAL_LENGTH)
				f->bcd_dfu = get_le16(d + 7);
			return true;
		}
		i += d[0];
	}
	return false;
}

/* ---- Layout strings -------------------------------------------------------- */

static int layout_err(char *err, size_t errlen, const char *s, const char *p, const char *why)
{
	snprintf(err, errlen, "memory layout \"%s\": %s at offset %d", s, why, (int)(p - s));
	return -1;
}

/* A decimal or 0x-hex number; p moves past it. */
static bool parse_num(const char **p, int base, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (!isxdigit((unsigned char)**p))
		return false;
	x = strtoull(*p, &end, base);
	if (end == *p || x > 0xFFFFFFFFull)
		return false;
	*p = end;
	*v = x;
	return true;
}

int dfuse_parse_layout(const char *s, struct dfuse_layout *l, char *err, size_t errlen)
{
	const char *p = s, *slash;
	size_t n;

	memset(l, 0, sizeof(*l));
	if (*p != '@')
		return layout_err(err, errlen, s, p, "no '@' at the start");
	slash = strchr(++p, '/');
	if (!slash)
		return layout_err(err, errlen, s, p, "no '/' after the name");
	n = (size_t)(slash - p);
	while (n && p[n - 1] == ' ')
		n--;
	snprintf(l->name, sizeof(l->name), "%.*s", (int)n, p);
	p = slash;
	while (*p == '/') {
		uint64_t addr, count, size, base;

		p++;
		if (strncmp(p, "0x", 2) && strncmp(p, "0X", 2))
			return layout_err(err, errlen, s, p, "no 0x address");
		p += 2;
		if (!parse_num(&p, 16, &base))
			return layout_err(err, errlen, s, p, "bad address");
		if (*p++ != '/')
			return layout_err(err, errlen, s, p - 1, "no '/' after the address");
		addr = base;
		for (;;) {
			uint64_t mult = 1;
			char type;

			if (!parse_num(&p, 10, &count) || count == 0)
				return layout_err(err, errlen, s, p, "bad sector count");
			if (*p++ != '*')
				return layout_err(err, errlen, s, p - 1, "no '*' after the sector count");
			if (!parse_num(&p, 10, &size) || size == 0)
				return layout_err(err, errlen, s, p, "bad sector size");
			switch (*p) {
			case ' ': case 'B': p++; break;
			case 'K': mult = 1024; p++; break;
			case 'M': mult = 1024 * 1024; p++; break;
			}
			type = *p;
			if (type < 'a' || type > 'g')
				return layout_err(err, errlen, s, p, "sector type is not a letter a to g");
			p++;
			size *= mult;
			if (size > 0xFFFFFFFFull || addr + count * size > 0x100000000ull)
				return layout_err(err, errlen, s, p, "sectors run past 4 GB");
			if (l->nregions == DFUSE_MAX_REGIONS)
				return layout_err(err, errlen, s, p, "too many sector runs");
			l->region[l->nregions].addr = (uint32_t)addr;
			l->region[l->nregions].count = (uint32_t)count;
			l->region[l->nregions].size = (uint32_t)size;
			/* 'a' readable, 'b' erasable, 'd' writable, and sums. */
			l->region[l->nregions].flags = (uint8_t)((type - 'a' + 1) & 7);
			l->nregions++;
			addr += count * size;
			if (*p != ',')
				break;
			p++;
		}
	}
	if (*p)
		return layout_err(err, errlen, s, p, "unexpected text");
	if (l->nregions == 0)
		return layout_err(err, errlen, s, p, "no sectors");
	return 0;
}

const struct dfuse_region *dfuse_layout_find(const struct dfuse_layout *l, uint32_t addr)
{
	unsigned i;

	for (i = 0; i < l->nregions; i++) {
		const struct dfuse_region *r = &l->region[i];

		if (addr >= r->addr && (uint64_t)addr - r->addr < (uint64_t)r->count * r->size)
			return r;
	}
	return NULL;
}
