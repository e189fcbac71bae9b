/* SPDX-License-Identifier: Apache-2.0 */
/* httpconn.c - an HTTP connection's services: buffers, headers, exchanges, messages
 * reported, decoding stopped */
#include "httpconn.h"
#include "grow.h"
#include "redact.h"

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
