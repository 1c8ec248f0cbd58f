/*
 * test_rom_usart.c - the AN3155 engine of the ROM bootloader model, byte for
 * byte, against an in-memory STM32L476.
 *
 * The emulator trusts this engine to answer exactly what the real ROM
 * answers; host tools are tested against the emulator. So each test feeds
 * the bytes a host sends and asserts every byte the engine sends back, and
 * each NACK case also checks the reason kept for traces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "memtarget.h"
#include "rom/rom_usart.h"
#include "sysboot/stm32l476.h"

#define ACK  AN3155_ACK
#define NACK AN3155_NACK

/* ---- Test double: flash with double-word programming, SRAM, RDP ----------- */

static struct memtarget t;
static struct rom_usart rom;

/* ---- Helpers --------------------------------------------------------------- */

static void feed(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		rom_usart_rx(&rom, b[i]);
}

/* Assert the bytes sent since the last check, then forget them. */
static void expect(const uint8_t *b, size_t n)
{
	assert_false(t.tx_overflow);
	if (t.txlen != n || (n && memcmp(t.tx, b, n))) {
		size_t i;

		fprintf(stderr, "sent %zu bytes:", t.txlen);
		for (i = 0; i < t.txlen; i++)
			fprintf(stderr, " %02x", t.tx[i]);
		fprintf(stderr, "\nexpected %zu:", n);
		for (i = 0; i < n; i++)
			fprintf(stderr, " %02x", b[i]);
		fprintf(stderr, "\n");
		fail();
	}
	t.txlen = 0;
}

#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ })
#define FEED(...)   feed(BYTES(__VA_ARGS__), sizeof(BYTES(__VA_ARGS__)))
#define EXPECT(...) expect(BYTES(__VA_ARGS__), sizeof(BYTES(__VA_ARGS__)))
#define EXPECT_NOTHING() expect(NULL, 0)

static void start(const struct rom_usart_config *extra)
{
	struct rom_usart_config cfg = {
		.product_id = STM32_DEV_ID,
		.protocol_version = AN3155_L476_PROTOCOL_VERSION,
		.ram_reserved = 12u * 1024u,
	};

	if (extra) {
		cfg.misaligned = extra->misaligned;
		cfg.flash_tail = extra->flash_tail;
	}
	memtarget_reset(&t);
	rom_usart_init(&rom, &cfg, &memtarget_ops, &t);
	FEED(AN3155_SYNC);
	EXPECT(ACK);
}

static int setup(void **state)
{
	(void)state;
	start(NULL);
	return 0;
}

static void expect_nack(const char *why)
{
	assert_string_equal(rom_usart_last_nack(&rom), why);
}

/* Send an address with its XOR (AN3155: 4 bytes MSB first). */
static void feed_addr(uint32_t a)
{
	uint8_t b[AN3155_ADDRESS_FRAME];

	an3155_address_frame(a, b);
	feed(b, sizeof(b));
}

/* Write Memory's data phase: N-1, the data, their XOR. */
static void feed_data(const uint8_t *d, uint32_t n, uint8_t cks_flip)
{
	uint8_t x = (uint8_t)(n - 1);
	uint32_t i;

	rom_usart_rx(&rom, (uint8_t)(n - 1));
	for (i = 0; i < n; i++) {
		rom_usart_rx(&rom, d[i]);
		x ^= d[i];
	}
	rom_usart_rx(&rom, x ^ cks_flip);
}

/* ---- Synchronisation -------------------------------------------------------- */

static void test_sync(void **state)
{
	(void)state;
	rom_usart_reset(&rom);
	assert_false(rom_usart_synced(&rom));
	FEED(0x00, 0x55, 0xFF, 0x79);
	EXPECT_NOTHING();
	FEED(AN3155_SYNC);
	EXPECT(ACK);
	assert_true(rom_usart_synced(&rom));
	/* A command follows at once. */
	FEED(0x01, 0xFE);
	EXPECT(ACK, 0x31, 0x00, 0x00, ACK);
}

