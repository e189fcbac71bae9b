/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_gosym.c - a Go function table (pclntab) from untrusted bytes: read by gosym_parse,
 * then every function's name looked up by gosym_find. Input: the table's bytes. A stripped
 * binary's table is whatever the file says, so no byte of it is trusted. */
#include "fuzz.h"
#include "gosym.h"

static const char *const names[] = {"crypto/tls.(*Conn).Write", "crypto/tls.(*Conn).Read",
				    "main.main", ""};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1); /* its own allocation: overreads are caught */
	struct gosym_table t;
	uint64_t entry, end;
	size_t i;

	memcpy(copy, data, size);
	if (gosym_parse(&t, copy, size, 0x401000) == 0) {
		FUZZ_CHECK(t.nfunc > 0);
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (gosym_find(&t, names[i], &entry, &end) == 0)
				FUZZ_CHECK(end > entry);
	}
	free(copy);
	return 0;
}
