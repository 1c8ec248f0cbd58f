/* fuzz_ihex.c - the Intel HEX reader (host/src/ihex.c). */
#include "fuzz_readers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);

	FUZZ_READER(ihex_read(&s, text, size, "input", &e));
	free(text);
	return 0;
}