static void test_sync_byte_after_sync_is_a_command(void **state)
{
	(void)state;
	FEED(0x7F, 0x80);
	EXPECT(NACK);
	expect_nack("unknown command 0x7f");
	FEED(0x7F, 0x7F);
	EXPECT(NACK);
	expect_nack("command 0x7f followed by 0x7f, not its complement 0x80");
	FEED(0x02, 0xFD);
	EXPECT(ACK, 0x01, 0x04, 0x15, ACK);
}

/* ---- Commands ------------------------------------------------------------- */

static void test_get(void **state)
{
	(void)state;
	FEED(0x00, 0xFF);
	EXPECT(ACK, 11, 0x31, 0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x44, 0x63, 0x73, 0x82, 0x92, ACK);
	assert_int_equal(rom_usart_commands(&rom), 1);
	assert_int_equal(rom_usart_nacks(&rom), 0);
	expect_nack("");
}

static void test_get_version(void **state)
{
	(void)state;
	FEED(0x01, 0xFE);
	EXPECT(ACK, 0x31, 0x00, 0x00, ACK);
}

static void test_get_id(void **state)
{
	(void)state;
	FEED(0x02, 0xFD);
	EXPECT(ACK, 0x01, 0x04, 0x15, ACK);
}

static void test_read_memory(void **state)
{
	(void)state;
	memcpy(&t.flash[0x100], "\x11\x22\x33\x44\x55", 5);
	FEED(0x11, 0xEE);
	EXPECT(ACK);
	FEED(0x08, 0x00, 0x01, 0x00, 0x09);
	EXPECT(ACK);
	FEED(0x03, 0xFC);
	EXPECT(ACK, 0x11, 0x22, 0x33, 0x44);
}

static void test_read_memory_256(void **state)
{
	uint8_t want[3 + 256];
	int i;

	(void)state;
	for (i = 0; i < 256; i++)
		t.sram2[i] = (uint8_t)(i * 7 + 1);
	want[0] = want[1] = want[2] = ACK;
	memcpy(&want[3], t.sram2, 256);
	FEED(0x11, 0xEE);
	feed_addr(STM32_SRAM2_BASE);
	FEED(0xFF, 0x00);
	expect(want, sizeof(want));
}

static void test_go(void **state)
{
	(void)state;
	FEED(0x21, 0xDE);
	EXPECT(ACK);
	assert_int_equal(t.go_calls, 0);
	FEED(0x08, 0x00, 0x00, 0x00, 0x08);
	EXPECT(ACK);
	assert_int_equal(t.go_calls, 1);
	assert_int_equal(t.go_addr, 0x08000000);
}

static void test_go_sram_and_sysmem(void **state)
{
	(void)state;
	FEED(0x21, 0xDE);
	feed_addr(0x20003000);
	EXPECT(ACK, ACK);
	FEED(0x21, 0xDE);
	feed_addr(0x10000000);
	EXPECT(ACK, ACK);
	FEED(0x21, 0xDE);
	feed_addr(0x1FFF0000);
	EXPECT(ACK, ACK);
	assert_int_equal(t.go_calls, 3);
	assert_int_equal(t.go_addr, 0x1FFF0000);
}

