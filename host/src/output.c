/*
 * output.c - result lines, JSON objects, errors and progress (output.h).
 *
 * The JSON writer is deliberately tiny: sysboot only ever emits flat
 * objects of strings, integers and booleans, and a correct string escaper
 * (RFC 8259 section 7: quote, backslash and every control character) is all
 * that needs care.
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

void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (c < 0x20 || c == 0x7F)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

void json_begin(struct json_obj *j, FILE *f)
{
	j->f = f;
	j->first = true;
	fputc('{', f);
}

static void key(struct json_obj *j, const char *k)
{
	if (!j->first)
		fputc(',', j->f);
	j->first = false;
	json_str(j->f, k);
	fputc(':', j->f);
}

void json_kv_str(struct json_obj *j, const char *k, const char *val)
{
	key(j, k);
	if (val)
		json_str(j->f, val);
	else
		fputs("null", j->f);
}

void json_kv_int(struct json_obj *j, const char *k, long long val)
{
	key(j, k);
	fprintf(j->f, "%lld", val);
}

void json_kv_bool(struct json_obj *j, const char *k, bool val)
{
	key(j, k);
	fputs(val ? "true" : "false", j->f);
}

void json_kv_hex32(struct json_obj *j, const char *k, uint32_t val)
{
	key(j, k);
	fprintf(j->f, "\"0x%08x\"", val);
}

void json_end(struct json_obj *j)
{
	fputs("}\n", j->f);
	fflush(j->f);
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
