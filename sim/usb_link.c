/*
 * usb_link.c - the queue between a USB host and the emulated board, and
 * the in-process (memory) host used by the tests. The umockdev host is in
 * usb_umockdev.c; see usb_link.h for the threads involved.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "usb_link.h"
#include "usb_umockdev.h"

struct usb_link {
	enum sim_usb_kind kind;
	pthread_mutex_t lock;
	struct usb_xfer *head, **tail;
	int wake_fd;                  /* eventfd: non-zero while the queue holds transfers */
	bool attached;
	unsigned generation;          /* bumped at every attach and detach */
	bool answered;                /* memory: a transfer was answered */
	struct usb_umockdev *um;
};

struct usb_link *usb_link_open(const struct sim_usb_config *cfg, char *err, size_t errlen)
{
	struct usb_link *l = calloc(1, sizeof(*l));

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->kind = cfg->kind;
	l->tail = &l->head;
	l->wake_fd = -1;
	pthread_mutex_init(&l->lock, NULL);
	if (l->kind == SIM_USB_UMOCKDEV) {
		l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (l->wake_fd < 0) {
			snprintf(err, errlen, "cannot create the USB wakeup eventfd: %s", strerror(errno));
			goto fail;
		}
		l->um = usb_umockdev_open(l, cfg, err, errlen);
		if (!l->um)
			goto fail;
	}
	return l;
fail:
	usb_link_close(l);
	return NULL;
}

void usb_link_close(struct usb_link *l)
{
	if (!l)
		return;
	usb_link_detach(l);
	if (l->um)
		usb_umockdev_close(l->um);
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

int usb_link_attach(struct usb_link *l, const struct usb_device_info *info, uint8_t *address,
		    char *err, size_t errlen)
{
	unsigned generation;

	/*
	 * The link takes transfers before the host can see the device: a
	 * libusb program that opens it the moment its uevent arrives must
	 * find its requests queued for the board, not refused as if the
	 * device had gone (a string descriptor failing with "no device" just
	 * after the attach). The board serves them once it has enumerated.
	 */
	pthread_mutex_lock(&l->lock);
	l->generation++;
	generation = l->generation;
	l->attached = true;
	pthread_mutex_unlock(&l->lock);
	*address = 1;
	if (l->um && usb_umockdev_attach(l->um, info, generation, address, err, errlen) < 0) {
		pthread_mutex_lock(&l->lock);
		l->attached = false;
		l->generation++;
		pthread_mutex_unlock(&l->lock);
		return -1;
	}
	return 0;
}

void usb_link_detach(struct usb_link *l)
{
	struct usb_xfer *x, *next;
	uint64_t v;
	bool was;

	pthread_mutex_lock(&l->lock);
	was = l->attached;
	l->attached = false;
	l->generation++;
	x = l->head;
	l->head = NULL;
	l->tail = &l->head;
	if (l->wake_fd >= 0 && read(l->wake_fd, &v, sizeof(v)) < 0)
		v = 0;
	pthread_mutex_unlock(&l->lock);
	for (; x; x = next) {
		next = x->next;
		x->next = NULL;
		x->status = -ENODEV;
		x->actual = 0;
		if (x->done)
			x->done(x);
	}
	if (was && l->um)
		usb_umockdev_detach(l->um);
}

bool usb_link_attached(struct usb_link *l)
{
	bool a;

	pthread_mutex_lock(&l->lock);
	a = l->attached;
	pthread_mutex_unlock(&l->lock);
	return a;
}

unsigned usb_link_generation(struct usb_link *l)
{
	unsigned g;

	pthread_mutex_lock(&l->lock);
	g = l->generation;
	pthread_mutex_unlock(&l->lock);
	return g;
}

int usb_link_fd(const struct usb_link *l)
{
	return l->wake_fd;
}

int usb_link_submit(struct usb_link *l, struct usb_xfer *x)
{
	static const uint64_t one = 1;
	ssize_t w;

	pthread_mutex_lock(&l->lock);
	if (!l->attached || x->generation != l->generation) {
		pthread_mutex_unlock(&l->lock);
		return -ENODEV;
	}
	x->next = NULL;
	*l->tail = x;
	l->tail = &x->next;
	if (l->wake_fd >= 0)
		w = write(l->wake_fd, &one, sizeof(one));
	(void)w;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

bool usb_link_cancel(struct usb_link *l, struct usb_xfer *x)
{
	struct usb_xfer **pp;
	bool found = false;

	pthread_mutex_lock(&l->lock);
	for (pp = &l->head; *pp; pp = &(*pp)->next) {
		if (*pp == x) {
			*pp = x->next;
			if (!*pp)
				l->tail = pp;
			x->next = NULL;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return found;
}

struct usb_xfer *usb_link_next(struct usb_link *l)
{
	struct usb_xfer *x;
	uint64_t v;

	pthread_mutex_lock(&l->lock);
	x = l->head;
	if (x) {
		l->head = x->next;
		if (!l->head)
			l->tail = &l->head;
		x->next = NULL;
	}
	if (!l->head && l->wake_fd >= 0 && read(l->wake_fd, &v, sizeof(v)) < 0)
		v = 0;
	pthread_mutex_unlock(&l->lock);
	return x;
}

void usb_link_complete(struct usb_link *l, struct usb_xfer *x, int status, uint16_t actual)
{
	x->status = status;
	x->actual = status ? 0 : actual;
	if (l->kind == SIM_USB_MEMORY)
		l->answered = true;
	if (x->done)
		x->done(x);
}

bool usb_link_take_answered(struct usb_link *l)
{
	bool a = l->answered;

	l->answered = false;
	return a;
}

const char *usb_link_env(const struct usb_link *l)
{
	return l->um ? usb_umockdev_env(l->um) : "";
}
