/*
 * usart.h - model of the STM32L476 USART (RM0351 40) and its serial line.
 *
 * The board has three instances (USART1..3). Each owns the link its line
 * goes to; the native ROM bootloader model uses USART2's link directly
 * while it runs, and the USART model then leaves that link alone.
 */
#ifndef SIM_USART_H
#define SIM_USART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct board;
struct link;

/* Bytes from the link waiting for their turn on the receive line. */
#define USART_LINE_SIZE 4096u

/* Errors usart_inject_error() can put on a received frame. */
#define USART_ERR_PE  (1u << 0)       /* parity error */
#define USART_ERR_FE  (1u << 1)       /* framing error (stop bit low) */
#define USART_ERR_NF  (1u << 2)       /* noise detected */

struct usart {
	unsigned index;              /* 1, 2, 3; 0 until initialised */
	uint32_t base;
	unsigned irq;
	uint32_t cr1, cr2, cr3, brr, gtpr, rtor, isr;
	uint16_t rdr, tdr;
	struct link *link;

	/* Transmitter: TDR, then the shift register for one frame time. */
	bool tdr_full;               /* TDR holds a byte (TXE clear) */
	bool shifting;               /* a frame is on the line */
	uint16_t shift;              /* the word in the shift register */
	struct sim_event tx_done;
	bool tx_lost_traced;         /* TDR written while disabled: told once */
	sim_time_t tx_last;          /* the last byte on the line had left (or the ROM's) */

	/*
	 * Receiver: bytes from the link wait on the line, each taking one
	 * frame time after the previous one. Low 8 bits: the byte; bits 8..10:
	 * USART_ERR_* to raise when it completes.
	 */
	uint16_t line[USART_LINE_SIZE];
	unsigned line_head, line_count;
	bool receiving;              /* the head of the line is being shifted in */
	struct sim_event rx_done;
	bool rx_lost_traced;         /* bytes lost while disabled: told once per episode */
	bool ore_block_traced;       /* bytes lost while ORE stays set: told once per overrun */
	uint64_t rx_lost;            /* bytes lost (disabled or overrun) */

	/* Configuration last traced, to tell changes (clock changes included). */
	uint32_t traced_baud;
	uint32_t traced_frame;

	/* Everything ever transmitted (the most recent MB of it). */
	char *log;
	size_t log_len, log_cap, log_base;
};

/* Set up USART index (1..3) and open its link; -1 with a message in err. */
int usart_init(struct board *b, struct usart *u, unsigned index,
	       const struct sim_link_config *lc, char *err, size_t errlen);
/* Close the link and free the log; usart_init() may be called again. */
void usart_fini(struct usart *u);
/* Registers to their reset values; the link and the output log stay. */
void usart_reset(struct board *b, struct usart *u);
/* Register access (struct periph callbacks; state is the struct usart). */
uint32_t usart_reg_read(struct board *b, void *state, uint32_t off, unsigned size);
void usart_reg_write(struct board *b, void *state, uint32_t off, unsigned size, uint32_t val);
/*
 * Move input waiting on the link onto the line; called by the core
 * regularly. Does nothing while the ROM bootloader model runs (it reads
 * USART2's link itself).
 */
void usart_poll(struct board *b, struct usart *u);
/* Does everything transmitted from offset from on contain text? */
bool usart_output_contains(const struct usart *u, size_t from, const char *text);
/* Bytes transmitted since usart_init (offsets for usart_output_contains). */
size_t usart_output_len(const struct usart *u);
/* Time one frame takes with the current settings, in picoseconds. */
sim_time_t usart_frame_time(const struct board *b, const struct usart *u);
/* Baud rate from BRR and the kernel clock; 0 when BRR is unusable. */
uint32_t usart_baud(const struct board *b, const struct usart *u);
/*
 * Tests: put byte on the receive line with errors (USART_ERR_*) as if the
 * line had been disturbed; it completes after the bytes already waiting.
 */
void usart_inject_error(struct board *b, struct usart *u, uint8_t byte, unsigned errors);
/*
 * Take the bytes that left the link but have not been received yet (for
 * a model taking the link over, such as the ROM bootloader after a jump).
 */
size_t usart_take_line(struct board *b, struct usart *u, uint8_t *buf, size_t cap);

#endif /* SIM_USART_H */
