/*
 * bootloader.c - the port spelling picks a backend; what every backend's
 * connection shares (the user's enter command, clocks).
 *
 * Kept apart from the backends so that adding a protocol is one more
 * bl_ops table and one more branch here, and the update never knows which
 * protocol it is driving.
 */
#include "bootloader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

bool port_is_usb(const char *port)
{
	return port && (strcmp(port, "usb") == 0 || strncmp(port, "usb:", 4) == 0);
}

const struct bl_ops *bl_ops_for_port(const char *port)
{
	return port_is_usb(port) ? &dfuse_bl_ops : &an3155_bl_ops;
}

enum op_status session_run_enter_exec(const struct connect_opts *co, char *err,
				      size_t errlen)
{
	int st;

	if (!co->enter_exec)
		return OP_OK;
	fflush(NULL);
	st = system(co->enter_exec);
	if (st == -1) {
		snprintf(err, errlen, "cannot run the --enter-exec command: %s",
			 strerror(errno));
		return OP_ERR_INTERNAL;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return OP_OK;
	if (WIFEXITED(st))
		snprintf(err, errlen, "the --enter-exec command \"%s\" failed "
			 "(exit status %d), so the board was not asked to enter "
			 "the ROM bootloader", co->enter_exec, WEXITSTATUS(st));
	else
		snprintf(err, errlen, "the --enter-exec command \"%s\" was "
			 "killed by signal %d", co->enter_exec,
			 WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return OP_ERR_INTERNAL;
}

enum op_status session_open(struct session *s, const struct connect_opts *co,
			    char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->port = co->port;
	s->ops = bl_ops_for_port(co->port);
	if (port_is_usb(co->port))
		return dfuse_session_open(s, co, err, errlen);
	return an3155_session_open(s, co, err, errlen);
}

void session_close(struct session *s)
{
	if (s->ops && s->ops->close)
		s->ops->close(s);
	s->ops = NULL;
}
