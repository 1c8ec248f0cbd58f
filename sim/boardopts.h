/*
 * boardopts.h - the command-line options that describe the emulated board,
 * shared by `sysboot-sim` and `sysboot-sim diagnose` so both take the same
 * words for the same board.
 */
#ifndef SIM_BOARDOPTS_H
#define SIM_BOARDOPTS_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include "sim.h"

enum {
	BOARD_OPT_FLASH = 1000,
	BOARD_OPT_BOOT0,
	BOARD_OPT_NO_LSE,
	BOARD_OPT_HSE,
	BOARD_OPT_BLID,
	BOARD_OPT_VBAT,
	BOARD_OPT_ROM_IWDG,
	BOARD_OPT_TORN,
	BOARD_OPT_OPTR,
	BOARD_OPT_ROM_USB_PRIORITY,
	BOARD_OPT_END,
};

/* The getopt_long entries, to put in a longopts table. */
#define BOARD_LONGOPTS \
	{ "flash", required_argument, NULL, BOARD_OPT_FLASH }, \
	{ "boot0", no_argument, NULL, BOARD_OPT_BOOT0 }, \
	{ "no-lse", no_argument, NULL, BOARD_OPT_NO_LSE }, \
	{ "hse", required_argument, NULL, BOARD_OPT_HSE }, \
	{ "bootloader-id", required_argument, NULL, BOARD_OPT_BLID }, \
	{ "vbat", no_argument, NULL, BOARD_OPT_VBAT }, \
	{ "rom-iwdg", required_argument, NULL, BOARD_OPT_ROM_IWDG }, \
	{ "torn-program", required_argument, NULL, BOARD_OPT_TORN }, \
	{ "optr", required_argument, NULL, BOARD_OPT_OPTR }, \
	{ "rom-usb-priority", required_argument, NULL, BOARD_OPT_ROM_USB_PRIORITY }

#define BOARD_OPTIONS_USAGE \
	"  --flash FILE          keep the flash in FILE between runs (created erased)\n" \
	"  --boot0               hold BOOT0 high (boot the ROM bootloader)\n" \
	"  --no-lse              no 32.768 kHz crystal (ROM start-up 2.56 s, no USB DFU)\n" \
	"  --hse HZ              HSE frequency, 0 for none (default 8000000)\n" \
	"  --bootloader-id ID    ROM bootloader ID byte: 0xA3 (V10, default) or 0x92 (V9)\n" \
	"  --vbat                keep the backup domain across power cuts\n" \
	"  --rom-iwdg WHEN       when the ROM takes over a running watchdog: once (default:\n" \
	"                        prescaler /256 and one reload at entry, refreshed once ready),\n" \
	"                        always (refreshed all through its start-up), ready (untouched\n" \
	"                        until its start-up is over); see docs/sim.md\n" \
	"  --torn-program MODE   what a power cut leaves of a double word being programmed:\n" \
	"                        none (unwritten, default), bits (partly programmed),\n" \
	"                        ecc (partly programmed, bad ECC: reading it raises an NMI)\n" \
	"  --optr VALUE          program the option bytes' OPTR before power-on (factory\n" \
	"                        0xFFEFF8AA; e.g. 0xFFEEF8AA: IWDG_SW = 0, hardware watchdog)\n" \
	"  --rom-usb-priority N  the NVIC priority level (0..15, default 6) the ROM gives its\n" \
	"                        USB interrupt: BASEPRI or a handler at that level or more\n" \
	"                        urgent at the jump stops USB DFU; see docs/sim.md\n"

static inline int board_option_p(int opt)
{
	return opt >= BOARD_OPT_FLASH && opt < BOARD_OPT_END;
}

/* Apply one board option to cfg; -1 with a message in err for a bad value. */
int board_option(struct sim_config *cfg, int opt, const char *arg, char *err, size_t errlen);

/*
 * The value of --dfu-work (sim_config.dfu_work): after-status or
 * in-status; -1 with a message in err for another word. sysboot-sim and
 * sysboot-bench both take it.
 */
int board_dfu_work(const char *arg, enum sim_dfu_work *work, char *err, size_t errlen);

/*
 * A firmware argument, FILE or FILE@ADDRESS: cuts arg at the '@' and sets
 * *addr (0 without one). -1 with a message in err for a bad address.
 */
int board_firmware_arg(char *arg, uint32_t *addr, char *err, size_t errlen);

/*
 * The firmware arguments args[0..n-1], each FILE[@ADDRESS], appended to
 * files[] and addrs[] (*count of them already, at most max); -1 with a
 * message in err for one too many or a bad address.
 */
int board_firmware_args(char **args, int n, unsigned max, const char **files, uint32_t *addrs,
			unsigned *count, char *err, size_t errlen);

/* --trace FILE|-: the file opened for writing, stderr for "-"; NULL and why. */
FILE *board_trace_open(const char *path, char *err, size_t errlen);

#endif /* SIM_BOARDOPTS_H */
