/*
 * usb_client.c - a plain libusb program for the USB DFU paths that dfu-util
 * never provokes, run against the emulated ROM under umockdev
 * (tests/sim/dfu_util.sh). Two runs:
 *
 *  - checks: it must see the device appear after it started (hotplug), get
 *    a pipe error for a request the DFU state machine refuses and recover
 *    with DFU_CLRSTATUS, see errADDRESS for a write that runs past the end
 *    of flash, reset the port, and see the device leave and come back with
 *    a new address after a leave request to an empty flash (the ROM resets
 *    into itself);
 *  - attach: the device detaches and attaches again (DFU_DETACH) CYCLES
 *    times, and each new device is asked for its descriptors the moment it
 *    shows up, as a program waiting for the board does (sysboot, dfu-util
 *    -w). Every one must answer, right, at the first request: a device that
 *    is visible must serve its requests.
 *
 * Each check prints one line; the first failure ends the run with status 1.
 *
 * usage: usb_client checks TIMEOUT_MS
 *        usb_client attach CYCLES TIMEOUT_MS
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

/*
 * Wait (handling hotplug events) until the device is there at an address
 * other than not_addr, or gone. Looks again every 2 ms: a program waiting
 * for the board opens it as soon as it can.
 */
static uint8_t wait_device(bool present, uint8_t not_addr, unsigned timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;
	struct timeval tv = { 0, 2000 };
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
	uint8_t b[DFU_GETSTATUS_LENGTH];
	struct dfu_status st;
	int r = dfu_in(h, DFU_GETSTATUS, 0, b, sizeof(b));

	if (r != (int)sizeof(b))
		die("%s: DFU_GETSTATUS returned %d (%s)", what, r, r < 0 ? libusb_error_name(r) : "short");
	dfu_status_decode(b, &st);
	if (st.state != state || st.status != status)
		die("%s: %s, %s; expected %s, %s", what, dfu_state_name(st.state), dfu_status_name(st.status),
		    dfu_state_name(state), dfu_status_name(status));
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
	struct dfuse_command cmd = { .cmd = DFUSE_CMD_SET_ADDRESS, .has_addr = true, .addr = a };
	uint8_t c[DFUSE_COMMAND_MAX];

	dnload(h, DFUSE_BLOCK_COMMAND, c, (uint16_t)dfuse_command_encode(&cmd, c));
}

static void checks(unsigned timeout)
{
	libusb_device_handle *h;
	uint8_t addr, addr2, buf[64];
	int r;

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
	printf("usb_client: all checks passed\n");
}

/* The DFU device at this bus address, opened (not claimed). */
static libusb_device_handle *open_at(uint8_t addr)
{
	libusb_device_handle *h = NULL;
	libusb_device **list;
	ssize_t n, i;
	int r = LIBUSB_ERROR_NOT_FOUND;

	n = libusb_get_device_list(ctx, &list);
	for (i = 0; i < n; i++) {
		if (libusb_get_device_address(list[i]) == addr) {
			r = libusb_open(list[i], &h);
			break;
		}
	}
	if (n >= 0)
		libusb_free_device_list(list, 1);
	if (r < 0)
		die("cannot open the device at address %u: %s", addr, libusb_error_name(r));
	return h;
}

/* String descriptor index as ASCII; any failure ends the run. */
static void string_at(libusb_device_handle *h, unsigned attach, uint8_t addr, uint8_t index,
		      char *buf, int len)
{
	int r = libusb_get_string_descriptor_ascii(h, index, (unsigned char *)buf, len);

	if (r < 0)
		die("attach %u (address %u): string descriptor %u: %s", attach, addr, index,
		    libusb_error_name(r));
	buf[r < len ? r : len - 1] = '\0';
}

/*
 * One attach: the descriptors a DFU host reads before anything else (the
 * device descriptor by request, the serial, product and every alternate
 * setting's memory layout), then DFU_DETACH: the device leaves the bus and
 * comes back with a new address.
 */
static void one_attach(unsigned attach, uint8_t addr)
{
	struct libusb_config_descriptor *cfg;
	struct libusb_device_descriptor dd;
	libusb_device_handle *h = open_at(addr);
	uint8_t desc[18];
	char s[128];
	int r, a;

	r = libusb_control_transfer(h, LIBUSB_ENDPOINT_IN, LIBUSB_REQUEST_GET_DESCRIPTOR,
				    LIBUSB_DT_DEVICE << 8, 0, desc, sizeof(desc), XFER_MS);
	if (r != (int)sizeof(desc))
		die("attach %u (address %u): GET_DESCRIPTOR(device) returned %d (%s)", attach, addr, r,
		    r < 0 ? libusb_error_name(r) : "short");
	if (libusb_get_device_descriptor(libusb_get_device(h), &dd) < 0 ||
	    libusb_get_active_config_descriptor(libusb_get_device(h), &cfg) < 0)
		die("attach %u (address %u): no descriptors in sysfs", attach, addr);
	string_at(h, attach, addr, dd.iSerialNumber, s, sizeof(s));
	if (!s[0])
		die("attach %u (address %u): empty serial number", attach, addr);
	string_at(h, attach, addr, dd.iProduct, s, sizeof(s));
	if (strcmp(s, "STM32  BOOTLOADER"))
		die("attach %u (address %u): product \"%s\"", attach, addr, s);
	for (a = 0; a < cfg->interface[0].num_altsetting; a++) {
		string_at(h, attach, addr, cfg->interface[0].altsetting[a].iInterface, s, sizeof(s));
		if (s[0] != '@')
			die("attach %u (address %u): alternate setting %d is \"%s\", not a memory layout",
			    attach, addr, a, s);
	}
	libusb_free_config_descriptor(cfg);
	r = libusb_claim_interface(h, 0);
	if (r < 0)
		die("attach %u (address %u): cannot claim interface 0: %s", attach, addr, libusb_error_name(r));
	r = dfu_out(h, DFU_DETACH, 0, NULL, 0);
	if (r != 0)
		die("attach %u (address %u): DFU_DETACH returned %s", attach, addr, libusb_error_name(r));
	libusb_release_interface(h, 0);
	libusb_close(h);
}

static void attach_cycles(unsigned cycles, unsigned timeout)
{
	uint64_t t0 = now_ms();
	uint8_t addr = 0;
	unsigned i;

	for (i = 1; i <= cycles; i++) {
		addr = wait_device(true, addr, timeout);
		one_attach(i, addr);
	}
	printf("usb_client: %u attaches, every descriptor answered at the first request (%llu ms)\n",
	       cycles, (unsigned long long)(now_ms() - t0));
}

int main(int argc, char **argv)
{
	if (libusb_init(&ctx) < 0)
		die("libusb_init failed");
	if (argc == 3 && strcmp(argv[1], "checks") == 0)
		checks((unsigned)strtoul(argv[2], NULL, 0));
	else if (argc == 4 && strcmp(argv[1], "attach") == 0)
		attach_cycles((unsigned)strtoul(argv[2], NULL, 0), (unsigned)strtoul(argv[3], NULL, 0));
	else
		die("usage: usb_client checks TIMEOUT_MS | usb_client attach CYCLES TIMEOUT_MS");
	libusb_exit(ctx);
	return 0;
}
