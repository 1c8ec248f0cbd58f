/*
 * usb.c - the ROM's DFU device through libusb-1.0 (usb.h).
 *
 * Why a fresh libusb context for every look: a board asked to enter its
 * bootloader leaves the bus as an application and comes back as the ROM's
 * DFU device, and a context's device list is only as fresh as its hotplug
 * monitoring, which a container or an emulated bus may not have. A new
 * context enumerates the bus as it is now, at the cost of a few
 * milliseconds per poll. The handle keeps its context until it is closed.
 *
 * Errors name the device by bus and address, and say what to do: a
 * permission problem is the udev rule, a busy interface another program.
 */
#include "usb.h"

#include <errno.h>
#include <libusb-1.0/libusb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sysboot/dfuse.h"

/* ---- Port spelling and choice (no libusb here) ------------------------- */

static bool hex16(const char *s, size_t n, uint16_t *v)
{
	unsigned long x = 0;
	size_t i;

	if (n == 0 || n > 4)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return false;
		x = x * 16 + (unsigned long)d;
	}
	*v = (uint16_t)x;
	return true;
}

int usb_parse_port(const char *port, struct usb_spec *spec, char *err,
		   size_t errlen)
{
	const char *p, *colon;

	memset(spec, 0, sizeof(*spec));
	spec->vid = DFUSE_VID;
	spec->pid = DFUSE_PID;
	if (strcmp(port, "usb") == 0)
		return 0;
	if (strncmp(port, "usb:", 4) != 0)
		goto bad;
	p = port + 4;
	colon = strchr(p, ':');
	if (!colon || !hex16(p, (size_t)(colon - p), &spec->vid))
		goto bad;
	p = colon + 1;
	colon = strchr(p, ':');
	if (!hex16(p, colon ? (size_t)(colon - p) : strlen(p), &spec->pid))
		goto bad;
	if (colon) {
		if (!colon[1] || strlen(colon + 1) >= sizeof(spec->serial))
			goto bad;
		snprintf(spec->serial, sizeof(spec->serial), "%s", colon + 1);
	}
	return 0;
bad:
	snprintf(err, errlen, "bad USB port '%s': use usb (the first %04x:%04x), "
		 "usb:VID:PID or usb:VID:PID:SERIAL, VID and PID in hex",
		 port, DFUSE_VID, DFUSE_PID);
	return -1;
}

static bool matches(const struct usb_candidate *c, const struct usb_spec *spec)
{
	return c->vid == spec->vid && c->pid == spec->pid &&
	       (!spec->serial[0] || strcmp(c->serial, spec->serial) == 0);
}

int usb_pick(const struct usb_candidate *c, size_t n, const struct usb_spec *spec,
	     char *err, size_t errlen)
{
	size_t i, found = 0, listed = 0, len;
	int pick = -1;

	for (i = 0; i < n; i++) {
		if (!matches(&c[i], spec))
			continue;
		if (pick < 0)
			pick = (int)i;
		found++;
	}
	if (found <= 1)
		return pick;
	len = (size_t)snprintf(err, errlen, "%zu DFU devices match %04x:%04x; "
			       "choose one with --port usb:%04x:%04x:SERIAL:",
			       found, spec->vid, spec->pid, spec->vid, spec->pid);
	for (i = 0; i < n && len < errlen; i++) {
		if (!matches(&c[i], spec))
			continue;
		len += (size_t)snprintf(err + len, errlen - len,
					"%s serial %s (bus %u device %u)",
					listed++ ? "," : "",
					c[i].serial[0] ? c[i].serial : "(none)",
					c[i].bus, c[i].address);
	}
	return -2;
}

/* ---- libusb ---------------------------------------------------------- */

struct lu_handle {
	libusb_context *ctx;
	libusb_device_handle *h;
	uint8_t interface;
	bool claimed;
	int last;                 /* last libusb error, for io_error */
};

