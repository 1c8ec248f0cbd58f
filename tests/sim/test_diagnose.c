/*
 * test_diagnose.c - sysboot-sim diagnose on every broken bootloader entry
 * of firmware/tests/diag/ and on the project's own correct ones.
 *
 * Each case must be diagnosed with exactly its own finding (the set of
 * failed checks is compared whole, so a check that fires where it should
 * not fails the test too), pointing to the right source line: the lines
 * are not written here but found in the firmware sources, on the comments
 * "diagnose: <what>" that mark them.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diagnose.h"
#include "harness.h"

/* ---- Helpers ------------------------------------------------------------------ */

/* The line of firmware/<file> that contains text (that is text, when it ends in $). */
static unsigned source_line(const char *file, const char *text)
{
	char path[512], line[512];
	size_t tlen = strlen(text);
	bool whole = tlen && text[tlen - 1] == '$';
	unsigned n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", FIRMWARE_SRC_DIR, file);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	for (n = 1; fgets(line, sizeof(line), f); n++) {
		line[strcspn(line, "\n")] = '\0';
		if (whole ? strlen(line) == tlen - 1 && strncmp(line, text, tlen - 1) == 0 :
			    strstr(line, text) != NULL) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	fail_msg("no \"%s\" in %s", text, path);
	return 0;
}

static void options(struct diag_options *o, const char *trigger)
{
	diag_options_default(o);
	if (!trigger || strcmp(trigger, "reset") == 0)
		return;
	if (strncmp(trigger, "uart:", 5) == 0) {
		o->trigger = DIAG_TRIGGER_UART;
		o->uart_len = strlen(trigger + 5);
		memcpy(o->uart_text, trigger + 5, o->uart_len);
	} else if (strcmp(trigger, "button") == 0) {
		o->trigger = DIAG_TRIGGER_BUTTON;
	} else if (strncmp(trigger, "call:", 5) == 0) {
		o->trigger = DIAG_TRIGGER_CALL;
		snprintf(o->call_symbol, sizeof(o->call_symbol), "%s", trigger + 5);
	}
}

static void add_file(struct diag_options *o, const char *name, uint32_t addr)
{
	o->files[o->nfiles] = strdup(fw_path(name));
	o->addrs[o->nfiles++] = addr;
}

/* The project's own boot stub and reference application, asked over its serial line. */
static void stub_and_app(struct diag_options *o)
{
	options(o, "uart:bootloader\r\n");
	add_file(o, "stub.elf", 0);
	add_file(o, "app-v1.img", 0x08002000u);
}

static void run(const struct diag_options *o, struct diag_report *r)
{
	char err[512];

	if (diagnose_run(o, r, err, sizeof(err)) != 0)
		fail_msg("diagnose could not run: %s", err);
}

static void done(struct diag_options *o, struct diag_report *r)
{
	unsigned i;

	diag_report_free(r);
	for (i = 0; i < o->nfiles; i++)
		free((char *)o->files[i]);
}

static void dump(const struct diag_report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	diag_print_text(f, r);
	fclose(f);
	print_message("%s", buf);
	free(buf);
}

/* The failed checks, exactly: a space-separated list of ids. */
static void failed_are(const struct diag_report *r, const char *ids)
{
	char got[256] = "";
	unsigned i;

	for (i = 0; i < r->nchecks; i++) {
		if (r->checks[i].status != DIAG_FAILED)
			continue;
		if (got[0])
			strcat(got, " ");
		strcat(got, r->checks[i].id);
	}
	if (strcmp(got, ids) != 0) {
		dump(r);
		fail_msg("failed checks \"%s\", expected \"%s\"", got, ids);
	}
	assert_int_equal(diag_report_ok(r), ids[0] == '\0');
}

/* Run diagnose on o: the failed checks must be ids, exactly. */
static void diagnose_expect(const struct diag_options *o, struct diag_report *r, const char *ids)
{
	run(o, r);
	failed_are(r, ids);
}

/* The same again with the options changed: the last report is freed first. */
static void diagnose_again(const struct diag_options *o, struct diag_report *r, const char *ids)
{
	diag_report_free(r);
	diagnose_expect(o, r, ids);
}

