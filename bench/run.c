/*
 * run.c - see run.h.
 */
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

volatile int bench_interrupted;

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Bring the board to where the host program finds it: the ROM ready, or v1 running. */
static int board_ready(struct sim_board *sb, bool boot0, char *err, size_t errlen)
{
	const char *what = boot0 ? "the ROM bootloader ready" : "application v1's banner";

	while (sim_now(sb) < SETUP_LIMIT) {
		struct sim_run_limits lim = { .until_time = sim_now(sb) + SLICE };
		enum sim_stop_reason r;

		if (!boot0)
			lim.uart_text = "sysboot reference application v1";
		r = sim_run(sb, &lim);
		if (r == SIM_STOP_FAULT) {
			snprintf(err, errlen, "the board faulted before %s: %s", what, sim_fault_text(sb));
			return -1;
		}
		if (!boot0 && r == SIM_STOP_UART)
			return 0;
		if (boot0 && sim_trace_find(sb, 0, SIM_TRACE_ROM, "ROM bootloader ready"))
			return 0;
	}
	snprintf(err, errlen, "no %s after %.0f s simulated", what, (double)SETUP_LIMIT / 1e12);
	return -1;
}

static pid_t spawn(const struct run_spec *spec, char *err, size_t errlen)
{
	int fd = open(spec->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	pid_t pid;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", spec->log, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (pid == 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (spec->preload)
			setenv("LD_PRELOAD", spec->preload, 1);
		execvp(spec->argv[0], spec->argv);
		dprintf(STDERR_FILENO, "cannot run %s: %s\n", spec->argv[0], strerror(errno));
		_exit(127);
	}
	close(fd);
	return pid;
}

/* Drive the board until the program exits; its wait status in *status. */
static int drive(struct sim_board *sb, const struct run_spec *spec, pid_t pid, int *status,
		 char *err, size_t errlen)
{
	double deadline = wall_s() + spec->timeout_s;

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
	kill(pid, SIGTERM);
	waitpid(pid, status, 0);
	return -1;
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
	struct sim_config cfg;
	struct sim_board *sb;
	char fw[2][512];
	double t0;
	pid_t pid;
	int status = 0, ret = -1;
	sim_time_t end, wire;

	memset(res, 0, sizeof(*res));
	sim_config_default(&cfg);
	cfg.usart[1].kind = SIM_LINK_PTY;
	cfg.usart[1].path = spec->port;
	cfg.boot0 = spec->boot0;
	cfg.instant_host = !spec->wall_idle;
	sb = sim_board_new(&cfg, err, errlen);
	if (!sb)
		return -1;
	snprintf(fw[0], sizeof(fw[0]), "%s/stub.elf", spec->fw_dir);
	snprintf(fw[1], sizeof(fw[1]), "%s/app-v1.img", spec->fw_dir);
	if (sim_load_file(sb, fw[0], 0, err, errlen) < 0 ||
	    sim_load_file(sb, fw[1], SYSBOOT_HEADER_ADDR, err, errlen) < 0)
		goto out;
	sim_power_on(sb);
	if (board_ready(sb, spec->boot0, err, errlen) < 0)
		goto out;

	t0 = wall_s();
	pid = spawn(spec, err, errlen);
	if (pid < 0)
		goto out;
	if (drive(sb, spec, pid, &status, err, errlen) < 0)
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

	sim_rom_session(sb, &res->rs);
	end = sim_uart_last_tx(sb, 2);
	if (!res->rs.first_byte || end < res->rs.first_byte) {
		snprintf(err, errlen, "%s: the ROM bootloader never heard from it", spec->label);
		goto out;
	}
	wire = (res->rs.bytes_in + res->rs.bytes_out) * res->rs.frame_time;
	res->sim_s = (double)(end - res->rs.first_byte) / 1e12;
	res->wire_s = (double)wire / 1e12;
	/* In picoseconds, so that a session with nothing after a Go shows exactly 0. */
	res->after_go_s = (double)((int64_t)(end - res->rs.first_byte) - (int64_t)wire -
				   (int64_t)res->rs.erase_time - (int64_t)res->rs.program_time -
				   (int64_t)res->rs.idle_time) / 1e12;
	ret = 0;
out:
	sim_board_free(sb);
	return ret;
}
