/*
 * rom_usb.h - the USB device the STM32L476 ROM bootloader presents on USB
 * OTG FS (PA11/PA12) in DFU mode: its descriptors, the standard requests
 * of USB 2.0 chapter 9, and the DFU class requests handed to rom_dfu.
 *
 * Like rom_dfu, it works on whole control transfers and knows nothing of
 * the emulator or of the host side (umockdev or a test), so the device can
 * be checked descriptor by descriptor. It also counts the bits a control
 * transfer puts on a full-speed bus, so that the emulator can let that
 * time pass.
 */
#ifndef SYSBOOT_ROM_USB_H
#define SYSBOOT_ROM_USB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rom/rom_dfu.h"

#define ROM_USB_MAX_ALTS      8u
#define ROM_USB_MAX_STRING    126u   /* characters in a string descriptor */
#define ROM_USB_EP0_SIZE      64u
#define ROM_USB_CONFIG_VALUE  1u
#define ROM_USB_LANGID_EN_US  0x0409u

/* USB 2.0 chapter 9 codes the device uses. */
#define USB_REQ_GET_STATUS        0u
#define USB_REQ_CLEAR_FEATURE     1u
#define USB_REQ_SET_FEATURE       3u
#define USB_REQ_SET_ADDRESS       5u
#define USB_REQ_GET_DESCRIPTOR    6u
#define USB_REQ_SET_DESCRIPTOR    7u
#define USB_REQ_GET_CONFIGURATION 8u
#define USB_REQ_SET_CONFIGURATION 9u
#define USB_REQ_GET_INTERFACE     10u
#define USB_REQ_SET_INTERFACE     11u
#define USB_REQ_SYNCH_FRAME       12u
#define USB_DT_DEVICE             1u
#define USB_DT_CONFIG             2u
#define USB_DT_STRING             3u
#define USB_DT_INTERFACE          4u
#define USB_DIR_IN                0x80u
#define USB_TYPE_MASK             0x60u
#define USB_TYPE_STANDARD         0x00u
#define USB_TYPE_CLASS            0x20u
#define USB_RECIP_MASK            0x1Fu
#define USB_RECIP_DEVICE          0u
#define USB_RECIP_INTERFACE       1u
#define USB_RECIP_ENDPOINT        2u

/* What the ROM reports; see rom.c for the STM32L476 values and their sources. */
struct rom_usb_config {
	uint16_t vid, pid;
	uint16_t bcd_usb, bcd_device;
	const char *manufacturer, *product, *serial;
	const char *alt_names[ROM_USB_MAX_ALTS];  /* DfuSe memory layout strings */
	unsigned nalts;
	bool self_powered;
	uint8_t max_power_ma;
	struct dfu_functional functional;         /* the DFU functional descriptor */
};

struct usb_setup {
	uint8_t request_type, request;
	uint16_t value, index, length;
};

enum usb_device_state {
	USB_STATE_DEFAULT,            /* after a bus reset: address 0 */
	USB_STATE_ADDRESS,
	USB_STATE_CONFIGURED,
};

struct rom_usb {
	struct rom_usb_config cfg;
	struct rom_dfu *dfu;
	enum usb_device_state state;
	uint8_t address;
	uint8_t alt;
	uint8_t device_desc[18];
	uint8_t config_desc[9 + ROM_USB_MAX_ALTS * 9 + DFU_FUNCTIONAL_LENGTH];
	size_t config_len;
	uint64_t requests, stalls;
	char last_stall[128];
};

void rom_usb_init(struct rom_usb *usb, const struct rom_usb_config *cfg, struct rom_dfu *dfu);
/* A bus reset: address 0, not configured, alternate setting 0, DFU reset. */
void rom_usb_bus_reset(struct rom_usb *usb);
/*
 * What the host's USB stack does once the device is attached: bus reset,
 * SET_ADDRESS, SET_CONFIGURATION(1) (its descriptor reads change nothing).
 */
void rom_usb_enumerate(struct rom_usb *usb, uint8_t address);

/*
 * One control transfer. For an OUT request data holds the wLength bytes the
 * host sent; for an IN request at most wLength bytes are written to data
 * and their number to *len. ROM_DFU_STALL: the device stalled (the reason
 * is in rom_usb_last_stall(), or in the DFU engine for class requests).
 */
enum rom_dfu_result rom_usb_control(struct rom_usb *usb, const struct usb_setup *setup,
				    uint8_t *data, uint16_t *len);

/*
 * The device and configuration descriptors back to back, as Linux shows
 * them in sysfs ("descriptors") and in the usbfs device file. Returns the
 * length, 0 if cap is too small.
 */
size_t rom_usb_descriptors(const struct rom_usb *usb, uint8_t *buf, size_t cap);

/*
 * Bits a control transfer with len bytes in its data stage occupies on a
 * full-speed bus: setup, data and status transactions, each with token,
 * data and handshake packets, their sync and end-of-packet fields and the
 * inter-packet gaps (USB 2.0 8.4, 8.5.3); bit stuffing not counted.
 */
uint32_t rom_usb_control_bits(uint16_t len);

const char *rom_usb_last_stall(const struct rom_usb *usb);

#endif /* SYSBOOT_ROM_USB_H */
