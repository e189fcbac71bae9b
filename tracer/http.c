/* http.c - HTTP/1.x and HTTP/2 decoded from a connection's plaintext, both directions */
#define _GNU_SOURCE /* strcasestr */
#include "http_int.h"
#include "grow.h"

#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- small helpers ---- */

bool http_append(uint8_t **buf, size_t *len, size_t *cap, const uint8_t *p, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap : 256;
		uint8_t *grown;

		while (c < *len + n + 1)
			c *= 2;
		if (!(grown = realloc(*buf, c)))
			return false;
		*buf = grown;
		*cap = c;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = '\0';
	return true;
}

void http_headers_free(struct http_headers *hs)
{
	int i;

	for (i = 0; i < hs->n; i++) {
		free(hs->v[i].name);
		free(hs->v[i].value);
	}
	free(hs->v);
	memset(hs, 0, sizeof(*hs));
}

/* len bytes and a NUL: unlike strndup, a NUL among them (HPACK allows it) keeps the length. */
char *http_copy_bytes(const char *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s) {
		memcpy(s, p, len);
		s[len] = '\0';
	}
	return s;
}

/* Adds a header, its value redacted; false when out of memory or over HTTP_MAX_HEAD. */
bool http_headers_add(struct http *h, struct http_headers *hs, const char *name, size_t nlen,
		      const char *value, size_t vlen)
{
	struct http_header *hd;

	if (hs->bytes + nlen + vlen > HTTP_MAX_HEAD)
		return false;
	hd = grow_for(hs->v, hs->n, &hs->cap, sizeof(*hs->v), 16);
	if (!hd)
		return false;
	hs->v = hd;
	hd = &hs->v[hs->n];
	hd->name = http_copy_bytes(name, nlen);
	hd->value = http_copy_bytes(value, vlen);
	if (!hd->name || !hd->value) {
		free(hd->name);
		free(hd->value);
		return false;
	}
	if (h->redact)
		redact_value(h->redact, name, nlen, hd->value, vlen);
	hs->n++;
	hs->bytes += nlen + vlen;
	return true;
}

const char *http_header_get(const struct http_headers *hs, const char *name)
{
	int i;

	for (i = 0; i < hs->n; i++)
		if (strcasecmp(hs->v[i].name, name) == 0)
			return hs->v[i].value;
	return NULL;
}

void http_exchange_free(struct exchange *x)
{
	free(x->method);
	free(x->path);
	free(x->authority);
	http_headers_free(&x->req);
	http_headers_free(&x->resp);
}

struct exchange *http_exchange_find(struct http_conn *c, uint32_t stream)
{
	int i;

	for (i = 0; i < c->nx; i++)
		if (c->x[i].stream == stream)
			return &c->x[i];
	return NULL;
}

struct exchange *http_exchange_add(struct http_conn *c, uint32_t stream, uint64_t time_ns)
{
	struct exchange *x;

	if (c->nx >= HTTP_MAX_PENDING * 2)
		return NULL;
	x = grow_for(c->x, c->nx, &c->capx, sizeof(*c->x), 8);
	if (!x)
		return NULL;
	c->x = x;
	x = &c->x[c->nx++];
	memset(x, 0, sizeof(*x));
	x->stream = stream;
	x->start_ns = time_ns;
	return x;
}

void http_exchange_remove(struct http_conn *c, struct exchange *x)
{
	http_exchange_free(x);
	memmove(x, x + 1, (size_t)(c->x + c->nx - (x + 1)) * sizeof(*x));
	c->nx--;
}

/* ---- records ---- */

