/*
 * usb_umockdev.c - serve the emulated board's USB device to unmodified
 * libusb programs (dfu-util) through a umockdev testbed, without kernel USB.
 *
 * While the ROM's DFU interface is up, the testbed holds the device as
 * Linux would show it: /sys/bus/usb/devices/1-1 with busnum, devnum,
 * speed, bConfigurationValue and the binary "descriptors" libusb reads,
 * and the device node /dev/bus/usb/001/DDD. A program started with
 * UMOCKDEV_DIR and LD_PRELOAD=libumockdev-preload.so.0 finds it through
 * libudev, and its usbdevfs ioctls on the node arrive here through
 * umockdev's ioctl socket: the "handle-ioctl" signal of a UMockdevIoctlBase
 * attached to the node (umockdev_testbed_attach_ioctl).
 *
 * Threads: umockdev calls the handlers from its worker thread, with its
 * own GMainContext. Everything touching umockdev clients and their memory
 * stays in that thread. A control transfer is copied into a struct
 * usb_xfer and queued on the usb_link for the board's thread; its answer
 * comes back through xfer.done in the board's thread, which only schedules
 * urb_answered() in the worker context. The testbed itself (devices,
 * uevents, attach and detach) is used from the board's thread only.
 *
 * URBs follow the kernel's usbfs: SUBMITURB queues and returns at once,
 * REAPURB/REAPURBNDELAY return the answered URB (the client's urb struct
 * and buffer updated through umockdev_ioctl_data_set_ptr and the flush on
 * completion), DISCARDURB cancels. A REAPURBNDELAY with URBs still in
 * flight is held for up to REAP_HOLD_MS before it answers EAGAIN: libusb
 * polls a device node that is a regular file here (always "ready"), and
 * without the hold it would spin on the ioctl socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/usbdevice_fs.h>
#include <umockdev.h>

#include "usb_umockdev.h"

#define BUS_NUMBER      1u
#define SYSFS_PATH      "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1"
#define USB_MAJOR       189u
#define REAP_HOLD_MS    2u
#define SPEED_FULL      2             /* enum usb_device_speed USB_SPEED_FULL */
#define CLIENT_KEY      "sysboot-usb-client"
#define PRELOAD_LIB     "libumockdev-preload.so.0"

/* What usbfs reports (libusb uses these to pick its transfer strategies). */
#define CAPABILITIES (USBDEVFS_CAP_ZERO_PACKET | USBDEVFS_CAP_BULK_CONTINUATION | \
		      USBDEVFS_CAP_NO_PACKET_SIZE_LIM | USBDEVFS_CAP_REAP_AFTER_DISCONNECT | \
		      USBDEVFS_CAP_DROP_PRIVILEGES)

struct usb_umockdev {
	struct usb_link *link;
	UMockdevTestbed *tb;
	UMockdevIoctlBase *handler;
	bool mock;                    /* this process runs under libumockdev-preload */
	char *root;
	char env[PATH_MAX + 64];
	char *env_path;

	/* The current incarnation; written by the board thread, read by the worker. */
	GMutex lock;
	bool attached;
	unsigned generation;
	uint8_t devnum;
	unsigned nalts;
	char devnode[64];

	/* Worker thread only. */
	GMainContext *ctx;
	GList *clients;

	GMutex done_lock;
	GCond done_cond;
	bool cleaned;
};

/* One open file of a device node. */
struct um_client {
	struct usb_umockdev *um;
	UMockdevIoctlClient *client;  /* reference held */
	unsigned generation;          /* incarnation of the node it opened; 0: stale */
	uint8_t devnum;
	bool claimed;
	bool closed;
	unsigned nurbs;               /* struct um_urb alive for this client */
	GList *urbs;                  /* asynchronous URBs submitted, not reaped */
	GQueue answered;              /* of those, the answered ones, in order */
	UMockdevIoctlData *reap_arg;  /* a held REAPURB(NDELAY) */
	GSource *reap_timer;
	gulong closed_handler;
};

enum urb_kind {
	URB_ASYNC,                    /* SUBMITURB */
	URB_SYNC_CONTROL,             /* USBDEVFS_CONTROL */
	URB_SYNC_REQUEST,             /* SETINTERFACE, SETCONFIGURATION: answer 0 */
	URB_SYNC_RESET,               /* USBDEVFS_RESET */
};

