/*
 * diagnose.h - sysboot-sim diagnose: run a user's firmware on the emulated
 * board, make it try to enter the ROM bootloader, and say in plain words
 * what went right and what went wrong, and where in their code.
 *
 * Most attempts to enter the STM32L476 ROM bootloader from an application
 * fail in one of a few ways (docs/diagnose.md). The emulator already
 * models every part involved; this module only watches (sim_observe) and
 * compares what it sees at the moment the CPU reaches the ROM, and after,
 * with what AN2606 asks for. diagnose.c runs the board, diag_checks.c
 * turns what was seen into checks, diag_report.c prints them, diag_cli.c
 * is the command line.
 */
#ifndef SIM_DIAGNOSE_H
#define SIM_DIAGNOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim.h"

#define DIAG_MAX_FILES   16
#define DIAG_MAX_CHECKS  16
#define DIAG_MAX_PLACES  4

/* Exit status of `sysboot-sim diagnose`. */
#define DIAG_EXIT_OK       0     /* the entry into the ROM bootloader works */
#define DIAG_EXIT_PROBLEM  1     /* a problem was diagnosed */
#define DIAG_EXIT_USAGE    2
#define DIAG_EXIT_SETUP    4     /* a file could not be loaded, the board not made */

enum diag_trigger {
	DIAG_TRIGGER_RESET,          /* nothing: the firmware enters by itself */
	DIAG_TRIGGER_UART,           /* send a text on USART2 */
	DIAG_TRIGGER_BUTTON,         /* hold B1 */
	DIAG_TRIGGER_CALL,           /* call a function, as a debugger would */
};

/* The interface the user wants the ROM bootloader for. */
enum diag_interface {
	DIAG_IF_BOTH,                /* USART and USB DFU, whichever the host uses */
	DIAG_IF_USART,
	DIAG_IF_USB,
};

struct diag_options {
	struct sim_config cfg;       /* the board (USART2 becomes a memory link) */
	const char *files[DIAG_MAX_FILES];
	uint32_t addrs[DIAG_MAX_FILES];  /* load address of a binary file, 0 for ELF */
	unsigned nfiles;
	enum diag_trigger trigger;
	char uart_text[128];         /* DIAG_TRIGGER_UART: escapes already decoded */
	size_t uart_len;
	char call_symbol[128];       /* DIAG_TRIGGER_CALL */
	double button_ms;            /* DIAG_TRIGGER_BUTTON: how long B1 is held */
	double at_ms;                /* when to trigger (since power-on); < 0: once the firmware idles */
	double timeout_ms;           /* how long to wait for the ROM after the trigger */
	enum diag_interface iface;
};

void diag_options_default(struct diag_options *o);

enum diag_status {
	DIAG_PASSED,
	DIAG_FAILED,
	DIAG_WARNING,                /* works for some interfaces, or only just */
	DIAG_NOT_CHECKED,            /* could not be checked (the ROM was never reached...) */
};

/* A place in the firmware a finding points to. */
struct diag_place {
	char role[64];               /* "the branch into the ROM", "the lost write" */
	struct sim_location loc;     /* addr, symbol+offset, file:line (owned by the board) */
};

struct diag_check {
	const char *id;              /* stable name: "branch", "remap" ... */
	const char *title;
	enum diag_status status;
	char summary[640];           /* what was seen and why it matters, in plain words */
	char fix[400];               /* what to change ("" when passed) */
	struct diag_place places[DIAG_MAX_PLACES];
	unsigned nplaces;
};

struct diag_report {
	struct sim_board *sb;        /* kept: the places point into its debug information */
	const struct diag_options *opts;
	struct diag_check checks[DIAG_MAX_CHECKS];
	unsigned nchecks;
	unsigned rom_entries;        /* times the CPU reached the ROM's entry point */
	double trigger_ms;           /* when the trigger was applied (-1: never) */
	double end_ms;               /* simulated time at the end */
	char serial[2048];           /* what the firmware printed on USART2 */
	size_t serial_len;
};

/*
 * Run the diagnosis. Returns 0 with the report filled (free it with
 * diag_report_free), or the exit status for why it could not run, with a
 * message in err: DIAG_EXIT_SETUP (a file missing or unreadable, no
 * firmware) or DIAG_EXIT_USAGE (call: names a symbol no file has).
 */
int diagnose_run(const struct diag_options *o, struct diag_report *r, char *err, size_t errlen);
void diag_report_free(struct diag_report *r);

/* A check by id, NULL when the report has none. */
const struct diag_check *diag_find(const struct diag_report *r, const char *id);
/* True when no check failed: the entry works. */
bool diag_report_ok(const struct diag_report *r);
const char *diag_status_str(enum diag_status s);

void diag_print_text(FILE *f, const struct diag_report *r);
void diag_print_json(FILE *f, const struct diag_report *r);

/* `sysboot-sim diagnose ...` (argv[0] is "diagnose"); returns the exit status. */
int diagnose_main(int argc, char **argv);

#endif /* SIM_DIAGNOSE_H */
