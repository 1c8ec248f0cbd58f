/*
 * fuzz_dfu.c - the DfuSe file reader (host/src/dfu.c, UM0391). Each input
 * is read as it is, and again with its suffix CRC made right, so that the
 * fuzzer gets past the CRC into the prefix, targets and elements.
 */
#include "fuzz_readers.h"
#include "sysboot/byteorder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dfu_info info;
	uint8_t *fixed;
	uint32_t crc;

	FUZZ_READER(dfu_read(&s, data, size, "input", &info, &e));
	if (size < 16)
		return 0;
	fixed = (uint8_t *)fuzz_text(data, size);
	crc = dfu_suffix_crc(fixed, size - 4);
	put_le32(fixed + size - 4, crc);
	FUZZ_READER(dfu_read(&s, fixed, size, "input", &info, &e));
	free(fixed);
	return 0;
}
