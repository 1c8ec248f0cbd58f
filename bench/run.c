/*
 * run.c - see run.h.
 */
#define _GNU_SOURCE            /* execvpe */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sysboot/image.h"

#define SLICE        SIM_MS(5)
#define SETUP_LIMIT  SIM_S(5)        /* to reach the ROM or the v1 banner */
#define OUTPUT_QUIET SIM_MS(20)       /* the application has said all it had to */

volatile int bench_interrupted;

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Bring the board to where the host program finds it: the ROM ready (and
 * its DFU device on the bus for a USB run), or v1 running with its banner
 * line finished, so that every run starts from the same state. On a loaded
 * machine the host program can send its enter command before the emulator
 * has run at all after this call; an application that reads its serial
 * port only between the lines it prints (v1 did, before it received by
 * interrupt) loses it in the banner.
 */
static int board_ready(struct sim_board *sb, const struct run_spec *spec, char *err, size_t errlen)
{
	const char *what = !spec->boot0 ? "application v1's banner" :
			   spec->usb ? "the ROM's DFU device on the bus" : "the ROM bootloader ready";
	const char *wait_for = "sysboot reference application v1";

	while (sim_now(sb) < SETUP_LIMIT) {
		/* An instant ROM stops by itself once it only waits for the host. */
		struct sim_run_limits lim = { .until_time = spec->boot0 ? SETUP_LIMIT : sim_now(sb) + SLICE };
		enum sim_stop_reason r;

		if (!spec->boot0)
			lim.uart_text = wait_for;
		r = sim_run(sb, &lim);
		if (r == SIM_STOP_FAULT) {
			snprintf(err, errlen, "the board faulted before %s: %s", what, sim_fault_text(sb));
			return -1;
		}
		if (!spec->boot0 && r == SIM_STOP_UART) {
			if (strcmp(wait_for, "\r\n") == 0)
				return 0;
			wait_for = "\r\n";     /* the end of the banner line */
		}
		if (spec->boot0 && sim_trace_find(sb, 0, SIM_TRACE_ROM, "ROM bootloader ready") &&
		    (!spec->usb || sim_usb_attached(sb)))
			return 0;
	}
	snprintf(err, errlen, "no %s after %.0f s simulated", what, (double)SETUP_LIMIT / 1e12);
	return -1;
}

/*
 * A fresh board with the stub and v1, brought to where the program finds
 * it. BOOT0 is released once the ROM runs, as a technician lets go of the
 * button, so that a leave or Go that resets the chip starts the flash.
 */
static struct sim_board *board_open(const struct run_spec *spec, bool realtime, char *err,
				    size_t errlen)
{
	struct sim_config cfg;
	struct sim_board *sb;
	char fw[2][512];

	sim_config_default(&cfg);
	cfg.usart[1].kind = SIM_LINK_PTY;
	cfg.usart[1].path = spec->port;
	cfg.boot0 = spec->boot0;
	cfg.realtime = realtime;
	cfg.instant_host = !realtime && !spec->wall_idle;
	cfg.dfu_work = spec->dfu_work;
	if (spec->usb)
		cfg.usb.kind = SIM_USB_UMOCKDEV;
	sb = sim_board_new(&cfg, err, errlen);
	if (!sb)
		return NULL;
	snprintf(fw[0], sizeof(fw[0]), "%s/stub.elf", spec->fw_dir);
	snprintf(fw[1], sizeof(fw[1]), "%s/app-v1.img", spec->fw_dir);
	if (sim_load_file(sb, fw[0], 0, err, errlen) < 0 ||
	    sim_load_file(sb, fw[1], SYSBOOT_HEADER_ADDR, err, errlen) < 0)
		goto fail;
	sim_power_on(sb);
	if (board_ready(sb, spec, err, errlen) < 0)
		goto fail;
	if (spec->boot0)
		sim_set_boot0(sb, false);
	return sb;
fail:
	sim_board_free(sb);
	return NULL;
}

/*
 * The program's environment: ours, with LD_PRELOAD and, for a USB run,
 * what umockdev's clients need (an ASan-built client also has to accept
 * the preload library ahead of its runtime). Made before fork: the
 * emulator's umockdev thread may hold the allocator's lock at the fork.
 */
struct child_env {
	char **envp;
	char *owned[4];
	unsigned nowned;
};

static void env_free(struct child_env *ce)
{
	unsigned i;

	for (i = 0; i < ce->nowned; i++)
		free(ce->owned[i]);
	free(ce->envp);
	memset(ce, 0, sizeof(*ce));
}

