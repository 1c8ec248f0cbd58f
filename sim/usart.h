/*
 * usart.h - model of the STM32L476 USART (RM0351 40) and its serial line.
 */
#ifndef SIM_USART_H
#define SIM_USART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct board;
struct link;

struct usart {
	unsigned index;              /* 1, 2, 3; 0 until initialised */
	uint32_t base;
	unsigned irq;
	uint32_t cr1, cr2, cr3, brr, gtpr, rtor, isr, rdr;
	struct link *link;

	/* Transmitter: TDR and the shift register. */
	bool tdr_full, shifting;
	uint8_t tdr;
	struct sim_event tx_done;

	/* Receiver: bytes from the link wait here for their turn on the line. */
	uint8_t line[4096];
	unsigned line_head, line_count;
	bool receiving;
	struct sim_event rx_done;
	bool lost_traced;

	/* Everything ever transmitted (the most recent MB of it). */
	char *log;
	size_t log_len, log_cap, log_base;
};

int usart_init(struct board *b, struct usart *u, unsigned index,
	       const struct sim_link_config *lc, char *err, size_t errlen);
void usart_fini(struct usart *u);
void usart_reset(struct board *b, struct usart *u);
uint32_t usart_reg_read(struct board *b, void *state, uint32_t off, unsigned size);
void usart_reg_write(struct board *b, void *state, uint32_t off, unsigned size, uint32_t val);
/* Move input waiting on the link onto the line; called by the core regularly. */
void usart_poll(struct board *b, struct usart *u);
/* Does everything transmitted from offset from on contain text? */
bool usart_output_contains(const struct usart *u, size_t from, const char *text);
size_t usart_output_len(const struct usart *u);
/* Time one frame takes with the current settings, in picoseconds. */
sim_time_t usart_frame_time(const struct board *b, const struct usart *u);

#endif /* SIM_USART_H */
