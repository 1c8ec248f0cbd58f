/*
 * diag_cli.c - `sysboot-sim diagnose`: the command line of the diagnosis
 * (see diagnose.h): options, the trigger syntax, output and exit status.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "boardopts.h"
#include "diagnose.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sysboot-sim diagnose FIRMWARE[@ADDRESS] ... [options]\n"
		"\n"
		"Runs the firmware on the emulated Nucleo-L476RG, makes it try to enter the ROM\n"
		"bootloader and says, in plain words, what went right and what went wrong, with\n"
		"the place in the firmware (file:line when the ELF has debug information).\n"
		"ELF files load at their load addresses, others at @ADDRESS.\n"
		"\n"
		"Trigger (once the firmware idles: started, and 20 ms without serial output):\n"
		"  --trigger reset              none: the firmware enters the ROM by itself (default)\n"
		"  --trigger uart:TEXT          send TEXT on USART2 (escapes \\r \\n \\t \\\\ \\xHH)\n"
		"  --trigger button[:MS]        hold B1 for MS milliseconds (default 3000)\n"
		"  --trigger call:SYMBOL[@MS]   make the CPU call SYMBOL, as a debugger would\n"
		"  --at MS                      apply the trigger MS ms after power-on instead\n"
		"  --timeout MS                 wait this long for the ROM after it (default 1000)\n"
		"  --interface usart|usb|both   what the ROM bootloader is wanted for (default both)\n"
		"Board:\n"
		BOARD_OPTIONS_USAGE
		"Output:\n"
		"  --json                       the report as one JSON object on stdout\n"
		"  --trace FILE|-               the emulator's event trace (- for stderr)\n"
		"\n"
		"Exit status: 0 the entry works, 1 a problem was diagnosed, 2 usage, 4 setup error.\n"
		"docs/diagnose.md describes every check, its symptom on a board and its fix.\n");
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* TEXT with C escapes into buf; -1 for a bad escape or text too long. */
static int unescape(const char *s, char *buf, size_t cap, size_t *len, char *err, size_t errlen)
{
	size_t n = 0;

	while (*s) {
		char c = *s++;

		if (c == '\\') {
			switch (*s) {
			case 'r':
				c = '\r';
				break;
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case '\\':
				c = '\\';
				break;
			case 'x':
				if (hexval(s[1]) < 0 || hexval(s[2]) < 0) {
					snprintf(err, errlen, "bad escape in the uart text: \\x needs two hex digits");
					return -1;
				}
				c = (char)(hexval(s[1]) * 16 + hexval(s[2]));
				s += 2;
				break;
			default:
				snprintf(err, errlen, "bad escape '\\%c' in the uart text (use \\r \\n \\t \\\\ \\xHH)",
					 *s ? *s : ' ');
				return -1;
			}
			s++;
		}
		if (n == cap) {
			snprintf(err, errlen, "the uart text is longer than %zu bytes", cap);
			return -1;
		}
		buf[n++] = c;
	}
	*len = n;
	return 0;
}

static int milliseconds(const char *s, double *v, const char *what, char *err, size_t errlen)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (!*s || *end || errno || *v < 0) {
		snprintf(err, errlen, "bad %s '%s': a number of milliseconds", what, s);
		return -1;
	}
	return 0;
}

static int parse_trigger(struct diag_options *o, const char *arg, char *err, size_t errlen)
{
	if (strcmp(arg, "reset") == 0) {
		o->trigger = DIAG_TRIGGER_RESET;
		return 0;
	}
	if (strncmp(arg, "uart:", 5) == 0) {
		o->trigger = DIAG_TRIGGER_UART;
		if (unescape(arg + 5, o->uart_text, sizeof(o->uart_text), &o->uart_len, err, errlen) < 0)
			return -1;
		if (!o->uart_len) {
			snprintf(err, errlen, "--trigger uart: needs the text to send, e.g. uart:bootloader\\r\\n");
			return -1;
		}
		return 0;
	}
	if (strcmp(arg, "button") == 0 || strncmp(arg, "button:", 7) == 0) {
		o->trigger = DIAG_TRIGGER_BUTTON;
		if (arg[6] == ':' && milliseconds(arg + 7, &o->button_ms, "button hold time", err, errlen) < 0)
			return -1;
		return 0;
	}
	if (strncmp(arg, "call:", 5) == 0) {
		const char *at = strchr(arg + 5, '@');
		size_t n = at ? (size_t)(at - (arg + 5)) : strlen(arg + 5);

		o->trigger = DIAG_TRIGGER_CALL;
		if (!n || n >= sizeof(o->call_symbol)) {
			snprintf(err, errlen, "--trigger call: needs a function name, e.g. call:enter_bootloader");
			return -1;
		}
		memcpy(o->call_symbol, arg + 5, n);
		o->call_symbol[n] = '\0';
		if (at && milliseconds(at + 1, &o->at_ms, "call time", err, errlen) < 0)
			return -1;
		return 0;
	}
	snprintf(err, errlen, "bad --trigger '%s': use reset, uart:TEXT, button[:MS] or call:SYMBOL[@MS]", arg);
	return -1;
}

