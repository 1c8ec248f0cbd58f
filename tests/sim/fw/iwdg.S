/*
 * iwdg.S - the independent watchdog, started by firmware (RM0351 32.3.2).
 *
 * SRAM word 0x20010000 selects the mode, 0x20010004 counts boots and
 * 0x20010008 keeps RCC_CSR of the latest boot; the second boot ends in
 * test_done.
 *   mode 0: start the watchdog (about 12.5 ms) and never refresh it
 *   mode 1: start it, then enter the ROM bootloader properly (remap with
 *           the SYSCFG clock on), which must keep it refreshed (AN2606)
 */
	.syntax unified
	.thumb
	.section .vectors, "a"
	.word	0x20018000
	.word	reset + 1

	.text
	.thumb_func
	.global	reset
reset:
	ldr	r4, =0x20010000
	ldr	r0, =0x40021094		/* RCC_CSR */
	ldr	r1, [r0]
	str	r1, [r4, #8]
	ldr	r5, [r4, #4]
	adds	r5, r5, #1
	str	r5, [r4, #4]
	cmp	r5, #2
	bge	test_done

	ldr	r0, =0x40003000		/* IWDG */
	ldr	r1, =0xCCCC		/* start */
	str	r1, [r0]
	ldr	r1, =0x5555		/* unlock PR and RLR */
	str	r1, [r0]
	movs	r1, #0			/* prescaler /4 */
	str	r1, [r0, #4]
	movs	r1, #100		/* (100 + 1) * 4 / 32 kHz = 12.6 ms */
	str	r1, [r0, #8]
	ldr	r1, =0xAAAA		/* reload */
	str	r1, [r0]

	ldr	r0, [r4]
	cmp	r0, #1
	beq	enter_rom
spin:
	b	spin

enter_rom:
	ldr	r1, =0x40021060		/* RCC_APB2ENR: SYSCFGEN */
	ldr	r2, [r1]
	orr	r2, r2, #1
	str	r2, [r1]
	ldr	r2, [r1]
	ldr	r1, =0x40010000		/* SYSCFG_MEMRMP = system memory */
	movs	r2, #1
	str	r2, [r1]
	dsb
	isb
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
