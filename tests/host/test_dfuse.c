/*
 * test_dfuse.c - what the DfuSe client reads from a device before talking
 * to it: memory layout strings (AN3156), the DFU functional descriptor,
 * the --port usb spellings, and the choice among several devices.
 *
 * Why here and not against the emulator: each layout variant and each
 * malformed string is one line to state, and the parser decides whether a
 * board is taken for the right chip.
 */
#include "host_test.h"
#include "dfuse.h"
#include "usb.h"

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
	assert_true(dfu_parse_functional(extra, sizeof(extra), &f));
	assert_int_equal(f.attributes, 0x0B);
	assert_int_equal(f.detach_timeout_ms, 255);
	assert_int_equal(f.transfer_size, 2048);
	assert_int_equal(f.bcd_dfu, 0x011A);
	assert_true(dfu_parse_functional(dfu10, sizeof(dfu10), &f));
	assert_int_equal(f.transfer_size, 1024);
	assert_int_equal(f.bcd_dfu, 0);
	assert_false(dfu_parse_functional(extra, 4, &f));
	assert_false(dfu_parse_functional(zero_len, sizeof(zero_len), &f));
	assert_false(dfu_parse_functional(cut, sizeof(cut), &f));
}

static void port_spellings(void **state)
{
	struct usb_spec sp;
	char err[300];

	(void)state;
	assert_int_equal(usb_parse_port("usb", &sp, err, sizeof(err)), 0);
	assert_int_equal(sp.vid, 0x0483);
	assert_int_equal(sp.pid, 0xDF11);
	assert_string_equal(sp.serial, "");
	assert_int_equal(usb_parse_port("usb:1234:abCD", &sp, err, sizeof(err)), 0);
	assert_int_equal(sp.vid, 0x1234);
	assert_int_equal(sp.pid, 0xABCD);
	assert_int_equal(usb_parse_port("usb:0483:df11:206C37A55842", &sp, err, sizeof(err)), 0);
	assert_string_equal(sp.serial, "206C37A55842");
	assert_int_equal(usb_parse_port("usb:", &sp, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bad USB port 'usb:': use usb (the first 0483:df11), "
			       "usb:VID:PID or usb:VID:PID:SERIAL"));
	assert_int_equal(usb_parse_port("usb:0483", &sp, err, sizeof(err)), -1);
	assert_int_equal(usb_parse_port("usb:10483:df11", &sp, err, sizeof(err)), -1);
	assert_int_equal(usb_parse_port("usb:0483:dg11", &sp, err, sizeof(err)), -1);
	assert_int_equal(usb_parse_port("usb:0483:df11:", &sp, err, sizeof(err)), -1);
	assert_int_equal(usb_parse_port("usbx", &sp, err, sizeof(err)), -1);
}

static void pick_among_devices(void **state)
{
	struct usb_candidate c[4] = {
		{ 0x1d6b, 0x0002, 1, 1, "" },
		{ 0x0483, 0xdf11, 1, 4, "AAA1" },
		{ 0x0483, 0x374b, 1, 6, "STLINK" },
		{ 0x0483, 0xdf11, 2, 9, "BBB2" },
	};
	struct usb_spec sp;
	char err[400] = "";

	(void)state;
	assert_int_equal(usb_parse_port("usb", &sp, err, sizeof(err)), 0);
	assert_int_equal(usb_pick(c, 4, &sp, err, sizeof(err)), -2);
	assert_string_equal(err, "2 DFU devices match 0483:df11; choose one with --port "
			    "usb:0483:df11:SERIAL: serial AAA1 (bus 1 device 4), "
			    "serial BBB2 (bus 2 device 9)");
	assert_int_equal(usb_parse_port("usb:0483:df11:BBB2", &sp, err, sizeof(err)), 0);
	assert_int_equal(usb_pick(c, 4, &sp, err, sizeof(err)), 3);
	assert_int_equal(usb_parse_port("usb:0483:df11:CCC3", &sp, err, sizeof(err)), 0);
	assert_int_equal(usb_pick(c, 4, &sp, err, sizeof(err)), -1);
	assert_int_equal(usb_parse_port("usb", &sp, err, sizeof(err)), 0);
	assert_int_equal(usb_pick(c, 3, &sp, err, sizeof(err)), 1);
	assert_int_equal(usb_pick(c, 1, &sp, err, sizeof(err)), -1);
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(dfu_state_name(DFU_STATE_ERROR), "dfuERROR");
	assert_string_equal(dfu_state_name(DFU_STATE_DNLOAD_IDLE), "dfuDNLOAD-IDLE");
	assert_string_equal(dfu_state_name(42), "unknown state");
	assert_string_equal(dfu_status_name(DFU_STATUS_ERR_PROG), "errPROG");
	assert_string_equal(dfu_status_name(200), "unknown status");
	assert_string_equal(dfu_status_text(DFU_STATUS_ERR_ADDRESS), "the address is out of range");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout_l476_one_block),
		cmocka_unit_test(layout_variants),
		cmocka_unit_test(layout_errors),
		cmocka_unit_test(functional_descriptor),
		cmocka_unit_test(port_spellings),
		cmocka_unit_test(pick_among_devices),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
