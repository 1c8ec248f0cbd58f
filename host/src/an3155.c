/*
 * an3155.c - AN3155 client: commands, retries and resynchronisation.
 *
 * Why retries need care: the ROM bootloader keeps no transaction state a
 * host could query, so after a lost or corrupted byte the host does not
 * know whether the ROM is waiting for a command, for an address, or for
 * the rest of 256 data bytes. Every byte the ROM does not expect ends in a
 * NACK and a return to "waiting for a command" (AN3155 section 3), so the
 * client resynchronises by waiting for the line to fall quiet, completing
 * any frame the ROM may still be collecting with paced 0xFF filler until
 * it answers (resync()), and then probing with single 0x7F bytes; a 0x7F
 * taken as a command byte is answered NACK once the next 0x7F fails as
 * its complement, which leaves the ROM idle. A command is then retried
 * from the start. Retrying a Write Memory whose ACK was lost would program the
 * same double words twice, which flash refuses (RM0351 3.3.7, PROGERR), so
 * a write that is NACKed after an earlier timeout is checked by reading
 * the block back before it is reported as failed.
 */
#include "an3155.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sysboot/stm32l476.h"

#define DEFAULT_RETRIES        3u
#define DEFAULT_ACK_TIMEOUT_MS 1000u
#define RESYNC_QUIET_MS        30u
#define RESYNC_BYTE_MS         50u
#define RESYNC_PROBES          4u
#define RESYNC_FILL            0xFFu  /* see resync() */
#define RESYNC_CHUNK           128u   /* 11 ms at 115200: the overshoot is harmless */
#define RESYNC_FILL_MAX        300u   /* > 256 data + length + checksum */
#define RESYNC_FILL_ERASE      (2u * 65536u + 4096u) /* a garbled page count, and bytes lost */
#define ERASE_CHUNK            32u    /* pages per Extended Erase */
#define PAGE_ERASE_MS          25u    /* DS10198: 22 ms typical, 24.5 max */
#define MASS_ERASE_TIMEOUT_MS  30000u
#define OPTION_RESET_MS        5000u

/*
 * Synchronising with a ROM that is starting (AN2606: 55 ms with an LSE,
 * 2.56 s without): a 0x7F every SYNC_FAST_MS for the first
 * SYNC_FAST_SPAN_MS, then every SYNC_SLOW_MS. Each waits that long for its
 * answer, so it must exceed the line's round trip (an FTDI adapter's
 * latency timer is 16 ms by default): a 0x7F sent before the answer to
 * the previous one arrived would be taken as a command byte.
 */
#define SYNC_FAST_MS           25u
#define SYNC_FAST_SPAN_MS      500u
#define SYNC_SLOW_MS           100u

/* How a single attempt ended, for the retry policy and the messages. */
struct attempt {
	uint8_t cmd;
	bool has_addr;
	uint32_t addr;
	const char *step;       /* which part was NACKed or timed out */
	bool data_sent;         /* a Write Memory got as far as its data */
	bool maybe_done;        /* the ROM may have acted on it: no retry */
};

void an3155_init(struct an3155 *an, struct transport *tp)
{
	memset(an, 0, sizeof(*an));
	an->tp = tp;
	an->retries = DEFAULT_RETRIES;
	an->ack_timeout_ms = DEFAULT_ACK_TIMEOUT_MS;
}

const char *an3155_cmd_name(uint8_t cmd)
{
	switch (cmd) {
	case AN3155_CMD_GET: return "Get";
	case AN3155_CMD_GET_VERSION: return "Get Version";
	case AN3155_CMD_GET_ID: return "Get ID";
	case AN3155_CMD_READ_MEMORY: return "Read Memory";
	case AN3155_CMD_GO: return "Go";
	case AN3155_CMD_WRITE_MEMORY: return "Write Memory";
	case AN3155_CMD_ERASE: return "Erase";
	case AN3155_CMD_EXT_ERASE: return "Extended Erase";
	case AN3155_CMD_WRITE_PROTECT: return "Write Protect";
	case AN3155_CMD_WRITE_UNPROTECT: return "Write Unprotect";
	case AN3155_CMD_READOUT_PROTECT: return "Readout Protect";
	case AN3155_CMD_READOUT_UNPROTECT: return "Readout Unprotect";
	case AN3155_CMD_GET_CHECKSUM: return "Get Checksum";
	default: return "unknown command";
	}
}

