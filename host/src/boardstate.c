/*
 * boardstate.c - what the ROM tells about the board (see boardstate.h).
 */
#include "boardstate.h"

#include <stdio.h>

#include "bootloader.h"
#include "sysboot/image.h"
#include "sysboot/romentry.h"
#include "sysboot/stm32l476.h"
#include "sysboot/byteorder.h"

#define RDP1_DETAIL \
	"its ROM bootloader answers only Get, Get Version and Get ID, and refuses to " \
	"read, write or erase the flash or start code (AN3155). Removing the protection " \
	"mass-erases the whole flash, the boot stub included, and leaves a board without " \
	"firmware, which without BOOT0 or a debugger cannot start the ROM bootloader " \
	"again: sysboot unprotect --readout --yes-erase-everything does it"

const char board_rdp1_detail[] = RDP1_DETAIL;
const char board_rdp1_text[] = "the chip is readout-protected (RDP level 1): " RDP1_DETAIL;

bool board_rom_entry(struct session *s, uint32_t *why)
{
	uint8_t raw[SYSBOOT_ROM_RECORD_SIZE];
	uint32_t word, check;

	if (!s->ops || s->ops->read(s, SYSBOOT_ROM_RECORD_ADDR, raw, sizeof(raw)) != OP_OK)
		return false;
	word = get_le32(raw);
	check = get_le32(raw + 4);
	if ((word & SYSBOOT_ROM_MARKER_MASK) != SYSBOOT_ROM_MARKER || check != ~word)
		return false;
	*why = word & SYSBOOT_ROM_WHY_MASK;
	return true;
}

void board_rom_entry_str(uint32_t why, char *buf, size_t n)
{
	switch (why) {
	case SYSBOOT_ROM_WHY_REQUEST:
		snprintf(buf, n, "the application asked for it (sysboot_request_rom, then a reset)");
		return;
	case SYSBOOT_ROM_WHY_BUTTON:
		snprintf(buf, n, "the boot stub found B1 held at reset");
		return;
	case SYSBOOT_ROM_WHY_NMI:
		snprintf(buf, n, "the boot stub took an NMI that was not a flash ECC error");
		return;
	}
	if (SYSBOOT_ROM_WHY_IS_IMAGE(why))
		snprintf(buf, n, "the boot stub refused the application image: %s",
			 sysboot_image_status_str((enum sysboot_image_status)(why & 0xFu)));
	else
		snprintf(buf, n, "an unknown reason 0x%02x", (unsigned)why);
}

bool board_readout_protected(struct session *s)
{
	uint8_t id;

	return s->ops && s->ops->read(s, STM32_FLASH_BASE, &id, 1) == OP_ERR_NACK;
}
