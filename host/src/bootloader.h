/*
 * bootloader.h - one interface to the ROM bootloader, whichever protocol
 * reaches it.
 *
 * The STM32L476's ROM offers the same flash through two protocols: AN3155
 * over a serial line and DfuSe (AN3156) over USB. The update's safety rules
 * (update.c) and the commands (cmd_rom.c) must not be written twice, so they
 * talk to a session through the small table of operations below, and the
 * port's spelling picks the backend: "usb" or "usb:VID:PID[:SERIAL]" is
 * DfuSe (bl_dfuse.c), anything else AN3155 (bl_an3155.c). A backend reports
 * a failure as an op_status and leaves a complete sentence in s->err.
 */
#ifndef SYSBOOT_BOOTLOADER_H
#define SYSBOOT_BOOTLOADER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "an3155.h"
#include "transport.h"

/* What went wrong, by kind; the commands map these to exit codes. */
enum op_status {
	OP_OK = 0,
	OP_ERR_USAGE,       /* bad arguments, or something this port cannot do */
	OP_ERR_INPUT,       /* the file: unreadable, not an image, does not fit */
	OP_ERR_PORT,        /* the port cannot be opened or configured */
	OP_ERR_NO_ANSWER,   /* nothing answers (not in bootloader mode) */
	OP_ERR_TIMEOUT,     /* the ROM stopped answering mid-way */
	OP_ERR_NACK,        /* the ROM refused */
	OP_ERR_LINK,        /* the link broke */
	OP_ERR_PROTOCOL,    /* nonsense from the other side */
	OP_ERR_WRONG_CHIP,  /* not an STM32L47x/48x */
	OP_ERR_VERIFY,      /* written, but what runs is not what was written */
	OP_ERR_INTERRUPTED, /* Ctrl-C */
	OP_ERR_INTERNAL,
};

enum op_status op_from_an(enum an_status st);

struct usb_provider;

/* How to reach the ROM bootloader. */
struct connect_opts {
	const char *port;           /* serial device, tcp:HOST:PORT, usb[:VID:PID[:SERIAL]] */
	unsigned baud;              /* for the ROM; default 115200 */
	const char *enter_cmd;      /* NULL: "bootloader\r\n" */
	bool no_enter;              /* the board already runs the ROM */
	bool resume;                /* ... and this host had it synchronised: it
				     * may be inside a command (an3155_resync) */
	unsigned rom_startup_ms;    /* wait after the enter command */
	unsigned sync_ms;           /* how long to keep trying 0x7F */
	/* USB: the application's serial line that gets enter_cmd (NULL: none). */
	const char *enter_port;
	/* A shell command that makes the board enter the ROM (NULL: none). */
	const char *enter_exec;
	unsigned dfu_wait_ms;       /* USB: how long to wait for the DFU device */
	volatile sig_atomic_t *stop;/* set by Ctrl-C: stop waiting */
	const struct usb_provider *usb; /* NULL: libusb (tests give a fake) */
};

#define DEFAULT_ENTER_CMD "bootloader\r\n"
#define DEFAULT_DFU_WAIT_MS 5000u

/* What the connection learnt about the chip. */
struct chip_info {
	uint16_t pid;               /* AN3155 Get ID; 0 over DFU, which has none */
	uint8_t protocol;           /* from Get */
	uint8_t version;            /* from Get Version */
	uint8_t opt[2];
	uint16_t usb_vid, usb_pid;  /* DFU: the device's IDs */
	uint16_t usb_bcd;           /* DFU: bcdDevice, the bootloader version */
};

/* The special erases; a backend without one does it page by page. */
enum bl_erase {
	BL_ERASE_MASS,
	BL_ERASE_BANK1,
	BL_ERASE_BANK2,
};

struct session;
struct dfu_backend;

/*
 * One backend. Addresses are absolute; lengths of read and write are at
 * most s->block, and writes to flash are whole double words (the caller
 * pads with 0xFF). A NULL protection operation is one the protocol cannot
 * do; s->ops->cannot says why.
 */
struct bl_ops {
	const char *protocol;       /* "AN3155", "DfuSe" */
	enum op_status (*read)(struct session *s, uint32_t addr, void *buf, size_t len);
	enum op_status (*write)(struct session *s, uint32_t addr, const void *buf,
				size_t len);
	/* Pages as Extended Erase counts them (bank 2 from 256). */
	enum op_status (*erase_pages)(struct session *s, const uint16_t *pages,
				      size_t n);
	enum op_status (*erase_special)(struct session *s, enum bl_erase what);
	bool bank_erase;            /* one command clears a bank (else page by page) */
	/* Start the code at addr (Go, or DfuSe's leave): the ROM is gone after. */
	enum op_status (*go)(struct session *s, uint32_t addr);
	enum op_status (*write_protect)(struct session *s, const uint8_t *pages,
					size_t n);
	enum op_status (*write_unprotect)(struct session *s);
	enum op_status (*readout_protect)(struct session *s);
	enum op_status (*readout_unprotect)(struct session *s);
	const char *cannot;         /* why a NULL operation is missing */
	/*
	 * After a go: is the ROM bootloader there again within timeout_ms (so
	 * the stub refused the image)? Watched without disturbing a running
	 * application when passive_watch is set.
	 */
	bool (*rom_back)(struct session *s, unsigned timeout_ms);
	bool passive_watch;
	/*
	 * A block that fails after the backend's retries is worth trying in
	 * smaller pieces: a serial line spoils long frames more often.
	 */
	bool split_failed_blocks;
	unsigned (*retries)(const struct session *s);
	void (*close)(struct session *s);
};

struct session {
	const struct bl_ops *ops;
	struct chip_info chip;
	size_t block;               /* bytes per read or write command */
	const char *port;           /* as the user spelled it */
	/* The application's serial line (banner after an update), or NULL. */
	struct transport *app;
	/* AN3155: the ROM's line (the same as app) and the client. */
	struct transport *tp;
	struct an3155 an;
	/* DfuSe: the device and its client, owned by bl_dfuse.c. */
	struct dfu_backend *dfb;
	char err[768];
};

/* Does this port spelling name a USB DFU device? */
bool port_is_usb(const char *port);

/* The backend a port spelling selects, before connecting. */
const struct bl_ops *bl_ops_for_port(const char *port);

extern const struct bl_ops an3155_bl_ops;
extern const struct bl_ops dfuse_bl_ops;

/*
 * Steps (a) and (b) of every command: make the board enter the ROM (unless
 * no_enter), connect through the port's backend, identify the chip and
 * refuse any other than the STM32L47x/48x (OP_ERR_WRONG_CHIP).
 */
enum op_status session_open(struct session *s, const struct connect_opts *co,
			    char *err, size_t errlen);
void session_close(struct session *s);

/* The backends' halves of session_open. */
enum op_status an3155_session_open(struct session *s, const struct connect_opts *co,
				   char *err, size_t errlen);
enum op_status dfuse_session_open(struct session *s, const struct connect_opts *co,
				  char *err, size_t errlen);

/*
 * Run co->enter_exec with /bin/sh, if set: the user's way of putting the
 * board into the ROM (a debugger, a relay on BOOT0). Fails with the
 * command's exit status in err.
 */
enum op_status session_run_enter_exec(const struct connect_opts *co, char *err,
				      size_t errlen);

/* DfuSe sessions: what info shows (NULL for other sessions). */
struct usb_device_info;
const struct usb_device_info *dfuse_session_device(const struct session *s);
struct dfuse *dfuse_session_client(struct session *s);

void sleep_ms(unsigned ms);
double now_s(void);

#endif /* SYSBOOT_BOOTLOADER_H */
