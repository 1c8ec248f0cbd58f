/*
 * test_boardstate.c - the words `info` and `update` use for why a board is
 * in the ROM (the stub's and the library's record) and for readout
 * protection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "boardstate.h"
#include "sysboot/image.h"
#include "sysboot/romentry.h"

static void reasons_in_words(void **state)
{
	char buf[160];

	(void)state;
	board_rom_entry_str(SYSBOOT_ROM_WHY_REQUEST, buf, sizeof(buf));
	assert_string_equal(buf, "the application asked for it (sysboot_request_rom, then a reset)");
	board_rom_entry_str(SYSBOOT_ROM_WHY_BUTTON, buf, sizeof(buf));
	assert_string_equal(buf, "the boot stub found B1 held at reset");
	board_rom_entry_str(SYSBOOT_ROM_WHY_NMI, buf, sizeof(buf));
	assert_string_equal(buf, "the boot stub took an NMI that was not a flash ECC error");
	board_rom_entry_str(SYSBOOT_ROM_WHY_IMAGE(SYSBOOT_IMAGE_BAD_CRC), buf, sizeof(buf));
	assert_string_equal(buf, "the boot stub refused the application image: image body CRC "
			    "mismatch (incomplete or corrupted update)");
	board_rom_entry_str(SYSBOOT_ROM_WHY_IMAGE(SYSBOOT_IMAGE_ECC_ERROR), buf, sizeof(buf));
	assert_non_null(strstr(buf, "uncorrectable flash ECC error while reading the image"));
	board_rom_entry_str(0x42, buf, sizeof(buf));
	assert_string_equal(buf, "an unknown reason 0x42");
}

static void readout_protection_in_words(void **state)
{
	(void)state;
	assert_non_null(strstr(board_rdp1_text, "the chip is readout-protected (RDP level 1): "));
	assert_non_null(strstr(board_rdp1_text, board_rdp1_detail));
	assert_non_null(strstr(board_rdp1_detail, "answers only Get, Get Version and Get ID"));
	assert_non_null(strstr(board_rdp1_detail, "mass-erases the whole flash, the boot stub included"));
	assert_non_null(strstr(board_rdp1_detail, "sysboot unprotect --readout --yes-erase-everything"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reasons_in_words),
		cmocka_unit_test(readout_protection_in_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
