/*
 * link.h - the wire between an emulated USART and the outside world.
 *
 * A link carries bytes only: framing, parity and baud rate belong to the
 * USART model (or the ROM bootloader model) on one side and to the host
 * program on the other. Kinds: nothing connected, in-process queues for
 * tests, a pseudo-terminal for programs that open a serial port (sysboot,
 * stm32flash, picocom), and a TCP port for serial-server style clients.
 *
 * Nothing here ever blocks the simulation for long: reads and writes are
 * non-blocking, and a host that does not read loses bytes as it would on a
 * real serial line nobody listens to.
 */
#ifndef SIM_LINK_H
#define SIM_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim.h"

struct link;

/*
 * Open a link of cfg->kind. On failure returns NULL with a message in err
 * (pty creation, port in use, symlink path holding a file that is not a
 * symbolic link).
 */
struct link *link_open(const struct sim_link_config *cfg, char *err, size_t errlen);
/* Close the link; a pty symlink created by link_open is removed. NULL is fine. */
void link_close(struct link *l);

/* Bytes received from the host, without waiting; returns how many. */
size_t link_read(struct link *l, uint8_t *buf, size_t cap);
/* Send bytes to the host; never blocks (a stalled or absent peer loses them). */
void link_write(struct link *l, const uint8_t *buf, size_t len);
/*
 * Wait up to timeout_ms of wall time for input; true when some is pending.
 * Links whose input comes from this process (none, memory) do not sleep.
 */
bool link_wait(struct link *l, int timeout_ms);
/* File descriptor to poll() for input, -1 for links without one. */
int link_fd(const struct link *l);

/* The pty's slave path ("" for other kinds). */
const char *link_pty_path(const struct link *l);
/*
 * The baud rate the host program set on the pty (Linux shares one termios
 * between master and slave), 0 when unknown (other kinds, odd rates).
 */
uint32_t link_host_baud(const struct link *l);
/* The TCP port listened on (the one picked when configured as 0), 0 for other kinds. */
uint16_t link_tcp_port(const struct link *l);
/*
 * A host program is attached: a TCP client is connected, a program other
 * than the emulator has the pty slave open (when that cannot be detected,
 * always true for a pty), always true for memory links.
 */
bool link_connected(struct link *l);
/* Bytes written but lost because no peer was attached or it did not read. */
uint64_t link_dropped(const struct link *l);

/* Memory links: bytes as if sent by the host; bytes the board sent (consumed). */
void link_inject(struct link *l, const void *data, size_t len);
size_t link_take_output(struct link *l, char *buf, size_t cap);

#endif /* SIM_LINK_H */
