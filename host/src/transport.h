/*
 * transport.h - the byte link between the sysboot tool and a board.
 *
 * The AN3155 client and the "enter the bootloader" step only need to move
 * bytes with timeouts and to switch the line between the application's 8N1
 * and the ROM's 8E1; whether the bytes travel over a real UART, a
 * pseudo-terminal (the emulator) or a TCP socket (ser2net, or the
 * emulator's TCP option) is this layer's business and no one else's.
 *
 * Every function returns a enum tp_status; on failure a specific,
 * user-readable message is left in transport_error().
 */
#ifndef SYSBOOT_TRANSPORT_H
#define SYSBOOT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#define TRANSPORT_DEFAULT_BAUD 115200u

enum tp_status {
	TP_OK = 0,
	TP_ERR_NODEV,     /* no such device / host not found */
	TP_ERR_PERM,      /* permission denied */
	TP_ERR_BUSY,      /* another program holds the port */
	TP_ERR_REFUSED,   /* TCP connection refused */
	TP_ERR_CLOSED,    /* the peer closed the link */
	TP_ERR_TIMEOUT,   /* fewer bytes than asked within the timeout */
	TP_ERR_CONFIG,    /* the line settings could not be applied */
	TP_ERR_IO,        /* any other system error */
};

enum tp_parity {
	TP_PARITY_NONE,   /* 8N1: what the applications speak */
	TP_PARITY_EVEN,   /* 8E1: what the ROM bootloader speaks (AN3155 2) */
};

struct transport;

/*
 * Open PORT: a device path, or "tcp:HOST:PORT". For a serial device the
 * line is set raw, 8 data bits, the given parity, one stop bit. A
 * pseudo-terminal cannot carry parity; it is then used without, after a
 * note on stderr (once per process).
 */
enum tp_status transport_open(struct transport **out, const char *port,
			      unsigned baud, enum tp_parity parity,
			      char *err, size_t errlen);

/* Wrap an already open descriptor (tests: socketpair). Takes ownership. */
struct transport *transport_from_fd(int fd, const char *name);

void transport_close(struct transport *t);

/*
 * Read exactly len bytes within timeout_ms (counted for the whole read).
 * *got (may be NULL) receives the number read, also on a timeout.
 */
enum tp_status transport_read(struct transport *t, void *buf, size_t len,
			      unsigned timeout_ms, size_t *got);

enum tp_status transport_write(struct transport *t, const void *buf, size_t len);

/* Drop whatever input is waiting (stale replies, application chatter). */
enum tp_status transport_flush(struct transport *t);

/* Wait until everything written has left (tcdrain); no-op on TCP. */
enum tp_status transport_drain(struct transport *t);

/* Change the line: baud rate and parity. No-op on TCP. */
enum tp_status transport_set_line(struct transport *t, unsigned baud,
				  enum tp_parity parity);

/* The port name as the user gave it. */
const char *transport_name(const struct transport *t);

/* The message of the last failure. */
const char *transport_error(const struct transport *t);

/* Is this baud rate one a POSIX serial port can be set to? */
bool transport_baud_supported(unsigned baud);

#endif /* SYSBOOT_TRANSPORT_H */
