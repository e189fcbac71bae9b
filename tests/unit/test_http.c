/* SPDX-License-Identifier: Apache-2.0 */
/* test_http.c - HTTP/1.x and HTTP/2 decoding across call boundaries, pairing, gaps,
 * redaction of HPACK bytes (header blocks made by nghttp2's deflater) */
#include <nghttp2/nghttp2.h>
#include <stdlib.h>

#include "check.h"
#include "flows.h"
#include "http.h"

static char got[4096]; /* one line per message */
static char errors[256];

static void on_msg(void *ctx, const struct http_msg *m)
{
	size_t n = strlen(got);
	int i;

	(void)ctx;
	n += snprintf(got + n, sizeof(got) - n, "%s %s #%u %s %s", m->request ? "REQ" : "RESP",
		      m->version, m->stream, m->method ? m->method : "?", m->path ? m->path : "?");
	if (!m->request)
		n += snprintf(got + n, sizeof(got) - n, " %d", m->status);
	n += snprintf(got + n, sizeof(got) - n, " body=%llu%s%s%s",
		      (unsigned long long)m->body_bytes, m->incomplete ? " incomplete" : "",
		      m->reset ? " reset" : "", m->unanswered ? " unanswered" : "");
	for (i = 0; i < m->headers->n; i++)
		if (!strcmp(m->headers->v[i].name, "x-custom") ||
		    !strcmp(m->headers->v[i].name, "authorization"))
			n += snprintf(got + n, sizeof(got) - n, " %s=%s", m->headers->v[i].name,
				      m->headers->v[i].value);
	snprintf(got + n, sizeof(got) - n, "\n");
}

static void on_error(void *ctx, uint64_t key, const char *why)
{
	(void)ctx;
	snprintf(errors, sizeof(errors), "%llu: %s", (unsigned long long)key, why);
}

static struct http fresh(const struct redact *r)
{
	got[0] = errors[0] = '\0';
	return (struct http){.on_msg = on_msg, .on_error = on_error, .redact = r};
}

/* Feeds s to one direction of connection 1, a call per '|'-separated piece. */
static void feed(struct http *h, bool sent, const char *s)
{
	char buf[2048];
	size_t start = 0, i;

	for (i = 0;; i++) {
		if (s[i] == '|' || !s[i]) {
			memcpy(buf, s + start, i - start);
			http_data(h, 1, sent, (uint8_t *)buf, i - start, 0, true, 1000 * i);
			start = i + 1;
		}
		if (!s[i])
			break;
	}
}

