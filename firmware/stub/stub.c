/*
 * stub.c - the boot stub at 0x08000000: run the application only if it is
 * whole, otherwise start the ROM bootloader.
 *
 * An update can stop at any byte (power cut, cable pulled). The host tool
 * erases the header first and writes it last (image.h), so at every reset
 * this stub can tell a complete application from a partial one and, for a
 * partial one, hand the board to the ROM bootloader, which can always take
 * the next update (AN2606). The stub is never rewritten by an update.
 *
 * It does not touch the system clock: it runs on the 4 MHz MSI the part
 * resets to (RM0351 6.2.3), and it turns off every peripheral clock it
 * turned on before the application starts. Why it entered the ROM is left
 * in RTC_BKP2R (sysboot.h: SYSBOOT_ROM_MARKER | SYSBOOT_ROM_WHY_*).
 *
 * A power cut while a double word is programmed can leave it with ECC bits
 * that no longer match; reading it then raises an NMI (RM0351 3.3.8). The
 * stub reads the whole image, so it must survive that NMI and fall back to
 * the ROM, or a cut at the wrong microsecond would brick the board.
 */
#include <stdint.h>

#include "stm32l476/mmio.h"
#include "sysboot.h"
#include "sysboot/image.h"

/* About 1 ms at the 4 MHz reset clock: lets the PC13 pull-up settle. */
#define B1_SETTLE_LOOPS 1000u

/* B1 (PC13, UM1724) pulls the pin low while pressed. */
static int button_held(void)
{
	uint32_t moder, idr;
	volatile uint32_t n;

	MMIO32(RCC_BASE + RCC_AHB2ENR) |= RCC_AHB2ENR_GPIOCEN;
	(void)MMIO32(RCC_BASE + RCC_AHB2ENR);
	moder = MMIO32(GPIOC_BASE + GPIO_MODER);
	MMIO32(GPIOC_BASE + GPIO_MODER) =
		moder & ~(3u << (2u * NUCLEO_B1_PIN)); /* input */
	for (n = 0; n < B1_SETTLE_LOOPS; n++)
		;
	idr = MMIO32(GPIOC_BASE + GPIO_IDR);
	MMIO32(GPIOC_BASE + GPIO_MODER) = moder;
	MMIO32(RCC_BASE + RCC_AHB2ENR) &= ~RCC_AHB2ENR_GPIOCEN;
	return !(idr & (1u << NUCLEO_B1_PIN));
}

/*
 * With the hardware watchdog (OPTR.IWDG_SW = 0) the IWDG runs from reset,
 * at its reset timeout of 512 ms (RM0351 32.3), and a large image takes
 * the stub longer than that to check at 4 MHz. A refresh when the watchdog
 * is not running changes nothing (only 0xCCCC starts it), so the stub
 * refreshes as it goes, whichever watchdog the board has.
 */
#define CRC_BYTES_PER_REFRESH 4096u

static void watchdog_refresh(void)
{
	MMIO32(IWDG_BASE + IWDG_KR) = IWDG_KR_REFRESH;
}

/*
 * CRC-32 of the body with the CRC unit (RM0351 14.3): default polynomial
 * 0x04C11DB7, INIT all ones, output reversed, and the input fed as 32-bit
 * words reversed by word (REV_IN = 11). A little-endian word reversed as a
 * whole puts the reflection of its first byte in the top bits, which the
 * unit takes first, so each word counts as its four bytes in memory order
 * and the result XOR 0xFFFFFFFF is the software sysboot_crc32() (crc32.h).
 * Words, two at a time, since the body is whole double words
 * (SYSBOOT_IMAGE_BAD_SIZE otherwise): a quarter of the writes of a byte
 * loop and far fewer instructions, on every boot.
 */
static uint32_t hw_crc32(const uint32_t *p, uint32_t len)
{
	const uint32_t *end = p + len / 4u, *chunk;
	uint32_t crc;

	MMIO32(RCC_BASE + RCC_AHB1ENR) |= RCC_AHB1ENR_CRCEN;
	(void)MMIO32(RCC_BASE + RCC_AHB1ENR);
	MMIO32(CRC_BASE + CRC_INIT) = 0xFFFFFFFFu;
	MMIO32(CRC_BASE + CRC_CR) = CRC_CR_REV_IN_WORD | CRC_CR_REV_OUT |
				    CRC_CR_RESET;
	while (p != end) {
		chunk = (uint32_t)(end - p) > CRC_BYTES_PER_REFRESH / 4u ?
			p + CRC_BYTES_PER_REFRESH / 4u : end;
		watchdog_refresh();
		while (p != chunk) {
			MMIO32(CRC_BASE + CRC_DR) = p[0];
			MMIO32(CRC_BASE + CRC_DR) = p[1];
			p += 2;
		}
	}
	crc = MMIO32(CRC_BASE + CRC_DR) ^ 0xFFFFFFFFu;
	MMIO32(CRC_BASE + CRC_CR) = CRC_CR_RESET;  /* back to reset settings */
	MMIO32(RCC_BASE + RCC_AHB1ENR) &= ~RCC_AHB1ENR_CRCEN;
	return crc;
}

