/*
 * diag_report.c - the diagnosis for people (wrapped plain text) and for
 * scripts (one JSON object), see diagnose.h.
 */
#include <string.h>

#include "diagnose.h"
#include "sysboot/json.h"

#define WIDTH  92
#define INDENT "        "

static const char *trigger_words(const struct diag_options *o, char *buf, size_t len)
{
	switch (o->trigger) {
	case DIAG_TRIGGER_UART:
		snprintf(buf, len, "uart (%zu bytes on USART2)", o->uart_len);
		break;
	case DIAG_TRIGGER_BUTTON:
		snprintf(buf, len, "button (B1 held %.0f ms)", o->button_ms);
		break;
	case DIAG_TRIGGER_CALL:
		snprintf(buf, len, "call:%s", o->call_symbol);
		break;
	case DIAG_TRIGGER_RESET:
		snprintf(buf, len, "reset (the firmware enters by itself)");
		break;
	}
	return buf;
}

static const char *trigger_kind(enum diag_trigger t)
{
	switch (t) {
	case DIAG_TRIGGER_UART:
		return "uart";
	case DIAG_TRIGGER_BUTTON:
		return "button";
	case DIAG_TRIGGER_CALL:
		return "call";
	case DIAG_TRIGGER_RESET:
		break;
	}
	return "reset";
}

static const char *iface_str(enum diag_interface i)
{
	switch (i) {
	case DIAG_IF_USART:
		return "usart";
	case DIAG_IF_USB:
		return "usb";
	case DIAG_IF_BOTH:
		break;
	}
	return "both";
}

static const char *tag(enum diag_status s)
{
	switch (s) {
	case DIAG_PASSED:
		return "ok";
	case DIAG_FAILED:
		return "FAIL";
	case DIAG_WARNING:
		return "warn";
	case DIAG_NOT_CHECKED:
		break;
	}
	return "-";
}

/* Print text wrapped at WIDTH after first, the following lines indented. */
static void wrap(FILE *f, const char *first, const char *text)
{
	size_t col = strlen(first);
	bool line_start = true;
	const char *p = text + strspn(text, " ");

	fputs(first, f);
	while (*p) {
		size_t word = strcspn(p, " ");

		if (!line_start && col + 1 + word > WIDTH) {
			fprintf(f, "\n%s", INDENT);
			col = strlen(INDENT);
			line_start = true;
		}
		if (!line_start) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, word, f);
		col += word;
		line_start = false;
		p += word;
		p += strspn(p, " ");
	}
	fputc('\n', f);
}

static void place_text(FILE *f, const struct diag_place *p)
{
	const struct sim_location *l = &p->loc;

	fprintf(f, "%s%s: 0x%08X", INDENT, p->role, l->addr);
	if (l->symbol && l->offset)
		fprintf(f, " %s+0x%x", l->symbol, l->offset);
	else if (l->symbol)
		fprintf(f, " %s", l->symbol);
	if (l->file)
		fprintf(f, " (%s:%u)", l->file, l->line);
	else if (l->elf)
		fprintf(f, " (in %s, no line information)", l->elf);
	fputc('\n', f);
}

