/*
 * usart.h - model of the STM32L476 USART (RM0351 40) and its serial line.
 *
 * INTERFACE DRAFT written by the core; the USART model owner completes the
 * state struct and may add functions, but keeps these signatures.
 */
#ifndef SIM_USART_H
#define SIM_USART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct board;
struct link;
struct sim_link_config;

struct usart {
	unsigned index;              /* 1, 2, 3 */
	uint32_t base;
	unsigned irq;
	uint32_t cr1, cr2, cr3, brr, gtpr, rtor, isr, rdr;
	struct link *link;
	/* to be completed by the USART model */
};

int usart_init(struct board *b, struct usart *u, unsigned index,
	       const struct sim_link_config *lc, char *err, size_t errlen);
void usart_fini(struct usart *u);
void usart_reset(struct board *b, struct usart *u);
uint32_t usart_reg_read(struct board *b, void *state, uint32_t off, unsigned size);
void usart_reg_write(struct board *b, void *state, uint32_t off, unsigned size, uint32_t val);
/* Move input waiting on the link into the receiver; called by the core regularly. */
void usart_poll(struct board *b, struct usart *u);
/* Does everything the USART ever transmitted, from offset from on, contain text? */
bool usart_output_contains(const struct usart *u, size_t from, const char *text);
size_t usart_output_len(const struct usart *u);

#endif /* SIM_USART_H */
