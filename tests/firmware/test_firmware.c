/*
 * test_firmware.c - the boot stub, the entry library and the reference
 * application running on the emulated Nucleo-L476RG: every path by which a
 * board ends up in its application or in the ROM bootloader, including the
 * ones an interrupted or corrupted update produces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "badimage.h"
#include "board.h"
#include "harness.h"
#include "sysboot.h"
#include "sysboot/an3155.h"
#include "sysboot/crc32.h"
#include "sysboot/image.h"

#define BANNER "sysboot reference application v"

static struct sim_board *board_with_app(const char *image)
{
	struct sim_board *sb = board_new(NULL);

	board_load(sb, "stub.elf", 0);
	if (image)
		board_load(sb, image, SYSBOOT_HEADER_ADDR);
	return sb;
}

/* Is the ROM bootloader running and answering 0x7F with ACK? */
static bool rom_answers(struct sim_board *sb)
{
	const uint8_t sync = AN3155_SYNC;
	char in[256];

	if (!sim_in_rom(sb))
		return false;
	run_for(sb, 60);                 /* its start-up time */
	while (sim_uart_take(sb, 2, in, sizeof(in)))
		;                        /* what the application printed before */
	sim_uart_send(sb, 2, &sync, 1);
	run_for(sb, 2);
	return sim_uart_take(sb, 2, in, sizeof(in)) == 1 && (uint8_t)in[0] == AN3155_ACK;
}

static uint32_t bkp(struct sim_board *sb, unsigned n)
{
	return board_of(sb)->rtc.bkp[n];
}

static void valid_application_prints_its_banner(void **state)
{
	struct sim_board *sb = board_with_app("app-v1.img");
	char out[256] = { 0 };

	(void)state;
	sim_power_on(sb);
	assert_true(run_until_uart(sb, "(boot cause: power-on)", 500));
	sim_uart_take(sb, 2, out, sizeof(out) - 1);
	assert_non_null(strstr(out, BANNER "1.0.0"));
	assert_false(sim_in_rom(sb));
	sim_uart_send(sb, 2, "version\r", 8);
	assert_true(run_until_uart(sb, "version 1.0.0", 100));
	/* LD2 blinks every 500 ms, on SysTick time. */
	run_for(sb, 2100);
	assert_in_range(sim_led_toggles(sb), 4, 5);
	sim_board_free(sb);
}

static void long_button_press_enters_the_rom(void **state)
{
	struct sim_board *sb = board_with_app("app-v1.img");

	(void)state;
	sim_power_on(sb);
	assert_true(run_until_uart(sb, BANNER, 500));
	sim_set_button(sb, true);
	run_for(sb, 1000);
	assert_false(sim_in_rom(sb));      /* not yet: 2 s are needed */
	run_for(sb, 1200);
	sim_set_button(sb, false);
	assert_true(rom_answers(sb));
	assert_int_equal(bkp(sb, SYSBOOT_BKP_REASON), SYSBOOT_REASON_BUTTON);
	sim_board_free(sb);
}

static void bootloader_command_enters_the_rom(void **state)
{
	struct sim_board *sb = board_with_app("app-v2.img");

	(void)state;
	sim_power_on(sb);
	assert_true(run_until_uart(sb, BANNER "2.0.0", 500));
	run_for(sb, 20);                 /* an idle application (the banner is out) */
	sim_uart_send(sb, 2, "bootloader\r\n", 12);
	assert_true(run_until_uart(sb, "entering bootloader", 100));
	run_for(sb, 20);
	assert_true(traced(sb, SIM_TRACE_RESET, "software (SYSRESETREQ) reset"));
	assert_true(traced(sb, SIM_TRACE_REMAP, "now shows system memory"));
	assert_true(rom_answers(sb));
	/* The request was consumed: a reset now starts the application again. */
	assert_int_equal(bkp(sb, SYSBOOT_BKP_REQUEST), 0);
	assert_int_equal(bkp(sb, SYSBOOT_BKP_ENTERED) & SYSBOOT_ROM_MARKER_MASK, SYSBOOT_ROM_MARKER);
	sim_reset(sb, SIM_RESET_PIN);
	assert_true(run_until_uart(sb, BANNER "2.0.0", 500));
	sim_board_free(sb);
}

static void missing_application_falls_back_to_the_rom(void **state)
{
	struct sim_board *sb = board_with_app(NULL);

	(void)state;
	sim_power_on(sb);
	run_for(sb, 10);
	assert_true(rom_answers(sb));
	assert_int_equal(bkp(sb, SYSBOOT_BKP_ENTERED),
			 SYSBOOT_ROM_MARKER | SYSBOOT_ROM_WHY_IMAGE(SYSBOOT_IMAGE_NO_HEADER));
	sim_board_free(sb);
}