struct um_urb {
	struct um_client *c;
	enum urb_kind kind;
	struct usb_xfer xfer;
	uint8_t *bytes;               /* xfer.data: a copy, never the client's memory */
	UMockdevIoctlData *urb_data;  /* URB_ASYNC: the client's struct usbdevfs_urb */
	UMockdevIoctlData *buffer;    /* its buffer (setup + data), or the CONTROL data */
	unsigned long client_addr;    /* URB_ASYNC: the urb's address in the client */
	UMockdevIoctlClient *waiting; /* URB_SYNC_*: the ioctl to complete */
	bool answered;
	bool discarded;
};

static void urb_free(struct um_urb *u);
static void urb_release(struct um_urb *u);

/* ---- Helpers ---------------------------------------------------------------- */

static UMockdevIoctlData *resolve(UMockdevIoctlData *d, gsize offset, gsize len)
{
	GError *error = NULL;
	UMockdevIoctlData *r = umockdev_ioctl_data_resolve(d, offset, len, &error);

	if (error)
		g_error_free(error);
	return r;
}

static void complete(UMockdevIoctlClient *client, long ret, int err)
{
	if (umockdev_ioctl_client_get_connected(client))
		umockdev_ioctl_client_complete(client, ret, err);
}

/* Is the node this client opened still the attached device? */
static bool current(struct um_client *c)
{
	struct usb_umockdev *um = c->um;
	bool cur;

	g_mutex_lock(&um->lock);
	cur = um->attached && c->generation && c->generation == um->generation;
	g_mutex_unlock(&um->lock);
	return cur;
}

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* ---- Clients ------------------------------------------------------------------ */

static void client_maybe_free(struct um_client *c)
{
	if (!c->closed || c->nurbs)
		return;
	c->um->clients = g_list_remove(c->um->clients, c);
	if (c->closed_handler)
		g_signal_handler_disconnect(c->client, c->closed_handler);
	g_object_set_data(G_OBJECT(c->client), CLIENT_KEY, NULL);
	g_object_unref(c->client);
	g_free(c);
}

static void stop_reap_timer(struct um_client *c)
{
	if (c->reap_timer) {
		g_source_destroy(c->reap_timer);
		g_source_unref(c->reap_timer);
		c->reap_timer = NULL;
	}
}

/* The client closed its file: forget its URBs (those on the board go when answered). */
static void client_close(struct um_client *c)
{
	GList *l, *next;

	if (c->closed)
		return;
	c->closed = true;
	stop_reap_timer(c);
	if (c->reap_arg) {
		g_object_unref(c->reap_arg);
		c->reap_arg = NULL;
	}
	for (l = c->urbs; l; l = next) {
		struct um_urb *u = l->data;

		next = l->next;
		if (u->answered || usb_link_cancel(c->um->link, &u->xfer))
			urb_free(u);
	}
	client_maybe_free(c);
}

static void on_client_notify(GObject *obj, GParamSpec *pspec, gpointer user)
{
	struct um_client *c = user;

	(void)pspec;
	if (!umockdev_ioctl_client_get_connected(UMOCKDEV_IOCTL_CLIENT(obj)))
		client_close(c);
}

static struct um_client *client_state(struct usb_umockdev *um, UMockdevIoctlClient *client)
{
	struct um_client *c = g_object_get_data(G_OBJECT(client), CLIENT_KEY);
	const char *node;

	if (c)
		return c;
	if (!um->ctx)
		um->ctx = g_main_context_ref_thread_default();
	c = g_new0(struct um_client, 1);
	c->um = um;
	c->client = g_object_ref(client);
	g_queue_init(&c->answered);
	node = umockdev_ioctl_client_get_devnode(client);
	g_mutex_lock(&um->lock);
	if (um->attached && node && strcmp(node, um->devnode) == 0) {
		c->generation = um->generation;
		c->devnum = um->devnum;
	}
	g_mutex_unlock(&um->lock);
	g_object_set_data(G_OBJECT(client), CLIENT_KEY, c);
	c->closed_handler = g_signal_connect(client, "notify::connected",
					     G_CALLBACK(on_client_notify), c);
	um->clients = g_list_prepend(um->clients, c);
	return c;
}

static void on_client_connected(UMockdevIoctlBase *handler, UMockdevIoctlClient *client,
				gpointer user)
{
	(void)handler;
	client_state(user, client);
}

/* ---- URBs ------------------------------------------------------------------------ */

