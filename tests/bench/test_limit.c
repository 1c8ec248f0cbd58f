/*
 * test_limit.c - the physical limit sysboot-bench measures updates against
 * (bench/limit.c): wire or bus, erase and programming time worked out by
 * hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "limit.h"
#include "sysboot/stm32l476.h"

#define EPS 1e-9

/* DS10198 typical values, as the emulator's defaults are. */
static const struct sim_timing ds = {
	.flash_dword_program = SIM_US(82),
	.flash_page_erase = SIM_MS(22),
	.flash_bank_erase = SIM_MS(22),
	.usb_bit = SIM_S(1) / 12000000u,
};

/*
 * Full-speed control transfers by hand (USB 2.0 8.4): a transaction is a
 * token (35 bits), a data packet (35 + 8 per byte), a handshake (19) and
 * two 8-bit gaps, 105 bits besides its data. A 2 KB DNLOAD: setup (105 +
 * 64), 32 packets of 64 bytes (32 x 105 + 16384), status (105): 20018.
 * GETSTATUS: 169 + (105 + 48) + 105 = 427. DNLOAD of 5 bytes: 419.
 */
#define DNLOAD_2K_BITS   20018u
#define GETSTATUS_BITS   427u
#define ERASE_CMD_BITS   419u

static void image_of_64_kb_behind_the_stub(void **state)
{
	struct update_limit l;

	(void)state;
	usart_update_limit(&ds, 115200, 0x08002000u, 65536, &l);
	/* 65536 bytes x 11 bits / 115200 baud. */
	assert_float_equal(l.wire_s, 65536.0 * 11 / 115200, EPS);
	/* Pages 4..35, one by one. */
	assert_int_equal(l.pages, 32);
	assert_int_equal(l.banks_mass_erased, 0);
	assert_float_equal(l.erase_s, 32 * 0.022, EPS);
	/* 8192 double words at 82 us. */
	assert_float_equal(l.program_s, 8192 * 82e-6, EPS);
	assert_float_equal(l.total_s, 65536.0 * 11 / 115200 + 0.704 + 0.671744, EPS);
}

static void whole_bank_2_is_one_bank_erase(void **state)
{
	struct update_limit l;

	(void)state;
	/* 0x08002000 to the end of the flash: pages 4..255 of bank 1, all of bank 2. */
	usart_update_limit(&ds, 115200, 0x08002000u, 1040384, &l);
	assert_int_equal(l.pages, 508);
	assert_int_equal(l.banks_mass_erased, 1);
	assert_float_equal(l.erase_s, 252 * 0.022 + 0.022, EPS);
	assert_float_equal(l.program_s, 130048 * 82e-6, EPS);
	assert_float_equal(l.wire_s, 1040384.0 * 11 / 115200, EPS);
}

static void part_of_a_bank_is_erased_by_pages(void **state)
{
	struct update_limit l;

	(void)state;
	/* Bank 2 but for its last page: 255 page erases, not a bank erase. */
	flash_limit(&ds, STM32_FLASH_BANK2_BASE, STM32_FLASH_BANK_SIZE - STM32_FLASH_PAGE_SIZE, true, &l);
	assert_int_equal(l.pages, 255);
	assert_int_equal(l.banks_mass_erased, 0);
	assert_float_equal(l.erase_s, 255 * 0.022, EPS);
	/* One byte past a page boundary touches the next page; 9 bytes are 2 double words. */
	flash_limit(&ds, 0x08004000u + STM32_FLASH_PAGE_SIZE - 1, 9, true, &l);
	assert_int_equal(l.pages, 2);
	assert_float_equal(l.program_s, 2 * 82e-6, EPS);
}

static void a_slow_bank_erase_is_not_used(void **state)
{
	struct sim_timing slow = ds;
	struct update_limit l;

	(void)state;
	slow.flash_bank_erase = SIM_S(10);    /* dearer than 256 pages */
	flash_limit(&slow, STM32_FLASH_BANK2_BASE, STM32_FLASH_BANK_SIZE, true, &l);
	assert_int_equal(l.banks_mass_erased, 0);
	assert_float_equal(l.erase_s, 256 * 0.022, EPS);
}

static void whole_flash_is_one_mass_erase(void **state)
{
	struct update_limit l;

	(void)state;
	flash_limit(&ds, STM32_FLASH_BASE, STM32_FLASH_SIZE, true, &l);
	assert_int_equal(l.pages, 512);
	assert_int_equal(l.banks_mass_erased, 2);
	assert_float_equal(l.erase_s, 0.022, EPS);    /* MER1 and MER2 at once */
}