static void set_err(struct an3155 *an, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(an->err, sizeof(an->err), fmt, ap);
	va_end(ap);
}

static enum an_status from_tp(struct an3155 *an, enum tp_status st)
{
	switch (st) {
	case TP_OK:
		return AN_OK;
	case TP_ERR_TIMEOUT:
		return AN_ERR_TIMEOUT;
	default:
		set_err(an, "%s", transport_error(an->tp));
		return AN_ERR_LINK;
	}
}

/* Wait for ACK; a NACK or any other byte is reported as such. */
static enum an_status wait_ack(struct an3155 *an, unsigned timeout_ms)
{
	uint8_t b;
	enum an_status st;

	st = from_tp(an, transport_read(an->tp, &b, 1, timeout_ms, NULL));
	if (st != AN_OK)
		return st;
	if (b == AN3155_ACK)
		return AN_OK;
	if (b == AN3155_NACK)
		return AN_ERR_NACK;
	return AN_ERR_PROTOCOL;
}

static enum an_status tx(struct an3155 *an, const uint8_t *buf, size_t len)
{
	return from_tp(an, transport_write(an->tp, buf, len));
}

/* Every part of a command the ROM checks is answered by ACK or NACK. */
static enum an_status tx_ack(struct an3155 *an, const uint8_t *buf, size_t len,
			     unsigned timeout_ms)
{
	enum an_status st = tx(an, buf, len);

	if (st == AN_OK)
		st = wait_ack(an, timeout_ms);
	return st;
}

/* An answer of len bytes, before the ACK that ends it. */
static enum an_status rx_answer(struct an3155 *an, uint8_t *buf, size_t len)
{
	return from_tp(an, transport_read(an->tp, buf, len, an->ack_timeout_ms, NULL));
}

static enum an_status send_cmd(struct an3155 *an, struct attempt *at)
{
	uint8_t b[2] = { at->cmd, (uint8_t)~at->cmd };

	at->step = "the command";
	return tx_ack(an, b, sizeof(b), an->ack_timeout_ms);
}

/* The command, then the address: how Read Memory, Write Memory and Go begin. */
static enum an_status send_cmd_addr(struct an3155 *an, struct attempt *at)
{
	uint8_t b[AN3155_ADDRESS_FRAME];
	enum an_status st;

	st = send_cmd(an, at);
	if (st != AN_OK)
		return st;
	an3155_address_frame(at->addr, b);
	at->step = "the address";
	return tx_ack(an, b, sizeof(b), an->ack_timeout_ms);
}

/*
 * A counted list as Write Memory and Write Protect send it: N - 1, the N
 * bytes, then the XOR of all before it (AN3155 3.6, 3.9); its length.
 */
static size_t counted_frame(uint8_t *frame, const uint8_t *data, size_t n)
{
	uint8_t x;
	size_t i;

	frame[0] = (uint8_t)(n - 1);
	x = frame[0];
	for (i = 0; i < n; i++) {
		frame[1 + i] = data[i];
		x ^= data[i];
	}
	frame[1 + n] = x;
	return n + 2;
}

/* Read until nothing has come for quiet_ms (bounded to 2 s). */
static enum an_status wait_quiet(struct an3155 *an, unsigned quiet_ms)
{
	uint8_t junk[64];
	unsigned rounds;

	for (rounds = 0; rounds < 2000 / quiet_ms + 1; rounds++) {
		size_t got = 0;
		enum tp_status st = transport_read(an->tp, junk, sizeof(junk),
						   quiet_ms, &got);

		if (st == TP_ERR_TIMEOUT && got == 0)
			return AN_OK;
		if (st != TP_OK && st != TP_ERR_TIMEOUT)
			return from_tp(an, st);
	}
	return AN_OK;
}