static void urb_free(struct um_urb *u)
{
	struct um_client *c = u->c;

	c->urbs = g_list_remove(c->urbs, u);
	g_queue_remove(&c->answered, u);
	if (u->urb_data)
		g_object_unref(u->urb_data);
	if (u->buffer)
		g_object_unref(u->buffer);
	if (u->waiting)
		g_object_unref(u->waiting);
	g_free(u->bytes);
	g_free(u);
	c->nurbs--;
}

/* Free u, and its client too if that was closed and this was its last URB. */
static void urb_release(struct um_urb *u)
{
	struct um_client *c = u->c;

	urb_free(u);
	client_maybe_free(c);
}

static gboolean urb_answered(gpointer data);

/* Board thread: the answer is in; hand it to the worker thread. */
static void xfer_done(struct usb_xfer *x)
{
	struct um_urb *u = x->owner;

	g_main_context_invoke(u->c->um->ctx, urb_answered, u);
}

static struct um_urb *urb_new(struct um_client *c, enum urb_kind kind, uint16_t length)
{
	struct um_urb *u = g_new0(struct um_urb, 1);

	u->c = c;
	u->kind = kind;
	u->bytes = g_malloc0(length ? length : 1u);
	u->xfer.kind = kind == URB_SYNC_RESET ? USB_XFER_BUS_RESET : USB_XFER_CONTROL;
	u->xfer.data = u->bytes;
	u->xfer.done = xfer_done;
	u->xfer.owner = u;
	u->xfer.generation = c->generation;
	c->nurbs++;
	return u;
}

/* Kernel usbfs status of an answered URB. */
static int urb_status(const struct um_urb *u)
{
	if (u->discarded)
		return -ENOENT;
	if (u->xfer.status == -ENODEV)
		return -ESHUTDOWN;    /* the device went away (libusb: no device) */
	return u->xfer.status;
}

/* Give the answered URB u to the REAPURB whose argument is reap. */
static void deliver(struct um_client *c, struct um_urb *u, UMockdevIoctlData *reap)
{
	struct usbdevfs_urb *urb = (struct usbdevfs_urb *)u->urb_data->data;
	int status = urb_status(u);

	urb->status = status;
	urb->actual_length = status ? 0 : u->xfer.actual;
	if (!status && (u->xfer.setup.request_type & USB_DIR_IN) && u->xfer.actual)
		memcpy(u->buffer->data + 8, u->bytes, u->xfer.actual);
	umockdev_ioctl_data_set_ptr(reap, 0, u->urb_data);
	complete(c->client, 0, 0);
	urb_free(u);
}

static void reap_release(struct um_client *c, long ret, int err)
{
	stop_reap_timer(c);
	if (c->reap_arg) {
		g_object_unref(c->reap_arg);
		c->reap_arg = NULL;
	}
	complete(c->client, ret, err);
}

static gboolean reap_timeout(gpointer data)
{
	struct um_client *c = data;

	g_source_unref(c->reap_timer);
	c->reap_timer = NULL;
	if (c->reap_arg) {
		g_object_unref(c->reap_arg);
		c->reap_arg = NULL;
		complete(c->client, -1, EAGAIN);
	}
	return G_SOURCE_REMOVE;
}

static void sync_answer(struct um_urb *u)
{
	int status = u->xfer.status;

	if (u->discarded || !u->waiting)
		return;
	if (status == -ENODEV) {
		complete(u->waiting, -1, ENODEV);
		return;
	}
	if (status == -EPIPE) {
		complete(u->waiting, -1, EPIPE);
		return;
	}
	if (status) {
		complete(u->waiting, -1, -status);
		return;
	}
	if (u->kind == URB_SYNC_CONTROL) {
		if ((u->xfer.setup.request_type & USB_DIR_IN) && u->xfer.actual && u->buffer)
			memcpy(u->buffer->data, u->bytes, u->xfer.actual);
		complete(u->waiting, u->xfer.actual, 0);
		return;
	}
	complete(u->waiting, 0, 0);
}

/* Worker thread: an URB's answer arrived. */
static gboolean urb_answered(gpointer data)
{
	struct um_urb *u = data;
	struct um_client *c = u->c;

	u->answered = true;
	if (u->kind != URB_ASYNC) {
		if (!c->closed)
			sync_answer(u);
		urb_release(u);
		return G_SOURCE_REMOVE;
	}
	if (c->closed) {
		urb_release(u);
		return G_SOURCE_REMOVE;
	}
	g_queue_push_tail(&c->answered, u);
	if (c->reap_arg) {
		UMockdevIoctlData *reap = c->reap_arg;

		c->reap_arg = NULL;
		stop_reap_timer(c);
		deliver(c, g_queue_peek_head(&c->answered), reap);
		g_object_unref(reap);
	}
	return G_SOURCE_REMOVE;
}

