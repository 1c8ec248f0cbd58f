/*
 * update.h - the field update and the steps the other ROM commands share.
 *
 * The update's order of operations is what makes it safe to interrupt
 * (header page erased first, header written last), so it lives in one
 * place, apart from option parsing and printing, where the interop tests
 * and every command (info, read, write, erase, go, protect) reach it the
 * same way.
 */
#ifndef SYSBOOT_UPDATE_H
#define SYSBOOT_UPDATE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "an3155.h"
#include "sysboot/image.h"

/* What went wrong, by kind; the commands map these to exit codes. */
enum op_status {
	OP_OK = 0,
	OP_ERR_USAGE,       /* bad arguments */
	OP_ERR_INPUT,       /* the file: unreadable, not an image, does not fit */
	OP_ERR_PORT,        /* the port cannot be opened or configured */
	OP_ERR_NO_ANSWER,   /* nothing answers (not in bootloader mode) */
	OP_ERR_TIMEOUT,     /* the ROM stopped answering mid-way */
	OP_ERR_NACK,        /* the ROM refused */
	OP_ERR_LINK,        /* the link broke */
	OP_ERR_PROTOCOL,    /* nonsense from the other side */
	OP_ERR_WRONG_CHIP,  /* not an STM32L47x/48x */
	OP_ERR_VERIFY,      /* written, but what runs is not what was written */
	OP_ERR_INTERRUPTED, /* Ctrl-C */
	OP_ERR_INTERNAL,
};

enum op_status op_from_an(enum an_status st);

/* A contiguous memory image: len bytes from base, gaps filled with 0xFF. */
struct flash_image {
	uint32_t base;
	size_t len;
	uint8_t *data;
};

/*
 * Load any input file into a flash image: ELF, Intel HEX, S-record, DfuSe,
 * or a raw binary when lo->raw (placed at lo->raw_base). Messages name the
 * file.
 */
struct load_opts;
enum op_status flash_image_load(struct flash_image *im, const char *path,
				const struct load_opts *lo, char *err, size_t errlen);
void flash_image_free(struct flash_image *im);

/* How to reach the ROM bootloader. */
struct connect_opts {
	const char *port;
	unsigned baud;              /* for the ROM; default 115200 */
	const char *enter_cmd;      /* NULL: "bootloader\r\n" */
	bool no_enter;              /* the board already runs the ROM */
	bool resume;                /* ... and this host had it synchronised:
				     * it may be inside a command (an3155_resync) */
	unsigned rom_startup_ms;    /* wait after the enter command */
	unsigned sync_ms;           /* how long to keep trying 0x7F */
};

#define DEFAULT_ENTER_CMD "bootloader\r\n"

/* What the connection learnt about the chip. */
struct chip_info {
	uint16_t pid;
	uint8_t protocol;           /* from Get */
	uint8_t version;            /* from Get Version */
	uint8_t opt[2];
};

struct session {
	struct transport *tp;
	struct an3155 an;
	struct chip_info chip;
};

/*
 * Steps (a) and (b) of every command: open the port, ask the application to
 * enter the bootloader (unless no_enter), switch to 8E1, synchronise, Get,
 * Get ID (must be 0x415), Get Version.
 */
enum op_status session_open(struct session *s, const struct connect_opts *co,
			    char *err, size_t errlen);
void session_close(struct session *s);

/* Flash pages [first, last] that cover [addr, addr + len). */
void flash_pages(uint32_t addr, size_t len, unsigned *first, unsigned *last);
/* Page number as Extended Erase counts it (bank 2 from 256). */
unsigned flash_page_of(uint32_t addr);

/* Progress reporting from the long operations. */
struct progress_ops {
	void (*begin)(void *ctx, const char *phase, size_t total);
	void (*step)(void *ctx, size_t done);
	void (*end)(void *ctx);
	void *ctx;
};

/*
 * Erase what [addr, addr + len) needs and write it in 256-byte blocks,
 * skipping all-0xFF blocks. If last_block is set, the block holding it is
 * written after all others. Stops at a block boundary when *stop is set.
 */
struct write_stats {
	unsigned pages_erased;
	unsigned blocks_written;
	unsigned blocks_skipped;
	unsigned pages_rewritten;   /* pages erased again after a failed block */
	double erase_s, write_s;
};

enum op_status flash_write_image(struct session *s, const struct flash_image *im,
				 const uint32_t *erase_first_page_addr,
				 const uint32_t *last_block,
				 const struct progress_ops *po,
				 volatile sig_atomic_t *stop,
				 struct write_stats *ws, char *err, size_t errlen);

/* Read len bytes from addr (in 256-byte commands) into buf. */
enum op_status flash_read(struct session *s, uint32_t addr, uint8_t *buf,
			  size_t len, const struct progress_ops *po,
			  char *err, size_t errlen);

enum verify_mode {
	VERIFY_STUB,      /* Go to the stub, wait for the application's banner */
	VERIFY_READBACK,  /* read everything back before Go */
	VERIFY_NONE,
};

#define DEFAULT_BANNER "sysboot reference application v"

struct update_opts {
	struct connect_opts co;
	enum verify_mode verify;
	bool allow_stub_erase;
	const char *banner;          /* text just before "X.Y.Z" */
	unsigned banner_timeout_ms;
	const struct progress_ops *po;
	volatile sig_atomic_t *stop;
};

struct update_result {
	uint32_t image_version;
	uint32_t image_base;
	size_t bytes;
	struct write_stats ws;
	unsigned retries;
	bool erase_started;          /* the old header is gone */
	bool confirmed;              /* banner seen with the right version */
	bool rejected;               /* the stub refused the image: the ROM answers */
	unsigned attempts;           /* whole updates run (see update_worth_redoing) */
	char running_version[32];    /* what the banner said */
	double connect_s, verify_s, total_s;
	struct chip_info chip;
};

/*
 * Check that a flash image is a sysboot application image that may be
 * written: valid header at SYSBOOT_HEADER_ADDR, body CRC, vectors, fits the
 * flash, and stays off the stub unless allow_stub_erase.
 */
enum op_status update_check_image(const struct flash_image *im, const char *path,
				  bool allow_stub_erase,
				  struct sysboot_image_header *hdr,
				  char *err, size_t errlen);

enum op_status update_run(const char *path, const struct update_opts *uo,
			  struct update_result *res, char *err, size_t errlen);

/*
 * Whether an update that ended with st is worth running again on a board
 * that stays in the ROM: the stub refused what was written (the line
 * damaged data the ROM accepted), or the ROM stopped answering or kept
 * refusing in the middle of it (a line losing bytes). Either way the header
 * is not valid, so the board is safe and the next attempt starts over.
 */
bool update_worth_redoing(enum op_status st, const struct update_result *res);

/*
 * After a Go, look for the banner on the port at 115200 8N1 for up to
 * timeout_ms; if it does not come, check whether the ROM answers instead.
 * version receives "X.Y.Z" when the banner was seen.
 */
enum op_status wait_banner(struct session *s, const char *banner,
			   unsigned timeout_ms, char *version, size_t vlen,
			   bool *rom_answered, char *err, size_t errlen);

double now_s(void);

#endif /* SYSBOOT_UPDATE_H */
