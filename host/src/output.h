/*
 * output.h - how every sysboot command talks to people and to scripts.
 *
 * Humans get short lines on stdout; with --json a script gets exactly one
 * JSON object per result on stdout, one per line, and nothing else there.
 * Errors always go to stderr as "sysboot: error: ..." (and, with --json,
 * also as an {"ok":false,...} object on stdout, so a script reading only
 * stdout still learns why). Progress goes to stderr so it never mixes with
 * results. There is no global state: a command owns its struct output.
 */
#ifndef SYSBOOT_OUTPUT_H
#define SYSBOOT_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sysboot/json.h"

struct output {
	bool json;        /* --json: machine-readable results */
	bool quiet;       /* --quiet: no progress */
	const char *cmd;  /* command name for JSON objects ("image build") */
	FILE *out;        /* results: stdout */
	FILE *err;        /* errors, warnings, progress: stderr */
};

void output_init(struct output *o, const char *cmd, bool json);

/*
 * Report an error: "sysboot: error: MSG" on stderr, and with --json
 * {"command":..., "ok":false, "exit_code":code, "error":MSG} on stdout.
 * Returns code, so callers can `return out_error(o, SB_EXIT_INPUT, ...)`.
 */
int out_error(const struct output *o, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "sysboot: warning: MSG" on stderr (JSON results carry their own). */
void out_warning(const struct output *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Progress of a long phase (erase, write, read). On a terminal a bar
 * redrawn in place; otherwise a line at 0, 25, 50, 75 and 100 %; with
 * --json nothing until progress_finish() writes one object
 * {"phase":..., "done":..., "total":..., "ok":...} on stdout.
 */
struct progress {
	const struct output *o;
	bool tty;
	const char *phase;
	size_t total, done;
	int last_step;    /* last quarter printed as a line, -1 none */
};

void progress_start(struct progress *p, const struct output *o,
		    const char *phase, size_t total);
void progress_update(struct progress *p, size_t done);
void progress_finish(struct progress *p, bool ok);

/* Render the bar for done/total into buf (exposed for the tests). */
void progress_format(char *buf, size_t len, const char *phase, size_t done,
		     size_t total);

#endif /* SYSBOOT_OUTPUT_H */
