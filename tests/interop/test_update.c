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

#include "fake_dfu.h"
#include "cmd_rom.h"
#include "fake_rom.h"
#include "formats.h"
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
	char dfu[96];
	uint8_t file[SYSBOOT_HEADER_SLOT + BODY_SIZE];
	struct fake_dfu usb;
};

static struct fx fx;

/*
 * An image in img (the header slot, then a body of body_len bytes the
 * caller filled): the body's stack pointer and reset vector, its header,
 * and the file at path.
 */
static void stamp_image(uint8_t *img, size_t body_len, uint32_t version, const char *path)
{
	struct sysboot_image_header hdr;
	uint8_t *body = img + SYSBOOT_HEADER_SLOT;
	uint32_t sp = STM32_SRAM1_BASE + STM32_SRAM1_SIZE;
	uint32_t reset = SYSBOOT_APP_BASE + 0x101;
	FILE *fp;

	memcpy(body, &sp, 4);
	memcpy(body + 4, &reset, 4);
	sysboot_image_header_init(&hdr, (uint32_t)body_len, sysboot_crc32(body, body_len),
				  version);
	sysboot_image_header_encode(img, &hdr);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(img, 1, SYSBOOT_HEADER_SLOT + body_len, fp),
			 SYSBOOT_HEADER_SLOT + body_len);
	fclose(fp);
}

static void make_image(struct fx *f, uint32_t version)
{
	uint8_t *body = f->file + SYSBOOT_HEADER_SLOT;
	unsigned i;

	memset(f->file, 0xFF, sizeof(f->file));
	for (i = 0; i < BODY_SIZE; i++)
		body[i] = (uint8_t)(i * 13 + 5);
	memset(body + 512, 0xFF, 256);   /* one erased block to skip */
	stamp_image(f->file, BODY_SIZE, version, f->image);
}

