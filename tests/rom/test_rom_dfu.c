/*
 * test_rom_dfu.c - the DFU 1.1 / DfuSe engine of the ROM bootloader model,
 * request by request, against an in-memory target.
 *
 * Every state of DFU 1.1 the engine can reach is entered and left by the
 * requests allowed there; every request not allowed must stall into
 * dfuERROR with errSTALLEDPKT; every DfuSe command and write error must
 * end in the status AN3156 gives for it, with a reason kept for the trace.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rom/rom_dfu.h"

#define FLASH_BASE   0x08000000u
#define FLASH_SIZE   0x4000u       /* 8 pages of 2 KB */
#define PAGE         0x800u
#define RAM_BASE     0x20000000u
#define RAM_SIZE     0x4000u
#define RAM_RESERVED 0x1000u       /* the ROM's own: readable, not writable */
#define SYS_BASE     0x1FFF0000u
#define OPT_BASE     0x1FFF7800u
#define FEATURE_BASE 0xFFFF0000u
#define TS           2048u

/* ---- Test double ---------------------------------------------------------- */

struct target {
	uint8_t flash[FLASH_SIZE];
	uint8_t ram[RAM_SIZE];
	uint8_t sys[64];
	uint8_t opt[40];
	int rdp;
	bool fail_write, fail_erase, fail_unprotect, corrupt_write;
	bool protected_page0;
	uint32_t writes, last_write_addr, last_write_len;
	uint32_t erased_pages, mass_erases, unprotects, option_resets, detaches;
	int leaves;
	uint32_t leave_addr;
	char trace[32][300];
	unsigned ntrace;
};

static struct target t;
static struct rom_dfu dfu;

static uint8_t *mem(uint32_t addr, uint32_t len)
{
#define IN(b, s) (addr >= (b) && addr - (b) < (s) && len <= (s) - (addr - (b)))
	if (IN(FLASH_BASE, FLASH_SIZE))
		return &t.flash[addr - FLASH_BASE];
	if (IN(RAM_BASE, RAM_SIZE))
		return &t.ram[addr - RAM_BASE];
	if (IN(SYS_BASE, sizeof(t.sys)))
		return &t.sys[addr - SYS_BASE];
	if (IN(OPT_BASE, sizeof(t.opt)))
		return &t.opt[addr - OPT_BASE];
#undef IN
	return NULL;
}

static int t_read(void *ctx, uint32_t addr, uint8_t *buf, uint32_t len)
{
	uint8_t *p = mem(addr, len);

	assert_ptr_equal(ctx, &t);
	if (!p)
		return -1;
	memcpy(buf, p, len);
	return 0;
}

static int t_write(void *ctx, uint32_t addr, const uint8_t *buf, uint32_t len)
{
	uint8_t *p = mem(addr, len);

	(void)ctx;
	t.writes++;
	t.last_write_addr = addr;
	t.last_write_len = len;
	if (!p || t.fail_write)
		return -1;
	memcpy(p, buf, len);
	if (t.corrupt_write)
		p[len - 1] ^= 0x01;
	return 0;
}

static int t_erase_page(void *ctx, uint32_t addr)
{
	uint32_t page = (addr - FLASH_BASE) / PAGE;

	(void)ctx;
	if (t.fail_erase)
		return ROM_DFU_ERASE_FAILED;
	if (page == 0 && t.protected_page0)
		return ROM_DFU_ERASE_PROTECTED;
	memset(&t.flash[page * PAGE], 0xFF, PAGE);
	t.erased_pages++;
	return ROM_DFU_ERASED;
}

static int t_mass_erase(void *ctx)
{
	(void)ctx;
	if (t.fail_erase)
		return -1;
	memset(t.flash, 0xFF, sizeof(t.flash));
	t.mass_erases++;
	return 0;
}

static int t_read_unprotect(void *ctx)
{
	(void)ctx;
	t.unprotects++;
	if (t.fail_unprotect)
		return -1;
	t.rdp = 0;
	memset(t.flash, 0xFF, sizeof(t.flash));
	return 0;
}

static int t_rdp(void *ctx)
{
	(void)ctx;
	return t.rdp;
}

static void t_leave(void *ctx, uint32_t addr)
{
	(void)ctx;
	t.leaves++;
	t.leave_addr = addr;
}

static void t_option_reset(void *ctx)
{
	(void)ctx;
	t.option_resets++;
}

static void t_detach(void *ctx)
{
	(void)ctx;
	t.detaches++;
}

static void t_trace(void *ctx, const char *text)
{
	(void)ctx;
	if (t.ntrace < 32)
		snprintf(t.trace[t.ntrace++], sizeof(t.trace[0]), "%s", text);
}

static bool traced(const char *needle)
{
	unsigned i;

	for (i = 0; i < t.ntrace; i++)
		if (strstr(t.trace[i], needle))
			return true;
	return false;
}

static const struct rom_dfu_ops ops = {
	.read = t_read, .write = t_write, .erase_page = t_erase_page, .mass_erase = t_mass_erase,
	.read_unprotect = t_read_unprotect, .rdp_level = t_rdp, .leave = t_leave,
	.option_reset = t_option_reset, .detach = t_detach, .trace = t_trace,
};

static const struct rom_dfu_region regions[] = {
	{ FLASH_BASE, FLASH_SIZE, ROM_DFU_READ | ROM_DFU_WRITE | ROM_DFU_ERASE | ROM_DFU_POINTER,
	  ROM_DFU_MEM_FLASH, "flash" },
	{ RAM_BASE, RAM_RESERVED, ROM_DFU_READ | ROM_DFU_POINTER, ROM_DFU_MEM_RAM, "the ROM's RAM" },
	{ RAM_BASE + RAM_RESERVED, RAM_SIZE - RAM_RESERVED, ROM_DFU_READ | ROM_DFU_WRITE | ROM_DFU_POINTER,
	  ROM_DFU_MEM_RAM, "SRAM1" },
	{ SYS_BASE, 64, ROM_DFU_READ | ROM_DFU_POINTER, ROM_DFU_MEM_SYSTEM, "system memory" },
	{ OPT_BASE, 40, ROM_DFU_READ | ROM_DFU_WRITE | ROM_DFU_POINTER, ROM_DFU_MEM_OPTIONS,
	  "the option bytes" },
	{ FEATURE_BASE, 4, ROM_DFU_READ | ROM_DFU_WRITE | ROM_DFU_POINTER, ROM_DFU_MEM_FEATURE,
	  "the Device Feature area" },
};