/* Add or replace NAME=value; 0 or -1. */
static int env_set(struct child_env *ce, size_t *n, const char *name, const char *value)
{
	size_t len = strlen(name), i;
	char *kv = malloc(len + strlen(value) + 2);

	if (!kv || ce->nowned == sizeof(ce->owned) / sizeof(ce->owned[0])) {
		free(kv);
		return -1;
	}
	sprintf(kv, "%s=%s", name, value);
	ce->owned[ce->nowned++] = kv;
	for (i = 0; i < *n; i++)
		if (strncmp(ce->envp[i], name, len) == 0 && ce->envp[i][len] == '=') {
			ce->envp[i] = kv;
			return 0;
		}
	ce->envp[(*n)++] = kv;
	ce->envp[*n] = NULL;
	return 0;
}

static int env_make(struct child_env *ce, const struct run_spec *spec, struct sim_board *sb)
{
	extern char **environ;
	const char *asan = getenv("ASAN_OPTIONS");
	char usb[1024], *tok, *save = NULL, *opts = NULL;
	size_t n = 0, max = 8;
	int ret = -1;

	memset(ce, 0, sizeof(*ce));
	while (environ[n])
		n++;
	max += n;
	ce->envp = calloc(max, sizeof(*ce->envp));
	if (!ce->envp)
		return -1;
	memcpy(ce->envp, environ, n * sizeof(*ce->envp));
	if (spec->preload && env_set(ce, &n, "LD_PRELOAD", spec->preload) < 0)
		goto out;
	if (spec->usb) {
		/* "UMOCKDEV_DIR=... LD_PRELOAD=..." (usb_umockdev.c) */
		snprintf(usb, sizeof(usb), "%s", sim_usb_env(sb));
		for (tok = strtok_r(usb, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
			char *eq = strchr(tok, '=');

			if (!eq)
				continue;
			*eq = '\0';
			if (env_set(ce, &n, tok, eq + 1) < 0)
				goto out;
		}
		opts = malloc((asan ? strlen(asan) : 0) + 32);
		if (!opts)
			goto out;
		sprintf(opts, "%s%sverify_asan_link_order=0", asan ? asan : "", asan && *asan ? ":" : "");
		if (env_set(ce, &n, "ASAN_OPTIONS", opts) < 0)
			goto out;
	}
	ret = 0;
out:
	free(opts);
	if (ret < 0)
		env_free(ce);
	return ret;
}

static pid_t spawn(const struct run_spec *spec, struct sim_board *sb, char *err, size_t errlen)
{
	int fd = open(spec->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	struct child_env ce;
	pid_t pid;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", spec->log, strerror(errno));
		return -1;
	}
	if (env_make(&ce, spec, sb) < 0) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
	} else if (pid == 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execvpe(spec->argv[0], spec->argv, ce.envp);
		dprintf(STDERR_FILENO, "cannot run %s: %s\n", spec->argv[0], strerror(errno));
		_exit(127);
	}
	env_free(&ce);
	close(fd);
	return pid;
}

static void stop_program(pid_t pid, int *status)
{
	kill(pid, SIGTERM);
	waitpid(pid, status, 0);
}

/*
 * Drive the board until the program exits; its wait status in *status.
 * With until_heard, stop it (and return 1) as soon as the ROM has heard
 * from it instead.
 */
static int drive(struct sim_board *sb, const struct run_spec *spec, pid_t pid, bool until_heard,
		 int *status, char *err, size_t errlen)
{
	double deadline = wall_s() + spec->timeout_s;

	if (spec->stall_ms) {
		struct timespec ts = { spec->stall_ms / 1000u, (long)(spec->stall_ms % 1000u) * 1000000L };

		nanosleep(&ts, NULL);
	}
	for (;;) {
		struct sim_run_limits lim = { .until_time = sim_now(sb) + SLICE };
		enum sim_stop_reason r = sim_run(sb, &lim);
		pid_t w;

		if (r == SIM_STOP_FAULT || r == SIM_STOP_POWER_OFF) {
			snprintf(err, errlen, "%s: the board stopped (%s%s%s)", spec->label,
				 sim_stop_reason_str(r), r == SIM_STOP_FAULT ? ": " : "",
				 r == SIM_STOP_FAULT ? sim_fault_text(sb) : "");
			goto kill_it;
		}
		if (until_heard) {
			struct sim_rom_session rs;

			sim_rom_session(sb, &rs);
			if (rs.first_byte) {
				stop_program(pid, status);
				return 1;
			}
		}
		w = waitpid(pid, status, WNOHANG);
		if (w == pid)
			return 0;
		if (w < 0) {
			snprintf(err, errlen, "waitpid: %s", strerror(errno));
			return -1;
		}
		if (bench_interrupted) {
			snprintf(err, errlen, "%s: interrupted", spec->label);
			goto kill_it;
		}
		if (wall_s() > deadline) {
			snprintf(err, errlen, "%s: still running after %u s of wall time (see %s)",
				 spec->label, spec->timeout_s, spec->log);
			goto kill_it;
		}
	}
kill_it:
	stop_program(pid, status);
	return -1;
}