/* The message of exchange x: its request, or its response as far as it has come. */
struct http_msg http_message(const struct http_conn *c, const struct exchange *x, bool request,
			     uint64_t time_ns)
{
	return (struct http_msg){
		.version = x->version[0] ? x->version : "1.1",
		.key = c->key,
		.stream = x->stream,
		.request = request,
		.method = x->method,
		.path = x->path,
		.authority = x->authority,
		.status = request ? 0 : x->status,
		.headers = request ? &x->req : &x->resp,
		.req_headers = request ? NULL : &x->req,
		.body_bytes = request ? x->req_body : x->resp_body,
		.req_body_bytes = x->req_body,
		.latency_ns = !request && time_ns > x->start_ns ? time_ns - x->start_ns : 0,
		.incomplete = request ? x->req_incomplete : x->resp_incomplete,
	};
}

void http_emit(struct http *h, struct http_conn *c, const struct exchange *x, bool request,
	       uint64_t time_ns)
{
	struct http_msg m = http_message(c, x, request, time_ns);

	h->on_msg(h->ctx, &m);
}

/* A response that did not come whole: the stream was reset, or the connection ended. */
void http_emit_missing(struct http *h, struct http_conn *c, struct exchange *x, bool reset,
		       uint64_t time_ns)
{
	struct http_msg m = http_message(c, x, false, time_ns);

	if (!x->req_started)
		return;
	m.incomplete = x->resp_started;
	m.reset = reset;
	m.unanswered = !reset && !x->resp_started;
	h->on_msg(h->ctx, &m);
}

void http_stop(struct http *h, struct http_conn *c, struct dir *d, const char *why)
{
	d->proto = P_NONE;
	if (!c->said && h->on_error)
		h->on_error(h->ctx, c->key, why);
	c->said = true;
}

/* ---- HTTP/1.x ---- */

/* n more body bytes of the message direction d carries on `stream` (missing: never
 * captured, so the message is incomplete). */
void http_add_body(struct http_conn *c, struct dir *d, uint32_t stream, uint64_t n, bool missing)
{
	struct exchange *x = http_exchange_find(c, stream);

	if (!x)
		return;
	if (d->client) {
		x->req_body += n;
		x->req_incomplete |= missing;
	} else {
		x->resp_body += n;
		x->resp_incomplete |= missing;
	}
}

/* ---- HTTP/2 ---- */

/* ---- detection and the connection table ---- */

static bool looks_like_request(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len && i < 16 && is_token_char(p[i]); i++)
		;
	return i > 0 && i < len && p[i] == ' ';
}

/* Which protocol direction d of c carries, from its first bytes in d->buf: decided, or
 * P_DETECT while too few bytes have come. */
static enum proto detect(struct http_conn *c, struct dir *d)
{
	struct dir *other = dir_other(c, d);
	size_t n = d->len < H2_PREFACE_LEN ? d->len : H2_PREFACE_LEN;

	if (memcmp(d->buf, H2_PREFACE, n) == 0)
		return n == H2_PREFACE_LEN ? P_H2 : P_DETECT;
	if (d->len >= H2_FRAME_HDR && d->buf[3] == F_SETTINGS && be32(d->buf + 5) == 0 &&
	    be24(d->buf) % 6 == 0) {
		d->client = false;
		return P_H2;
	}
	if (other->proto == P_H2) /* the server's first frames need not be SETTINGS */
		return P_H2;
	n = d->len < 7 ? d->len : 7;
	if (memcmp(d->buf, "HTTP/1.", n) == 0) {
		d->client = false;
		return n == 7 ? P_H1 : P_DETECT;
	}
	if (looks_like_request(d->buf, d->len)) {
		d->client = true;
		return P_H1;
	}
	return d->len < 17 && !memchr(d->buf, ' ', d->len) ? P_DETECT : P_NONE;
}

static struct http_conn *conn_of(struct http *h, uint64_t key)
{
	struct http_conn *c, **grown;
	int i;

	for (i = 0; i < h->n; i++)
		if (h->v[i]->key == key)
			return h->v[i];
	grown = grow_for(h->v, h->n, &h->cap, sizeof(*h->v), 16);
	if (!grown)
		return NULL;
	h->v = grown;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->key = key;
	h->v[h->n++] = c;
	return c;
}

