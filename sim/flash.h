/*
 * flash.h - model of the STM32L476 flash memory and its interface (RM0351 3).
 */
#ifndef SIM_FLASH_H
#define SIM_FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct board;
enum reset_kind;

enum flash_op {
	FLASH_OP_NONE,
	FLASH_OP_PROGRAM,            /* one double word */
	FLASH_OP_ERASE_PAGE,
	FLASH_OP_ERASE_BANK,         /* op_bank: 1, 2, or 0 for both */
	FLASH_OP_OPTIONS,
};

struct flash_ctl {
	/* Registers (RM0351 3.7). */
	uint32_t acr, sr, cr, eccr, optr;
	uint32_t pcrop1sr, pcrop1er, wrp1ar, wrp1br;
	uint32_t pcrop2sr, pcrop2er, wrp2ar, wrp2br;
	unsigned key_stage, optkey_stage;
	bool locked_out;             /* a wrong key sequence: locked until reset */

	/* A double word being programmed by two word stores. */
	bool half;
	uint32_t half_addr, half_val;

	/* The operation in progress, for its end and for power cuts. */
	enum flash_op op;
	uint32_t op_offset;          /* byte offset in b->flash (or b->info for OTP) */
	bool op_otp;
	uint8_t op_data[8];
	int op_bank;
	sim_time_t op_start, op_len;
	struct sim_event op_done;

	/* Storage: main flash, the two information pages, a trailer. */
	void *map;
	size_t map_len;
	int fd;
};

/* Allocate (or map from cfg.flash_path) b->flash, b->info and b->info2. */
int flash_init(struct board *b, char *err, size_t errlen);
void flash_fini(struct board *b);
/* Reset; option bytes load at power-on and after OBL_LAUNCH (RESET_POWER_ON). */
void flash_reset(struct board *b, enum reset_kind kind);

uint32_t flash_reg_read(struct board *b, void *state, uint32_t off, unsigned size);
void flash_reg_write(struct board *b, void *state, uint32_t off, unsigned size, uint32_t val);

/*
 * A CPU store of size bytes (1, 2, 4) at addr (0x08000000-based main flash
 * or the 0x1FFF7000 page). Called before Unicorn makes the raw store into
 * the host buffer; the core undoes that raw store before the next
 * instruction, so only what this model writes into b->flash stays.
 */
void flash_cpu_store(struct board *b, uint32_t addr, unsigned size, uint32_t val);

/*
 * Power is lost: leave any operation in progress as a real one could be
 * (a double word being programmed per cfg.torn_program).
 */
void flash_power_cut(struct board *b);

/*
 * A CPU data read of the double word at offset off of b->flash: true when
 * it has an uncorrectable ECC error, after setting FLASH_ECCR.ECCD with its
 * address and pending the NMI (RM0351 3.3.8).
 */
bool flash_ecc_read(struct board *b, uint32_t off);
/* Whether any double word has one (the core then watches flash reads). */
bool flash_has_ecc_errors(struct board *b);

/* For the native ROM bootloader: operations that take simulated time. */
int flash_rom_program(struct board *b, uint32_t addr, const uint8_t *data, uint32_t len,
		      char *why, size_t whylen);
int flash_rom_erase_pages(struct board *b, const uint16_t *pages, uint32_t count,
			  char *why, size_t whylen);
int flash_rom_erase_bank(struct board *b, int bank, char *why, size_t whylen);
int flash_rom_write_options(struct board *b, uint32_t addr, const uint8_t *data, uint32_t len,
			    char *why, size_t whylen);
int flash_rom_write_protect(struct board *b, const uint8_t *pages, uint32_t count,
			    char *why, size_t whylen);
int flash_rom_write_unprotect(struct board *b, char *why, size_t whylen);
int flash_rom_set_rdp(struct board *b, int level, char *why, size_t whylen);

/* Option bytes as loaded at the last power-on or OBL_LAUNCH. */
uint32_t flash_optr(const struct board *b);
int flash_rdp_level(const struct board *b);     /* 0, 1 or 2 */
bool flash_page_write_protected(const struct board *b, unsigned global_page);

/* Debugger access: write bytes as given, no time, no protection checks. */
void flash_debug_write(struct board *b, uint32_t addr, const uint8_t *data, size_t len);
void flash_debug_mass_erase(struct board *b);

#endif /* SIM_FLASH_H */
