/*
 * test_update.c - the update sequence against the scripted ROM through a
 * real pseudo-terminal.
 *
 * Why: the properties that make an update safe (header page erased first,
 * header written last, Ctrl-C only between blocks, a corrupt write caught
 * by the stub's check) are about the order of operations, which the fake
 * ROM records; the emulator end-to-end tests then show the same on the
 * real firmware. The pty also exercises the transport's parity fallback.
 */
#define _XOPEN_SOURCE 600
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "fake_rom.h"
#include "update.h"
#include "sysboot/crc32.h"
#include "sysboot/image.h"
#include "sysboot/stm32l476.h"

#define BODY_SIZE 3000u

struct fx {
	struct fake_rom rom;
	int master, keep;
	bool started;
	char port[64];
	char dir[64];
	char image[96];
	uint8_t file[SYSBOOT_HEADER_SLOT + BODY_SIZE];
};

static struct fx fx;

static void make_image(struct fx *f, uint32_t version)
{
	struct sysboot_image_header hdr;
	uint8_t *body = f->file + SYSBOOT_HEADER_SLOT;
	uint32_t sp = STM32_SRAM1_BASE + STM32_SRAM1_SIZE;
	uint32_t reset = SYSBOOT_APP_BASE + 0x101;
	unsigned i;
	FILE *fp;

	memset(f->file, 0xFF, sizeof(f->file));
	for (i = 0; i < BODY_SIZE; i++)
		body[i] = (uint8_t)(i * 13 + 5);
	memset(body + 512, 0xFF, 256);   /* one erased block to skip */
	memcpy(body, &sp, 4);
	memcpy(body + 4, &reset, 4);
	sysboot_image_header_init(&hdr, BODY_SIZE, sysboot_crc32(body, BODY_SIZE),
				  version);
	sysboot_image_header_encode(f->file, &hdr);
	fp = fopen(f->image, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(f->file, 1, sizeof(f->file), fp), sizeof(f->file));
	fclose(fp);
}

static int setup(void **state)
{
	struct termios tio;

	memset(&fx, 0, sizeof(fx));
	fx.master = posix_openpt(O_RDWR | O_NOCTTY);
	if (fx.master < 0 || grantpt(fx.master) || unlockpt(fx.master))
		return -1;
	snprintf(fx.port, sizeof(fx.port), "%s", ptsname(fx.master));
	fx.keep = open(fx.port, O_RDWR | O_NOCTTY);
	tcgetattr(fx.keep, &tio);
	cfmakeraw(&tio);
	tcsetattr(fx.keep, TCSANOW, &tio);
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/sysboot-test-update.XXXXXX");
	if (!mkdtemp(fx.dir))
		return -1;
	snprintf(fx.image, sizeof(fx.image), "%s/app.img", fx.dir);
	fx.rom.fd = fx.master;
	fx.rom.pid = STM32_DEV_ID;
	fx.rom.app_mode = true;
	memset(fx.rom.flash, 0xFF, sizeof(fx.rom.flash));
	make_image(&fx, SYSBOOT_VERSION(1, 2, 3));
	*state = &fx;
	return 0;
}

static void start(struct fx *f)
{
	f->started = true;
	pthread_create(&f->rom.thread, NULL, fake_rom_main, &f->rom);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	close(f->keep);
	if (f->started) {
		/* The fake ROM's read fails once the slave side is gone. */
		pthread_cancel(f->rom.thread);
		pthread_join(f->rom.thread, NULL);
	}
	close(f->master);
	unlink(f->image);
	rmdir(f->dir);
	return 0;
}

static void opts(struct update_opts *uo, struct fx *f)
{
	memset(uo, 0, sizeof(*uo));
	uo->co.port = f->port;
	uo->co.rom_startup_ms = 20;
	uo->co.sync_ms = 1000;
	uo->verify = VERIFY_STUB;
	uo->banner_timeout_ms = 1000;
}

static void test_update_ok(void **state)
{
	struct fx *f = *state;
	struct update_opts uo;
	struct update_result res;
	char err[1024] = "";

	start(f);
	opts(&uo, f);
	if (update_run(f->image, &uo, &res, err, sizeof(err)) != OP_OK)
		fail_msg("%s", err);
	assert_true(res.confirmed);
	assert_string_equal(res.running_version, "1.2.3");
	assert_int_equal(f->rom.entered, 1);
	/* The header's page first, the header's block last. */
	assert_int_equal(f->rom.erase_order[0], 4);
	assert_int_equal(f->rom.write_order[f->rom.nwritten - 1], SYSBOOT_HEADER_ADDR);
	assert_true(res.ws.blocks_skipped >= 2);  /* header padding, erased block */
	assert_memory_equal(f->rom.flash + 0x2000, f->file, sizeof(f->file));
	assert_int_equal(res.ws.pages_erased, 2);
}

