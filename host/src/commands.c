/*
 * commands.c - the command table and the dispatcher (commands.h).
 *
 * Kept out of main.c so the tests can run the whole command line in
 * process, and so adding a command is one line here.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_rom.h"
#include "commands.h"
#include "exitcodes.h"

static const struct command table[] = {
	{ "update", cmd_update, "ask the application for the bootloader, write an image, verify, start it", NULL },
	{ "info", cmd_info, "chip, bootloader version, option bytes and protection state", NULL },
	{ "read", cmd_read, "read memory to a file", NULL },
	{ "write", cmd_write, "write a file to flash (erasing the pages it needs)", NULL },
	{ "erase", cmd_erase, "erase pages, a bank or the whole flash", NULL },
	{ "go", cmd_go, "start code at an address (default: the boot stub)", NULL },
	{ "protect", cmd_protect, "write-protect the boot stub, or set readout protection", NULL },
	{ "unprotect", cmd_unprotect, "remove write or readout protection", NULL },
	{ "image", cmd_image, "build an application image with its header, or check one", cmd_image_help },
};

static void help(FILE *f)
{
	size_t i;

	fprintf(f, "usage: sysboot [--json] COMMAND [options]    (sysboot COMMAND --help for its options)\n"
		   "       sysboot --help | --version\n\n"
		   "Field updates of STM32L476 boards through the ROM bootloader: AN3155 over a\n"
		   "serial port, a pseudo-terminal or TCP, or USB DFU (DfuSe, AN3156).\n\ncommands:\n");
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		fprintf(f, "  %-10s %s\n", table[i].name, table[i].summary);
	fprintf(f, "\nports (--port):\n"
		   "  /dev/ttyACM0, a pty    the ROM's USART (AN3155); the application is asked on it\n"
		   "  tcp:HOST:PORT          the same over TCP (ser2net, sysboot-sim --usart2 tcp:PORT)\n"
		   "  usb                    the ROM's USB DFU device, the first 0483:df11\n"
		   "  usb:VID:PID[:SERIAL]   one DFU device among several (hex IDs)\n"
		   "  over USB, --enter-port PORT asks the application on its serial line,\n"
		   "  --enter-exec CMD runs your own command; without either the board is\n"
		   "  expected in DFU already; --dfu-wait MS bounds the wait (default 5000).\n"
		   "\n--json: one JSON object per result on stdout; errors also on stderr.\n"
		   "\nexit codes:\n"
		   "  0 success                 1 failure             2 usage\n"
		   "  3 bad input file          4 port unusable       5 no answer / timeout\n"
		   "  6 refused (NACK)          7 wrong chip          8 verification failed / image invalid\n"
		   "  130 interrupted (Ctrl-C): the board starts the ROM bootloader at its next reset\n");
}

static bool is_help(const char *s)
{
	return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0;
}

int sysboot_dispatch(int argc, char **argv)
{
	const struct command *cmd = NULL;
	bool json = false;
	char **args;
	int i, n, ret;
	size_t k;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (is_help(argv[i])) {
			help(stdout);
			return SB_EXIT_OK;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("sysboot %s\n", SYSBOOT_TOOL_VERSION);
			return SB_EXIT_OK;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else {
			fprintf(stderr, "sysboot: error: unknown option '%s' before the command (sysboot --help)\n",
				argv[i]);
			return SB_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		help(stderr);
		fprintf(stderr, "sysboot: error: no command given\n");
		return SB_EXIT_USAGE;
	}
	for (k = 0; k < sizeof(table) / sizeof(table[0]); k++)
		if (strcmp(argv[i], table[k].name) == 0)
			cmd = &table[k];
	if (!cmd) {
		fprintf(stderr, "sysboot: error: unknown command '%s' (sysboot --help lists them)\n",
			argv[i]);
		return SB_EXIT_USAGE;
	}
	if (cmd->help && i + 1 < argc && is_help(argv[i + 1])) {
		fputs(cmd->help, stdout);
		return SB_EXIT_OK;
	}
	n = argc - i;
	if (!json)
		return cmd->run(n, argv + i);
	/* Hand the global --json to the command as its own option. */
	args = calloc((size_t)n + 2, sizeof(*args));
	if (!args) {
		fprintf(stderr, "sysboot: error: out of memory\n");
		return SB_EXIT_FAILURE;
	}
	args[0] = argv[i];
	args[1] = (char *)"--json";
	memcpy(args + 2, argv + i + 1, (size_t)(n - 1) * sizeof(*args));
	ret = cmd->run(n + 1, args);
	free(args);
	return ret;
}
