/*
 * fuzz_rom_usart.c - the emulated ROM's AN3155 command parser
 * (sim/rom/rom_usart.c) fed arbitrary bytes from a host, against the
 * in-memory chip (tests/rom/memtarget.c). Whatever arrives, it answers
 * only ACK, NACK or the data of a command it acknowledged, and never
 * touches the chip beyond what a command asked.
 */
#include <string.h>

#include "fuzz.h"
#include "memtarget.h"

static struct memtarget t;
static struct rom_usart rom;
static size_t sent;

static void count_tx(struct memtarget *mt, const uint8_t *buf, uint32_t len)
{
	(void)mt;
	(void)buf;
	sent += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct rom_usart_config cfg = {
		.product_id = STM32_DEV_ID,
		.protocol_version = AN3155_L476_PROTOCOL_VERSION,
		.ram_reserved = 12u * 1024u,
	};
	size_t i;

	t.tx_fn = count_tx;
	memtarget_reset(&t);
	sent = 0;
	rom_usart_init(&rom, &cfg, &memtarget_ops, &t);
	for (i = 0; i < size; i++)
		rom_usart_rx(&rom, data[i]);
	/* At most one 256-byte read per command byte pair, plus the ACKs. */
	FUZZ_CHECK(sent <= 2 + size * 258u);
	FUZZ_CHECK(rom_usart_nacks(&rom) <= size);
	FUZZ_CHECK(t.erased_count <= size * 256u && t.go_calls <= (int)size);
	return 0;
}