/* Direction d has started as `proto`: the bytes held for detection are fed, those of this
 * call (the last `len` held, data) from the caller's buffer, where redaction can mask them. */
static void start(struct http *h, struct http_conn *c, struct dir *d, uint8_t *data, size_t len,
		  uint64_t time_ns)
{
	uint8_t *held = d->buf;
	size_t n = d->len, old = d->len - len, from = 0;

	d->buf = NULL;
	d->len = d->cap = 0;
	if (d->proto == P_H2) {
		struct dir *other = dir_other(c, d);

		if (n >= H2_PREFACE_LEN && !memcmp(held, H2_PREFACE, H2_PREFACE_LEN)) {
			d->client = true;
			other->client = false;
			from = H2_PREFACE_LEN;
		} else { /* the server's, or the client's when the server's came first */
			d->client = other->proto == P_H2 && !other->client;
		}
		/* Both ways: SETTINGS of one bound the other's table. */
		if ((!d->inf && nghttp2_hd_inflate_new(&d->inf)) ||
		    (!other->inf && nghttp2_hd_inflate_new(&other->inf))) {
			http_stop(h, c, d, "out of memory");
			free(held);
			return;
		}
		if (from < old)
			h2_feed(h, c, d, held + from, old - from, time_ns);
		from = from > old ? from - old : 0;
		h2_feed(h, c, d, data + from, len - from, time_ns);
	} else if (d->proto == P_H1) {
		d->h1 = H1_HEAD;
		h1_feed(h, c, d, held, n, true, time_ns);
	}
	free(held);
}

void http_data(struct http *h, uint64_t key, bool sent, uint8_t *data, size_t len, uint64_t gap,
	       bool call_start, uint64_t time_ns)
{
	struct http_conn *c = conn_of(h, key);
	struct dir *d;

	h->gen++; /* pointers into earlier calls' data are gone */
	if (!c)
		return;
	d = &c->d[side_of_sent(sent)];
	if (gap && d->proto == P_H1)
		h1_gap(h, c, d, gap, call_start, time_ns);
	else if (gap && d->proto == P_H2)
		h2_gap(h, c, d, gap, time_ns);
	else if (gap && d->proto == P_DETECT && d->len)
		d->proto = P_NONE; /* its first bytes are missing */
	switch (d->proto) {
	case P_DETECT:
		if (!http_append(&d->buf, &d->len, &d->cap, data, len))
			return;
		d->proto = detect(c, d);
		if (d->proto != P_DETECT)
			start(h, c, d, data, len, time_ns);
		break;
	case P_H1:
		h1_feed(h, c, d, data, len, call_start, time_ns);
		break;
	case P_H2:
		h2_feed(h, c, d, data, len, time_ns);
		break;
	case P_NONE:
		break;
	}
}

static void conn_free(struct http_conn *c)
{
	int i;

	for (i = 0; i < c->nx; i++)
		http_exchange_free(&c->x[i]);
	free(c->x);
	for (i = 0; i < 2; i++) {
		free(c->d[i].buf);
		free(c->d[i].block);
		if (c->d[i].inf)
			nghttp2_hd_inflate_del(c->d[i].inf);
	}
	free(c);
}

void http_close(struct http *h, uint64_t key, uint64_t time_ns)
{
	struct http_conn *c = NULL;
	int i, j;

	for (i = 0; i < h->n && !c; i++)
		if (h->v[i]->key == key)
			c = h->v[i];
	if (!c)
		return;
	for (j = 0; j < 2; j++) /* a body that runs to the close has ended */
		if (c->d[j].proto == P_H1 && c->d[j].h1 == H1_TO_CLOSE)
			h1_done(h, c, &c->d[j], time_ns);
	for (j = 0; j < c->nx; j++)
		http_emit_missing(h, c, &c->x[j], false, time_ns);
	conn_free(c);
	h->v[i - 1] = h->v[--h->n];
}

void http_free(struct http *h)
{
	int i;

	for (i = 0; i < h->n; i++)
		conn_free(h->v[i]);
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}
