/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz.h - what the libFuzzer targets share: the entry point, a failed check, input bytes */
#ifndef TRACER_FUZZ_H
#define TRACER_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the code under test broke: libFuzzer keeps the input as a crash. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__,      \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The input read front to back; reads past its end give zeros. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	return (uint16_t)(fuzz_u8(in) | fuzz_u8(in) << 8);
}

/* Up to `max` bytes from the input, as a NUL-terminated malloc'ed copy (*len: its length). */
static inline char *fuzz_bytes(struct fuzz_in *in, size_t max, size_t *len)
{
	size_t n = max < in->n ? max : in->n;
	char *s = malloc(n + 1);

	FUZZ_CHECK(s);
	memcpy(s, in->p, n);
	s[n] = '\0';
	in->p += n;
	in->n -= n;
	*len = n;
	return s;
}
#endif