static void submit_sync(struct um_client *c, struct um_urb *u, UMockdevIoctlClient *client)
{
	u->waiting = g_object_ref(client);
	if (usb_link_submit(c->um->link, &u->xfer) < 0) {
		complete(client, -1, ENODEV);
		urb_free(u);
		return;
	}
	c->urbs = g_list_append(c->urbs, u);
}

/* Asynchronous URBs submitted and not reaped yet. */
static bool has_async(const struct um_client *c)
{
	const GList *l;

	for (l = c->urbs; l; l = l->next)
		if (((const struct um_urb *)l->data)->kind == URB_ASYNC)
			return true;
	return false;
}

/* ---- The ioctls --------------------------------------------------------------------- */

static void ioctl_submiturb(struct um_client *c, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
	UMockdevIoctlData *d = resolve(arg, 0, sizeof(struct usbdevfs_urb)), *buf;
	struct usbdevfs_urb *urb;
	struct um_urb *u;
	struct usb_setup s;

	if (!d) {
		complete(client, -1, EFAULT);
		return;
	}
	urb = (struct usbdevfs_urb *)d->data;
	if ((urb->endpoint & 0x7Fu) != 0 || urb->type != USBDEVFS_URB_TYPE_CONTROL) {
		/* The ROM's DFU device has endpoint 0 only. */
		g_object_unref(d);
		complete(client, -1, ENOENT);
		return;
	}
	if (urb->buffer_length < 8) {
		g_object_unref(d);
		complete(client, -1, EINVAL);
		return;
	}
	buf = resolve(d, offsetof(struct usbdevfs_urb, buffer), (gsize)urb->buffer_length);
	if (!buf) {
		g_object_unref(d);
		complete(client, -1, EFAULT);
		return;
	}
	s.request_type = buf->data[0];
	s.request = buf->data[1];
	s.value = get_le16(&buf->data[2]);
	s.index = get_le16(&buf->data[4]);
	s.length = get_le16(&buf->data[6]);
	if ((int)s.length > urb->buffer_length - 8) {
		g_object_unref(buf);
		g_object_unref(d);
		complete(client, -1, EINVAL);
		return;
	}
	u = urb_new(c, URB_ASYNC, s.length);
	u->xfer.setup = s;
	if (!(s.request_type & USB_DIR_IN) && s.length)
		memcpy(u->bytes, buf->data + 8, s.length);
	u->urb_data = d;
	u->buffer = buf;
	u->client_addr = d->client_addr;
	if (usb_link_submit(c->um->link, &u->xfer) < 0) {
		urb_free(u);
		complete(client, -1, ENODEV);
		return;
	}
	c->urbs = g_list_append(c->urbs, u);
	complete(client, 0, 0);
}

static void ioctl_reapurb(struct um_client *c, UMockdevIoctlClient *client, UMockdevIoctlData *arg,
			  bool wait)
{
	UMockdevIoctlData *reap = resolve(arg, 0, sizeof(void *));

	if (!reap) {
		complete(client, -1, EFAULT);
		return;
	}
	if (!g_queue_is_empty(&c->answered)) {
		deliver(c, g_queue_peek_head(&c->answered), reap);
		g_object_unref(reap);
		return;
	}
	if (!has_async(c)) {
		g_object_unref(reap);
		complete(client, -1, current(c) ? EAGAIN : ENODEV);
		return;
	}
	/* Hold the reap until an URB is answered (REAPURB), or briefly (NDELAY). */
	c->reap_arg = reap;
	if (!wait) {
		c->reap_timer = g_timeout_source_new(REAP_HOLD_MS);
		g_source_set_callback(c->reap_timer, reap_timeout, c, NULL);
		g_source_attach(c->reap_timer, c->um->ctx);
	}
}

static void ioctl_discardurb(struct um_client *c, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
	unsigned long addr = *(unsigned long *)arg->data;
	GList *l;

	for (l = c->urbs; l; l = l->next) {
		struct um_urb *u = l->data;

		if (u->kind != URB_ASYNC || u->client_addr != addr || u->answered || u->discarded)
			continue;
		u->discarded = true;
		if (usb_link_cancel(c->um->link, &u->xfer)) {
			u->xfer.status = -ENOENT;
			u->answered = true;
			g_queue_push_tail(&c->answered, u);
		}
		complete(client, 0, 0);
		return;
	}
	complete(client, -1, EINVAL);
}