static void test_write_memory_flash(void **state)
{
	static const uint8_t d[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	(void)state;
	FEED(0x31, 0xCE);
	EXPECT(ACK);
	FEED(0x08, 0x00, 0x00, 0x00, 0x08);
	EXPECT(ACK);
	FEED(0x07, 1, 2, 3, 4, 5, 6, 7, 8, 0x07 ^ 1 ^ 2 ^ 3 ^ 4 ^ 5 ^ 6 ^ 7 ^ 8);
	EXPECT(ACK);
	assert_memory_equal(t.flash, d, 8);
	assert_int_equal(t.last_write_len, 8);
}

static void test_write_memory_sram(void **state)
{
	(void)state;
	FEED(0x31, 0xCE);
	feed_addr(0x20003001);
	feed_data(BYTES(0xAA, 0xBB, 0xCC), 3, 0);
	EXPECT(ACK, ACK, ACK);
	assert_memory_equal(&t.sram1[0x3001], BYTES(0xAA, 0xBB, 0xCC), 3);
	assert_int_equal(t.last_write_len, 3);
}

static void test_write_memory_flash_padded(void **state)
{
	(void)state;
	FEED(0x31, 0xCE);
	feed_addr(0x08000010);
	feed_data(BYTES(1, 2, 3, 4, 5), 5, 0);
	EXPECT(ACK, ACK, ACK);
	assert_int_equal(t.last_write_len, 8);
	assert_memory_equal(&t.flash[0x10], BYTES(1, 2, 3, 4, 5, 0xFF, 0xFF, 0xFF), 8);
	/* The padded double word is programmed: its tail cannot be written now. */
	FEED(0x31, 0xCE);
	feed_addr(0x08000010);
	feed_data(BYTES(1, 2, 3, 4, 5, 6, 7, 8), 8, 0);
	EXPECT(ACK, ACK, NACK);
	expect_nack("write: the target refused 8 bytes at 0x08000010");
}

static void test_write_memory_flash_tail_nack(void **state)
{
	struct rom_usart_config c = { .flash_tail = ROM_TAIL_NACK };

	(void)state;
	start(&c);
	FEED(0x31, 0xCE);
	feed_addr(0x08000010);
	feed_data(BYTES(1, 2, 3, 4, 5), 5, 0);
	EXPECT(ACK, ACK, NACK);
	expect_nack("write: 5 bytes to flash at 0x08000010, not a multiple of 8");
	assert_int_equal(t.last_write_len, 0);
}

static void test_write_memory_flash_tail_as_is(void **state)
{
	struct rom_usart_config c = { .flash_tail = ROM_TAIL_AS_IS };

	(void)state;
	start(&c);
	FEED(0x31, 0xCE);
	feed_addr(0x08000010);
	feed_data(BYTES(1, 2, 3, 4, 5), 5, 0);
	EXPECT(ACK, ACK, ACK);
	assert_int_equal(t.last_write_len, 5);
}

static void test_extended_erase_pages(void **state)
{
	(void)state;
	t.flash[5 * 2048] = 0;
	t.flash[256 * 2048 + 3] = 0;
	FEED(0x44, 0xBB);
	EXPECT(ACK);
	FEED(0x00, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00 ^ 0x01 ^ 0x00 ^ 0x05 ^ 0x01 ^ 0x00);
	EXPECT(ACK);
	assert_int_equal(t.erased_count, 2);
	assert_int_equal(t.erased[0], 5);
	assert_int_equal(t.erased[1], 256);
	assert_int_equal(t.flash[5 * 2048], 0xFF);
	assert_int_equal(t.flash[256 * 2048 + 3], 0xFF);
}

static void test_extended_erase_special(void **state)
{
	(void)state;
	FEED(0x44, 0xBB, 0xFF, 0xFF, 0x00);
	EXPECT(ACK, ACK);
	assert_int_equal(t.bank_erased, 0);
	FEED(0x44, 0xBB, 0xFF, 0xFE, 0x01);
	EXPECT(ACK, ACK);
	assert_int_equal(t.bank_erased, 1);
	FEED(0x44, 0xBB, 0xFF, 0xFD, 0x02);
	EXPECT(ACK, ACK);
	assert_int_equal(t.bank_erased, 2);
}

static void test_write_protect(void **state)
{
	(void)state;
	FEED(0x63, 0x9C);
	EXPECT(ACK);
	FEED(0x01, 0x00, 0x02, 0x01 ^ 0x00 ^ 0x02);
	EXPECT(ACK);
	assert_int_equal(t.wp_count, 2);
	assert_memory_equal(t.wp_pages, BYTES(0x00, 0x02), 2);
}

static void test_write_unprotect(void **state)
{
	(void)state;
	FEED(0x73, 0x8C);
	EXPECT(ACK, ACK);
	assert_int_equal(t.unprotects, 1);
}

static void test_readout_protect(void **state)
{
	(void)state;
	FEED(0x82, 0x7D);
	EXPECT(ACK, ACK);
	assert_int_equal(t.rdp_sets, 1);
	/* Now at level 1: a second one is refused. */
	FEED(0x82, 0x7D);
	EXPECT(NACK);
	expect_nack("readout protect: refused under readout protection level 1");
}

static void test_readout_unprotect(void **state)
{
	(void)state;
	t.rdp = 1;
	t.flash[0] = 0;
	FEED(0x92, 0x6D);
	EXPECT(ACK, ACK);
	assert_int_equal(t.rdp_clears, 1);
	assert_int_equal(t.flash[0], 0xFF);
}

/* ---- NACK cases --------------------------------------------------------- */

static void test_nack_bad_complement(void **state)
{
	(void)state;
	FEED(0x00, 0x00);
	EXPECT(NACK);
	expect_nack("command 0x00 followed by 0x00, not its complement 0xff");
	assert_int_equal(rom_usart_commands(&rom), 0);
	assert_int_equal(rom_usart_nacks(&rom), 1);
	/* The engine is waiting for a command again. */
	FEED(0x00, 0xFF);
	assert_int_equal(t.txlen, 15);
	t.txlen = 0;
}

static void test_nack_bad_address_checksum(void **state)
{
	(void)state;
	FEED(0x11, 0xEE, 0x08, 0x00, 0x00, 0x00, 0x00);
	EXPECT(ACK, NACK);
	expect_nack("read: address checksum 0x00, expected 0x08");
	FEED(0x21, 0xDE, 0x08, 0x00, 0x00, 0x00, 0x09);
	EXPECT(ACK, NACK);
	expect_nack("go: address checksum 0x09, expected 0x08");
	assert_int_equal(t.go_calls, 0);
	FEED(0x31, 0xCE, 0x20, 0x00, 0x40, 0x00, 0x00);
	EXPECT(ACK, NACK);
	expect_nack("write: address checksum 0x00, expected 0x60");
}

static void test_nack_unreadable_address(void **state)
{
	(void)state;
	FEED(0x11, 0xEE);
	feed_addr(0x30000000);
	EXPECT(ACK, NACK);
	expect_nack("read: address 0x30000000 is not mapped");
}

static void test_nack_read_past_end(void **state)
{
	(void)state;
	FEED(0x11, 0xEE);
	feed_addr(STM32_SRAM2_BASE + STM32_SRAM2_SIZE - 4);
	FEED(0x07, 0xF8);
	EXPECT(ACK, ACK, NACK);
	expect_nack("read: 8 bytes at 0x10007ffc are not all readable");
}

static void test_nack_read_bad_length_complement(void **state)
{
	(void)state;
	FEED(0x11, 0xEE);
	feed_addr(0x08000000);
	FEED(0x07, 0xF7);
	EXPECT(ACK, ACK, NACK);
	expect_nack("read: length byte 0x07 followed by 0xf7, not its complement");
}

static void test_nack_unaligned_flash_write(void **state)
{
	(void)state;
	FEED(0x31, 0xCE);
	EXPECT(ACK);
	FEED(0x08, 0x00, 0x00, 0x04, 0x0C);
	EXPECT(ACK);
	feed_data(BYTES(1, 2, 3, 4, 5, 6, 7, 8), 8, 0);
	EXPECT(NACK);
	expect_nack("write: address 0x08000004 not 8-byte aligned");
	assert_int_equal(t.last_write_len, 0);
	/* Default policy: later aligned writes work. */
	FEED(0x31, 0xCE);
	feed_addr(0x08000008);
	feed_data(BYTES(1, 2, 3, 4, 5, 6, 7, 8), 8, 0);
	EXPECT(ACK, ACK, ACK);
}

static void test_nack_unaligned_flash_write_sticky(void **state)
{
	struct rom_usart_config c = { .misaligned = ROM_MISALIGNED_NACK_STICKY };

	(void)state;
	start(&c);
	FEED(0x31, 0xCE);
	feed_addr(0x08000004);
	feed_data(BYTES(1, 2, 3, 4, 5, 6, 7, 8), 8, 0);
	EXPECT(ACK, ACK, NACK);
	FEED(0x31, 0xCE);
	feed_addr(0x08000008);
	feed_data(BYTES(1, 2, 3, 4, 5, 6, 7, 8), 8, 0);
	EXPECT(ACK, ACK, NACK);
	expect_nack("write: flash writes fail since the misaligned write to 0x08000004");
	/* SRAM is not affected, and a new session starts clean. */
	FEED(0x31, 0xCE);
	feed_addr(0x20004000);
	feed_data(BYTES(1), 1, 0);
	EXPECT(ACK, ACK, ACK);
	rom_usart_reset(&rom);
	FEED(0x7F, 0x31, 0xCE);
	feed_addr(0x08000008);
	feed_data(BYTES(1, 2, 3, 4, 5, 6, 7, 8), 8, 0);
	EXPECT(ACK, ACK, ACK, ACK);
}

static void test_unaligned_flash_write_accepted(void **state)
{
	struct rom_usart_config c = { .misaligned = ROM_MISALIGNED_ACCEPT, .flash_tail = ROM_TAIL_AS_IS };

	(void)state;
	start(&c);
	FEED(0x31, 0xCE);
	feed_addr(0x08000004);
	feed_data(BYTES(1, 2, 3, 4), 4, 0);
	EXPECT(ACK, ACK, ACK);
	assert_int_equal(t.last_write_len, 4);
}

static void test_nack_bad_data_checksum(void **state)
{
	(void)state;
	FEED(0x31, 0xCE);
	feed_addr(0x08000000);
	feed_data(BYTES(1, 2, 3, 4, 5, 6, 7, 8), 8, 0x10);
	EXPECT(ACK, ACK, NACK);
	expect_nack("write: data checksum 0x1f, expected 0x0f");
	assert_int_equal(t.flash[0], 0xFF);
}

static void test_nack_write_non_erased_flash(void **state)
{
	(void)state;
	FEED(0x31, 0xCE);
	feed_addr(0x08000100);
	feed_data(BYTES(1, 2, 3, 4, 5, 6, 7, 8), 8, 0);
	EXPECT(ACK, ACK, ACK);
	FEED(0x31, 0xCE);
	feed_addr(0x08000100);
	feed_data(BYTES(9, 10, 11, 12, 13, 14, 15, 16), 8, 0);
	EXPECT(ACK, ACK, NACK);
	expect_nack("write: the target refused 8 bytes at 0x08000100");
	assert_int_equal(t.flash[0x100], 1);
}

static void test_nack_write_reserved_ram(void **state)
{
	(void)state;
	FEED(0x31, 0xCE);
	feed_addr(0x20000100);
	EXPECT(ACK, NACK);
	expect_nack("write: 0x20000100 is in the first 12288 bytes of SRAM1, used by the ROM");
	FEED(0x31, 0xCE);
	feed_addr(0x20002FFF);
	EXPECT(ACK, NACK);
	FEED(0x31, 0xCE);
	feed_addr(0x20003000);
	EXPECT(ACK, ACK);
}

static void test_nack_write_unmapped(void **state)
{
	(void)state;
	FEED(0x31, 0xCE);
	feed_addr(0x60000000);
	EXPECT(ACK, NACK);
	expect_nack("write: address 0x60000000 is not mapped");
}

static void test_nack_page_out_of_range(void **state)
{
	(void)state;
	FEED(0x44, 0xBB, 0x00, 0x00, 0x02, 0x00, 0x02);
	EXPECT(ACK, NACK);
	expect_nack("erase: page 512 out of range (0..511)");
	assert_int_equal(t.erased_count, 0);
}

static void test_nack_bad_erase_checksum(void **state)
{
	(void)state;
	FEED(0x44, 0xBB, 0x00, 0x00, 0x00, 0x07, 0x06);
	EXPECT(ACK, NACK);
	expect_nack("erase: checksum 0x06, expected 0x07");
	FEED(0x44, 0xBB, 0xFF, 0xFF, 0xFF);
	EXPECT(ACK, NACK);
	expect_nack("erase: checksum 0xff, expected 0x00");
	assert_int_equal(t.erased_count, 0);
	assert_int_equal(t.bank_erased, -1);
}

static void test_nack_erase_reserved_code(void **state)
{
	(void)state;
	FEED(0x44, 0xBB, 0xFF, 0xF0, 0x0F);
	EXPECT(ACK, NACK);
	expect_nack("erase: special code 0xfff0 is reserved");
}

static void test_nack_erase_too_many_pages(void **state)
{
	uint32_t i;

	(void)state;
	/* 513 pages: all bytes are taken in, then refused. */
	FEED(0x44, 0xBB, 0x02, 0x00);
	for (i = 0; i < 513; i++)
		FEED(0x00, 0x00);
	FEED(0x02);
	EXPECT(ACK, NACK);
	expect_nack("erase: 513 pages in one command, at most 512");
	FEED(0x02, 0xFD);
	EXPECT(ACK, 0x01, 0x04, 0x15, ACK);
}

static void test_nack_target_refuses(void **state)
{
	(void)state;
	t.fail_ops = true;
	FEED(0x44, 0xBB, 0x00, 0x00, 0x00, 0x07, 0x07);
	EXPECT(ACK, NACK);
	expect_nack("erase: the target refused to erase 1 pages from page 7");
	FEED(0x44, 0xBB, 0xFF, 0xFE, 0x01);
	EXPECT(ACK, NACK);
	expect_nack("erase: the target refused the bank 1 erase");
	FEED(0x63, 0x9C, 0x00, 0x03, 0x03);
	EXPECT(ACK, NACK);
	expect_nack("write protect: the target refused 1 pages");
	FEED(0x73, 0x8C);
	EXPECT(ACK, NACK);
	expect_nack("write unprotect: the target refused it");
	FEED(0x82, 0x7D);
	EXPECT(ACK, NACK);
	expect_nack("readout protect: the target refused it");
	FEED(0x92, 0x6D);
	EXPECT(ACK, NACK);
	expect_nack("readout unprotect: the target refused it");
}

static void test_nack_write_protect_checksum(void **state)
{
	(void)state;
	FEED(0x63, 0x9C, 0x00, 0x03, 0x00);
	EXPECT(ACK, NACK);
	expect_nack("write protect: data checksum 0x00, expected 0x03");
	assert_int_equal(t.wp_count, 0);
}

static void test_nack_unknown_erase(void **state)
{
	(void)state;
	FEED(0x43, 0xBC);
	EXPECT(NACK);
	expect_nack("unknown command 0x43");
}

static void test_nack_unknown_get_checksum(void **state)
{
	(void)state;
	FEED(0xA1, 0x5E);
	EXPECT(NACK);
	expect_nack("unknown command 0xa1");
}

static void test_nack_go_invalid(void **state)
{
	(void)state;
	FEED(0x21, 0xDE);
	feed_addr(0x40000000);
	EXPECT(ACK, NACK);
	expect_nack("go: 0x40000000 is not in flash, SRAM or system memory");
	FEED(0x21, 0xDE);
	feed_addr(0x08100000);
	EXPECT(ACK, NACK);
	assert_int_equal(t.go_calls, 0);
}

/* ---- Readout protection level 1 ------------------------------------------ */

static void refused_under_rdp(uint8_t cmd, const char *why)
{
	t.rdp = 1;
	rom_usart_rx(&rom, cmd);
	rom_usart_rx(&rom, cmd ^ 0xFF);
	EXPECT(NACK);
	expect_nack(why);
}

static void test_rdp_read(void **state)
{
	(void)state;
	refused_under_rdp(0x11, "read: refused under readout protection level 1");
}

static void test_rdp_write(void **state)
{
	(void)state;
	refused_under_rdp(0x31, "write: refused under readout protection level 1");
}

static void test_rdp_go(void **state)
{
	(void)state;
	refused_under_rdp(0x21, "go: refused under readout protection level 1");
	assert_int_equal(t.go_calls, 0);
}

static void test_rdp_erase(void **state)
{
	(void)state;
	refused_under_rdp(0x44, "erase: refused under readout protection level 1");
	/* The bytes that would have followed are taken as commands. */
	FEED(0xFF, 0xFF);
	EXPECT(NACK);
}

static void test_rdp_write_protect(void **state)
{
	(void)state;
	refused_under_rdp(0x63, "write protect: refused under readout protection level 1");
}

static void test_rdp_write_unprotect(void **state)
{
	(void)state;
	refused_under_rdp(0x73, "write unprotect: refused under readout protection level 1");
	assert_int_equal(t.unprotects, 0);
}

static void test_rdp_readout_protect(void **state)
{
	(void)state;
	refused_under_rdp(0x82, "readout protect: refused under readout protection level 1");
	assert_int_equal(t.rdp_sets, 0);
}

static void test_rdp_allowed(void **state)
{
	(void)state;
	t.rdp = 1;
	FEED(0x00, 0xFF);
	EXPECT(ACK, 11, 0x31, 0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x44, 0x63, 0x73, 0x82, 0x92, ACK);
	FEED(0x01, 0xFE);
	EXPECT(ACK, 0x31, 0x00, 0x00, ACK);
	FEED(0x02, 0xFD);
	EXPECT(ACK, 0x01, 0x04, 0x15, ACK);
	FEED(0x92, 0x6D);
	EXPECT(ACK, ACK);
	assert_int_equal(t.rdp, 0);
}

static void test_counters(void **state)
{
	(void)state;
	FEED(0x00, 0xFF, 0x43, 0xBC, 0x01, 0x01, 0x02, 0xFD);
	t.txlen = 0;
	assert_int_equal(rom_usart_commands(&rom), 3);
	assert_int_equal(rom_usart_nacks(&rom), 2);
	/* A reset keeps the statistics. */
	rom_usart_reset(&rom);
	assert_int_equal(rom_usart_commands(&rom), 3);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_sync),
		T(test_sync_byte_after_sync_is_a_command),
		T(test_get),
		T(test_get_version),
		T(test_get_id),
		T(test_read_memory),
		T(test_read_memory_256),
		T(test_go),
		T(test_go_sram_and_sysmem),
		T(test_write_memory_flash),
		T(test_write_memory_sram),
		T(test_write_memory_flash_padded),
		T(test_write_memory_flash_tail_nack),
		T(test_write_memory_flash_tail_as_is),
		T(test_extended_erase_pages),
		T(test_extended_erase_special),
		T(test_write_protect),
		T(test_write_unprotect),
		T(test_readout_protect),
		T(test_readout_unprotect),
		T(test_nack_bad_complement),
		T(test_nack_bad_address_checksum),
		T(test_nack_unreadable_address),
		T(test_nack_read_past_end),
		T(test_nack_read_bad_length_complement),
		T(test_nack_unaligned_flash_write),
		T(test_nack_unaligned_flash_write_sticky),
		T(test_unaligned_flash_write_accepted),
		T(test_nack_bad_data_checksum),
		T(test_nack_write_non_erased_flash),
		T(test_nack_write_reserved_ram),
		T(test_nack_write_unmapped),
		T(test_nack_page_out_of_range),
		T(test_nack_bad_erase_checksum),
		T(test_nack_erase_reserved_code),
		T(test_nack_erase_too_many_pages),
		T(test_nack_target_refuses),
		T(test_nack_write_protect_checksum),
		T(test_nack_unknown_erase),
		T(test_nack_unknown_get_checksum),
		T(test_nack_go_invalid),
		T(test_rdp_read),
		T(test_rdp_write),
		T(test_rdp_go),
		T(test_rdp_erase),
		T(test_rdp_write_protect),
		T(test_rdp_write_unprotect),
		T(test_rdp_readout_protect),
		T(test_rdp_allowed),
		T(test_counters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
