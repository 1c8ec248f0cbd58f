/*
 * memtarget.h - an in-memory STM32L476 for the ROM bootloader's protocol
 * engine (sim/rom/rom_usart.h) outside the emulator.
 *
 * The engine's unit tests check every byte it sends against this target,
 * the host's recovery tests put it at the end of a socket, and the fuzzer
 * throws arbitrary bytes at it: all three need the same small chip (flash
 * that takes a double word once per erase, SRAM, a readout protection
 * level, and a record of what was asked), so it lives in one place.
 */
#ifndef TESTS_ROM_MEMTARGET_H
#define TESTS_ROM_MEMTARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rom/rom_dfu.h"
#include "rom/rom_usart.h"
#include "sysboot/stm32l476.h"

struct memtarget {
	uint8_t flash[STM32_FLASH_SIZE];  /* a double word programs only while erased */
	uint8_t sram1[STM32_SRAM1_SIZE];
	uint8_t sram2[STM32_SRAM2_SIZE];
	int rdp;
	bool fail_ops;             /* erase, protect and unprotect ops fail */
	uint32_t refuse_addr;      /* writes covering it fail (0 = none) */

	uint32_t go_addr;
	int go_calls;
	uint32_t last_write_len;
	unsigned writes;           /* flash writes that succeeded */
	uint16_t erased[ROM_USART_MAX_PAGES];
	uint32_t erased_count;     /* pages erased (the list keeps the first ones) */
	int bank_erased;           /* -1: none */
	uint8_t wp_pages[256];
	uint32_t wp_count;
	int unprotects, rdp_sets, rdp_clears;
	int leaves, option_resets, detaches;   /* DFU */

	/* What the engine sends: to tx_fn when set, else kept in tx[]. */
	void (*tx_fn)(struct memtarget *t, const uint8_t *buf, uint32_t len);
	void *tx_ctx;
	uint8_t tx[4096];
	size_t txlen;
	bool tx_overflow;          /* tx[] was full: bytes were lost */
};

/* The operations; the engine's ctx must be the struct memtarget. */
extern const struct rom_target_ops memtarget_ops;
extern const struct rom_dfu_ops memtarget_dfu_ops;
/* The memory map as the DFU engine checks it: flash, SRAM1 past the ROM's, SRAM2. */
extern const struct rom_dfu_region memtarget_dfu_regions[];
extern const unsigned memtarget_dfu_nregions;

/* Erased flash, zeroed SRAM, nothing recorded (tx_fn and tx_ctx kept). */
void memtarget_reset(struct memtarget *t);

#endif
