/*
 * backup.h - access to the RTC backup registers for the library's files.
 *
 * The backup registers are the only memory that survives a system reset
 * while the application's RAM is about to be reinitialised, so the request,
 * the "entered the ROM" marker and the last reason live there. Writes are
 * ignored until the PWR clock is on and PWR_CR1.DBP is set (RM0351 5.1.6).
 */
#ifndef SYSBOOT_LIB_BACKUP_H
#define SYSBOOT_LIB_BACKUP_H

#include <stdint.h>

#include "stm32l476/mmio.h"

#define BKP(n)	MMIO32(RTC_BASE + RTC_BKPR(n))

static inline void backup_unlock(void)
{
	MMIO32(RCC_BASE + RCC_APB1ENR1) |= RCC_APB1ENR1_PWREN;
	/* RM0351 6.2.18: a read back makes sure the clock is on before use. */
	(void)MMIO32(RCC_BASE + RCC_APB1ENR1);
	MMIO32(PWR_BASE + PWR_CR1) |= PWR_CR1_DBP;
	(void)MMIO32(PWR_BASE + PWR_CR1);
}

#endif /* SYSBOOT_LIB_BACKUP_H */
