/*
 * bench.c - sysboot-bench: how long an update takes, against the reference
 * tools and against the physical limit, plus the emulator's speed and the
 * firmware's size. `make bench` runs it and prints the tables that
 * docs/performance.md quotes.
 *
 * Every update figure is simulated time on the emulated board with its
 * timing model (bytes on the wire at the host's baud in 8E1, DS10198 flash
 * times) and an instant host (run.h), so it is what the real board on a
 * real line would take, identical from run to run whatever the machine's
 * load. Wall-clock figures (the emulator's own speed) are medians of a few
 * runs and depend on the machine; nothing here asserts them.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "limit.h"
#include "run.h"
#include "sim.h"
#include "sysboot/image.h"

#define MAX_SIZES      8
#define MAX_RUNS       9
#define ROM_BAUD       115200u
#define LIMIT_TO_BEAT  1.10          /* within 10% of the physical limit */
#define SPEEDUP_WANTED 1.8           /* at least 1.8 times faster than stm32flash -v */
#define LIB_MAX        1024u         /* entry library: under 1 KB of flash */
#define STUB_MAX       4096u         /* boot stub: fits in 4 KB */
#define APP_RUN_S      10u           /* default simulated seconds of the reference application */

struct options {
	const char *sysboot, *stm32flash, *noparity, *fw_dir, *size_tool;
	unsigned sizes_kb[MAX_SIZES], nsizes;
	unsigned runs;
	unsigned app_s;              /* simulated seconds of the reference application */
	bool keep;
};

/* One program measured on one image, over opt.runs runs. */
struct measure {
	double sim_s;                /* the same in every run, or... */
	bool sim_varies;             /* ...not, which would be a bug in the method */
	double sim_min, sim_max;
	double wall_s;               /* median */
	struct run_result last;
};

/* The programs of one link, for the same job. */
enum tool { T_SYSBOOT, T_REF_VERIFY, T_REF, T_COUNT };

/*
 * A link the update can go over: the programs that do the job on it and
 * its physical limit. A USB DFU row is one more entry in links[].
 */
struct link_bench {
	const char *name;
	const char *tool_name[T_COUNT];
	bool tool_boot0[T_COUNT];    /* the reference tools cannot enter the ROM themselves */
	void (*argv)(enum tool t, const struct options *o, const char *image, const char *port,
		     char **argv, const char **preload);
	void (*limit)(uint32_t addr, uint32_t len, struct update_limit *l);
};

static struct options opt;
static char workdir[256];
static char ref_version[T_COUNT][64];  /* the first line a reference tool printed */

/* ---- Links ------------------------------------------------------------------ */