static void corrupt_body_falls_back_to_the_rom(void **state)
{
	struct sim_board *sb = board_with_app("app-v1.img");
	char err[256];
	uint8_t zero = 0;

	(void)state;
	/* One byte of the body differs from what the header's CRC covers. */
	assert_int_equal(sim_load_bytes(sb, SYSBOOT_APP_BASE + 0x300, &zero, 1, err, sizeof(err)), 0);
	sim_power_on(sb);
	run_for(sb, 10);
	assert_true(rom_answers(sb));
	assert_int_equal(bkp(sb, SYSBOOT_BKP_ENTERED),
			 SYSBOOT_ROM_MARKER | SYSBOOT_ROM_WHY_IMAGE(SYSBOOT_IMAGE_BAD_CRC));
	sim_board_free(sb);
}

static void torn_header_falls_back_to_the_rom(void **state)
{
	struct sim_board *sb = board_with_app("app-v1.img");
	uint8_t erased[32];
	char err[256];

	(void)state;
	/* Power lost while the header's last half was being written. */
	memset(erased, 0xFF, sizeof(erased));
	assert_int_equal(sim_load_bytes(sb, SYSBOOT_HEADER_ADDR + 32, erased, sizeof(erased),
					err, sizeof(err)), 0);
	sim_power_on(sb);
	run_for(sb, 10);
	assert_true(rom_answers(sb));
	assert_int_equal(bkp(sb, SYSBOOT_BKP_ENTERED),
			 SYSBOOT_ROM_MARKER | SYSBOOT_ROM_WHY_IMAGE(SYSBOOT_IMAGE_BAD_HEADER_CRC));
	sim_board_free(sb);
}

/*
 * Rewrite the image's first 0x400 bytes as an interrupted update would,
 * with the power cut half way through the double word at cut_addr: the
 * header is whole, the body torn there (and erased after it).
 */
static struct sim_board *board_torn_at(enum sim_torn_mode mode, uint32_t cut_addr)
{
	struct sim_config cfg;
	struct sim_board *sb;
	struct sim_cut_trigger t;
	uint8_t img[0x400];
	uint16_t page = (uint16_t)((SYSBOOT_HEADER_ADDR - STM32_FLASH_BASE) / STM32_FLASH_PAGE_SIZE);
	char why[128], spec[64];
	FILE *f = fopen(fw_path("app-v1.img"), "rb");

	assert_non_null(f);
	assert_int_equal(fread(img, 1, sizeof(img), f), sizeof(img));
	fclose(f);
	sim_config_default(&cfg);
	cfg.torn_program = mode;
	sb = board_new(&cfg);
	board_load(sb, "stub.elf", 0);
	board_load(sb, "app-v1.img", SYSBOOT_HEADER_ADDR);
	sim_power_on(sb);
	assert_int_equal(flash_rom_erase_pages(board_of(sb), &page, 1, why, sizeof(why)), 0);
	snprintf(spec, sizeof(spec), "program@0x%08x+41", cut_addr);
	assert_int_equal(sim_cut_trigger_parse(spec, &t, why, sizeof(why)), 0);
	sim_power_cut_on(sb, &t);
	assert_int_equal(flash_rom_program(board_of(sb), SYSBOOT_HEADER_ADDR, img, sizeof(img),
					   why, sizeof(why)), -1);
	sim_power_on(sb);
	return sb;
}

static void ecc_error_in_the_image_falls_back_to_the_rom(void **state)
{
	struct sim_board *sb = board_torn_at(SIM_TORN_ECC, SYSBOOT_APP_BASE + 0x100);

	(void)state;
	/* RM0351 3.3.8: the stub's read of the torn double word raises an NMI. */
	run_for(sb, 10);
	assert_true(traced(sb, SIM_TRACE_FLASH, "uncorrectable ECC error reading the double word at 0x08002300"));
	assert_true(rom_answers(sb));
	assert_int_equal(bkp(sb, SYSBOOT_BKP_ENTERED),
			 SYSBOOT_ROM_MARKER | SYSBOOT_ROM_WHY_IMAGE(SYSBOOT_IMAGE_ECC_ERROR));
	/* Cleared by the stub before the ROM runs. */
	assert_int_equal(board_of(sb)->flashc.eccr & FLASH_ECCR_ECCD, 0);
	sim_board_free(sb);
}

static void torn_bits_in_the_image_fail_its_crc(void **state)
{
	struct sim_board *sb = board_torn_at(SIM_TORN_BITS, SYSBOOT_APP_BASE + 0x100);

	(void)state;
	run_for(sb, 10);
	assert_false(traced(sb, SIM_TRACE_FLASH, "uncorrectable ECC error"));
	assert_true(rom_answers(sb));
	assert_int_equal(bkp(sb, SYSBOOT_BKP_ENTERED),
			 SYSBOOT_ROM_MARKER | SYSBOOT_ROM_WHY_IMAGE(SYSBOOT_IMAGE_BAD_CRC));
	sim_board_free(sb);
}

