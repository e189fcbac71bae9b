/* SPDX-License-Identifier: Apache-2.0 */
/* test_redact.c - secrets masked: header lines split anywhere, bearer tokens, patterns */
#include "check.h"
#include "redact.h"

/* Masks s (split into calls at each '|') as one stream; returns the result. */
static const char *masked(const struct redact *r, const char *s)
{
	static char buf[512];
	struct redact_stream st = {0};
	size_t n = 0, start = 0, i;

	for (i = 0;; i++) {
		if (s[i] == '|' || !s[i]) {
			memcpy(buf + n, s + start, i - start);
			redact_bytes(r, &st, (uint8_t *)buf + n, i - start);
			n += i - start;
			start = i + 1;
		}
		if (!s[i])
			break;
	}
	buf[n] = '\0';
	return buf;
}

static void test_headers(void)
{
	struct redact r;
	char err[256];

	CHECK(redact_init(&r, NULL, 0, err, sizeof(err)) == 0);
	CHECK_STR(masked(&r, "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Basic dXNlcjpwdw==\r\n"
			     "Cookie: sid=42; x=1\r\n\r\nbody"),
		  "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: ******************\r\n"
		  "Cookie: ***********\r\n\r\nbody");
	/* Split inside the name, after the colon and inside the value. */
	CHECK_STR(masked(&r, "X: 1\r\nproxy-Autho|rization:| sec|ret\r\nSet-Cookie:a=b\r\n"),
		  "X: 1\r\nproxy-Authorization: ******\r\nSet-Cookie:***\r\n");
	/* Names that only start like a sensitive one, or contain it, stay. */
	CHECK_STR(masked(&r, "Cookies: a\r\nX-Cookie: b\r\nauthor: c\r\n"),
		  "Cookies: a\r\nX-Cookie: b\r\nauthor: c\r\n");
	/* Bearer tokens anywhere, in any case; the word stays. */
	CHECK_STR(masked(&r, "{\"auth\":\"BEARER abc.DEF-1\"}"), "{\"auth\":\"BEARER *********\"}");
	CHECK(redact_header_name("Set-Cookie", 10) && !redact_header_name("Set-Cookie2", 11));
	redact_free(&r);
}

static void test_patterns(void)
{
	const char *pats[] = {"token=([^& ]*)", "[0-9]{4}-[0-9]{4}"};
	const char *bad[] = {"a(b"};
	struct redact r;
	char err[256], value[64];

	CHECK(redact_init(&r, pats, 2, err, sizeof(err)) == 0);
	/* A group masks only what it matched; else the whole match; every match. */
	CHECK_STR(masked(&r, "GET /?token=s3cr3t&x=1&token=again HTTP/1.1\r\n"),
		  "GET /?token=******&x=1&token=***** HTTP/1.1\r\n");
	CHECK_STR(masked(&r, "card 1234-5678 ok"), "card ********* ok");
	/* Binary data with NULs is matched past them. */
	{
		struct redact_stream st = {0};
		uint8_t bin[] = {0, 't', 'o', 'k', 'e', 'n', '=', 'x', 0, 'y', '&'};

		redact_bytes(&r, &st, bin, sizeof(bin));
		CHECK(memcmp(bin, "\0token=***&", sizeof(bin)) == 0);
	}
	snprintf(value, sizeof(value), "secret");
	redact_value(&r, "Cookie", 6, value, 6);
	CHECK_STR(value, "******");
	snprintf(value, sizeof(value), "/a?token=zz");
	redact_value(&r, ":path", 5, value, strlen(value));
	CHECK_STR(value, "/a?token=**");
	redact_free(&r);

	CHECK(redact_init(&r, bad, 1, err, sizeof(err)) == -1);
	CHECK(strstr(err, "'a(b'") != NULL);
}

int main(void)
{
	test_headers();
	test_patterns();
	return check_done();
}
