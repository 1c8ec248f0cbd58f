/* fuzz_elf.c - the ELF reader (host/src/elf.c over common/src/elf32.c). */
#include "fuzz_readers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FUZZ_READER(elf_read(&s, data, size, "input", &e));
	return 0;
}