static void ecc_error_in_the_header_falls_back_to_the_rom(void **state)
{
	struct sim_board *sb = board_torn_at(SIM_TORN_ECC, SYSBOOT_HEADER_ADDR + 0x10);

	(void)state;
	run_for(sb, 10);
	assert_true(rom_answers(sb));
	assert_int_equal(bkp(sb, SYSBOOT_BKP_ENTERED),
			 SYSBOOT_ROM_MARKER | SYSBOOT_ROM_WHY_IMAGE(SYSBOOT_IMAGE_ECC_ERROR));
	sim_board_free(sb);
}

/* Every malformed image: the stub enters the ROM and records why in BKP2R. */
static void malformed_images_are_refused_by_the_stub(void **state)
{
	static uint8_t good[0x1000], img[0x1000];
	size_t len;
	unsigned i;
	FILE *f = fopen(fw_path("app-v1.img"), "rb");

	(void)state;
	assert_non_null(f);
	len = fread(good, 1, sizeof(good), f);
	fclose(f);
	for (i = 0; i < badimage_nkinds; i++) {
		const struct badimage_kind *k = &badimage_kinds[i];
		struct sim_board *sb = board_with_app(NULL);
		char err[256];

		memcpy(img, good, len);
		assert_non_null(badimage_make(img, len, k->name));
		assert_int_equal(sim_load_bytes(sb, SYSBOOT_HEADER_ADDR, img, len, err, sizeof(err)), 0);
		sim_power_on(sb);
		run_for(sb, 10);
		if (!rom_answers(sb))
			fail_msg("%s: the stub did not fall back to the ROM", k->name);
		if (bkp(sb, SYSBOOT_BKP_ENTERED) != (SYSBOOT_ROM_MARKER | SYSBOOT_ROM_WHY_IMAGE(k->status)))
			fail_msg("%s: BKP2R 0x%08x, expected 0x%08x", k->name, bkp(sb, SYSBOOT_BKP_ENTERED),
				 SYSBOOT_ROM_MARKER | SYSBOOT_ROM_WHY_IMAGE(k->status));
		/* The same word for a host, with its complement, at the end of SRAM2. */
		assert_int_equal(sim_read32(sb, SYSBOOT_ROM_RECORD_ADDR),
				 SYSBOOT_ROM_MARKER | SYSBOOT_ROM_WHY_IMAGE(k->status));
		assert_int_equal(sim_read32(sb, SYSBOOT_ROM_RECORD_ADDR + 4),
				 ~(SYSBOOT_ROM_MARKER | SYSBOOT_ROM_WHY_IMAGE(k->status)));
		sim_board_free(sb);
	}
}

static void other_nmi_in_the_stub_enters_the_rom(void **state)
{
	struct sim_board *sb = board_with_app("app-v1.img");

	(void)state;
	/* 2 ms in, the stub is computing the CRC: an NMI that is no ECC error. */
	sim_power_on(sb);
	run_for(sb, 2);
	assert_false(sim_in_rom(sb));
	nvic_set_pending(board_of(sb), EXC_NMI);
	run_for(sb, 10);
	assert_true(rom_answers(sb));
	assert_int_equal(bkp(sb, SYSBOOT_BKP_ENTERED), SYSBOOT_ROM_MARKER | SYSBOOT_ROM_WHY_NMI);
	sim_board_free(sb);
}

/* ---- The reference application's serial line ---------------------------------- */

#define UNKNOWN_TAIL "\" (commands: version, bootloader, reset)\r\n"
#define TOO_LONG     "unknown command (line too long)\r\n"
#define DROPPED      "line dropped (receive error)\r\n"
#define VERSION      "version 1.0.0\r\n"
/* app.c RX_RING_SIZE: the bytes the application holds while it prints. */
#define APP_RX_RING  128u

/* Append what USART2 sent since the last call to out (NUL-terminated). */
static void take_output(struct sim_board *sb, char *out, size_t cap)
{
	size_t len = strlen(out), n;

	while (len + 1 < cap && (n = sim_uart_take(sb, 2, out + len, cap - 1 - len)) > 0)
		len += n;
	out[len] = '\0';
}

/* The texts (NULL-terminated list) appear in out, each after the one before. */
static void assert_in_order(const char *out, ...)
{
	const char *at = out, *text;
	unsigned i = 0;
	va_list ap;

	va_start(ap, out);
	while ((text = va_arg(ap, const char *)) != NULL) {
		const char *p = strstr(at, text);

		i++;
		if (!p)
			fail_msg("\"%s\" (text %u) not found after offset %zu of:\n%s", text, i,
				 (size_t)(at - out), out);
		at = p + strlen(text);
	}
	va_end(ap);
}