/* One 0x7F and up to timeout_ms for its answer; AN_ERR_TIMEOUT if none. */
static enum an_status sync_once(struct an3155 *an, unsigned timeout_ms)
{
	uint8_t b = AN3155_SYNC;
	enum an_status st;

	st = from_tp(an, transport_flush(an->tp));
	if (st != AN_OK)
		return st;
	st = tx(an, &b, 1);
	if (st != AN_OK)
		return st;
	st = from_tp(an, transport_read(an->tp, &b, 1, timeout_ms, NULL));
	if (st != AN_OK)
		return st;
	/* ACK: synchronised now. NACK: it already was (AN3155 2). */
	if (b == AN3155_ACK || b == AN3155_NACK)
		return AN_OK;
	/* Anything else is chatter from an application: try again. */
	return AN_ERR_TIMEOUT;
}

static enum an_status no_answer(struct an3155 *an, unsigned attempts)
{
	set_err(an, "no answer from the ROM bootloader on %s: is the board in "
		"bootloader mode? (tried %u times)", transport_name(an->tp),
		attempts);
	return AN_ERR_NO_ANSWER;
}

enum an_status an3155_sync(struct an3155 *an, unsigned attempts,
			   unsigned timeout_ms)
{
	unsigned i;

	for (i = 0; i < attempts; i++) {
		enum an_status st = sync_once(an, timeout_ms);

		if (st != AN_ERR_TIMEOUT)
			return st;
	}
	return no_answer(an, attempts);
}

unsigned an3155_startup_attempts(unsigned total_ms)
{
	unsigned fast = total_ms < SYNC_FAST_SPAN_MS ? total_ms : SYNC_FAST_SPAN_MS;

	return fast / SYNC_FAST_MS + (total_ms - fast) / SYNC_SLOW_MS;
}

enum an_status an3155_sync_startup(struct an3155 *an, unsigned total_ms)
{
	unsigned attempts = an3155_startup_attempts(total_ms), i;

	for (i = 0; i < attempts; i++) {
		bool fast = i < SYNC_FAST_SPAN_MS / SYNC_FAST_MS;
		enum an_status st = sync_once(an, fast ? SYNC_FAST_MS : SYNC_SLOW_MS);

		if (st != AN_ERR_TIMEOUT)
			return st;
	}
	return no_answer(an, attempts);
}

/*
 * Feed the ROM filler bytes, paced by the line, until it answers or max
 * bytes went out; *answered says which.
 */
static enum an_status fill_until_answer(struct an3155 *an, size_t max, bool *answered)
{
	uint8_t fill[RESYNC_CHUNK], b;
	size_t sent = 0, got;
	enum an_status st;
	enum tp_status ts;

	memset(fill, RESYNC_FILL, sizeof(fill));
	*answered = false;
	while (sent < max) {
		size_t n = max - sent < sizeof(fill) ? max - sent : sizeof(fill);

		st = tx(an, fill, n);
		if (st != AN_OK)
			return st;
		/* Wait for them to leave, so the fill stops soon after the answer. */
		st = from_tp(an, transport_drain(an->tp));
		if (st != AN_OK)
			return st;
		sent += n;
		got = 0;
		ts = transport_read(an->tp, &b, 1, 1, &got);
		if (got) {
			*answered = true;
			return AN_OK;
		}
		if (ts != TP_ERR_TIMEOUT)
			return from_tp(an, ts);
	}
	return AN_OK;
}

