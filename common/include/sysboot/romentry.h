/*
 * romentry.h - why a board entered the ROM bootloader, as sysboot records
 * it: the codes the entry library and the boot stub leave behind, and the
 * host tool reads back to tell the user.
 *
 * Every jump into the ROM (sysboot_enter_rom(), firmware/lib/enter.c)
 * writes the same word twice: into RTC_BKP2R, for the application after
 * the ROM hands control back (sysboot_boot_cause()), and into the last
 * 8 bytes of SRAM2 with its complement, for a host talking to the ROM.
 * AN3155 documents Read Memory for RAM, flash and the information block,
 * not peripheral registers such as BKP2R; SRAM2 is RAM the ROM does not
 * use (AN2606: it keeps to the first 12 KB of SRAM1), so the record is
 * there, unchanged, for as long as the ROM runs.
 */
#ifndef SYSBOOT_ROMENTRY_H
#define SYSBOOT_ROMENTRY_H

#include <stdint.h>

#include "sysboot/stm32l476.h"

#define SYSBOOT_ROM_MARKER       0x5B0AE000u
#define SYSBOOT_ROM_MARKER_MASK  0xFFFFFF00u
#define SYSBOOT_ROM_WHY_MASK     0x000000FFu
#define SYSBOOT_ROM_WHY_REQUEST  0x01u         /* a valid request after a software reset */
#define SYSBOOT_ROM_WHY_BUTTON   0x02u         /* stub: B1 held at reset */
#define SYSBOOT_ROM_WHY_NMI      0x03u         /* stub: an NMI other than a flash ECC error */
/* stub: image refused; low nibble = enum sysboot_image_status (image.h) */
#define SYSBOOT_ROM_WHY_IMAGE(st) (0x10u | ((uint32_t)(st) & 0xFu))
#define SYSBOOT_ROM_WHY_IS_IMAGE(why) (((why) & 0xF0u) == 0x10u)

/* The SRAM2 record: the BKP2R word, then its complement. */
#define SYSBOOT_ROM_RECORD_ADDR  (STM32_SRAM2_BASE + STM32_SRAM2_SIZE - 8u)
#define SYSBOOT_ROM_RECORD_SIZE  8u

#endif /* SYSBOOT_ROMENTRY_H */
