/*
 * an3155.h - the host side of the STM32 ROM bootloader's USART protocol.
 *
 * One place knows the byte sequences of ST AN3155 and how to recover from
 * a byte lost on the wire, so that the update, info, read, write and
 * protect commands only say what they want done. Each operation retries a
 * bounded number of times, resynchronising with 0x7F after a timeout, and
 * fails with a distinct status and a message naming the command and the
 * address: a NACK (the ROM refused), a timeout (nothing came back), or a
 * link error (the port went away).
 */
#ifndef SYSBOOT_HOST_AN3155_H
#define SYSBOOT_HOST_AN3155_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sysboot/an3155.h"
#include "transport.h"

enum an_status {
	AN_OK = 0,
	AN_ERR_NACK,       /* the ROM answered NACK (after the retries) */
	AN_ERR_TIMEOUT,    /* no answer within the timeout (after the retries) */
	AN_ERR_NO_ANSWER,  /* sync: nothing answered 0x7F at all */
	AN_ERR_LINK,       /* the transport failed (closed, I/O error) */
	AN_ERR_PROTOCOL,   /* an answer that AN3155 does not allow */
	AN_ERR_WRONG_CHIP, /* Get ID gave another product ID */
	AN_ERR_ARG,        /* the caller asked for something invalid */
};

struct an3155 {
	struct transport *tp;
	unsigned retries;        /* extra attempts per command (default 3) */
	unsigned ack_timeout_ms; /* per answer byte (default 1000) */
	unsigned retry_count;    /* retries used so far, for reports */
	/* Filled by an3155_get(). */
	uint8_t bl_version;
	uint8_t ncmds;
	uint8_t cmds[32];
	char err[512];
};

void an3155_init(struct an3155 *an, struct transport *tp);

/*
 * Send 0x7F until the ROM answers: ACK (freshly synchronised) or NACK
 * (it was already: the 0x7F was taken as a command). attempts tries with
 * timeout_ms each.
 */
enum an_status an3155_sync(struct an3155 *an, unsigned attempts,
			   unsigned timeout_ms);

/*
 * The same for a ROM that may still be starting, for up to total_ms:
 * often at first, so that a board with an LSE (ready after 55 ms, AN2606)
 * is reached as soon as it listens, then less often for one without
 * (2.56 s). Bytes that reach the chip while its ROM starts are lost, as
 * AN2606 allows. an3155_startup_attempts() says how many 0x7F that is.
 */
enum an_status an3155_sync_startup(struct an3155 *an, unsigned total_ms);
unsigned an3155_startup_attempts(unsigned total_ms);

/*
 * Bring a ROM that this host had synchronised back in step, whatever
 * command a broken line may have left it inside (filler bytes until it
 * answers, then 0x7F probes; see an3155.c). Not for a ROM that has not seen
 * its 0x7F yet: it measures the baud rate on the first byte it gets.
 */
enum an_status an3155_resync(struct an3155 *an);

/* Get (0x00): protocol version and the command list into an. */
enum an_status an3155_get(struct an3155 *an);

/* Get Version (0x01): protocol version and the two option bytes. */
enum an_status an3155_get_version(struct an3155 *an, uint8_t *version,
				  uint8_t opt[2]);

/* Get ID (0x02): the product ID. */
enum an_status an3155_get_id(struct an3155 *an, uint16_t *pid);

/*
 * Parse a Get ID answer (the bytes after the first ACK: N, N+1 PID bytes).
 * Returns AN_ERR_PROTOCOL on a malformed answer. Separate for unit tests.
 */
enum an_status an3155_parse_id(const uint8_t *raw, size_t len, uint16_t *pid);

/*
 * AN_OK for the STM32L47x/48x (0x415), AN_ERR_WRONG_CHIP otherwise with
 * "wrong chip: device ID 0x..., expected 0x415 (STM32L47x/48x)" in msg.
 */
enum an_status an3155_check_id(uint16_t pid, char *msg, size_t msglen);

/* Read Memory (0x11): len bytes (1..256) from addr. */
enum an_status an3155_read(struct an3155 *an, uint32_t addr, void *buf,
			   size_t len);

/*
 * Write Memory (0x31): len bytes (1..256) at addr. In flash, addr and len
 * must be multiples of 8 (the ROM programs double words; AN2606 lists a
 * misaligned write as breaking later ones): pad with 0xFF before calling.
 */
enum an_status an3155_write(struct an3155 *an, uint32_t addr,
			    const void *buf, size_t len);

/* Extended Erase (0x44) of a list of pages, sent in chunks. */
enum an_status an3155_erase_pages(struct an3155 *an, const uint16_t *pages,
				  size_t npages);

/* Extended Erase with a special code: AN3155_ERASE_MASS, _BANK1, _BANK2. */
enum an_status an3155_erase_special(struct an3155 *an, uint16_t code);

/* Go (0x21): the ROM loads MSP from [addr] and jumps to [addr + 4]. */
enum an_status an3155_go(struct an3155 *an, uint32_t addr);

/*
 * Write Protect (0x63) of the given sectors (pages on this part); the ROM
 * then resets the chip to load the option bytes.
 */
enum an_status an3155_write_protect(struct an3155 *an, const uint8_t *sectors,
				    size_t n);

/* Write Unprotect (0x73), Readout Protect (0x82), Readout Unprotect (0x92):
 * each ends with a system reset; Readout Unprotect mass-erases the flash. */
enum an_status an3155_write_unprotect(struct an3155 *an);
enum an_status an3155_readout_protect(struct an3155 *an);
enum an_status an3155_readout_unprotect(struct an3155 *an);

/* Does the command list from Get contain cmd? (true before Get ran) */
bool an3155_has_cmd(const struct an3155 *an, uint8_t cmd);

const char *an3155_cmd_name(uint8_t cmd);

static inline const char *an3155_error(const struct an3155 *an)
{
	return an->err;
}

#endif /* SYSBOOT_HOST_AN3155_H */