/*
 * Bring the ROM back to "waiting for a command" after a failed attempt.
 *
 * Where the attempt broke off, the ROM may still be collecting the rest of
 * a frame and answer nothing until it has it: up to 258 bytes of a Write
 * Memory whose data lost a byte, or, when a damaged byte made an Extended
 * Erase page count huge, up to 2 * 65536 + 1 (fill_max says how many the
 * failed command can need). Sending single 0x7F bytes and waiting for each
 * takes seconds there, so the fill goes out as a paced stream of 0xFF,
 * stopping at the ROM's first answer: the frame completed, its checksum
 * failed, NACK. Then one or two 0x7F probes (a 0x7F taken as a command
 * byte is NACKed at the next one, a ROM that reset ACKs it) leave it idle.
 *
 * 0xFF because it completes every frame without forming a harmful one:
 * as a command it is unknown; as an address or length its XOR or
 * complement check fails; as an Extended Erase count it reads 0xFFFF, the
 * mass erase code, whose checksum must be 0x00, and the next byte is 0xFF
 * again; as a Write Memory length it is 256 bytes of 0xFF with a matching
 * checksum, which programs the erased value and leaves flash as it was
 * (RM0351 3.3.7 refuses only double words that are not 0xFF).
 */
static enum an_status resync(struct an3155 *an, size_t fill_max)
{
	enum an_status st;
	bool answered;
	unsigned i;

	st = wait_quiet(an, RESYNC_QUIET_MS);
	if (st != AN_OK)
		return st;
	st = fill_until_answer(an, fill_max, &answered);
	if (st != AN_OK)
		return st;
	st = wait_quiet(an, RESYNC_QUIET_MS);
	if (st != AN_OK)
		return st;
	for (i = 0; i < RESYNC_PROBES; i++) {
		uint8_t b = AN3155_SYNC;

		st = tx(an, &b, 1);
		if (st != AN_OK)
			return st;
		st = from_tp(an, transport_read(an->tp, &b, 1, RESYNC_BYTE_MS,
						NULL));
		if (st == AN_ERR_TIMEOUT)
			continue;
		if (st != AN_OK)
			return st;
		/* Anything else is not the ROM (an application's chatter). */
		if (b == AN3155_ACK || b == AN3155_NACK)
			return wait_quiet(an, RESYNC_QUIET_MS);
	}
	return AN_ERR_TIMEOUT;
}

enum an_status an3155_resync(struct an3155 *an)
{
	enum an_status st = resync(an, RESYNC_FILL_ERASE);

	if (st == AN_ERR_TIMEOUT)
		set_err(an, "no answer from the ROM bootloader on %s after %u filler "
			"bytes and %u probes: it no longer listens (reset the board)",
			transport_name(an->tp), RESYNC_FILL_ERASE, RESYNC_PROBES);
	return st;
}

/* Final message for an attempt that failed every time. */
static enum an_status report(struct an3155 *an, const struct attempt *at,
			     enum an_status st, unsigned tries)
{
	char where[32] = "";

	if (at->has_addr)
		snprintf(where, sizeof(where), " at 0x%08x", at->addr);
	switch (st) {
	case AN_ERR_NACK:
		set_err(an, "the ROM bootloader refused %s%s (NACK to %s, %u "
			"attempt%s)%s", an3155_cmd_name(at->cmd), where, at->step,
			tries, tries == 1 ? "" : "s",
			at->cmd == AN3155_CMD_READ_MEMORY ?
			": the chip may be read-protected (RDP level 1) or the "
			"address unreadable" :
			(at->cmd == AN3155_CMD_WRITE_MEMORY ||
			 at->cmd == AN3155_CMD_EXT_ERASE) ?
			": the page may be write-protected (see sysboot info; "
			"sysboot unprotect --write)" : "");
		break;
	case AN_ERR_TIMEOUT:
		set_err(an, "timeout: no answer from the ROM bootloader on %s to "
			"%s%s (waiting for the answer to %s, %u attempt%s)%s",
			transport_name(an->tp), an3155_cmd_name(at->cmd), where,
			at->step, tries, tries == 1 ? "" : "s",
			at->maybe_done ? ": it may have carried it out" : "");
		break;
	case AN_ERR_PROTOCOL:
		set_err(an, "the ROM bootloader on %s gave an answer AN3155 does "
			"not allow to %s%s (after %s, %u attempt%s)",
			transport_name(an->tp), an3155_cmd_name(at->cmd), where,
			at->step, tries, tries == 1 ? "" : "s");
		break;
	default:
		break;  /* LINK: the message is already set */
	}
	return st;
}