static int map_err(struct lu_handle *lh, int r)
{
	lh->last = r;
	switch (r) {
	case LIBUSB_ERROR_PIPE: return USB_ERR_STALL;
	case LIBUSB_ERROR_TIMEOUT: return USB_ERR_TIMEOUT;
	case LIBUSB_ERROR_NO_DEVICE: return USB_ERR_NO_DEVICE;
	default: return USB_ERR_IO;
	}
}

static int lu_request(void *ctx, bool in, uint8_t request, uint16_t value,
		      void *data, uint16_t len, unsigned timeout_ms)
{
	struct lu_handle *lh = ctx;
	int r = libusb_control_transfer(lh->h, in ? DFU_REQTYPE_IN : DFU_REQTYPE_OUT,
					request, value, lh->interface, data, len,
					timeout_ms);

	return r < 0 ? map_err(lh, r) : r;
}

static int lu_set_alt(void *ctx, uint8_t alt)
{
	struct lu_handle *lh = ctx;
	int r = libusb_set_interface_alt_setting(lh->h, lh->interface, alt);

	return r < 0 ? map_err(lh, r) : 0;
}

static void lu_sleep(void *ctx, unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	(void)ctx;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static const char *lu_io_error(void *ctx)
{
	struct lu_handle *lh = ctx;

	return libusb_strerror(lh->last);
}

static const struct dfu_link_ops lu_link = {
	.request = lu_request,
	.set_alt = lu_set_alt,
	.sleep_ms = lu_sleep,
	.io_error = lu_io_error,
};

static void lu_close(void *handle)
{
	struct lu_handle *lh = handle;

	if (!lh)
		return;
	if (lh->h) {
		if (lh->claimed)
			libusb_release_interface(lh->h, lh->interface);
		libusb_close(lh->h);
	}
	if (lh->ctx)
		libusb_exit(lh->ctx);
	free(lh);
}

/* A string descriptor as ASCII ("" for index 0): 0, or a libusb error. */
static int read_string(libusb_device_handle *h, uint8_t index, char *buf, size_t len)
{
	int r;

	buf[0] = '\0';
	if (!index)
		return 0;
	r = libusb_get_string_descriptor_ascii(h, index, (unsigned char *)buf, (int)len);
	if (r < 0)
		return r;
	buf[(size_t)r < len ? (size_t)r : len - 1] = '\0';
	return 0;
}

/* The devices with the spec's IDs; serials read only when they matter. */
struct scan {
	libusb_device **list;
	libusb_device **dev;      /* parallel to cand */
	struct usb_candidate *cand;
	size_t n;
	int open_err;             /* a device that could not be opened */
};

static int scan_bus(libusb_context *ctx, const struct usb_spec *spec, struct scan *sc)
{
	ssize_t n, i;

	memset(sc, 0, sizeof(*sc));
	n = libusb_get_device_list(ctx, &sc->list);
	if (n < 0)
		return (int)n;
	sc->cand = calloc((size_t)n + 1, sizeof(*sc->cand));
	sc->dev = calloc((size_t)n + 1, sizeof(*sc->dev));
	if (!sc->cand || !sc->dev)
		return LIBUSB_ERROR_NO_MEM;
	for (i = 0; i < n; i++) {
		struct libusb_device_descriptor dd;
		struct usb_candidate *c = &sc->cand[sc->n];

		if (libusb_get_device_descriptor(sc->list[i], &dd) != 0 ||
		    dd.idVendor != spec->vid || dd.idProduct != spec->pid)
			continue;
		c->vid = dd.idVendor;
		c->pid = dd.idProduct;
		c->bus = libusb_get_bus_number(sc->list[i]);
		c->address = libusb_get_device_address(sc->list[i]);
		sc->dev[sc->n++] = sc->list[i];
	}
	/* Serials: to match one, or to list several. */
	if (spec->serial[0] || sc->n > 1) {
		size_t k;

		for (k = 0; k < sc->n; k++) {
			struct libusb_device_descriptor dd;
			libusb_device_handle *h;
			int r;

			libusb_get_device_descriptor(sc->dev[k], &dd);
			r = libusb_open(sc->dev[k], &h);
			if (r != 0) {
				sc->open_err = r;
				continue;
			}
			read_string(h, dd.iSerialNumber, sc->cand[k].serial,
				    sizeof(sc->cand[k].serial));
			libusb_close(h);
		}
	}
	return 0;
}

static void scan_free(struct scan *sc)
{
	if (sc->list)
		libusb_free_device_list(sc->list, 1);
	free(sc->cand);
	free(sc->dev);
}

static const char *access_advice =
	"allow your user to open it (a udev rule giving the plugdev group access "
	"to 0483:df11, as Debian's dfu-util documents), or run as root";

/*
 * The DFU interface, its alternate settings, their strings, wTransferSize:
 * 1 when found, 0 when the device has no DFU interface, or the libusb
 * error of a string it did not give (its layouts decide the chip, so a
 * missing one is no answer, not another chip).
 */
static int describe(libusb_device *dev, libusb_device_handle *h,
		    struct usb_device_info *info)
{
	struct libusb_config_descriptor *cfg = NULL;
	int i, a, r = 0;

	if (libusb_get_active_config_descriptor(dev, &cfg) != 0 &&
	    libusb_get_config_descriptor(dev, 0, &cfg) != 0)
		return 0;
	for (i = 0; i < cfg->bNumInterfaces; i++) {
		const struct libusb_interface *itf = &cfg->interface[i];

		for (a = 0; a < itf->num_altsetting; a++) {
			const struct libusb_interface_descriptor *d = &itf->altsetting[a];

			if (d->bInterfaceClass != DFU_INTERFACE_CLASS ||
			    d->bInterfaceSubClass != DFU_INTERFACE_SUBCLASS ||
			    d->bInterfaceProtocol != DFU_PROTOCOL_DFU_MODE)
				continue;
			if (info->nalts && d->bInterfaceNumber != info->interface)
				continue;
			info->interface = d->bInterfaceNumber;
			if (!info->have_functional)
				info->have_functional = dfu_functional_find(d->extra,
					(size_t)d->extra_length, &info->func);
			if (info->nalts < DFUSE_MAX_ALTS && r == 0) {
				info->alt[info->nalts] = d->bAlternateSetting;
				r = read_string(h, d->iInterface, info->alt_desc[info->nalts],
						sizeof(info->alt_desc[0]));
				info->nalts++;
			}
		}
	}
	if (!info->have_functional)
		info->have_functional = dfu_functional_find(cfg->extra,
					(size_t)cfg->extra_length, &info->func);
	libusb_free_config_descriptor(cfg);
	return r < 0 ? r : info->nalts > 0;
}

static enum usb_find lu_open(const struct usb_provider *p, const struct usb_spec *spec,
			     void **handle, const struct dfu_link_ops **ops,
			     struct usb_device_info *info, char *err, size_t errlen)
{
	struct lu_handle *lh;
	struct scan sc;
	struct libusb_device_descriptor dd;
	enum usb_find ret = USB_FAILED;
	int r, k;

	(void)p;
	*handle = NULL;
	memset(info, 0, sizeof(*info));
	lh = calloc(1, sizeof(*lh));
	if (!lh) {
		snprintf(err, errlen, "out of memory");
		return USB_FAILED;
	}
	r = libusb_init(&lh->ctx);
	if (r != 0) {
		lh->ctx = NULL;
		snprintf(err, errlen, "cannot use USB: libusb_init failed: %s",
			 libusb_strerror(r));
		lu_close(lh);
		return USB_FAILED;
	}
	r = scan_bus(lh->ctx, spec, &sc);
	if (r != 0) {
		snprintf(err, errlen, "cannot list the USB devices: %s",
			 libusb_strerror(r));
		goto out;
	}
	k = usb_pick(sc.cand, sc.n, spec, err, errlen);
	if (k == -2) {
		ret = USB_SEVERAL;
		goto out;
	}
	if (k < 0) {
		if (sc.open_err == LIBUSB_ERROR_ACCESS)
			snprintf(err, errlen, "permission denied reading the serial "
				 "numbers of the USB devices %04x:%04x: %s",
				 spec->vid, spec->pid, access_advice);
		ret = sc.open_err == LIBUSB_ERROR_ACCESS ? USB_DENIED : USB_NONE;
		goto out;
	}
	info->vid = sc.cand[k].vid;
	info->pid = sc.cand[k].pid;
	info->bus = sc.cand[k].bus;
	info->address = sc.cand[k].address;
	r = libusb_open(sc.dev[k], &lh->h);
	if (r != 0) {
		lh->h = NULL;
		if (r == LIBUSB_ERROR_ACCESS) {
			snprintf(err, errlen, "permission denied opening USB device "
				 "%04x:%04x (bus %u device %u): %s", info->vid,
				 info->pid, info->bus, info->address, access_advice);
			ret = USB_DENIED;
		} else if (r == LIBUSB_ERROR_NO_DEVICE) {
			ret = USB_NONE;     /* gone again: keep waiting */
			goto out;
		} else
			snprintf(err, errlen, "cannot open USB device %04x:%04x (bus "
				 "%u device %u): %s", info->vid, info->pid, info->bus,
				 info->address, libusb_strerror(r));
		goto out;
	}
	libusb_get_device_descriptor(sc.dev[k], &dd);
	info->bcd_device = dd.bcdDevice;
	r = read_string(lh->h, dd.iSerialNumber, info->serial, sizeof(info->serial));
	if (r == 0)
		r = describe(sc.dev[k], lh->h, info);
	if (r < 0) {
		snprintf(err, errlen, "USB device %04x:%04x (bus %u device %u) does not "
			 "give its string descriptors: %s", info->vid, info->pid,
			 info->bus, info->address, libusb_strerror(r));
		ret = USB_NOT_READY;
		goto out;
	}
	if (r == 0) {
		snprintf(err, errlen, "USB device %04x:%04x (bus %u device %u) has no "
			 "DFU interface in DFU mode (class 0xFE, subclass 1, protocol 2)",
			 info->vid, info->pid, info->bus, info->address);
		goto out;
	}
	lh->interface = info->interface;
	r = libusb_claim_interface(lh->h, lh->interface);
	if (r != 0) {
		snprintf(err, errlen, "cannot claim the DFU interface of USB device "
			 "%04x:%04x (bus %u device %u): %s%s", info->vid, info->pid,
			 info->bus, info->address, libusb_strerror(r),
			 r == LIBUSB_ERROR_BUSY ? " (another program, dfu-util or a "
			 "second sysboot, has it)" : "");
		goto out;
	}
	lh->claimed = true;
	*handle = lh;
	*ops = &lu_link;
	lh = NULL;
	ret = USB_FOUND;
out:
	scan_free(&sc);
	lu_close(lh);
	return ret;
}

static int lu_count(const struct usb_provider *p, const struct usb_spec *spec)
{
	libusb_context *ctx;
	struct scan sc;
	int r, n = 0;
	size_t k;

	(void)p;
	if (libusb_init(&ctx) != 0)
		return -1;
	r = scan_bus(ctx, spec, &sc);
	if (r == 0) {
		for (k = 0; k < sc.n; k++)
			if (!spec->serial[0] || strcmp(sc.cand[k].serial, spec->serial) == 0)
				n++;
	} else {
		n = -1;
	}
	scan_free(&sc);
	libusb_exit(ctx);
	return n;
}

const struct usb_provider usb_libusb = {
	.open = lu_open,
	.count = lu_count,
	.close = lu_close,
};
