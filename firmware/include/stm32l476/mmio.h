/*
 * mmio.h - register access and the few Cortex-M4 instructions C cannot say.
 *
 * sysboot carries no CMSIS or HAL copy: register addresses come from
 * sysboot/stm32l476.h (shared with the emulator) and this header adds only
 * the volatile access macro and the barrier and interrupt instructions the
 * boot path needs (ARMv7-M Architecture Reference Manual A7.7, PM0214 3.10).
 */
#ifndef STM32L476_MMIO_H
#define STM32L476_MMIO_H

#include <stdint.h>

#include "sysboot/stm32l476.h"

#define MMIO32(addr)	(*(volatile uint32_t *)(uintptr_t)(addr))
#define MMIO8(addr)	(*(volatile uint8_t *)(uintptr_t)(addr))

/*
 * Read a word from an address the compiler must not reason about (0x0 and
 * other low addresses would otherwise be treated as a null dereference).
 */
static inline uint32_t mmio_read_hidden(uint32_t addr)
{
	__asm__ volatile("" : "+r"(addr));
	return *(volatile uint32_t *)(uintptr_t)addr;
}

static inline void __DSB(void)
{
	__asm__ volatile("dsb 0xF" : : : "memory");
}

static inline void __ISB(void)
{
	__asm__ volatile("isb 0xF" : : : "memory");
}

static inline void __enable_irq(void)
{
	__asm__ volatile("cpsie i" : : : "memory");
}

static inline void __disable_irq(void)
{
	__asm__ volatile("cpsid i" : : : "memory");
}

static inline uint32_t __get_MSP(void)
{
	uint32_t v;

	__asm__ volatile("mrs %0, msp" : "=r"(v));
	return v;
}

static inline uint32_t __get_IPSR(void)
{
	uint32_t v;

	__asm__ volatile("mrs %0, ipsr" : "=r"(v));
	return v;
}

#endif /* STM32L476_MMIO_H */
