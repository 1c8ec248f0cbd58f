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
