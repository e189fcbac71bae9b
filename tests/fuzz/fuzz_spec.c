/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_spec.c - probe spec lines (spec_parse_line): any text gives an entry, nothing, or a
 * reason; an entry's fields are non-empty C strings within their arrays. */
#include "fuzz.h"
#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct probe_spec s;
	char err[256] = "", *line;
	size_t len;
	int r;

	line = fuzz_bytes(&in, size, &len);
	memset(&s, 0x5a, sizeof(s));
	r = spec_parse_line(line, &s, err, sizeof(err));
	FUZZ_CHECK(r >= -1 && r <= 1);
	if (r == 1) {
		FUZZ_CHECK(memchr(s.library, 0, sizeof(s.library)) && s.library[0]);
		FUZZ_CHECK(memchr(s.symbol, 0, sizeof(s.symbol)) && s.symbol[0]);
		FUZZ_CHECK(memchr(s.bpf_fn, 0, sizeof(s.bpf_fn)) && s.bpf_fn[0]);
		FUZZ_CHECK(s.kind == PROBE_ENTRY || s.kind == PROBE_RETURN ||
			   s.kind == PROBE_RETURNS || s.kind == PROBE_SITES);
		/* Go code takes no uretprobe (Go moves stacks); only Go takes 'returns' and
		 * 'sites'; a fallback is a Go entry or returns, and required */
		FUZZ_CHECK((strcmp(s.library, SPEC_GO) == 0) ==
				   (s.kind == PROBE_RETURNS || s.kind == PROBE_SITES) ||
			   s.kind == PROBE_ENTRY);
		FUZZ_CHECK(!s.fallback || (strcmp(s.library, SPEC_GO) == 0 && s.required &&
					   (s.kind == PROBE_ENTRY || s.kind == PROBE_RETURNS)));
	}
	if (r == -1)
		FUZZ_CHECK(memchr(err, 0, sizeof(err)) && err[0]);
	free(line);
	return 0;
}
