/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_http.c - HTTP decoding (http_data, http_close) of up to four connections at once,
 * with redaction on (redact_bytes on each call's bytes as the tracer does, HPACK values
 * masked in place). Built twice:
 *   fuzz_http1: the input is calls: a control byte (bit 0 sent, 2 a gap before it, 3 the
 *     connection closes after it, bits 4-5 the connection, 6 it goes on the call before),
 *     a length, bytes.
 *   fuzz_http2 (FUZZ_HTTP2): the input is HTTP/2 frames, their headers made here so the
 *     fuzzer reaches HPACK: a control byte (as above; bit 1: the frame split in two calls
 *     at the next byte), type, flags, stream, a payload length, the payload. Each
 *     connection's sent side starts with the client preface.
 * Every message given is checked for well-formed strings.
 */
#include "fuzz.h"
#include "http.h"
#include "redact.h"

#define CONNS 4

static uint64_t msgs;

static void on_msg(void *ctx, const struct http_msg *m)
{
	int i;

	(void)ctx;
	FUZZ_CHECK(m->version && m->headers);
	FUZZ_CHECK(!m->method || strlen(m->method) < HTTP_MAX_HEAD);
	FUZZ_CHECK(!m->path || strlen(m->path) < HTTP_MAX_HEAD);
	FUZZ_CHECK(!m->authority || strlen(m->authority) < HTTP_MAX_HEAD);
	FUZZ_CHECK(m->headers->n >= 0 && m->headers->n <= m->headers->cap);
	for (i = 0; i < m->headers->n; i++)
		FUZZ_CHECK(m->headers->v[i].name && m->headers->v[i].value &&
			   strlen(m->headers->v[i].name) + strlen(m->headers->v[i].value) <=
				   HTTP_MAX_HEAD);
	FUZZ_CHECK(m->request || (m->status >= 0 && m->status <= 999));
	msgs++;
}

static void on_error(void *ctx, uint64_t key, const char *why)
{
	(void)ctx;
	FUZZ_CHECK(key < CONNS && why && why[0]);
}

static struct redact redact;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const patterns[] = {"token=([^&]*)"};
	static bool ready;
	struct fuzz_in in = {data, size};
	struct http h = {.on_msg = on_msg, .on_error = on_error, .redact = &redact};
	struct redact_stream rs[CONNS][2] = {{{0}}};
	bool started[CONNS] = {false};
	uint64_t t = 1000;
	char err[128];

	if (!ready) {
		FUZZ_CHECK(redact_init(&redact, patterns, 1, err, sizeof(err)) == 0);
		ready = true;
	}
	while (in.n) {
		uint8_t ctl = fuzz_u8(&in), key = (ctl >> 4) & 3;
		bool sent = ctl & 1;
		uint64_t gap = ctl & 4 ? fuzz_u8(&in) : 0;
		size_t len, cut;
		char *buf;
#ifdef FUZZ_HTTP2
		static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
		size_t pre = sent && !started[key] ? sizeof(preface) - 1 : 0;
		uint8_t type = fuzz_u8(&in), flags = fuzz_u8(&in), stream = fuzz_u8(&in);
		uint8_t split = ctl & 2 ? fuzz_u8(&in) : 0;
		char *payload = fuzz_bytes(&in, fuzz_u8(&in), &len);

		buf = malloc(pre + 9 + len + 1); /* and a NUL, as redact_bytes wants */
		FUZZ_CHECK(buf);
		buf[pre + 9 + len] = '\0';
		memcpy(buf, preface, pre);
		buf[pre + 0] = 0;
		buf[pre + 1] = 0;
		buf[pre + 2] = (char)len;
		buf[pre + 3] = (char)type;
		buf[pre + 4] = (char)flags;
		memset(buf + pre + 5, 0, 3);
		buf[pre + 8] = (char)(stream & 0x7f);
		memcpy(buf + pre + 9, payload, len);
		free(payload);
		len += pre + 9;
		cut = split && split < len ? split : len;
#else
		buf = fuzz_bytes(&in, fuzz_u8(&in), &len);
		cut = len;
#endif
		started[key] = started[key] || sent;
		/* The tracer redacts a call's bytes before they are decoded. */
		redact_bytes(&redact, &rs[key][sent], (uint8_t *)buf, len);
		http_data(&h, key, sent, (uint8_t *)buf, cut, gap, !(ctl & 0x40), t++);
		if (cut < len)
			http_data(&h, key, sent, (uint8_t *)buf + cut, len - cut, 0, false, t++);
		free(buf);
		if (ctl & 8)
			http_close(&h, key, t++);
	}
	http_free(&h);
	return 0;
}