static const struct diag_check *check_is(const struct diag_report *r, const char *id,
					     enum diag_status st, const char *words)
{
	const struct diag_check *c = diag_find(r, id);

	assert_non_null(c);
	if (c->status != st || (words && !strstr(c->summary, words))) {
		dump(r);
		fail_msg("check %s: %s \"%s\", expected %s with \"%s\"", id,
			 diag_status_str(c->status), c->summary, diag_status_str(st), words ? words : "");
	}
	return c;
}

/* A place of the check whose role contains role, at the line of file holding text. */
static void place_is(const struct diag_report *r, const struct diag_check *c, const char *role,
			 const char *file, const char *text)
{
	unsigned i, want = source_line(file, text);

	for (i = 0; i < c->nplaces; i++) {
		const struct sim_location *l = &c->places[i].loc;

		if (!strstr(c->places[i].role, role))
			continue;
		if (!l->file || strcmp(l->file, file) != 0 || l->line != want) {
			dump(r);
			fail_msg("%s, %s: at %s:%u, expected %s:%u", c->id, role,
				 l->file ? l->file : "(no line)", l->line, file, want);
		}
		assert_non_null(l->symbol);
		return;
	}
	dump(r);
	fail_msg("check %s has no place \"%s\"", c->id, role);
}

/* The options for one diag firmware and trigger. */
static void diag_firmware(struct diag_options *o, const char *name, const char *trigger)
{
	char file[96];

	options(o, trigger);
	snprintf(file, sizeof(file), "tests/diag/%s.elf", name);
	add_file(o, file, 0);
}

#define DIAG_SRC(name) "tests/diag/" name ".c"

/* A broken entry and what diagnose must say about it. */
struct diag_case {
	const char *firmware;        /* tests/diag/<firmware>.elf */
	const char *trigger;
	const char *failed;          /* the failed checks, exactly */
	const char *check;           /* the check naming the mistake... */
	const char *words;           /* ...with these words in its summary */
	struct {
		const char *role, *file, *text;
	} places[3];                 /* its places, at the lines of file holding text */
};

/* Run the case; the report stays in r (and o) for more assertions. */
static const struct diag_check *run_case(const struct diag_case *k, struct diag_options *o,
					 struct diag_report *r)
{
	const struct diag_check *c;
	unsigned i;

	diag_firmware(o, k->firmware, k->trigger);
	diagnose_expect(o, r, k->failed);
	c = check_is(r, k->check, DIAG_FAILED, k->words);
	for (i = 0; i < 3 && k->places[i].role; i++)
		place_is(r, c, k->places[i].role, k->places[i].file, k->places[i].text);
	return c;
}

/* A case that needs nothing more than its diag_case (given as the test's state). */
static void simple_case(void **state)
{
	struct diag_options o;
	struct diag_report r;

	run_case(*state, &o, &r);
	done(&o, &r);
}

/* ---- The broken entries ------------------------------------------------------------ */

static void vector_table(void **state)
{
	static const struct diag_case k = {
		"vector_table", "reset", "rom-entry branch", "branch", "into the ROM's vector table",
		{ { "the branch", DIAG_SRC("vector_table"), "diagnose: branch" } },
	};
	struct diag_options o;
	struct diag_report r;
	const struct diag_check *c;

	(void)state;
	c = run_case(&k, &o, &r);
	assert_non_null(strstr(c->summary, "0x1FFF0004"));
	assert_non_null(strstr(c->summary, "missing dereference"));
	assert_non_null(strstr(c->fix, "*(volatile uint32_t *)0x1FFF0004"));
	check_is(&r, "remap", DIAG_NOT_CHECKED, "faulted");
	done(&o, &r);
}

static const struct diag_case even_address_case = {
	"even_address", "call:enter_bootloader", "rom-entry branch", "branch",
	"0x1FFF0F68 is the ROM's entry point without the Thumb bit",
	{ { "the branch", DIAG_SRC("even_address"), "diagnose: branch" } },
};

