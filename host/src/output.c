/*
 * output.c - result lines, JSON objects, errors and progress (output.h).
 *
 * JSON goes through the shared writer (sysboot/json.h): sysboot only ever
 * emits flat objects of strings, integers and booleans.
 */
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "exitcodes.h"
#include "output.h"
#include "sb_error.h"

void output_init(struct output *o, const char *cmd, bool json)
{
	memset(o, 0, sizeof(*o));
	o->cmd = cmd;
	o->json = json;
	o->out = stdout;
	o->err = stderr;
}

int out_error(const struct output *o, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (o->json) {
		struct json_obj j;

		json_begin(&j, o->out);
		if (o->cmd)
			json_kv_str(&j, "command", o->cmd);
		json_kv_bool(&j, "ok", false);
		json_kv_int(&j, "exit_code", code);
		json_kv_str(&j, "error", msg);
		json_end(&j);
	}
	fprintf(o->err, "sysboot: error: %s\n", msg);
	return code;
}

void out_warning(const struct output *o, const char *fmt, ...)
{
	va_list ap;

	fputs("sysboot: warning: ", o->err);
	va_start(ap, fmt);
	vfprintf(o->err, fmt, ap);
	va_end(ap);
	fputc('\n', o->err);
}

void progress_format(char *buf, size_t len, const char *phase, size_t done,
		     size_t total)
{
	unsigned pct = total ? (unsigned)((done > total ? total : done) * 100 / total) : 100;
	char bar[31];
	unsigned fill = pct * 30 / 100, i;

	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	snprintf(buf, len, "%-6s [%s] %3u%% %zu/%zu", phase, bar, pct, done, total);
}

void progress_start(struct progress *p, const struct output *o,
		    const char *phase, size_t total)
{
	memset(p, 0, sizeof(*p));
	p->o = o;
	p->phase = phase;
	p->total = total;
	p->last_step = -1;
	p->tty = !o->json && isatty(fileno(o->err));
	progress_update(p, 0);
}

void progress_update(struct progress *p, size_t done)
{
	const struct output *o = p->o;
	unsigned pct = p->total ? (unsigned)((done > p->total ? p->total : done) * 100 / p->total) : 100;
	char line[128];

	p->done = done;
	if (o->json || o->quiet)
		return;
	if (p->tty) {
		progress_format(line, sizeof(line), p->phase, done, p->total);
		fprintf(o->err, "\r%s", line);
		fflush(o->err);
	} else if ((int)(pct / 25) > p->last_step) {
		p->last_step = (int)(pct / 25);
		fprintf(o->err, "%s: %zu/%zu (%u%%)\n", p->phase, done, p->total, pct);
	}
}

void progress_finish(struct progress *p, bool ok)
{
	const struct output *o = p->o;

	if (o->json) {
		struct json_obj j;

		json_begin(&j, o->out);
		json_kv_str(&j, "phase", p->phase);
		json_kv_int(&j, "done", (long long)p->done);
		json_kv_int(&j, "total", (long long)p->total);
		json_kv_bool(&j, "ok", ok);
		json_end(&j);
	} else if (!o->quiet && p->tty) {
		fputc('\n', o->err);
	}
	p->phase = NULL;
}

int sb_exit_from_error(int code)
{
	/* Only running out of memory is not the file's fault. */
	return code == -ENOMEM ? SB_EXIT_FAILURE : SB_EXIT_INPUT;
}
