/*
 * test_usb.c - how the host tool finds its DFU device: the --port usb
 * spellings, and the choice among several devices. (The layout strings
 * and descriptors it reads are common code: tests/unit/test_dfuse.c.)
 */
#include "host_test.h"
#include "dfuse.h"
#include "usb.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(port_spellings),
		cmocka_unit_test(pick_among_devices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
