/*
 * request.c - the application's side of entering the ROM bootloader.
 *
 * The application only leaves a note in the backup registers and resets:
 * the jump itself happens in sysboot_early_check() right after the reset,
 * where nothing the application configured can get in the ROM's way
 * (AN2606, "bootloader activation" general rules for jumping from user code).
 */
#include "sysboot.h"
#include "backup.h"

void sysboot_system_reset(void)
{
	uint32_t aircr = MMIO32(SCB_BASE + SCB_AIRCR) & SCB_AIRCR_PRIGROUP;

	__DSB();
	MMIO32(SCB_BASE + SCB_AIRCR) = SCB_AIRCR_VECTKEY | aircr |
				       SCB_AIRCR_SYSRESETREQ;
	__DSB();
	for (;;)
		;
}

void sysboot_request_rom_reason(uint32_t reason)
{
	uint32_t word = SYSBOOT_REQ_WORD(reason);

	backup_unlock();
	BKP(SYSBOOT_BKP_REQUEST) = word;
	BKP(SYSBOOT_BKP_CHECK) = SYSBOOT_REQ_CHECK(word);
	sysboot_system_reset();
}

void sysboot_request_rom(void)
{
	sysboot_request_rom_reason(SYSBOOT_REASON_APP);
}
