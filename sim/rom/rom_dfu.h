/*
 * rom_dfu.h - the STM32L476 ROM bootloader's USB DFU protocol (USB DFU 1.1
 * with ST's DfuSe extensions, AN3156), one control transfer at a time.
 *
 * Kept apart from the emulator and from any USB host emulation (no Unicorn,
 * no umockdev) so the whole DFU state machine can be tested request by
 * request against an in-memory target, as rom_usart.c is for AN3155. The
 * USB device layer (rom_usb.c) hands it the DFU class requests; the chip is
 * reached only through struct rom_dfu_ops.
 *
 * Timing follows the ROM: a DNLOAD only stores its data; the command or
 * write it carries runs when the host asks DFU_GETSTATUS, which answers
 * dfuDNBUSY with a poll timeout at once (AN3156 4, 6). The engine therefore
 * splits that GETSTATUS in two: rom_dfu_request() builds the answer, and
 * rom_dfu_complete(), called once the answer has left the device, does the
 * work (which takes simulated time in the emulator) and moves on to
 * dfuDNLOAD-IDLE, dfuERROR or, for the leave request, the jump. Whether
 * the answer leaves before or after a download's work is the emulator's
 * model parameter (sim_config.dfu_work): it may call rom_dfu_complete()
 * before it completes the transfer when rom_dfu_download_pending().
 */
#ifndef SYSBOOT_ROM_DFU_H
#define SYSBOOT_ROM_DFU_H

#include <stdbool.h>
#include <stdint.h>

#include "sysboot/dfuse.h"

#define ROM_DFU_MAX_TRANSFER 4096u   /* largest wTransferSize the engine buffers */
#define ROM_DFU_ERROR_LEN    160u

/* What a region of the memory map allows (the ROM's address checks). */
enum rom_dfu_access {
	ROM_DFU_READ = 1u << 0,
	ROM_DFU_WRITE = 1u << 1,
	ROM_DFU_ERASE = 1u << 2,      /* page erase and mass erase target it */
	ROM_DFU_POINTER = 1u << 3,    /* Set Address Pointer may point here */
};

enum rom_dfu_mem {
	ROM_DFU_MEM_FLASH,            /* programmed in double words of 8 bytes */
	ROM_DFU_MEM_RAM,
	ROM_DFU_MEM_SYSTEM,           /* the ROM itself: read only */
	ROM_DFU_MEM_OPTIONS,          /* a write reloads them: system reset */
	ROM_DFU_MEM_OTP,              /* programmed in double words, once */
	ROM_DFU_MEM_FEATURE,          /* DfuSe "Device Feature" area */
};

struct rom_dfu_region {
	uint32_t base, size;
	unsigned access;              /* enum rom_dfu_access bits */
	enum rom_dfu_mem kind;
	const char *name;             /* for error messages: "flash", "SRAM1" ... */
};

/* Results of the page erase operation. */
enum rom_dfu_erase_result {
	ROM_DFU_ERASED = 0,
	ROM_DFU_ERASE_PROTECTED = 1,  /* write protected: left as it is, no error (AN3156) */
	ROM_DFU_ERASE_FAILED = -1,
};

/* What the engine needs from the chip. int ops return 0 or -1 unless noted. */
struct rom_dfu_ops {
	int (*read)(void *ctx, uint32_t addr, uint8_t *buf, uint32_t len);
	/* flash, RAM, OTP or option bytes; -1: the flash interface refused it */
	int (*write)(void *ctx, uint32_t addr, const uint8_t *buf, uint32_t len);
	/* the page holding addr; enum rom_dfu_erase_result */
	int (*erase_page)(void *ctx, uint32_t addr);
	int (*mass_erase)(void *ctx);
	/* back to readout protection level 0 (erases the flash), then reset */
	int (*read_unprotect)(void *ctx);
	/* the current readout protection level: 0, 1 or 2 */
	int (*rdp_level)(void *ctx);
	/* leave DFU: disconnect and start the code whose vector table is at addr */
	void (*leave)(void *ctx, uint32_t addr);
	/* the option bytes changed: system reset, the device disconnects */
	void (*option_reset)(void *ctx);
	/* DFU_DETACH: the device detaches from the bus and attaches again */
	void (*detach)(void *ctx);
	/* a line for the board's trace (may be NULL) */
	void (*trace)(void *ctx, const char *text);
};

