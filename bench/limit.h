/*
 * limit.h - the physical limit of an update: the time no host tool can
 * beat on a given link.
 *
 * Writing LEN bytes at ADDR cannot take less than those bytes on the wire,
 * plus the flash erasing the pages they cover, plus the flash programming
 * their double words: no command bytes, no acknowledgements, no waiting,
 * no verification. The flash figures are the emulator's own timing model
 * (struct sim_timing, DS10198 typical values), so the limit and the
 * measured updates come from one set of numbers.
 */
#ifndef BENCH_LIMIT_H
#define BENCH_LIMIT_H

#include <stdint.h>

#include "sim.h"

struct update_limit {
	double wire_s;           /* the image's bytes on the link */
	double erase_s;          /* the cheapest erase of the pages they cover */
	double program_s;        /* their double words programmed */
	double total_s;
	unsigned pages;          /* flash pages covered */
	unsigned banks_mass_erased; /* banks covered whole, erased at once */
};

/*
 * Erase and programming of [addr, addr + len) in main flash: page by page
 * (RM0351 3.3.6), except a bank the range covers whole, which a bank erase
 * (MER1/MER2) clears in one operation when that is cheaper (both banks
 * together when the range is the whole flash). A bank holding anything
 * outside the range (the boot stub in bank 1) is never mass-erased.
 * wire_s is left as it was.
 */
void flash_limit(const struct sim_timing *t, uint32_t addr, uint32_t len,
		 struct update_limit *l);

/* The limit over the ROM's USART: AN3155_FRAME_BITS per byte at baud. */
void usart_update_limit(const struct sim_timing *t, uint32_t baud, uint32_t addr,
			uint32_t len, struct update_limit *l);

#endif /* BENCH_LIMIT_H */
