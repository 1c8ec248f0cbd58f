/* fuzz_srec.c - the S-record reader (host/src/srec.c). */
#include "fuzz_readers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);

	FUZZ_READER(srec_read(&s, text, size, "input", &e));
	free(text);
	return 0;
}