static unsigned count_of(const char *out, const char *text)
{
	unsigned n = 0;

	for (; (out = strstr(out, text)) != NULL; out += strlen(text))
		n++;
	return n;
}

/* A line was dropped, and the one command after it ran. */
static void assert_dropped_then_version(const char *out)
{
	assert_in_order(out, DROPPED, VERSION, NULL);
	assert_int_equal(count_of(out, "version 1.0.0"), 1);
}

/* Power on and run until the banner line is complete; what it printed is taken. */
static struct sim_board *app_running(const char *image)
{
	struct sim_board *sb = board_with_app(image);
	char banner[256];

	sim_power_on(sb);
	assert_true(run_until_uart(sb, "(boot cause: power-on)\r\n", 500));
	while (sim_uart_take(sb, 2, banner, sizeof(banner)))
		;
	return sb;
}

static bool sent_yet(struct sim_board *sb, const char *text)
{
	return usart_output_contains(&board_of(sb)->usart[1], 0, text);
}

/* "version" sent while the application has still to print pending: answered. */
static void version_sent_before(struct sim_board *sb, const char *pending)
{
	assert_false(sent_yet(sb, pending));
	sim_uart_send(sb, 2, "version\r", 8);
	assert_true(run_until_uart(sb, VERSION, 100));
}

static void command_sent_during_the_banner_is_executed(void **state)
{
	struct sim_board *sb = board_with_app("app-v1.img");
	char out[1024] = "";

	(void)state;
	sim_power_on(sb);
	assert_true(run_until_uart(sb, BANNER, 500));
	/* The banner is still on its way out: about 30 characters, 2.6 ms. */
	version_sent_before(sb, "(boot cause: power-on)\r\n");
	take_output(sb, out, sizeof(out));
	assert_in_order(out, BANNER "1.0.0 (boot cause: power-on)\r\n", VERSION, NULL);
	sim_board_free(sb);
}

static void command_sent_during_a_long_answer_is_executed(void **state)
{
	static const char junk[] = "abcdefghijklmnopqrstuvwxyz0123\r";
	struct sim_board *sb = app_running("app-v1.img");
	char out[1024] = "";

	(void)state;
	sim_uart_send(sb, 2, junk, sizeof(junk) - 1);
	assert_true(run_until_uart(sb, "unknown command \"", 100));
	/* About 90 characters of answer, 8 ms: most of it still to come. */
	version_sent_before(sb, UNKNOWN_TAIL);
	take_output(sb, out, sizeof(out));
	assert_in_order(out, "unknown command \"abcdefghijklmnopqrstuvwxyz0123" UNKNOWN_TAIL,
			VERSION, NULL);
	sim_board_free(sb);
}

static void burst_of_commands_runs_in_order(void **state)
{
	static const char burst[] = "version\rnope\nversion\r\n\r\nwhat\rversion\r";
	struct sim_board *sb = app_running("app-v1.img");
	char out[2048] = "";

	(void)state;
	/* Back to back, as a script or a paste sends them. */
	sim_uart_send(sb, 2, burst, sizeof(burst) - 1);
	run_for(sb, 50);
	take_output(sb, out, sizeof(out));
	assert_in_order(out, VERSION, "unknown command \"nope" UNKNOWN_TAIL, VERSION,
			"unknown command \"what" UNKNOWN_TAIL, VERSION, NULL);
	assert_int_equal(count_of(out, "version 1.0.0"), 3);
	assert_int_equal(count_of(out, "unknown command"), 2);
	assert_null(strstr(out, "line dropped"));
	/* ...and a last one that leaves for the ROM after the others ran. */
	sim_uart_send(sb, 2, "nope\rbootloader\r\n", 17);
	assert_true(run_until_uart(sb, "entering bootloader\r\n", 100));
	run_for(sb, 20);
	out[0] = '\0';
	take_output(sb, out, sizeof(out));
	assert_in_order(out, "unknown command \"nope" UNKNOWN_TAIL, "entering bootloader\r\n", NULL);
	assert_true(rom_answers(sb));
	sim_board_free(sb);
}

static void line_longer_than_the_buffers_is_refused(void **state)
{
	static char line[3 * APP_RX_RING + 16];
	struct sim_board *sb = app_running("app-v1.img");
	char out[1024] = "";

	(void)state;
	/* Longer than the line (32) and than the receive buffer, then a command at once. */
	memset(line, 'a', 3 * APP_RX_RING);
	memcpy(line + 3 * APP_RX_RING, "\rversion\r", 9);
	sim_uart_send(sb, 2, line, 3 * APP_RX_RING + 9);
	run_for(sb, 80);
	take_output(sb, out, sizeof(out));
	assert_in_order(out, TOO_LONG, VERSION, NULL);
	assert_int_equal(count_of(out, "unknown command"), 1);
	assert_null(strstr(out, "line dropped"));
	sim_board_free(sb);
}