void diag_print_text(FILE *f, const struct diag_report *r)
{
	const struct diag_options *o = r->opts;
	char buf[160], head[64];
	unsigned i, failed = 0;

	fprintf(f, "sysboot-sim diagnose:");
	for (i = 0; i < o->nfiles; i++)
		fprintf(f, " %s", o->files[i]);
	fprintf(f, "\ntrigger %s; board: %s, HSE %s; interface %s\n\n", trigger_words(o, buf, sizeof(buf)),
		o->cfg.lse ? "LSE" : "no LSE",
		o->cfg.hse_hz ? (snprintf(head, sizeof(head), "%g MHz", o->cfg.hse_hz / 1e6), head) : "none",
		iface_str(o->iface));
	for (i = 0; i < r->nchecks; i++) {
		const struct diag_check *c = &r->checks[i];
		char line[800];
		unsigned k;

		snprintf(head, sizeof(head), "  %-5s ", tag(c->status));
		if (c->status == DIAG_NOT_CHECKED) {
			snprintf(line, sizeof(line), "%s: %s (%s)", c->id, c->title, c->summary);
			wrap(f, head, line);
			continue;
		}
		snprintf(line, sizeof(line), "%s: %s", c->id, c->title);
		wrap(f, head, line);
		wrap(f, INDENT, c->summary);
		if (c->status == DIAG_PASSED)
			continue;
		failed += c->status == DIAG_FAILED;
		for (k = 0; k < c->nplaces; k++)
			place_text(f, &c->places[k]);
		if (c->fix[0]) {
			snprintf(buf, sizeof(buf), "%sfix: ", INDENT);
			wrap(f, buf, c->fix);
		}
	}
	if (r->serial_len) {
		const char *p = r->serial;

		fprintf(f, "\nThe firmware printed on USART2:\n");
		while (*p) {
			size_t n = strcspn(p, "\r\n");

			if (n)
				fprintf(f, "  | %.*s\n", (int)n, p);
			p += n;
			p += strspn(p, "\r\n");
		}
	}
	{
		const char *paths[DIAG_MAX_FILES], *errors[DIAG_MAX_FILES];
		size_t n = sim_debug_files(r->sb, paths, errors, DIAG_MAX_FILES), k;

		for (k = 0; k < n && k < DIAG_MAX_FILES; k++)
			if (errors[k][0])
				fprintf(f, "\nnote: %s has no line information: %s\n", paths[k], errors[k]);
	}
	if (!failed) {
		fprintf(f, "\nResult: the entry into the ROM bootloader works (exit status %d).\n", DIAG_EXIT_OK);
		return;
	}
	fprintf(f, "\nResult: %u problem%s found:", failed, failed == 1 ? "" : "s");
	for (i = 0; i < r->nchecks; i++)
		if (r->checks[i].status == DIAG_FAILED)
			fprintf(f, " %s", r->checks[i].id);
	fprintf(f, " (exit status %d).\n", DIAG_EXIT_PROBLEM);
}

static void place_json(struct json_obj *arr, const struct diag_place *p)
{
	struct json_obj o;

	json_elem_obj(arr, &o);
	json_kv_str(&o, "role", p->role);
	json_kv_hex32(&o, "pc", p->loc.addr);
	json_kv_str(&o, "symbol", p->loc.symbol);
	if (p->loc.symbol)
		json_kv_int(&o, "offset", p->loc.offset);
	json_kv_str(&o, "file", p->loc.file);
	if (p->loc.file)
		json_kv_int(&o, "line", p->loc.line);
	json_kv_str(&o, "elf", p->loc.elf);
	json_close_obj(&o);
}

void diag_print_json(FILE *f, const struct diag_report *r)
{
	const struct diag_options *o = r->opts;
	struct json_obj j, a, b;
	bool ok = diag_report_ok(r);
	char buf[160];
	unsigned i;

	json_begin(&j, f);
	json_kv_str(&j, "command", "diagnose");
	json_kv_bool(&j, "ok", ok);
	json_kv_int(&j, "exit_code", ok ? DIAG_EXIT_OK : DIAG_EXIT_PROBLEM);
	json_kv_array(&j, "firmware", &a);
	for (i = 0; i < o->nfiles; i++)
		json_elem_str(&a, o->files[i]);
	json_close_array(&a);
	json_kv_str(&j, "trigger", trigger_kind(o->trigger));
	json_kv_str(&j, "trigger_detail", trigger_words(o, buf, sizeof(buf)));
	json_kv_str(&j, "interface", iface_str(o->iface));
	json_kv_obj(&j, "board", &a);
	json_kv_bool(&a, "lse", o->cfg.lse);
	json_kv_int(&a, "hse_hz", o->cfg.hse_hz);
	json_close_obj(&a);
	json_kv_int(&j, "rom_entries", r->rom_entries);
	json_kv_int(&j, "trigger_us", r->trigger_ms < 0 ? -1 : (long long)(r->trigger_ms * 1000));
	json_kv_int(&j, "simulated_us", (long long)(r->end_ms * 1000));
	json_kv_array(&j, "checks", &a);
	for (i = 0; i < r->nchecks; i++) {
		const struct diag_check *c = &r->checks[i];
		unsigned k;

		json_elem_obj(&a, &b);
		json_kv_str(&b, "id", c->id);
		json_kv_str(&b, "title", c->title);
		json_kv_str(&b, "status", diag_status_str(c->status));
		json_kv_str(&b, "summary", c->summary);
		json_kv_str(&b, "fix", c->fix[0] ? c->fix : NULL);
		{
			struct json_obj pl;

			json_kv_array(&b, "locations", &pl);
			for (k = 0; k < c->nplaces; k++)
				place_json(&pl, &c->places[k]);
			json_close_array(&pl);
		}
		json_close_obj(&b);
	}
	json_close_array(&a);
	json_kv_str(&j, "serial_output", r->serial);
	json_end(&j);
}