static void ioctl_control(struct um_client *c, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
	UMockdevIoctlData *d = resolve(arg, 0, sizeof(struct usbdevfs_ctrltransfer));
	struct usbdevfs_ctrltransfer *ct;
	struct um_urb *u;

	if (!d) {
		complete(client, -1, EFAULT);
		return;
	}
	ct = (struct usbdevfs_ctrltransfer *)d->data;
	u = urb_new(c, URB_SYNC_CONTROL, ct->wLength);
	u->xfer.setup.request_type = ct->bRequestType;
	u->xfer.setup.request = ct->bRequest;
	u->xfer.setup.value = ct->wValue;
	u->xfer.setup.index = ct->wIndex;
	u->xfer.setup.length = ct->wLength;
	if (ct->wLength) {
		u->buffer = resolve(d, offsetof(struct usbdevfs_ctrltransfer, data), ct->wLength);
		if (!u->buffer) {
			g_object_unref(d);
			urb_free(u);
			complete(client, -1, EFAULT);
			return;
		}
		if (!(ct->bRequestType & USB_DIR_IN))
			memcpy(u->bytes, u->buffer->data, ct->wLength);
	}
	g_object_unref(d);
	submit_sync(c, u, client);
}

static void ioctl_request(struct um_client *c, UMockdevIoctlClient *client, uint8_t type,
			  uint8_t request, uint16_t value, uint16_t index)
{
	struct um_urb *u = urb_new(c, URB_SYNC_REQUEST, 0);

	u->xfer.setup.request_type = type;
	u->xfer.setup.request = request;
	u->xfer.setup.value = value;
	u->xfer.setup.index = index;
	submit_sync(c, u, client);
}

/* An ioctl whose argument points to an unsigned int: read it. */
static bool arg_uint(UMockdevIoctlData *arg, unsigned *v)
{
	UMockdevIoctlData *d = resolve(arg, 0, sizeof(unsigned));

	if (!d)
		return false;
	memcpy(v, d->data, sizeof(*v));
	g_object_unref(d);
	return true;
}

