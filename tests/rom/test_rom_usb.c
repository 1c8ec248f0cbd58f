/*
 * test_rom_usb.c - the ROM bootloader's USB device in DFU mode: its
 * descriptors byte for byte, the chapter 9 standard requests, the routing
 * of DFU class requests, and the bus time of a control transfer.
 *
 * dfu-util and libusb read exactly these bytes (from sysfs and through
 * GET_DESCRIPTOR), so each field is checked where it sits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rom/rom_usb.h"
#include "sysboot/byteorder.h"

static struct rom_dfu dfu;
static struct rom_usb usb;

static const struct rom_dfu_region regions[] = {
	{ 0x08000000u, 0x1000u, ROM_DFU_READ | ROM_DFU_POINTER, ROM_DFU_MEM_FLASH, "flash" },
};

static int t_read(void *ctx, uint32_t addr, uint8_t *buf, uint32_t len)
{
	(void)ctx;
	(void)addr;
	memset(buf, 0x77, len);
	return 0;
}

static const struct rom_dfu_ops ops = { .read = t_read };

static const struct rom_usb_config cfg = {
	.vid = 0x0483, .pid = 0xDF11, .bcd_usb = 0x0200, .bcd_device = 0x2200,
	.manufacturer = "STMicroelectronics", .product = "STM32  BOOTLOADER", .serial = "327931683634",
	.alt_names = { "@Internal Flash  /0x08000000/0512*0002Kg", "@Option Bytes  /0x1FFF7800/01*040 e",
		       "@OTP Memory /0x1FFF7000/01*0001Ke", "@Device Feature/0xFFFF0000/01*004 e" },
	.nalts = 4, .self_powered = true, .max_power_ma = 100,
	.functional = { .attributes = DFU_ATTR_CAN_DNLOAD | DFU_ATTR_CAN_UPLOAD | DFU_ATTR_WILL_DETACH,
			.detach_timeout_ms = 255, .transfer_size = 2048, .bcd_dfu = 0x011A },
};

static int setup(void **state)
{
	struct rom_dfu_config dc = {
		.transfer_size = 2048, .default_pointer = 0x08000000u,
		.regions = regions, .nregions = 1,
	};

	(void)state;
	rom_dfu_init(&dfu, &dc, &ops, NULL);
	rom_usb_init(&usb, &cfg, &dfu);
	return 0;
}

static enum rom_dfu_result req(uint8_t type, uint8_t request, uint16_t value, uint16_t index,
			       uint16_t length, uint8_t *data, uint16_t *len)
{
	struct usb_setup s = { type, request, value, index, length };

	return rom_usb_control(&usb, &s, data, len);
}

static void test_device_descriptor(void **state)
{
	uint8_t d[64];
	uint16_t n = 0;

	(void)state;
	rom_usb_enumerate(&usb, 5);
	assert_int_equal(req(0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8, 0, 64, d, &n), ROM_DFU_ACK);
	assert_int_equal(n, 18);
	assert_int_equal(d[0], 18);
	assert_int_equal(d[1], USB_DT_DEVICE);
	assert_int_equal(get_le16(&d[2]), 0x0200);
	assert_int_equal(d[7], 64);                  /* bMaxPacketSize0 */
	assert_int_equal(get_le16(&d[8]), 0x0483);
	assert_int_equal(get_le16(&d[10]), 0xDF11);
	assert_int_equal(get_le16(&d[12]), 0x2200);
	assert_int_equal(d[14], 1);
	assert_int_equal(d[15], 2);
	assert_int_equal(d[16], 3);
	assert_int_equal(d[17], 1);
	/* Cut to wLength, as the first 8-byte read of an enumeration asks. */
	assert_int_equal(req(0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8, 0, 8, d, &n), ROM_DFU_ACK);
	assert_int_equal(n, 8);
}