static void remap_lost(void **state)
{
	static const struct diag_case k = {
		"remap_lost", "uart:bootloader\r\n", "remap dual-bank", "remap",
		"SYSCFG clock (RCC_APB2ENR.SYSCFGEN) was off",
		{ { "the lost write", DIAG_SRC("remap_lost"), "diagnose: lost" },
		  { "the branch", DIAG_SRC("remap_lost"), "diagnose: branch" } },
	};
	struct diag_options o;
	struct diag_report r;
	const struct diag_check *c;

	(void)state;
	run_case(&k, &o, &r);
	c = check_is(&r, "dual-bank", DIAG_FAILED, "bank 1");
	/* The bounce lands on the first instruction of the firmware's own reset handler. */
	assert_int_equal(c->nplaces, 2);
	assert_string_equal(c->places[1].role, "where the ROM jumped back to");
	assert_string_equal(c->places[1].loc.symbol, "Reset_Handler");
	assert_int_equal(c->places[1].loc.offset, 0);
	assert_int_equal(c->places[1].loc.line, source_line("startup/startup.c", "void Reset_Handler(void)$") + 1);
	done(&o, &r);
}

static void no_remap(void **state)
{
	static const struct diag_case k = {
		"no_remap", "button", "remap dual-bank", "remap", "was never written",
		{ { "the branch", DIAG_SRC("no_remap"), "diagnose: branch" } },
	};
	struct diag_options o;
	struct diag_report r;

	(void)state;
	run_case(&k, &o, &r);
	check_is(&r, "dual-bank", DIAG_FAILED, "jumped to that bank's reset handler");
	assert_true(r.trigger_ms > 0);
	done(&o, &r);
}

static const struct diag_case pll_on_case = {
	"pll_on", "uart:bootloader\r\n", "sysclk", "sysclk", "still the PLL (80 MHz",
	{ { "the switch to the PLL", DIAG_SRC("diag"), "diagnose: pll" },
	  { "the branch", DIAG_SRC("pll_on"), "diagnose: branch" } },
};

static const struct diag_case systick_on_case = {
	"systick_on", "uart:bootloader\r\n", "systick", "systick", "still counting",
	{ { "SysTick started", DIAG_SRC("diag"), "diagnose: systick" },
	  { "the branch", DIAG_SRC("systick_on"), "diagnose: branch" } },
};

static const struct diag_case irq_enabled_case = {
	"irq_enabled", "uart:bootloader\r\n", "nvic", "nvic", "enabled: USART2 (IRQ 38)",
	{ { "USART2 enabled", DIAG_SRC("irq_enabled"), "diagnose: irq" },
	  { "the branch", DIAG_SRC("irq_enabled"), "diagnose: branch" } },
};

static const struct diag_case irq_pending_case = {
	"irq_pending", "uart:bootloader\r\n", "nvic", "nvic", "pending: USART2 (IRQ 38)",
	{ { "the branch", DIAG_SRC("irq_pending"), "diagnose: branch" } },
};

/* From USART2's handler (priority 0): the ROM's USB interrupt (0x60) cannot preempt it. */
static void isr_jump(void **state)
{
	static const struct diag_case k = {
		"isr_jump", "uart:bootloader\r\n", "primask", "primask",
		"inside an exception handler (USART2's handler, IPSR = 54)",
		{ { "the branch", DIAG_SRC("isr_jump"), "diagnose: branch" } },
	};
	struct diag_options o;
	struct diag_report r;
	const struct diag_check *c;

	(void)state;
	c = run_case(&k, &o, &r);
	assert_non_null(strstr(c->summary, "Its USB interrupt (priority 0x60 in the model, "
			       "--rom-usb-priority) is one of them: the board never shows up as a DFU device."));
	done(&o, &r);
}

