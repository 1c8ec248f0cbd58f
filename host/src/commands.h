/*
 * commands.h - the table of sysboot commands and the dispatcher that runs
 * one.
 *
 * A command is registered here only once it works: a name that exists is a
 * promise to the people and scripts that call it. To add one, write
 * `int cmd_NAME(int argc, char **argv)` (argv[0] is the command name; it
 * returns an exit code from exitcodes.h), declare it, and add a line to the
 * table in commands.c.
 */
#ifndef SYSBOOT_COMMANDS_H
#define SYSBOOT_COMMANDS_H

#include <stddef.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;   /* one line for `sysboot --help` */
	/*
	 * Full usage printed by `sysboot NAME --help`, or NULL when the
	 * command answers --help itself.
	 */
	const char *help;
};

/*
 * sysboot [--json] COMMAND [options], --help, --version: the whole
 * command line; returns the process exit code. A --json before the command
 * is passed on to it, so `sysboot --json image show x` and
 * `sysboot image show x --json` are the same.
 */
int sysboot_dispatch(int argc, char **argv);

#define SYSBOOT_TOOL_VERSION "0.1.0"

extern const char cmd_image_help[];

#endif /* SYSBOOT_COMMANDS_H */
