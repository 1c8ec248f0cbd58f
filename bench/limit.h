/*
 * limit.h - the physical limit of an update: the time no host tool can
 * beat on a given link.
 *
 * Writing LEN bytes at ADDR cannot take less than those bytes on the wire,
 * plus the flash erasing the pages they cover, plus the flash programming
 * their double words: no command bytes, no acknowledgements, no waiting
 * but the poll timeouts a DFU device asks for, no verification. The flash figures are the emulator's own timing model
 * (struct sim_timing, DS10198 typical values), so the limit and the
 * measured updates come from one set of numbers.
 */
#ifndef BENCH_LIMIT_H
#define BENCH_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "sim.h"

struct update_limit {
	double wire_s;           /* the image's bytes on the link */
	double erase_s;          /* the cheapest erase of the pages they cover */
	double program_s;        /* their double words programmed */
	double poll_s;           /* DFU: bwPollTimeout the flash work does not fill */
	double total_s;
	unsigned pages;          /* flash pages covered */
	unsigned banks_mass_erased; /* banks covered whole, erased at once */
	unsigned transfers;      /* USB control transfers (DfuSe), 0 for a serial link */
};

/*
 * Erase and programming of [addr, addr + len) in main flash: page by page
 * (RM0351 3.3.6), except, when the protocol can ask for it (bank_erase), a
 * bank the range covers whole, which a bank erase (MER1/MER2) clears in
 * one operation when that is cheaper (both banks together when the range
 * is the whole flash). A bank holding anything outside the range (the
 * boot stub in bank 1) is never mass-erased. wire_s is left as it was.
 */
void flash_limit(const struct sim_timing *t, uint32_t addr, uint32_t len, bool bank_erase,
		 struct update_limit *l);

/* The limit over the ROM's USART: AN3155_FRAME_BITS per byte at baud. */
void usart_update_limit(const struct sim_timing *t, uint32_t baud, uint32_t addr,
			uint32_t len, struct update_limit *l);

/*
 * The limit over the ROM's USB DFU device (AN3156) on a full-speed bus,
 * with the overhead no DfuSe host can avoid: each block of at most
 * wTransferSize bytes is one DFU_DNLOAD control transfer (setup, the data
 * in 64-byte packets with their tokens and handshakes, status) and two
 * DFU_GETSTATUS (the one that starts the write, dfuDNBUSY, and the one
 * that ends it, DFU 1.1 A.2.5); each page is erased by its own DfuSe
 * erase command (DNLOAD of 5 bytes, two GETSTATUS), since DfuSe has no
 * bank erase and a mass erase would take the boot stub. Bus bits as the
 * emulator counts them (rom_usb_control_bits), at t->usb_bit each. And
 * the poll timeouts: a DFU 1.1 host waits each bwPollTimeout the ROM asks
 * for (the flash time rounded up to the millisecond) before it asks again;
 * with work after-status the flash work fills all but the rounding, with
 * work in-status it comes before them, so they are waited whole.
 */
void dfuse_update_limit(const struct sim_timing *t, enum sim_dfu_work work, uint32_t addr,
			uint32_t len, struct update_limit *l);

#endif /* BENCH_LIMIT_H */
