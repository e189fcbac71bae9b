/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_json.c - the escaping of captured bytes: a JSON string (output_json_string) is one
 * valid JSON string in valid UTF-8; the text escape (output_escape) leaves no byte that can
 * drive a terminal; base64 (output_base64) decodes back to the input. */
#include <openssl/evp.h>

#include "fuzz.h"
#include "output.h"

/* Length of the well-formed UTF-8 sequence at p (1..4), 0 if it is not one. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len = p[0] < 0x80		   ? 1
		     : p[0] >= 0xc2 && p[0] < 0xe0 ? 2
		     : p[0] >= 0xe0 && p[0] < 0xf0 ? 3
		     : p[0] >= 0xf0 && p[0] < 0xf5 ? 4
						   : 0;
	size_t i;

	if (!len || len > n)
		return 0;
	for (i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
		return 0; /* overlong, a surrogate, beyond U+10FFFF */
	return len;
}

static void check_json_string(const unsigned char *s, size_t n)
{
	size_t i = 1, k;

	FUZZ_CHECK(n >= 2 && s[0] == '"' && s[n - 1] == '"');
	while (i < n - 1) {
		if (s[i] == '\\') {
			FUZZ_CHECK(i + 1 < n - 1 && strchr("\"\\/bfnrtu", s[i + 1]));
			if (s[i + 1] == 'u') {
				for (k = 2; k < 6; k++)
					FUZZ_CHECK(i + k < n - 1 &&
						   strchr("0123456789abcdefABCDEF", s[i + k]));
				i += 6;
			} else {
				i += 2;
			}
			continue;
		}
		FUZZ_CHECK(s[i] >= 0x20 && s[i] != '"');
		k = utf8_len(s + i, n - 1 - i);
		FUZZ_CHECK(k);
		i += k;
	}
}

static void check_text_escape(const unsigned char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if (s[i] == '\\') { /* "\\\\" or "\xHH" */
			FUZZ_CHECK(i + 1 < n && (s[i + 1] == '\\' || s[i + 1] == 'x'));
			i += s[i + 1] == '\\' ? 2 : 4;
			FUZZ_CHECK(i <= n);
			continue;
		}
		if (s[i] == '\r') {
			FUZZ_CHECK(i + 1 < n && s[i + 1] == '\n');
			i++;
			continue;
		}
		FUZZ_CHECK(s[i] == '\n' || s[i] == '\t' || (s[i] >= 0x20 && s[i] != 0x7f));
		k = utf8_len(s + i, n - i);
		FUZZ_CHECK(k);
		/* C1 controls (U+0080..U+009F) drive some terminals: never passed. */
		FUZZ_CHECK(!(k == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0));
		i += k;
	}
}

static void json_string(FILE *f, const unsigned char *data, size_t len)
{
	output_json_string(f, (const char *)data, len);
}

/* What `write` makes of data, malloc'ed (its length in *len). */
static unsigned char *render(void (*write)(FILE *, const unsigned char *, size_t),
			     const uint8_t *data, size_t size, size_t *len)
{
	char *out = NULL;
	FILE *f = open_memstream(&out, len);

	FUZZ_CHECK(f);
	write(f, data, size);
	FUZZ_CHECK(fclose(f) == 0);
	return (unsigned char *)out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *out, *decoded;
	size_t len;

	out = render(json_string, data, size, &len);
	check_json_string(out, len);
	free(out);

	out = render(output_escape, data, size, &len);
	check_text_escape(out, len);
	free(out);

	out = render(output_base64, data, size, &len);
	FUZZ_CHECK(len == (size + 2) / 3 * 4);
	decoded = malloc(len / 4 * 3 + 1);
	FUZZ_CHECK(decoded);
	FUZZ_CHECK(EVP_DecodeBlock(decoded, out, (int)len) == (int)(len / 4 * 3));
	FUZZ_CHECK(memcmp(decoded, data, size) == 0);
	free(decoded);
	free(out);
	return 0;
}