static void test_h1(void)
{
	struct http h = fresh(NULL);

	/* A client: its request split mid-line, the response's body across calls. */
	feed(&h, true, "GET /a?b=1 HT|TP/1.1\r\nHost: x\r|\n\r\n");
	feed(&h, false, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234|56789");
	CHECK_STR(got, "REQ 1.1 #1 GET /a?b=1 body=0\nRESP 1.1 #1 GET /a?b=1 200 body=10\n");

	/* Pipelined: two requests, then a HEAD's and a POST's responses, paired in order. */
	got[0] = '\0';
	feed(&h, true, "HEAD /h HTTP/1.1\r\n\r\nPOST /p HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
	feed(&h, false,
	     "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
	     "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
	     "4\r\nwiki\r\n5;ext=1\r\n|pedia\r|\n0\r\nX-Trailer: 1\r\n\r\n");
	CHECK_STR(got, "REQ 1.1 #2 HEAD /h body=0\nREQ 1.1 #3 POST /p body=3\n"
		       "RESP 1.1 #2 HEAD /h 200 body=0\nRESP 1.1 #3 POST /p 201 body=9\n");

	/* 100 Continue is not the answer; a body without a length ends with the connection. */
	got[0] = '\0';
	feed(&h, true, "PUT /u HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok");
	feed(&h, false, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nuntil close");
	http_close(&h, 1, 5000);
	CHECK_STR(got, "REQ 1.0 #4 PUT /u body=2\nRESP 1.0 #4 PUT /u 200 body=11\n");
	http_free(&h);

	/* A server: requests come in (received), answers go out; one is never answered. */
	h = fresh(NULL);
	feed(&h, false, "GET / HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
	feed(&h, true, "HTTP/1.1 204 No Content\r\n\r\n");
	http_close(&h, 1, 5000);
	CHECK_STR(got, "REQ 1.1 #1 GET / body=0\nREQ 1.1 #2 GET /2 body=0\n"
		       "RESP 1.1 #1 GET / 204 body=0\nRESP 1.1 #2 GET /2 0 body=0 unanswered\n");
	http_free(&h);

	/* Bytes never captured in a body are counted there; in a head, decoding waits for the
	 * next call's start. */
	h = fresh(NULL);
	feed(&h, true, "GET /big HTTP/1.1\r\n\r\n");
	feed(&h, false, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
	http_data(&h, 1, false, (uint8_t *)"end", 3, 87, false, 9);
	feed(&h, true, "GET /next HTTP/1.1\r\n\r\n");
	http_data(&h, 1, false, (uint8_t *)"ader: x\r\n\r\n", 11, 20, false, 10);
	http_data(&h, 1, false, (uint8_t *)"HTTP/1.1 404 NF\r\nContent-Length: 0\r\n\r\n", 38, 0,
		  true, 11);
	CHECK_STR(got, "REQ 1.1 #1 GET /big body=0\nRESP 1.1 #1 GET /big 200 body=100 incomplete\n"
		       "REQ 1.1 #2 GET /next body=0\nRESP 1.1 #2 GET /next 404 body=0\n");
	http_free(&h);

	/* A status is three digits: without a reason phrase it is read; five digits (found
	 * by fuzz_http1) are no HTTP response. */
	h = fresh(NULL);
	feed(&h, true, "GET /s HTTP/1.1\r\n\r\n");
	feed(&h, false, "HTTP/1.1 204\r\n\r\n");
	feed(&h, true, "GET /t HTTP/1.1\r\n\r\n");
	feed(&h, false, "HTTP/1.1 20181\r\n\r\n");
	CHECK_STR(got, "REQ 1.1 #1 GET /s body=0\nRESP 1.1 #1 GET /s 204 body=0\n"
		       "REQ 1.1 #2 GET /t body=0\n");
	http_free(&h);

	/* Not HTTP: left alone, nothing reported. */
	h = fresh(NULL);
	feed(&h, true, "\x16\x03\x01 binary stuff that is not HTTP at all");
	feed(&h, false, "220 smtp.example ESMTP\r\n");
	CHECK_STR(got, "");
	CHECK_STR(errors, "");
	http_free(&h);
}

/* HTTP/2 frames, built here around header blocks from nghttp2's deflater. */
struct frames {
	uint8_t b[4096];
	size_t n;
};

static void frame(struct frames *f, uint8_t type, uint8_t flags, uint32_t stream,
		  const void *payload, size_t len)
{
	uint8_t hdr[9] = {len >> 16,	len >> 8,     len,	   type,  flags,
			  stream >> 24, stream >> 16, stream >> 8, stream};

	memcpy(f->b + f->n, hdr, 9);
	memcpy(f->b + f->n + 9, payload, len);
	f->n += 9 + len;
}

static size_t deflate(nghttp2_hd_deflater *d, uint8_t *out, const char *const *kv, int n)
{
	nghttp2_nv nv[16];
	int i;

	for (i = 0; i < n; i++)
		nv[i] = (nghttp2_nv){(uint8_t *)kv[2 * i], (uint8_t *)kv[2 * i + 1],
				     strlen(kv[2 * i]), strlen(kv[2 * i + 1]),
				     NGHTTP2_NV_FLAG_NONE};
	return (size_t)nghttp2_hd_deflate_hd(d, out, 1024, nv, (size_t)n);
}

/* The header values of a block as nghttp2 reads them, "name=value;..." */
static const char *inflate_all(nghttp2_hd_inflater *inf, const uint8_t *in, size_t len)
{
	static char out[512];
	size_t n = 0;

	out[0] = '\0';
	for (;;) {
		nghttp2_nv nv;
		int flags = 0;
		ssize_t rv = nghttp2_hd_inflate_hd2(inf, &nv, &flags, in, len, 1);

		if (rv < 0)
			return "inflate error";
		in += rv;
		len -= (size_t)rv;
		if (flags & NGHTTP2_HD_INFLATE_EMIT)
			n += snprintf(out + n, sizeof(out) - n, "%.*s=%.*s;", (int)nv.namelen,
				      nv.name, (int)nv.valuelen, nv.value);
		if (flags & NGHTTP2_HD_INFLATE_FINAL)
			break;
	}
	nghttp2_hd_inflate_end_headers(inf);
	return out;
}

static void test_h2(void)
{
	static const char *const req[] = {
		":method",   "POST",	 ":path", "/svc.Greeter/Hello", ":authority",
		"localhost", "x-custom", "v42",	  "authorization",	"Bearer topsecret-token"};
	static const char *const resp[] = {":status", "200", "content-type", "application/grpc"};
	static const char *const trailers[] = {"grpc-status", "0"};
	static const uint8_t settings[] = {0, 1, 0, 0, 0x10, 0}; /* HEADER_TABLE_SIZE 4096 */
	nghttp2_hd_deflater *cd, *sd;
	nghttp2_hd_inflater *check;
	struct frames c = {0}, s = {0};
	uint8_t block[1024], padded[1100];
	size_t n, half, hstart;
	struct redact r;
	struct http h;
	char err[64];

	CHECK(redact_init(&r, NULL, 0, err, sizeof(err)) == 0);
	h = fresh(&r);
	nghttp2_hd_deflate_new(&cd, 4096);
	nghttp2_hd_deflate_new(&sd, 4096);
	nghttp2_hd_inflate_new(&check);

	/* Client: preface, SETTINGS, a HEADERS + CONTINUATION block, DATA with END_STREAM. */
	memcpy(c.b, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	c.n = 24;
	frame(&c, 4, 0, 0, settings, sizeof(settings));
	n = deflate(cd, block, req, 5);
	half = n / 2;
	hstart = c.n + 9;
	frame(&c, 1, 0, 1, block, half);
	frame(&c, 9, 0x4, 1, block + half, n - half);
	frame(&c, 0, 0x1, 1, "\0\0\0\0\5hello", 10);
	http_data(&h, 1, true, c.b, c.n, 0, true, 100);

	/* The authorization value is masked in the bytes themselves: they still inflate,
	 * and every other header is as it was. */
	memcpy(block, c.b + hstart, half);
	memcpy(block + half, c.b + hstart + half + 9, n - half);
	CHECK_STR(inflate_all(check, block, n),
		  ":method=POST;:path=/svc.Greeter/Hello;:authority=localhost;x-custom=v42;"
		  "authorization=****************;"); /* 16 Huffman bytes, a '*' each */

	/* Server: SETTINGS, padded HEADERS, DATA in two calls, trailers ending the stream. */
	frame(&s, 4, 0, 0, settings, sizeof(settings));
	n = deflate(sd, block, resp, 2);
	padded[0] = 3;
	memcpy(padded + 1, block, n);
	memset(padded + 1 + n, 0, 3);
	frame(&s, 1, 0x4 | 0x8, 1, padded, n + 4);
	frame(&s, 0, 0, 1, "0123456789", 10);
	n = deflate(sd, block, trailers, 1);
	frame(&s, 1, 0x4 | 0x1, 1, block, n);
	http_data(&h, 1, false, s.b, 30, 0, true, 200);
	http_data(&h, 1, false, s.b + 30, s.n - 30, 0, false, 300);
	CHECK_STR(got, "REQ 2 #1 POST /svc.Greeter/Hello body=10 x-custom=v42 "
		       "authorization=**********************\n"
		       "RESP 2 #1 POST /svc.Greeter/Hello 200 body=10\n");
	CHECK_STR(errors, "");

	/* A second request on the connection reuses the dynamic table; then a reset stream. */
	got[0] = '\0';
	c.n = 0;
	n = deflate(cd, block, req, 5);
	frame(&c, 1, 0x5, 3, block, n);
	frame(&c, 3, 0, 3, "\0\0\0\x08", 4);
	http_data(&h, 1, true, c.b, c.n, 0, true, 400);
	CHECK_STR(got, "REQ 2 #3 POST /svc.Greeter/Hello body=0 x-custom=v42 "
		       "authorization=**********************\n"
		       "RESP 2 #3 POST /svc.Greeter/Hello 0 body=0 reset\n");
	CHECK(h.unmasked == 0);

	/* Bytes missing outside a DATA payload end HTTP/2 decoding of the connection. */
	http_data(&h, 1, true, c.b, 9, 5, true, 500);
	CHECK(strstr(errors, "1: HTTP/2 bytes were not captured") == errors);
	http_free(&h);
	nghttp2_hd_deflate_del(cd);
	nghttp2_hd_deflate_del(sd);
	nghttp2_hd_inflate_del(check);
	redact_free(&r);
}

/* h2c: after the server's 101 Switching Protocols, the rest of its call (its SETTINGS, the
 * upgraded request's answer on stream 1, its cookie masked) and the client's next (the
 * preface, a request on stream 3) are detected anew as HTTP/2 on both sides: the 101 the
 * first bytes the server's direction sends (held for detection), or after an exchange in
 * HTTP/1.1 (warm: the upgraded request, HTTP/1.1's second, is still answered on stream 1). */
static void test_upgrade(void)
{
	static const char *const req[] = {":method", "GET", ":path", "/two", ":authority", "x"};
	static const char *const resp[] = {":status", "200"};
	static const char *const upgraded[] = {":status", "200", "set-cookie", "s3cret"};
	static const uint8_t settings[] = {0, 1, 0, 0, 0x10, 0};
	static const char first[] = "GET /first HTTP/1.1\r\n\r\n",
			  none[] = "HTTP/1.1 204 OK\r\n\r\n";
	static const char up[] = "GET /up HTTP/1.1\r\nUpgrade: h2c\r\n\r\n";
	static const char switched[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n";
	nghttp2_hd_deflater *cd, *sd;
	nghttp2_hd_inflater *check;
	uint8_t block[1024];
	struct redact r;
	char err[64];
	int warm;

	CHECK(redact_init(&r, NULL, 0, err, sizeof(err)) == 0);
	for (warm = 0; warm < 2; warm++) {
		struct frames c = {0}, s = {0};
		struct http h = fresh(&r);
		size_t n, at;

		nghttp2_hd_deflate_new(&cd, 4096);
		nghttp2_hd_deflate_new(&sd, 4096);
		nghttp2_hd_inflate_new(&check);
		if (warm) {
			http_data(&h, 1, true, (uint8_t *)first, sizeof(first) - 1, 0, true, 10);
			http_data(&h, 1, false, (uint8_t *)none, sizeof(none) - 1, 0, true, 20);
		}
		http_data(&h, 1, true, (uint8_t *)up, sizeof(up) - 1, 0, true, 100);
		memcpy(s.b, switched, sizeof(switched) - 1);
		s.n = sizeof(switched) - 1;
		frame(&s, 4, 0, 0, settings, sizeof(settings));
		/* the upgraded request's answer on stream 1, in the 101's call: its cookie is
		 * masked in the caller's bytes (those held for detection are a copy) */
		n = deflate(sd, block, upgraded, 2);
		at = s.n + 9;
		frame(&s, 1, 0x5, 1, block, n);
		http_data(&h, 1, false, s.b, s.n, 0, true, 200);
		CHECK_STR(inflate_all(check, s.b + at, n), ":status=200;set-cookie=****;");
		memcpy(c.b, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
		c.n = 24;
		frame(&c, 4, 0, 0, settings, sizeof(settings));
		n = deflate(cd, block, req, 3);
		frame(&c, 1, 0x5, 3, block, n);
		http_data(&h, 1, true, c.b, c.n, 0, true, 300);
		s.n = 0;
		n = deflate(sd, block, resp, 1);
		frame(&s, 1, 0x5, 3, block, n);
		http_data(&h, 1, false, s.b, s.n, 0, true, 400);
		/* warm: the upgraded request was HTTP/1.1 exchange 2, answered on stream 1 */
		CHECK_STR(got, warm ? "REQ 1.1 #1 GET /first body=0\nRESP 1.1 #1 GET /first 204 "
				      "body=0\nREQ 1.1 #2 GET /up body=0\nRESP 2 #1 GET /up 200 "
				      "body=0\nREQ 2 #3 GET /two body=0\nRESP 2 #3 GET /two 200 "
				      "body=0\n"
				    : "REQ 1.1 #1 GET /up body=0\nRESP 2 #1 GET /up 200 body=0\n"
				      "REQ 2 #3 GET /two body=0\nRESP 2 #3 GET /two 200 body=0\n");
		CHECK_STR(errors, "");
		http_free(&h);
		nghttp2_hd_deflate_del(cd);
		nghttp2_hd_deflate_del(sd);
		nghttp2_hd_inflate_del(check);
	}
	redact_free(&r);
}

/* Other 101s: an h2c upgrade while an earlier exchange still waits (its response's body lost
 * in a gap) tells that one without the rest of its response and pairs stream 1 with the
 * upgraded request, not with the stale one; a WebSocket upgrade keeps the request's number. */
static void test_upgrade_others(void)
{
	static const char *const answer[] = {":status", "200"};
	static const char up[] = "GET /up HTTP/1.1\r\nUpgrade: h2c\r\n\r\n";
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123";
	static const char switched[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n";
	static const uint8_t settings[] = {0, 1, 0, 0, 0x10, 0};
	nghttp2_hd_deflater *sd;
	uint8_t block[256];
	struct frames s = {0};
	struct http h = fresh(NULL);
	size_t n;

	nghttp2_hd_deflate_new(&sd, 4096);
	feed(&h, true, "GET /a HTTP/1.1\r\n\r\n");
	http_data(&h, 1, true, (uint8_t *)up, sizeof(up) - 1, 0, true, 20);
	http_data(&h, 1, false, (uint8_t *)head, sizeof(head) - 1, 0, true, 30);
	memcpy(s.b, switched, sizeof(switched) - 1);
	s.n = sizeof(switched) - 1;
	frame(&s, 4, 0, 0, settings, sizeof(settings));
	n = deflate(sd, block, answer, 1);
	frame(&s, 1, 0x5, 1, block, n);
	http_data(&h, 1, false, s.b, s.n, 200, true, 40); /* 200 bytes lost before it */
	CHECK_STR(got, "REQ 1.1 #1 GET /a body=0\nREQ 1.1 #2 GET /up body=0\n"
		       "RESP 1.1 #1 GET /a 200 body=4 incomplete\nRESP 2 #1 GET /up 200 body=0\n");
	CHECK_STR(errors, "");
	http_free(&h);
	nghttp2_hd_deflate_del(sd);

	h = fresh(NULL);
	feed(&h, true, "GET /first HTTP/1.1\r\n\r\n");
	feed(&h, false, "HTTP/1.1 204 OK\r\n\r\n");
	feed(&h, true, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n");
	feed(&h, false, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
	http_close(&h, 1, 50);
	CHECK_STR(got, "REQ 1.1 #1 GET /first body=0\nRESP 1.1 #1 GET /first 204 body=0\n"
		       "REQ 1.1 #2 GET /ws body=0\nRESP 1.1 #2 GET /ws 0 body=0 unanswered\n");
	http_free(&h);
}

/* What HTTP decoding is told is missing: heads, middles and ends of calls. */
static void test_flows(void)
{
	struct flows t = {0};
	struct flow *f = flows_get(&t, flows_key(0, 42));
	bool start;

	CHECK(f && f->key == (1ull << 63 | 42) && flows_key(7, 42) == 7);
	CHECK(flows_gap(&f->d[0], 1, 100, 0, 40, &start) == 0 && start);
	CHECK(flows_gap(&f->d[0], 1, 100, 60, 20, &start) == 20 && !start); /* middle lost */
	CHECK(flows_tail(&f->d[0]) == 20); /* its last 20 bytes truncated */
	CHECK(flows_gap(&f->d[0], 2, 50, 0, 50, &start) == 0 && start);
	CHECK(flows_gap(&f->d[0], 3, 50, 10, 40, &start) == 10 && !start); /* head lost */
	CHECK(flows_gap(&f->d[0], 4, 30, 0, 30, &start) == 0);		   /* 3 ended whole */
	CHECK(flows_gap(&f->d[1], 9, 10, 0, 5, &start) == 0 && start);
	CHECK(flows_get(&t, flows_key(0, 42)) == f);
	flows_remove(&t, f->key);
	CHECK(t.n == 0);
	flows_free(&t);
}

int main(void)
{
	test_flows();
	test_h1();
	test_h2();
	test_upgrade();
	test_upgrade_others();
	return check_done();
}
