/*
 * fuzz.h - what every libFuzzer harness here shares.
 *
 * Each harness gets arbitrary bytes and must return without a crash, a
 * hang, a leak or a sanitizer report; where a property can be checked
 * cheaply (a decoded header encodes back to the same bytes, an accepted
 * firmware file has sorted, non-overlapping segments) a violation aborts,
 * which libFuzzer reports like a crash.
 */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the code promises does not hold: report it and abort. */
#define FUZZ_CHECK(cond)                                                        \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, \
				__LINE__, #cond);                               \
			abort();                                                \
		}                                                               \
	} while (0)

#endif
