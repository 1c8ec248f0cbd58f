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

#include "bootloader.h"
#include "sysboot/image.h"

/* A contiguous memory image: len bytes from base, gaps filled with 0xFF. */
struct flash_image {
	uint32_t base;
	size_t len;
	uint8_t *data;
};

/*
 * Load any input file into a flash image: ELF, Intel HEX, S-record, DfuSe,
 * or a raw binary when lo->raw (placed at lo->raw_base). Messages name the
 * file. A DfuSe file whose suffix names another USB device than this
 * chip's ROM bootloader (0483:df11, or 0xFFFF for any) is refused here,
 * before any board is touched.
 */
struct load_opts;
enum op_status flash_image_load(struct flash_image *im, const char *path,
				const struct load_opts *lo, char *err, size_t errlen);
void flash_image_free(struct flash_image *im);

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
 * Erase what [addr, addr + len) needs and write it in blocks of s->block
 * bytes (256 over AN3155, the DFU transfer size over USB), aligned to
 * their size, skipping all-0xFF blocks. If last_block is set, the block holding it is
 * written after all others. Stops at a block boundary when *stop is set.
 */
struct write_stats {
	unsigned pages_erased;
	unsigned bank_erases;       /* of them, bank 2 cleared at once */
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

/* Read len bytes from addr (in commands of s->block bytes) into buf. */
enum op_status flash_read(struct session *s, uint32_t addr, uint8_t *buf,
			  size_t len, const struct progress_ops *po,
			  char *err, size_t errlen);

enum verify_mode {
	VERIFY_STUB,      /* Go to the stub, wait for the application's banner */
	VERIFY_READBACK,  /* read everything back before Go (over USB, then
			   * watch that the ROM's DFU device stays away) */
	VERIFY_NONE,
};

#define DEFAULT_BANNER "sysboot reference application v"
/* USB, --verify=readback: how long to watch for the ROM coming back. */
#define DEFAULT_ROM_WATCH_MS 2000u

struct update_opts {
	struct connect_opts co;
	enum verify_mode verify;
	bool allow_stub_erase;
	const char *banner;          /* text just before "X.Y.Z" */
	unsigned banner_timeout_ms;  /* also the USB readback's watch */
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
 * After a Go, look for the banner on the application's line (s->app) at
 * 115200 8N1 for up to timeout_ms; if it does not come, check whether the
 * ROM answers instead. version receives "X.Y.Z" when the banner was seen.
 */
enum op_status wait_banner(struct session *s, const char *banner,
			   unsigned timeout_ms, char *version, size_t vlen,
			   bool *rom_answered, char *err, size_t errlen);

#endif /* SYSBOOT_UPDATE_H */
