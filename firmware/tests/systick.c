/*
 * systick.c - SysTick interrupts and the exception frame (ARMv7-M ARM
 * B1.5.6-B1.5.8). Unicorn cannot take or return from exceptions on its
 * M4 model, so the emulator does it; this firmware checks that the
 * handler runs in handler mode with IPSR = 15, and that both the
 * hardware-stacked (r0-r3, r12) and callee-saved registers of the
 * interrupted code survive a handler that clobbers r0-r3 and r12.
 *
 * test_result slots:
 *   0  tick count when main stopped waiting (>= 10)
 *   1  IPSR seen inside the handler (15)
 *   2  r4 after the wait (expect 0xC0FFEE04, callee-saved)
 *   3  r2 after the wait (expect 0x0BADF00D, stacked by hardware)
 *   4  1 when slots 2 and 3 hold the expected values
 *   5  IPSR in main after the wait (0, thread mode)
 */
#include "test.h"

#define TICKS     10u
#define R4_VALUE  0xC0FFEE04u
#define R2_VALUE  0x0BADF00Du

static volatile uint32_t tick_count;
static volatile uint32_t handler_ipsr;

void SysTick_Handler(void)
{
	handler_ipsr = __get_IPSR();
	tick_count++;
	__asm__ volatile("mov r0, #0xDE\n\t"
			 "mov r1, #0xAD\n\t"
			 "mov r2, #0xBE\n\t"
			 "mov r3, #0xEF\n\t"
			 "mov r12, #0x55"
			 : : : "r0", "r1", "r2", "r3", "r12");
}

int main(void)
{
	uint32_t r4_after, r2_after;

	MMIO32(SYSTICK_BASE + SYST_RVR) = 4000000u / 1000u - 1u;  /* 1 ms */
	MMIO32(SYSTICK_BASE + SYST_CVR) = 0;
	MMIO32(SYSTICK_BASE + SYST_CSR) = SYST_CSR_CLKSOURCE |
					  SYST_CSR_TICKINT | SYST_CSR_ENABLE;
	__enable_irq();

	/* The whole wait in asm so r2 and r4 are live across every tick. */
	__asm__ volatile("movw r4, #0xEE04\n\t"
			 "movt r4, #0xC0FF\n\t"
			 "movw r2, #0xF00D\n\t"
			 "movt r2, #0x0BAD\n"
			 "1:\n\t"
			 "ldr r3, [%[cnt]]\n\t"
			 "cmp r3, %[n]\n\t"
			 "blo 1b\n\t"
			 "mov %[r4o], r4\n\t"
			 "mov %[r2o], r2"
			 : [r4o] "=&r"(r4_after), [r2o] "=&r"(r2_after)
			 : [cnt] "r"(&tick_count), [n] "r"(TICKS)
			 : "r2", "r3", "r4", "cc", "memory");

	MMIO32(SYSTICK_BASE + SYST_CSR) = 0;
	test_result[0] = tick_count;
	test_result[1] = handler_ipsr;
	test_result[2] = r4_after;
	test_result[3] = r2_after;
	test_result[4] = r4_after == R4_VALUE && r2_after == R2_VALUE;
	test_result[5] = __get_IPSR();
	test_done();
}