static void setup_engine(enum rom_dfu_tail_policy tail)
{
	struct rom_dfu_config cfg = {
		.transfer_size = TS, .default_pointer = FLASH_BASE,
		.regions = regions, .nregions = sizeof(regions) / sizeof(regions[0]),
		.flash_page_size = PAGE, .write_padding_limit = 256, .tail = tail,
		.dword_program_ns = 82000, .page_erase_ns = 22000000, .mass_erase_ns = 22000000,
	};

	memset(&t, 0, sizeof(t));
	memset(t.flash, 0xFF, sizeof(t.flash));
	memset(t.sys, 0x5A, sizeof(t.sys));
	rom_dfu_init(&dfu, &cfg, &ops, &t);
}

static int setup(void **state)
{
	(void)state;
	setup_engine(ROM_DFU_TAIL_LOST);
	return 0;
}

/* ---- Request helpers ---------------------------------------------------------- */

static enum rom_dfu_result out(uint8_t req, uint16_t value, const void *data, uint16_t len)
{
	uint8_t buf[ROM_DFU_MAX_TRANSFER];
	uint16_t got = 0xFFFF;
	enum rom_dfu_result r;

	if (len)
		memcpy(buf, data, len);
	r = rom_dfu_request(&dfu, req, value, len, false, buf, &got);
	assert_int_equal(got, 0);
	return r;
}

static enum rom_dfu_result in(uint8_t req, uint16_t value, void *data, uint16_t len, uint16_t *got)
{
	return rom_dfu_request(&dfu, req, value, len, true, data, got);
}

/* GETSTATUS, then the status stage: what it started runs. */
static struct dfu_status getstatus(void)
{
	uint8_t b[6];
	uint16_t got = 0;
	struct dfu_status s;

	assert_int_equal(in(DFU_GETSTATUS, 0, b, 6, &got), ROM_DFU_ACK);
	assert_int_equal(got, 6);
	dfu_status_decode(b, &s);
	assert_int_equal(b[5], 0);
	rom_dfu_complete(&dfu);
	return s;
}

static uint8_t getstate(void)
{
	uint8_t b = 0xEE;
	uint16_t got = 0;

	assert_int_equal(in(DFU_GETSTATE, 0, &b, 1, &got), ROM_DFU_ACK);
	assert_int_equal(got, 1);
	return b;
}

/* A DfuSe command: DNLOAD block 0, GETSTATUS (dfuDNBUSY), GETSTATUS (result). */
static struct dfu_status command(const uint8_t *cmd, uint16_t len)
{
	struct dfu_status s;

	assert_int_equal(out(DFU_DNLOAD, 0, cmd, len), ROM_DFU_ACK);
	assert_int_equal(dfu.state, DFU_STATE_DNLOAD_SYNC);
	s = getstatus();
	assert_int_equal(s.state, DFU_STATE_DNBUSY);
	return getstatus();
}

/* A DfuSe command with an address. */
static struct dfu_status command_at(uint8_t cmd, uint32_t a)
{
	struct dfuse_command dc = { .cmd = cmd, .has_addr = true, .addr = a };
	uint8_t c[DFUSE_COMMAND_MAX];

	return command(c, (uint16_t)dfuse_command_encode(&dc, c));
}

static struct dfu_status set_address(uint32_t a)
{
	return command_at(DFUSE_CMD_SET_ADDRESS, a);
}

static struct dfu_status page_erase(uint32_t a)
{
	return command_at(DFUSE_CMD_ERASE, a);
}

static struct dfu_status write_block(uint16_t block, const void *data, uint16_t len)
{
	struct dfu_status s;

	assert_int_equal(out(DFU_DNLOAD, block, data, len), ROM_DFU_ACK);
	s = getstatus();
	assert_int_equal(s.state, DFU_STATE_DNBUSY);
	return getstatus();
}

static void assert_error(struct dfu_status s, uint8_t status, const char *why)
{
	assert_int_equal(s.state, DFU_STATE_ERROR);
	assert_int_equal(s.status, status);
	if (!strstr(rom_dfu_last_error(&dfu), why))
		fail_msg("reason \"%s\" lacks \"%s\"", rom_dfu_last_error(&dfu), why);
}

/* A request refused: STALL, dfuERROR with errSTALLEDPKT, the reason kept. */
static void assert_stalled(enum rom_dfu_result r, const char *why)
{
	assert_int_equal(r, ROM_DFU_STALL);
	assert_int_equal(dfu.state, DFU_STATE_ERROR);
	assert_int_equal(dfu.status, DFU_STATUS_ERR_STALLEDPKT);
	if (!strstr(rom_dfu_last_error(&dfu), why))
		fail_msg("reason \"%s\" lacks \"%s\"", rom_dfu_last_error(&dfu), why);
}

static void clrstatus(void)
{
	assert_int_equal(out(DFU_CLRSTATUS, 0, NULL, 0), ROM_DFU_ACK);
	assert_int_equal(dfu.state, DFU_STATE_IDLE);
	assert_int_equal(dfu.status, DFU_STATUS_OK);
}

static void to_dnload_idle(void)
{
	assert_int_equal(set_address(FLASH_BASE).state, DFU_STATE_DNLOAD_IDLE);
}

static void to_upload_idle(void)
{
	uint8_t b[4];
	uint16_t got;

	assert_int_equal(in(DFU_UPLOAD, 0, b, 4, &got), ROM_DFU_ACK);
	assert_int_equal(dfu.state, DFU_STATE_UPLOAD_IDLE);
}

/* ---- States and transitions ---------------------------------------------------- */

