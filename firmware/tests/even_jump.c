/*
 * even_jump.c - a branch to an even address (Thumb bit clear) must fault
 * on a Cortex-M4 (ARMv7-M ARM A2.3.1: INVSTATE UsageFault). The sysboot
 * jump to the ROM loads the entry point from 0x1FFF0004 precisely so that
 * it carries the Thumb bit; the emulator must not let a wrong jump pass.
 *
 * test_result slots:
 *   0  1 just before the bad call
 *   1  the even target address
 *   2  0xFA11ED00 if the call came back (the test then fails: it reaches
 *      test_done although it must stop with a fault before)
 */
#include "test.h"

static void __attribute__((noinline)) target(void)
{
	__asm__ volatile("nop");
}

int main(void)
{
	uint32_t addr = (uint32_t)(uintptr_t)target & ~1u;
	void (*volatile fn)(void);

	__asm__ volatile("" : "+r"(addr));
	fn = (void (*)(void))(uintptr_t)addr;
	test_result[1] = addr;
	test_result[0] = 1;
	fn();
	test_result[2] = 0xFA11ED00u;
	test_done();
}
