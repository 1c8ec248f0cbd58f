/*
 * rom_jump.S - the ways application code jumps to the ROM bootloader, one
 * per mode, for the emulator's ROM entry tests.
 *
 * SRAM word 0x20010000 selects the mode (written by the test before it
 * runs), 0x20010004 counts boots (SRAM survives a system reset and the
 * ROM's jump back). The second boot ends in test_done.
 *   mode 0: load MSP and jump to the value stored at 0x1FFF0004, no remap
 *   mode 1: enable the SYSCFG clock, remap system memory at 0x0, then jump
 *   mode 2: remap with the SYSCFG clock still off (the write is lost)
 *   mode 3: remap right, but jump with interrupts disabled (PRIMASK set)
 *   mode 4: remap right, jump with BASEPRI = 0x50 (an RTOS critical section)
 *   mode 5: remap right, jump with BASEPRI = 0x70
 *   mode 6: remap right, jump from the PendSV handler at its reset priority 0
 *   mode 7: remap right, jump from the PendSV handler at priority 0xF0 (the lowest)
 */
	.syntax unified
	.thumb
	.section .vectors, "a"
	.word	0x20018000
	.word	reset + 1
	.rept	12			/* NMI .. SVCall, DebugMonitor, reserved: unused */
	.word	0
	.endr
	.word	pendsv + 1		/* exception 14 */

	.text
	.thumb_func
	.global	reset
reset:
	ldr	r4, =0x20010000
	ldr	r5, [r4, #4]
	adds	r5, r5, #1
	str	r5, [r4, #4]
	cmp	r5, #2
	bge	test_done
	ldr	r0, [r4]
	cmp	r0, #1
	beq	remap_with_clock
	cmp	r0, #2
	beq	remap
	cmp	r0, #3
	beq	remap_masked
	cmp	r0, #4
	beq	remap_basepri_50
	cmp	r0, #5
	beq	remap_basepri_70
	cmp	r0, #6
	beq	from_pendsv
	cmp	r0, #7
	beq	from_lowest_pendsv
	b	jump

from_lowest_pendsv:
	ldr	r1, =0xE000ED20		/* SHPR3: PendSV's priority in bits 23:16 */
	ldr	r2, =0x00F00000
	str	r2, [r1]
from_pendsv:
	ldr	r1, =0xE000ED04		/* ICSR */
	ldr	r2, =0x10000000		/* PENDSVSET: taken at once */
	str	r2, [r1]
	dsb
	isb
1:	b	1b

remap_basepri_50:
	movs	r2, #0x50
	msr	basepri, r2
	b	remap_with_clock

remap_basepri_70:
	movs	r2, #0x70
	msr	basepri, r2
	b	remap_with_clock

	.thumb_func
pendsv:				/* the jump, made from the handler */
	b	remap_with_clock

remap_masked:
	cpsid	i			/* left disabled: the ROM's USB DFU cannot work */

remap_with_clock:
	ldr	r1, =0x40021060		/* RCC_APB2ENR */
	ldr	r2, [r1]
	orr	r2, r2, #1		/* SYSCFGEN */
	str	r2, [r1]
	ldr	r2, [r1]		/* read back: the clock is on */
remap:
	ldr	r1, =0x40010000		/* SYSCFG_MEMRMP */
	movs	r2, #1			/* MEM_MODE = system memory */
	str	r2, [r1]
	dsb
	isb
jump:
	ldr	r0, =0x1FFF0000
	ldr	r1, [r0]
	msr	msp, r1
	ldr	r0, [r0, #4]
	bx	r0

	.thumb_func
	.global	test_done
test_done:
	nop
	b	test_done
	.ltorg