typedef enum an_status (*once_fn)(struct an3155 *an, struct attempt *at,
				  void *ctx);

static enum an_status run(struct an3155 *an, struct attempt *at, once_fn once,
			  void *ctx)
{
	enum an_status st = AN_ERR_ARG;
	unsigned tries;

	for (tries = 1;; tries++) {
		st = once(an, at, ctx);
		if (st == AN_OK || st == AN_ERR_LINK || st == AN_ERR_ARG)
			return st;
		/* Done perhaps: a resync or a retry would reach what it started. */
		if (at->maybe_done)
			break;
		{
			/*
			 * Back in step, for the retry or for whatever command
			 * comes next. Even a NACK may not be for this attempt:
			 * when the line lost a byte of the last command, the
			 * ROM took this one's first bytes to finish that one,
			 * and is now a byte out of step. Probes find its step
			 * again; only a ROM that stopped answering needs the
			 * fill.
			 */
			size_t fill = st == AN_ERR_NACK ? 0 :
				      at->cmd == AN3155_CMD_EXT_ERASE ? RESYNC_FILL_ERASE :
				      RESYNC_FILL_MAX;
			enum an_status r = resync(an, fill);

			if (r == AN_ERR_LINK)
				return r;
		}
		if (tries == an->retries + 1)
			break;
		an->retry_count++;
	}
	return report(an, at, st, tries);
}

/* ---- Get, Get Version, Get ID ------------------------------------------ */

static enum an_status get_once(struct an3155 *an, struct attempt *at, void *ctx)
{
	uint8_t n, buf[256];
	enum an_status st;

	(void)ctx;
	st = send_cmd(an, at);
	if (st != AN_OK)
		return st;
	at->step = "the answer";
	st = rx_answer(an, &n, 1);
	if (st != AN_OK)
		return st;
	st = rx_answer(an, buf, (size_t)n + 1);
	if (st != AN_OK)
		return st;
	st = wait_ack(an, an->ack_timeout_ms);
	if (st != AN_OK)
		return st;
	an->bl_version = buf[0];
	an->ncmds = n < sizeof(an->cmds) ? n : sizeof(an->cmds);
	memcpy(an->cmds, buf + 1, an->ncmds);
	return AN_OK;
}

enum an_status an3155_get(struct an3155 *an)
{
	struct attempt at = { .cmd = AN3155_CMD_GET };

	return run(an, &at, get_once, NULL);
}

bool an3155_has_cmd(const struct an3155 *an, uint8_t cmd)
{
	unsigned i;

	if (an->ncmds == 0)
		return true;
	for (i = 0; i < an->ncmds; i++)
		if (an->cmds[i] == cmd)
			return true;
	return false;
}

struct version_ctx {
	uint8_t *version;
	uint8_t *opt;
};

static enum an_status version_once(struct an3155 *an, struct attempt *at,
				   void *ctx)
{
	struct version_ctx *vc = ctx;
	uint8_t buf[3];
	enum an_status st;

	st = send_cmd(an, at);
	if (st != AN_OK)
		return st;
	at->step = "the answer";
	st = rx_answer(an, buf, 3);
	if (st != AN_OK)
		return st;
	st = wait_ack(an, an->ack_timeout_ms);
	if (st != AN_OK)
		return st;
	*vc->version = buf[0];
	vc->opt[0] = buf[1];
	vc->opt[1] = buf[2];
	return AN_OK;
}

enum an_status an3155_get_version(struct an3155 *an, uint8_t *version,
				  uint8_t opt[2])
{
	struct attempt at = { .cmd = AN3155_CMD_GET_VERSION };
	struct version_ctx vc = { version, opt };

	return run(an, &at, version_once, &vc);
}

enum an_status an3155_parse_id(const uint8_t *raw, size_t len, uint16_t *pid)
{
	/* AN3155 3.3: N = bytes - 1, then the PID, MSB first. */
	if (len < 1 || raw[0] + 2u != len || raw[0] > 1)
		return AN_ERR_PROTOCOL;
	if (raw[0] == 0)
		*pid = raw[1];
	else
		*pid = (uint16_t)((raw[1] << 8) | raw[2]);
	return AN_OK;
}

