/*
 * test.h - what every test firmware shares with the emulator's harness.
 *
 * The harness (tests/sim/harness.c) runs a test firmware until the PC
 * reaches test_done and then reads test_result[] through the ELF symbol
 * table, so both must exist under these exact names, stay out of the
 * optimiser's reach and be defined once per firmware: include this header
 * from exactly one file of each test firmware.
 */
#ifndef SYSBOOT_FW_TEST_H
#define SYSBOOT_FW_TEST_H

#include <stdint.h>

#include "stm32l476/mmio.h"

#define TEST_SLOTS 16u

volatile uint32_t test_result[TEST_SLOTS];

void test_done(void) __attribute__((noinline, used, noreturn));
void test_done(void)
{
	for (;;)
		__asm__ volatile("nop");
}

#endif /* SYSBOOT_FW_TEST_H */
