/*
 * cause.c - tell the application why it is running.
 *
 * After an update the application wants to know it came back from the ROM
 * bootloader (for instance to report the new version); RCC_CSR alone cannot
 * say so because the ROM hands over with a jump, not a reset, so the
 * library combines the reset flags with the marker the jump left in BKP2R.
 */
#include "sysboot.h"
#include "backup.h"

static enum sysboot_boot_cause decode(uint32_t csr, uint32_t marker)
{
	/*
	 * RM0351 6.2.6: every internal reset also drives NRST, so PINRSTF
	 * accompanies the other flags and is only meaningful alone.
	 */
	if (csr & (RCC_CSR_IWDGRSTF | RCC_CSR_WWDGRSTF | RCC_CSR_LPWRRSTF))
		return SYSBOOT_CAUSE_WATCHDOG;
	if (csr & RCC_CSR_BORRSTF)
		return SYSBOOT_CAUSE_POWER_ON;
	if (csr & RCC_CSR_SFTRSTF)
		return SYSBOOT_CAUSE_SOFTWARE_RESET;
	if (csr & (RCC_CSR_FWRSTF | RCC_CSR_OBLRSTF))
		return SYSBOOT_CAUSE_OTHER;
	if (csr & RCC_CSR_PINRSTF)
		return SYSBOOT_CAUSE_PIN_RESET;
	/* No flag: the ROM jumped here (its flags were cleared before entry). */
	if ((marker & SYSBOOT_ROM_MARKER_MASK) == SYSBOOT_ROM_MARKER)
		return SYSBOOT_CAUSE_ROM_RETURN;
	return SYSBOOT_CAUSE_OTHER;
}

enum sysboot_boot_cause sysboot_boot_cause(void)
{
	static uint8_t cached;          /* cause + 1; 0 = not yet known */
	uint32_t marker;

	if (cached)
		return (enum sysboot_boot_cause)(cached - 1u);

	marker = BKP(SYSBOOT_BKP_ENTERED);
	cached = (uint8_t)(decode(MMIO32(RCC_BASE + RCC_CSR), marker) + 1u);
	MMIO32(RCC_BASE + RCC_CSR) |= RCC_CSR_RMVF;
	if (marker) {
		backup_unlock();
		BKP(SYSBOOT_BKP_ENTERED) = 0;
	}
	return (enum sysboot_boot_cause)(cached - 1u);
}

const char *sysboot_boot_cause_str(enum sysboot_boot_cause cause)
{
	switch (cause) {
	case SYSBOOT_CAUSE_POWER_ON:
		return "power-on";
	case SYSBOOT_CAUSE_PIN_RESET:
		return "reset pin";
	case SYSBOOT_CAUSE_SOFTWARE_RESET:
		return "software reset";
	case SYSBOOT_CAUSE_ROM_RETURN:
		return "returned from ROM bootloader";
	case SYSBOOT_CAUSE_WATCHDOG:
		return "watchdog";
	case SYSBOOT_CAUSE_OTHER:
		break;
	}
	return "other";
}
