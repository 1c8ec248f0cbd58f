/*
 * entry_common.h - the body of the entry_ok and entry_nosyscfg test
 * firmwares, which differ only in the library they link: the normal one,
 * or the one built with SYSBOOT_TEST_SKIP_SYSCFG_CLOCK that cannot remap
 * system memory, so the emulated ROM's dual-bank routine (AN2606) bounces
 * back into this firmware.
 *
 * Both start with sysboot_early_check() in the reset handler (startup.c
 * built with STARTUP_EARLY_CHECK). The first boot calls
 * sysboot_request_rom(). A later boot (only reached through the bounce-back
 * or a ROM Go) records and ends at test_done. The boot count lives in
 * .noinit RAM, which a jump through the ROM does not clear.
 *
 * test_result slots (written on every boot; read at test_done):
 *   0  boot count of this power cycle (1 on the first boot; 2 after a bounce)
 *   1  sysboot_boot_cause() (enum sysboot_boot_cause; 3 = ROM return)
 *   2  0x57A27ED0 "started" marker
 *   3  RCC_CSR at main() (0 after the ROM: the flags were cleared)
 *   4  RTC_BKP0R at main() (0: the request was consumed)
 *   5  RTC_BKP2R at main() before sysboot_boot_cause() cleared it
 *      (SYSBOOT_ROM_MARKER | SYSBOOT_ROM_WHY_REQUEST = 0x5B0AE001)
 *   6  SYSCFG_MEMRMP at main() (0 when the remap never happened)
 *   7  RTC_BKP3R at main(): reason of the consumed request (0)
 */
#ifndef ENTRY_COMMON_H
#define ENTRY_COMMON_H

#include "test.h"
#include "sysboot.h"

#define BOOT_MAGIC 0xB007C0DEu
#define STARTED    0x57A27ED0u

struct boot_record {
	uint32_t magic;
	uint32_t count;
};

static struct boot_record boots __attribute__((section(".noinit")));

int main(void)
{
	if (boots.magic != BOOT_MAGIC) {
		boots.magic = BOOT_MAGIC;
		boots.count = 0;
	}
	boots.count++;

	test_result[0] = boots.count;
	test_result[2] = STARTED;
	test_result[3] = MMIO32(RCC_BASE + RCC_CSR);
	test_result[4] = MMIO32(RTC_BASE + RTC_BKPR(SYSBOOT_BKP_REQUEST));
	test_result[5] = MMIO32(RTC_BASE + RTC_BKPR(SYSBOOT_BKP_ENTERED));
	test_result[6] = MMIO32(SYSCFG_BASE + SYSCFG_MEMRMP);
	test_result[7] = MMIO32(RTC_BASE + RTC_BKPR(SYSBOOT_BKP_REASON));
	test_result[1] = sysboot_boot_cause();

	if (boots.count == 1u)
		sysboot_request_rom();
	test_done();
}

#endif /* ENTRY_COMMON_H */