/* PRIMASK set: fatal for USB DFU, only a warning when the USART is all one wants. */
static void primask(void **state)
{
	struct diag_options o;
	struct diag_report r;
	const struct diag_check *c;

	(void)state;
	diag_firmware(&o, "primask", "uart:bootloader\r\n");
	o.iface = DIAG_IF_USB;
	diagnose_expect(&o, &r, "primask");
	c = check_is(&r, "primask", DIAG_FAILED, "PRIMASK = 1");
	assert_non_null(strstr(c->summary, "USB DFU"));
	place_is(&r, c, "the branch", DIAG_SRC("primask"), "diagnose: branch");
	/* The ROM's USART answers all the same. */
	check_is(&r, "rom-answers", DIAG_PASSED, NULL);

	o.iface = DIAG_IF_USART;
	diagnose_again(&o, &r, "");
	check_is(&r, "primask", DIAG_WARNING, "PRIMASK = 1");
	check_is(&r, "usb-clock", DIAG_NOT_CHECKED, NULL);
	done(&o, &r);
}

/*
 * BASEPRI left set (a jump from an RTOS critical section): whether that
 * keeps the ROM's USB interrupt out is the ROM model's verdict, with the
 * priority it gives that interrupt (0x60 unless told otherwise).
 */
static void basepri(void **state)
{
	struct diag_options o;
	struct diag_report r;
	const struct diag_check *c;

	(void)state;
	diag_firmware(&o, "basepri", "uart:bootloader\r\n");
	o.iface = DIAG_IF_USB;
	diagnose_expect(&o, &r, "primask");
	c = check_is(&r, "primask", DIAG_FAILED,
		     "BASEPRI was 0x50 when the CPU reached the ROM: interrupts of priority 0x50 to 0xF0 "
		     "were masked, the ROM's USB interrupt among them (0x60 in the model");
	place_is(&r, c, "the branch", DIAG_SRC("basepri"), "diagnose: branch");
	assert_non_null(strstr(c->fix, "__set_BASEPRI(0); __enable_irq();"));
	check_is(&r, "rom-answers", DIAG_PASSED, NULL);
	/* Only the USART wanted: it polls, so a warning. */
	o.iface = DIAG_IF_USART;
	diagnose_again(&o, &r, "");
	check_is(&r, "primask", DIAG_WARNING, "BASEPRI was 0x50");
	/* A ROM that gives its USB interrupt 0x30, above BASEPRI: USB works, and a warning says on what. */
	o.iface = DIAG_IF_USB;
	o.cfg.rom_usb_irq_priority = 0x30;
	diagnose_again(&o, &r, "");
	c = check_is(&r, "primask", DIAG_WARNING,
		     "The ROM's USB interrupt is more urgent in the model (0x30, --rom-usb-priority), "
		     "so its USB DFU works here");
	place_is(&r, c, "the branch", DIAG_SRC("basepri"), "diagnose: branch");
	done(&o, &r);
}

static void ram_flag(void **state)
{
	static const struct diag_case k = {
		"ram_flag", "uart:bootloader\r\n", "rom-entry request-flag", "request-flag",
		"0xB007C0DE at 0x2000",
		{ { "the request stored", DIAG_SRC("ram_flag"), "diagnose: store" },
		  { "the start-up code", "startup/startup.c", "*dst++ = 0;" },
		  { "the request read", DIAG_SRC("ram_flag"), "diagnose: read" } },
	};
	struct diag_options o;
	struct diag_report r;
	const struct diag_check *c;

	(void)state;
	c = run_case(&k, &o, &r);
	assert_non_null(strstr(c->summary, "enter_bootloader_flag, in .bss"));
	assert_non_null(strstr(c->summary, "zeroed"));
	check_is(&r, "rom-entry", DIAG_FAILED, "1 software reset");
	done(&o, &r);
}

static void flag_loop(void **state)
{
	static const struct diag_case k = {
		"flag_loop", "uart:bootloader\r\n", "request-loop", "request-loop", "(3 of 3 hand-backs)",
		{ { "the request written", DIAG_SRC("flag_loop"), "diagnose: store" },
		  { "again", DIAG_SRC("flag_loop"), "diagnose: branch" } },
	};
	struct diag_options o;
	struct diag_report r;
	const struct diag_check *c;

	(void)state;
	c = run_case(&k, &o, &r);
	assert_non_null(strstr(c->summary, "after Go 0x08000000, after a reset"));
	assert_non_null(strstr(c->summary, "RTC_BKP0R still holds 0xB007C0DE"));
	assert_int_equal(r.rom_entries, 4);
	/* The first entry itself was clean. */
	check_is(&r, "rom-answers", DIAG_PASSED, NULL);
	check_is(&r, "remap", DIAG_PASSED, NULL);
	done(&o, &r);
}

