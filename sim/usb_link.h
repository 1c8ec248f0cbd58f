/*
 * usb_link.h - the host end of the emulated board's USB cable.
 *
 * The ROM bootloader's USB device (rom/rom_usb.c) attaches to a link when
 * its DFU interface comes up and detaches when the ROM leaves, resets or
 * loses power. The link is where a host's control transfers wait for the
 * board, and where their answers go. Kinds:
 *
 *  - memory: an in-process host (the tests' sim_usb_control());
 *  - umockdev: a umockdev testbed in which the device appears in sysfs and
 *    /dev/bus/usb, so that unmodified libusb programs (dfu-util) started
 *    with LD_PRELOAD=libumockdev-preload.so.0 talk to it (usb_umockdev.c).
 *
 * Threads: the board runs in its own thread; the umockdev host side runs
 * in umockdev's worker thread. Transfers cross between them only through
 * this queue, under its lock, and an eventfd that is readable while the
 * queue holds something, so the ROM model can poll() it beside its serial
 * links. A transfer's answer goes back through its done() callback, called
 * from the board's thread.
 */
#ifndef SIM_USB_LINK_H
#define SIM_USB_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim.h"
#include "rom/rom_usb.h"

enum usb_xfer_kind {
	USB_XFER_CONTROL,             /* a control transfer on endpoint 0 */
	USB_XFER_BUS_RESET,           /* the host resets the port (USBDEVFS_RESET) */
};

struct usb_xfer {
	enum usb_xfer_kind kind;
	struct usb_setup setup;
	uint8_t *data;                /* wLength bytes: OUT data, or room for the IN answer */
	uint16_t actual;              /* bytes transferred in the data stage */
	int status;                   /* 0, -EPIPE (stall), -ENODEV (detached), -ENOENT (cancelled) */
	unsigned generation;          /* device incarnation it was sent to */
	void (*done)(struct usb_xfer *x);   /* the answer is in; called once */
	void *owner;
	struct usb_xfer *next;        /* in the queue */
};

/* What the host sees of the device when it attaches. */
struct usb_device_info {
	const uint8_t *descriptors;   /* device + configuration descriptors */
	size_t descriptors_len;
	uint16_t vid, pid, bcd_device;
	const char *manufacturer, *product, *serial;
	unsigned nalts;               /* alternate settings of interface 0 */
};

struct usb_link;

struct usb_link *usb_link_open(const struct sim_usb_config *cfg, char *err, size_t errlen);
/* Detach, answer what is pending with -ENODEV, and free. NULL is fine. */
void usb_link_close(struct usb_link *l);

/*
 * The device attaches: the host enumerates it and gives it an address
 * (returned). -1 with a message in err if the host side failed.
 */
int usb_link_attach(struct usb_link *l, const struct usb_device_info *info, uint8_t *address,
		    char *err, size_t errlen);
/* The device detaches; pending transfers are answered with -ENODEV. */
void usb_link_detach(struct usb_link *l);
bool usb_link_attached(struct usb_link *l);

/* For poll(): readable while transfers wait; -1 for kinds without one. */
int usb_link_fd(const struct usb_link *l);
/* Take the next transfer for the board, NULL if none. */
struct usb_xfer *usb_link_next(struct usb_link *l);
/* The board answered x (status, actual set by the caller or here). */
void usb_link_complete(struct usb_link *l, struct usb_xfer *x, int status, uint16_t actual);

/*
 * Host side: queue a transfer for the current incarnation of the device.
 * -ENODEV when it is not attached or generation is stale.
 */
int usb_link_submit(struct usb_link *l, struct usb_xfer *x);
/* Take x back if the board has not taken it yet; true if it was. */
bool usb_link_cancel(struct usb_link *l, struct usb_xfer *x);
unsigned usb_link_generation(struct usb_link *l);

/*
 * Hotplug events (uevents) for libusb programs already running need this
 * process to run under libumockdev-preload (sysboot-sim re-executes
 * itself under it).
 */
/* The environment a libusb program needs to see the device ("" if none). */
const char *usb_link_env(const struct usb_link *l);
/* Memory kind: a transfer was answered since the last call (and clear it). */
bool usb_link_take_answered(struct usb_link *l);

#endif /* SIM_USB_LINK_H */
