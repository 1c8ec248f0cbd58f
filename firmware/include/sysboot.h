/*
 * sysboot.h - enter the STM32L476 ROM bootloader from application code.
 *
 * Jumping into the ROM from a running application is unreliable: clocks,
 * interrupts and peripherals are left as the application set them, and the
 * ROM's dual-bank boot routine bounces straight back into any bank whose
 * first word looks like a stack pointer (AN2606, STM32L47x/48x). sysboot
 * therefore never jumps from the running application. A request is written
 * into the RTC backup registers, which survive a system reset (RM0351 5.1.6),
 * the part is reset, and sysboot_early_check(), the first code of the reset
 * handler, remaps system memory at 0x0 (the AN2606 countermeasure) and jumps
 * into the ROM with the chip in its reset state.
 *
 * Backup register encoding (RTC_BKPxR, RM0351 38.6.20):
 *
 *   BKP0R  request   SYSBOOT_REQ_MAGIC | reason (16 bits)
 *   BKP1R  check     ~BKP0R; a request whose check differs is ignored
 *   BKP2R  entered   SYSBOOT_ROM_MARKER | why (8 bits), written just
 *                    before the jump into the ROM (and, with its
 *                    complement, in the last 8 bytes of SRAM2 for a host,
 *                    sysboot/romentry.h); sysboot_boot_cause() reports
 *                    SYSBOOT_CAUSE_ROM_RETURN from it and clears it
 *   BKP3R  reason    the 16-bit reason of the request consumed last
 *
 * The request is cleared before the jump, so a request is used at most
 * once: when the ROM hands control back (AN3155 Go) the application starts
 * normally.
 */
#ifndef SYSBOOT_H
#define SYSBOOT_H

#include <stdint.h>

#define SYSBOOT_BKP_REQUEST      0u            /* RTC_BKP0R */
#define SYSBOOT_BKP_CHECK        1u            /* RTC_BKP1R */
#define SYSBOOT_BKP_ENTERED      2u            /* RTC_BKP2R */
#define SYSBOOT_BKP_REASON       3u            /* RTC_BKP3R */

#define SYSBOOT_REQ_MAGIC        0x5B0A0000u
#define SYSBOOT_REQ_MAGIC_MASK   0xFFFF0000u
#define SYSBOOT_REQ_REASON_MASK  0x0000FFFFu
#define SYSBOOT_REQ_WORD(reason) \
	(SYSBOOT_REQ_MAGIC | ((uint32_t)(reason) & SYSBOOT_REQ_REASON_MASK))
#define SYSBOOT_REQ_CHECK(word)  (~(uint32_t)(word))

/* Reasons an application may pass; any 16-bit value is accepted. */
#define SYSBOOT_REASON_APP       0x0000u       /* sysboot_request_rom() */
#define SYSBOOT_REASON_COMMAND   0x0001u       /* host asked over the serial port */
#define SYSBOOT_REASON_BUTTON    0x0002u       /* user button held */

/* BKP2R (and the SRAM2 record): why the ROM was entered, SYSBOOT_ROM_*. */
#include "sysboot/romentry.h"

enum sysboot_boot_cause {
	SYSBOOT_CAUSE_POWER_ON = 0,     /* power-on or brown-out reset */
	SYSBOOT_CAUSE_PIN_RESET,        /* NRST pin only */
	SYSBOOT_CAUSE_SOFTWARE_RESET,   /* SYSRESETREQ without a ROM request */
	SYSBOOT_CAUSE_ROM_RETURN,       /* the ROM bootloader handed control back */
	SYSBOOT_CAUSE_WATCHDOG,         /* IWDG, WWDG or low-power reset */
	SYSBOOT_CAUSE_OTHER,            /* option byte load, firewall, unknown */
};

/* Ask for the ROM bootloader and reset the part. Never returns. */
void sysboot_request_rom(void) __attribute__((noreturn));
void sysboot_request_rom_reason(uint32_t reason) __attribute__((noreturn));

/*
 * Call first in the reset handler, before .data/.bss are set up and before
 * any clock change: uses no global variable and only a few words of stack.
 * Returns unless a valid request follows a software reset; then it does
 * not return (the ROM bootloader runs).
 */
void sysboot_early_check(void);

/*
 * Enter the ROM now, recording why in BKP2R. Meant for the reset path (the
 * chip must be in its reset state: no clock, PLL or interrupt set up).
 */
void sysboot_enter_rom(uint32_t why) __attribute__((noreturn));

/*
 * Stop SysTick and clear every NVIC enable and pending bit. For code that
 * may be entered by a jump from the ROM (AN3155 Go does not reset
 * peripherals), before its own vector table can take those interrupts.
 */
void sysboot_quiesce(void);

/* System reset (SCB_AIRCR.SYSRESETREQ). */
void sysboot_system_reset(void) __attribute__((noreturn));

/*
 * Why this boot happened. The first call reads and then clears the reset
 * flags (RCC_CSR.RMVF) and the BKP2R marker; later calls return the same
 * answer. Needs .data/.bss (call it from main).
 */
enum sysboot_boot_cause sysboot_boot_cause(void);
const char *sysboot_boot_cause_str(enum sysboot_boot_cause cause);

#endif /* SYSBOOT_H */
