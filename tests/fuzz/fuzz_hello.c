/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_hello.c - hello_parse on any bytes, as BPF may send them (a record's first bytes, cut
 * anywhere): a hello read gives its side, NUL-terminated names of printable ASCII (the ALPN
 * list's commas between), and hello_describe a terminated line.
 */
#include "fuzz.h"
#include "hello.h"

static void check_name(const char *s, size_t size, bool commas)
{
	size_t i, n = strnlen(s, size);

	FUZZ_CHECK(n < size);
	for (i = 0; i < n; i++)
		FUZZ_CHECK((s[i] > 0x20 && s[i] < 0x7f) || (commas && s[i] == ','));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char said[HELLO_SNI_LEN + HELLO_ALPN_LEN + 64];
	struct hello h;

	if (hello_parse(data, size, &h) != 0)
		return 0;
	FUZZ_CHECK(h.side == HELLO_CLIENT || h.side == HELLO_SERVER);
	check_name(h.sni, sizeof(h.sni), false);
	check_name(h.alpn, sizeof(h.alpn), true);
	FUZZ_CHECK(h.side == HELLO_CLIENT || (!h.sni[0] && !h.ech));
	hello_describe(&h, said, sizeof(said));
	FUZZ_CHECK(strnlen(said, sizeof(said)) < sizeof(said));
	return 0;
}
