/*
 * dfuse.h - the host side of the ROM bootloader's USB DFU interface: USB
 * DFU 1.1 with ST's DfuSe extensions (AN3156).
 *
 * One place knows the request sequences (a DfuSe command is a DNLOAD of
 * block 0 that runs during the following GETSTATUS; data goes in block 2
 * at the address last set), how long to wait (the device's bwPollTimeout),
 * and how to recover from an error state (CLRSTATUS, back to dfuIDLE,
 * retry), so the backend and the update only say what they want done.
 *
 * The client never calls libusb: it moves control requests through a
 * dfu_link (usb.c gives one over libusb, the unit tests a scripted device),
 * which keeps every state-machine path testable without a USB stack.
 * Failures come back as a df_rc with a sentence in d->err naming the
 * operation, the address and what the device said.
 */
#ifndef SYSBOOT_HOST_DFUSE_H
#define SYSBOOT_HOST_DFUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sysboot/dfuse.h"

/* How a control transfer can fail, besides moving fewer bytes. */
enum usb_rc {
	USB_ERR_STALL = -1,     /* the device stalled the request (libusb: PIPE) */
	USB_ERR_TIMEOUT = -2,   /* no answer within the timeout */
	USB_ERR_NO_DEVICE = -3, /* the device is gone (unplugged, reset) */
	USB_ERR_IO = -4,        /* any other failure */
};

/* The seam between the DfuSe logic and a USB stack. */
struct dfu_link_ops {
	/*
	 * A class request to the DFU interface, device to host when in.
	 * Returns the number of bytes moved, or a negative usb_rc.
	 */
	int (*request)(void *ctx, bool in, uint8_t request, uint16_t value,
		       void *data, uint16_t len, unsigned timeout_ms);
	/* SET_INTERFACE to this alternate setting: 0 or a negative usb_rc. */
	int (*set_alt)(void *ctx, uint8_t alt);
	void (*sleep_ms)(void *ctx, unsigned ms);
	/* The USB stack's words for the last USB_ERR_IO (may be NULL). */
	const char *(*io_error)(void *ctx);
};

#define DFUSE_MAX_ALTS    8u

enum df_rc {
	DF_OK = 0,
	DF_ERR_REFUSED,   /* the device stalled the request or reported an error */
	DF_ERR_TIMEOUT,   /* no answer, or busy for too long */
	DF_ERR_GONE,      /* the device disconnected */
	DF_ERR_IO,        /* another USB failure */
	DF_ERR_PROTOCOL,  /* a state or answer DFU 1.1 does not allow here */
	DF_ERR_ARG,       /* the caller asked for something the device cannot do */
};

struct dfuse_alt {
	uint8_t alt;              /* bAlternateSetting */
	char desc[128];           /* its interface string */
	bool parsed;              /* layout holds what desc says */
	struct dfuse_layout layout;
};

/*
 * A run of data blocks: after one Set Address Pointer at addr, DfuSe
 * places block n (n >= 2) at addr + (n - 2) * wTransferSize (AN3156), so
 * consecutive whole blocks in one direction need no address of their own.
 * Anything else in between ends it (see dfuse.c).
 */
struct dfuse_run {
	bool open;
	bool upload;              /* UPLOAD blocks; else DNLOAD */
	uint32_t next_addr;       /* where block next_block lands */
	uint16_t next_block;
};

struct dfuse {
	const struct dfu_link_ops *ops;
	void *ctx;
	char where[128];          /* the device, for messages */
	uint16_t transfer_size;   /* wTransferSize */
	unsigned nalts;
	struct dfuse_alt alts[DFUSE_MAX_ALTS];
	int cur_alt;              /* index into alts, -1 before a selection */
	struct dfuse_run run;     /* the blocks the device's pointer still places */
	bool upload_idle;         /* a read left the device in dfuUPLOAD-IDLE */
	unsigned retries;         /* extra attempts per operation (default 3) */
	unsigned retry_count;     /* used so far, for reports */
	unsigned timeout_ms;      /* per control transfer (default 5000) */
	unsigned busy_limit_ms;   /* longest dfuDNBUSY for one command (30000) */
	char err[512];
};

void dfuse_init(struct dfuse *d, const struct dfu_link_ops *ops, void *ctx,
		const char *where, uint16_t transfer_size);

/* Record an alternate setting; its layout is parsed if it is one. */
void dfuse_add_alt(struct dfuse *d, uint8_t alt, const char *desc);

/* The alternate setting whose layout is named name ("Internal Flash"). */
const struct dfuse_alt *dfuse_find_alt(const struct dfuse *d, const char *name);

/* Make alts[index] the current alternate setting and bring it to dfuIDLE. */
enum df_rc dfuse_select(struct dfuse *d, unsigned index);

/* GETSTATUS, CLRSTATUS, ABORT: one request each. */
enum df_rc dfuse_get_status(struct dfuse *d, struct dfu_status *st);
enum df_rc dfuse_clear_status(struct dfuse *d);
enum df_rc dfuse_abort(struct dfuse *d);

/* From whatever state the device is in to dfuIDLE (clearing an error). */
enum df_rc dfuse_make_idle(struct dfuse *d);

/*
 * Reads keep the device in dfuUPLOAD-IDLE, so that the next consecutive
 * block needs one UPLOAD only; the next operation of another kind ABORTs
 * first. Call this when done with the device to leave it in dfuIDLE.
 */
enum df_rc dfuse_finish(struct dfuse *d);

/*
 * The DfuSe operations, each retried (after bringing the device back to
 * dfuIDLE) up to d->retries times. An address selects the alternate setting
 * whose layout holds it with the flag the operation needs. Consecutive
 * whole-block writes, or reads, continue one run of block numbers after a
 * single Set Address Pointer; a retry sets the address again.
 */
enum df_rc dfuse_erase_page(struct dfuse *d, uint32_t addr);
enum df_rc dfuse_mass_erase(struct dfuse *d);
/* Removes readout protection: the ROM mass-erases and resets (AN3156 6.5). */
enum df_rc dfuse_read_unprotect(struct dfuse *d);
/*
 * At most transfer_size bytes. A write over 256 bytes whose length is not a
 * multiple of 8 is corrupted by the ROM (AN2606 known limitations): it is
 * padded with 0xFF here.
 */
enum df_rc dfuse_write(struct dfuse *d, uint32_t addr, const void *buf, size_t len);
enum df_rc dfuse_read(struct dfuse *d, uint32_t addr, void *buf, size_t len);
/* Set the address, then a zero-length DNLOAD: the ROM starts the code there. */
enum df_rc dfuse_leave(struct dfuse *d, uint32_t addr);
/* DfuSe Get Commands (UPLOAD of block 0): the command bytes it supports. */
enum df_rc dfuse_get_commands(struct dfuse *d, uint8_t *cmds, size_t max,
			      size_t *n);

static inline const char *dfuse_error(const struct dfuse *d)
{
	return d->err;
}

#endif /* SYSBOOT_HOST_DFUSE_H */
