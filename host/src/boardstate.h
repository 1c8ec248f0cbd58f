/*
 * boardstate.h - what the ROM bootloader can tell about the board behind
 * it: why it is in the ROM (the record sysboot's stub or entry library
 * left, common/include/sysboot/romentry.h), and whether its flash is
 * readout-protected, in the words `info`, `read` and `update` use.
 */
#ifndef SYSBOOT_HOST_BOARDSTATE_H
#define SYSBOOT_HOST_BOARDSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct session;

/*
 * Read the ROM entry record: true with *why (SYSBOOT_ROM_WHY_*) when the
 * board holds a valid one; false when the ROM refuses the read (readout
 * protection) or there is none (the ROM was entered otherwise: BOOT0, a
 * board without sysboot, a power cycle since).
 */
bool board_rom_entry(struct session *s, uint32_t *why);

/* The reason in words: "the boot stub refused the application image: ..." */
void board_rom_entry_str(uint32_t why, char *buf, size_t n);

/*
 * Whether the ROM refuses to read the first byte of flash, which both of
 * its protocols let read unless the chip is at readout protection level 1
 * (AN3155: then only Get, Get Version and Get ID are served).
 */
bool board_readout_protected(struct session *s);

/*
 * What readout protection level 1 means for the user, and how it goes:
 * "the chip is readout-protected (RDP level 1): " then the detail.
 */
extern const char board_rdp1_text[];
extern const char board_rdp1_detail[];

#endif
