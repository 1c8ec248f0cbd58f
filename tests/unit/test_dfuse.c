/*
 * test_dfuse.c - the USB DFU 1.1 / DfuSe wire code that the host tool and
 * the emulator's ROM share (common/src/dfuse.c), pinned to the documents
 * byte by byte: both sides run it, so only these tests (and dfu-util
 * against the emulator) would notice it going wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sysboot/dfuse.h"

static void names(void **state)
{
	unsigned i;

	(void)state;
	assert_string_equal(dfu_state_name(DFU_STATE_APP_IDLE), "appIDLE");
	assert_string_equal(dfu_state_name(DFU_STATE_DNLOAD_IDLE), "dfuDNLOAD-IDLE");
	assert_string_equal(dfu_state_name(DFU_STATE_MANIFEST_WAIT_RESET), "dfuMANIFEST-WAIT-RESET");
	assert_string_equal(dfu_state_name(DFU_STATE_ERROR), "dfuERROR");
	assert_string_equal(dfu_state_name(DFU_STATE_ERROR + 1), "unknown state");
	assert_string_equal(dfu_status_name(DFU_STATUS_OK), "OK");
	assert_string_equal(dfu_status_name(DFU_STATUS_ERR_TARGET), "errTARGET");
	assert_string_equal(dfu_status_name(DFU_STATUS_ERR_PROG), "errPROG");
	assert_string_equal(dfu_status_name(DFU_STATUS_ERR_STALLEDPKT), "errSTALLEDPKT");
	assert_string_equal(dfu_status_name(DFU_STATUS_ERR_STALLEDPKT + 1), "unknown status");
	assert_string_equal(dfu_request_name(DFU_DETACH), "DFU_DETACH");
	assert_string_equal(dfu_request_name(DFU_GETSTATUS), "DFU_GETSTATUS");
	assert_string_equal(dfu_request_name(DFU_ABORT), "DFU_ABORT");
	assert_string_equal(dfu_request_name(DFU_ABORT + 1), "unknown DFU request");
	assert_string_equal(dfu_status_text(DFU_STATUS_ERR_ADDRESS), "the address is out of range");
	assert_string_equal(dfu_status_text(200), "a status DFU 1.1 does not define");
	/* Every code DFU 1.1 defines has a name and a text of its own. */
	for (i = 0; i <= DFU_STATE_ERROR; i++)
		assert_string_not_equal(dfu_state_name((uint8_t)i), "unknown state");
	for (i = 0; i <= DFU_STATUS_ERR_STALLEDPKT; i++) {
		assert_string_not_equal(dfu_status_name((uint8_t)i), "unknown status");
		assert_string_not_equal(dfu_status_text((uint8_t)i), "a status DFU 1.1 does not define");
	}
	for (i = 0; i <= DFU_ABORT; i++)
		assert_string_not_equal(dfu_request_name((uint8_t)i), "unknown DFU request");
}

static void getstatus_bytes(void **state)
{
	/* errADDRESS, bwPollTimeout 0x030201 ms little endian, dfuERROR, iString 7. */
	static const uint8_t wire[DFU_GETSTATUS_LENGTH] = { 0x08, 0x01, 0x02, 0x03, 0x0A, 0x07 };
	struct dfu_status st = { .status = DFU_STATUS_ERR_ADDRESS, .poll_ms = 0x030201,
				 .state = DFU_STATE_ERROR, .istring = 7 }, back;
	uint8_t b[DFU_GETSTATUS_LENGTH];

	(void)state;
	dfu_status_encode(&st, b);
	assert_memory_equal(b, wire, sizeof(wire));
	dfu_status_decode(wire, &back);
	assert_int_equal(back.status, DFU_STATUS_ERR_ADDRESS);
	assert_int_equal(back.poll_ms, 0x030201);
	assert_int_equal(back.state, DFU_STATE_ERROR);
	assert_int_equal(back.istring, 7);
	/* The poll timeout has three bytes: a longer one is sent as the longest. */
	st.poll_ms = 0x01000000;
	dfu_status_encode(&st, b);
	assert_int_equal(b[1], 0xFF);
	assert_int_equal(b[2], 0xFF);
	assert_int_equal(b[3], 0xFF);
	assert_int_equal(b[4], DFU_STATE_ERROR);
}

