/*
 * usb.h - finding and opening the ROM bootloader's DFU device.
 *
 * The only part of sysboot that calls libusb: it turns a port spelling
 * ("usb", "usb:VID:PID", "usb:VID:PID:SERIAL") into one opened DFU
 * interface, with the strings and descriptors DfuSe needs, and hands the
 * DfuSe client (dfuse.h) a link that moves its control requests. A
 * usb_provider is the seam: the DfuSe backend takes any, so the tests can
 * give it a scripted device and exercise discovery, waiting and the whole
 * update without a USB stack.
 */
#ifndef SYSBOOT_USB_H
#define SYSBOOT_USB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfuse.h"

#define USB_SERIAL_MAX 128u

/* Which device a port spelling names. */
struct usb_spec {
	uint16_t vid, pid;
	char serial[USB_SERIAL_MAX];   /* "" for any */
};

/*
 * "usb" is the first 0483:df11 (the STM32 ROM, AN2606); "usb:VID:PID" and
 * "usb:VID:PID:SERIAL" take hex IDs. 0, or -1 with the reason in err.
 */
int usb_parse_port(const char *port, struct usb_spec *spec, char *err,
		   size_t errlen);

/* A device on the bus, as far as choosing one goes. */
struct usb_candidate {
	uint16_t vid, pid;
	uint8_t bus, address;
	char serial[USB_SERIAL_MAX];
};

/*
 * The index of the candidate spec names, or -1 when none matches, or -2
 * when several do and spec has no serial to tell them apart (err lists
 * them, with the --port spelling that picks each).
 */
int usb_pick(const struct usb_candidate *c, size_t n, const struct usb_spec *spec,
	     char *err, size_t errlen);

/* What an opened device says of itself and of its DFU interface. */
struct usb_device_info {
	uint16_t vid, pid, bcd_device;
	uint8_t bus, address;
	char serial[USB_SERIAL_MAX];
	uint8_t interface;             /* bInterfaceNumber of the DFU interface */
	unsigned nalts;
	uint8_t alt[DFUSE_MAX_ALTS];   /* bAlternateSetting */
	char alt_desc[DFUSE_MAX_ALTS][128];
	bool have_functional;
	struct dfu_functional func;
};

enum usb_find {
	USB_FOUND = 0,
	USB_NONE,       /* no matching device (yet) */
	USB_NOT_READY,  /* one is there but does not answer yet (err says how) */
	USB_SEVERAL,    /* err lists the candidates */
	USB_DENIED,     /* one is there but may not be opened: permission (err says how) */
	USB_FAILED,     /* err says why (busy, libusb) */
};

struct usb_provider {
	/*
	 * Look once. On USB_FOUND the device's DFU interface is claimed,
	 * *handle is the link's context and info is filled.
	 */
	enum usb_find (*open)(const struct usb_provider *p, const struct usb_spec *spec,
			      void **handle, const struct dfu_link_ops **ops,
			      struct usb_device_info *info, char *err, size_t errlen);
	/* How many devices match now (0 when none, -1 when libusb fails). */
	int (*count)(const struct usb_provider *p, const struct usb_spec *spec);
	void (*close)(void *handle);
	void *ctx;
};

/* The real one. */
extern const struct usb_provider usb_libusb;

#endif /* SYSBOOT_USB_H */
