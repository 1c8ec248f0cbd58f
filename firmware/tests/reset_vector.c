/*
 * reset_vector.c - does the emulated reset load SP and PC the way a
 * Cortex-M4 does (ARMv7-M ARM B1.5.5: SP from word 0, PC from word 1 of
 * the table at 0x0)?
 *
 * test_result slots:
 *   0  MSP at main() entry (just below the initial SP)
 *   1  initial SP: word 0 of the vector table as seen at 0x00000000
 *   2  RCC_CSR at main() entry (reset flags of this boot)
 *   3  reset vector: word 1 of the vector table at 0x00000000
 *   4  address of Reset_Handler (slot 3 must equal it, Thumb bit set)
 *   5  SCB_VTOR after startup (0x08000000)
 *   6  1 when slot 1 equals the linker's _estack
 */
#include "test.h"

extern uint32_t _estack;
void Reset_Handler(void);

int main(void)
{
	uint32_t sp = __get_MSP();

	test_result[0] = sp;
	test_result[1] = mmio_read_hidden(0x00000000u);
	test_result[2] = MMIO32(RCC_BASE + RCC_CSR);
	test_result[3] = mmio_read_hidden(0x00000004u);
	test_result[4] = (uint32_t)(uintptr_t)Reset_Handler;
	test_result[5] = MMIO32(SCB_BASE + SCB_VTOR);
	test_result[6] = test_result[1] == (uint32_t)(uintptr_t)&_estack;
	test_done();
}
