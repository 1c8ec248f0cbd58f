/*
 * startup.c - vector table and reset handler for every sysboot firmware.
 *
 * Our own startup instead of a vendor one so the reset handler can call
 * sysboot_early_check() before anything else runs: before .data is copied,
 * .bss is zeroed or a clock is touched (built with -DSTARTUP_EARLY_CHECK).
 * Without that define it is a plain startup for the test firmwares.
 *
 * The table has the 16 Cortex-M4 entries (ARMv7-M ARM B1.5.2) and the
 * STM32L476's 82 interrupts (RM0351 table 58). Handlers are weak: a
 * firmware overrides one by defining a function of the same name.
 */
#include <stdint.h>

#include "stm32l476/mmio.h"
#ifdef STARTUP_EARLY_CHECK
#include "sysboot.h"
#endif

extern uint32_t _estack;
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss;

int main(void);
void Reset_Handler(void);

void Default_Handler(void)
{
	for (;;)
		;
}

#define WEAK_HANDLER(name) \
	void name(void) __attribute__((weak, alias("Default_Handler")))

WEAK_HANDLER(NMI_Handler);
WEAK_HANDLER(HardFault_Handler);
WEAK_HANDLER(MemManage_Handler);
WEAK_HANDLER(BusFault_Handler);
WEAK_HANDLER(UsageFault_Handler);
WEAK_HANDLER(SVC_Handler);
WEAK_HANDLER(DebugMon_Handler);
WEAK_HANDLER(PendSV_Handler);
WEAK_HANDLER(SysTick_Handler);
WEAK_HANDLER(FLASH_IRQHandler);
WEAK_HANDLER(USART1_IRQHandler);
WEAK_HANDLER(USART2_IRQHandler);
WEAK_HANDLER(USART3_IRQHandler);
WEAK_HANDLER(OTG_FS_IRQHandler);

typedef void (*vector_t)(void);

#define D Default_Handler

#define VECTOR_COUNT (EXC_IRQ0 + STM32_IRQ_COUNT)

__attribute__((section(".isr_vector"), used))
const vector_t vector_table[VECTOR_COUNT] = {
	(vector_t)(uintptr_t)&_estack, Reset_Handler, NMI_Handler,
	HardFault_Handler, MemManage_Handler, BusFault_Handler,
	UsageFault_Handler, 0, 0, 0, 0, SVC_Handler, DebugMon_Handler, 0,
	PendSV_Handler, SysTick_Handler,
	/* IRQ  0 */ D, D, D, D, FLASH_IRQHandler, D,
	/* IRQ  6 */ D, D, D, D, D, D,
	/* IRQ 12 */ D, D, D, D, D, D,
	/* IRQ 18 */ D, D, D, D, D, D,
	/* IRQ 24 */ D, D, D, D, D, D,
	/* IRQ 30 */ D, D, D, D, D, D,
	/* IRQ 36 */ D, USART1_IRQHandler, USART2_IRQHandler, USART3_IRQHandler, D, D,
	/* IRQ 42 */ D, D, D, D, D, D,
	/* IRQ 48 */ D, D, D, D, D, D,
	/* IRQ 54 */ D, D, D, D, D, D,
	/* IRQ 60 */ D, D, D, D, D, D,
	/* IRQ 66 */ D, OTG_FS_IRQHandler, D, D, D, D,
	/* IRQ 72 */ D, D, D, D, D, D,
	/* IRQ 78 */ D, D, D, D,
};

void Reset_Handler(void)
{
	uint32_t *src, *dst;

	/*
	 * Masked until main() unmasks: after a jump from the ROM (AN3155 Go)
	 * its SysTick or USART interrupts may still be enabled, and once VTOR
	 * points at this table they would land in Default_Handler before
	 * main() gets to sysboot_quiesce(). main() unmasks with
	 * __enable_irq() when it wants interrupts; the stub's jump to the
	 * application and the jump into the ROM unmask too (cpsie i).
	 */
	__disable_irq();
#ifdef STARTUP_EARLY_CHECK
	sysboot_early_check();
#endif
	/*
	 * The table may be entered by a jump (ROM Go, DfuSe leave, the stub)
	 * rather than a reset, and the ROM does not set VTOR (AN3156).
	 */
	MMIO32(SCB_BASE + SCB_VTOR) = (uint32_t)(uintptr_t)vector_table;
	__DSB();

	for (src = &_sidata, dst = &_sdata; dst < &_edata;)
		*dst++ = *src++;
	for (dst = &_sbss; dst < &_ebss;)
		*dst++ = 0;

	main();
	for (;;)
		;
}
