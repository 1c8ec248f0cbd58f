/*
 * bench.c - sysboot-bench: how long an update takes, against the reference
 * tools and against the physical limit, plus the emulator's speed and the
 * firmware's size. `make bench` runs it; this file takes the figures and
 * report.c prints the tables that docs/performance.md quotes.
 *
 * Every update figure is simulated time on the emulated board with its
 * timing model (bytes on the wire at the host's baud in 8E1, or USB control
 * transfers on a full-speed bus, and DS10198 flash times) and an instant
 * host (run.h), so it is what the real board on a real line would take,
 * identical from run to run whatever the machine's load. Wall-clock
 * figures (the emulator's own speed, how soon the host reaches the ROM on
 * a board keeping to real time) are medians of a few runs and depend on
 * the machine; nothing here asserts them.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "boardopts.h"
#include "sim.h"
#include "sysboot/image.h"

struct options opt;
static char workdir[256];

/* ---- Links ------------------------------------------------------------------ */

static void usart_argv(enum tool t, const struct options *o, const char *image, const char *port,
		       const char *back, size_t len, char **argv, const char **preload)
{
	static char addr[16];
	int n = 0;

	(void)back;
	(void)len;
	snprintf(addr, sizeof(addr), "0x%08x", SYSBOOT_HEADER_ADDR);
	*preload = NULL;
	if (t == T_SYSBOOT) {
		argv[n++] = (char *)o->sysboot;
		argv[n++] = "update";
		argv[n++] = (char *)image;
		argv[n++] = "--port";
		argv[n++] = (char *)port;
	} else {
		/* A pty cannot carry parity: the shim drops the request (docs/sim.md). */
		*preload = o->noparity;
		argv[n++] = (char *)o->stm32flash;
		argv[n++] = "-b";
		argv[n++] = "115200";
		argv[n++] = "-w";
		argv[n++] = (char *)image;
		if (t == T_REF_VERIFY)
			argv[n++] = "-v";
		argv[n++] = "-S";
		argv[n++] = addr;
		argv[n++] = (char *)port;
	}
	argv[n] = NULL;
}

static void usart_limit(uint32_t addr, uint32_t len, struct update_limit *l)
{
	struct sim_config cfg;

	sim_config_default(&cfg);     /* the emulator's timing model, not a copy of it */
	usart_update_limit(&cfg.timing, ROM_BAUD, addr, len, l);
}

/*
 * dfu-util as its users run it: the image at the address, leaving DFU for
 * it; verified, by writing without the leave, reading it back with the
 * leave (dfu-util 0.11 leaves after an upload too) and comparing.
 */
static const char dfu_util_verified[] =
	"rm -f \"$3\" && \"$1\" -a 0 -s \"$4\" -D \"$2\" && "
	"\"$1\" -a 0 -s \"$4:$5:leave\" -U \"$3\" && cmp \"$2\" \"$3\"";

static void usb_argv(enum tool t, const struct options *o, const char *image, const char *port,
		     const char *back, size_t len, char **argv, const char **preload)
{
	static char addr[16], leave[32], size[16];
	int n = 0;

	snprintf(addr, sizeof(addr), "0x%08x", SYSBOOT_HEADER_ADDR);
	snprintf(leave, sizeof(leave), "0x%08x:leave", SYSBOOT_HEADER_ADDR);
	snprintf(size, sizeof(size), "%zu", len);
	*preload = NULL;
	switch (t) {
	case T_SYSBOOT:
	case T_SYSBOOT_READBACK:
		argv[n++] = (char *)o->sysboot;
		argv[n++] = "update";
		argv[n++] = (char *)image;
		argv[n++] = "--port";
		argv[n++] = "usb";
		if (t == T_SYSBOOT) {
			/* The application's serial line asks it, and shows its banner. */
			argv[n++] = "--enter-port";
			argv[n++] = (char *)port;
		} else {
			/*
			 * No serial line: the board is in the ROM, verified by
			 * reading back, then watching the bus for the ROM's
			 * return, for 0.5 s of wall time instead of 2 (the stub's
			 * verdict takes milliseconds here, and it is not timed).
			 */
			argv[n++] = "--no-enter";
			argv[n++] = "--banner-timeout";
			argv[n++] = "500";
		}
		break;
	case T_REF:
		argv[n++] = (char *)o->dfu_util;
		argv[n++] = "-a";
		argv[n++] = "0";
		argv[n++] = "-s";
		argv[n++] = leave;
		argv[n++] = "-D";
		argv[n++] = (char *)image;
		break;
	case T_REF_VERIFY:
		argv[n++] = "/bin/sh";
		argv[n++] = "-c";
		argv[n++] = (char *)dfu_util_verified;
		argv[n++] = "sh";
		argv[n++] = (char *)o->dfu_util;
		argv[n++] = (char *)image;
		argv[n++] = (char *)back;
		argv[n++] = addr;
		argv[n++] = size;
		break;
	case T_COUNT:
		break;
	}
	argv[n] = NULL;
}