static gboolean on_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer user)
{
	struct usb_umockdev *um = user;
	struct um_client *c = client_state(um, client);
	unsigned long request = umockdev_ioctl_client_get_request(client);
	UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client), *d;
	unsigned v;

	(void)handler;
	/* Answered URBs can be reaped after the device left (REAP_AFTER_DISCONNECT). */
	if (request == USBDEVFS_REAPURB || request == USBDEVFS_REAPURBNDELAY) {
		ioctl_reapurb(c, client, arg, request == USBDEVFS_REAPURB);
		return TRUE;
	}
	if (request == USBDEVFS_DISCARDURB) {
		ioctl_discardurb(c, client, arg);
		return TRUE;
	}
	if (!current(c)) {
		complete(client, -1, ENODEV);
		return TRUE;
	}
	switch (request) {
	case USBDEVFS_SUBMITURB:
		ioctl_submiturb(c, client, arg);
		return TRUE;
	case USBDEVFS_CONTROL:
		ioctl_control(c, client, arg);
		return TRUE;
	case USBDEVFS_GET_CAPABILITIES:
		d = resolve(arg, 0, sizeof(uint32_t));
		if (!d) {
			complete(client, -1, EFAULT);
			return TRUE;
		}
		*(uint32_t *)d->data = CAPABILITIES;
		g_object_unref(d);
		complete(client, 0, 0);
		return TRUE;
	case USBDEVFS_CLAIMINTERFACE:
	case USBDEVFS_RELEASEINTERFACE:
		if (!arg_uint(arg, &v)) {
			complete(client, -1, EFAULT);
			return TRUE;
		}
		if (v != 0) {
			complete(client, -1, request == USBDEVFS_CLAIMINTERFACE ? ENOENT : EINVAL);
			return TRUE;
		}
		if (request == USBDEVFS_RELEASEINTERFACE && !c->claimed) {
			complete(client, -1, EINVAL);
			return TRUE;
		}
		c->claimed = request == USBDEVFS_CLAIMINTERFACE;
		complete(client, 0, 0);
		return TRUE;
	case USBDEVFS_DISCONNECT_CLAIM:
		d = resolve(arg, 0, sizeof(struct usbdevfs_disconnect_claim));
		if (!d) {
			complete(client, -1, EFAULT);
			return TRUE;
		}
		v = ((struct usbdevfs_disconnect_claim *)d->data)->interface;
		g_object_unref(d);
		if (v != 0) {
			complete(client, -1, ENOENT);
			return TRUE;
		}
		c->claimed = true;
		complete(client, 0, 0);
		return TRUE;
	case USBDEVFS_SETINTERFACE: {
		struct usbdevfs_setinterface si;

		d = resolve(arg, 0, sizeof(si));
		if (!d) {
			complete(client, -1, EFAULT);
			return TRUE;
		}
		memcpy(&si, d->data, sizeof(si));
		g_object_unref(d);
		g_mutex_lock(&um->lock);
		v = um->nalts;
		g_mutex_unlock(&um->lock);
		/* The kernel checks the alternate setting against the descriptors. */
		if (si.interface != 0 || si.altsetting >= v) {
			complete(client, -1, EINVAL);
			return TRUE;
		}
		c->claimed = true;
		ioctl_request(c, client, USB_RECIP_INTERFACE, USB_REQ_SET_INTERFACE,
			      (uint16_t)si.altsetting, 0);
		return TRUE;
	}
	case USBDEVFS_SETCONFIGURATION:
		if (!arg_uint(arg, &v)) {
			complete(client, -1, EFAULT);
			return TRUE;
		}
		if (v != 0 && v != ROM_USB_CONFIG_VALUE && v != (unsigned)-1) {
			complete(client, -1, EINVAL);
			return TRUE;
		}
		ioctl_request(c, client, USB_RECIP_DEVICE, USB_REQ_SET_CONFIGURATION,
			      v == (unsigned)-1 ? 0 : (uint16_t)v, 0);
		return TRUE;
	case USBDEVFS_RESET:
		submit_sync(c, urb_new(c, URB_SYNC_RESET, 0), client);
		return TRUE;
	case USBDEVFS_CONNECTINFO:
		d = resolve(arg, 0, sizeof(struct usbdevfs_connectinfo));
		if (!d) {
			complete(client, -1, EFAULT);
			return TRUE;
		}
		((struct usbdevfs_connectinfo *)d->data)->devnum = c->devnum;
		((struct usbdevfs_connectinfo *)d->data)->slow = 0;
		g_object_unref(d);
		complete(client, 0, 0);
		return TRUE;
	case USBDEVFS_GET_SPEED:
		complete(client, SPEED_FULL, 0);
		return TRUE;
	case USBDEVFS_GETDRIVER:
		complete(client, -1, ENODATA);   /* no kernel driver bound */
		return TRUE;
	case USBDEVFS_IOCTL:
		d = resolve(arg, 0, sizeof(struct usbdevfs_ioctl));
		if (!d) {
			complete(client, -1, EFAULT);
			return TRUE;
		}
		v = (unsigned)((struct usbdevfs_ioctl *)d->data)->ioctl_code;
		g_object_unref(d);
		if (v == USBDEVFS_DISCONNECT)
			complete(client, -1, ENODATA);
		else if (v == USBDEVFS_CONNECT)
			complete(client, 0, 0);
		else
			complete(client, -1, ENOTTY);
		return TRUE;
	case USBDEVFS_CLEAR_HALT:
	case USBDEVFS_RESETEP:
		if (!arg_uint(arg, &v)) {
			complete(client, -1, EFAULT);
			return TRUE;
		}
		complete(client, (v & 0x7Fu) == 0 ? 0 : -1, (v & 0x7Fu) == 0 ? 0 : ENOENT);
		return TRUE;
	case USBDEVFS_DROP_PRIVILEGES:
		complete(client, 0, 0);
		return TRUE;
	default:
		complete(client, -1, ENOTTY);
		return TRUE;
	}
}

/* ---- The testbed (board thread) ----------------------------------------------------------- */

static char *hex(const uint8_t *p, size_t n)
{
	char *s = g_malloc(2 * n + 1);
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02X", p[i]);
	s[2 * n] = '\0';
	return s;
}

/* A sysfs text attribute in umockdev's record format ("A: name=value\n"). */
static void attr(GString *s, const char *name, const char *value)
{
	const char *p;

	g_string_append_printf(s, "A: %s=", name);
	for (p = value; *p; p++) {
		if (*p == '\\' || *p == '\n')
			g_string_append_c(s, '\\');
		g_string_append_c(s, *p == '\n' ? 'n' : *p);
	}
	g_string_append(s, "\\n\n");
}

