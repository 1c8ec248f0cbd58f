/*
 * usb_client.c - a plain libusb program for the USB DFU error paths that
 * dfu-util never provokes, run against the emulated ROM under umockdev
 * (tests/sim/dfu_util.sh): it must see the device appear after it started
 * (hotplug), get a pipe error for a request the DFU state machine refuses
 * and recover with DFU_CLRSTATUS, see errADDRESS for a write that runs past
 * the end of flash, reset the port, and see the device leave and come back
 * with a new address after a leave request to an empty flash (the ROM
 * resets into itself). Each check prints one line; the first failure ends
 * the run with status 1.
 *
 * usage: usb_client TIMEOUT_MS
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libusb.h>

#include "sysboot/dfuse.h"

#define XFER_MS 2000u

static libusb_context *ctx;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("usb_client: FAIL: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	exit(1);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The DFU device's bus address, 0 while it is not there. */
static uint8_t find_device(void)
{
	libusb_device **list;
	ssize_t n, i;
	uint8_t addr = 0;

	n = libusb_get_device_list(ctx, &list);
	for (i = 0; i < n; i++) {
		struct libusb_device_descriptor d;

		if (libusb_get_device_descriptor(list[i], &d) == 0 && d.idVendor == DFUSE_VID &&
		    d.idProduct == DFUSE_PID)
			addr = libusb_get_device_address(list[i]);
	}
	if (n >= 0)
		libusb_free_device_list(list, 1);
	return addr;
}

/* Wait (handling hotplug events) until the device is there, or gone (want 0). */
static uint8_t wait_device(bool present, uint8_t not_addr, unsigned timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;
	struct timeval tv = { 0, 20000 };
	uint8_t a;

	for (;;) {
		a = find_device();
		if (present ? (a && a != not_addr) : !a)
			return a;
		if (now_ms() > end)
			die("the device did not %s within %u ms", present ? "appear" : "go away", timeout_ms);
		libusb_handle_events_timeout(ctx, &tv);
	}
}

static libusb_device_handle *open_dfu(void)
{
	libusb_device_handle *h = libusb_open_device_with_vid_pid(ctx, DFUSE_VID, DFUSE_PID);
	int r;

	if (!h)
		die("cannot open 0483:df11");
	r = libusb_claim_interface(h, 0);
	if (r < 0)
		die("cannot claim interface 0: %s", libusb_error_name(r));
	return h;
}

static int dfu_out(libusb_device_handle *h, uint8_t req, uint16_t value, uint8_t *data, uint16_t len)
{
	return libusb_control_transfer(h, DFU_REQTYPE_OUT, req, value, 0, data, len, XFER_MS);
}

static int dfu_in(libusb_device_handle *h, uint8_t req, uint16_t value, uint8_t *data, uint16_t len)
{
	return libusb_control_transfer(h, DFU_REQTYPE_IN, req, value, 0, data, len, XFER_MS);
}

static void expect_status(libusb_device_handle *h, uint8_t state, uint8_t status, const char *what)
{
	uint8_t b[6];
	int r = dfu_in(h, DFU_GETSTATUS, 0, b, 6);

	if (r != 6)
		die("%s: DFU_GETSTATUS returned %d (%s)", what, r, r < 0 ? libusb_error_name(r) : "short");
	if (b[4] != state || b[0] != status)
		die("%s: state %u status %u, expected state %u status %u", what, b[4], b[0], state, status);
}

/* A DNLOAD, then GETSTATUS until the device is no longer busy. */
static void dnload(libusb_device_handle *h, uint16_t block, uint8_t *data, uint16_t len)
{
	uint8_t b[6];
	int r = dfu_out(h, DFU_DNLOAD, block, data, len);

	if (r != len)
		die("DFU_DNLOAD block %u returned %d", block, r);
	do {
		if (dfu_in(h, DFU_GETSTATUS, 0, b, 6) != 6)
			die("DFU_GETSTATUS after DNLOAD failed");
	} while (b[4] == DFU_STATE_DNBUSY);
}

