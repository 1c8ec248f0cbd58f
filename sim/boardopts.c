/*
 * boardopts.c - the board options and firmware arguments (see boardopts.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boardopts.h"
#include "sysboot/stm32l476.h"

static int number(const char *arg, uint32_t *v, const char *opt, char *err, size_t errlen)
{
	char *end;
	unsigned long n;

	n = strtoul(arg, &end, 0);
	if (!*arg || *end || n > UINT32_MAX) {
		snprintf(err, errlen, "bad number '%s' for --%s", arg, opt);
		return -1;
	}
	*v = (uint32_t)n;
	return 0;
}

int board_option(struct sim_config *cfg, int opt, const char *arg, char *err, size_t errlen)
{
	uint32_t v;

	switch (opt) {
	case BOARD_OPT_FLASH:
		cfg->flash_path = arg;
		return 0;
	case BOARD_OPT_BOOT0:
		cfg->boot0 = true;
		return 0;
	case BOARD_OPT_NO_LSE:
		cfg->lse = false;
		return 0;
	case BOARD_OPT_HSE:
		if (number(arg, &v, "hse", err, errlen) < 0)
			return -1;
		if (v > 48000000u || (v && v < 4000000u)) {
			snprintf(err, errlen, "--hse %s: the STM32L476's HSE runs from 4 to 48 MHz (0 for none)", arg);
			return -1;
		}
		cfg->hse_hz = v;
		return 0;
	case BOARD_OPT_BLID:
		if (number(arg, &v, "bootloader-id", err, errlen) < 0)
			return -1;
		if (v > 0xFF) {
			snprintf(err, errlen, "--bootloader-id %s: the ID is one byte (0xA3 or 0x92)", arg);
			return -1;
		}
		cfg->bootloader_id = (uint8_t)v;
		return 0;
	case BOARD_OPT_VBAT:
		cfg->vbat = true;
		return 0;
	case BOARD_OPT_ROM_IWDG:
		if (strcmp(arg, "once") == 0)
			cfg->rom_iwdg = SIM_ROM_IWDG_ONCE;
		else if (strcmp(arg, "always") == 0)
			cfg->rom_iwdg = SIM_ROM_IWDG_ALWAYS;
		else if (strcmp(arg, "ready") == 0)
			cfg->rom_iwdg = SIM_ROM_IWDG_READY;
		else {
			snprintf(err, errlen, "bad --rom-iwdg '%s': use once, always or ready", arg);
			return -1;
		}
		return 0;
	case BOARD_OPT_OPTR:
		if (number(arg, &v, "optr", err, errlen) < 0)
			return -1;
		if ((v & FLASH_OPTR_RDP) == FLASH_RDP_LEVEL2) {
			snprintf(err, errlen, "--optr %s: RDP 0xCC is level 2, which disables the ROM "
				 "bootloader for good; not set from the command line", arg);
			return -1;
		}
		cfg->optr = v;
		return 0;
	case BOARD_OPT_TORN:
		if (strcmp(arg, "none") == 0)
			cfg->torn_program = SIM_TORN_NONE;
		else if (strcmp(arg, "bits") == 0)
			cfg->torn_program = SIM_TORN_BITS;
		else if (strcmp(arg, "ecc") == 0)
			cfg->torn_program = SIM_TORN_ECC;
		else {
			snprintf(err, errlen, "bad --torn-program '%s': use none, bits or ecc", arg);
			return -1;
		}
		return 0;
	case BOARD_OPT_ROM_USB_PRIORITY:
		if (number(arg, &v, "rom-usb-priority", err, errlen) < 0)
			return -1;
		if (v > 15) {
			snprintf(err, errlen, "--rom-usb-priority %s: the STM32L476 has 16 priority levels, 0 to 15", arg);
			return -1;
		}
		/* Four implemented bits, the top of the byte (RM0351 11.3). */
		cfg->rom_usb_irq_priority = (uint8_t)(v << 4);
		return 0;
	}
	snprintf(err, errlen, "not a board option");
	return -1;
}

int board_dfu_work(const char *arg, enum sim_dfu_work *work, char *err, size_t errlen)
{
	if (strcmp(arg, "after-status") == 0) {
		*work = SIM_DFU_WORK_AFTER_STATUS;
	} else if (strcmp(arg, "in-status") == 0) {
		*work = SIM_DFU_WORK_IN_STATUS;
	} else {
		snprintf(err, errlen, "bad --dfu-work '%s': use after-status or in-status", arg);
		return -1;
	}
	return 0;
}

int board_firmware_arg(char *arg, uint32_t *addr, char *err, size_t errlen)
{
	char *at = strrchr(arg, '@'), *end;

	*addr = 0;
	if (!at)
		return 0;
	*at = '\0';
	*addr = (uint32_t)strtoul(at + 1, &end, 0);
	if (*end || !at[1]) {
		snprintf(err, errlen, "bad load address in '%s@%s'", arg, at + 1);
		return -1;
	}
	return 0;
}

int board_firmware_args(char **args, int n, unsigned max, const char **files, uint32_t *addrs,
			unsigned *count, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < n; i++) {
		if (*count == max) {
			snprintf(err, errlen, "too many firmware files (at most %u)", max);
			return -1;
		}
		if (board_firmware_arg(args[i], &addrs[*count], err, errlen) < 0)
			return -1;
		files[(*count)++] = args[i];
	}
	return 0;
}

FILE *board_trace_open(const char *path, char *err, size_t errlen)
{
	FILE *f = strcmp(path, "-") == 0 ? stderr : fopen(path, "w");

	if (!f)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return f;
}