static void test_starts_idle(void **state)
{
	struct dfu_status s;

	(void)state;
	s = getstatus();
	assert_int_equal(s.state, DFU_STATE_IDLE);
	assert_int_equal(s.status, DFU_STATUS_OK);
	assert_int_equal(s.poll_ms, 0);
	assert_int_equal(getstate(), DFU_STATE_IDLE);
	assert_int_equal(dfu.pointer, FLASH_BASE);
}

static void test_dnload_sync_busy_idle(void **state)
{
	uint8_t c[5] = { DFUSE_CMD_SET_ADDRESS, 0x00, 0x08, 0x00, 0x08 };
	struct dfu_status s;

	(void)state;
	assert_int_equal(out(DFU_DNLOAD, 0, c, 5), ROM_DFU_ACK);
	assert_int_equal(getstate(), DFU_STATE_DNLOAD_SYNC);
	/* The command has not run yet: it runs on GETSTATUS (AN3156). */
	assert_int_equal(dfu.pointer, FLASH_BASE);
	s = getstatus();
	assert_int_equal(s.state, DFU_STATE_DNBUSY);
	assert_int_equal(s.status, DFU_STATUS_OK);
	assert_int_equal(dfu.pointer, 0x08000800u);
	/* Done, but dfuDNLOAD-IDLE only once GETSTATUS asked (DFU 1.1 A.2.5). */
	assert_int_equal(getstate(), DFU_STATE_DNLOAD_SYNC);
	s = getstatus();
	assert_int_equal(s.state, DFU_STATE_DNLOAD_IDLE);
	assert_int_equal(s.poll_ms, 0);
	/* From dfuDNLOAD-IDLE, DNLOAD goes on; ABORT returns to dfuIDLE. */
	assert_int_equal(out(DFU_DNLOAD, 0, c, 5), ROM_DFU_ACK);
	assert_int_equal(dfu.state, DFU_STATE_DNLOAD_SYNC);
	getstatus();
	getstatus();
	assert_int_equal(out(DFU_ABORT, 0, NULL, 0), ROM_DFU_ACK);
	assert_int_equal(getstate(), DFU_STATE_IDLE);
}