static int parse(int argc, char **argv, struct diag_options *o, bool *json, const char **trace,
		 char *err, size_t errlen)
{
	enum { OPT_TRIGGER = 256, OPT_AT, OPT_TIMEOUT, OPT_INTERFACE, OPT_JSON, OPT_TRACE };
	static const struct option longopts[] = {
		BOARD_LONGOPTS,
		{ "trigger", required_argument, NULL, OPT_TRIGGER },
		{ "at", required_argument, NULL, OPT_AT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "interface", required_argument, NULL, OPT_INTERFACE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "trace", required_argument, NULL, OPT_TRACE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (board_option_p(c)) {
			if (board_option(&o->cfg, c, optarg, err, errlen) < 0)
				return -1;
			continue;
		}
		switch (c) {
		case OPT_TRIGGER:
			if (parse_trigger(o, optarg, err, errlen) < 0)
				return -1;
			break;
		case OPT_AT:
			if (milliseconds(optarg, &o->at_ms, "--at", err, errlen) < 0)
				return -1;
			break;
		case OPT_TIMEOUT:
			if (milliseconds(optarg, &o->timeout_ms, "--timeout", err, errlen) < 0)
				return -1;
			break;
		case OPT_INTERFACE:
			if (strcmp(optarg, "usart") == 0) {
				o->iface = DIAG_IF_USART;
			} else if (strcmp(optarg, "usb") == 0) {
				o->iface = DIAG_IF_USB;
			} else if (strcmp(optarg, "both") == 0) {
				o->iface = DIAG_IF_BOTH;
			} else {
				snprintf(err, errlen, "bad --interface '%s': use usart, usb or both", optarg);
				return -1;
			}
			break;
		case OPT_JSON:
			*json = true;
			break;
		case OPT_TRACE:
			*trace = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			snprintf(err, errlen, "unknown option '%s' (sysboot-sim diagnose --help lists them)",
				 argv[optind - 1]);
			return -1;
		}
	}
	if (board_firmware_args(argv + optind, argc - optind, DIAG_MAX_FILES, o->files, o->addrs,
				&o->nfiles, err, errlen) < 0)
		return -1;
	if (!o->nfiles) {
		snprintf(err, errlen, "no firmware given (sysboot-sim diagnose FIRMWARE.elf ...)");
		return -1;
	}
	return 0;
}

int diagnose_main(int argc, char **argv)
{
	struct diag_options o;
	struct diag_report r;
	const char *trace = NULL;
	bool json = false;
	char err[512];
	FILE *tf = NULL;
	int status;

	diag_options_default(&o);
	if (parse(argc, argv, &o, &json, &trace, err, sizeof(err)) < 0) {
		fprintf(stderr, "sysboot-sim diagnose: %s\n", err);
		return DIAG_EXIT_USAGE;
	}
	if (trace) {
		tf = board_trace_open(trace, err, sizeof(err));
		if (!tf) {
			fprintf(stderr, "sysboot-sim diagnose: %s\n", err);
			return DIAG_EXIT_SETUP;
		}
		o.cfg.trace_out = tf;
	}
	status = diagnose_run(&o, &r, err, sizeof(err));
	if (status) {
		fprintf(stderr, "sysboot-sim diagnose: %s\n", err);
		goto out;
	}
	if (json)
		diag_print_json(stdout, &r);
	else
		diag_print_text(stdout, &r);
	status = diag_report_ok(&r) ? DIAG_EXIT_OK : DIAG_EXIT_PROBLEM;
	diag_report_free(&r);
out:
	if (tf && tf != stderr)
		fclose(tf);
	return status;
}