/*
 * AN2606 lists, for the STM32L47x/48x ROM, that a DFU write of more than
 * 256 bytes whose length is not a multiple of 8 gets corrupted. How is not
 * documented; the choice of model is a policy. Writes of 256 bytes or less
 * are padded with 0xFF to the next double word, as the flash requires.
 */
enum rom_dfu_tail_policy {
	ROM_DFU_TAIL_LOST = 0,        /* default: the last len % 8 bytes are silently not written */
	ROM_DFU_TAIL_PAD,             /* a fixed ROM: pad with 0xFF like short writes */
	ROM_DFU_TAIL_ERROR,           /* refuse the write: dfuERROR, errWRITE */
};

/* Zero-initialised optional fields give the defaults described. */
struct rom_dfu_config {
	uint16_t transfer_size;       /* wTransferSize: 2048 on this ROM (AN3156) */
	uint32_t default_pointer;     /* before any Set Address Pointer: 0x08000000 */
	const struct rom_dfu_region *regions;
	unsigned nregions;
	uint32_t flash_page_size;     /* page erase granule: 2048 */
	uint32_t write_padding_limit; /* see enum rom_dfu_tail_policy: 256 */
	enum rom_dfu_tail_policy tail;
	/* bwPollTimeout estimates, from the flash timing model */
	uint32_t dword_program_ns;
	uint32_t page_erase_ns;
	uint32_t mass_erase_ns;
};

/* What a request asks of the USB device layer. */
enum rom_dfu_result {
	ROM_DFU_ACK,                  /* data stage (if any) and status stage complete */
	ROM_DFU_STALL,                /* the device answers STALL (a pipe error on the host) */
};

struct rom_dfu {
	struct rom_dfu_config cfg;
	const struct rom_dfu_ops *ops;
	void *ctx;

	uint8_t state;                /* DFU_STATE_* */
	uint8_t status;               /* DFU_STATUS_* */
	uint32_t pointer;             /* Address Pointer (AN3156 6.2) */
	uint8_t alt;                  /* alternate setting chosen by SET_INTERFACE */
	uint32_t poll_ms;             /* bwPollTimeout of the last GETSTATUS answer */

	/* The last DNLOAD, kept until GETSTATUS executes it. */
	uint16_t block;
	uint16_t len;
	uint8_t buf[ROM_DFU_MAX_TRANSFER + 8];  /* + room to pad a flash write */
	uint8_t work;                 /* what rom_dfu_complete() runs (rom_dfu.c) */

	uint8_t feature[4];           /* Device Feature area: kept, no effect */

	/* Statistics and the reason of the last error, for traces and tests. */
	uint64_t requests, stalls;
	uint64_t bytes_written, bytes_read;
	char last_error[ROM_DFU_ERROR_LEN];
};

void rom_dfu_init(struct rom_dfu *dfu, const struct rom_dfu_config *cfg,
		  const struct rom_dfu_ops *ops, void *ctx);
/* USB reset or new session: dfuIDLE, status OK, pointer at its default. */
void rom_dfu_reset(struct rom_dfu *dfu);
/* SET_INTERFACE chose this alternate setting. */
void rom_dfu_set_alt(struct rom_dfu *dfu, uint8_t alt);

/*
 * One DFU class request (bRequest DFU_DETACH..DFU_ABORT); in tells the
 * direction of its bmRequestType (device to host). For a request
 * with an OUT data stage, data holds the wLength bytes the host sent; for
 * an IN request the engine writes at most wLength bytes to data and their
 * number to *len. A stall moves the state machine to dfuERROR with
 * errSTALLEDPKT, as DFU 1.1 prescribes for a request not allowed in the
 * current state.
 */
enum rom_dfu_result rom_dfu_request(struct rom_dfu *dfu, uint8_t request, uint16_t value,
				    uint16_t length, bool in, uint8_t *data, uint16_t *len);
/* The answer to the last request has left the device: run what it started. */
void rom_dfu_complete(struct rom_dfu *dfu);
/* What the last request started is a DNLOAD's work (a command or a write). */
bool rom_dfu_download_pending(const struct rom_dfu *dfu);

/* Why the last stall or error happened ("" if none yet). */
const char *rom_dfu_last_error(const struct rom_dfu *dfu);

#endif /* SYSBOOT_ROM_DFU_H */
