/* SPDX-License-Identifier: Apache-2.0 */
/* http1.c - HTTP/1.x messages taken apart as their bytes come: heads, bodies by length,
 * chunked or to the close, and gaps */
#define _GNU_SOURCE /* strcasestr */
#include "http1.h"
#include "redact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Ends the line at s (at its "\r\n" or "\n"); returns the next line, or NULL when s holds
 * no whole line. */
static char *split_line(char *s)
{
	char *nl = strchr(s, '\n');

	if (!nl)
		return NULL;
	*nl = '\0';
	if (nl > s && nl[-1] == '\r')
		nl[-1] = '\0';
	return nl + 1;
}

/* Parses the head in d->buf (NUL-terminated): the start line into x, the headers. */
static bool h1_parse_head(struct http *h, struct dir *d, struct exchange *x, bool *chunked,
			  int64_t *length)
{
	char *line = (char *)d->buf, *next, *sp, *colon, *end;
	struct http_headers *hs = d->client ? &x->req : &x->resp;
	const char *v;

	next = split_line(line);
	if (!next)
		return false;
	if (d->client) {
		sp = strchr(line, ' ');
		end = sp ? strrchr(sp + 1, ' ') : NULL;
		if (!sp || !end || strncmp(end + 1, "HTTP/1.", 7))
			return false;
		x->method = strndup(line, (size_t)(sp - line));
		x->path = strndup(sp + 1, (size_t)(end - sp - 1));
		if (!x->method || !x->path)
			return false;
		if (h->redact)
			redact_value(h->redact, "", 0, x->path, strlen(x->path));
		snprintf(x->version, sizeof(x->version), "1.%c", end[8] == '0' ? '0' : '1');
	} else {
		if (strncmp(line, "HTTP/1.", 7) || line[8] != ' ' ||
		    http_parse_status(line + 9) < 0)
			return false;
		x->status = http_parse_status(line + 9);
		if (!x->version[0])
			snprintf(x->version, sizeof(x->version), "1.%c",
				 line[7] == '0' ? '0' : '1');
	}
	for (line = next; *line && (next = split_line(line)); line = next) {
		colon = strchr(line, ':');
		if (!colon)
			continue;
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		end = colon + 1 + strlen(colon + 1);
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (!http_headers_add(h, hs, line, (size_t)(colon - line), v, (size_t)(end - v)))
			return false;
	}
	v = http_header_get(hs, "transfer-encoding");
	*chunked = v && strcasestr(v, "chunked");
	v = http_header_get(hs, "content-length");
	*length = v ? strtoll(v, NULL, 10) : -1;
	if (d->client && !x->authority && (v = http_header_get(hs, "host")))
		x->authority = strdup(v);
	return true;
}

/*
 * Exchange x's request was answered 101 Switching Protocols. To HTTP/2 (Upgrade: h2c), HTTP/2
 * answers it on stream 1 (RFC 9113, 3.1), whatever its number among the connection's
 * HTTP/1.1 exchanges; the others still waiting can no longer be answered: told without their
 * response, and dropped (a stale one would take HTTP/2's answers to its number). To another
 * protocol (a WebSocket), x keeps its number. Returns x where it is now.
 */
static struct exchange *upgraded(struct http *h, struct http_conn *c, struct exchange *x,
				 uint64_t time_ns)
{
	const char *to = http_header_get(&x->resp, "upgrade");
	uint32_t id = x->stream;
	int i;

	if (!to || !strcasestr(to, "h2c"))
		return x;
	for (i = c->nx - 1; i >= 0; i--)
		if (c->x[i].stream != id) {
			http_emit_missing(h, c, &c->x[i], false, time_ns);
			http_exchange_remove(c, &c->x[i]);
		}
	x = http_exchange_find(c, id);
	x->stream = 1;
	return x;
}

/* The message of direction d ended. */
void h1_done(struct http *h, struct http_conn *c, struct dir *d, uint64_t time_ns)
{
	struct exchange *x = http_exchange_find(c, d->cur);

	d->h1 = H1_HEAD;
	d->len = 0;
	if (!x)
		return;
	if (d->client) {
		http_emit(h, c, x, true, time_ns);
		return;
	}
	if (x->status >= 100 && x->status < 200) { /* informational: the real one follows */
		if (x->status == 101) {		   /* another protocol from here on (h2c) */
			c->d[0].proto = c->d[1].proto = P_DETECT;
			c->d[0].len = c->d[1].len = 0;
			x = upgraded(h, c, x, time_ns);
		}
		x->status = 0;
		http_headers_free(&x->resp);
		x->resp_started = false;
		return;
	}
	http_emit(h, c, x, false, time_ns);
	http_exchange_remove(c, x);
}

