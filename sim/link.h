/*
 * link.h - the wire between an emulated USART and the outside world.
 *
 * A link carries bytes only: framing, parity and baud rate belong to the
 * USART model on one side and to the host program on the other. Kinds:
 * nothing connected, in-process buffers for tests, a pseudo-terminal for
 * programs that open a serial port (sysboot, stm32flash, picocom), and a
 * TCP port for serial-server style clients.
 */
#ifndef SIM_LINK_H
#define SIM_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim.h"

struct link;

struct link *link_open(const struct sim_link_config *cfg, char *err, size_t errlen);
void link_close(struct link *l);

/* Bytes received from the host, without waiting; returns how many. */
size_t link_read(struct link *l, uint8_t *buf, size_t cap);
/* Send bytes to the host; never blocks for long (a stalled peer loses data). */
void link_write(struct link *l, const uint8_t *buf, size_t len);
/* Wait up to timeout_ms of wall time for input; true when some is pending. */
bool link_wait(struct link *l, int timeout_ms);
/* File descriptor to poll, -1 for links without one. */
int link_fd(const struct link *l);

/* The pty's slave path ("" for other kinds). */
const char *link_pty_path(const struct link *l);
/* The baud rate the host program set on the pty, 0 when unknown. */
uint32_t link_host_baud(const struct link *l);
/* The TCP port listened on (useful with port 0), 0 for other kinds. */
uint16_t link_tcp_port(const struct link *l);

/* Memory links: bytes as if sent by the host; bytes the board sent. */
void link_inject(struct link *l, const void *data, size_t len);
size_t link_take_output(struct link *l, char *buf, size_t cap);

#endif /* SIM_LINK_H */
