/*
 * bl_an3155.c - the bootloader backend over a serial line (AN3155).
 *
 * Connecting is where the serial path differs most from USB: the same line
 * carries the application's 8N1 text and, once the enter command has been
 * sent, the ROM's 8E1 protocol, so the line is reconfigured in between and
 * the ROM is found by synchronising with 0x7F. The operations themselves
 * are the AN3155 client's (an3155.c); this file only adapts their status
 * and message to the session.
 */
#include "bootloader.h"

#include <stdio.h>
#include <string.h>

#include "sysboot/an3155.h"
#include "sysboot/dfuse.h"

/* AN2606: the ROM needs 55 ms with an LSE, so nothing can answer sooner. */
#define ROM_MIN_STARTUP_MS 50u
#define SYNC_TOTAL_MS      4000u

enum op_status op_from_an(enum an_status st)
{
	switch (st) {
	case AN_OK: return OP_OK;
	case AN_ERR_NACK: return OP_ERR_NACK;
	case AN_ERR_TIMEOUT: return OP_ERR_TIMEOUT;
	case AN_ERR_NO_ANSWER: return OP_ERR_NO_ANSWER;
	case AN_ERR_LINK: return OP_ERR_LINK;
	case AN_ERR_PROTOCOL: return OP_ERR_PROTOCOL;
	case AN_ERR_WRONG_CHIP: return OP_ERR_WRONG_CHIP;
	case AN_ERR_ARG: return OP_ERR_USAGE;
	}
	return OP_ERR_INTERNAL;
}

/* The client's status as the session's, its message in s->err. */
static enum op_status an_result(struct session *s, enum an_status st)
{
	if (st != AN_OK)
		snprintf(s->err, sizeof(s->err), "%s", an3155_error(&s->an));
	return op_from_an(st);
}

static void an_close(struct session *s)
{
	transport_close(s->tp);
	s->tp = NULL;
	s->app = NULL;
}

enum op_status an3155_session_open(struct session *s, const struct connect_opts *co,
				   char *err, size_t errlen)
{
	unsigned baud = co->baud ? co->baud : TRANSPORT_DEFAULT_BAUD;
	unsigned sync_ms = co->sync_ms ? co->sync_ms : SYNC_TOTAL_MS;
	const char *cmd = co->enter_cmd ? co->enter_cmd : DEFAULT_ENTER_CMD;
	bool no_enter = co->no_enter || co->enter_exec;
	char msg[160];
	enum tp_status ts;
	enum an_status st;
	enum op_status ret;

	s->block = AN3155_MAX_DATA;
	if (co->enter_port) {
		snprintf(err, errlen, "--enter-port is for USB ports: over a serial "
			 "port the enter command goes on --port itself");
		return OP_ERR_USAGE;
	}
	if (!transport_baud_supported(baud)) {
		snprintf(err, errlen, "unsupported baud rate %u (AN3155 "
			 "documents 1200 to 115200)", baud);
		return OP_ERR_USAGE;
	}
	ret = session_run_enter_exec(co, err, errlen);
	if (ret != OP_OK)
		return ret;
	/* (a) The application listens at 115200 8N1. */
	ts = transport_open(&s->tp, co->port,
			    no_enter ? baud : TRANSPORT_DEFAULT_BAUD,
			    no_enter ? TP_PARITY_EVEN : TP_PARITY_NONE,
			    err, errlen);
	if (ts != TP_OK)
		return ts == TP_ERR_CLOSED ? OP_ERR_LINK : OP_ERR_PORT;
	s->app = s->tp;
	an3155_init(&s->an, s->tp);
	if (co->resume) {
		st = an3155_resync(&s->an);
		if (st != AN_OK)
			goto fail_an;
	}
	if (!no_enter) {
		if (transport_write(s->tp, cmd, strlen(cmd)) != TP_OK ||
		    transport_drain(s->tp) != TP_OK) {
			snprintf(err, errlen, "%s", transport_error(s->tp));
			goto fail_link;
		}
		/* AN2606: the ROM takes 55 ms (LSE) to 2.56 s to start;
		 * the sync below tries from then on. */
		sleep_ms(co->rom_startup_ms ? co->rom_startup_ms : ROM_MIN_STARTUP_MS);
		if (transport_set_line(s->tp, baud, TP_PARITY_EVEN) != TP_OK) {
			snprintf(err, errlen, "%s", transport_error(s->tp));
			an_close(s);
			return OP_ERR_PORT;
		}
	}
	st = an3155_sync_startup(&s->an, sync_ms);
	if (st != AN_OK) {
		if (st == AN_ERR_NO_ANSWER && !no_enter)
			snprintf(err, errlen, "%s (sent the enter command %s%s)",
				 an3155_error(&s->an),
				 co->enter_cmd ? "given by --enter-cmd" :
				 "\"bootloader\"",
				 ": use --no-enter if the board already runs the "
				 "ROM bootloader, or --enter-cmd for another "
				 "application");
		else
			snprintf(err, errlen, "%s", an3155_error(&s->an));
		goto fail;
	}
	/* (b) Who is there. */
	st = an3155_get(&s->an);
	if (st != AN_OK)
		goto fail_an;
	s->chip.protocol = s->an.bl_version;
	st = an3155_get_id(&s->an, &s->chip.pid);
	if (st != AN_OK)
		goto fail_an;
	if (an3155_check_id(s->chip.pid, msg, sizeof(msg)) != AN_OK) {
		snprintf(err, errlen, "%s on %s", msg, co->port);
		an_close(s);
		return OP_ERR_WRONG_CHIP;
	}
	st = an3155_get_version(&s->an, &s->chip.version, s->chip.opt);
	if (st != AN_OK)
		goto fail_an;
	/* What this chip's ROM calls itself on USB (AN2606), for .dfu files. */
	s->chip.usb_vid = DFUSE_VID;
	s->chip.usb_pid = DFUSE_PID;
	return OP_OK;
fail_an:
	snprintf(err, errlen, "%s", an3155_error(&s->an));
fail:
	an_close(s);
	return op_from_an(st);
fail_link:
	an_close(s);
	return OP_ERR_LINK;
}

