/*
 * cmd_rom.h - the sysboot commands that talk to the ROM bootloader.
 *
 * Each is an entry point for the tool's command dispatcher: it gets its own
 * arguments (argv[0] is the command name) and returns the process exit code.
 * The helpers below keep the options, the progress display, the JSON
 * output and the exit codes the same across update, info, read, write,
 * erase, go, protect and unprotect.
 */
#ifndef SYSBOOT_CMD_ROM_H
#define SYSBOOT_CMD_ROM_H

#include <stdbool.h>
#include <stdio.h>

#include "exitcodes.h"
#include "output.h"
#include "update.h"

int cmd_update(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_read(int argc, char **argv);
int cmd_write(int argc, char **argv);
int cmd_erase(int argc, char **argv);
int cmd_go(int argc, char **argv);
int cmd_protect(int argc, char **argv);
int cmd_unprotect(int argc, char **argv);
int cmd_image(int argc, char **argv);


/* The exit code (exitcodes.h) for an operation status. */
int rom_exit_code(enum op_status st);

/* Options every ROM command takes. */
struct rom_common {
	struct connect_opts co;
	bool json;
	bool quiet;
	struct output out;          /* set by rom_progress_init() */
	struct progress progress;
};

/* Options shared by every ROM command (getopt codes). */
enum {
	OPT_PORT = 'p',
	OPT_BAUD = 'b',
	OPT_ENTER = 0x100,
	OPT_NO_ENTER,
	OPT_JSON,
	OPT_QUIET,
	OPT_ALLOW_STUB,
	OPT_ADDRESS,
	OPT_OUTPUT = 'o',
	OPT_PAGES = 0x110,      /* after OPT_OUTPUT = 'o': must not collide with 'p' */
	OPT_MASS,
	OPT_BANK,
	OPT_STUB,
	OPT_READOUT,
	OPT_WRITE,
	OPT_YES_ERASE,
	OPT_VERIFY,
	OPT_BANNER,
	OPT_BANNER_TIMEOUT,
	OPT_ENTER_PORT,
	OPT_ENTER_EXEC,
	OPT_DFU_WAIT,
	OPT_HELP = 'h',
};

#define COMMON_LONG_OPTIONS \
	{ "port", required_argument, NULL, OPT_PORT }, \
	{ "baud", required_argument, NULL, OPT_BAUD }, \
	{ "enter-cmd", required_argument, NULL, OPT_ENTER }, \
	{ "no-enter", no_argument, NULL, OPT_NO_ENTER }, \
	{ "enter-port", required_argument, NULL, OPT_ENTER_PORT }, \
	{ "enter-exec", required_argument, NULL, OPT_ENTER_EXEC }, \
	{ "dfu-wait", required_argument, NULL, OPT_DFU_WAIT }, \
	{ "json", no_argument, NULL, OPT_JSON }, \
	{ "quiet", no_argument, NULL, OPT_QUIET }, \
	{ "help", no_argument, NULL, OPT_HELP }

#define ROM_CONNECT_USAGE \
	"--port PORT [--baud B] [--enter-cmd STRING | --no-enter] " \
	"[--enter-port PORT] [--enter-exec CMD] [--dfu-wait MS] [--json]"

/*
 * An option the command's own cases did not take: true when it was a
 * common one, else false with the exit code in *code (a bad value, the
 * usage for an option the command does not know, or --help answered with
 * the usage `use` on stdout).
 */
bool rom_common_opt(struct rom_common *rc, const char *cmd, int c, const char *arg,
		    const char *use, int *code);

/* "usage: sysboot CMD USE" on stderr; returns ROM_EXIT_USAGE. */
int rom_usage(const char *cmd, const char *use);

/*
 * Parse the options of a command that has only the common ones: true to
 * go on, else false with the exit code in *code (a usage error, or --help
 * answered).
 */
bool rom_common_only(int argc, char **argv, struct rom_common *rc, const char *use,
		     int *code);

/*
 * A port is given and --no-enter is not mixed with an enter command; else
 * a usage message and ROM_EXIT_USAGE. (What depends on the kind of port
 * is checked by session_open.)
 */
int rom_check_connect(const struct rom_common *rc, const char *cmd);

/*
 * Parse a number (decimal, 0x hex, with an optional K/M suffix for sizes)
 * into *v; false when it is not one.
 */
bool rom_parse_u32(const char *s, unsigned long *v);

/* Print an error (plain, or a JSON object with --json); returns the code. */
int rom_fail(const struct rom_common *rc, const char *cmd, enum op_status st,
	     const char *msg);


/* Turn \\r \\n \\t \\\\ \\xHH in an --enter-cmd string into bytes, in place. */
void rom_unescape(char *s);

/*
 * Progress display for the long phases (output.h's reporter: a bar on a
 * terminal, lines else, one object at the end with --json). Keeps its
 * state in rc.
 */
void rom_progress_init(struct progress_ops *po, struct rom_common *rc);

#endif /* SYSBOOT_CMD_ROM_H */
