/*
 * test_limit.c - the physical limit sysboot-bench measures updates against
 * (bench/limit.c): wire, erase and programming time worked out by hand.
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
};

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
	flash_limit(&ds, STM32_FLASH_BANK2_BASE, STM32_FLASH_BANK_SIZE - STM32_FLASH_PAGE_SIZE, &l);
	assert_int_equal(l.pages, 255);
	assert_int_equal(l.banks_mass_erased, 0);
	assert_float_equal(l.erase_s, 255 * 0.022, EPS);
	/* One byte past a page boundary touches the next page; 9 bytes are 2 double words. */
	flash_limit(&ds, 0x08004000u + STM32_FLASH_PAGE_SIZE - 1, 9, &l);
	assert_int_equal(l.pages, 2);
	assert_float_equal(l.program_s, 2 * 82e-6, EPS);
}

static void a_slow_bank_erase_is_not_used(void **state)
{
	struct sim_timing slow = ds;
	struct update_limit l;

	(void)state;
	slow.flash_bank_erase = SIM_S(10);    /* dearer than 256 pages */
	flash_limit(&slow, STM32_FLASH_BANK2_BASE, STM32_FLASH_BANK_SIZE, &l);
	assert_int_equal(l.banks_mass_erased, 0);
	assert_float_equal(l.erase_s, 256 * 0.022, EPS);
}

static void whole_flash_is_one_mass_erase(void **state)
{
	struct update_limit l;

	(void)state;
	flash_limit(&ds, STM32_FLASH_BASE, STM32_FLASH_SIZE, &l);
	assert_int_equal(l.pages, 512);
	assert_int_equal(l.banks_mass_erased, 2);
	assert_float_equal(l.erase_s, 0.022, EPS);    /* MER1 and MER2 at once */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(image_of_64_kb_behind_the_stub),
		cmocka_unit_test(whole_bank_2_is_one_bank_erase),
		cmocka_unit_test(part_of_a_bank_is_erased_by_pages),
		cmocka_unit_test(a_slow_bank_erase_is_not_used),
		cmocka_unit_test(whole_flash_is_one_mass_erase),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
