/*
 * fake_dfu.h - a scripted STM32L476 ROM DFU device at the control-transfer
 * level, for unit tests of the host tool's DfuSe client and of the update
 * over USB.
 *
 * Why: the emulator's device proves interoperability, but it cannot stall
 * the third DNLOAD, lose one GETSTATUS or vanish after request 40 on
 * demand, and those are the recovery paths that must be proven. It follows
 * DFU 1.1's state machine with AN3156's DfuSe commands; flash is the full
 * 1 MB at 0x08000000 and, like the real part (RM0351 3.3.7), refuses to
 * program a double word that is not erased. Blocks are placed from the
 * address pointer by their number, as the ROM does, and the pointer is
 * kept only as far as AN3156 promises (fake_dfu.c), so a client that
 * numbers its blocks wrongly, or trusts the pointer after a recovery,
 * writes or reads the wrong place. It plugs into the DfuSe backend as a
 * usb_provider, so discovery, waiting and the whole update run through it.
 */
#ifndef TESTS_INTEROP_FAKE_DFU_H
#define TESTS_INTEROP_FAKE_DFU_H

#include <stdbool.h>
#include <stdint.h>

#include "bootloader.h"
#include "usb.h"

#define FAKE_DFU_FLASH_SIZE 0x100000u
#define FAKE_DFU_RECORDS    1100u

struct fake_dfu {
	/* The device. */
	uint8_t *flash;             /* FAKE_DFU_FLASH_SIZE bytes */
	uint8_t ob[0x28];           /* option bytes at 0x1FFF7800 (alt 1) */
	uint8_t state, status;
	uint32_t ptr;               /* DfuSe address pointer */
	bool ptr_just_set;          /* nothing but GETSTATUS since Set Address */
	unsigned alt;
	uint32_t poll_ms;           /* bwPollTimeout while busy */
	uint16_t transfer_size;
	bool present;               /* on the bus */
	bool rdp;                   /* readout protected: uploads stall */
	uint16_t vid, pid;
	const char *layout;         /* alt 0's string; NULL: the L476's */

	/* What DNLOAD left for the next GETSTATUS. */
	int pending;
	uint8_t pbuf[4096];
	uint16_t plen, pblock;

	/* Faults. */
	unsigned stall_dnload_at;   /* stall the n-th DNLOAD (1-based; 0 none) */
	unsigned stall_dnloads;     /* ... and this many after it */
	unsigned stall_upload_at;   /* stall the n-th data UPLOAD (1-based; 0 none) */
	uint32_t fail_addr;         /* writes here end in errPROG ... */
	unsigned fail_count;        /* ... this many times */
	unsigned vanish_at;         /* request n and later: the device is gone */
	unsigned timeout_status_at; /* the n-th GETSTATUS times out ... */
	unsigned timeout_status_count; /* ... and this many after it (0: 1) */
	bool lose_status_after_write; /* program, then time out that GETSTATUS */
	bool always_busy;           /* never leaves dfuDNBUSY */
	bool stub_rejects;          /* after leave, the ROM comes back */
	unsigned absent_opens;      /* open() finds nothing this many times */
	unsigned denied_opens;      /* then may not open it this many times */
	unsigned mute_opens;        /* then finds it, but not answering, this many */
	unsigned several;           /* open() sees this many matching devices */

	/* What happened. */
	unsigned requests, dnloads, getstatus, clrstatus, aborts, opens;
	unsigned set_addresses, uploads;  /* Set Address Pointer commands, data UPLOADs */
	unsigned sleeps, sleep_ms_total, last_sleep_ms;
	uint32_t erase_order[FAKE_DFU_RECORDS];
	unsigned nerased;
	uint32_t write_order[FAKE_DFU_RECORDS];
	unsigned nwritten;
	uint16_t last_write_len;
	uint8_t last_write_tail;    /* last byte of the last write */
	unsigned bad_len_writes;    /* > 256 bytes and not a multiple of 8 */
	unsigned mass_erases, unprotects;
	bool left;
	uint32_t jumped_to;
	unsigned counts_after_leave;

	struct usb_provider provider;  /* ctx points here */
};

/*
 * A present, erased, unprotected L476 ROM DFU device (flash malloc'd);
 * f->provider finds it (give it as connect_opts.usb).
 */
void fake_dfu_init(struct fake_dfu *f);
void fake_dfu_free(struct fake_dfu *f);

/* Direct use of the client: the link and its context. */
extern const struct dfu_link_ops fake_dfu_link;

/* Set up d as the DfuSe backend would, talking to f directly. */
void fake_dfu_attach(struct fake_dfu *f, struct dfuse *d);

#endif