static void usb_limit(uint32_t addr, uint32_t len, struct update_limit *l)
{
	struct sim_config cfg;

	sim_config_default(&cfg);
	dfuse_update_limit(&cfg.timing, opt.dfu_work, addr, len, l);
}

const struct link_bench links[NLINKS] = {
	{
		.name = "USART 115200 8E1", .key = "usart",
		.tool = {
			[T_SYSBOOT] = { "sysboot update", false, false },
			[T_REF_VERIFY] = { "stm32flash -w -v", true, false },
			[T_REF] = { "stm32flash -w", true, false },
		},
		.argv = usart_argv,
		.limit = usart_limit,
	},
	{
		.name = "USB DFU (full speed)", .key = "usb", .usb = true,
		.tool = {
			[T_SYSBOOT] = { "sysboot update --enter-port", false, false },
			[T_REF_VERIFY] = { "dfu-util -D, -U, cmp", true, true },
			[T_REF] = { "dfu-util -D :leave", true, true },
			[T_SYSBOOT_READBACK] = { "sysboot update --no-enter", true, true },
		},
		.argv = usb_argv,
		.limit = usb_limit,
	},
};

char ref_version[NLINKS][64];
/* ---- Helpers ------------------------------------------------------------------ */

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc(n ? (size_t)n : 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

static int write_file(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ret = 0;

	if (!f)
		return -1;
	if (fwrite(buf, 1, len, f) != len)
		ret = -1;
	if (fclose(f) != 0)
		ret = -1;
	return ret;
}

/* Run a command to completion, its output to log; its exit status or -1. */
static int run_command(char *const *argv, const char *log)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		FILE *f = freopen(log, "w", stdout);

		if (!f || dup2(STDOUT_FILENO, STDERR_FILENO) < 0)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void print_log(const char *path)
{
	size_t len = 0;
	uint8_t *text = read_file(path, &len);

	if (text) {
		size_t from = len > 2000 ? len - 2000 : 0;

		fprintf(stderr, "--- %s (end) ---\n%.*s\n---\n", path, (int)(len - from),
			(const char *)text + from);
		free(text);
	}
}

/* ---- Images ------------------------------------------------------------------- */

/*
 * A valid application image of exactly kb KB: the reference application
 * v2's code, then pseudo-random bytes (no block is blank, so no tool can
 * skip one), stamped by `sysboot image build` so that the stub checks its
 * CRC and starts it for real.
 */
static int make_image(struct image *im, unsigned kb, const uint8_t *app, size_t app_len)
{
	size_t body_len = (size_t)kb * 1024u - SYSBOOT_HEADER_SLOT, i;
	uint32_t x = 0x2545F491u ^ kb;
	char body_path[320], log[320];
	uint8_t *body;
	char *argv[] = { (char *)opt.sysboot, "image", "build", body_path, "--address", "0x08002200",
			 "--version", "2.0.0", "-o", im->path, NULL };

	im->kb = kb;
	if ((size_t)kb * 1024u > STM32_FLASH_SIZE - SYSBOOT_STUB_SIZE || body_len < app_len) {
		fprintf(stderr, "sysboot-bench: %u KB does not fit between the application (%zu bytes) "
			"and the end of the flash (at most %u KB)\n", kb, app_len,
			(STM32_FLASH_SIZE - SYSBOOT_STUB_SIZE) / 1024u);
		return -1;
	}
	body = malloc(body_len);
	if (!body)
		return -1;
	memcpy(body, app, app_len);
	for (i = app_len; i < body_len; i++) {
		x ^= x << 13;    /* xorshift32: repeatable filler */
		x ^= x >> 17;
		x ^= x << 5;
		body[i] = (uint8_t)x;
	}
	snprintf(body_path, sizeof(body_path), "%s/body-%uk.bin", workdir, kb);
	snprintf(im->path, sizeof(im->path), "%s/app-%uk.img", workdir, kb);
	snprintf(log, sizeof(log), "%s/image-%uk.log", workdir, kb);
	if (write_file(body_path, body, body_len) < 0) {
		fprintf(stderr, "sysboot-bench: cannot write %s\n", body_path);
		free(body);
		return -1;
	}
	free(body);
	if (run_command(argv, log) != 0) {
		fprintf(stderr, "sysboot-bench: sysboot image build failed for %u KB\n", kb);
		print_log(log);
		return -1;
	}
	im->data = read_file(im->path, &im->len);
	if (!im->data || im->len != (size_t)kb * 1024u) {
		fprintf(stderr, "sysboot-bench: %s is not %u KB\n", im->path, kb);
		return -1;
	}
	return 0;
}

/* ---- Measuring -------------------------------------------------------------------- */

/* What every run of a program on an image shares. */
static void run_spec_of(const struct link_bench *lb, enum tool t, const struct image *im,
			const char *tag, const char *suffix, struct run_spec *spec, char *label,
			size_t label_len, char *log, size_t log_len, char **argv)
{
	static char port[300], back[320];
	unsigned l = (unsigned)(lb - links);

	snprintf(port, sizeof(port), "%s/nucleo", workdir);
	snprintf(back, sizeof(back), "%s/back-%u-%d-%uk.bin", workdir, l, (int)t, im->kb);
	snprintf(label, label_len, "%s, %u KB%s%s", lb->tool[t].name, im->kb, *tag ? ", " : "", tag);
	snprintf(log, log_len, "%s/run-%s-%d-%uk%s.log", workdir, lb->key, (int)t, im->kb, suffix);
	memset(spec, 0, sizeof(*spec));
	lb->argv(t, &opt, im->path, port, back, im->len, argv, &spec->preload);
	spec->label = label;
	spec->argv = argv;
	spec->port = port;
	spec->log = log;
	spec->fw_dir = opt.fw_dir;
	spec->boot0 = lb->tool[t].boot0;
	spec->usb = lb->usb;
	spec->ends_on_usb = lb->tool[t].ends_on_usb;
	spec->image = im->data;
	spec->image_len = im->len;
	spec->image_addr = SYSBOOT_HEADER_ADDR;
	spec->timeout_s = 1800;
	spec->stall_ms = opt.stall_ms;
	spec->dfu_work = opt.dfu_work;
}

/* The first line a reference tool printed: its name and version. */
static void note_version(unsigned l, const char *log)
{
	FILE *f;

	if (ref_version[l][0] || !(f = fopen(log, "r")))
		return;
	if (fgets(ref_version[l], sizeof(ref_version[l]), f))
		ref_version[l][strcspn(ref_version[l], "\r\n")] = '\0';
	fclose(f);
}

static int measure(const struct link_bench *lb, enum tool t, const struct image *im,
		   bool wall_idle, struct measure *m)
{
	char log[320], label[128], err[512];
	char *argv[16];
	double sims[MAX_RUNS], walls[MAX_RUNS];
	struct run_spec spec;
	unsigned r;

	run_spec_of(lb, t, im, wall_idle ? "idle on the wall clock" : "", wall_idle ? "-wall" : "",
		    &spec, label, sizeof(label), log, sizeof(log), argv);
	spec.wall_idle = wall_idle;
	fprintf(stderr, "sysboot-bench: %s ...", label);
	for (r = 0; r < opt.runs; r++) {
		if (bench_run(&spec, &m->last, err, sizeof(err)) < 0) {
			fprintf(stderr, "\nsysboot-bench: %s\n", err);
			print_log(log);
			return -1;
		}
		sims[r] = m->last.sim_s;
		walls[r] = m->last.wall_s;
		fprintf(stderr, " %.6f s", sims[r]);
	}
	fprintf(stderr, "\n");
	if (t == T_REF || t == T_REF_VERIFY)
		note_version((unsigned)(lb - links), log);
	m->sim_min = m->sim_max = sims[0];
	for (r = 1; r < opt.runs; r++) {
		if (sims[r] < m->sim_min)
			m->sim_min = sims[r];
		if (sims[r] > m->sim_max)
			m->sim_max = sims[r];
	}
	m->sim_varies = m->sim_max - m->sim_min > 1e-9;
	m->sim_s = median(sims, opt.runs);
	m->wall_s = median(walls, opt.runs);
	return 0;
}

/* How soon after the ROM was entered sysboot reached it, on a board keeping to real time. */
static int measure_entry(const struct link_bench *lb, const struct image *im, double *entry_s)
{
	char log[320], label[128], err[512];
	char *argv[16];
	double v[MAX_RUNS];
	struct run_spec spec;
	unsigned r;

	run_spec_of(lb, T_SYSBOOT, im, "entering, in real time", "-entry", &spec, label,
		    sizeof(label), log, sizeof(log), argv);
	fprintf(stderr, "sysboot-bench: %s ...", label);
	for (r = 0; r < opt.runs; r++) {
		if (bench_entry(&spec, &v[r], err, sizeof(err)) < 0) {
			fprintf(stderr, "\nsysboot-bench: %s\n", err);
			print_log(log);
			return -1;
		}
		fprintf(stderr, " %.3f s", v[r]);
	}
	fprintf(stderr, "\n");
	*entry_s = median(v, opt.runs);
	return 0;
}

/* ---- The emulator's speed ----------------------------------------------------------- */

/* The reference application behind the stub, opt.app_s simulated seconds. */
static int app_speed(struct app_speed *sp)
{
	double walls[MAX_RUNS];
	unsigned r;

	for (r = 0; r < opt.runs; r++) {
		struct sim_config cfg;
		struct sim_run_limits lim = { .until_time = SIM_S(opt.app_s) };
		struct sim_board *sb;
		char err[512], fw[2][512];
		enum sim_stop_reason why;
		double t0;

		sim_config_default(&cfg);     /* USART2 on a memory link: no pacing */
		sb = sim_board_new(&cfg, err, sizeof(err));
		if (!sb) {
			fprintf(stderr, "sysboot-bench: %s\n", err);
			return -1;
		}
		snprintf(fw[0], sizeof(fw[0]), "%s/stub.elf", opt.fw_dir);
		snprintf(fw[1], sizeof(fw[1]), "%s/app-v1.img", opt.fw_dir);
		if (sim_load_file(sb, fw[0], 0, err, sizeof(err)) < 0 ||
		    sim_load_file(sb, fw[1], SYSBOOT_HEADER_ADDR, err, sizeof(err)) < 0) {
			fprintf(stderr, "sysboot-bench: %s\n", err);
			sim_board_free(sb);
			return -1;
		}
		sim_power_on(sb);
		t0 = wall_now();
		why = sim_run(sb, &lim);
		walls[r] = wall_now() - t0;
		sp->insns = sim_insns(sb);
		sp->sim_s = (double)sim_now(sb) / 1e12;
		sim_board_free(sb);
		if (why != SIM_STOP_TIME) {
			fprintf(stderr, "sysboot-bench: the reference application stopped: %s\n",
				sim_stop_reason_str(why));
			return -1;
		}
	}
	sp->wall_s = median(walls, opt.runs);
	return 0;
}

/* ---- Firmware size -------------------------------------------------------------------- */

/* The last line of arm-none-eabi-size's output for path (the totals with -t). */
static int fw_size(const char *path, bool totals, struct fw_size *fs)
{
	char cmd[700], line[512], last[512] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "'%s' %s'%s' 2>&1", opt.size_tool, totals ? "-t " : "", path);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		snprintf(last, sizeof(last), "%s", line);
	if (pclose(p) != 0 || sscanf(last, "%lu %lu %lu", &fs->text, &fs->data, &fs->bss) != 3) {
		fprintf(stderr, "sysboot-bench: %s %s: %s", opt.size_tool, path, last);
		return -1;
	}
	return 0;
}