static void test_update_readback(void **state)
{
	struct fx *f = *state;
	struct update_opts uo;
	struct update_result res;
	char err[1024] = "";

	start(f);
	opts(&uo, f);
	uo.verify = VERIFY_READBACK;
	if (update_run(f->image, &uo, &res, err, sizeof(err)) != OP_OK)
		fail_msg("%s", err);
	assert_true(res.confirmed);
}

static void test_stub_rejects(void **state)
{
	struct fx *f = *state;
	struct update_opts uo;
	struct update_result res;
	char err[1024] = "";

	f->rom.corrupt_addr = SYSBOOT_APP_BASE + 0x100;
	start(f);
	opts(&uo, f);
	assert_int_equal(update_run(f->image, &uo, &res, err, sizeof(err)),
			 OP_ERR_VERIFY);
	assert_non_null(strstr(err, "image rejected by the boot stub"));
	/* The stub's record in SRAM2, read through the ROM. */
	assert_non_null(strstr(err, "; the board says why: the boot stub refused the application "
			       "image: image body CRC mismatch"));
	assert_int_equal(f->rom.stub_rejected, 1);
}

static volatile sig_atomic_t stop;
static unsigned steps;

static void count_step(void *ctx, size_t done)
{
	(void)ctx;
	(void)done;
	if (++steps == 3)
		stop = 1;
}

static void test_interrupt_leaves_no_header(void **state)
{
	struct fx *f = *state;
	struct update_opts uo;
	struct update_result res;
	struct progress_ops po = { .step = count_step };
	char err[1024] = "";
	unsigned i;

	/* An old, valid image is on the board. */
	memcpy(f->rom.flash + 0x2000, f->file, sizeof(f->file));
	make_image(f, SYSBOOT_VERSION(2, 0, 0));
	start(f);
	opts(&uo, f);
	stop = 0;
	steps = 0;
	uo.po = &po;
	uo.stop = &stop;
	assert_int_equal(update_run(f->image, &uo, &res, err, sizeof(err)),
			 OP_ERR_INTERRUPTED);
	assert_true(res.erase_started);
	for (i = 0; i < SYSBOOT_IMAGE_HEADER_SIZE; i++)
		assert_int_equal(f->rom.flash[0x2000 + i], 0xFF);
}

static void test_not_an_image(void **state)
{
	struct fx *f = *state;
	struct update_opts uo;
	struct update_result res;
	char err[1024] = "";
	FILE *fp = fopen(f->image, "wb");

	fputs("this is not firmware\n", fp);
	fclose(fp);
	opts(&uo, f);
	assert_int_equal(update_run(f->image, &uo, &res, err, sizeof(err)),
			 OP_ERR_INPUT);
	assert_non_null(strstr(err, "is not a sysboot application image"));
}

static void test_overlaps_stub(void **state)
{
	struct fx *f = *state;
	struct sysboot_image_header hdr;
	struct flash_image im;
	uint8_t buf[0x2000 + sizeof(f->file)];
	char err[512];

	memset(buf, 0x00, 0x2000);
	memcpy(buf + 0x2000, f->file, sizeof(f->file));
	im.base = STM32_FLASH_BASE;
	im.len = sizeof(buf);
	im.data = buf;
	assert_int_equal(update_check_image(&im, "both.bin", false, &hdr, err,
					    sizeof(err)), OP_ERR_INPUT);
	assert_non_null(strstr(err, "overlaps the boot stub"));
	assert_int_equal(update_check_image(&im, "both.bin", true, &hdr, err,
					    sizeof(err)), OP_OK);
}

static void test_nobody_answers(void **state)
{
	struct fx *f = *state;
	struct update_opts uo;
	struct update_result res;
	char err[1024] = "", expect[256];

	opts(&uo, f);
	uo.co.sync_ms = 500;
	assert_int_equal(update_run(f->image, &uo, &res, err, sizeof(err)),
			 OP_ERR_NO_ANSWER);
	snprintf(expect, sizeof(expect), "no answer from the ROM bootloader on "
		 "%s: is the board in bootloader mode? (tried 5 times)", f->port);
	assert_non_null(strstr(err, expect));
}

static void test_no_such_port(void **state)
{
	struct fx *f = *state;
	struct update_opts uo;
	struct update_result res;
	char err[1024] = "";

	opts(&uo, f);
	uo.co.port = "/dev/ttyNOSUCHsysboot";
	assert_int_equal(update_run(f->image, &uo, &res, err, sizeof(err)),
			 OP_ERR_PORT);
	assert_non_null(strstr(err, "no such device: /dev/ttyNOSUCHsysboot"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_update_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_readback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stub_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupt_leaves_no_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_an_image, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlaps_stub, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nobody_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_such_port, setup, teardown),
	};

	return cmocka_run_group_tests(tests, 0, NULL);
}