static void dfu_image_of_64_kb_behind_the_stub(void **state)
{
	struct update_limit l;
	double bit = (double)ds.usb_bit / 1e12;

	(void)state;
	dfuse_update_limit(&ds, SIM_DFU_WORK_AFTER_STATUS, 0x08002000u, 65536, &l);
	/* 32 blocks and 32 page erases, each with its two GETSTATUS. */
	assert_int_equal(l.pages, 32);
	assert_int_equal(l.transfers, 3 * 32 + 3 * 32);
	assert_float_equal(l.wire_s, (32.0 * (DNLOAD_2K_BITS + 2 * GETSTATUS_BITS) +
				      32.0 * (ERASE_CMD_BITS + 2 * GETSTATUS_BITS)) * bit, EPS);
	assert_float_equal(l.erase_s, 32 * 0.022, EPS);
	assert_float_equal(l.program_s, 8192 * 82e-6, EPS);
	/* 21 ms asked for 20.992 ms of programming; an erase's 22 ms are its work. */
	assert_float_equal(l.poll_s, 32 * 8e-6, EPS);
	assert_float_equal(l.total_s, l.wire_s + l.erase_s + l.program_s + l.poll_s, EPS);
}

/* Work in the GETSTATUS (--dfu-work in-status): every poll timeout comes after it. */
static void dfu_work_in_status_waits_every_poll(void **state)
{
	struct update_limit a, l;

	(void)state;
	dfuse_update_limit(&ds, SIM_DFU_WORK_AFTER_STATUS, 0x08002000u, 65536, &a);
	dfuse_update_limit(&ds, SIM_DFU_WORK_IN_STATUS, 0x08002000u, 65536, &l);
	assert_float_equal(l.poll_s, 32 * 0.021 + 32 * 0.022, EPS);
	assert_float_equal(l.wire_s, a.wire_s, EPS);
	assert_int_equal(l.transfers, a.transfers);
	assert_float_equal(l.total_s, l.wire_s + l.erase_s + l.program_s + l.poll_s, EPS);
	/* The flash time nearly twice: 1.376 s of it, 1.376 s of polls. */
	assert_float_equal(l.total_s - a.total_s, 32 * 0.021 + 32 * 0.022 - 32 * 8e-6, EPS);
}

static void dfu_has_no_bank_erase(void **state)
{
	struct update_limit l;

	(void)state;
	/* The same 1016 KB as over the USART, whose limit erases bank 2 at once. */
	dfuse_update_limit(&ds, SIM_DFU_WORK_AFTER_STATUS, 0x08002000u, 1040384, &l);
	assert_int_equal(l.pages, 508);
	assert_int_equal(l.banks_mass_erased, 0);
	assert_float_equal(l.erase_s, 508 * 0.022, EPS);
	assert_int_equal(l.transfers, 3 * 508 + 3 * 508);
}

static void dfu_short_last_block(void **state)
{
	struct update_limit l;
	double bit = (double)ds.usb_bit / 1e12;

	(void)state;
	/* 2048 + 8 bytes: a second DNLOAD of 8 bytes (169 + 105 + 64 + 105 = 443 bits). */
	dfuse_update_limit(&ds, SIM_DFU_WORK_AFTER_STATUS, 0x08004000u, 2056, &l);
	assert_int_equal(l.pages, 2);
	assert_int_equal(l.transfers, 3 * 2 + 3 * 2);
	assert_float_equal(l.wire_s, (DNLOAD_2K_BITS + 443.0 + 4 * GETSTATUS_BITS +
				      2 * (ERASE_CMD_BITS + 2 * GETSTATUS_BITS)) * bit, EPS);
	assert_float_equal(l.program_s, 257 * 82e-6, EPS);
	/* The 8 bytes: 82 us of work, 1 ms asked. */
	assert_float_equal(l.poll_s, 8e-6 + (1e-3 - 82e-6), EPS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(image_of_64_kb_behind_the_stub),
		cmocka_unit_test(whole_bank_2_is_one_bank_erase),
		cmocka_unit_test(part_of_a_bank_is_erased_by_pages),
		cmocka_unit_test(a_slow_bank_erase_is_not_used),
		cmocka_unit_test(whole_flash_is_one_mass_erase),
		cmocka_unit_test(dfu_image_of_64_kb_behind_the_stub),
		cmocka_unit_test(dfu_work_in_status_waits_every_poll),
		cmocka_unit_test(dfu_has_no_bank_erase),
		cmocka_unit_test(dfu_short_last_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