int usb_umockdev_attach(struct usb_umockdev *um, const struct usb_device_info *info,
			unsigned generation, uint8_t *address, char *err, size_t errlen)
{
	GError *error = NULL;
	GString *s = g_string_new(NULL);
	char node[24], devnode[64], num[32];
	char *desc = hex(info->descriptors, info->descriptors_len);
	/* A new device number at every attach, as the kernel gives (2..127). */
	uint8_t devnum = (uint8_t)(um->devnum < 2 || um->devnum >= 127 ? 2 : um->devnum + 1);
	unsigned minor = (BUS_NUMBER - 1u) * 128u + devnum - 1u;
	int ret = -1;

	snprintf(node, sizeof(node), "bus/usb/%03u/%03u", BUS_NUMBER, devnum);
	snprintf(devnode, sizeof(devnode), "/dev/%s", node);
	/* P: the sysfs path without /sys; N: the node, holding the descriptors as usbfs does. */
	g_string_append_printf(s, "P: %s\nN: %s=%s\n", SYSFS_PATH + 4, node, desc);
	g_string_append_printf(s, "E: SUBSYSTEM=usb\nE: DEVTYPE=usb_device\nE: DEVNAME=%s\n", devnode);
	g_string_append_printf(s, "E: PRODUCT=%x/%x/%x\nE: TYPE=0/0/0\nE: BUSNUM=%03u\nE: DEVNUM=%03u\n",
			       info->vid, info->pid, info->bcd_device, BUS_NUMBER, devnum);
	g_string_append_printf(s, "E: MAJOR=%u\nE: MINOR=%u\n", USB_MAJOR, minor);
	snprintf(num, sizeof(num), "%u", BUS_NUMBER);
	attr(s, "busnum", num);
	snprintf(num, sizeof(num), "%u", devnum);
	attr(s, "devnum", num);
	attr(s, "speed", "12");
	attr(s, "version", " 1.00");
	attr(s, "bConfigurationValue", "1");
	attr(s, "bNumConfigurations", "1");
	attr(s, "bNumInterfaces", " 1");
	attr(s, "bDeviceClass", "00");
	attr(s, "bMaxPacketSize0", "64");
	snprintf(num, sizeof(num), "%04x", info->vid);
	attr(s, "idVendor", num);
	snprintf(num, sizeof(num), "%04x", info->pid);
	attr(s, "idProduct", num);
	snprintf(num, sizeof(num), "%04x", info->bcd_device);
	attr(s, "bcdDevice", num);
	attr(s, "manufacturer", info->manufacturer);
	attr(s, "product", info->product);
	attr(s, "serial", info->serial);
	attr(s, "devpath", "1");
	attr(s, "maxchild", "0");
	snprintf(num, sizeof(num), "%u:%u", USB_MAJOR, minor);
	attr(s, "dev", num);
	g_string_append_printf(s, "H: descriptors=%s\n", desc);

	/* The ioctl socket first, so that the node never exists without it. */
	if (!umockdev_testbed_attach_ioctl(um->tb, devnode, um->handler, &error)) {
		snprintf(err, errlen, "umockdev: cannot serve ioctls on %s: %s", devnode, error->message);
		goto out;
	}
	g_mutex_lock(&um->lock);
	um->devnum = devnum;
	um->nalts = info->nalts;
	um->generation = generation;
	snprintf(um->devnode, sizeof(um->devnode), "%s", devnode);
	um->attached = true;
	g_mutex_unlock(&um->lock);
	if (!umockdev_testbed_add_from_string(um->tb, s->str, &error)) {
		snprintf(err, errlen, "umockdev: cannot add the USB device: %s", error->message);
		g_mutex_lock(&um->lock);
		um->attached = false;
		g_mutex_unlock(&um->lock);
		umockdev_testbed_detach_ioctl(um->tb, devnode, NULL);
		goto out;
	}
	/* Under the preload, adding sent the "add" uevent; without it none can be sent. */
	*address = devnum;
	ret = 0;
out:
	if (error)
		g_error_free(error);
	g_free(desc);
	g_string_free(s, TRUE);
	return ret;
}

void usb_umockdev_detach(struct usb_umockdev *um)
{
	char devnode[64];

	g_mutex_lock(&um->lock);
	if (!um->attached) {
		g_mutex_unlock(&um->lock);
		return;
	}
	um->attached = false;
	snprintf(devnode, sizeof(devnode), "%s", um->devnode);
	g_mutex_unlock(&um->lock);
	/* umockdev 0.17 sends no uevent when removing: send it while the files exist. */
	if (um->mock)
		umockdev_testbed_uevent(um->tb, SYSFS_PATH, "remove");
	umockdev_testbed_remove_device(um->tb, SYSFS_PATH);
	umockdev_testbed_detach_ioctl(um->tb, devnode, NULL);
}

