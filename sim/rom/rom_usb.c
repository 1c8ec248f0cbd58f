/*
 * rom_usb.c - the STM32L476 ROM bootloader's USB device in DFU mode:
 * descriptors and standard requests (USB 2.0 chapter 9), class requests
 * routed to the DFU engine.
 *
 * One configuration with one interface (number 0) whose alternate
 * settings are the DfuSe memory areas, each named by its memory layout
 * string (UM0424 / AN3156 "@Internal Flash  /0x08000000/..."); the DFU
 * functional descriptor follows the last alternate setting, where dfu-util
 * and libusb find it. No endpoint besides endpoint 0.
 *
 * Choices where the documents are silent:
 *  - String descriptors are served for any language ID (the ROM lists only
 *    0x0409).
 *  - GET_DESCRIPTOR for the DFU functional descriptor (type 0x21) is
 *    answered, as dfu-util asks for it when it cannot find it in the
 *    configuration.
 *  - SET_ADDRESS is accepted in the default and address states; requests
 *    to the interface need the configured state.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rom/rom_usb.h"

#define STRING_MANUFACTURER 1u
#define STRING_PRODUCT      2u
#define STRING_SERIAL       3u
#define STRING_FIRST_ALT    4u

/* Full-speed bus: bits of one transaction besides its data bytes (USB 2.0 8.4). */
#define FS_TOKEN_BITS       35u   /* sync 8, PID 8, address 7, endpoint 4, CRC5 5, EOP 3 */
#define FS_DATA_BITS        35u   /* sync 8, PID 8, CRC16 16, EOP 3, plus 8 per byte */
#define FS_HANDSHAKE_BITS   19u   /* sync 8, PID 8, EOP 3 */
#define FS_GAP_BITS         8u    /* inter-packet delay, twice per transaction */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static enum rom_dfu_result stall(struct rom_usb *usb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum rom_dfu_result stall(struct rom_usb *usb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(usb->last_stall, sizeof(usb->last_stall), fmt, ap);
	va_end(ap);
	usb->stalls++;
	return ROM_DFU_STALL;
}

static void build_descriptors(struct rom_usb *usb)
{
	const struct rom_usb_config *c = &usb->cfg;
	uint8_t *d = usb->device_desc, *p;
	unsigned a;

	d[0] = 18;
	d[1] = USB_DT_DEVICE;
	put16(&d[2], c->bcd_usb);
	d[4] = d[5] = d[6] = 0;           /* class defined by the interface */
	d[7] = ROM_USB_EP0_SIZE;
	put16(&d[8], c->vid);
	put16(&d[10], c->pid);
	put16(&d[12], c->bcd_device);
	d[14] = STRING_MANUFACTURER;
	d[15] = STRING_PRODUCT;
	d[16] = STRING_SERIAL;
	d[17] = 1;                        /* one configuration */

	p = usb->config_desc;
	p[0] = 9;
	p[1] = USB_DT_CONFIG;
	p[4] = 1;                         /* one interface */
	p[5] = ROM_USB_CONFIG_VALUE;
	p[6] = 0;
	p[7] = (uint8_t)(0x80u | (c->self_powered ? 0x40u : 0u));
	p[8] = (uint8_t)(c->max_power_ma / 2u);
	p += 9;
	for (a = 0; a < c->nalts; a++) {
		p[0] = 9;
		p[1] = USB_DT_INTERFACE;
		p[2] = 0;                 /* interface 0 */
		p[3] = (uint8_t)a;        /* alternate setting */
		p[4] = 0;                 /* no endpoint besides 0 */
		p[5] = DFU_INTERFACE_CLASS;
		p[6] = DFU_INTERFACE_SUBCLASS;
		p[7] = DFU_PROTOCOL_DFU_MODE;
		p[8] = (uint8_t)(STRING_FIRST_ALT + a);
		p += 9;
	}
	dfu_functional_encode(&c->functional, p);
	p += DFU_FUNCTIONAL_LENGTH;
	usb->config_len = (size_t)(p - usb->config_desc);
	put16(&usb->config_desc[2], (uint16_t)usb->config_len);
}

void rom_usb_init(struct rom_usb *usb, const struct rom_usb_config *cfg, struct rom_dfu *dfu)
{
	memset(usb, 0, sizeof(*usb));
	usb->cfg = *cfg;
	if (usb->cfg.nalts > ROM_USB_MAX_ALTS)
		usb->cfg.nalts = ROM_USB_MAX_ALTS;
	usb->dfu = dfu;
	build_descriptors(usb);
	rom_usb_bus_reset(usb);
}

void rom_usb_bus_reset(struct rom_usb *usb)
{
	usb->state = USB_STATE_DEFAULT;
	usb->address = 0;
	usb->alt = 0;
	if (usb->dfu)
		rom_dfu_reset(usb->dfu);
}

void rom_usb_enumerate(struct rom_usb *usb, uint8_t address)
{
	rom_usb_bus_reset(usb);
	usb->address = address;
	usb->state = USB_STATE_CONFIGURED;
}

