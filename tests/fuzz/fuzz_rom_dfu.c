/*
 * fuzz_rom_dfu.c - the emulated ROM's DfuSe engine (sim/rom/rom_dfu.c)
 * driven by arbitrary DFU class requests, against the in-memory chip
 * (tests/rom/memtarget.c).
 *
 * The input is a list of requests: one byte (bits 0-2 the bRequest
 * DFU_DETACH..DFU_ABORT, 7 for a SET_INTERFACE and 8 for a USB reset
 * in bits 0-3, bit 7 set for device-to-host), wValue and wLength little
 * endian, then for a host-to-device request its wLength data bytes. An
 * acknowledged request completes as on the bus (rom_dfu_complete).
 */
#include <string.h>

#include "fuzz.h"
#include "memtarget.h"

static struct memtarget t;
static struct rom_dfu dfu;
static uint8_t buf[ROM_DFU_MAX_TRANSFER + 64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct rom_dfu_config cfg = {
		.transfer_size = 2048, .default_pointer = STM32_FLASH_BASE,
		.regions = memtarget_dfu_regions, .nregions = memtarget_dfu_nregions,
		.flash_page_size = STM32_FLASH_PAGE_SIZE, .write_padding_limit = 256,
		.tail = (enum rom_dfu_tail_policy)(size % 3),
		.dword_program_ns = 82000, .page_erase_ns = 22000000, .mass_erase_ns = 22000000,
	};
	size_t pos = 0;

	memtarget_reset(&t);
	rom_dfu_init(&dfu, &cfg, &memtarget_dfu_ops, &t);
	while (pos + 5 <= size) {
		uint8_t kind = data[pos];
		uint16_t value = (uint16_t)(data[pos + 1] | data[pos + 2] << 8);
		uint16_t length = (uint16_t)(data[pos + 3] | data[pos + 4] << 8);
		bool in = kind & 0x80;
		uint16_t got = 0;

		pos += 5;
		if ((kind & 0x0F) == 7) {
			rom_dfu_set_alt(&dfu, (uint8_t)value);
			continue;
		}
		if ((kind & 0x0F) >= 8) {
			rom_dfu_reset(&dfu);
			continue;
		}
		if (length > sizeof(buf))
			length = sizeof(buf);
		memset(buf, 0, sizeof(buf));
		if (!in) {
			size_t n = size - pos < length ? size - pos : length;

			memcpy(buf, data + pos, n);
			pos += n;
			length = (uint16_t)n;
		}
		if (rom_dfu_request(&dfu, kind & 0x07, value, length, in, buf, &got) == ROM_DFU_ACK)
			rom_dfu_complete(&dfu);
		FUZZ_CHECK(got <= length);
		FUZZ_CHECK(dfu_state_name(dfu.state)[0] && dfu_status_name(dfu.status)[0]);
	}
	return 0;
}