/* ---- Running the benchmark ------------------------------------------------------------ */

static void load_average(char *buf, size_t len)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double a = 0, b = 0, c = 0;

	if (f && fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3)
		snprintf(buf, len, "%.2f %.2f %.2f", a, b, c);
	else
		snprintf(buf, len, "unknown");
	if (f)
		fclose(f);
}

static void on_signal(int sig)
{
	(void)sig;
	bench_interrupted = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sysboot-bench --sysboot PATH --firmware DIR --noparity SO [options]\n"
		"\n"
		"Updates images of each size on the emulated board with sysboot and with the\n"
		"reference tools, prints their simulated times against the physical limit,\n"
		"the emulator's speed and the firmware's size (docs/performance.md).\n"
		"\n"
		"  --sysboot PATH      the sysboot host tool\n"
		"  --firmware DIR      stub.elf, app-v1.img and app-v2.img\n"
		"  --noparity SO       the LD_PRELOAD shim that lets stm32flash use a pty\n"
		"  --stm32flash PATH   (default: stm32flash)\n"
		"  --dfu-util PATH     (default: dfu-util)\n"
		"  --size-tool PATH    (default: arm-none-eabi-size)\n"
		"  --links LINK,...    usart, usb (default: both)\n"
		"  --sizes KB,KB,...   image sizes (default: 64,256,1016)\n"
		"  --runs N            runs of each measurement, 1..%d (default: 3)\n"
		"  --app-seconds S     simulated seconds of the reference application (default: %u)\n"
		"  --stall-ms MS       after starting each program, hold the emulator MS of wall\n"
		"                      time, as a loaded machine may (for tests; figures unchanged)\n"
		"  --dfu-work after-status|in-status  where the ROM model does a DFU download's\n"
		"                      flash work (sysboot-sim --dfu-work; default after-status)\n"
		"  --keep              keep the work folder (images, logs)\n",
		MAX_RUNS, APP_RUN_S);
}

