/*
 * flash.h - model of the STM32L476 flash memory interface (RM0351 3).
 *
 * INTERFACE DRAFT written by the core; the flash model owner completes the
 * state struct and may add functions, but keeps these signatures.
 */
#ifndef SIM_FLASH_H
#define SIM_FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct board;
enum reset_kind;

struct flash_ctl {
	uint32_t acr, sr, cr, eccr, optr;
	uint32_t pcrop1sr, pcrop1er, wrp1ar, wrp1br;
	uint32_t pcrop2sr, pcrop2er, wrp2ar, wrp2br;
	/* to be completed by the flash model */
	int fd;
	size_t map_len;
	void *map;
};

/* Allocate (or map from cfg.flash_path) b->flash, b->info and b->info2. */
int flash_init(struct board *b, char *err, size_t errlen);
void flash_fini(struct board *b);
void flash_reset(struct board *b, enum reset_kind kind);

uint32_t flash_reg_read(struct board *b, void *state, uint32_t off, unsigned size);
void flash_reg_write(struct board *b, void *state, uint32_t off, unsigned size, uint32_t val);

/*
 * A CPU store of size bytes (1, 2, 4) at addr (physical: 0x08000000-based
 * main flash, or 0x1FFF7000 OTP / option area). Called before Unicorn makes
 * the raw store into the host buffer; the core undoes that raw store before
 * the next instruction, so only what this model writes into b->flash stays.
 */
void flash_cpu_store(struct board *b, uint32_t addr, unsigned size, uint32_t val);

/* Power is lost: leave any operation in progress as a real one could be. */
void flash_power_cut(struct board *b);

/* For the native ROM bootloader model: operations that take simulated time. */
int flash_rom_program(struct board *b, uint32_t addr, const uint8_t *data, uint32_t len,
		      char *why, size_t whylen);
int flash_rom_erase_pages(struct board *b, const uint16_t *pages, uint32_t count,
			  char *why, size_t whylen);
int flash_rom_erase_bank(struct board *b, int bank, char *why, size_t whylen);

/* Option bytes as loaded at the last reset / OBL_LAUNCH. */
uint32_t flash_optr(const struct board *b);
int flash_rdp_level(const struct board *b);     /* 0, 1 or 2 */
bool flash_page_write_protected(const struct board *b, unsigned global_page);

/* Debugger-style access: no simulated time, no protection checks. */
void flash_debug_write(struct board *b, uint32_t addr, const uint8_t *data, size_t len);
void flash_debug_mass_erase(struct board *b);

#endif /* SIM_FLASH_H */