/* More input than the application holds while it prints: the broken line is dropped. */
static void input_beyond_the_buffer_drops_the_broken_line(void **state)
{
	static char burst[2 * (APP_RX_RING / 2 + 16)], out[16384];
	struct sim_board *sb = app_running("app-v1.img");
	unsigned lines = APP_RX_RING / 2 + 16, i, answered, dropped;

	(void)state;
	out[0] = '\0';
	/* Each "x\r" takes 0.17 ms to arrive and its answer 5 ms to leave. */
	for (i = 0; i < lines; i++)
		memcpy(burst + 2 * i, "x\r", 2);
	sim_uart_send(sb, 2, burst, 2 * lines);
	run_for(sb, 500);
	/* The broken line may have lost its end: a line end, then a command. */
	sim_uart_send(sb, 2, "\rversion\r", 9);
	assert_true(run_until_uart(sb, VERSION, 100));
	take_output(sb, out, sizeof(out));
	answered = count_of(out, "unknown command \"x" UNKNOWN_TAIL);
	dropped = count_of(out, DROPPED);
	/* What the buffer held was answered; what did not fit was lost and said so. */
	assert_in_range(answered, APP_RX_RING / 2 - 2, lines - 1);
	assert_true(dropped >= 1);
	assert_true(answered + dropped <= lines);
	assert_dropped_then_version(out);
	sim_board_free(sb);
}

/* A framing error or noise on a byte: its line is dropped, the next one runs. */
static void line_with_a_framing_error_or_noise_is_dropped(void **state)
{
	static const unsigned errors[] = { USART_ERR_FE, USART_ERR_NF };
	unsigned i;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct sim_board *sb = app_running("app-v1.img");
		struct board *b = board_of(sb);
		char out[1024] = "";

		sim_uart_send(sb, 2, "ver", 3);
		run_for(sb, 2);
		usart_inject_error(b, &b->usart[1], 's', errors[i]);
		run_for(sb, 1);
		sim_uart_send(sb, 2, "ion\rversion\r", 12);
		run_for(sb, 20);
		take_output(sb, out, sizeof(out));
		assert_dropped_then_version(out);
		assert_int_equal(b->usart[1].isr & (USART_ISR_FE | USART_ISR_NF), 0);
		sim_board_free(sb);
	}
}

/*
 * An overrun: the core stops while a line arrives (a debugger's halt, or a
 * flash erase in the bank the code runs from stalls it for 22 ms, RM0351
 * 3.3.7). The application clears ORE, without which the USART receives
 * nothing more (RM0351 40.5.3), and drops the line.
 */
static void overrun_drops_the_line_and_reception_goes_on(void **state)
{
	struct sim_board *sb = app_running("app-v1.img");
	struct board *b = board_of(sb);
	char out[1024] = "";

	(void)state;
	sim_uart_send(sb, 2, "version\r", 8);
	usart_poll(b, &b->usart[1]);
	assert_true(board_advance(b, SIM_MS(2)));       /* the core does not run */
	assert_true(b->usart[1].isr & USART_ISR_ORE);
	sim_uart_send(sb, 2, "\rversion\r", 9);
	run_for(sb, 20);
	take_output(sb, out, sizeof(out));
	assert_dropped_then_version(out);
	assert_int_equal(b->usart[1].isr & USART_ISR_ORE, 0);
	sim_board_free(sb);
}

struct rom_entry_state {
	unsigned entries;
	unsigned irqs_enabled, irqs_pending;
	uint32_t systick_csr, usart2_cr1;
};

static void note_rom_entry(void *ctx, struct sim_board *sb, uint32_t from_pc)
{
	struct rom_entry_state *s = ctx;
	const struct board *b = board_of(sb);
	unsigned i;

	(void)from_pc;
	s->entries++;
	for (i = EXC_IRQ0; i < NVIC_EXC_COUNT; i++) {
		s->irqs_enabled += b->nvic.enabled[i] != 0;
		s->irqs_pending += b->nvic.pending[i] != 0;
	}
	s->systick_csr = b->systick.csr;
	s->usart2_cr1 = b->usart[1].cr1;
}

