/* SPDX-License-Identifier: Apache-2.0 */
/* http.c - HTTP/1.x and HTTP/2 decoded from a connection's plaintext, both directions */
#include "http.h"
#include "grow.h"
#include "http1.h"
#include "http2.h"
#include "httpconn.h"

#include <nghttp2/nghttp2.h>
#include <stdlib.h>
#include <string.h>

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

static void start(struct http *h, struct http_conn *c, struct dir *d, uint8_t *data, size_t len,
		  uint64_t time_ns);

/* len bytes at data of direction d, whose protocol is not known yet: held until it is, then
 * fed (start). */
static void detect_more(struct http *h, struct http_conn *c, struct dir *d, uint8_t *data,
			size_t len, uint64_t time_ns)
{
	if (!http_append(&d->buf, &d->len, &d->cap, data, len))
		return;
	d->proto = detect(c, d);
	if (d->proto != P_DETECT)
		start(h, c, d, data, len, time_ns);
}

/* Direction d has started as `proto`: the bytes held for detection are fed, those of this
 * call (the last `len` held, data) from the caller's buffer, where redaction can mask them.
 * What HTTP/1.x leaves after a 101 Switching Protocols is detected anew. */
static void start(struct http *h, struct http_conn *c, struct dir *d, uint8_t *data, size_t len,
		  uint64_t time_ns)
{
	uint8_t *held = d->buf;
	size_t n = d->len, old = d->len - len, from = 0, rest;
	bool stale = false;

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
		rest = h1_feed(h, c, d, held, n, true, time_ns);
		/* after a 101, this call's bytes from the caller's buffer (as above); bytes of
		 * earlier calls from held, whose pointers die with it (gen) */
		if (rest && rest <= len) {
			detect_more(h, c, d, data + len - rest, rest, time_ns);
		} else if (rest) {
			detect_more(h, c, d, held + n - rest, rest, time_ns);
			stale = true;
		}
	}
	free(held);
	if (stale)
		h->gen++;
}

void http_data(struct http *h, uint64_t key, bool sent, uint8_t *data, size_t len, uint64_t gap,
	       bool call_start, uint64_t time_ns)
{
	struct http_conn *c = conn_of(h, key);
	struct dir *d;
	size_t rest;

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
		detect_more(h, c, d, data, len, time_ns);
		break;
	case P_H1:
		rest = h1_feed(h, c, d, data, len, call_start, time_ns);
		if (rest)
			detect_more(h, c, d, data + len - rest, rest, time_ns);
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
