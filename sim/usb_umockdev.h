/*
 * usb_umockdev.h - the umockdev host of usb_link: the ROM's USB device in
 * a umockdev testbed, its usbdevfs ioctls served to libusb programs run
 * with libumockdev-preload. Used by usb_link.c only.
 */
#ifndef SIM_USB_UMOCKDEV_H
#define SIM_USB_UMOCKDEV_H

#include <stddef.h>
#include <stdint.h>

#include "usb_link.h"

struct usb_umockdev;

struct usb_umockdev *usb_umockdev_open(struct usb_link *link, const struct sim_usb_config *cfg,
				       char *err, size_t errlen);
void usb_umockdev_close(struct usb_umockdev *um);
/* The device appears in sysfs and /dev/bus/usb with a new device number. */
int usb_umockdev_attach(struct usb_umockdev *um, const struct usb_device_info *info,
			unsigned generation, uint8_t *address, char *err, size_t errlen);
/* It disappears ("remove" uevent, sysfs and device node gone). */
void usb_umockdev_detach(struct usb_umockdev *um);
const char *usb_umockdev_env(const struct usb_umockdev *um);

#endif /* SIM_USB_UMOCKDEV_H */