/* The bench's race: sysboot's enter command while v1 still prints its banner. */
static void bootloader_sent_during_the_banner_enters_the_rom(void **state)
{
	struct sim_board *sb = board_with_app("app-v1.img");
	struct rom_entry_state s = { 0 };
	struct sim_observer obs = { .ctx = &s, .rom_entry = note_rom_entry };

	(void)state;
	sim_observe(sb, &obs);
	sim_power_on(sb);
	assert_true(run_until_uart(sb, BANNER, 500));
	assert_false(sent_yet(sb, "(boot cause: power-on)\r\n"));
	sim_uart_send(sb, 2, "bootloader\r\n", 12);
	assert_true(run_until_uart(sb, "entering bootloader\r\n", 100));
	run_for(sb, 20);
	assert_true(rom_answers(sb));
	assert_int_equal(bkp(sb, SYSBOOT_BKP_REASON), SYSBOOT_REASON_COMMAND);
	/* The jump came after the reset: no interrupt of the application's is live. */
	assert_int_equal(s.entries, 1);
	assert_int_equal(s.irqs_enabled, 0);
	assert_int_equal(s.irqs_pending, 0);
	assert_int_equal(s.systick_csr, 0);
	assert_int_equal(s.usart2_cr1, 0);
	sim_board_free(sb);
}

/* ---- The independent watchdog ------------------------------------------------ */

#define OPTR_HW_WATCHDOG (FLASH_OPTR_DEFAULT & ~FLASH_OPTR_IWDG_SW)

static struct sim_board *watchdog_board(uint32_t optr, const char *image)
{
	struct sim_config cfg;
	struct sim_board *sb;

	sim_config_default(&cfg);
	cfg.optr = optr;
	sb = board_new(&cfg);
	board_load(sb, "stub.elf", 0);
	if (image)
		board_load(sb, image, SYSBOOT_HEADER_ADDR);
	return sb;
}

static unsigned resets(struct sim_board *sb, const char *cause)
{
	size_t i, n = 0;

	for (i = 0; i < sim_trace_count(sb); i++) {
		const struct sim_trace_entry *e = sim_trace_get(sb, i);

		n += e->kind == SIM_TRACE_RESET && strstr(e->text, cause) != NULL;
	}
	return n;
}

/* Run with the application up, ask it for the ROM, stay in the ROM: no watchdog reset. */
static void enter_the_rom_under_a_watchdog(struct sim_board *sb, const char *banner)
{
	sim_power_on(sb);
	assert_true(run_until_uart(sb, banner, 500));
	run_for(sb, 2000);                   /* 4 times the 512 ms reset timeout */
	sim_uart_send(sb, 2, "bootloader\r\n", 12);
	assert_true(run_until_uart(sb, "entering bootloader", 100));
	run_for(sb, 20);
	assert_true(rom_answers(sb));
	run_for(sb, 3000);
	assert_true(sim_in_rom(sb));
	assert_false(traced(sb, SIM_TRACE_WATCHDOG, "expired"));
	assert_int_equal(resets(sb, "independent watchdog"), 0);
}

static void hardware_watchdog_application_and_rom(void **state)
{
	struct sim_board *sb = watchdog_board(OPTR_HW_WATCHDOG, "app-v1.img");

	(void)state;
	/* IWDG_SW = 0: it runs from every reset; the application refreshes it. */
	enter_the_rom_under_a_watchdog(sb, BANNER "1.0.0");
	assert_true(traced(sb, SIM_TRACE_WATCHDOG, "independent watchdog started"));
	/* AN2606: the ROM takes it over (prescaler to its maximum, refreshed). */
	assert_true(traced(sb, SIM_TRACE_WATCHDOG, "the ROM sets the watchdog prescaler to /256"));
	sim_board_free(sb);
}

static void application_started_watchdog(void **state)
{
	struct sim_board *sb = watchdog_board(0, "app-wdg-v1.img");

	(void)state;
	enter_the_rom_under_a_watchdog(sb, BANNER "1.0.0");
	assert_true(traced(sb, SIM_TRACE_WATCHDOG, "independent watchdog started"));
	sim_board_free(sb);
}

static void unrefreshed_watchdog_would_reset(void **state)
{
	struct sim_board *sb = watchdog_board(OPTR_HW_WATCHDOG, NULL);

	(void)state;
	/* The check above can fail: an image-less board spins in nothing but the ROM... */
	sim_power_on(sb);
	run_for(sb, 10);
	assert_true(rom_answers(sb));
	sim_board_free(sb);
	/* ...while a board whose code never refreshes is reset by it. */
	sb = watchdog_board(OPTR_HW_WATCHDOG, NULL);
	board_load(sb, "tests/systick.elf", 0);
	sim_power_on(sb);
	run_for(sb, 1200);
	assert_true(traced(sb, SIM_TRACE_WATCHDOG, "expired"));
	sim_board_free(sb);
}