enum an_status an3155_check_id(uint16_t pid, char *msg, size_t msglen)
{
	if (pid == STM32_DEV_ID)
		return AN_OK;
	snprintf(msg, msglen, "wrong chip: device ID 0x%03x, expected 0x%03x "
		 "(STM32L47x/48x)", pid, STM32_DEV_ID);
	return AN_ERR_WRONG_CHIP;
}

static enum an_status id_once(struct an3155 *an, struct attempt *at, void *ctx)
{
	uint16_t *pid = ctx;
	uint8_t raw[8];
	enum an_status st;

	st = send_cmd(an, at);
	if (st != AN_OK)
		return st;
	at->step = "the answer";
	st = rx_answer(an, raw, 1);
	if (st != AN_OK)
		return st;
	if (raw[0] > 5)
		return AN_ERR_PROTOCOL;
	st = rx_answer(an, raw + 1, (size_t)raw[0] + 1);
	if (st != AN_OK)
		return st;
	st = wait_ack(an, an->ack_timeout_ms);
	if (st != AN_OK)
		return st;
	return an3155_parse_id(raw, (size_t)raw[0] + 2, pid);
}

enum an_status an3155_get_id(struct an3155 *an, uint16_t *pid)
{
	struct attempt at = { .cmd = AN3155_CMD_GET_ID };

	return run(an, &at, id_once, pid);
}

/* ---- Read and Write Memory --------------------------------------------- */

struct mem_ctx {
	uint8_t *rbuf;
	const uint8_t *wbuf;
	size_t len;
	bool timed_out_after_data;
};

/* Time the bytes themselves take on the wire at 115200 8E1, doubled. */
static unsigned wire_ms(size_t bytes)
{
	return (unsigned)(bytes * 11 * 1000 * 2 / 115200) + 1;
}

static enum an_status read_once(struct an3155 *an, struct attempt *at,
				void *ctx)
{
	struct mem_ctx *mc = ctx;
	uint8_t b[2];
	enum an_status st;

	st = send_cmd_addr(an, at);
	if (st != AN_OK)
		return st;
	b[0] = (uint8_t)(mc->len - 1);
	b[1] = (uint8_t)~b[0];
	at->step = "the length";
	st = tx_ack(an, b, sizeof(b), an->ack_timeout_ms);
	if (st != AN_OK)
		return st;
	at->step = "the data";
	return from_tp(an, transport_read(an->tp, mc->rbuf, mc->len,
					  an->ack_timeout_ms + wire_ms(mc->len),
					  NULL));
}

enum an_status an3155_read(struct an3155 *an, uint32_t addr, void *buf,
			   size_t len)
{
	struct attempt at = { .cmd = AN3155_CMD_READ_MEMORY, .has_addr = true,
			      .addr = addr };
	struct mem_ctx mc = { .rbuf = buf, .len = len };

	if (len == 0 || len > AN3155_MAX_DATA) {
		set_err(an, "Read Memory of %zu bytes: 1 to %u allowed", len,
			AN3155_MAX_DATA);
		return AN_ERR_ARG;
	}
	return run(an, &at, read_once, &mc);
}

static bool in_flash(uint32_t addr)
{
	return addr >= STM32_FLASH_BASE &&
	       addr - STM32_FLASH_BASE < STM32_FLASH_SIZE;
}

static enum an_status write_once(struct an3155 *an, struct attempt *at,
				 void *ctx)
{
	struct mem_ctx *mc = ctx;
	uint8_t frame[AN3155_MAX_DATA + 2];
	size_t len;
	enum an_status st;

	st = send_cmd_addr(an, at);
	if (st != AN_OK)
		return st;
	len = counted_frame(frame, mc->wbuf, mc->len);
	at->step = "the data";
	st = tx(an, frame, len);
	if (st != AN_OK)
		return st;
	/* Only a timeout waiting for the ACK leaves the data maybe written. */
	st = wait_ack(an, an->ack_timeout_ms + wire_ms(len));
	if (st == AN_ERR_TIMEOUT)
		mc->timed_out_after_data = true;
	return st;
}