static void usart_argv(enum tool t, const struct options *o, const char *image, const char *port,
		       char **argv, const char **preload)
{
	static char addr[16];
	int n = 0;

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

static const struct link_bench links[] = {
	{
		.name = "USART 115200 8E1",
		.tool_name = { "sysboot update", "stm32flash -w -v", "stm32flash -w" },
		.tool_boot0 = { false, true, true },
		.argv = usart_argv,
		.limit = usart_limit,
	},
};
#define NLINKS (sizeof(links) / sizeof(links[0]))

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

struct image {
	unsigned kb;
	char path[320];
	uint8_t *data;
	size_t len;
};

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

static int measure(const struct link_bench *lb, enum tool t, const struct image *im,
		   bool wall_idle, struct measure *m)
{
	char port[300], log[320], label[96];
	char *argv[16];
	double sims[MAX_RUNS], walls[MAX_RUNS];
	struct run_spec spec = { 0 };
	char err[512];
	unsigned r;

	snprintf(port, sizeof(port), "%s/nucleo", workdir);
	snprintf(label, sizeof(label), "%s, %u KB%s", lb->tool_name[t], im->kb,
		 wall_idle ? ", idle on the wall clock" : "");
	snprintf(log, sizeof(log), "%s/run-%d-%uk%s.log", workdir, (int)t, im->kb,
		 wall_idle ? "-wall" : "");
	lb->argv(t, &opt, im->path, port, argv, &spec.preload);
	spec.label = label;
	spec.argv = argv;
	spec.port = port;
	spec.log = log;
	spec.fw_dir = opt.fw_dir;
	spec.boot0 = lb->tool_boot0[t];
	spec.wall_idle = wall_idle;
	spec.image = im->data;
	spec.image_len = im->len;
	spec.image_addr = SYSBOOT_HEADER_ADDR;
	spec.timeout_s = 1800;

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
	if (t != T_SYSBOOT && !ref_version[t][0]) {
		FILE *f = fopen(log, "r");

		if (f && fgets(ref_version[t], sizeof(ref_version[t]), f))
			ref_version[t][strcspn(ref_version[t], "\r\n")] = '\0';
		if (f)
			fclose(f);
	}
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

/* ---- The emulator's speed ----------------------------------------------------------- */

struct app_speed {
	uint64_t insns;
	double sim_s, wall_s;        /* wall: median */
};

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

struct fw_size {
	unsigned long text, data, bss;
};

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

/* ---- Output ---------------------------------------------------------------------------- */

static const char *size_name(unsigned kb)
{
	static char buf[8][48];
	static unsigned next;
	char *b = buf[next++ % 8];

	if (kb * 1024u == STM32_FLASH_SIZE - SYSBOOT_STUB_SIZE)
		snprintf(b, sizeof(buf[0]), "%u KB (1 MB less the stub)", kb);
	else
		snprintf(b, sizeof(buf[0]), "%u KB", kb);
	return b;
}

static const char *secs(const struct measure *m)
{
	static char buf[8][48];
	static unsigned next;
	char *b = buf[next++ % 8];

	if (m->sim_varies)
		snprintf(b, sizeof(buf[0]), "%.3f..%.3f (varies!)", m->sim_min, m->sim_max);
	else
		snprintf(b, sizeof(buf[0]), "%.3f", m->sim_s);
	return b;
}

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
		"  --size-tool PATH    (default: arm-none-eabi-size)\n"
		"  --sizes KB,KB,...   image sizes (default: 64,256,1016)\n"
		"  --runs N            runs of each measurement, 1..%d (default: 3)\n"
		"  --app-seconds S     simulated seconds of the reference application (default: %u)\n"
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

/* Everything one run of the benchmark found. */
struct results {
	struct image images[MAX_SIZES];
	unsigned biggest;            /* the largest size */
	struct update_limit lim[NLINKS][MAX_SIZES];
	struct measure m[NLINKS][MAX_SIZES][T_COUNT];
	struct measure wall_idle;    /* the first size by sysboot, idle on the wall clock */
	struct app_speed sp;
	struct fw_size lib, stub;
	char load_start[64], load_end[64];
};

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
		for (s = 0; s < opt.nsizes; s++) {
			links[l].limit(SYSBOOT_HEADER_ADDR, (uint32_t)res->images[s].len, &res->lim[l][s]);
			for (t = 0; t < T_COUNT; t++)
				if (measure(&links[l], t, &res->images[s], false, &res->m[l][s][t]) < 0)
					goto out;
		}
	/* What the instant host leaves out: the same update, idle on the wall clock. */
	if (measure(&links[0], T_SYSBOOT, &res->images[0], true, &res->wall_idle) < 0)
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

static void print_update_times(const struct results *res)
{
	unsigned l, s;

	printf("## Update time, simulated seconds (image at 0x%08x, instant host)\n\n", SYSBOOT_HEADER_ADDR);
	for (l = 0; l < NLINKS; l++) {
		const struct link_bench *lb = &links[l];

		printf("| %s | %s | %s | %s | limit | sysboot / %s | sysboot / %s | sysboot / limit |\n",
		       lb->name, lb->tool_name[T_SYSBOOT], lb->tool_name[T_REF_VERIFY], lb->tool_name[T_REF],
		       lb->tool_name[T_REF_VERIFY], lb->tool_name[T_REF]);
		printf("|---|--:|--:|--:|--:|--:|--:|--:|\n");
		for (s = 0; s < opt.nsizes; s++) {
			const struct measure *r = res->m[l][s];

			printf("| %s | %s | %s | %s | %.3f | %.3f | %.3f | %.3f |\n", size_name(res->images[s].kb),
			       secs(&r[T_SYSBOOT]), secs(&r[T_REF_VERIFY]), secs(&r[T_REF]),
			       res->lim[l][s].total_s, r[T_SYSBOOT].sim_s / r[T_REF_VERIFY].sim_s,
			       r[T_SYSBOOT].sim_s / r[T_REF].sim_s,
			       r[T_SYSBOOT].sim_s / res->lim[l][s].total_s);
		}
		printf("\n");
	}
}

static void print_breakdown(const struct results *res)
{
	const struct measure *wi = &res->wall_idle;
	unsigned l, s, t;

	printf("## Where the time goes (simulated seconds; the last run of each)\n\n");
	printf("| run | total | bytes in | bytes out | turnarounds | wire | erase | program | after Go | host, wall (not counted) |\n");
	printf("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
	for (l = 0; l < NLINKS; l++)
		for (s = 0; s < opt.nsizes; s++) {
			const struct update_limit *lim = &res->lim[l][s];

			printf("| physical limit, %s | %.3f | %u | | | %.3f | %.3f | %.3f | | |\n",
			       size_name(res->images[s].kb), lim->total_s, (unsigned)res->images[s].len,
			       lim->wire_s, lim->erase_s, lim->program_s);
			for (t = 0; t < T_COUNT; t++) {
				const struct run_result *r = &res->m[l][s][t].last;

				printf("| %s, %s | %.3f | %llu | %llu | %llu | %.3f | %.3f | %.3f | %.3f | %.3f |\n",
				       links[l].tool_name[t], size_name(res->images[s].kb), r->sim_s,
				       (unsigned long long)r->rs.bytes_in, (unsigned long long)r->rs.bytes_out,
				       (unsigned long long)r->rs.turnarounds, r->wire_s,
				       (double)r->rs.erase_time / 1e12, (double)r->rs.program_time / 1e12,
				       r->after_go_s, (double)r->rs.host_wait_ns / 1e9);
			}
		}
	printf("\nThe same %s update with the ROM's waits for the host on the wall clock (sysboot-sim --fast):\n"
	       "%.3f to %.3f s simulated over the runs (the last one %.3f s waiting for the host), against %.3f s with an instant host.\n\n",
	       size_name(res->images[0].kb), wi->sim_min, wi->sim_max,
	       (double)wi->last.rs.idle_time / 1e12, res->m[0][0][T_SYSBOOT].sim_s);
}

static void print_speed(const struct results *res)
{
	const struct app_speed *sp = &res->sp;
	const struct measure *up = &res->m[0][res->biggest][T_SYSBOOT];

	printf("## Emulator speed (wall clock, median of %u)\n\n", opt.runs);
	printf("| workload | simulated s | wall s | simulated s per wall s | emulated instructions per wall s |\n");
	printf("|---|--:|--:|--:|--:|\n");
	printf("| reference application (stub + app-v1), %u s | %.3f | %.3f | %.1f | %.1f million |\n",
	       opt.app_s, sp->sim_s, sp->wall_s, sp->sim_s / sp->wall_s, (double)sp->insns / sp->wall_s / 1e6);
	printf("| a full update by sysboot, %s | %.3f | %.3f | %.1f | |\n\n",
	       size_name(res->images[res->biggest].kb), up->sim_s, up->wall_s, up->sim_s / up->wall_s);
}

static void print_sizes(const struct results *res)
{
	const struct fw_size *lib = &res->lib, *stub = &res->stub;

	printf("## Firmware size (%s, bytes)\n\n", opt.size_tool);
	printf("| part | text | data | bss | flash (text + data) | RAM (data + bss) | target |\n");
	printf("|---|--:|--:|--:|--:|--:|---|\n");
	printf("| entry library (libsysboot.a) | %lu | %lu | %lu | %lu | %lu | flash < %u |\n",
	       lib->text, lib->data, lib->bss, lib->text + lib->data, lib->data + lib->bss, LIB_MAX);
	printf("| boot stub (stub.elf) | %lu | %lu | %lu | %lu | %lu | flash <= %u |\n\n",
	       stub->text, stub->data, stub->bss, stub->text + stub->data, stub->data + stub->bss,
	       STUB_MAX);
}

static bool target(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool target(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("- %s: ", ok ? "met" : "MISSED");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return ok;
}

/* The targets, met or missed; returns how many were missed. */
static unsigned print_targets(const struct results *res)
{
	const struct measure *up = &res->m[0][res->biggest][T_SYSBOOT];
	unsigned long lib = res->lib.text + res->lib.data, stub = res->stub.text + res->stub.data;
	double speedup_worst = 1e9, limit_worst = 0;
	unsigned l, s, t, missed = 0;

	for (l = 0; l < NLINKS; l++)
		for (s = 0; s < opt.nsizes; s++) {
			const struct measure *r = res->m[l][s];
			double speedup = r[T_REF_VERIFY].sim_s / r[T_SYSBOOT].sim_s;
			double vs_limit = r[T_SYSBOOT].sim_s / res->lim[l][s].total_s;

			if (speedup < speedup_worst)
				speedup_worst = speedup;
			if (vs_limit > limit_worst)
				limit_worst = vs_limit;
		}
	printf("## Targets\n\n");
	missed += !target(limit_worst <= LIMIT_TO_BEAT,
			  "sysboot update within %.0f%% of the physical limit: worst %.3f x",
			  (LIMIT_TO_BEAT - 1) * 100, limit_worst);
	missed += !target(speedup_worst >= SPEEDUP_WANTED,
			  "sysboot update at least %.1f x faster than %s: worst %.2f x",
			  SPEEDUP_WANTED, links[0].tool_name[T_REF_VERIFY], speedup_worst);
	missed += !target(up->sim_s >= up->wall_s,
			  "the %s update emulated at least as fast as real time: %.1f x",
			  size_name(res->images[res->biggest].kb), up->sim_s / up->wall_s);
	missed += !target(lib < LIB_MAX, "entry library under %u bytes of flash: %lu", LIB_MAX, lib);
	missed += !target(stub <= STUB_MAX, "stub in %u bytes of flash: %lu", STUB_MAX, stub);
	for (l = 0; l < NLINKS; l++)
		for (s = 0; s < opt.nsizes; s++)
			for (t = 0; t < T_COUNT; t++)
				if (res->m[l][s][t].sim_varies)
					printf("- WARNING: %s, %s gave different simulated times in different runs\n",
					       links[l].tool_name[t], size_name(res->images[s].kb));
	if (missed)
		printf("\n%u target%s missed.\n", missed, missed > 1 ? "s" : "");
	return missed;
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
		printf("reference tools: %s (%s)\n\n", ref_version[T_REF][0] ? ref_version[T_REF] : "?",
		       opt.stm32flash);
		print_update_times(&res);
		print_breakdown(&res);
		print_speed(&res);
		print_sizes(&res);
		print_targets(&res);
		status = 0;
	}
	for (s = 0; s < opt.nsizes; s++)
		free(res.images[s].data);
	if (opt.keep)
		fprintf(stderr, "sysboot-bench: images and logs kept in %s\n", workdir);
	remove_workdir();
	return status;
}