/* The stub's refreshes of the watchdog (its code is the first 8 KB of flash). */
static void count_stub_refresh(void *ctx, struct sim_board *sb, const struct sim_access *a)
{
	(void)sb;
	if (a->write && a->addr == IWDG_BASE + IWDG_KR && a->value == IWDG_KR_REFRESH &&
	    a->pc >= STM32_FLASH_BASE && a->pc < STM32_FLASH_BASE + SYSBOOT_STUB_SIZE)
		++*(unsigned *)ctx;
}

/*
 * A large image can take the stub longer to check than the hardware
 * watchdog's 512 ms (a byte-fed CRC took 0.8 s for 640 KB at 4 MHz; fed
 * words it takes 0.17 s here, but a real part needs more cycles per
 * instruction): it must refresh as it goes, at least once per 4 KB.
 */
static void stub_refreshes_the_watchdog_through_a_large_image(void **state)
{
	static uint8_t img[SYSBOOT_HEADER_SLOT + 640u * 1024u];
	struct sysboot_image_header hdr;
	uint8_t *body = img + SYSBOOT_HEADER_SLOT;
	uint32_t size = sizeof(img) - SYSBOOT_HEADER_SLOT, i;
	struct sim_board *sb = watchdog_board(OPTR_HW_WATCHDOG, NULL);
	size_t len;
	char err[256];
	unsigned refreshes = 0;
	FILE *f = fopen(fw_path("app-v1.img"), "rb");

	(void)state;
	assert_non_null(f);
	len = fread(img, 1, sizeof(img), f);
	fclose(f);
	for (i = (uint32_t)len - SYSBOOT_HEADER_SLOT; i < size; i++)
		body[i] = (uint8_t)(i * 31u);
	sysboot_image_header_decode(&hdr, img);
	sysboot_image_header_init(&hdr, size, sysboot_crc32(body, size), hdr.app_version);
	sysboot_image_header_encode(img, &hdr);
	assert_int_equal(sim_load_bytes(sb, SYSBOOT_HEADER_ADDR, img, sizeof(img), err, sizeof(err)), 0);
	sim_observe(sb, &(struct sim_observer){ .ctx = &refreshes, .access = count_stub_refresh });
	sim_power_on(sb);
	if (!run_until_uart(sb, BANNER "1.0.0", 3000)) {
		dump_trace(sb);
		fail_msg("no banner");
	}
	assert_true(refreshes >= size / 4096u);
	assert_false(traced(sb, SIM_TRACE_WATCHDOG, "expired"));
	sim_board_free(sb);
}

static void button_held_at_reset_enters_the_rom(void **state)
{
	struct sim_board *sb = board_with_app("app-v1.img");

	(void)state;
	sim_set_button(sb, true);
	sim_power_on(sb);
	run_for(sb, 10);
	assert_true(rom_answers(sb));
	assert_int_equal(bkp(sb, SYSBOOT_BKP_ENTERED), SYSBOOT_ROM_MARKER | SYSBOOT_ROM_WHY_BUTTON);
	sim_board_free(sb);
}

static void go_from_the_rom_starts_the_application(void **state)
{
	struct sim_board *sb = board_with_app("app-v1.img");
	const uint8_t go[2] = { AN3155_CMD_GO, 0xDE };
	const uint8_t addr[5] = { 0x08, 0x00, 0x00, 0x00, 0x08 };

	(void)state;
	sim_set_button(sb, true);
	sim_power_on(sb);
	run_for(sb, 10);
	sim_set_button(sb, false);
	assert_true(rom_answers(sb));
	sim_uart_send(sb, 2, go, 2);
	run_for(sb, 2);
	sim_uart_send(sb, 2, addr, 5);
	/* Go jumps to the stub without a reset; the stub starts the image. */
	assert_true(run_until_uart(sb, BANNER, 500));
	/* It receives again, at 8N1, while its banner is still going out. */
	version_sent_before(sb, "(boot cause: returned from ROM bootloader)\r\n");
	assert_true(sent_yet(sb, BANNER "1.0.0 (boot cause: returned from ROM bootloader)\r\nversion 1.0.0\r\n"));
	sim_board_free(sb);
}