enum an_status an3155_write(struct an3155 *an, uint32_t addr,
			    const void *buf, size_t len)
{
	struct attempt at = { .cmd = AN3155_CMD_WRITE_MEMORY, .has_addr = true,
			      .addr = addr };
	struct mem_ctx mc = { .wbuf = buf, .len = len };
	uint8_t back[AN3155_MAX_DATA];
	enum an_status st;
	char saved[sizeof(an->err)];

	if (len == 0 || len > AN3155_MAX_DATA) {
		set_err(an, "Write Memory of %zu bytes: 1 to %u allowed", len,
			AN3155_MAX_DATA);
		return AN_ERR_ARG;
	}
	if (in_flash(addr) && (addr % STM32_FLASH_DWORD || len % STM32_FLASH_DWORD)) {
		set_err(an, "Write Memory at 0x%08x of %zu bytes: flash is "
			"programmed in 8-byte double words, so address and length "
			"must be multiples of 8 (RM0351 3.3.7)", addr, len);
		return AN_ERR_ARG;
	}
	st = run(an, &at, write_once, &mc);
	if (st != AN_ERR_NACK || !mc.timed_out_after_data)
		return st;
	/*
	 * Maybe only the ACK was lost and the retry hit programmed flash
	 * (run() left the ROM in step).
	 */
	memcpy(saved, an->err, sizeof(saved));
	if (an3155_read(an, addr, back, len) == AN_OK &&
	    memcmp(back, buf, len) == 0)
		return AN_OK;
	memcpy(an->err, saved, sizeof(saved));
	return st;
}

/* ---- Erase --------------------------------------------------------------- */

struct erase_ctx {
	const uint16_t *pages;
	size_t n;
	uint16_t code;   /* special erase when n == 0 */
};

static enum an_status erase_once(struct an3155 *an, struct attempt *at,
				 void *ctx)
{
	struct erase_ctx *ec = ctx;
	uint8_t frame[2 + 2 * ERASE_CHUNK + 1];
	size_t len = 0, i;
	uint8_t x = 0;
	unsigned timeout;
	enum an_status st;

	st = send_cmd(an, at);
	if (st != AN_OK)
		return st;
	if (ec->n == 0) {
		frame[len++] = (uint8_t)(ec->code >> 8);
		frame[len++] = (uint8_t)ec->code;
		timeout = MASS_ERASE_TIMEOUT_MS;
	} else {
		frame[len++] = (uint8_t)((ec->n - 1) >> 8);
		frame[len++] = (uint8_t)(ec->n - 1);
		for (i = 0; i < ec->n; i++) {
			frame[len++] = (uint8_t)(ec->pages[i] >> 8);
			frame[len++] = (uint8_t)ec->pages[i];
		}
		timeout = an->ack_timeout_ms + (unsigned)ec->n * PAGE_ERASE_MS * 2;
	}
	for (i = 0; i < len; i++)
		x ^= frame[i];
	frame[len++] = x;
	at->step = ec->n ? "the page list" : "the erase code";
	return tx_ack(an, frame, len, timeout);
}

enum an_status an3155_erase_pages(struct an3155 *an, const uint16_t *pages,
				  size_t npages)
{
	size_t done = 0;
	enum an_status st;

	if (!an3155_has_cmd(an, AN3155_CMD_EXT_ERASE)) {
		set_err(an, "this bootloader has no Extended Erase command "
			"(AN3155 3.8); sysboot needs it");
		return AN_ERR_PROTOCOL;
	}
	while (done < npages) {
		size_t n = npages - done > ERASE_CHUNK ? ERASE_CHUNK : npages - done;
		struct erase_ctx ec = { .pages = pages + done, .n = n };
		uint16_t p = pages[done];
		uint32_t addr = STM32_FLASH_BASE +
			(p >= STM32_FLASH_PAGES_PER_BANK ?
			 STM32_FLASH_BANK_SIZE +
			 (p - STM32_FLASH_PAGES_PER_BANK) * STM32_FLASH_PAGE_SIZE :
			 p * STM32_FLASH_PAGE_SIZE);
		struct attempt at = { .cmd = AN3155_CMD_EXT_ERASE,
				      .has_addr = true, .addr = addr };

		st = run(an, &at, erase_once, &ec);
		if (st != AN_OK)
			return st;
		done += n;
	}
	return AN_OK;
}