/* A host that skips the GETSTATUS after dfuDNBUSY: the next DNLOAD stalls. */
static void test_dnload_before_the_status_after_busy_stalls(void **state)
{
	uint8_t d[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	(void)state;
	to_dnload_idle();
	assert_int_equal(out(DFU_DNLOAD, 2, d, 8), ROM_DFU_ACK);
	assert_int_equal(getstatus().state, DFU_STATE_DNBUSY);
	assert_stalled(out(DFU_DNLOAD, 3, d, 8), "DFU_DNLOAD not allowed in dfuDNLOAD-SYNC");
	/* The block itself was written. */
	assert_memory_equal(&t.flash[0], d, 8);
}

static void test_leave_from_dnload_idle(void **state)
{
	struct dfu_status s;

	(void)state;
	assert_int_equal(set_address(0x08000400u).state, DFU_STATE_DNLOAD_IDLE);
	assert_int_equal(out(DFU_DNLOAD, 2, NULL, 0), ROM_DFU_ACK);
	assert_int_equal(getstate(), DFU_STATE_MANIFEST_SYNC);
	assert_int_equal(t.leaves, 0);
	s = getstatus();
	/* The answer says dfuMANIFEST; the jump comes once it has left. */
	assert_int_equal(s.state, DFU_STATE_MANIFEST);
	assert_int_equal(s.status, DFU_STATUS_OK);
	assert_int_equal(t.leaves, 1);
	assert_int_equal(t.leave_addr, 0x08000400u);
	assert_true(traced("leave request"));
}

static void test_leave_from_idle_uses_default_pointer(void **state)
{
	(void)state;
	assert_int_equal(out(DFU_DNLOAD, 0, NULL, 0), ROM_DFU_ACK);
	assert_int_equal(dfu.state, DFU_STATE_MANIFEST_SYNC);
	assert_int_equal(getstatus().state, DFU_STATE_MANIFEST);
	assert_int_equal(t.leave_addr, FLASH_BASE);
	/* In dfuMANIFEST (the device has gone) nothing is answered any more. */
	assert_stalled(out(DFU_ABORT, 0, NULL, 0), "not allowed in dfuMANIFEST");
}

static void test_upload_commands_and_idle(void **state)
{
	uint8_t b[8] = { 0 };
	uint16_t got = 0;

	(void)state;
	assert_int_equal(in(DFU_UPLOAD, 0, b, sizeof(b), &got), ROM_DFU_ACK);
	assert_int_equal(got, 4);
	assert_int_equal(b[0], DFUSE_CMD_GET_COMMANDS);
	assert_int_equal(b[1], DFUSE_CMD_SET_ADDRESS);
	assert_int_equal(b[2], DFUSE_CMD_ERASE);
	assert_int_equal(b[3], DFUSE_CMD_READ_UNPROTECT);
	assert_int_equal(getstate(), DFU_STATE_UPLOAD_IDLE);
	assert_int_equal(getstatus().state, DFU_STATE_UPLOAD_IDLE);
	assert_int_equal(out(DFU_ABORT, 0, NULL, 0), ROM_DFU_ACK);
	assert_int_equal(getstate(), DFU_STATE_IDLE);
}

static void test_upload_reads_blocks(void **state)
{
	uint8_t b[TS];
	uint16_t got = 0;
	unsigned i;

	(void)state;
	for (i = 0; i < FLASH_SIZE; i++)
		t.flash[i] = (uint8_t)(i * 7u);
	assert_int_equal(set_address(FLASH_BASE + 0x10).state, DFU_STATE_DNLOAD_IDLE);
	assert_int_equal(out(DFU_ABORT, 0, NULL, 0), ROM_DFU_ACK);
	/* Block n reads at pointer + (n - 2) * wTransferSize, short last blocks too. */
	assert_int_equal(in(DFU_UPLOAD, 3, b, 100, &got), ROM_DFU_ACK);
	assert_int_equal(got, 100);
	assert_memory_equal(b, &t.flash[0x10 + TS], 100);
	assert_int_equal(dfu.state, DFU_STATE_UPLOAD_IDLE);
	assert_int_equal(in(DFU_UPLOAD, 2, b, TS, &got), ROM_DFU_ACK);
	assert_int_equal(got, TS);
	assert_memory_equal(b, &t.flash[0x10], TS);
	assert_int_equal(dfu.bytes_read, 100 + TS);
}

static void test_upload_short_frame_ends_upload(void **state)
{
	uint8_t b[TS];
	uint16_t got = 0;

	(void)state;
	/* 16 bytes before the end of flash: a short frame, then dfuIDLE (DFU 1.1 6.2). */
	assert_int_equal(set_address(FLASH_BASE + FLASH_SIZE - 16).state, DFU_STATE_DNLOAD_IDLE);
	out(DFU_ABORT, 0, NULL, 0);
	assert_int_equal(in(DFU_UPLOAD, 2, b, 64, &got), ROM_DFU_ACK);
	assert_int_equal(got, 16);
	assert_int_equal(getstate(), DFU_STATE_IDLE);
}

static void test_upload_feature_area(void **state)
{
	uint8_t v[4] = { 1, 2, 3, 4 }, b[4] = { 0 };
	uint16_t got;

	(void)state;
	assert_int_equal(set_address(FEATURE_BASE).state, DFU_STATE_DNLOAD_IDLE);
	assert_int_equal(write_block(2, v, 4).state, DFU_STATE_DNLOAD_IDLE);
	assert_true(traced("Device Feature area"));
	out(DFU_ABORT, 0, NULL, 0);
	assert_int_equal(in(DFU_UPLOAD, 2, b, 4, &got), ROM_DFU_ACK);
	assert_int_equal(got, 4);
	assert_memory_equal(b, v, 4);
}

static void test_clrstatus_recovers(void **state)
{
	(void)state;
	assert_stalled(out(DFU_CLRSTATUS, 0, NULL, 0), "DFU_CLRSTATUS not allowed in dfuIDLE");
	assert_int_equal(getstatus().status, DFU_STATUS_ERR_STALLEDPKT);
	assert_int_equal(getstate(), DFU_STATE_ERROR);
	clrstatus();
	assert_int_equal(getstatus().state, DFU_STATE_IDLE);
}

static void test_detach(void **state)
{
	(void)state;
	to_dnload_idle();
	assert_int_equal(out(DFU_DETACH, 255, NULL, 0), ROM_DFU_ACK);
	assert_int_equal(dfu.state, DFU_STATE_IDLE);
	assert_int_equal(t.detaches, 0);
	rom_dfu_complete(&dfu);
	assert_int_equal(t.detaches, 1);
	assert_true(traced("DFU_DETACH"));
}

/* ---- Stalls: requests not allowed in a state ----------------------------------- */

static void test_stall_upload_in_dnload_idle(void **state)
{
	uint8_t b[4];
	uint16_t got;

	(void)state;
	to_dnload_idle();
	assert_stalled(in(DFU_UPLOAD, 2, b, 4, &got), "DFU_UPLOAD not allowed in dfuDNLOAD-IDLE");
	assert_int_equal(dfu.stalls, 1);
}

static void test_stall_dnload_in_upload_idle(void **state)
{
	uint8_t d[4] = { 0 };

	(void)state;
	to_upload_idle();
	assert_stalled(out(DFU_DNLOAD, 2, d, 4), "DFU_DNLOAD not allowed in dfuUPLOAD-IDLE");
}

static void test_stall_in_dnload_sync(void **state)
{
	uint8_t c[5] = { DFUSE_CMD_SET_ADDRESS, 0, 0, 0, 8 }, b[4];
	uint16_t got;

	(void)state;
	out(DFU_DNLOAD, 0, c, 5);
	assert_stalled(out(DFU_ABORT, 0, NULL, 0), "DFU_ABORT not allowed in dfuDNLOAD-SYNC");
	clrstatus();
	out(DFU_DNLOAD, 0, c, 5);
	assert_stalled(in(DFU_UPLOAD, 0, b, 4, &got), "not allowed in dfuDNLOAD-SYNC");
	clrstatus();
	out(DFU_DNLOAD, 0, c, 5);
	assert_stalled(out(DFU_DNLOAD, 0, c, 5), "DFU_DNLOAD not allowed in dfuDNLOAD-SYNC");
	clrstatus();
	out(DFU_DNLOAD, 0, c, 5);
	assert_stalled(out(DFU_DETACH, 0, NULL, 0), "DFU_DETACH not allowed in dfuDNLOAD-SYNC");
}

static void test_stall_in_dnbusy(void **state)
{
	uint8_t c[5] = { DFUSE_CMD_SET_ADDRESS, 0, 0, 0, 8 }, b[6];
	uint16_t got;

	(void)state;
	out(DFU_DNLOAD, 0, c, 5);
	/* A GETSTATUS answered dfuDNBUSY, its work not done yet. */
	assert_int_equal(in(DFU_GETSTATUS, 0, b, 6, &got), ROM_DFU_ACK);
	assert_int_equal(b[4], DFU_STATE_DNBUSY);
	assert_stalled(in(DFU_GETSTATUS, 0, b, 6, &got), "DFU_GETSTATUS while in dfuDNBUSY");
	rom_dfu_complete(&dfu);           /* the stall dropped the work */
	assert_int_equal(dfu.pointer, FLASH_BASE);
	clrstatus();
	out(DFU_DNLOAD, 0, c, 5);
	assert_int_equal(in(DFU_GETSTATUS, 0, b, 6, &got), ROM_DFU_ACK);
	assert_stalled(in(DFU_GETSTATE, 0, b, 1, &got), "DFU_GETSTATE while in dfuDNBUSY");
}

static void test_stall_in_manifest_sync(void **state)
{
	uint8_t b[4];
	uint16_t got;

	(void)state;
	out(DFU_DNLOAD, 0, NULL, 0);
	assert_int_equal(getstate(), DFU_STATE_MANIFEST_SYNC);
	assert_stalled(in(DFU_UPLOAD, 0, b, 4, &got), "DFU_UPLOAD not allowed in dfuMANIFEST-SYNC");
	rom_dfu_complete(&dfu);
	assert_int_equal(t.leaves, 0);
}

static void test_stall_in_error_keeps_status(void **state)
{
	uint8_t b[4];
	uint16_t got;

	(void)state;
	assert_error(set_address(0x30000000u), DFU_STATUS_ERR_TARGET, "not an address of the memory map");
	/* In dfuERROR only GETSTATUS, GETSTATE and CLRSTATUS are allowed. */
	assert_int_equal(out(DFU_ABORT, 0, NULL, 0), ROM_DFU_STALL);
	assert_int_equal(in(DFU_UPLOAD, 0, b, 4, &got), ROM_DFU_STALL);
	assert_int_equal(out(DFU_DNLOAD, 0, NULL, 0), ROM_DFU_STALL);
	assert_int_equal(dfu.state, DFU_STATE_ERROR);
	assert_int_equal(dfu.status, DFU_STATUS_ERR_TARGET);
	assert_int_equal(getstatus().status, DFU_STATUS_ERR_TARGET);
	assert_int_equal(getstate(), DFU_STATE_ERROR);
	clrstatus();
}

static void test_stall_malformed_requests(void **state)
{
	uint8_t b[TS + 1];
	uint16_t got;

	(void)state;
	assert_stalled(in(DFU_GETSTATUS, 0, b, 5, &got), "DFU_GETSTATUS with wLength 5");
	clrstatus();
	assert_stalled(in(7, 0, b, 4, &got), "unknown DFU request 7");
	clrstatus();
	assert_stalled(rom_dfu_request(&dfu, DFU_DNLOAD, 2, 4, true, b, &got),
		       "DFU_DNLOAD sent device-to-host");
	clrstatus();
	assert_stalled(rom_dfu_request(&dfu, DFU_GETSTATUS, 0, 6, false, b, &got),
		       "DFU_GETSTATUS sent host-to-device");
	clrstatus();
	memset(b, 0, sizeof(b));
	assert_stalled(rom_dfu_request(&dfu, DFU_DNLOAD, 2, TS + 1, false, b, &got),
		       "more than wTransferSize 2048");
	clrstatus();
	assert_stalled(in(DFU_UPLOAD, 2, b, TS + 1, &got), "more than wTransferSize 2048");
	clrstatus();
	assert_stalled(in(DFU_UPLOAD, 1, b, 4, &got), "block 1");
	clrstatus();
	assert_stalled(in(DFU_GETSTATE, 0, b, 0, &got), "wLength 0");
	clrstatus();
	out(DFU_DNLOAD, 0, NULL, 0);
	assert_stalled(out(DFU_DETACH, 0, NULL, 0), "DFU_DETACH not allowed in dfuMANIFEST-SYNC");
	assert_int_equal(dfu.stalls, 9);
}

/* ---- DfuSe commands ------------------------------------------------------------------ */

static void test_set_address_errors(void **state)
{
	uint8_t c[3] = { DFUSE_CMD_SET_ADDRESS, 0, 0 };

	(void)state;
	assert_error(command(c, 3), DFU_STATUS_ERR_STALLEDPKT, "Set Address Pointer with 3 bytes");
	clrstatus();
	assert_error(set_address(0x08004000u), DFU_STATUS_ERR_TARGET, "0x08004000");
	clrstatus();
	/* Allowed in system memory and in the ROM's RAM (read there), and under RDP. */
	t.rdp = 1;
	assert_int_equal(set_address(SYS_BASE).state, DFU_STATE_DNLOAD_IDLE);
	assert_int_equal(dfu.pointer, SYS_BASE);
	assert_int_equal(set_address(RAM_BASE).state, DFU_STATE_DNLOAD_IDLE);
}

static void test_get_commands_and_unsupported(void **state)
{
	uint8_t get = DFUSE_CMD_GET_COMMANDS, bad = 0x55;

	(void)state;
	assert_int_equal(command(&get, 1).state, DFU_STATE_DNLOAD_IDLE);
	out(DFU_ABORT, 0, NULL, 0);
	assert_error(command(&bad, 1), DFU_STATUS_ERR_STALLEDPKT, "unsupported DfuSe command 0x55");
}

static void test_page_erase(void **state)
{
	struct dfu_status s;
	uint8_t c[5] = { DFUSE_CMD_ERASE, 0x00, 0x08, 0x00, 0x08 };

	(void)state;
	memset(t.flash, 0, sizeof(t.flash));
	assert_int_equal(out(DFU_DNLOAD, 0, c, 5), ROM_DFU_ACK);
	s = getstatus();
	assert_int_equal(s.state, DFU_STATE_DNBUSY);
	assert_int_equal(s.poll_ms, 22);             /* 22 ms, from the timing model */
	s = getstatus();
	assert_int_equal(s.state, DFU_STATE_DNLOAD_IDLE);
	assert_int_equal(t.erased_pages, 1);
	assert_int_equal(t.flash[PAGE], 0xFF);
	assert_int_equal(t.flash[PAGE - 1], 0x00);
	assert_int_equal(t.flash[2 * PAGE], 0x00);
}

static void test_page_erase_errors(void **state)
{
	(void)state;
	assert_error(page_erase(RAM_BASE + RAM_RESERVED), DFU_STATUS_ERR_TARGET, "not a flash page");
	clrstatus();
	t.fail_erase = true;
	assert_error(page_erase(FLASH_BASE), DFU_STATUS_ERR_ERASE, "page erase at 0x08000000 failed");
	clrstatus();
	t.fail_erase = false;
	t.rdp = 1;
	assert_error(page_erase(FLASH_BASE), DFU_STATUS_ERR_VENDOR, "readout protection");
	assert_int_equal(t.erased_pages, 0);
}

static void test_page_erase_protected_no_error(void **state)
{
	(void)state;
	t.protected_page0 = true;
	/* AN3156: no error is returned for write-protected pages. */
	assert_int_equal(page_erase(FLASH_BASE).state, DFU_STATE_DNLOAD_IDLE);
	assert_int_equal(t.erased_pages, 0);
	assert_true(traced("write protected"));
}

static void test_mass_erase(void **state)
{
	uint8_t c = DFUSE_CMD_ERASE;
	struct dfu_status s;

	(void)state;
	memset(t.flash, 0, sizeof(t.flash));
	out(DFU_DNLOAD, 0, &c, 1);
	s = getstatus();
	assert_int_equal(s.state, DFU_STATE_DNBUSY);
	assert_int_equal(s.poll_ms, 22);
	assert_int_equal(getstatus().state, DFU_STATE_DNLOAD_IDLE);
	assert_int_equal(t.mass_erases, 1);
	assert_int_equal(t.flash[FLASH_SIZE - 1], 0xFF);
	t.fail_erase = true;
	out(DFU_ABORT, 0, NULL, 0);
	assert_error(command(&c, 1), DFU_STATUS_ERR_ERASE, "mass erase failed");
	clrstatus();
	t.fail_erase = false;
	t.rdp = 1;
	assert_error(command(&c, 1), DFU_STATUS_ERR_VENDOR, "mass erase refused under readout protection");
	clrstatus();
	assert_error(command((const uint8_t[]){ DFUSE_CMD_ERASE, 0, 0 }, 3), DFU_STATUS_ERR_STALLEDPKT,
		     "Erase with 3 bytes");
}

static void test_read_unprotect(void **state)
{
	uint8_t c = DFUSE_CMD_READ_UNPROTECT, c2[2] = { DFUSE_CMD_READ_UNPROTECT, 0 };

	(void)state;
	t.rdp = 1;
	memset(t.flash, 0, sizeof(t.flash));
	out(DFU_DNLOAD, 0, &c, 1);
	assert_int_equal(getstatus().poll_ms, 22);   /* the flash is mass erased */
	assert_int_equal(t.unprotects, 1);
	assert_int_equal(t.rdp, 0);
	assert_int_equal(t.flash[0], 0xFF);
	assert_true(traced("Read Unprotect"));
	/* (The chip would reset here; this target does not.) */
	assert_int_equal(getstatus().state, DFU_STATE_DNLOAD_IDLE);
	assert_int_equal(out(DFU_ABORT, 0, NULL, 0), ROM_DFU_ACK);
	t.fail_unprotect = true;
	assert_error(command(&c, 1), DFU_STATUS_ERR_UNKNOWN, "Read Unprotect failed");
	clrstatus();
	assert_error(command(c2, 2), DFU_STATUS_ERR_STALLEDPKT, "Read Unprotect with 2 bytes");
}

/* ---- Writes ----------------------------------------------------------------------------- */

static void test_write_blocks(void **state)
{
	uint8_t d[TS];
	struct dfu_status s;
	unsigned i;

	(void)state;
	for (i = 0; i < TS; i++)
		d[i] = (uint8_t)(i ^ 0xA5);
	to_dnload_idle();
	assert_int_equal(out(DFU_DNLOAD, 3, d, TS), ROM_DFU_ACK);
	s = getstatus();
	assert_int_equal(s.state, DFU_STATE_DNBUSY);
	/* 256 double words of 82 us: 20.99 ms, announced as 21 ms. */
	assert_int_equal(s.poll_ms, 21);
	assert_int_equal(getstatus().state, DFU_STATE_DNLOAD_IDLE);
	/* Block 3 lands at pointer + 1 * wTransferSize. */
	assert_int_equal(t.last_write_addr, FLASH_BASE + TS);
	assert_memory_equal(&t.flash[TS], d, TS);
	assert_int_equal(t.flash[0], 0xFF);
	assert_int_equal(dfu.bytes_written, TS);
	/* A write to RAM: no flash time. */
	assert_int_equal(set_address(RAM_BASE + RAM_RESERVED).state, DFU_STATE_DNLOAD_IDLE);
	out(DFU_DNLOAD, 2, d, 64);
	assert_int_equal(getstatus().poll_ms, 0);
	assert_int_equal(getstatus().state, DFU_STATE_DNLOAD_IDLE);
	assert_memory_equal(&t.ram[RAM_RESERVED], d, 64);
}

/*
 * AN3156: after one Set Address Pointer, block n >= 2 goes to pointer +
 * (n - 2) * wTransferSize, however many follow, in both directions; the
 * flash here is 8 blocks, so block 10 is past its end.
 */
static void test_blocks_from_one_pointer(void **state)
{
	uint8_t d[TS], b[TS];
	uint16_t n, got = 0;
	unsigned i;

	(void)state;
	to_dnload_idle();
	for (n = 2; n < 2 + FLASH_SIZE / TS; n++) {
		memset(d, 0x10 + n, sizeof(d));
		d[0] = (uint8_t)n;
		assert_int_equal(write_block(n, d, TS).state, DFU_STATE_DNLOAD_IDLE);
		assert_int_equal(t.last_write_addr, FLASH_BASE + (n - 2u) * TS);
	}
	for (i = 0; i < FLASH_SIZE / TS; i++) {
		assert_int_equal(t.flash[i * TS], i + 2);
		assert_int_equal(t.flash[i * TS + TS - 1], 0x12 + i);
	}
	assert_error(write_block(10, d, 8), DFU_STATUS_ERR_TARGET,
		     "write of 8 bytes at 0x08004000: no memory there");
	clrstatus();
	/* Reading: after the ABORT that leaves dfuDNLOAD-IDLE, UPLOAD after UPLOAD. */
	to_dnload_idle();
	assert_int_equal(out(DFU_ABORT, 0, NULL, 0), ROM_DFU_ACK);
	for (n = 2; n < 2 + FLASH_SIZE / TS; n++) {
		assert_int_equal(in(DFU_UPLOAD, n, b, TS, &got), ROM_DFU_ACK);
		assert_int_equal(got, TS);
		assert_memory_equal(b, &t.flash[(n - 2u) * TS], TS);
		assert_int_equal(dfu.state, DFU_STATE_UPLOAD_IDLE);
	}
	/* A pointer in the middle: block 4 is two blocks on. */
	assert_int_equal(out(DFU_ABORT, 0, NULL, 0), ROM_DFU_ACK);
	assert_int_equal(set_address(FLASH_BASE + 0x100).state, DFU_STATE_DNLOAD_IDLE);
	assert_int_equal(out(DFU_ABORT, 0, NULL, 0), ROM_DFU_ACK);
	assert_int_equal(in(DFU_UPLOAD, 4, b, 64, &got), ROM_DFU_ACK);
	assert_memory_equal(b, &t.flash[0x100 + 2 * TS], 64);
}

/*
 * The model keeps the pointer through ABORT and CLRSTATUS, as ST's USB
 * device library does (AN3156 does not say); the host tool never relies
 * on it (host/src/dfuse.c).
 */
static void test_pointer_after_abort_and_error(void **state)
{
	uint8_t d[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, b[8];
	uint16_t got;

	(void)state;
	assert_int_equal(set_address(FLASH_BASE + TS).state, DFU_STATE_DNLOAD_IDLE);
	assert_int_equal(out(DFU_ABORT, 0, NULL, 0), ROM_DFU_ACK);
	assert_stalled(out(DFU_CLRSTATUS, 0, NULL, 0), "DFU_CLRSTATUS not allowed in dfuIDLE");
	clrstatus();
	assert_int_equal(dfu.pointer, FLASH_BASE + TS);
	assert_int_equal(write_block(3, d, 8).state, DFU_STATE_DNLOAD_IDLE);
	assert_int_equal(t.last_write_addr, FLASH_BASE + 2 * TS);
	out(DFU_ABORT, 0, NULL, 0);
	assert_int_equal(in(DFU_UPLOAD, 3, b, 8, &got), ROM_DFU_ACK);
	assert_memory_equal(b, d, 8);
	/* A Set Address refused leaves it where it was. */
	out(DFU_ABORT, 0, NULL, 0);
	assert_error(set_address(0x40000000u), DFU_STATUS_ERR_TARGET, "not an address of the memory map");
	assert_int_equal(dfu.pointer, FLASH_BASE + TS);
}

/*
 * wBlockNum is 16 bits. Block 65535 is 65533 blocks of 2 KB (128 MB) past
 * the pointer, beyond any memory of this chip from the flash; the block
 * number after it is 0, a DfuSe command, so data sent as a wrapped block
 * is taken for one and refused. A 1 MB image is blocks 2 to 513 of one
 * pointer: it never comes near a wrap.
 */
static void test_block_number_wrap(void **state)
{
	uint8_t d[TS];

	(void)state;
	memset(d, 0xA5, sizeof(d));
	to_dnload_idle();
	assert_error(write_block(0xFFFF, d, TS), DFU_STATUS_ERR_TARGET,
		     "write of 2048 bytes at 0x0fffe800: no memory there");
	clrstatus();
	to_dnload_idle();
	assert_int_equal(out(DFU_DNLOAD, 0, d, TS), ROM_DFU_ACK);
	assert_int_equal(getstatus().state, DFU_STATE_DNBUSY);
	assert_error(getstatus(), DFU_STATUS_ERR_STALLEDPKT, "unsupported DfuSe command 0xa5");
	assert_int_equal(t.writes, 0);
}

static void test_write_short_is_padded(void **state)
{
	uint8_t d[13];

	(void)state;
	memset(d, 0x11, sizeof(d));
	to_dnload_idle();
	assert_int_equal(write_block(2, d, 13).state, DFU_STATE_DNLOAD_IDLE);
	assert_int_equal(t.last_write_len, 16);
	assert_memory_equal(t.flash, d, 13);
	assert_int_equal(t.flash[13], 0xFF);
}

static void test_write_tail_lost(void **state)
{
	uint8_t d[300];

	(void)state;
	memset(d, 0x22, sizeof(d));
	to_dnload_idle();
	/* 300 bytes: more than 256 and 4 past a double word (AN2606 ROM limit). */
	assert_int_equal(write_block(2, d, 300).state, DFU_STATE_DNLOAD_IDLE);
	assert_int_equal(t.last_write_len, 296);
	assert_int_equal(t.flash[295], 0x22);
	assert_int_equal(t.flash[296], 0xFF);
	assert_true(traced("its last 4 bytes (from 0x08000128) are not written"));
}

static void test_write_tail_pad(void **state)
{
	uint8_t d[300];

	(void)state;
	setup_engine(ROM_DFU_TAIL_PAD);
	memset(d, 0x22, sizeof(d));
	to_dnload_idle();
	assert_int_equal(write_block(2, d, 300).state, DFU_STATE_DNLOAD_IDLE);
	assert_int_equal(t.last_write_len, 304);
	assert_int_equal(t.flash[299], 0x22);
	assert_int_equal(t.flash[300], 0xFF);
}

static void test_write_tail_error(void **state)
{
	uint8_t d[300];

	(void)state;
	setup_engine(ROM_DFU_TAIL_ERROR);
	memset(d, 0x22, sizeof(d));
	to_dnload_idle();
	assert_error(write_block(2, d, 300), DFU_STATUS_ERR_WRITE, "AN2606 ROM limit");
	assert_int_equal(t.writes, 0);
	/* 256 bytes or less, not a multiple of 8: padded, no error. */
	clrstatus();
	to_dnload_idle();
	assert_int_equal(write_block(2, d, 250).state, DFU_STATE_DNLOAD_IDLE);
}

static void test_write_errors(void **state)
{
	uint8_t d[64];

	(void)state;
	memset(d, 0x33, sizeof(d));
	assert_int_equal(set_address(FLASH_BASE + 4).state, DFU_STATE_DNLOAD_IDLE);
	assert_error(write_block(2, d, 8), DFU_STATUS_ERR_WRITE, "not aligned");
	clrstatus();
	/* The first byte in no region: errTARGET (AN3156). */
	set_address(FLASH_BASE);
	assert_error(write_block(10, d, 8), DFU_STATUS_ERR_TARGET, "no memory there");
	clrstatus();
	/* Readable but not writable: system memory, the ROM's RAM. */
	set_address(SYS_BASE);
	assert_error(write_block(2, d, 8), DFU_STATUS_ERR_TARGET, "system memory is not writable");
	clrstatus();
	set_address(RAM_BASE);
	assert_error(write_block(2, d, 8), DFU_STATUS_ERR_TARGET, "the ROM's RAM is not writable");
	clrstatus();
	/* Starting in a region, running past its end: errADDRESS. */
	set_address(FLASH_BASE + FLASH_SIZE - 32);
	assert_error(write_block(2, d, 64), DFU_STATUS_ERR_ADDRESS, "runs past the end of flash");
	clrstatus();
	/* The flash refuses: errWRITE; reads back otherwise: errVERIFY. */
	set_address(FLASH_BASE);
	t.fail_write = true;
	assert_error(write_block(2, d, 64), DFU_STATUS_ERR_WRITE, "writing 64 bytes at 0x08000000 failed");
	clrstatus();
	t.fail_write = false;
	t.corrupt_write = true;
	set_address(FLASH_BASE);
	assert_error(write_block(2, d, 64), DFU_STATUS_ERR_VERIFY, "byte at 0x0800003f reads 0x32 after writing 0x33");
	clrstatus();
	t.corrupt_write = false;
	t.rdp = 1;
	set_address(RAM_BASE + RAM_RESERVED);
	assert_error(write_block(2, d, 64), DFU_STATUS_ERR_VENDOR, "readout protection level 1");
	assert_int_equal(dfu.bytes_written, 0);
}

static void test_write_options_resets(void **state)
{
	uint8_t d[40];

	(void)state;
	memset(d, 0xAA, sizeof(d));
	set_address(OPT_BASE);
	assert_int_equal(write_block(2, d, 40).state, DFU_STATE_DNLOAD_IDLE);
	assert_memory_equal(t.opt, d, 40);
	assert_int_equal(t.option_resets, 1);
	assert_true(traced("option bytes written"));
}

static void test_block_address_overflow(void **state)
{
	uint8_t d[8] = { 0 };

	(void)state;
	set_address(FEATURE_BASE);
	assert_error(write_block(0xFFFF, d, 8), DFU_STATUS_ERR_ADDRESS, "beyond 4 GB");
}

static void test_upload_errors(void **state)
{
	uint8_t b[64];
	uint16_t got;

	(void)state;
	set_address(FLASH_BASE);
	out(DFU_ABORT, 0, NULL, 0);
	/* Block 10: past the end of flash, nothing readable there. */
	assert_int_equal(in(DFU_UPLOAD, 10, b, 64, &got), ROM_DFU_STALL);
	assert_int_equal(dfu.state, DFU_STATE_ERROR);
	assert_int_equal(dfu.status, DFU_STATUS_ERR_TARGET);
	assert_non_null(strstr(rom_dfu_last_error(&dfu), "no readable memory"));
	clrstatus();
	t.rdp = 1;
	assert_int_equal(in(DFU_UPLOAD, 2, b, 64, &got), ROM_DFU_STALL);
	assert_int_equal(dfu.status, DFU_STATUS_ERR_VENDOR);
	assert_non_null(strstr(rom_dfu_last_error(&dfu), "readout protection level 1"));
	clrstatus();
	/* The command list is given under RDP. */
	assert_int_equal(in(DFU_UPLOAD, 0, b, 4, &got), ROM_DFU_ACK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_starts_idle, setup),
		cmocka_unit_test_setup(test_dnload_sync_busy_idle, setup),
		cmocka_unit_test_setup(test_dnload_before_the_status_after_busy_stalls, setup),
		cmocka_unit_test_setup(test_leave_from_dnload_idle, setup),
		cmocka_unit_test_setup(test_leave_from_idle_uses_default_pointer, setup),
		cmocka_unit_test_setup(test_upload_commands_and_idle, setup),
		cmocka_unit_test_setup(test_upload_reads_blocks, setup),
		cmocka_unit_test_setup(test_upload_short_frame_ends_upload, setup),
		cmocka_unit_test_setup(test_upload_feature_area, setup),
		cmocka_unit_test_setup(test_clrstatus_recovers, setup),
		cmocka_unit_test_setup(test_detach, setup),
		cmocka_unit_test_setup(test_stall_upload_in_dnload_idle, setup),
		cmocka_unit_test_setup(test_stall_dnload_in_upload_idle, setup),
		cmocka_unit_test_setup(test_stall_in_dnload_sync, setup),
		cmocka_unit_test_setup(test_stall_in_dnbusy, setup),
		cmocka_unit_test_setup(test_stall_in_manifest_sync, setup),
		cmocka_unit_test_setup(test_stall_in_error_keeps_status, setup),
		cmocka_unit_test_setup(test_stall_malformed_requests, setup),
		cmocka_unit_test_setup(test_set_address_errors, setup),
		cmocka_unit_test_setup(test_get_commands_and_unsupported, setup),
		cmocka_unit_test_setup(test_page_erase, setup),
		cmocka_unit_test_setup(test_page_erase_errors, setup),
		cmocka_unit_test_setup(test_page_erase_protected_no_error, setup),
		cmocka_unit_test_setup(test_mass_erase, setup),
		cmocka_unit_test_setup(test_read_unprotect, setup),
		cmocka_unit_test_setup(test_write_blocks, setup),
		cmocka_unit_test_setup(test_write_short_is_padded, setup),
		cmocka_unit_test_setup(test_write_tail_lost, setup),
		cmocka_unit_test_setup(test_write_tail_pad, setup),
		cmocka_unit_test_setup(test_write_tail_error, setup),
		cmocka_unit_test_setup(test_write_errors, setup),
		cmocka_unit_test_setup(test_write_options_resets, setup),
		cmocka_unit_test_setup(test_block_address_overflow, setup),
		cmocka_unit_test_setup(test_blocks_from_one_pointer, setup),
		cmocka_unit_test_setup(test_pointer_after_abort_and_error, setup),
		cmocka_unit_test_setup(test_block_number_wrap, setup),
		cmocka_unit_test_setup(test_upload_errors, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