const char *usb_umockdev_env(const struct usb_umockdev *um)
{
	return um->env;
}

/* Write KEY=VALUE lines for `env $(cat FILE) prog` or `set -a; . FILE`, atomically. */
static int write_env_file(struct usb_umockdev *um, const char *path, char *err, size_t errlen)
{
	char *tmp = g_strdup_printf("%s.tmp%d", path, (int)getpid());
	FILE *f = fopen(tmp, "w");

	if (!f) {
		snprintf(err, errlen, "cannot write the USB environment to %s: %s", path, strerror(errno));
		g_free(tmp);
		return -1;
	}
	fprintf(f, "UMOCKDEV_DIR=%s\nLD_PRELOAD=%s\n", um->root, PRELOAD_LIB);
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		snprintf(err, errlen, "cannot write the USB environment to %s: %s", path, strerror(errno));
		unlink(tmp);
		g_free(tmp);
		return -1;
	}
	g_free(tmp);
	um->env_path = g_strdup(path);
	return 0;
}

struct usb_umockdev *usb_umockdev_open(struct usb_link *link, const struct sim_usb_config *cfg,
				       char *err, size_t errlen)
{
	struct usb_umockdev *um = g_new0(struct usb_umockdev, 1);

	um->link = link;
	g_mutex_init(&um->lock);
	g_mutex_init(&um->done_lock);
	g_cond_init(&um->done_cond);
	um->tb = umockdev_testbed_new();
	/*
	 * Uevents (hotplug) are sent through libudev in this process, which
	 * only finds the device in the testbed under the preload library.
	 * Without it, programs see the device only if they start while it is
	 * attached (sysboot-sim re-executes itself under the preload). Asked
	 * once the testbed exists: umockdev remembers the first answer.
	 */
	um->mock = umockdev_in_mock_environment();
	um->root = umockdev_testbed_get_root_dir(um->tb);
	snprintf(um->env, sizeof(um->env), "UMOCKDEV_DIR=%s LD_PRELOAD=%s", um->root, PRELOAD_LIB);
	um->handler = umockdev_ioctl_base_new();
	g_signal_connect(um->handler, "handle-ioctl", G_CALLBACK(on_ioctl), um);
	g_signal_connect(um->handler, "client-connected", G_CALLBACK(on_client_connected), um);
	if (cfg->env_path && write_env_file(um, cfg->env_path, err, errlen) < 0) {
		usb_umockdev_close(um);
		return NULL;
	}
	return um;
}

/* Worker thread, last: answer held reaps, drop every client and URB. */
static gboolean cleanup_in_worker(gpointer data)
{
	struct usb_umockdev *um = data;

	while (um->clients) {
		struct um_client *c = um->clients->data;

		if (c->reap_arg)
			reap_release(c, -1, ENODEV);
		stop_reap_timer(c);
		c->closed = true;
		/* Nothing is on the board any more: every URB can go. */
		while (c->urbs)
			urb_free(c->urbs->data);
		c->nurbs = 0;
		client_maybe_free(c);
	}
	g_mutex_lock(&um->done_lock);
	um->cleaned = true;
	g_cond_signal(&um->done_cond);
	g_mutex_unlock(&um->done_lock);
	return G_SOURCE_REMOVE;
}

void usb_umockdev_close(struct usb_umockdev *um)
{
	if (!um)
		return;
	usb_umockdev_detach(um);
	if (um->ctx) {
		/* After every answer already scheduled there (same priority, in order). */
		g_main_context_invoke(um->ctx, cleanup_in_worker, um);
		g_mutex_lock(&um->done_lock);
		while (!um->cleaned)
			g_cond_wait(&um->done_cond, &um->done_lock);
		g_mutex_unlock(&um->done_lock);
		g_main_context_unref(um->ctx);
	}
	if (um->env_path) {
		unlink(um->env_path);
		g_free(um->env_path);
	}
	g_object_unref(um->handler);
	g_object_unref(um->tb);
	g_free(um->root);
	g_mutex_clear(&um->lock);
	g_mutex_clear(&um->done_lock);
	g_cond_clear(&um->done_cond);
	g_free(um);
}