static void request_with_a_wrong_check_is_ignored(void **state)
{
	struct sim_board *sb = board_with_app("app-v1.img");
	struct board *b = board_of(sb);

	(void)state;
	sim_power_on(sb);
	assert_true(run_until_uart(sb, BANNER, 500));
	b->rtc.bkp[SYSBOOT_BKP_REQUEST] = SYSBOOT_REQ_WORD(SYSBOOT_REASON_COMMAND);
	b->rtc.bkp[SYSBOOT_BKP_CHECK] = SYSBOOT_REQ_CHECK(SYSBOOT_REQ_WORD(SYSBOOT_REASON_COMMAND)) ^ 1u;
	sim_reset(sb, SIM_RESET_SOFTWARE);
	assert_true(run_until_uart(sb, BANNER, 500));
	assert_false(sim_in_rom(sb));
	/* And with the right check value the same reset enters the ROM. */
	b->rtc.bkp[SYSBOOT_BKP_CHECK] = SYSBOOT_REQ_CHECK(SYSBOOT_REQ_WORD(SYSBOOT_REASON_COMMAND));
	b->rtc.bkp[SYSBOOT_BKP_REQUEST] = SYSBOOT_REQ_WORD(SYSBOOT_REASON_COMMAND);
	sim_reset(sb, SIM_RESET_SOFTWARE);
	run_for(sb, 10);
	assert_true(rom_answers(sb));
	sim_board_free(sb);
}

static void request_survives_only_a_reset_not_a_power_cut(void **state)
{
	struct sim_board *sb = board_with_app("app-v1.img");
	struct board *b = board_of(sb);

	(void)state;
	sim_power_on(sb);
	assert_true(run_until_uart(sb, BANNER, 500));
	b->rtc.bkp[SYSBOOT_BKP_REQUEST] = SYSBOOT_REQ_WORD(0);
	b->rtc.bkp[SYSBOOT_BKP_CHECK] = SYSBOOT_REQ_CHECK(SYSBOOT_REQ_WORD(0));
	sim_power_off(sb);
	sim_power_on(sb);
	assert_true(run_until_uart(sb, BANNER, 500));
	assert_false(sim_in_rom(sb));
	sim_board_free(sb);
}

static void library_without_syscfg_clock_bounces_back(void **state)
{
	struct sim_board *sb = board_with("tests/entry_nosyscfg.elf", NULL);

	(void)state;
	/* The test build leaves SYSCFG unclocked: the remap is lost, the ROM bounces. */
	run_to_done(sb, 300);
	assert_true(traced(sb, SIM_TRACE_LOST_WRITE, "SYSCFG+0x00 lost"));
	assert_true(traced(sb, SIM_TRACE_ROM, "jumping back"));
	sim_board_free(sb);
}

static void library_with_syscfg_clock_stays_in_the_rom(void **state)
{
	struct sim_board *sb = board_with("tests/entry_ok.elf", NULL);

	(void)state;
	run_for(sb, 100);
	assert_true(rom_answers(sb));
	assert_false(traced(sb, SIM_TRACE_LOST_WRITE, "SYSCFG"));
	assert_false(traced(sb, SIM_TRACE_ROM, "jumping back"));
	sim_board_free(sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_application_prints_its_banner),
		cmocka_unit_test(bootloader_command_enters_the_rom),
		cmocka_unit_test(long_button_press_enters_the_rom),
		cmocka_unit_test(missing_application_falls_back_to_the_rom),
		cmocka_unit_test(corrupt_body_falls_back_to_the_rom),
		cmocka_unit_test(torn_header_falls_back_to_the_rom),
		cmocka_unit_test(ecc_error_in_the_image_falls_back_to_the_rom),
		cmocka_unit_test(torn_bits_in_the_image_fail_its_crc),
		cmocka_unit_test(ecc_error_in_the_header_falls_back_to_the_rom),
		cmocka_unit_test(malformed_images_are_refused_by_the_stub),
		cmocka_unit_test(other_nmi_in_the_stub_enters_the_rom),
		cmocka_unit_test(command_sent_during_the_banner_is_executed),
		cmocka_unit_test(command_sent_during_a_long_answer_is_executed),
		cmocka_unit_test(burst_of_commands_runs_in_order),
		cmocka_unit_test(line_longer_than_the_buffers_is_refused),
		cmocka_unit_test(input_beyond_the_buffer_drops_the_broken_line),
		cmocka_unit_test(line_with_a_framing_error_or_noise_is_dropped),
		cmocka_unit_test(overrun_drops_the_line_and_reception_goes_on),
		cmocka_unit_test(bootloader_sent_during_the_banner_enters_the_rom),
		cmocka_unit_test(hardware_watchdog_application_and_rom),
		cmocka_unit_test(application_started_watchdog),
		cmocka_unit_test(unrefreshed_watchdog_would_reset),
		cmocka_unit_test(stub_refreshes_the_watchdog_through_a_large_image),
		cmocka_unit_test(button_held_at_reset_enters_the_rom),
		cmocka_unit_test(go_from_the_rom_starts_the_application),
		cmocka_unit_test(request_with_a_wrong_check_is_ignored),
		cmocka_unit_test(request_survives_only_a_reset_not_a_power_cut),
		cmocka_unit_test(library_without_syscfg_clock_bounces_back),
		cmocka_unit_test(library_with_syscfg_clock_stays_in_the_rom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