/* An update that must succeed; its message if it does not. */
static void update_ok(const char *path, struct update_opts *uo, struct update_result *res)
{
	char err[1024] = "";

	if (update_run(path, uo, res, err, sizeof(err)) != OP_OK)
		fail_msg("%s", err);
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
	snprintf(fx.dfu, sizeof(fx.dfu), "%s/app.dfu", fx.dir);
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
	unlink(f->dfu);
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

	start(f);
	opts(&uo, f);
	update_ok(f->image, &uo, &res);
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

	start(f);
	opts(&uo, f);
	uo.verify = VERIFY_READBACK;
	update_ok(f->image, &uo, &res);
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

static void test_go_without_ack(void **state)
{
	struct fx *f = *state;
	struct update_opts uo;
	struct update_result res;
	char err[1024] = "";

	/* The Go's last ACK lost: the banner decides, and the ROM still answers. */
	f->rom.drop_go_ack = true;
	start(f);
	opts(&uo, f);
	assert_int_equal(update_run(f->image, &uo, &res, err, sizeof(err)), OP_ERR_VERIFY);
	assert_true(res.rejected);
	assert_non_null(strstr(err, "the ROM bootloader did not acknowledge Go 0x08000000 and "
			       "still answers on"));
	assert_non_null(strstr(err, ": the image was written but not started"));
	assert_true(update_worth_redoing(OP_ERR_VERIFY, &res));
}

/* `sysboot update` itself: what it says when every whole update breaks off. */
static void test_redone_update_says_so(void **state)
{
	struct fx *f = *state;
	char *argv[] = { "update", f->image, "--port", f->port, "--quiet", NULL };
	char out[2048] = "", path[128];
	FILE *fp;
	int saved, code;

	/* The erase of the body's second page is refused, every time. */
	f->rom.erase_nack_page = 5;
	start(f);
	snprintf(path, sizeof(path), "%s/stderr", f->dir);
	fflush(stderr);
	saved = dup(2);
	fp = freopen(path, "w", stderr);
	assert_non_null(fp);
	code = cmd_update(5, argv);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fp = fopen(path, "r");
	assert_non_null(fp);
	out[fread(out, 1, sizeof(out) - 1, fp)] = '\0';
	fclose(fp);
	unlink(path);
	assert_int_equal(code, 6);
	assert_int_equal(f->rom.entered, 1);     /* asked once, then resumed in the ROM */
	assert_non_null(strstr(out, "sysboot update: the ROM bootloader refused Extended Erase at "
			       "0x08002800 (NACK to the page list, 4 attempts)"));
	assert_non_null(strstr(out, "(after 3 attempts at the whole update); the board holds no "
			       "image its stub accepts, so it stays in the ROM bootloader and the "
			       "same command can be run again"));
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

/* Ctrl-C after the third progress step: the old header is gone, the new
 * one not written, so the stub will start the ROM. */
static void interrupt_update(struct fx *f, struct update_opts *uo, const uint8_t *flash)
{
	struct update_result res;
	struct progress_ops po = { .step = count_step };
	char err[1024] = "";
	unsigned i;

	stop = 0;
	steps = 0;
	uo->po = &po;
	uo->stop = &stop;
	assert_int_equal(update_run(f->image, uo, &res, err, sizeof(err)),
			 OP_ERR_INTERRUPTED);
	assert_true(res.erase_started);
	for (i = 0; i < SYSBOOT_IMAGE_HEADER_SIZE; i++)
		assert_int_equal(flash[0x2000 + i], 0xFF);
}

static void test_interrupt_leaves_no_header(void **state)
{
	struct fx *f = *state;
	struct update_opts uo;

	/* An old, valid image is on the board. */
	memcpy(f->rom.flash + 0x2000, f->file, sizeof(f->file));
	make_image(f, SYSBOOT_VERSION(2, 0, 0));
	start(f);
	opts(&uo, f);
	interrupt_update(f, &uo, f->rom.flash);
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
	/* 500 ms of tries 25 ms apart (an3155_sync_startup). */
	snprintf(expect, sizeof(expect), "no answer from the ROM bootloader on "
		 "%s: is the board in bootloader mode? (tried 20 times)", f->port);
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

/* ---- The same update over USB DFU (the scripted device, fake_dfu.h) -- */

#define STUB_FILL 0x5A

static int setup_usb(void **state)
{
	int r = setup(state);

	fake_dfu_init(&fx.usb);
	/* A stub that must survive every update. */
	memset(fx.usb.flash, STUB_FILL, SYSBOOT_STUB_SIZE);
	return r;
}

static int teardown_usb(void **state)
{
	fake_dfu_free(&fx.usb);
	return teardown(state);
}

static void usb_opts(struct update_opts *uo, struct fx *f)
{
	memset(uo, 0, sizeof(*uo));
	uo->co.port = "usb";
	uo->co.usb = &f->usb.provider;
	uo->co.dfu_wait_ms = 500;
	uo->verify = VERIFY_READBACK;
	uo->banner_timeout_ms = 400;
}

static void stub_untouched(const struct fx *f)
{
	unsigned i;

	for (i = 0; i < f->usb.nerased; i++)
		assert_true(f->usb.erase_order[i] >= SYSBOOT_HEADER_ADDR);
	for (i = 0; i < SYSBOOT_STUB_SIZE; i++)
		assert_int_equal(f->usb.flash[i], STUB_FILL);
}

static void test_usb_update(void **state)
{
	struct fx *f = *state;
	struct update_opts uo;
	struct update_result res;

	usb_opts(&uo, f);
	update_ok(f->image, &uo, &res);
	assert_true(res.confirmed);
	assert_false(res.rejected);
	/* The header's page first, the header's block last, 2 KB blocks. */
	assert_int_equal(f->usb.erase_order[0], SYSBOOT_HEADER_ADDR);
	assert_int_equal(f->usb.nerased, 2);
	assert_int_equal(f->usb.write_order[f->usb.nwritten - 1], SYSBOOT_HEADER_ADDR);
	assert_int_equal(f->usb.nwritten, 2);
	assert_int_equal(f->usb.bad_len_writes, 0);
	assert_memory_equal(f->usb.flash + 0x2000, f->file, sizeof(f->file));
	stub_untouched(f);
	/* Left DFU for the stub, and the ROM stayed away. */
	assert_int_equal(f->usb.jumped_to, SYSBOOT_STUB_BASE);
	assert_int_equal(res.chip.usb_pid, 0xDF11);
}

static void test_usb_stub_rejects(void **state)
{
	struct fx *f = *state;
	struct update_opts uo;
	struct update_result res;
	char err[1024] = "";

	f->usb.stub_rejects = true;
	usb_opts(&uo, f);
	assert_int_equal(update_run(f->image, &uo, &res, err, sizeof(err)), OP_ERR_VERIFY);
	assert_true(res.rejected);
	assert_non_null(strstr(err, "image rejected by the boot stub: after leaving DFU for "
			       "0x08000000 the ROM bootloader's DFU device came back on usb "
			       "instead of the application starting"));
}

static void test_usb_device_vanishes(void **state)
{
	struct fx *f = *state;
	struct update_opts uo;
	struct update_result res;
	char err[1024] = "";
	unsigned i;

	/* An old, valid image is on the board; the new one is cut short. */
	memcpy(f->usb.flash + 0x2000, f->file, sizeof(f->file));
	make_image(f, SYSBOOT_VERSION(2, 0, 0));
	/* Request 11: the data of the first block written (after the two
	 * erases and that block's set address). */
	f->usb.vanish_at = 11;
	usb_opts(&uo, f);
	if (update_run(f->image, &uo, &res, err, sizeof(err)) != OP_ERR_LINK)
		fail_msg("%s", err);
	assert_non_null(strstr(err, "the board disconnected during the write of 1464 bytes "
			       "at 0x08002800: the DFU device on usb (bus 1 device 5) went "
			       "away (unplugged, reset or powered off?)"));
	assert_int_equal(f->usb.nwritten, 0);
	for (i = 0; i < SYSBOOT_IMAGE_HEADER_SIZE; i++)
		assert_int_equal(f->usb.flash[0x2000 + i], 0xFF);
	stub_untouched(f);
}

static void test_usb_interrupt(void **state)
{
	struct fx *f = *state;
	struct update_opts uo;

	memcpy(f->usb.flash + 0x2000, f->file, sizeof(f->file));
	make_image(f, SYSBOOT_VERSION(2, 0, 0));
	usb_opts(&uo, f);
	interrupt_update(f, &uo, f->usb.flash);
	assert_false(f->usb.left);
}

static void test_usb_header_block_rewritten(void **state)
{
	struct fx *f = *state;
	struct update_opts uo;
	struct update_result res;
	unsigned i, header_erases = 0;

	/* The header's block fails through all the client's attempts: its
	 * page alone is erased again and rewritten, the header still last. */
	f->usb.fail_addr = SYSBOOT_HEADER_ADDR;
	f->usb.fail_count = 4;
	usb_opts(&uo, f);
	update_ok(f->image, &uo, &res);
	assert_int_equal(res.ws.pages_rewritten, 1);
	for (i = 0; i < f->usb.nerased; i++)
		header_erases += f->usb.erase_order[i] == SYSBOOT_HEADER_ADDR;
	assert_int_equal(header_erases, 2);
	assert_int_equal(f->usb.nerased, 3);
	assert_int_equal(f->usb.write_order[f->usb.nwritten - 1], SYSBOOT_HEADER_ADDR);
	assert_memory_equal(f->usb.flash + 0x2000, f->file, sizeof(f->file));
}

/*
 * A valid image of body bytes into f->image, no 256-byte block blank
 * except the 2 KB flash block at blank (an offset in the image; ~0u for
 * none); the whole image in *img (free it).
 */
static size_t write_big_image(struct fx *f, size_t body, uint32_t version, size_t blank,
			      uint8_t **img)
{
	size_t len = SYSBOOT_HEADER_SLOT + body, i;
	uint8_t *p = malloc(len);

	assert_non_null(p);
	memset(p, 0xFF, SYSBOOT_HEADER_SLOT);
	for (i = 0; i < body; i++)
		p[SYSBOOT_HEADER_SLOT + i] = (uint8_t)(i * 31 + 7 + i / 1999);
	if (blank != ~(size_t)0)
		memset(p + blank, 0xFF, STM32_FLASH_PAGE_SIZE);
	stamp_image(p, body, version, f->image);
	*img = p;
	return len;
}

/* The whole flash: the stub, the image at 0x08002000, erased after it. */
static void assert_flash_holds(const struct fx *f, const uint8_t *img, size_t len)
{
	size_t i;

	stub_untouched(f);
	assert_memory_equal(f->usb.flash + SYSBOOT_STUB_SIZE, img, len);
	for (i = SYSBOOT_STUB_SIZE + len; i < FAKE_DFU_FLASH_SIZE; i++)
		if (f->usb.flash[i] != 0xFF)
			fail_msg("flash at 0x%08zx written: 0x%02x", STM32_FLASH_BASE + i,
				 f->usb.flash[i]);
}

static void test_usb_whole_bank2_page_by_page(void **state)
{
	struct fx *f = *state;
	struct update_opts uo;
	struct update_result res;
	size_t body = STM32_FLASH_SIZE - SYSBOOT_STUB_SIZE - SYSBOOT_HEADER_SLOT, len;
	uint8_t *img;

	/* An image to the end of the flash: over AN3155 bank 2 goes in one
	 * bank erase; DfuSe has none, so every page is erased on its own. */
	len = write_big_image(f, body, SYSBOOT_VERSION(3, 0, 0), ~(size_t)0, &img);
	usb_opts(&uo, f);
	update_ok(f->image, &uo, &res);
	assert_int_equal(res.ws.bank_erases, 0);
	assert_int_equal(f->usb.nerased, 2 * STM32_FLASH_PAGES_PER_BANK - SYSBOOT_STUB_PAGES);
	assert_int_equal(f->usb.erase_order[0], SYSBOOT_HEADER_ADDR);
	assert_int_equal(f->usb.mass_erases, 0);
	assert_flash_holds(f, img, len);
	/* One Set Address for the body, one for the header, one for the
	 * read-back, one for the leave (instead of one per 2 KB). */
	assert_int_equal(f->usb.set_addresses, 4);
	free(img);
}

/*
 * 20 blocks and 104 bytes from 0x08002000, block 8 blank: the write is
 * blocks 1-7 after one Set Address, 9-19 after another, the short last
 * one alone, the header block last; the read-back all whole blocks after
 * one, the short one alone; then the leave.
 */
#define RUN_BLOCKS 20u
#define RUN_LEN    (RUN_BLOCKS * STM32_FLASH_PAGE_SIZE + 104u)
#define RUN_BLANK  (8u * STM32_FLASH_PAGE_SIZE)

static void test_usb_blocks_in_runs(void **state)
{
	struct fx *f = *state;
	struct update_opts uo;
	struct update_result res;
	uint8_t *img;
	size_t len = write_big_image(f, RUN_LEN - SYSBOOT_HEADER_SLOT, SYSBOOT_VERSION(2, 0, 0),
				     RUN_BLANK, &img);

	usb_opts(&uo, f);
	update_ok(f->image, &uo, &res);
	assert_true(res.confirmed);
	assert_int_equal(res.ws.blocks_skipped, 1);
	assert_int_equal(res.ws.blocks_written, RUN_BLOCKS);
	assert_int_equal(f->usb.write_order[f->usb.nwritten - 1], SYSBOOT_HEADER_ADDR);
	assert_int_equal(f->usb.set_addresses, 4 + 2 + 1);
	assert_int_equal(f->usb.uploads, RUN_BLOCKS + 1);
	assert_int_equal(res.retries, 0);
	assert_flash_holds(f, img, len);
	free(img);
}

/*
 * A block in the middle of a run fails every attempt of the client (its
 * retries set the address again after CLRSTATUS), then its page is erased
 * and written again (the erase moves the pointer); a block failing once
 * is retried alone. The flash ends as it should, with nothing anywhere else.
 */
static void test_usb_failures_in_a_run(void **state)
{
	struct fx *f = *state;
	struct update_opts uo;
	struct update_result res;
	uint8_t *img;
	size_t len = write_big_image(f, RUN_LEN - SYSBOOT_HEADER_SLOT, SYSBOOT_VERSION(2, 0, 0),
				     RUN_BLANK, &img);

	f->usb.fail_addr = SYSBOOT_HEADER_ADDR + 12 * STM32_FLASH_PAGE_SIZE;
	f->usb.fail_count = 4;
	usb_opts(&uo, f);
	update_ok(f->image, &uo, &res);
	assert_int_equal(res.ws.pages_rewritten, 1);
	assert_int_equal(res.retries, 3);
	assert_int_equal(f->usb.erase_order[f->usb.nerased - 1], f->usb.fail_addr);
	assert_int_equal(f->usb.write_order[f->usb.nwritten - 1], SYSBOOT_HEADER_ADDR);
	assert_flash_holds(f, img, len);

	fake_dfu_free(&f->usb);
	fake_dfu_init(&f->usb);
	memset(f->usb.flash, STUB_FILL, SYSBOOT_STUB_SIZE);
	f->usb.fail_addr = SYSBOOT_HEADER_ADDR + 3 * STM32_FLASH_PAGE_SIZE;
	f->usb.fail_count = 1;
	update_ok(f->image, &uo, &res);
	assert_int_equal(res.ws.pages_rewritten, 0);
	assert_int_equal(res.retries, 1);
	assert_int_equal(f->usb.set_addresses, 4 + 2 + 1 + 1);
	assert_flash_holds(f, img, len);
	free(img);
}

/* The image as a .dfu, with the USB IDs its suffix names. */
static void write_dfu(struct fx *f, uint16_t vid, uint16_t pid)
{
	struct segments segs;
	struct sb_error e;

	segments_init(&segs);
	assert_int_equal(segments_add(&segs, SYSBOOT_HEADER_ADDR, f->file,
				      sizeof(f->file), &e), 0);
	assert_int_equal(dfu_write(&segs, f->dfu, 0, "Internal Flash", vid, pid, &e), 0);
	segments_free(&segs);
}

static void test_usb_dfu_file(void **state)
{
	struct fx *f = *state;
	struct update_opts uo;
	struct update_result res;

	write_dfu(f, 0x0483, 0xDF11);
	usb_opts(&uo, f);
	update_ok(f->dfu, &uo, &res);
	assert_memory_equal(f->usb.flash + 0x2000, f->file, sizeof(f->file));
}

static void test_usb_dfu_for_other_chip(void **state)
{
	struct fx *f = *state;
	struct update_opts uo;
	struct update_result res;
	char err[1024] = "", want[300];

	memcpy(f->usb.flash + 0x2000, f->file, sizeof(f->file));
	write_dfu(f, 0x1234, 0x5678);
	usb_opts(&uo, f);
	assert_int_equal(update_run(f->dfu, &uo, &res, err, sizeof(err)), OP_ERR_INPUT);
	snprintf(want, sizeof(want), "%s is a DfuSe file for another chip: its suffix "
		 "names USB device 1234:5678, and this chip's ROM bootloader is "
		 "0483:df11; refusing it before anything is erased", f->dfu);
	assert_string_equal(err, want);
	assert_int_equal(f->usb.opens, 0);
	assert_int_equal(f->usb.requests, 0);
	assert_memory_equal(f->usb.flash + 0x2000, f->file, sizeof(f->file));
}

static void test_usb_dfu_bad_crc(void **state)
{
	struct fx *f = *state;
	struct update_opts uo;
	struct update_result res;
	char err[1024] = "";
	FILE *fp;

	write_dfu(f, 0x0483, 0xDF11);
	/* One byte of the first element changed, the suffix CRC kept. */
	fp = fopen(f->dfu, "r+b");
	assert_non_null(fp);
	fseek(fp, 11 + 274 + 8 + 100, SEEK_SET);
	fputc(0x00, fp);
	fclose(fp);
	usb_opts(&uo, f);
	assert_int_equal(update_run(f->dfu, &uo, &res, err, sizeof(err)), OP_ERR_INPUT);
	assert_non_null(strstr(err, "app.dfu: DFU suffix CRC mismatch: file says 0x"));
	assert_int_equal(f->usb.opens, 0);
}

static void test_usb_stub_verify_needs_a_line(void **state)
{
	struct fx *f = *state;
	struct update_opts uo;
	struct update_result res;
	char err[1024] = "";

	usb_opts(&uo, f);
	uo.verify = VERIFY_STUB;
	assert_int_equal(update_run(f->image, &uo, &res, err, sizeof(err)), OP_ERR_USAGE);
	assert_non_null(strstr(err, "--verify=stub watches the application's banner on "
			       "its serial line, and over USB there is none: give "
			       "--enter-port PORT, or use --verify=readback"));
	assert_int_equal(f->usb.opens, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_update_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_readback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stub_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_go_without_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redone_update_says_so, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupt_leaves_no_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_an_image, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlaps_stub, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nobody_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_such_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usb_update, setup_usb, teardown_usb),
		cmocka_unit_test_setup_teardown(test_usb_stub_rejects, setup_usb, teardown_usb),
		cmocka_unit_test_setup_teardown(test_usb_device_vanishes, setup_usb, teardown_usb),
		cmocka_unit_test_setup_teardown(test_usb_interrupt, setup_usb, teardown_usb),
		cmocka_unit_test_setup_teardown(test_usb_header_block_rewritten, setup_usb, teardown_usb),
		cmocka_unit_test_setup_teardown(test_usb_whole_bank2_page_by_page, setup_usb, teardown_usb),
		cmocka_unit_test_setup_teardown(test_usb_blocks_in_runs, setup_usb, teardown_usb),
		cmocka_unit_test_setup_teardown(test_usb_failures_in_a_run, setup_usb, teardown_usb),
		cmocka_unit_test_setup_teardown(test_usb_dfu_file, setup_usb, teardown_usb),
		cmocka_unit_test_setup_teardown(test_usb_dfu_for_other_chip, setup_usb, teardown_usb),
		cmocka_unit_test_setup_teardown(test_usb_dfu_bad_crc, setup_usb, teardown_usb),
		cmocka_unit_test_setup_teardown(test_usb_stub_verify_needs_a_line, setup_usb, teardown_usb),
	};

	return cmocka_run_group_tests(tests, 0, NULL);
}