static void command_bytes(void **state)
{
	struct dfuse_command set = { .cmd = DFUSE_CMD_SET_ADDRESS, .has_addr = true, .addr = 0x08002000 };
	struct dfuse_command mass = { .cmd = DFUSE_CMD_ERASE };
	static const uint8_t set_wire[] = { 0x21, 0x00, 0x20, 0x00, 0x08 };
	uint8_t b[DFUSE_COMMAND_MAX];
	struct dfuse_command c;

	(void)state;
	/* AN3156: the command byte, then the address least significant byte first. */
	assert_int_equal(dfuse_command_encode(&set, b), 5);
	assert_memory_equal(b, set_wire, sizeof(set_wire));
	assert_int_equal(dfuse_command_encode(&mass, b), 1);
	assert_int_equal(b[0], 0x41);
	assert_true(dfuse_command_decode(set_wire, 5, &c));
	assert_int_equal(c.cmd, DFUSE_CMD_SET_ADDRESS);
	assert_true(c.has_addr);
	assert_int_equal(c.addr, 0x08002000u);
	assert_true(dfuse_command_decode((const uint8_t[]){ 0x92 }, 1, &c));
	assert_int_equal(c.cmd, DFUSE_CMD_READ_UNPROTECT);
	assert_false(c.has_addr);
	/* Neither 1 nor 5 bytes: not a command, though its byte is known. */
	assert_false(dfuse_command_decode(set_wire, 3, &c));
	assert_int_equal(c.cmd, DFUSE_CMD_SET_ADDRESS);
	assert_false(c.has_addr);
	assert_false(dfuse_command_decode(set_wire, 0, &c));
}

static void block_addresses(void **state)
{
	uint32_t a = 0;

	(void)state;
	/* AN3156: block 2 at the pointer, each next one wTransferSize further. */
	assert_true(dfuse_block_address(0x08000000u, 2, 2048, &a));
	assert_int_equal(a, 0x08000000u);
	assert_true(dfuse_block_address(0x08000000u, 5, 2048, &a));
	assert_int_equal(a, 0x08001800u);
	assert_true(dfuse_block_address(0xFFFFF800u, 2, 2048, &a));
	assert_int_equal(a, 0xFFFFF800u);
	/* The last 2 KB of a 1 MB flash is block 513; block 65535 is 128 MB on. */
	assert_true(dfuse_block_address(0x08000000u, 513, 2048, &a));
	assert_int_equal(a, 0x080FF800u);
	assert_true(dfuse_block_address(0x08000000u, 0xFFFF, 2048, &a));
	assert_int_equal(a, 0x0FFFE800u);
	/* Blocks 0 and 1 carry no data; nothing lands past 4 GB. */
	assert_false(dfuse_block_address(0x08000000u, 0, 2048, &a));
	assert_false(dfuse_block_address(0x08000000u, 1, 2048, &a));
	assert_false(dfuse_block_address(0xFFFFF800u, 3, 2048, &a));
	assert_false(dfuse_block_address(0x08000000u, 0xFFFF, 0xFFFF, &a));
}

static void layout_l476_one_block(void **state)
{
	struct dfuse_layout l;
	char err[200];

	(void)state;
	assert_int_equal(dfuse_parse_layout("@Internal Flash  /0x08000000/256*0002Kg,256*0002Kg",
					    &l, err, sizeof(err)), 0);
	assert_string_equal(l.name, "Internal Flash");
	assert_int_equal(l.nregions, 2);
	assert_int_equal(l.region[0].addr, 0x08000000u);
	assert_int_equal(l.region[0].count, 256);
	assert_int_equal(l.region[0].size, 2048);
	assert_int_equal(l.region[0].flags, DFUSE_MEM_READABLE | DFUSE_MEM_ERASABLE |
			 DFUSE_MEM_WRITABLE);
	assert_int_equal(l.region[1].addr, 0x08080000u);
	assert_ptr_equal(dfuse_layout_find(&l, 0x080FFFFFu), &l.region[1]);
	assert_ptr_equal(dfuse_layout_find(&l, 0x0807FFFFu), &l.region[0]);
	assert_null(dfuse_layout_find(&l, 0x08100000u));
	assert_null(dfuse_layout_find(&l, 0x07FFFFFFu));
}

static void layout_variants(void **state)
{
	struct dfuse_layout l;
	char err[200];

	(void)state;
	/* Blank multiplier, readable and writable ('e'). */
	assert_int_equal(dfuse_parse_layout("@Option Bytes  /0x1FFF7800/01*040 e", &l,
					    err, sizeof(err)), 0);
	assert_string_equal(l.name, "Option Bytes");
	assert_int_equal(l.region[0].size, 40);
	assert_int_equal(l.region[0].flags, DFUSE_MEM_READABLE | DFUSE_MEM_WRITABLE);
	/* One block per bank, each with its own address. */
	assert_int_equal(dfuse_parse_layout("@Internal Flash /0x08000000/256*02Kg/0x08080000/256*02Kg",
					    &l, err, sizeof(err)), 0);
	assert_int_equal(l.nregions, 2);
	assert_int_equal(l.region[1].addr, 0x08080000u);
	/* Mixed sector sizes continue from each other; 'a' read only. */
	assert_int_equal(dfuse_parse_layout("@Flash/0x08000000/04*016Ka,01*064Kg,1*1Mb", &l,
					    err, sizeof(err)), 0);
	assert_int_equal(l.nregions, 3);
	assert_int_equal(l.region[0].flags, DFUSE_MEM_READABLE);
	assert_int_equal(l.region[1].addr, 0x08010000u);
	assert_int_equal(l.region[1].size, 65536);
	assert_int_equal(l.region[2].addr, 0x08020000u);
	assert_int_equal(l.region[2].size, 1024 * 1024);
	assert_int_equal(l.region[2].flags, DFUSE_MEM_ERASABLE);
	/* No multiplier at all: bytes. */
	assert_int_equal(dfuse_parse_layout("@Device Feature/0xFFFF0000/01*004e", &l,
					    err, sizeof(err)), 0);
	assert_int_equal(l.region[0].size, 4);
}

