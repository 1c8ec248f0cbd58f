/*
 * diag.h - the ordinary application around each broken bootloader entry
 * in firmware/tests/diag/.
 *
 * Every firmware in this folder is one mistake users make on the way into
 * the STM32L476 ROM bootloader (docs/diagnose.md), written the way they
 * write it. Everything else in it is done right, with the helpers here,
 * so `sysboot-sim diagnose` must find exactly that mistake and nothing
 * else. The helpers are what any application has anyway: a clock, the
 * ST-LINK serial port, B1, SysTick, and the steps of the jump that AN2606
 * asks for ("jumping to the bootloader from user code").
 */
#ifndef DIAG_H
#define DIAG_H

#include <stdint.h>

#include "stm32l476/mmio.h"

#define DIAG_MSI_HZ   4000000u      /* the reset clock (RM0351 6.2.3) */
#define DIAG_PLL_HZ   80000000u
#define DIAG_BAUD     115200u

extern volatile uint32_t diag_ticks;   /* SysTick, 1 ms */
extern uint32_t diag_hclk;

/* Clocks: the PLL at 80 MHz from the MSI, and back to the reset clock. */
void diag_clock_pll_80mhz(void);
void diag_clock_reset(void);

/* USART2 (PA2/PA3, the ST-LINK virtual COM port), 115200 8N1, polled. */
void diag_uart_init(void);
void diag_puts(const char *s);
/* Block until a line equal to cmd arrives (other lines are ignored). */
void diag_wait_command(const char *cmd);
/*
 * For a receive interrupt handler: feed it each character, 1 when the
 * characters so far end with word (*matched, zero at first, is its state).
 */
int diag_word_received(char c, const char *word, unsigned *matched);
/* Block until B1 has been held for ms. */
void diag_wait_button(uint32_t ms);

/* A system reset, as CMSIS's NVIC_SystemReset() does it. */
void diag_system_reset(void) __attribute__((noreturn));

/* SysTick at 1 ms with its interrupt; interrupts enabled. */
void diag_systick_start(void);

/* The AN2606 steps before a jump from user code, each done right. */
void diag_systick_stop(void);
void diag_nvic_clear(void);          /* every IRQ disabled, none pending */
void diag_remap_sysmem(void);        /* SYSCFG clock on, MEM_MODE = system memory */

static inline void diag_set_msp(uint32_t sp)
{
	__asm__ volatile("msr msp, %0" : : "r"(sp) : "memory");
}

#endif /* DIAG_H */
