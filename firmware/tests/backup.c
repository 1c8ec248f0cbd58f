/*
 * backup.c - do the RTC backup registers survive a system reset, and are
 * writes without PWR_CR1.DBP lost (RM0351 5.1.6, 38.3.17)? The entry
 * library's request lives in these registers.
 *
 * First boot (BKP0R/BKP1R not yet 0xB00C0DE0/1): write BKP4R = 0x12345678
 * with DBP clear, then enable the PWR clock and DBP, keep what BKP4R read
 * back in BKP5R, write BKP0R = 0xB00C0DE0 and BKP1R = 1, clear the reset
 * flags and request a system reset. Second boot records and ends.
 *
 * test_result slots (second boot):
 *   0  RCC_CSR (SFTRSTF expected)
 *   1  BKP0R (expect 0xB00C0DE0)
 *   2  BKP1R (expect 1)
 *   3  BKP4R as read back on the first boot after the write without DBP
 *      (expect 0: the write was lost)
 *   4  BKP4R now (expect 0)
 *   5  PWR_CR1 on the first boot after setting DBP (DBP expected set)
 *   6  2: the boot number that wrote these slots
 */
#include "test.h"

#define BKP(n) MMIO32(RTC_BASE + RTC_BKPR(n))
#define FIRST_VALUE 0xB00C0DE0u

int main(void)
{
	if (BKP(0) == FIRST_VALUE && BKP(1) == 1u) {
		test_result[0] = MMIO32(RCC_BASE + RCC_CSR);
		test_result[1] = BKP(0);
		test_result[2] = BKP(1);
		test_result[3] = BKP(5);
		test_result[4] = BKP(4);
		test_result[5] = BKP(6);
		test_result[6] = 2;
		test_done();
	}

	BKP(4) = 0x12345678u;           /* DBP clear: must be lost */
	MMIO32(RCC_BASE + RCC_APB1ENR1) |= RCC_APB1ENR1_PWREN;
	(void)MMIO32(RCC_BASE + RCC_APB1ENR1);
	MMIO32(PWR_BASE + PWR_CR1) |= PWR_CR1_DBP;
	BKP(5) = BKP(4);
	BKP(6) = MMIO32(PWR_BASE + PWR_CR1);
	BKP(0) = FIRST_VALUE;
	BKP(1) = 1u;
	MMIO32(RCC_BASE + RCC_CSR) |= RCC_CSR_RMVF;
	__DSB();
	MMIO32(SCB_BASE + SCB_AIRCR) = SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ;
	__DSB();
	for (;;)
		;
}
