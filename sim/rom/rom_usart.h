/*
 * rom_usart.h - the STM32L476 ROM bootloader's USART protocol (ST AN3155),
 * as a byte-driven state machine.
 *
 * Kept apart from the emulator (no Unicorn, no board) so the protocol can be
 * tested byte for byte against an in-memory target, and so sim/rom.c only has
 * to supply memory operations and a way to send bytes. The engine never
 * blocks: each byte from the host goes in through rom_usart_rx(), and every
 * answer leaves through ops->tx() before rom_usart_rx() returns.
 */
#ifndef SYSBOOT_ROM_USART_H
#define SYSBOOT_ROM_USART_H

#include <stdbool.h>
#include <stdint.h>

#include "sysboot/an3155.h"

/* What the engine needs from the chip. Every int-returning op gives 0 or -1. */
struct rom_target_ops {
	/* -1: unreadable address (the ROM answers NACK) */
	int (*read)(void *ctx, uint32_t addr, uint8_t *buf, uint32_t len);
	/* -1: the ROM would NACK (flash not erased, bad area, ...) */
	int (*write)(void *ctx, uint32_t addr, const uint8_t *buf, uint32_t len);
	/* global page numbers 0..511 (bank 2 starts at 256) */
	int (*erase_pages)(void *ctx, const uint16_t *pages, uint32_t count);
	/* 0 = mass erase, 1 = bank 1, 2 = bank 2 */
	int (*erase_bank)(void *ctx, int bank);
	/* load MSP from [addr], PC from [addr + 4] */
	void (*go)(void *ctx, uint32_t addr);
	int (*write_protect)(void *ctx, const uint8_t *pages, uint32_t count);
	int (*write_unprotect)(void *ctx);
	int (*readout_protect)(void *ctx);
	/* back to level 0: mass erase and option reload inside */
	int (*readout_unprotect)(void *ctx);
	/* current readout protection level: 0, 1 or 2 */
	int (*rdp_level)(void *ctx);
	/* bytes to the host */
	void (*tx)(void *ctx, const uint8_t *buf, uint32_t len);
};

/*
 * A flash write (0x08000000..0x080FFFFF) whose address is not a multiple of
 * 8, the programming unit. The ROM is known to fail such writes; whether the
 * failure also spoils later writes is not documented, hence a choice.
 */
enum rom_misaligned_policy {
	ROM_MISALIGNED_NACK = 0,   /* default: NACK that write only */
	ROM_MISALIGNED_NACK_STICKY,/* NACK it and every later flash write until rom_usart_reset() */
	ROM_MISALIGNED_ACCEPT,     /* pass it to ops->write unchanged */
};

/* A flash write whose length is not a multiple of 8. */
enum rom_flash_tail_policy {
	ROM_TAIL_PAD_FF = 0,       /* default: pad with 0xFF to the next double word */
	ROM_TAIL_NACK,             /* refuse the write */
	ROM_TAIL_AS_IS,            /* pass the exact length to ops->write */
};

/* Zero-initialised extra fields give the defaults described above. */
struct rom_usart_config {
	uint16_t product_id;        /* Get ID: 0x415 on the STM32L47x/48x */
	uint8_t protocol_version;   /* Get / Get Version: 0x31 (AN2606) */
	uint32_t ram_reserved;      /* first bytes of SRAM1 the ROM uses: writes there NACK */
	enum rom_misaligned_policy misaligned;
	enum rom_flash_tail_policy flash_tail;
};

#define ROM_USART_MAX_PAGES 512u    /* Extended Erase: pages kept per command */
#define ROM_USART_NACK_LEN  96u

struct rom_usart {
	struct rom_usart_config cfg;
	const struct rom_target_ops *ops;
	void *ctx;

	int state;                  /* enum rom_state in rom_usart.c */
	uint8_t cmd;                /* command in progress */
	uint8_t buf[4];             /* address or count bytes being collected */
	uint32_t got;               /* bytes of the current field received */
	uint32_t addr;
	uint32_t count;             /* Write Memory: N; Erase / Write Protect: items */
	uint8_t xor;                /* running checksum */
	bool overflow;              /* Extended Erase: more pages than kept */
	bool misaligned_seen;       /* ROM_MISALIGNED_NACK_STICKY tripped */
	uint32_t misaligned_addr;   /* ... by a write to this address */
	uint8_t data[AN3155_MAX_DATA + 8];
	uint16_t pages[ROM_USART_MAX_PAGES];

	/* Statistics for traces and tests. */
	uint64_t syncs;             /* 0x7F answered */
	uint64_t commands;          /* command bytes with a good complement */
	uint64_t acks;
	uint64_t nacks;
	char last_nack[ROM_USART_NACK_LEN];
};

void rom_usart_init(struct rom_usart *rom, const struct rom_usart_config *cfg,
		    const struct rom_target_ops *ops, void *ctx);
/* Back to waiting for 0x7F; statistics are kept. */
void rom_usart_reset(struct rom_usart *rom);
/* One byte from the host. */
void rom_usart_rx(struct rom_usart *rom, uint8_t byte);

/* Whether 0x7F has been answered since the last reset. */
bool rom_usart_synced(const struct rom_usart *rom);
/* Why the last NACK was sent ("" if none yet). */
const char *rom_usart_last_nack(const struct rom_usart *rom);
uint64_t rom_usart_commands(const struct rom_usart *rom);
uint64_t rom_usart_nacks(const struct rom_usart *rom);

#endif /* SYSBOOT_ROM_USART_H */