static void expect_layout_error(const char *s, const char *needle)
{
	struct dfuse_layout l;
	char err[300] = "";

	assert_int_equal(dfuse_parse_layout(s, &l, err, sizeof(err)), -1);
	if (!strstr(err, needle))
		fail_msg("'%s': error '%s' lacks '%s'", s, err, needle);
}

static void layout_errors(void **state)
{
	(void)state;
	expect_layout_error("Internal Flash/0x08000000/1*2Kg", "no '@' at the start at offset 0");
	expect_layout_error("@Internal Flash", "no '/' after the name");
	expect_layout_error("@F/08000000/1*2Kg", "no 0x address at offset 3");
	expect_layout_error("@F/0x/1*2Kg", "bad address");
	expect_layout_error("@F/0x08000000", "no '/' after the address");
	expect_layout_error("@F/0x08000000/0*2Kg", "bad sector count");
	expect_layout_error("@F/0x08000000/4+2Kg", "no '*' after the sector count at offset 15");
	expect_layout_error("@F/0x08000000/4*Kg", "bad sector size");
	expect_layout_error("@F/0x08000000/4*2Kz", "sector type is not a letter a to g");
	expect_layout_error("@F/0x08000000/4*2Kg junk", "unexpected text");
	expect_layout_error("@F/0xFFFFF000/4*2Kg", "sectors run past 4 GB");
	expect_layout_error("@F/0x08000000/1*1a,1*1a,1*1a,1*1a,1*1a,1*1a,1*1a,1*1a,"
			    "1*1a,1*1a,1*1a,1*1a,1*1a,1*1a,1*1a,1*1a,1*1a",
			    "too many sector runs");
}

static void functional_descriptor(void **state)
{
	/* An unrelated descriptor first, then DFU 1.1's 9 bytes. */
	static const uint8_t extra[] = { 4, 0x24, 1, 2,
					 9, 0x21, 0x0B, 0xFF, 0x00, 0x00, 0x08, 0x1A, 0x01 };
	static const uint8_t dfu10[] = { 7, 0x21, 0x03, 0x10, 0x00, 0x00, 0x04 };
	static const uint8_t zero_len[] = { 0, 0x21, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t cut[] = { 9, 0x21, 0x0B, 0xFF, 0x00 };
	struct dfu_functional f;

	(void)state;
	assert_true(dfu_functional_find(extra, sizeof(extra), &f));
	assert_int_equal(f.attributes, 0x0B);
	assert_int_equal(f.detach_timeout_ms, 255);
	assert_int_equal(f.transfer_size, 2048);
	assert_int_equal(f.bcd_dfu, 0x011A);
	assert_true(dfu_functional_find(dfu10, sizeof(dfu10), &f));
	assert_int_equal(f.transfer_size, 1024);
	assert_int_equal(f.bcd_dfu, 0);
	assert_false(dfu_functional_find(extra, 4, &f));
	assert_false(dfu_functional_find(zero_len, sizeof(zero_len), &f));
	assert_false(dfu_functional_find(cut, sizeof(cut), &f));
}


static void functional_round_trip(void **state)
{
	/* The STM32 ROM's: download, upload, will detach; 255 ms; 2048; DFU 1.1a. */
	static const uint8_t wire[] = { 9, 0x21, 0x0B, 0xFF, 0x00, 0x00, 0x08, 0x1A, 0x01 };
	struct dfu_functional f = { .attributes = DFU_ATTR_CAN_DNLOAD | DFU_ATTR_CAN_UPLOAD |
				    DFU_ATTR_WILL_DETACH, .detach_timeout_ms = 255,
				    .transfer_size = DFUSE_TRANSFER_SIZE, .bcd_dfu = DFUSE_BCD_DFU }, back;
	uint8_t b[DFU_FUNCTIONAL_LENGTH];

	(void)state;
	dfu_functional_encode(&f, b);
	assert_memory_equal(b, wire, sizeof(wire));
	assert_true(dfu_functional_find(b, sizeof(b), &back));
	assert_int_equal(back.attributes, f.attributes);
	assert_int_equal(back.detach_timeout_ms, f.detach_timeout_ms);
	assert_int_equal(back.transfer_size, f.transfer_size);
	assert_int_equal(back.bcd_dfu, f.bcd_dfu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names),
		cmocka_unit_test(getstatus_bytes),
		cmocka_unit_test(command_bytes),
		cmocka_unit_test(block_addresses),
		cmocka_unit_test(layout_l476_one_block),
		cmocka_unit_test(layout_variants),
		cmocka_unit_test(layout_errors),
		cmocka_unit_test(functional_descriptor),
		cmocka_unit_test(functional_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