size_t rom_usb_descriptors(const struct rom_usb *usb, uint8_t *buf, size_t cap)
{
	size_t n = sizeof(usb->device_desc) + usb->config_len;

	if (cap < n)
		return 0;
	memcpy(buf, usb->device_desc, sizeof(usb->device_desc));
	memcpy(buf + sizeof(usb->device_desc), usb->config_desc, usb->config_len);
	return n;
}

uint32_t rom_usb_control_bits(uint16_t len)
{
	uint32_t per = FS_TOKEN_BITS + FS_DATA_BITS + FS_HANDSHAKE_BITS + 2u * FS_GAP_BITS;
	uint32_t packets = (len + ROM_USB_EP0_SIZE - 1u) / ROM_USB_EP0_SIZE;

	/* setup (8 bytes), data packets, zero-length status */
	return (per + 8u * 8u) + packets * per + 8u * len + per;
}

const char *rom_usb_last_stall(const struct rom_usb *usb)
{
	return usb->last_stall;
}

/* ---- Standard requests -------------------------------------------------------- */

static const char *string_of(const struct rom_usb *usb, unsigned index)
{
	switch (index) {
	case STRING_MANUFACTURER:
		return usb->cfg.manufacturer;
	case STRING_PRODUCT:
		return usb->cfg.product;
	case STRING_SERIAL:
		return usb->cfg.serial;
	default:
		if (index >= STRING_FIRST_ALT && index - STRING_FIRST_ALT < usb->cfg.nalts)
			return usb->cfg.alt_names[index - STRING_FIRST_ALT];
		return NULL;
	}
}

/* Copy a descriptor, cut to what the host asked for. */
static void reply(const void *desc, size_t n, uint16_t length, uint8_t *data, uint16_t *len)
{
	if (n > length)
		n = length;
	memcpy(data, desc, n);
	*len = (uint16_t)n;
}

static enum rom_dfu_result get_descriptor(struct rom_usb *usb, const struct usb_setup *s,
					  uint8_t *data, uint16_t *len)
{
	unsigned type = s->value >> 8, index = s->value & 0xFFu;
	uint8_t buf[2 + 2 * ROM_USB_MAX_STRING];
	const char *str;
	size_t i, n;

	switch (type) {
	case USB_DT_DEVICE:
		reply(usb->device_desc, sizeof(usb->device_desc), s->length, data, len);
		return ROM_DFU_ACK;
	case USB_DT_CONFIG:
		if (index != 0)
			return stall(usb, "GET_DESCRIPTOR configuration %u: there is only configuration 0", index);
		reply(usb->config_desc, usb->config_len, s->length, data, len);
		return ROM_DFU_ACK;
	case USB_DT_STRING:
		if (index == 0) {
			buf[0] = 4;
			buf[1] = USB_DT_STRING;
			put16(&buf[2], ROM_USB_LANGID_EN_US);
			reply(buf, 4, s->length, data, len);
			return ROM_DFU_ACK;
		}
		str = string_of(usb, index);
		if (!str)
			return stall(usb, "GET_DESCRIPTOR string %u: no such string", index);
		n = strlen(str);
		if (n > ROM_USB_MAX_STRING)
			n = ROM_USB_MAX_STRING;
		buf[0] = (uint8_t)(2 + 2 * n);
		buf[1] = USB_DT_STRING;
		for (i = 0; i < n; i++)
			put16(&buf[2 + 2 * i], (uint8_t)str[i]);
		reply(buf, 2 + 2 * n, s->length, data, len);
		return ROM_DFU_ACK;
	case DFU_DESC_FUNCTIONAL:
		reply(usb->config_desc + usb->config_len - DFU_FUNCTIONAL_LENGTH, DFU_FUNCTIONAL_LENGTH,
		      s->length, data, len);
		return ROM_DFU_ACK;
	default:
		/* Device qualifier and others: a full-speed only device stalls (USB 2.0 9.6.2). */
		return stall(usb, "GET_DESCRIPTOR type %u: not provided", type);
	}
}

static enum rom_dfu_result device_request(struct rom_usb *usb, const struct usb_setup *s,
					  uint8_t *data, uint16_t *len)
{
	switch (s->request) {
	case USB_REQ_GET_STATUS:
		if (s->length < 2)
			return stall(usb, "GET_STATUS with wLength %u", s->length);
		data[0] = usb->cfg.self_powered ? 1u : 0u;
		data[1] = 0;
		*len = 2;
		return ROM_DFU_ACK;
	case USB_REQ_SET_ADDRESS:
		if (s->value > 127 || usb->state == USB_STATE_CONFIGURED)
			return stall(usb, "SET_ADDRESS %u in the %s state", s->value,
				     usb->state == USB_STATE_CONFIGURED ? "configured" : "current");
		usb->address = (uint8_t)s->value;
		usb->state = s->value ? USB_STATE_ADDRESS : USB_STATE_DEFAULT;
		return ROM_DFU_ACK;
	case USB_REQ_GET_DESCRIPTOR:
		if (!(s->request_type & USB_DIR_IN))
			break;
		return get_descriptor(usb, s, data, len);
	case USB_REQ_GET_CONFIGURATION:
		if (s->length < 1)
			return stall(usb, "GET_CONFIGURATION with wLength 0");
		data[0] = usb->state == USB_STATE_CONFIGURED ? ROM_USB_CONFIG_VALUE : 0u;
		*len = 1;
		return ROM_DFU_ACK;
	case USB_REQ_SET_CONFIGURATION:
		if (usb->state == USB_STATE_DEFAULT)
			return stall(usb, "SET_CONFIGURATION before SET_ADDRESS");
		if (s->value == 0) {
			usb->state = USB_STATE_ADDRESS;
			return ROM_DFU_ACK;
		}
		if (s->value != ROM_USB_CONFIG_VALUE)
			return stall(usb, "SET_CONFIGURATION %u: only configuration 1 exists", s->value);
		usb->state = USB_STATE_CONFIGURED;
		usb->alt = 0;
		rom_dfu_set_alt(usb->dfu, 0);
		return ROM_DFU_ACK;
	default:
		break;
	}
	/* CLEAR/SET_FEATURE (no remote wakeup, no test mode), SET_DESCRIPTOR... */
	return stall(usb, "standard device request %u not supported", s->request);
}

