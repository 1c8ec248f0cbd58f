/*
 * main.c - sysboot-sim, the emulated Nucleo-L476RG as a command.
 *
 * Runs firmware files on the emulated board with its serial port on a
 * pseudo-terminal (or TCP), so that the sysboot host tool, stm32flash or a
 * terminal can talk to it as to a real board. Events can be scheduled from
 * the command line or sent on a line-based control channel (stdin or a
 * Unix socket) while the board runs; the trace says what happened in plain
 * words, and a fault ends the run with its explanation and exit status 3.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "boardopts.h"
#include "diagnose.h"
#include "sim.h"
#include "sysboot/dfuse.h"

#define EXIT_USAGE 2
#define PRELOAD_LIB   "libumockdev-preload.so.0"
#define PRELOAD_GUARD "SYSBOOT_SIM_UNDER_UMOCKDEV"
#define EXIT_FAULT 3
#define EXIT_SETUP 4
#define SLICE      SIM_MS(5)

static volatile sig_atomic_t quit_signal;

static void on_signal(int sig)
{
	quit_signal = sig;
}

struct options {
	struct sim_config cfg;
	const char *trace_path;
	const char *control;
	const char *uart_text;
	const char *load[16];
	uint32_t load_addr[16];
	unsigned nload;
	bool erase;
	bool until_rom;
	bool quiet;
	double run_for_ms;
	uint64_t cut_insn;
	double cut_us;
	bool cut_on_set;
	struct sim_cut_trigger cut_on;
	double button_at_ms, button_for_ms;
	uint32_t line_drop, line_corrupt, line_seed;
	uint32_t line_delay, line_stall;
	double line_delay_us, line_stall_ms;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sysboot-sim [options] [FIRMWARE[@ADDRESS] ...]\n"
		"       sysboot-sim diagnose FIRMWARE ... [--trigger ...]   (see --help there)\n"
		"\n"
		"Runs firmware on an emulated Nucleo-L476RG (STM32L476RG). ELF files load at\n"
		"their load addresses; binary files need @ADDRESS (e.g. app.img@0x08002000).\n"
		"\n"
		"Board:\n"
		BOARD_OPTIONS_USAGE
		"  --erase               erase the whole flash before loading\n"
		"Serial ports (USART1, USART2 = ST-LINK virtual COM port, USART3):\n"
		"  --usart2 pty[:LINK] | tcp:PORT | none   (default: pty)\n"
		"  --usart1 ..., --usart3 ...\n"
		"  --fast                do not keep to real time (default with a pty/tcp/USB: real time)\n"
		"  --instant-host        the ROM's waits for the host take no simulated time, so a\n"
		"                        session lasts exactly its wire and flash time (implies --fast)\n"
		"USB connector (the ROM's DFU device, 0483:df11, while it is up):\n"
		"  --usb umockdev[:ENVFILE]  serve it to libusb programs through a umockdev testbed;\n"
		"                        the client environment is printed and written to ENVFILE\n"
		"  --usb none            nothing on the connector (default)\n"
		"  --usb-serial TEXT     the ROM's serial string (default: derived from the unique ID)\n"
		"  --dfu-alt N=TEXT      DfuSe memory layout string of alternate setting N (0..3)\n"
		"  --dfu-tail lost|pad|error  DFU writes >256 bytes, not a multiple of 8 (default lost)\n"
		"  --dfu-work after-status|in-status  a DFU download's flash work runs after the\n"
		"                        GETSTATUS answering dfuDNBUSY (default) or inside it\n"
		"Events and stopping:\n"
		"  --run-for MS          stop after MS milliseconds of simulated time\n"
		"  --until-uart TEXT     stop when USART2 has sent TEXT\n"
		"  --until-rom           stop when the ROM bootloader is entered\n"
		"  --power-cut-at-insn N cut power after N instructions\n"
		"  --power-cut-at-us T   cut power at T microseconds of simulated time\n"
		"  --power-cut-on POINT[@ADDR[-END]][#N][+US]\n"
		"                        cut power US microseconds after the Nth time the board\n"
		"                        reaches POINT (rom-entry, erase, program, block, go)\n"
		"                        at an address in ADDR..END\n"
		"  --button-at MS[:DUR]  press B1 at MS milliseconds for DUR ms (default: held)\n"
		"  --line-drop PPM       the ROM's serial line drops bytes (per million, both ways)\n"
		"  --line-corrupt PPM    ... or flips a bit in them; --line-seed N repeats a run\n"
		"  --line-delay PPM[:US] ... or holds a byte back US microseconds (default 2000)\n"
		"  --line-stall PPM[:MS] ... or stalls MS milliseconds (default 1500, past a\n"
		"                        host's timeout)\n"
		"  --control stdin|unix:PATH   accept commands while running (see docs/sim.md)\n"
		"Output:\n"
		"  --trace FILE|-        write the event trace to FILE (- for stderr)\n"
		"  --quiet               no summary\n"
		"\n"
		"Exit status: 0 stopped as asked, 2 usage, 3 the firmware faulted, 4 setup error.\n");
}

static int parse_link(const char *arg, struct sim_link_config *lc)
{
	memset(lc, 0, sizeof(*lc));
	if (strcmp(arg, "none") == 0) {
		lc->kind = SIM_LINK_NONE;
	} else if (strcmp(arg, "pty") == 0) {
		lc->kind = SIM_LINK_PTY;
	} else if (strncmp(arg, "pty:", 4) == 0) {
		lc->kind = SIM_LINK_PTY;
		lc->path = arg + 4;
	} else if (strncmp(arg, "tcp:", 4) == 0) {
		char *end;
		unsigned long port = strtoul(arg + 4, &end, 10);

		if (*end || port > 65535)
			return -1;
		lc->kind = SIM_LINK_TCP;
		lc->port = (uint16_t)port;
	} else {
		return -1;
	}
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	enum {
		OPT_ERASE = 256,
		OPT_U1, OPT_U2, OPT_U3, OPT_FAST, OPT_RUN_FOR, OPT_UNTIL_UART, OPT_UNTIL_ROM,
		OPT_CUT_INSN, OPT_CUT_US, OPT_BUTTON, OPT_CONTROL, OPT_TRACE, OPT_QUIET,
		OPT_LINE_DROP, OPT_LINE_CORRUPT, OPT_LINE_SEED, OPT_INSTANT_HOST,
		OPT_USB, OPT_USB_SERIAL, OPT_DFU_ALT, OPT_DFU_TAIL, OPT_DFU_WORK,
		OPT_LINE_DELAY, OPT_LINE_STALL, OPT_CUT_ON,
	};
	static const struct option longopts[] = {
		BOARD_LONGOPTS,
		{ "erase", no_argument, NULL, OPT_ERASE },
		{ "usart1", required_argument, NULL, OPT_U1 },
		{ "usart2", required_argument, NULL, OPT_U2 },
		{ "usart3", required_argument, NULL, OPT_U3 },
		{ "fast", no_argument, NULL, OPT_FAST },
		{ "instant-host", no_argument, NULL, OPT_INSTANT_HOST },
		{ "run-for", required_argument, NULL, OPT_RUN_FOR },
		{ "until-uart", required_argument, NULL, OPT_UNTIL_UART },
		{ "until-rom", no_argument, NULL, OPT_UNTIL_ROM },
		{ "power-cut-at-insn", required_argument, NULL, OPT_CUT_INSN },
		{ "power-cut-at-us", required_argument, NULL, OPT_CUT_US },
		{ "button-at", required_argument, NULL, OPT_BUTTON },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "trace", required_argument, NULL, OPT_TRACE },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "line-drop", required_argument, NULL, OPT_LINE_DROP },
		{ "line-corrupt", required_argument, NULL, OPT_LINE_CORRUPT },
		{ "line-seed", required_argument, NULL, OPT_LINE_SEED },
		{ "line-delay", required_argument, NULL, OPT_LINE_DELAY },
		{ "line-stall", required_argument, NULL, OPT_LINE_STALL },
		{ "power-cut-on", required_argument, NULL, OPT_CUT_ON },
		{ "usb", required_argument, NULL, OPT_USB },
		{ "usb-serial", required_argument, NULL, OPT_USB_SERIAL },
		{ "dfu-alt", required_argument, NULL, OPT_DFU_ALT },
		{ "dfu-tail", required_argument, NULL, OPT_DFU_TAIL },
		{ "dfu-work", required_argument, NULL, OPT_DFU_WORK },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool fast = false;
	char err[256];
	int c, i;

	sim_config_default(&o->cfg);
	o->cfg.usart[1].kind = SIM_LINK_PTY;
	o->button_at_ms = -1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		char *end = NULL;

		if (board_option_p(c)) {
			if (board_option(&o->cfg, c, optarg, err, sizeof(err)) < 0) {
				fprintf(stderr, "sysboot-sim: %s\n", err);
				return -1;
			}
			continue;
		}
		switch (c) {
		case OPT_ERASE:
			o->erase = true;
			break;
		case OPT_U1:
		case OPT_U2:
		case OPT_U3:
			if (parse_link(optarg, &o->cfg.usart[c - OPT_U1]) < 0) {
				fprintf(stderr, "sysboot-sim: bad serial port '%s': use pty, pty:LINK, tcp:PORT or none\n",
					optarg);
				return -1;
			}
			break;
		case OPT_FAST:
			fast = true;
			break;
		case OPT_INSTANT_HOST:
			o->cfg.instant_host = true;
			fast = true;
			break;
		case OPT_RUN_FOR:
			o->run_for_ms = strtod(optarg, &end);
			break;
		case OPT_UNTIL_UART:
			o->uart_text = optarg;
			break;
		case OPT_UNTIL_ROM:
			o->until_rom = true;
			break;
		case OPT_CUT_INSN:
			o->cut_insn = strtoull(optarg, &end, 0);
			break;
		case OPT_CUT_US:
			o->cut_us = strtod(optarg, &end);
			break;
		case OPT_BUTTON:
			o->button_at_ms = strtod(optarg, &end);
			o->button_for_ms = -1;
			if (*end == ':')
				o->button_for_ms = strtod(end + 1, &end);
			break;
		case OPT_CONTROL:
			o->control = optarg;
			break;
		case OPT_TRACE:
			o->trace_path = optarg;
			break;
		case OPT_QUIET:
			o->quiet = true;
			break;
		case OPT_LINE_DROP:
			o->line_drop = (uint32_t)strtoul(optarg, &end, 0);
			break;
		case OPT_LINE_CORRUPT:
			o->line_corrupt = (uint32_t)strtoul(optarg, &end, 0);
			break;
		case OPT_LINE_SEED:
			o->line_seed = (uint32_t)strtoul(optarg, &end, 0);
			break;
		case OPT_LINE_DELAY:
		case OPT_LINE_STALL: {
			uint32_t ppm = (uint32_t)strtoul(optarg, &end, 0);
			double t = c == OPT_LINE_DELAY ? 2000 : 1500;

			if (*end == ':')
				t = strtod(end + 1, &end);
			if (c == OPT_LINE_DELAY) {
				o->line_delay = ppm;
				o->line_delay_us = t;
			} else {
				o->line_stall = ppm;
				o->line_stall_ms = t;
			}
			break;
		}
		case OPT_CUT_ON:
			if (sim_cut_trigger_parse(optarg, &o->cut_on, err, sizeof(err)) < 0) {
				fprintf(stderr, "sysboot-sim: %s\n", err);
				return -1;
			}
			o->cut_on_set = true;
			break;
		case OPT_USB:
			if (strcmp(optarg, "none") == 0) {
				o->cfg.usb.kind = SIM_USB_NONE;
			} else if (strcmp(optarg, "umockdev") == 0 || strncmp(optarg, "umockdev:", 9) == 0) {
				o->cfg.usb.kind = SIM_USB_UMOCKDEV;
				o->cfg.usb.env_path = optarg[8] == ':' && optarg[9] ? optarg + 9 : NULL;
			} else {
				fprintf(stderr, "sysboot-sim: bad --usb '%s': use umockdev, umockdev:ENVFILE or none\n",
					optarg);
				return -1;
			}
			break;
		case OPT_USB_SERIAL:
			o->cfg.usb_serial = optarg;
			break;
		case OPT_DFU_ALT: {
			unsigned long n = strtoul(optarg, &end, 10);
			struct dfuse_layout layout;
			char why[200];

			if (end == optarg || *end != '=' || n >= SIM_DFU_ALTS) {
				fprintf(stderr, "sysboot-sim: bad --dfu-alt '%s': use N=TEXT with N from 0 to %d\n",
					optarg, SIM_DFU_ALTS - 1);
				return -1;
			}
			o->cfg.dfu_alt_names[n] = end + 1;
			/* Served as given (a host may be tested with any string), but a typo is worth a word. */
			if (dfuse_parse_layout(end + 1, &layout, why, sizeof(why)) < 0)
				fprintf(stderr, "sysboot-sim: warning: --dfu-alt %lu: %s; served as given\n", n, why);
			end = NULL;
			break;
		}
		case OPT_DFU_TAIL:
			if (strcmp(optarg, "lost") == 0) {
				o->cfg.dfu_tail = SIM_DFU_TAIL_LOST;
			} else if (strcmp(optarg, "pad") == 0) {
				o->cfg.dfu_tail = SIM_DFU_TAIL_PAD;
			} else if (strcmp(optarg, "error") == 0) {
				o->cfg.dfu_tail = SIM_DFU_TAIL_ERROR;
			} else {
				fprintf(stderr, "sysboot-sim: bad --dfu-tail '%s': use lost, pad or error\n", optarg);
				return -1;
			}
			break;
		case OPT_DFU_WORK:
			if (board_dfu_work(optarg, &o->cfg.dfu_work, err, sizeof(err)) < 0) {
				fprintf(stderr, "sysboot-sim: %s\n", err);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
		if (end && *end) {
			fprintf(stderr, "sysboot-sim: bad number '%s'\n", optarg);
			return -1;
		}
	}
	if (board_firmware_args(argv + optind, argc - optind, sizeof(o->load) / sizeof(o->load[0]),
				o->load, o->load_addr, &o->nload, err, sizeof(err)) < 0) {
		fprintf(stderr, "sysboot-sim: %s\n", err);
		return -1;
	}
	o->cfg.realtime = !fast;
	for (i = 0; i < 3; i++)
		if (o->cfg.usart[i].kind == SIM_LINK_PTY || o->cfg.usart[i].kind == SIM_LINK_TCP)
			break;
	if (i == 3 && o->cfg.usb.kind != SIM_USB_UMOCKDEV)
		o->cfg.realtime = false;
	return 0;
}

