/*
 * main.c - sysboot, the command a technician or a CI job runs to update an
 * STM32L476 board through its ROM bootloader.
 *
 * A table of commands, each an entry point taking its own arguments; the
 * exit codes are the same for all of them (cmd_rom.h) so scripts can tell a
 * bad file from a board that does not answer.
 */
#include <stdio.h>
#include <string.h>

#include "cmd_rom.h"

#define SYSBOOT_TOOL_VERSION "0.1.0"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "update", cmd_update, "ask the application for the bootloader, write an image, verify, start it" },
	{ "info", cmd_info, "chip, bootloader version, option bytes and protection state" },
	{ "read", cmd_read, "read memory to a file" },
	{ "write", cmd_write, "write a file to flash (erasing the pages it needs)" },
	{ "erase", cmd_erase, "erase pages, a bank or the whole flash" },
	{ "go", cmd_go, "start code at an address (default: the boot stub)" },
	{ "protect", cmd_protect, "write-protect the boot stub, or set readout protection" },
	{ "unprotect", cmd_unprotect, "remove write or readout protection" },
	{ "image", cmd_image, "build an application image with its header, or check one" },
};

static void help(FILE *f)
{
	size_t i;

	fprintf(f, "usage: sysboot COMMAND [options]    (sysboot COMMAND --help for its options)\n\n"
		   "Field updates of STM32L476 boards through the ROM bootloader (AN3155 over a\n"
		   "serial port, a pseudo-terminal or tcp:HOST:PORT).\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nexit codes:\n"
		   "  0 success                 1 failure             2 usage\n"
		   "  3 bad input file          4 port unusable       5 no answer / timeout\n"
		   "  6 refused (NACK)          7 wrong chip          8 verification failed\n"
		   "  130 interrupted (Ctrl-C): the board starts the ROM bootloader at its next reset\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		help(argc < 2 ? stderr : stdout);
		return argc < 2 ? ROM_EXIT_USAGE : ROM_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("sysboot %s\n", SYSBOOT_TOOL_VERSION);
		return ROM_EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "sysboot: error: unknown command '%s' (sysboot --help lists them)\n", argv[1]);
	return ROM_EXIT_USAGE;
}
