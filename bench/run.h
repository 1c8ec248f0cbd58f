/*
 * run.h - one host program against a fresh emulated board, measured.
 *
 * The benchmark's measuring instrument: a board with the boot stub and
 * application v1 (or held in the ROM bootloader by BOOT0), its USART2 on a
 * pseudo-terminal and, for USB runs, its USB connector served through
 * umockdev; the emulator in this process with an instant host
 * (sim_config.instant_host), and a host program (sysboot, stm32flash,
 * dfu-util) as a child process on the pty or the USB testbed. The run's
 * simulated duration goes from the moment the host's first byte or USB
 * transfer reaches the ROM to the moment the last byte the board sent has
 * left it (for sysboot, the new application's banner; for stm32flash, its
 * last answer) or, for a tool that does not wait for the application
 * (dfu-util), the ROM's last USB answer: the wire or the bus, the flash,
 * the poll timeouts the ROM asked for and the board's own code, never the
 * host's or the machine's speed.
 */
#ifndef BENCH_RUN_H
#define BENCH_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim.h"

struct run_spec {
	const char *label;           /* for messages and the log file name */
	char *const *argv;           /* the host program and its arguments */
	const char *preload;         /* LD_PRELOAD for it, or NULL */
	const char *port;            /* where the board's pty appears (argv names it too) */
	const char *log;             /* the program's output goes here */
	const char *fw_dir;          /* stub.elf and app-v1.img */
	bool boot0;                  /* board held in the ROM bootloader through its reset */
	bool usb;                    /* the USB connector served through umockdev */
	bool ends_on_usb;            /* the run ends at the ROM's last USB answer */
	bool wall_idle;              /* the ROM's waits follow the wall clock instead */
	const uint8_t *image;        /* what the flash must hold at the end */
	size_t image_len;
	uint32_t image_addr;
	unsigned timeout_s;          /* wall-clock limit for the program */
	unsigned stall_ms;           /* the emulator waits this long after starting the program */
	enum sim_dfu_work dfu_work;  /* where the ROM does a DFU download's flash work */
};

struct run_result {
	double sim_s;                /* first byte (or transfer) in to the end, simulated */
	double wall_s;               /* the program's run, wall clock */
	struct sim_rom_session rs;   /* what the ROM session spent its time on */
	double wire_s;               /* (bytes in + bytes out) x frame time */
	double bus_s;                /* USB control transfers on the bus */
	double after_go_s;           /* the rest: the board's code after a Go or leave (stub, app banner) */
};

/* Run it; 0, or -1 with a message in err (the program's log is kept). */
int bench_run(const struct run_spec *spec, struct run_result *res, char *err, size_t errlen);

/*
 * The same program on a board that keeps to the wall clock, as a real
 * board does, stopped once the ROM has heard from it: how long after the
 * ROM was entered its first byte or transfer arrived, in *entry_s. The
 * update itself is not finished (the program is stopped).
 */
int bench_entry(const struct run_spec *spec, double *entry_s, char *err, size_t errlen);

/* Set by a SIGINT/SIGTERM handler: the run under way stops its program. */
extern volatile int bench_interrupted;

#endif /* BENCH_RUN_H */