static void test_configuration_descriptor(void **state)
{
	uint8_t d[128], *p;
	uint16_t n = 0;
	unsigned a;

	(void)state;
	rom_usb_enumerate(&usb, 5);
	assert_int_equal(req(0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_CONFIG << 8, 0, 128, d, &n), ROM_DFU_ACK);
	assert_int_equal(n, 9 + 4 * 9 + 9);
	assert_int_equal(get_le16(&d[2]), n);            /* wTotalLength */
	assert_int_equal(d[4], 1);                   /* one interface */
	assert_int_equal(d[5], 1);                   /* bConfigurationValue */
	assert_int_equal(d[7], 0xC0);                /* self powered */
	assert_int_equal(d[8], 50);                  /* 100 mA */
	for (a = 0; a < 4; a++) {
		p = &d[9 + 9 * a];
		assert_int_equal(p[1], USB_DT_INTERFACE);
		assert_int_equal(p[2], 0);
		assert_int_equal(p[3], a);
		assert_int_equal(p[4], 0);           /* endpoint 0 only */
		assert_int_equal(p[5], 0xFE);
		assert_int_equal(p[6], 1);
		assert_int_equal(p[7], 2);           /* DFU mode */
		assert_int_equal(p[8], 4 + a);
	}
	p = &d[9 + 36];
	assert_int_equal(p[0], 9);
	assert_int_equal(p[1], DFU_DESC_FUNCTIONAL);
	assert_int_equal(p[2], 0x0B);
	assert_int_equal(get_le16(&p[3]), 255);
	assert_int_equal(get_le16(&p[5]), 2048);
	assert_int_equal(get_le16(&p[7]), 0x011A);
	/* Also as its own descriptor, as dfu-util asks when it cannot find it. */
	assert_int_equal(req(0x80, USB_REQ_GET_DESCRIPTOR, DFU_DESC_FUNCTIONAL << 8, 0, 9, d, &n),
			 ROM_DFU_ACK);
	assert_memory_equal(d, p, 9);
	assert_int_equal(req(0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_CONFIG << 8 | 1, 0, 9, d, &n),
			 ROM_DFU_STALL);
	assert_int_equal(req(0x80, USB_REQ_GET_DESCRIPTOR, 6 << 8, 0, 10, d, &n), ROM_DFU_STALL);
	assert_non_null(strstr(rom_usb_last_stall(&usb), "type 6"));
}

static void test_descriptors_blob(void **state)
{
	uint8_t d[128];

	(void)state;
	/* sysfs "descriptors": device then configuration, as on the wire. */
	assert_int_equal(rom_usb_descriptors(&usb, d, sizeof(d)), 18 + 54);
	assert_int_equal(d[1], USB_DT_DEVICE);
	assert_int_equal(d[19], USB_DT_CONFIG);
	assert_int_equal(rom_usb_descriptors(&usb, d, 40), 0);
}

static void test_strings(void **state)
{
	uint8_t d[256];
	uint16_t n = 0;
	const char *want = "STM32  BOOTLOADER";
	size_t i;

	(void)state;
	assert_int_equal(req(0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_STRING << 8, 0, 255, d, &n), ROM_DFU_ACK);
	assert_int_equal(n, 4);
	assert_int_equal(get_le16(&d[2]), 0x0409);
	assert_int_equal(req(0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_STRING << 8 | 2, 0x0409, 255, d, &n),
			 ROM_DFU_ACK);
	assert_int_equal(d[0], 2 + 2 * strlen(want));
	assert_int_equal(n, d[0]);
	for (i = 0; i < strlen(want); i++)
		assert_int_equal(get_le16(&d[2 + 2 * i]), want[i]);
	assert_int_equal(req(0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_STRING << 8 | 7, 0x0409, 255, d, &n),
			 ROM_DFU_ACK);
	assert_int_equal(d[2], '@');
	assert_int_equal(d[4], 'D');             /* "@Device Feature..." */
	assert_int_equal(req(0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_STRING << 8 | 8, 0x0409, 255, d, &n),
			 ROM_DFU_STALL);
	assert_non_null(strstr(rom_usb_last_stall(&usb), "string 8"));
}

static void test_address_and_configuration(void **state)
{
	uint8_t d[4];
	uint16_t n = 0;

	(void)state;
	assert_int_equal(usb.state, USB_STATE_DEFAULT);
	/* Before an address: no configuration, no class request. */
	assert_int_equal(req(0x00, USB_REQ_SET_CONFIGURATION, 1, 0, 0, d, &n), ROM_DFU_STALL);
	assert_int_equal(req(0x00, USB_REQ_SET_ADDRESS, 9, 0, 0, d, &n), ROM_DFU_ACK);
	assert_int_equal(usb.address, 9);
	assert_int_equal(req(0x80, USB_REQ_GET_CONFIGURATION, 0, 0, 1, d, &n), ROM_DFU_ACK);
	assert_int_equal(d[0], 0);
	assert_int_equal(req(0xA1, DFU_GETSTATUS, 0, 0, 6, d, &n), ROM_DFU_STALL);
	assert_non_null(strstr(rom_usb_last_stall(&usb), "while not configured"));
	assert_int_equal(req(0x00, USB_REQ_SET_CONFIGURATION, 2, 0, 0, d, &n), ROM_DFU_STALL);
	assert_int_equal(req(0x00, USB_REQ_SET_CONFIGURATION, 1, 0, 0, d, &n), ROM_DFU_ACK);
	assert_int_equal(req(0x80, USB_REQ_GET_CONFIGURATION, 0, 0, 1, d, &n), ROM_DFU_ACK);
	assert_int_equal(d[0], 1);
	assert_int_equal(req(0x00, USB_REQ_SET_ADDRESS, 10, 0, 0, d, &n), ROM_DFU_STALL);
	assert_int_equal(req(0x80, USB_REQ_GET_STATUS, 0, 0, 2, d, &n), ROM_DFU_ACK);
	assert_int_equal(n, 2);
	assert_int_equal(d[0], 1);               /* self powered */
	assert_int_equal(req(0x00, USB_REQ_SET_FEATURE, 1, 0, 0, d, &n), ROM_DFU_STALL);
	assert_int_equal(req(0x40, 0x01, 0, 0, 0, d, &n), ROM_DFU_STALL);
	assert_non_null(strstr(rom_usb_last_stall(&usb), "vendor request"));
}