/* A 1 s watchdog: fatal without an LSE (2.56 s start-up), fine with one (55 ms). */
static void iwdg_short(void **state)
{
	struct diag_options o;
	struct diag_report r;
	const struct diag_check *c;

	(void)state;
	diag_firmware(&o, "iwdg_short", "uart:bootloader\r\n");
	o.cfg.lse = false;
	diagnose_expect(&o, &r, "watchdog");
	c = check_is(&r, "watchdog", DIAG_FAILED, "reset the board 1000 ms after the jump");
	assert_non_null(strstr(c->summary, "2560 ms without an LSE"));
	place_is(&r, c, "the watchdog started", DIAG_SRC("iwdg_short"), "diagnose: iwdg");
	place_is(&r, c, "the branch", DIAG_SRC("iwdg_short"), "diagnose: branch");
	check_is(&r, "rom-answers", DIAG_NOT_CHECKED, "a reset ended the ROM session");

	o.cfg.lse = true;
	diagnose_again(&o, &r, "");
	check_is(&r, "watchdog", DIAG_PASSED, "was running");

	/* A ROM that refreshes all through its start-up would survive it (--rom-iwdg always). */
	o.cfg.lse = false;
	o.cfg.rom_iwdg = SIM_ROM_IWDG_ALWAYS;
	diagnose_again(&o, &r, "");
	done(&o, &r);
}

/* A board with neither an LSE nor a listed HSE: no USB DFU from the ROM. */
static void dfu_without_clock(void **state)
{
	struct diag_options o;
	struct diag_report r;
	const struct diag_check *c;

	(void)state;
	stub_and_app(&o);
	o.cfg.lse = false;
	o.cfg.hse_hz = 25000000u;
	o.iface = DIAG_IF_USB;
	diagnose_expect(&o, &r, "usb-clock");
	c = check_is(&r, "usb-clock", DIAG_FAILED, "does not offer USB DFU");
	assert_non_null(strstr(c->summary, "The board has no LSE and an HSE of 25 MHz, not one of 24, 20, 18, 16, 12, 9, 8, 6 or 4 MHz"));

	/* Without saying USB is wanted, it is a warning. */
	o.iface = DIAG_IF_BOTH;
	diagnose_again(&o, &r, "");
	check_is(&r, "usb-clock", DIAG_WARNING, NULL);

	/* 12 MHz is one the ROM knows. */
	o.iface = DIAG_IF_USB;
	o.cfg.hse_hz = 12000000u;
	diagnose_again(&o, &r, "");
	check_is(&r, "usb-clock", DIAG_PASSED, "12 MHz");
	done(&o, &r);
}

/* ---- The correct entries --------------------------------------------------------- */

static void all_passed(const struct diag_report *r)
{
	static const char *const ids[] = {
		"rom-entry", "branch", "request-flag", "remap", "dual-bank", "sysclk", "systick",
		"nvic", "primask", "watchdog", "usb-clock", "rom-answers", "request-loop",
	};
	unsigned i;

	assert_int_equal(r->nchecks, sizeof(ids) / sizeof(ids[0]));
	for (i = 0; i < r->nchecks; i++) {
		assert_string_equal(r->checks[i].id, ids[i]);
		if (r->checks[i].status != DIAG_PASSED) {
			dump(r);
			fail_msg("%s: %s", ids[i], diag_status_str(r->checks[i].status));
		}
	}
	assert_true(diag_report_ok(r));
}