/* A head is complete in d->buf: which exchange it belongs to, and how its body ends. */
static void h1_head(struct http *h, struct http_conn *c, struct dir *d, uint64_t time_ns)
{
	struct exchange *x = NULL;
	bool chunked = false, no_body;
	int64_t length = -1;
	int i;

	if (d->client) {
		x = http_exchange_add(c, ++c->exchanges, time_ns);
		if (x)
			x->req_started = true;
	} else {
		for (i = 0; i < c->nx && !x; i++)
			if (!c->x[i].resp_started)
				x = &c->x[i];
		if (!x)
			x = http_exchange_add(c, ++c->exchanges, time_ns);
		if (x)
			x->resp_started = true;
	}
	if (!x || !h1_parse_head(h, d, x, &chunked, &length)) {
		http_stop(h, c, d,
			  d->client ? "not an HTTP/1.x request" : "not an HTTP/1.x response");
		return;
	}
	d->cur = x->stream;
	no_body = !d->client && ((x->status >= 100 && x->status < 200) || x->status == 204 ||
				 x->status == 304 || (x->method && !strcmp(x->method, "HEAD")));
	d->len = 0;
	if (no_body || (d->client && !chunked && length <= 0) || (!chunked && length == 0)) {
		h1_done(h, c, d, time_ns);
	} else if (chunked) {
		d->h1 = H1_CHUNK_SIZE;
	} else if (length > 0) {
		d->h1 = H1_BODY;
		d->remaining = (uint64_t)length;
	} else {
		d->h1 = H1_TO_CLOSE; /* a response without a length: it ends with the connection */
	}
}

/* n bytes of a body or chunk were consumed (missing: never captured); its end is seen. */
static void h1_consume(struct http *h, struct http_conn *c, struct dir *d, uint64_t n, bool missing,
		       uint64_t time_ns)
{
	http_add_body(c, d, d->cur, n, missing);
	d->remaining -= n;
	if (d->remaining == 0 && d->h1 == H1_BODY)
		h1_done(h, c, d, time_ns);
	else if (d->remaining == 0)
		d->h1 = H1_CHUNK_END;
}

/* `gap` bytes of direction d were never captured: skipped within a body, else lost. */
void h1_gap(struct http *h, struct http_conn *c, struct dir *d, uint64_t gap, bool call_start,
	    uint64_t time_ns)
{
	if ((d->h1 == H1_BODY || d->h1 == H1_CHUNK_DATA) && gap <= d->remaining) {
		h1_consume(h, c, d, gap, true, time_ns);
	} else if (d->h1 == H1_TO_CLOSE) {
		http_add_body(c, d, d->cur, gap, true);
	} else if (!(d->h1 == H1_HEAD && d->len == 0 && call_start)) {
		struct exchange *x = http_exchange_find(c, d->cur);

		if (x && d->client)
			x->req_incomplete = true;
		else if (x)
			x->resp_incomplete = true;
		d->h1 = H1_LOST;
	}
}

size_t h1_feed(struct http *h, struct http_conn *c, struct dir *d, uint8_t *p, size_t len,
	       bool call_start, uint64_t time_ns)
{
	size_t n;

	if (d->h1 == H1_LOST) {
		if (!call_start)
			return 0;
		d->h1 = H1_HEAD;
		d->len = 0;
	}
	while (len > 0 && d->proto == P_H1) {
		switch (d->h1) {
		case H1_HEAD: {
			const uint8_t *nl = memchr(p, '\n', len);
			bool end;

			n = nl ? (size_t)(nl - p) + 1 : len;
			if (d->len + n > HTTP_MAX_HEAD ||
			    !http_append(&d->buf, &d->len, &d->cap, p, n)) {
				http_stop(h, c, d, "HTTP/1.x head too large");
				return 0;
			}
			p += n;
			len -= n;
			end = d->len >= 2 && d->buf[d->len - 1] == '\n' &&
			      (d->buf[d->len - 2] == '\n' ||
			       (d->len >= 3 && d->buf[d->len - 2] == '\r' &&
				d->buf[d->len - 3] == '\n'));
			if (d->len <= 2 && end) /* a blank line between messages */
				d->len = 0;
			else if (end)
				h1_head(h, c, d, time_ns);
			break;
		}
		case H1_BODY:
		case H1_CHUNK_DATA:
			n = len < d->remaining ? len : (size_t)d->remaining;
			h1_consume(h, c, d, n, false, time_ns);
			p += n;
			len -= n;
			break;
		case H1_CHUNK_END: /* the CRLF after a chunk's data */
		case H1_CHUNK_SIZE:
			for (n = 0; n < len && p[n] != '\n'; n++)
				;
			if (n < len)
				n++;
			if (d->len + n > 1024 || !http_append(&d->buf, &d->len, &d->cap, p, n)) {
				http_stop(h, c, d, "malformed chunked body");
				return 0;
			}
			p += n;
			len -= n;
			if (d->buf[d->len - 1] != '\n')
				break;
			if (d->h1 == H1_CHUNK_END) {
				d->h1 = H1_CHUNK_SIZE;
			} else {
				d->remaining = strtoull((char *)d->buf, NULL, 16);
				d->h1 = d->remaining ? H1_CHUNK_DATA : H1_TRAILERS;
			}
			d->len = 0;
			break;
		case H1_TRAILERS: /* lines up to an empty one; remaining: the line's length */
			for (n = 0; n < len; n++) {
				if (p[n] == '\n' && d->remaining == 0) {
					n++;
					h1_done(h, c, d, time_ns);
					break;
				}
				d->remaining = p[n] == '\n' ? 0 : d->remaining + (p[n] != '\r');
			}
			p += n;
			len -= n;
			break;
		case H1_TO_CLOSE:
			http_add_body(c, d, d->cur, len, false);
			return 0;
		case H1_LOST:
			return 0;
		}
	}
	return d->proto == P_DETECT ? len : 0; /* after 101 Switching Protocols */
}