enum an_status an3155_erase_special(struct an3155 *an, uint16_t code)
{
	struct erase_ctx ec = { .code = code };
	struct attempt at = { .cmd = AN3155_CMD_EXT_ERASE };

	if (code != AN3155_ERASE_MASS && code != AN3155_ERASE_BANK1 &&
	    code != AN3155_ERASE_BANK2) {
		set_err(an, "erase code 0x%04x is not one of AN3155's special "
			"codes", code);
		return AN_ERR_ARG;
	}
	return run(an, &at, erase_once, &ec);
}

/* ---- Go ---------------------------------------------------------------- */

static enum an_status go_once(struct an3155 *an, struct attempt *at, void *ctx)
{
	enum an_status st;

	(void)ctx;
	st = send_cmd_addr(an, at);
	/*
	 * No ACK (or a damaged one) to the address: the ROM may well have
	 * jumped, and a second Go would only reach the code it started.
	 */
	if (st == AN_ERR_TIMEOUT || st == AN_ERR_PROTOCOL)
		at->maybe_done = true;
	return st;
}

enum an_status an3155_go(struct an3155 *an, uint32_t addr)
{
	struct attempt at = { .cmd = AN3155_CMD_GO, .has_addr = true,
			      .addr = addr };

	return run(an, &at, go_once, NULL);
}

/* ---- Protection -------------------------------------------------------- */

struct wp_ctx {
	const uint8_t *sectors;
	size_t n;
};

static enum an_status wp_once(struct an3155 *an, struct attempt *at, void *ctx)
{
	struct wp_ctx *wc = ctx;
	uint8_t frame[256 + 2];
	size_t len;
	enum an_status st;

	st = send_cmd(an, at);
	if (st != AN_OK)
		return st;
	len = counted_frame(frame, wc->sectors, wc->n);
	at->step = "the sector list";
	return tx_ack(an, frame, len, OPTION_RESET_MS);
}

enum an_status an3155_write_protect(struct an3155 *an, const uint8_t *sectors,
				    size_t n)
{
	struct attempt at = { .cmd = AN3155_CMD_WRITE_PROTECT };
	struct wp_ctx wc = { sectors, n };

	if (n == 0 || n > 256) {
		set_err(an, "Write Protect of %zu sectors: 1 to 256 allowed", n);
		return AN_ERR_ARG;
	}
	return run(an, &at, wp_once, &wc);
}

static enum an_status two_ack_once(struct an3155 *an, struct attempt *at,
				   void *ctx)
{
	unsigned *timeout = ctx;
	enum an_status st;

	st = send_cmd(an, at);
	if (st != AN_OK)
		return st;
	at->step = "the operation";
	return wait_ack(an, *timeout);
}

static enum an_status two_ack(struct an3155 *an, uint8_t cmd, unsigned timeout)
{
	struct attempt at = { .cmd = cmd };

	return run(an, &at, two_ack_once, &timeout);
}

enum an_status an3155_write_unprotect(struct an3155 *an)
{
	return two_ack(an, AN3155_CMD_WRITE_UNPROTECT, OPTION_RESET_MS);
}

enum an_status an3155_readout_protect(struct an3155 *an)
{
	return two_ack(an, AN3155_CMD_READOUT_PROTECT, OPTION_RESET_MS);
}

enum an_status an3155_readout_unprotect(struct an3155 *an)
{
	return two_ack(an, AN3155_CMD_READOUT_UNPROTECT, MASS_ERASE_TIMEOUT_MS);
}