static void stub_and_application(void **state)
{
	struct diag_options o;
	struct diag_report r;
	const struct diag_check *c;

	(void)state;
	stub_and_app(&o);
	run(&o, &r);
	all_passed(&r);
	/* The jump is the library's, in the stub (its ELF has line information). */
	c = diag_find(&r, "rom-entry");
	assert_int_equal(c->nplaces, 1);
	assert_non_null(c->places[0].loc.file);
	assert_non_null(strstr(c->places[0].loc.file, "lib/enter.c"));
	assert_string_equal(c->places[0].loc.symbol, "sysboot_enter_rom");
	assert_non_null(strstr(r.serial, "entering bootloader"));
	assert_non_null(strstr(r.serial, "boot cause: returned from ROM bootloader"));
	done(&o, &r);
}

static void library_entry_from_reset(void **state)
{
	struct diag_options o;
	struct diag_report r;

	(void)state;
	options(&o, "reset");
	add_file(&o, "tests/entry_ok.elf", 0);
	run(&o, &r);
	all_passed(&r);
	done(&o, &r);
}

/* ---- What the run itself must get right -------------------------------------------- */

/* A function called as a debugger would, that returns: the firmware carries on. */
static void call_that_returns(void **state)
{
	struct diag_options o;
	struct diag_report r;

	(void)state;
	diag_firmware(&o, "remap_lost", "call:diag_systick_stop");
	o.timeout_ms = 50;
	diagnose_expect(&o, &r, "rom-entry");
	check_is(&r, "rom-entry", DIAG_FAILED, "diag_systick_stop returned to its caller");
	done(&o, &r);
}

static void call_of_an_unknown_symbol(void **state)
{
	struct diag_options o;
	struct diag_report r;
	char err[256];

	(void)state;
	diag_firmware(&o, "remap_lost", "call:no_such_function");
	assert_int_equal(diagnose_run(&o, &r, err, sizeof(err)), DIAG_EXIT_USAGE);
	assert_string_equal(err, "--trigger call:no_such_function: no symbol 'no_such_function' in the ELF files loaded");
	free((char *)o.files[0]);
}

static void missing_file(void **state)
{
	struct diag_options o;
	struct diag_report r;
	char err[256];

	(void)state;
	options(&o, "reset");
	add_file(&o, "tests/diag/no_such.elf", 0);
	assert_int_equal(diagnose_run(&o, &r, err, sizeof(err)), DIAG_EXIT_SETUP);
	assert_non_null(strstr(err, "no_such.elf: No such file or directory"));
	free((char *)o.files[0]);
}

/* The firmware never reacts to the trigger. */
static void nothing_happens(void **state)
{
	struct diag_options o;
	struct diag_report r;

	(void)state;
	diag_firmware(&o, "remap_lost", "uart:hello\r\n");
	o.timeout_ms = 100;
	diagnose_expect(&o, &r, "rom-entry");
	check_is(&r, "rom-entry", DIAG_FAILED, "Nothing happened: within 100 ms of the trigger");
	check_is(&r, "request-flag", DIAG_NOT_CHECKED, "did not reset itself");
	done(&o, &r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vector_table),
		{ "even_address", simple_case, NULL, NULL, (void *)&even_address_case },
		cmocka_unit_test(remap_lost),
		cmocka_unit_test(no_remap),
		{ "pll_on", simple_case, NULL, NULL, (void *)&pll_on_case },
		{ "systick_on", simple_case, NULL, NULL, (void *)&systick_on_case },
		{ "irq_enabled", simple_case, NULL, NULL, (void *)&irq_enabled_case },
		{ "irq_pending", simple_case, NULL, NULL, (void *)&irq_pending_case },
		cmocka_unit_test(isr_jump),
		cmocka_unit_test(primask),
		cmocka_unit_test(basepri),
		cmocka_unit_test(ram_flag),
		cmocka_unit_test(flag_loop),
		cmocka_unit_test(iwdg_short),
		cmocka_unit_test(dfu_without_clock),
		cmocka_unit_test(stub_and_application),
		cmocka_unit_test(library_entry_from_reset),
		cmocka_unit_test(call_that_returns),
		cmocka_unit_test(call_of_an_unknown_symbol),
		cmocka_unit_test(missing_file),
		cmocka_unit_test(nothing_happens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