static enum sysboot_image_status check_image(void)
{
	const uint8_t *raw = (const uint8_t *)SYSBOOT_HEADER_ADDR;
	const uint32_t *vec = (const uint32_t *)SYSBOOT_APP_BASE;
	struct sysboot_image_header hdr;
	enum sysboot_image_status st;

	st = sysboot_image_check_header(raw, &hdr);
	if (st != SYSBOOT_IMAGE_OK)
		return st;
	if (hw_crc32((const uint32_t *)SYSBOOT_APP_BASE, hdr.image_size) !=
	    hdr.image_crc32)
		return SYSBOOT_IMAGE_BAD_CRC;
	return sysboot_image_check_vectors(&hdr, vec[0], vec[1]);
}

/*
 * The only NMI the stub expects: an uncorrectable ECC error (FLASH_ECCR.ECCD)
 * while it reads the image. The image is unusable, so the board goes to the
 * ROM as for any refused image. The ROM must start in thread mode (its USB
 * DFU code runs on interrupts, AN2606, which an active NMI would block), so
 * the handler does not enter it: it rewrites the stacked return address
 * (ARMv7-M B1.5.6) to return into nmi_refuse(), with the reason in the
 * stacked R0, its argument.
 */
#define XPSR_T          (1u << 24)
#define XPSR_STKALIGN   (1u << 9)

static void __attribute__((noreturn, used)) nmi_refuse(uint32_t why)
{
	/* The NMI may have come inside hw_crc32(). */
	MMIO32(RCC_BASE + RCC_AHB1ENR) &= ~RCC_AHB1ENR_CRCEN;
	sysboot_enter_rom(why);
}

void nmi_redirect(uint32_t *frame);

void nmi_redirect(uint32_t *frame)
{
	uint32_t why = SYSBOOT_ROM_WHY_NMI;

	if (MMIO32(FLASH_R_BASE + FLASH_ECCR) & FLASH_ECCR_ECCD) {
		MMIO32(FLASH_R_BASE + FLASH_ECCR) = FLASH_ECCR_ECCD;  /* write 1 to clear */
		why = SYSBOOT_ROM_WHY_IMAGE(SYSBOOT_IMAGE_ECC_ERROR);
	}
	frame[0] = why;
	frame[6] = (uint32_t)(uintptr_t)nmi_refuse & ~1u;
	frame[7] = (frame[7] & XPSR_STKALIGN) | XPSR_T;
}

void __attribute__((naked)) NMI_Handler(void)
{
	/* The frame is on the stack the interrupted code used (EXC_RETURN bit 2). */
	__asm__ volatile("tst lr, #4\n\t"
			 "ite eq\n\t"
			 "mrseq r0, msp\n\t"
			 "mrsne r0, psp\n\t"
			 "b nmi_redirect\n\t");
}

static void __attribute__((noreturn)) start_app(void)
{
	uint32_t sp = MMIO32(SYSBOOT_APP_BASE);
	uint32_t pc = MMIO32(SYSBOOT_APP_BASE + 4u);

	MMIO32(SCB_BASE + SCB_VTOR) = SYSBOOT_APP_BASE;
	__DSB();
	__ISB();
	/*
	 * As in sysboot_enter_rom(): no stack use after MSP changes; PRIMASK
	 * clear as after a reset.
	 */
	__asm__ volatile("msr msp, %0\n\t"
			 "cpsie i\n\t"
			 "bx %1"
			 : : "r"(sp), "r"(pc) : "memory");
	__builtin_unreachable();
}

int main(void)
{
	enum sysboot_image_status st;

	/*
	 * After an AN3155 Go the ROM's SysTick or USART interrupts may still
	 * be live; this vector table has no handler for them.
	 */
	__disable_irq();
	sysboot_quiesce();
	if (button_held())
		sysboot_enter_rom(SYSBOOT_ROM_WHY_BUTTON);
	st = check_image();
	if (st != SYSBOOT_IMAGE_OK)
		sysboot_enter_rom(SYSBOOT_ROM_WHY_IMAGE(st));
	start_app();
}