/*
 * The program stops listening as soon as it has seen enough (sysboot: the
 * new version in the banner), maybe while the board still sends the rest
 * of the line: let the application finish it, so that the run ends where
 * the board's output does, not where the program happened to exit. The
 * ROM sends nothing unasked.
 */
static void finish_output(struct sim_board *sb)
{
	sim_time_t give_up = sim_now(sb) + SIM_S(1);

	while (!sim_in_rom(sb) && sim_now(sb) < give_up &&
	       sim_now(sb) - sim_uart_last_tx(sb, 2) < OUTPUT_QUIET) {
		struct sim_run_limits lim = { .until_time = sim_now(sb) + SLICE };

		if (sim_run(sb, &lim) == SIM_STOP_FAULT)
			return;
	}
}

static int check_flash(struct sim_board *sb, const struct run_spec *spec, char *err, size_t errlen)
{
	uint8_t *back = malloc(spec->image_len);
	size_t i;
	int ret = 0;

	if (!back) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (sim_read_mem(sb, spec->image_addr, back, spec->image_len) < 0) {
		snprintf(err, errlen, "%s: cannot read the flash back", spec->label);
		ret = -1;
	} else if (memcmp(back, spec->image, spec->image_len) != 0) {
		for (i = 0; back[i] == spec->image[i]; i++)
			;
		snprintf(err, errlen, "%s reported success but the flash at 0x%08zx holds 0x%02x, "
			 "the image 0x%02x", spec->label, spec->image_addr + i, back[i], spec->image[i]);
		ret = -1;
	}
	free(back);
	return ret;
}

int bench_run(const struct run_spec *spec, struct run_result *res, char *err, size_t errlen)
{
	const struct sim_rom_session *rs = &res->rs;
	struct sim_board *sb;
	double t0;
	pid_t pid;
	int status = 0, ret = -1;
	sim_time_t end, wire;

	memset(res, 0, sizeof(*res));
	sb = board_open(spec, false, err, errlen);
	if (!sb)
		return -1;
	t0 = wall_s();
	pid = spawn(spec, sb, err, errlen);
	if (pid < 0)
		goto out;
	if (drive(sb, spec, pid, false, &status, err, errlen) < 0)
		goto out;
	res->wall_s = wall_s() - t0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, errlen, "%s failed (%s %d): see %s", spec->label,
			 WIFEXITED(status) ? "exit status" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), spec->log);
		goto out;
	}
	if (check_flash(sb, spec, err, errlen) < 0)
		goto out;
	if (!spec->ends_on_usb)
		finish_output(sb);

	sim_rom_session(sb, &res->rs);
	end = spec->ends_on_usb ? rs->usb_last_answer : sim_uart_last_tx(sb, 2);
	if (!rs->first_byte || end < rs->first_byte) {
		snprintf(err, errlen, "%s: the ROM bootloader never heard from it", spec->label);
		goto out;
	}
	wire = (rs->bytes_in + rs->bytes_out) * rs->frame_time;
	res->sim_s = (double)(end - rs->first_byte) / 1e12;
	res->wire_s = (double)wire / 1e12;
	res->bus_s = (double)rs->usb_bus_time / 1e12;
	/* In picoseconds, so that a session with nothing after a Go shows exactly 0. */
	res->after_go_s = (double)((int64_t)(end - rs->first_byte) - (int64_t)wire -
				   (int64_t)rs->usb_bus_time - (int64_t)rs->usb_poll_wait -
				   (int64_t)rs->erase_time - (int64_t)rs->program_time -
				   (int64_t)rs->idle_time) / 1e12;
	ret = 0;
out:
	sim_board_free(sb);
	return ret;
}

int bench_entry(const struct run_spec *spec, double *entry_s, char *err, size_t errlen)
{
	struct sim_rom_session rs;
	struct sim_board *sb;
	pid_t pid;
	int status = 0, ret = -1, r;

	sb = board_open(spec, true, err, errlen);
	if (!sb)
		return -1;
	pid = spawn(spec, sb, err, errlen);
	if (pid < 0)
		goto out;
	r = drive(sb, spec, pid, true, &status, err, errlen);
	if (r < 0)
		goto out;
	sim_rom_session(sb, &rs);
	if (r == 0 || !rs.first_byte) {
		snprintf(err, errlen, "%s ended before the ROM bootloader heard from it: see %s",
			 spec->label, spec->log);
		goto out;
	}
	*entry_s = (double)(rs.first_byte - rs.entered) / 1e12;
	ret = 0;
out:
	sim_board_free(sb);
	return ret;
}