static void set_address(libusb_device_handle *h, uint32_t a)
{
	uint8_t c[5] = { DFUSE_CMD_SET_ADDRESS, (uint8_t)a, (uint8_t)(a >> 8), (uint8_t)(a >> 16),
			 (uint8_t)(a >> 24) };

	dnload(h, 0, c, 5);
}

int main(int argc, char **argv)
{
	unsigned timeout = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 5000u;
	libusb_device_handle *h;
	uint8_t addr, addr2, buf[64];
	int r;

	if (libusb_init(&ctx) < 0)
		die("libusb_init failed");
	addr = wait_device(true, 0, timeout);
	printf("usb_client: device appeared at address %u\n", addr);
	h = open_dfu();
	expect_status(h, DFU_STATE_IDLE, DFU_STATUS_OK, "first status");

	/* A request the state machine refuses: a pipe error, then CLRSTATUS recovers. */
	set_address(h, 0x08000000u);
	r = dfu_in(h, DFU_UPLOAD, 2, buf, sizeof(buf));
	if (r != LIBUSB_ERROR_PIPE)
		die("UPLOAD in dfuDNLOAD-IDLE returned %d, expected LIBUSB_ERROR_PIPE", r);
	expect_status(h, DFU_STATE_ERROR, DFU_STATUS_ERR_STALLEDPKT, "after the stall");
	if (dfu_out(h, DFU_CLRSTATUS, 0, NULL, 0) != 0)
		die("DFU_CLRSTATUS failed");
	expect_status(h, DFU_STATE_IDLE, DFU_STATUS_OK, "after CLRSTATUS");
	printf("usb_client: stall seen as a pipe error, CLRSTATUS recovered\n");

	/* A write starting in flash and running past its end: errADDRESS. */
	set_address(h, 0x080FFFE0u);
	memset(buf, 0, sizeof(buf));
	dnload(h, 2, buf, sizeof(buf));
	expect_status(h, DFU_STATE_ERROR, DFU_STATUS_ERR_ADDRESS, "write across the end of flash");
	dfu_out(h, DFU_CLRSTATUS, 0, NULL, 0);
	printf("usb_client: write past the end of flash: errADDRESS\n");

	/* A port reset: the DFU state machine back in dfuIDLE, the handle still usable. */
	set_address(h, 0x08000000u);
	r = libusb_reset_device(h);
	if (r < 0)
		die("libusb_reset_device: %s", libusb_error_name(r));
	expect_status(h, DFU_STATE_IDLE, DFU_STATUS_OK, "after the port reset");
	printf("usb_client: port reset: dfuIDLE\n");

	/* Leave to an empty flash: the ROM resets into itself and comes back. */
	set_address(h, 0x08000000u);
	if (dfu_out(h, DFU_DNLOAD, 2, NULL, 0) != 0)
		die("the leave request failed");
	expect_status(h, DFU_STATE_MANIFEST, DFU_STATUS_OK, "leave");
	r = dfu_in(h, DFU_GETSTATUS, 0, buf, 6);
	if (r != LIBUSB_ERROR_NO_DEVICE)
		die("after leaving, GETSTATUS returned %d, expected LIBUSB_ERROR_NO_DEVICE", r);
	libusb_release_interface(h, 0);
	libusb_close(h);
	wait_device(false, 0, timeout);
	printf("usb_client: the device went away after the leave request\n");
	addr2 = wait_device(true, addr, timeout);
	printf("usb_client: the device came back at address %u\n", addr2);
	h = open_dfu();
	expect_status(h, DFU_STATE_IDLE, DFU_STATUS_OK, "after coming back");
	libusb_release_interface(h, 0);
	libusb_close(h);
	libusb_exit(ctx);
	printf("usb_client: all checks passed\n");
	return 0;
}