/* GET_STATUS of the interface or of endpoint 0: no halt, no wakeup. */
static enum rom_dfu_result status_zero(struct rom_usb *usb, const struct usb_setup *s,
				       uint8_t *data, uint16_t *len)
{
	if (s->length < 2)
		return stall(usb, "GET_STATUS with wLength %u", s->length);
	data[0] = data[1] = 0;
	*len = 2;
	return ROM_DFU_ACK;
}

static enum rom_dfu_result interface_request(struct rom_usb *usb, const struct usb_setup *s,
					     uint8_t *data, uint16_t *len)
{
	if (usb->state != USB_STATE_CONFIGURED)
		return stall(usb, "interface request %u while not configured", s->request);
	if ((s->index & 0xFFu) != 0)
		return stall(usb, "interface %u does not exist", s->index & 0xFFu);
	switch (s->request) {
	case USB_REQ_GET_STATUS:
		return status_zero(usb, s, data, len);
	case USB_REQ_GET_INTERFACE:
		if (s->length < 1)
			return stall(usb, "GET_INTERFACE with wLength 0");
		data[0] = usb->alt;
		*len = 1;
		return ROM_DFU_ACK;
	case USB_REQ_SET_INTERFACE:
		if (s->value >= usb->cfg.nalts)
			return stall(usb, "SET_INTERFACE alternate setting %u: only 0..%u exist",
				     s->value, usb->cfg.nalts - 1);
		usb->alt = (uint8_t)s->value;
		rom_dfu_set_alt(usb->dfu, usb->alt);
		return ROM_DFU_ACK;
	default:
		return stall(usb, "standard interface request %u not supported", s->request);
	}
}

static enum rom_dfu_result endpoint_request(struct rom_usb *usb, const struct usb_setup *s,
					    uint8_t *data, uint16_t *len)
{
	if ((s->index & 0x7Fu) != 0)
		return stall(usb, "endpoint 0x%02x does not exist", s->index & 0xFFu);
	switch (s->request) {
	case USB_REQ_GET_STATUS:
		return status_zero(usb, s, data, len);
	case USB_REQ_CLEAR_FEATURE:
		/* ENDPOINT_HALT on endpoint 0: a stall clears by itself at the next setup. */
		if (s->value == 0)
			return ROM_DFU_ACK;
		break;
	default:
		break;
	}
	return stall(usb, "standard endpoint request %u not supported", s->request);
}

enum rom_dfu_result rom_usb_control(struct rom_usb *usb, const struct usb_setup *s,
				    uint8_t *data, uint16_t *len)
{
	bool in = (s->request_type & USB_DIR_IN) != 0;

	*len = 0;
	usb->requests++;
	switch (s->request_type & USB_TYPE_MASK) {
	case USB_TYPE_STANDARD:
		switch (s->request_type & USB_RECIP_MASK) {
		case USB_RECIP_DEVICE:
			return device_request(usb, s, data, len);
		case USB_RECIP_INTERFACE:
			return interface_request(usb, s, data, len);
		case USB_RECIP_ENDPOINT:
			return endpoint_request(usb, s, data, len);
		default:
			return stall(usb, "request to recipient %u", s->request_type & USB_RECIP_MASK);
		}
	case USB_TYPE_CLASS:
		if ((s->request_type & USB_RECIP_MASK) != USB_RECIP_INTERFACE)
			return stall(usb, "class request %u not addressed to the interface", s->request);
		if (usb->state != USB_STATE_CONFIGURED)
			return stall(usb, "DFU request %u while not configured", s->request);
		if ((s->index & 0xFFu) != 0)
			return stall(usb, "DFU request %u to interface %u, which does not exist",
				     s->request, s->index & 0xFFu);
		if (rom_dfu_request(usb->dfu, s->request, s->value, s->length, in, data, len) ==
		    ROM_DFU_STALL)
			return stall(usb, "%s", rom_dfu_last_error(usb->dfu));
		return ROM_DFU_ACK;
	default:
		return stall(usb, "vendor request %u not supported", s->request);
	}
}