static enum op_status an_read(struct session *s, uint32_t addr, void *buf, size_t len)
{
	return an_result(s, an3155_read(&s->an, addr, buf, len));
}

static enum op_status an_write(struct session *s, uint32_t addr, const void *buf,
			       size_t len)
{
	return an_result(s, an3155_write(&s->an, addr, buf, len));
}

static enum op_status an_erase_pages(struct session *s, const uint16_t *pages, size_t n)
{
	return an_result(s, an3155_erase_pages(&s->an, pages, n));
}

static enum op_status an_erase_special(struct session *s, enum bl_erase what)
{
	uint16_t code = what == BL_ERASE_BANK1 ? AN3155_ERASE_BANK1 :
			what == BL_ERASE_BANK2 ? AN3155_ERASE_BANK2 :
			AN3155_ERASE_MASS;

	return an_result(s, an3155_erase_special(&s->an, code));
}

static enum op_status an_go(struct session *s, uint32_t addr)
{
	return an_result(s, an3155_go(&s->an, addr));
}

static enum op_status an_write_protect(struct session *s, const uint8_t *pages, size_t n)
{
	return an_result(s, an3155_write_protect(&s->an, pages, n));
}

static enum op_status an_write_unprotect(struct session *s)
{
	return an_result(s, an3155_write_unprotect(&s->an));
}

static enum op_status an_readout_protect(struct session *s)
{
	return an_result(s, an3155_readout_protect(&s->an));
}

static enum op_status an_readout_unprotect(struct session *s)
{
	return an_result(s, an3155_readout_unprotect(&s->an));
}

/* After Go: does the ROM answer 0x7F on the line (at 8E1) instead? */
static bool an_rom_back(struct session *s, unsigned timeout_ms)
{
	if (transport_set_line(s->tp, TRANSPORT_DEFAULT_BAUD, TP_PARITY_EVEN) != TP_OK)
		return false;
	return an3155_sync(&s->an, timeout_ms / 100 ? timeout_ms / 100 : 1, 100) == AN_OK;
}

static unsigned an_retries(const struct session *s)
{
	return s->an.retry_count;
}

const struct bl_ops an3155_bl_ops = {
	.protocol = "AN3155",
	.read = an_read,
	.write = an_write,
	.erase_pages = an_erase_pages,
	.erase_special = an_erase_special,
	.bank_erase = true,
	.go = an_go,
	.write_protect = an_write_protect,
	.write_unprotect = an_write_unprotect,
	.readout_protect = an_readout_protect,
	.readout_unprotect = an_readout_unprotect,
	.rom_back = an_rom_back,
	.passive_watch = false,
	.split_failed_blocks = true,
	.retries = an_retries,
	.close = an_close,
};