/* ---- Control channel --------------------------------------------------------- */

struct control {
	int listen_fd;
	int fd;                      /* -1: none */
	char buf[512];
	size_t len;
};

static void reply(struct control *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void reply(struct control *c, const char *fmt, ...)
{
	char line[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (c->fd == STDIN_FILENO) {
		fwrite(line, 1, (size_t)n, stdout);
		fflush(stdout);
	} else if (c->fd >= 0) {
		ssize_t w = write(c->fd, line, (size_t)n);

		(void)w;
	}
}

static int control_open(struct control *c, const char *spec)
{
	c->listen_fd = -1;
	c->fd = -1;
	c->len = 0;
	if (!spec)
		return 0;
	if (strcmp(spec, "stdin") == 0) {
		c->fd = STDIN_FILENO;
		return 0;
	}
	if (strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		if (strlen(spec + 5) >= sizeof(sa.sun_path)) {
			fprintf(stderr, "sysboot-sim: control socket path too long\n");
			return -1;
		}
		strcpy(sa.sun_path, spec + 5);
		unlink(sa.sun_path);
		c->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (c->listen_fd < 0 || bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    listen(c->listen_fd, 1) < 0) {
			fprintf(stderr, "sysboot-sim: cannot listen on %s: %s\n", spec + 5, strerror(errno));
			return -1;
		}
		return 0;
	}
	fprintf(stderr, "sysboot-sim: bad --control '%s': use stdin or unix:PATH\n", spec);
	return -1;
}

static void print_status(struct control *c, struct sim_board *sb)
{
	reply(c, "ok time=%.6f insns=%llu pc=0x%08x mode=%s led=%d",
	      (double)sim_now(sb) / 1e12, (unsigned long long)sim_insns(sb), sim_pc(sb),
	      sim_in_rom(sb) ? "rom" : "cpu", sim_led(sb));
}

/* Returns 1 to quit. */
static int control_command(struct control *c, struct sim_board *sb, char *line, bool *running)
{
	char *cmd = strtok(line, " \t\r\n"), *arg = strtok(NULL, " \t\r\n");
	char err[256];

	if (!cmd)
		return 0;
	if (strcmp(cmd, "quit") == 0) {
		reply(c, "ok bye");
		return 1;
	} else if (strcmp(cmd, "status") == 0) {
		print_status(c, sb);
	} else if (strcmp(cmd, "load") == 0 && arg) {
		char *addr = strtok(NULL, " \t\r\n");

		if (sim_load_file(sb, arg, addr ? (uint32_t)strtoul(addr, NULL, 0) : 0, err, sizeof(err)) < 0)
			reply(c, "error %s", err);
		else
			reply(c, "ok loaded %s", arg);
	} else if (strcmp(cmd, "erase") == 0) {
		sim_erase_flash(sb);
		reply(c, "ok flash erased");
	} else if (strcmp(cmd, "power-on") == 0) {
		sim_power_on(sb);
		*running = true;
		reply(c, "ok power on");
	} else if (strcmp(cmd, "power-off") == 0 || strcmp(cmd, "power-cut") == 0) {
		sim_power_off(sb);
		*running = false;
		reply(c, "ok power off");
	} else if (strcmp(cmd, "reset") == 0) {
		sim_reset(sb, arg && strcmp(arg, "software") == 0 ? SIM_RESET_SOFTWARE : SIM_RESET_PIN);
		*running = true;
		reply(c, "ok reset");
	} else if (strcmp(cmd, "power-cut-at-insn") == 0 && arg) {
		sim_power_cut_at_insn(sb, strtoull(arg, NULL, 0));
		reply(c, "ok");
	} else if (strcmp(cmd, "power-cut-after-us") == 0 && arg) {
		sim_power_cut_at_time(sb, sim_now(sb) + (sim_time_t)(strtod(arg, NULL) * 1e6));
		reply(c, "ok");
	} else if (strcmp(cmd, "power-cut-on") == 0 && arg) {
		struct sim_cut_trigger t;

		if (sim_cut_trigger_parse(arg, &t, err, sizeof(err)) < 0) {
			reply(c, "error %s", err);
		} else {
			sim_power_cut_on(sb, &t);
			reply(c, "ok");
		}
	} else if (strcmp(cmd, "button") == 0 && arg) {
		sim_set_button(sb, strcmp(arg, "press") == 0);
		reply(c, "ok button %s", arg);
	} else if (strcmp(cmd, "boot0") == 0 && arg) {
		sim_set_boot0(sb, strcmp(arg, "1") == 0);
		reply(c, "ok boot0 %s", arg);
	} else if (strcmp(cmd, "read") == 0 && arg) {
		char *len_s = strtok(NULL, " \t\r\n");
		uint32_t addr = (uint32_t)strtoul(arg, NULL, 0);
		size_t len = len_s ? strtoul(len_s, NULL, 0) : 4, i;
		unsigned char data[256];
		char hex[2 * sizeof(data) + 1];

		if (len > sizeof(data) || sim_read_mem(sb, addr, data, len) < 0) {
			reply(c, "error cannot read %zu bytes at 0x%08x", len, addr);
		} else {
			for (i = 0; i < len; i++)
				sprintf(hex + 2 * i, "%02x", data[i]);
			hex[2 * len] = '\0';
			reply(c, "ok %s", hex);
		}
	} else {
		reply(c, "error unknown command '%s' (load, erase, power-on, power-off, reset, power-cut-at-insn, power-cut-after-us, power-cut-on, button, boot0, read, status, quit)",
		      cmd);
	}
	return 0;
}

static int control_poll(struct control *c, struct sim_board *sb, bool *running, int timeout_ms)
{
	struct pollfd pfd[2];
	int n = 0;

	if (c->listen_fd >= 0) {
		pfd[n].fd = c->listen_fd;
		pfd[n++].events = POLLIN;
	}
	if (c->fd >= 0) {
		pfd[n].fd = c->fd;
		pfd[n++].events = POLLIN;
	}
	if (!n) {
		if (timeout_ms > 0)
			usleep((useconds_t)timeout_ms * 1000u);
		return 0;
	}
	if (poll(pfd, (nfds_t)n, timeout_ms) <= 0)
		return 0;
	if (c->listen_fd >= 0 && (pfd[0].revents & POLLIN)) {
		int fd = accept(c->listen_fd, NULL, NULL);

		if (fd >= 0) {
			if (c->fd >= 0)
				close(c->fd);
			c->fd = fd;
			c->len = 0;
		}
		return 0;
	}
	if (c->fd >= 0 && (pfd[n - 1].revents & (POLLIN | POLLHUP))) {
		ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
		char *nl;

		if (r <= 0) {
			if (c->fd == STDIN_FILENO)
				return 1;   /* end of commands */
			close(c->fd);
			c->fd = -1;
			return 0;
		}
		c->len += (size_t)r;
		c->buf[c->len] = '\0';
		while ((nl = strchr(c->buf, '\n'))) {
			int q;

			*nl = '\0';
			q = control_command(c, sb, c->buf, running);
			memmove(c->buf, nl + 1, strlen(nl + 1) + 1);
			c->len = strlen(c->buf);
			if (q)
				return 1;
		}
		if (c->len == sizeof(c->buf) - 1)
			c->len = 0;   /* line too long: drop it */
	}
	return 0;
}

/* ---- Main ---------------------------------------------------------------------- */

static bool wants_umockdev(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--usb=umockdev", 14) == 0)
			return true;
		if (strcmp(argv[i], "--usb") == 0 && i + 1 < argc && strncmp(argv[i + 1], "umockdev", 8) == 0)
			return true;
	}
	return false;
}

static char *joined(const char *a, const char *sep, const char *b)
{
	size_t n = strlen(a) + strlen(sep) + strlen(b) + 1;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s%s%s", a, sep, b);
	return s;
}

/*
 * umockdev sends hotplug events (uevents) to libusb programs that are
 * already running only from a process that runs under its preload
 * library: run again under it, so that a waiting client sees the ROM's
 * device come and go. The preload stays passive until the testbed exists,
 * and then only sends this process's /sys and /dev look-ups to it.
 */
static void exec_under_preload(char **argv)
{
	const char *preload = getenv("LD_PRELOAD"), *asan = getenv("ASAN_OPTIONS");
	char *p = preload && *preload ? joined(PRELOAD_LIB, ":", preload) : joined(PRELOAD_LIB, "", "");
	/* An ASan build refuses a preloaded library ahead of its runtime unless told. */
	char *a = asan && *asan ? joined(asan, ":", "verify_asan_link_order=0") :
		  joined("verify_asan_link_order=0", "", "");

	if (p && a) {
		setenv(PRELOAD_GUARD, "1", 1);
		setenv("LD_PRELOAD", p, 1);
		setenv("ASAN_OPTIONS", a, 1);
		execv("/proc/self/exe", argv);
	}
	fprintf(stderr, "sysboot-sim: cannot run under %s (%s): libusb programs already running will not see the USB device come and go\n",
		PRELOAD_LIB, strerror(errno));
	free(p);
	free(a);
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct control ctl;
	struct sim_board *sb = NULL;
	FILE *trace = NULL;
	char err[512];
	enum sim_stop_reason reason = SIM_STOP_NONE;
	bool running = true, button_done = false;
	sim_time_t end_time;
	unsigned i;
	int status = 0;

	if (getenv(PRELOAD_GUARD))
		unsetenv(PRELOAD_GUARD);
	else if (wants_umockdev(argc, argv))
		exec_under_preload(argv);
	if (argc > 1 && strcmp(argv[1], "diagnose") == 0)
		return diagnose_main(argc - 1, argv + 1);
	if (parse_options(argc, argv, &o) < 0)
		return EXIT_USAGE;
	if (o.trace_path) {
		trace = board_trace_open(o.trace_path, err, sizeof(err));
		if (!trace) {
			fprintf(stderr, "sysboot-sim: %s\n", err);
			return EXIT_SETUP;
		}
		o.cfg.trace_out = trace;
	}
	if (control_open(&ctl, o.control) < 0)
		return EXIT_SETUP;
	sb = sim_board_new(&o.cfg, err, sizeof(err));
	if (!sb) {
		fprintf(stderr, "sysboot-sim: %s\n", err);
		status = EXIT_SETUP;
		goto out;
	}
	if (o.erase)
		sim_erase_flash(sb);
	for (i = 0; i < o.nload; i++) {
		if (sim_load_file(sb, o.load[i], o.load_addr[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "sysboot-sim: %s\n", err);
			status = EXIT_SETUP;
			goto out;
		}
	}
	for (i = 0; i < 3; i++) {
		const char *pty = sim_uart_pty(sb, i + 1);

		if (pty[0] && !o.quiet)
			fprintf(stderr, "sysboot-sim: USART%u is on %s%s%s%s\n", i + 1, pty,
				o.cfg.usart[i].path ? " (link " : "",
				o.cfg.usart[i].path ? o.cfg.usart[i].path : "",
				o.cfg.usart[i].path ? ")" : "");
	}

	if (sim_usb_env(sb)[0] && !o.quiet)
		fprintf(stderr, "sysboot-sim: USB: the ROM's DFU device is served through umockdev; clients need: %s%s%s%s\n",
			sim_usb_env(sb), o.cfg.usb.env_path ? " (written to " : "",
			o.cfg.usb.env_path ? o.cfg.usb.env_path : "", o.cfg.usb.env_path ? ")" : "");

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (o.cut_insn)
		sim_power_cut_at_insn(sb, o.cut_insn);
	if (o.cut_on_set)
		sim_power_cut_on(sb, &o.cut_on);
	if (o.line_drop || o.line_corrupt || o.line_delay || o.line_stall)
		sim_line_faults(sb, o.line_drop, o.line_corrupt, o.line_seed);
	if (o.line_delay || o.line_stall)
		sim_line_delays(sb, o.line_delay, (sim_time_t)(o.line_delay_us * 1e6),
				o.line_stall, (sim_time_t)(o.line_stall_ms * 1e9));
	sim_power_on(sb);
	if (o.cut_us > 0)
		sim_power_cut_at_time(sb, (sim_time_t)(o.cut_us * 1e6));
	end_time = o.run_for_ms > 0 ? (sim_time_t)(o.run_for_ms * 1e9) : 0;

	while (!quit_signal) {
		struct sim_run_limits lim = { 0 };
		sim_time_t slice_end = sim_now(sb) + SLICE;

		if (control_poll(&ctl, sb, &running, running ? 0 : 50))
			break;
		if (!running)
			continue;
		if (o.button_at_ms >= 0 && !button_done) {
			sim_time_t at = (sim_time_t)(o.button_at_ms * 1e9);

			if (sim_now(sb) >= at) {
				sim_set_button(sb, true);
				button_done = true;
			} else if (at < slice_end) {
				slice_end = at;
			}
		}
		if (button_done && o.button_for_ms >= 0 &&
		    sim_now(sb) >= (sim_time_t)((o.button_at_ms + o.button_for_ms) * 1e9)) {
			sim_set_button(sb, false);
			o.button_for_ms = -1;
		}
		if (end_time && end_time < slice_end)
			slice_end = end_time;
		lim.until_time = slice_end;
		lim.uart_text = o.uart_text;
		lim.stop_on_rom = o.until_rom;
		reason = sim_run(sb, &lim);
		if (reason == SIM_STOP_TIME && (!end_time || sim_now(sb) < end_time))
			continue;
		if (reason == SIM_STOP_ROM && !o.until_rom)
			continue;
		if (reason == SIM_STOP_POWER_OFF || reason == SIM_STOP_FAULT) {
			if (ctl.fd >= 0 || ctl.listen_fd >= 0) {
				reply(&ctl, "event %s%s%s", sim_stop_reason_str(reason),
				      reason == SIM_STOP_FAULT ? ": " : "",
				      reason == SIM_STOP_FAULT ? sim_fault_text(sb) : "");
				running = false;
				continue;
			}
		}
		break;
	}

	if (reason == SIM_STOP_FAULT) {
		struct sim_fault f;
		struct sim_location loc;

		fprintf(stderr, "sysboot-sim: fault at pc 0x%08x after %.6f s: %s\n", sim_pc(sb),
			(double)sim_now(sb) / 1e12, sim_fault_text(sb));
		sim_fault_info(sb, &f);
		if (sim_locate(sb, f.pc, &loc) && loc.symbol) {
			char line[300] = "";

			if (loc.file)
				snprintf(line, sizeof(line), " (%s:%u)", loc.file, loc.line);
			fprintf(stderr, "sysboot-sim: the instruction at 0x%08x is %s+0x%x%s\n",
				f.pc, loc.symbol, loc.offset, line);
		}
		status = EXIT_FAULT;
	} else if (!o.quiet) {
		fprintf(stderr, "sysboot-sim: %s after %.6f s simulated, %llu instructions\n",
			quit_signal ? "stopped by signal" : sim_stop_reason_str(reason),
			(double)sim_now(sb) / 1e12, (unsigned long long)sim_insns(sb));
	}
	if (!o.quiet && sim_trace_find(sb, 0, SIM_TRACE_ROM, "ROM bootloader entered")) {
		struct sim_rom_session rs;

		sim_rom_session(sb, &rs);
		fprintf(stderr, "sysboot-sim: last ROM bootloader session: %.6f s simulated "
			"(%llu bytes in, %llu out, erase %.6f s, program %.6f s, waiting for the host %.6f s)\n",
			(double)sim_rom_session_time(sb) / 1e12, (unsigned long long)rs.bytes_in,
			(unsigned long long)rs.bytes_out, (double)rs.erase_time / 1e12,
			(double)rs.program_time / 1e12, (double)rs.idle_time / 1e12);
		if (rs.usb_transfers)
			fprintf(stderr, "sysboot-sim: USB DFU: %llu control transfers, %.6f s on the bus, "
				"%.6f s waiting out poll timeouts\n",
				(unsigned long long)rs.usb_transfers, (double)rs.usb_bus_time / 1e12,
				(double)rs.usb_poll_wait / 1e12);
	}
	if (!o.quiet) {
		enum sim_cut_point p;

		fprintf(stderr, "sysboot-sim: cut points reached:");
		for (p = 0; p < SIM_CUT_POINT_COUNT; p++)
			fprintf(stderr, " %s %lu%s", sim_cut_point_name(p), sim_cut_point_count(sb, p),
				p + 1 < SIM_CUT_POINT_COUNT ? "," : "\n");
	}
	if (o.line_drop || o.line_corrupt || o.line_delay || o.line_stall) {
		uint64_t dropped, corrupted, delayed, stalled;

		sim_line_fault_counts(sb, &dropped, &corrupted);
		sim_line_delay_counts(sb, &delayed, &stalled);
		fprintf(stderr, "sysboot-sim: line faults injected: %llu bytes dropped, %llu corrupted, %llu delayed, %llu stalled\n",
			(unsigned long long)dropped, (unsigned long long)corrupted,
			(unsigned long long)delayed, (unsigned long long)stalled);
	}
out:
	sim_board_free(sb);
	if (trace && trace != stderr)
		fclose(trace);
	if (ctl.listen_fd >= 0 && o.control)
		unlink(o.control + 5);
	return status;
}