static void test_interface_requests(void **state)
{
	uint8_t d[8];
	uint16_t n = 0;

	(void)state;
	rom_usb_enumerate(&usb, 3);
	assert_int_equal(req(0x01, USB_REQ_SET_INTERFACE, 2, 0, 0, d, &n), ROM_DFU_ACK);
	assert_int_equal(dfu.alt, 2);
	assert_int_equal(req(0x81, USB_REQ_GET_INTERFACE, 0, 0, 1, d, &n), ROM_DFU_ACK);
	assert_int_equal(d[0], 2);
	assert_int_equal(req(0x01, USB_REQ_SET_INTERFACE, 4, 0, 0, d, &n), ROM_DFU_STALL);
	assert_non_null(strstr(rom_usb_last_stall(&usb), "only 0..3 exist"));
	assert_int_equal(req(0x01, USB_REQ_SET_INTERFACE, 0, 1, 0, d, &n), ROM_DFU_STALL);
	assert_int_equal(req(0x81, USB_REQ_GET_STATUS, 0, 0, 2, d, &n), ROM_DFU_ACK);
	assert_int_equal(req(0x82, USB_REQ_GET_STATUS, 0, 0x80, 2, d, &n), ROM_DFU_ACK);
	assert_int_equal(req(0x02, USB_REQ_CLEAR_FEATURE, 0, 0x00, 0, d, &n), ROM_DFU_ACK);
	assert_int_equal(req(0x82, USB_REQ_GET_STATUS, 0, 0x81, 2, d, &n), ROM_DFU_STALL);
}

static void test_class_requests_reach_dfu(void **state)
{
	uint8_t d[8];
	uint16_t n = 0;

	(void)state;
	rom_usb_enumerate(&usb, 3);
	assert_int_equal(req(0xA1, DFU_GETSTATUS, 0, 0, 6, d, &n), ROM_DFU_ACK);
	assert_int_equal(n, 6);
	assert_int_equal(d[4], DFU_STATE_IDLE);
	assert_int_equal(req(0xA1, DFU_UPLOAD, 0, 0, 8, d, &n), ROM_DFU_ACK);
	assert_int_equal(n, 4);
	/* A refused DFU request stalls, with the engine's reason. */
	assert_int_equal(req(0x21, DFU_CLRSTATUS, 0, 0, 0, d, &n), ROM_DFU_STALL);
	assert_non_null(strstr(rom_usb_last_stall(&usb), "DFU_CLRSTATUS not allowed in dfuUPLOAD-IDLE"));
	assert_int_equal(dfu.state, DFU_STATE_ERROR);
	assert_int_equal(req(0xA1, DFU_GETSTATUS, 0, 1, 6, d, &n), ROM_DFU_STALL);
	assert_non_null(strstr(rom_usb_last_stall(&usb), "interface 1, which does not exist"));
	assert_int_equal(req(0x20, DFU_GETSTATUS, 0, 0, 6, d, &n), ROM_DFU_STALL);
	/* A bus reset puts DFU back in dfuIDLE. */
	rom_usb_enumerate(&usb, 3);
	assert_int_equal(dfu.state, DFU_STATE_IDLE);
	assert_int_equal(usb.state, USB_STATE_CONFIGURED);
}

static void test_bus_time(void **state)
{
	(void)state;
	/* Setup (8 bytes), 32 packets of 64 bytes, zero-length status: 20018 bits at 12 MHz. */
	assert_int_equal(rom_usb_control_bits(2048), 20018u);
	assert_int_equal(rom_usb_control_bits(0), 105u + 64u + 105u);
	assert_int_equal(rom_usb_control_bits(6), 169u + 105u + 48u + 105u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_device_descriptor, setup),
		cmocka_unit_test_setup(test_configuration_descriptor, setup),
		cmocka_unit_test_setup(test_descriptors_blob, setup),
		cmocka_unit_test_setup(test_strings, setup),
		cmocka_unit_test_setup(test_address_and_configuration, setup),
		cmocka_unit_test_setup(test_interface_requests, setup),
		cmocka_unit_test_setup(test_class_requests_reach_dfu, setup),
		cmocka_unit_test_setup(test_bus_time, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