static int parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sysboot", required_argument, NULL, 's' },
		{ "firmware", required_argument, NULL, 'f' },
		{ "noparity", required_argument, NULL, 'n' },
		{ "stm32flash", required_argument, NULL, 'm' },
		{ "dfu-util", required_argument, NULL, 'd' },
		{ "links", required_argument, NULL, 'l' },
		{ "stall-ms", required_argument, NULL, 'S' },
		{ "dfu-work", required_argument, NULL, 'w' },
		{ "size-tool", required_argument, NULL, 'z' },
		{ "sizes", required_argument, NULL, 'k' },
		{ "runs", required_argument, NULL, 'r' },
		{ "keep", no_argument, NULL, 'K' },
		{ "app-seconds", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end, *tok;
	int c;

	opt.stm32flash = "stm32flash";
	opt.dfu_util = "dfu-util";
	opt.link_on[0] = opt.link_on[1] = true;
	opt.size_tool = "arm-none-eabi-size";
	opt.runs = 3;
	opt.app_s = APP_RUN_S;
	opt.sizes_kb[0] = 64;
	opt.sizes_kb[1] = 256;
	opt.sizes_kb[2] = (STM32_FLASH_SIZE - SYSBOOT_STUB_SIZE) / 1024u;
	opt.nsizes = 3;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': opt.sysboot = optarg; break;
		case 'f': opt.fw_dir = optarg; break;
		case 'n': opt.noparity = optarg; break;
		case 'm': opt.stm32flash = optarg; break;
		case 'd': opt.dfu_util = optarg; break;
		case 'l':
			opt.link_on[0] = opt.link_on[1] = false;
			for (tok = strtok(optarg, ","); tok; tok = strtok(NULL, ",")) {
				unsigned l;

				for (l = 0; l < NLINKS && strcmp(tok, links[l].key) != 0; l++)
					;
				if (l == NLINKS) {
					fprintf(stderr, "sysboot-bench: bad --links '%s': usart, usb or both\n", tok);
					return -1;
				}
				opt.link_on[l] = true;
			}
			break;
		case 'S':
			opt.stall_ms = (unsigned)strtoul(optarg, &end, 10);
			if (*end || opt.stall_ms > 10000) {
				fprintf(stderr, "sysboot-bench: --stall-ms takes 0 to 10000\n");
				return -1;
			}
			break;
		case 'w': {
			char err[128];

			if (board_dfu_work(optarg, &opt.dfu_work, err, sizeof(err)) < 0) {
				fprintf(stderr, "sysboot-bench: %s\n", err);
				return -1;
			}
			break;
		}
		case 'z': opt.size_tool = optarg; break;
		case 'K': opt.keep = true; break;
		case 'r':
			opt.runs = (unsigned)strtoul(optarg, &end, 10);
			if (*end || opt.runs < 1 || opt.runs > MAX_RUNS) {
				fprintf(stderr, "sysboot-bench: --runs takes 1 to %d\n", MAX_RUNS);
				return -1;
			}
			break;
		case 'a':
			opt.app_s = (unsigned)strtoul(optarg, &end, 10);
			if (*end || opt.app_s < 1 || opt.app_s > 3600) {
				fprintf(stderr, "sysboot-bench: --app-seconds takes 1 to 3600\n");
				return -1;
			}
			break;
		case 'k':
			opt.nsizes = 0;
			for (tok = strtok(optarg, ","); tok; tok = strtok(NULL, ",")) {
				unsigned long kb = strtoul(tok, &end, 10);

				if (*end || !kb || kb > 1024 || opt.nsizes == MAX_SIZES) {
					fprintf(stderr, "sysboot-bench: bad --sizes '%s': up to %d sizes in KB\n",
						tok, MAX_SIZES);
					return -1;
				}
				opt.sizes_kb[opt.nsizes++] = (unsigned)kb;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (!opt.sysboot || !opt.fw_dir || !opt.noparity || optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static void remove_workdir(void)
{
	char cmd[300];

	if (!workdir[0] || opt.keep)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", workdir);
	if (system(cmd) != 0)
		fprintf(stderr, "sysboot-bench: could not remove %s\n", workdir);
}

bool measured(unsigned l, enum tool t)
{
	return opt.link_on[l] && links[l].tool[t].name;
}

static int collect(struct results *res)
{
	char path[600];
	uint8_t *app_img;
	size_t app_len;
	unsigned l, s, t;
	int ret = -1;

	/* The reference application v2 is the code at the start of every image. */
	snprintf(path, sizeof(path), "%s/app-v2.img", opt.fw_dir);
	app_img = read_file(path, &app_len);
	if (!app_img || app_len <= SYSBOOT_HEADER_SLOT) {
		fprintf(stderr, "sysboot-bench: cannot read %s (make firmware first)\n", path);
		goto out;
	}
	for (s = 0; s < opt.nsizes; s++) {
		if (make_image(&res->images[s], opt.sizes_kb[s], app_img + SYSBOOT_HEADER_SLOT,
			       app_len - SYSBOOT_HEADER_SLOT) < 0)
			goto out;
		if (opt.sizes_kb[s] > opt.sizes_kb[res->biggest])
			res->biggest = s;
	}
	for (l = 0; l < NLINKS; l++)
		for (s = 0; s < opt.nsizes && opt.link_on[l]; s++) {
			links[l].limit(SYSBOOT_HEADER_ADDR, (uint32_t)res->images[s].len, &res->lim[l][s]);
			for (t = 0; t < T_COUNT; t++)
				if (measured(l, t) &&
				    measure(&links[l], t, &res->images[s], false, &res->m[l][s][t]) < 0)
					goto out;
		}
	/* What the instant host leaves out: the same update, idle on the wall clock. */
	if (opt.link_on[0] && measure(&links[0], T_SYSBOOT, &res->images[0], true, &res->wall_idle) < 0)
		goto out;
	for (l = 0; l < NLINKS; l++)
		if (opt.link_on[l] && measure_entry(&links[l], &res->images[0], &res->entry_s[l]) < 0)
			goto out;
	if (app_speed(&res->sp) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/lib/libsysboot.a", opt.fw_dir);
	if (fw_size(path, true, &res->lib) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/stub.elf", opt.fw_dir);
	if (fw_size(path, false, &res->stub) < 0)
		goto out;
	ret = 0;
out:
	free(app_img);
	return ret;
}

int main(int argc, char **argv)
{
	static struct results res;
	const char *tmp = getenv("TMPDIR");
	time_t now = time(NULL);
	unsigned s;
	int status = 1;

	if (parse_options(argc, argv) < 0)
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	load_average(res.load_start, sizeof(res.load_start));
	snprintf(workdir, sizeof(workdir), "%s/sysboot-bench.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(workdir)) {
		fprintf(stderr, "sysboot-bench: cannot make a work folder: %s\n", strerror(errno));
		workdir[0] = '\0';
		return 1;
	}
	if (collect(&res) == 0) {
		load_average(res.load_end, sizeof(res.load_end));
		printf("# sysboot-bench, %s", ctime(&now));
		printf("machine: %ld cores, load average %s at the start, %s at the end; %u run%s of each measurement\n\n",
		       sysconf(_SC_NPROCESSORS_ONLN), res.load_start, res.load_end, opt.runs,
		       opt.runs > 1 ? "s" : "");
		print_report(&res);
		status = 0;
	}
	for (s = 0; s < opt.nsizes; s++)
		free(res.images[s].data);
	if (opt.keep)
		fprintf(stderr, "sysboot-bench: images and logs kept in %s\n", workdir);
	remove_workdir();
	return status;
}
