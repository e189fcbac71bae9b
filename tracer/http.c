/* http.c - HTTP/1.x and HTTP/2 decoded from a connection's plaintext, both directions */
#define _GNU_SOURCE /* strcasestr */
#include "http.h"
#include "grow.h"

#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24
#define H2_FRAME_HDR 9
#define H2_MAX_SEGS 32
#define HUFFMAN_STAR 0xf9 /* '*' is 8 bits in HPACK's Huffman code: a byte each */

enum {
	F_DATA = 0,
	F_HEADERS = 1,
	F_RST_STREAM = 3,
	F_SETTINGS = 4,
	F_PUSH_PROMISE = 5,
	F_CONTINUATION = 9
};
enum {
	FL_END_STREAM = 0x1,
	FL_ACK = 0x1,
	FL_END_HEADERS = 0x4,
	FL_PADDED = 0x8,
	FL_PRIORITY = 0x20
};

enum proto { P_DETECT, P_H1, P_H2, P_NONE };
enum h1_state {
	H1_HEAD,
	H1_BODY,
	H1_CHUNK_SIZE,
	H1_CHUNK_DATA,
	H1_CHUNK_END,
	H1_TRAILERS,
	H1_TO_CLOSE,
	H1_LOST
};

/* A request and its response, as far as they have come. */
struct exchange {
	uint32_t stream;
	char *method, *path, *authority;
	char version[4];
	int status;
	struct http_headers req, resp;
	uint64_t req_body, resp_body, start_ns;
	bool req_started, resp_started, req_incomplete, resp_incomplete;
};

/* Where bytes of a header block came from: src (NULL: gone) while gen is current. */
struct seg {
	size_t off, len;
	uint8_t *src;
	uint64_t gen;
};

/* One direction of a connection. */
struct dir {
	enum proto proto;
	bool client;  /* it carries requests */
	uint8_t *buf; /* HTTP/1.x: the head or a chunk line; HTTP/2: a frame; else detection */
	size_t len, cap;
	/* HTTP/1.x */
	enum h1_state h1;
	uint64_t remaining; /* body or chunk bytes to come; trailers: the line's length */
	uint32_t cur;	    /* the exchange whose message this direction carries */
	/* HTTP/2 */
	nghttp2_hd_inflater *inf;
	uint64_t skip; /* DATA payload bytes to come */
	uint32_t data_stream;
	bool data_end;
	uint8_t *block; /* a header block being gathered (HEADERS + CONTINUATION) */
	size_t block_len, block_cap;
	uint32_t block_stream;
	bool block_end, block_push;
	/* buf[i] for i >= map_idx is map_src[i - map_idx], the caller's data, in call map_gen */
	uint8_t *map_src;
	size_t map_idx;
	uint64_t map_gen;
	struct seg segs[H2_MAX_SEGS]; /* the block's bytes in the caller's data */
	int nsegs;
};

struct http_conn {
	uint64_t key;
	struct dir d[2]; /* [0]: sent by the process, [1]: received */
	struct exchange *x;
	int nx, capx;
	uint32_t exchanges; /* HTTP/1.x exchanges numbered so far */
	bool said;	    /* a decoding error was reported */
};

/* ---- small helpers ---- */

static bool append(uint8_t **buf, size_t *len, size_t *cap, const uint8_t *p, size_t n)
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

static void headers_free(struct http_headers *hs)
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
static char *copy_bytes(const char *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s) {
		memcpy(s, p, len);
		s[len] = '\0';
	}
	return s;
}

/* Adds a header, its value redacted; false when out of memory or over HTTP_MAX_HEAD. */
static bool headers_add(struct http *h, struct http_headers *hs, const char *name, size_t nlen,
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
	hd->name = copy_bytes(name, nlen);
	hd->value = copy_bytes(value, vlen);
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

static const char *header_get(const struct http_headers *hs, const char *name)
{
	int i;

	for (i = 0; i < hs->n; i++)
		if (strcasecmp(hs->v[i].name, name) == 0)
			return hs->v[i].value;
	return NULL;
}

static void exchange_free(struct exchange *x)
{
	free(x->method);
	free(x->path);
	free(x->authority);
	headers_free(&x->req);
	headers_free(&x->resp);
}

static struct exchange *exchange_find(struct http_conn *c, uint32_t stream)
{
	int i;

	for (i = 0; i < c->nx; i++)
		if (c->x[i].stream == stream)
			return &c->x[i];
	return NULL;
}

static struct exchange *exchange_add(struct http_conn *c, uint32_t stream, uint64_t time_ns)
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

static void exchange_remove(struct http_conn *c, struct exchange *x)
{
	exchange_free(x);
	memmove(x, x + 1, (size_t)(c->x + c->nx - (x + 1)) * sizeof(*x));
	c->nx--;
}

/* ---- records ---- */

/* The message of exchange x: its request, or its response as far as it has come. */
static struct http_msg message(const struct http_conn *c, const struct exchange *x, bool request,
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

static void emit(struct http *h, struct http_conn *c, const struct exchange *x, bool request,
		 uint64_t time_ns)
{
	struct http_msg m = message(c, x, request, time_ns);

	h->on_msg(h->ctx, &m);
}

/* A response that did not come whole: the stream was reset, or the connection ended. */
static void emit_missing(struct http *h, struct http_conn *c, struct exchange *x, bool reset,
			 uint64_t time_ns)
{
	struct http_msg m = message(c, x, false, time_ns);

	if (!x->req_started)
		return;
	m.incomplete = x->resp_started;
	m.reset = reset;
	m.unanswered = !reset && !x->resp_started;
	h->on_msg(h->ctx, &m);
}

static void stop(struct http *h, struct http_conn *c, struct dir *d, const char *why)
{
	d->proto = P_NONE;
	if (!c->said && h->on_error)
		h->on_error(h->ctx, c->key, why);
	c->said = true;
}

/* ---- HTTP/1.x ---- */

static bool is_token_char(uint8_t ch)
{
	return ch >= 'A' && ch <= 'Z';
}

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

/* A status code: three digits, 100 to 999, then the end or a space; -1 if it is not one. */
static int parse_status(const char *s)
{
	if (s[0] < '1' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' ||
	    (s[3] && s[3] != ' '))
		return -1;
	return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
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
		if (strncmp(line, "HTTP/1.", 7) || line[8] != ' ' || parse_status(line + 9) < 0)
			return false;
		x->status = parse_status(line + 9);
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
		if (!headers_add(h, hs, line, (size_t)(colon - line), v, (size_t)(end - v)))
			return false;
	}
	v = header_get(hs, "transfer-encoding");
	*chunked = v && strcasestr(v, "chunked");
	v = header_get(hs, "content-length");
	*length = v ? strtoll(v, NULL, 10) : -1;
	if (d->client && !x->authority && (v = header_get(hs, "host")))
		x->authority = strdup(v);
	return true;
}

/* The message of direction d ended. */
static void h1_done(struct http *h, struct http_conn *c, struct dir *d, uint64_t time_ns)
{
	struct exchange *x = exchange_find(c, d->cur);

	d->h1 = H1_HEAD;
	d->len = 0;
	if (!x)
		return;
	if (d->client) {
		emit(h, c, x, true, time_ns);
		return;
	}
	if (x->status >= 100 && x->status < 200) { /* informational: the real one follows */
		if (x->status == 101) {		   /* another protocol from here on (h2c) */
			c->d[0].proto = c->d[1].proto = P_DETECT;
			c->d[0].len = c->d[1].len = 0;
		}
		x->status = 0;
		headers_free(&x->resp);
		x->resp_started = false;
		return;
	}
	emit(h, c, x, false, time_ns);
	exchange_remove(c, x);
}

/* A head is complete in d->buf: which exchange it belongs to, and how its body ends. */
static void h1_head(struct http *h, struct http_conn *c, struct dir *d, uint64_t time_ns)
{
	struct exchange *x = NULL;
	bool chunked = false, no_body;
	int64_t length = -1;
	int i;

	if (d->client) {
		x = exchange_add(c, ++c->exchanges, time_ns);
		if (x)
			x->req_started = true;
	} else {
		for (i = 0; i < c->nx && !x; i++)
			if (!c->x[i].resp_started)
				x = &c->x[i];
		if (!x)
			x = exchange_add(c, ++c->exchanges, time_ns);
		if (x)
			x->resp_started = true;
	}
	if (!x || !h1_parse_head(h, d, x, &chunked, &length)) {
		stop(h, c, d, d->client ? "not an HTTP/1.x request" : "not an HTTP/1.x response");
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

/* n more body bytes of the message direction d carries on `stream` (missing: never
 * captured, so the message is incomplete). */
static void add_body(struct http_conn *c, struct dir *d, uint32_t stream, uint64_t n, bool missing)
{
	struct exchange *x = exchange_find(c, stream);

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

/* n bytes of a body or chunk were consumed (missing: never captured); its end is seen. */
static void h1_consume(struct http *h, struct http_conn *c, struct dir *d, uint64_t n, bool missing,
		       uint64_t time_ns)
{
	add_body(c, d, d->cur, n, missing);
	d->remaining -= n;
	if (d->remaining == 0 && d->h1 == H1_BODY)
		h1_done(h, c, d, time_ns);
	else if (d->remaining == 0)
		d->h1 = H1_CHUNK_END;
}

/* `gap` bytes of direction d were never captured: skipped within a body, else lost. */
static void h1_gap(struct http *h, struct http_conn *c, struct dir *d, uint64_t gap,
		   bool call_start, uint64_t time_ns)
{
	if ((d->h1 == H1_BODY || d->h1 == H1_CHUNK_DATA) && gap <= d->remaining) {
		h1_consume(h, c, d, gap, true, time_ns);
	} else if (d->h1 == H1_TO_CLOSE) {
		add_body(c, d, d->cur, gap, true);
	} else if (!(d->h1 == H1_HEAD && d->len == 0 && call_start)) {
		struct exchange *x = exchange_find(c, d->cur);

		if (x && d->client)
			x->req_incomplete = true;
		else if (x)
			x->resp_incomplete = true;
		d->h1 = H1_LOST;
	}
}

static void h1_feed(struct http *h, struct http_conn *c, struct dir *d, uint8_t *p, size_t len,
		    bool call_start, uint64_t time_ns)
{
	size_t n;

	if (d->h1 == H1_LOST) {
		if (!call_start)
			return;
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
			    !append(&d->buf, &d->len, &d->cap, p, n)) {
				stop(h, c, d, "HTTP/1.x head too large");
				return;
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
			if (d->len + n > 1024 || !append(&d->buf, &d->len, &d->cap, p, n)) {
				stop(h, c, d, "malformed chunked body");
				return;
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
			add_body(c, d, d->cur, len, false);
			return;
		case H1_LOST:
			return;
		}
	}
	if (len > 0 && d->proto == P_DETECT) /* after 101 Switching Protocols */
		http_data(h, c->key, d == &c->d[0], p, len, 0, false, time_ns);
}

/* ---- HTTP/2 ---- */

static uint32_t be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | be24(p + 1);
}

/* The stream of direction d ended (END_STREAM). */
static void h2_end_stream(struct http *h, struct http_conn *c, struct dir *d, uint32_t stream,
			  uint64_t time_ns)
{
	struct exchange *x = exchange_find(c, stream);

	if (!x)
		return;
	if (d->client) {
		emit(h, c, x, true, time_ns);
	} else {
		emit(h, c, x, false, time_ns);
		exchange_remove(c, x);
	}
}

static void push_seg(struct dir *d, size_t off, size_t len, uint8_t *src, uint64_t gen)
{
	if (len && d->nsegs < H2_MAX_SEGS)
		d->segs[d->nsegs++] = (struct seg){.off = off, .len = len, .src = src, .gen = gen};
}

/* A fragment of n bytes at d->buf[j] joins the block: where its bytes are in the caller's
 * data (those that came in an earlier call are gone). */
static void add_segs(struct http *h, struct dir *d, size_t j, size_t n)
{
	size_t gone = n;

	if (d->map_src && d->map_gen == h->gen)
		gone = j >= d->map_idx ? 0 : (d->map_idx - j < n ? d->map_idx - j : n);
	push_seg(d, d->block_len, gone, NULL, h->gen);
	push_seg(d, d->block_len + gone, n - gone,
		 gone < n ? d->map_src + (j + gone - d->map_idx) : NULL, h->gen);
}

/* Sets byte `off` of the block in the caller's data; false when it is no longer there. */
static bool set_block_byte(struct http *h, struct dir *d, size_t off, uint8_t v)
{
	int i;

	for (i = 0; i < d->nsegs; i++) {
		const struct seg *sg = &d->segs[i];

		if (off >= sg->off && off < sg->off + sg->len) {
			if (!sg->src || sg->gen != h->gen)
				return false;
			sg->src[off - sg->off] = v;
			return true;
		}
	}
	return false;
}

/*
 * An HPACK integer with an n-bit prefix (RFC 7541 5.1). Only framing: it finds where a
 * value's bytes lie so they can be masked; decoding is nghttp2's.
 */
static bool hpack_int(const uint8_t **p, const uint8_t *end, int n, uint64_t *v)
{
	uint64_t max = (1u << n) - 1;
	int shift = 0;

	if (*p >= end)
		return false;
	*v = *(*p)++ & max;
	if (*v < max)
		return true;
	do {
		if (*p >= end || shift > 56)
			return false;
		*v += (uint64_t)(**p & 0x7f) << shift;
		shift += 7;
	} while (*(*p)++ & 0x80);
	return true;
}

/* The value string of the field representation [p, end): its bytes and whether they are
 * Huffman-coded; false for an indexed field (its value is the table's). */
static bool value_span(const uint8_t *p, const uint8_t *end, const uint8_t **val, uint64_t *vlen,
		       bool *huff)
{
	uint64_t v;

	while (p < end && (*p & 0xe0) == 0x20) /* dynamic table size updates */
		if (!hpack_int(&p, end, 5, &v))
			return false;
	if (p >= end || (*p & 0x80))
		return false;
	if (!hpack_int(&p, end, (*p & 0x40) ? 6 : 4, &v))
		return false;
	if (v == 0) { /* a literal name first */
		if (!hpack_int(&p, end, 7, &v) || v > (uint64_t)(end - p))
			return false;
		p += v;
	}
	if (p >= end)
		return false;
	*huff = *p & 0x80;
	if (!hpack_int(&p, end, 7, vlen) || *vlen > (uint64_t)(end - p))
		return false;
	*val = p;
	return true;
}

/*
 * The header of representation [rep, rep_end) of the block was redacted from `orig` to
 * `masked`: the same bytes of its value are masked in the caller's data. A Huffman-coded
 * value is masked whole (its bytes do not map to characters).
 */
static void mask_raw(struct http *h, struct dir *d, size_t rep, size_t rep_end, const uint8_t *orig,
		     const char *masked, size_t len)
{
	const uint8_t *val;
	uint64_t vlen, i;
	bool huff;

	if (!value_span(d->block + rep, d->block + rep_end, &val, &vlen, &huff))
		return;
	for (i = 0; i < vlen; i++) {
		size_t off = (size_t)(val - d->block) + i;

		if (huff) {
			if (!set_block_byte(h, d, off, HUFFMAN_STAR))
				h->unmasked++;
		} else if (vlen == len && masked[i] != (char)orig[i] &&
			   !set_block_byte(h, d, off, (uint8_t)masked[i])) {
			h->unmasked++;
		}
	}
}

/* Decodes the gathered header block with nghttp2's HPACK inflater. */
static void h2_block(struct http *h, struct http_conn *c, struct dir *d, uint64_t time_ns)
{
	struct exchange *x = exchange_find(c, d->block_stream);
	struct http_headers push = {0}, *hs;
	const uint8_t *in = d->block;
	size_t inlen = d->block_len;

	if (!x && !d->block_push && !(x = exchange_add(c, d->block_stream, time_ns))) {
		stop(h, c, d, "too many HTTP/2 streams at once");
		return;
	}
	hs = d->block_push ? &push : d->client ? &x->req : &x->resp;
	if (x) {
		snprintf(x->version, sizeof(x->version), "2");
		x->req_started |= d->client;
		x->resp_started |= !d->client;
	}
	for (;;) {
		const uint8_t *rep = in;
		nghttp2_nv nv;
		int flags = 0;
		ssize_t rv = nghttp2_hd_inflate_hd2(d->inf, &nv, &flags, (uint8_t *)in, inlen, 1);

		if (rv < 0) {
			stop(h, c, d, nghttp2_strerror((int)rv));
			break;
		}
		in += rv;
		inlen -= (size_t)rv;
		if ((flags & NGHTTP2_HD_INFLATE_EMIT) &&
		    !headers_add(h, hs, (const char *)nv.name, nv.namelen, (const char *)nv.value,
				 nv.valuelen)) {
			stop(h, c, d, "HTTP/2 header block too large");
			break;
		}
		if ((flags & NGHTTP2_HD_INFLATE_EMIT) && h->redact &&
		    memcmp(hs->v[hs->n - 1].value, nv.value, nv.valuelen))
			mask_raw(h, d, (size_t)(rep - d->block), (size_t)(in - d->block), nv.value,
				 hs->v[hs->n - 1].value, nv.valuelen);
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(d->inf);
			break;
		}
		if (rv == 0 && inlen == 0)
			break;
	}
	d->block_len = 0;
	headers_free(&push);
	if (!x || d->proto != P_H2)
		return;
	if (d->client) {
		const char *v;

		if (!x->method && (v = header_get(hs, ":method")))
			x->method = strdup(v);
		if (!x->path && (v = header_get(hs, ":path")))
			x->path = strdup(v);
		if (!x->authority && (v = header_get(hs, ":authority")))
			x->authority = strdup(v);
	} else {
		int i;

		for (i = 0; i < hs->n; i++) /* the last :status: 1xx ones come first */
			if (!strcmp(hs->v[i].name, ":status") && parse_status(hs->v[i].value) > 0)
				x->status = parse_status(hs->v[i].value);
	}
	if (d->block_end)
		h2_end_stream(h, c, d, d->block_stream, time_ns);
}

/* One whole frame other than DATA, header and payload in d->buf. */
static void h2_frame(struct http *h, struct http_conn *c, struct dir *d, uint64_t time_ns)
{
	const uint8_t *p = d->buf + H2_FRAME_HDR;
	size_t n = be24(d->buf), i;
	uint8_t type = d->buf[3], flags = d->buf[4];
	uint32_t stream = be32(d->buf + 5) & 0x7fffffff;
	struct exchange *x;

	switch (type) {
	case F_HEADERS:
	case F_PUSH_PROMISE:
		if (flags & FL_PADDED) {
			if (n < 1 || (size_t)p[0] + 1 > n)
				goto bad;
			n -= (size_t)p[0] + 1;
			p++;
		}
		if (type == F_HEADERS && (flags & FL_PRIORITY)) {
			if (n < 5)
				goto bad;
			p += 5;
			n -= 5;
		}
		if (type == F_PUSH_PROMISE) {
			if (n < 4)
				goto bad;
			p += 4;
			n -= 4;
		}
		d->block_len = 0;
		d->nsegs = 0;
		d->block_stream = stream;
		d->block_end = type == F_HEADERS && (flags & FL_END_STREAM);
		d->block_push = type == F_PUSH_PROMISE;
		/* fall through */
	case F_CONTINUATION:
		add_segs(h, d, (size_t)(p - d->buf), n);
		if (d->block_len + n > HTTP_MAX_HEAD ||
		    !append(&d->block, &d->block_len, &d->block_cap, p, n)) {
			stop(h, c, d, "HTTP/2 header block too large");
			return;
		}
		if (flags & FL_END_HEADERS)
			h2_block(h, c, d, time_ns);
		break;
	case F_SETTINGS: /* the sender's decoder table size bounds the other way's encoder */
		for (i = 0; !(flags & FL_ACK) && i + 6 <= n; i += 6)
			if (((uint32_t)p[i] << 8 | p[i + 1]) == 1)
				nghttp2_hd_inflate_change_table_size(c->d[d == &c->d[0]].inf,
								     be32(p + i + 2));
		break;
	case F_RST_STREAM:
		if ((x = exchange_find(c, stream))) {
			emit_missing(h, c, x, true, time_ns);
			exchange_remove(c, x);
		}
		break;
	}
	return;
bad:
	stop(h, c, d, "malformed HTTP/2 frame");
}

static void h2_feed(struct http *h, struct http_conn *c, struct dir *d, uint8_t *p, size_t len,
		    uint64_t time_ns)
{
	size_t n, need;

	while (len > 0 && d->proto == P_H2) {
		if (d->skip) { /* a DATA frame's payload: counted, not kept */
			n = len < d->skip ? len : (size_t)d->skip;
			add_body(c, d, d->data_stream, n, false);
			d->skip -= n;
			p += n;
			len -= n;
			if (!d->skip && d->data_end)
				h2_end_stream(h, c, d, d->data_stream, time_ns);
			continue;
		}
		need = d->len < H2_FRAME_HDR ? H2_FRAME_HDR : H2_FRAME_HDR + be24(d->buf);
		n = need - d->len < len ? need - d->len : len;
		if (d->len == 0 || d->map_gen != h->gen) { /* from here on, buf is in p */
			d->map_src = p;
			d->map_idx = d->len;
			d->map_gen = h->gen;
		}
		if (!append(&d->buf, &d->len, &d->cap, p, n)) {
			stop(h, c, d, "out of memory");
			return;
		}
		p += n;
		len -= n;
		if (d->len < H2_FRAME_HDR)
			continue;
		if (d->buf[3] == F_DATA) {
			d->data_stream = be32(d->buf + 5) & 0x7fffffff;
			d->data_end = d->buf[4] & FL_END_STREAM;
			d->skip = be24(d->buf);
			d->len = 0;
			if (!d->skip && d->data_end)
				h2_end_stream(h, c, d, d->data_stream, time_ns);
			continue;
		}
		if (be24(d->buf) > HTTP_MAX_FRAME) {
			stop(h, c, d, "HTTP/2 frame too large");
			return;
		}
		if (d->len == H2_FRAME_HDR + be24(d->buf)) {
			h2_frame(h, c, d, time_ns);
			d->len = 0;
		}
	}
}

/* `gap` bytes of an HTTP/2 direction never captured: within a DATA payload they are
 * counted; elsewhere the frames (and the header compression state) are lost for good. */
static void h2_gap(struct http *h, struct http_conn *c, struct dir *d, uint64_t gap,
		   uint64_t time_ns)
{
	if (d->skip >= gap && d->len == 0) {
		d->skip -= gap;
		add_body(c, d, d->data_stream, gap, true);
		if (!d->skip && d->data_end)
			h2_end_stream(h, c, d, d->data_stream, time_ns);
		return;
	}
	stop(h, c, d, "HTTP/2 bytes were not captured: decoding stopped");
}

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
	struct dir *other = &c->d[d == &c->d[0]];
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
		struct dir *other = &c->d[d == &c->d[0]];

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
			stop(h, c, d, "out of memory");
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
	d = &c->d[sent ? 0 : 1];
	if (gap && d->proto == P_H1)
		h1_gap(h, c, d, gap, call_start, time_ns);
	else if (gap && d->proto == P_H2)
		h2_gap(h, c, d, gap, time_ns);
	else if (gap && d->proto == P_DETECT && d->len)
		d->proto = P_NONE; /* its first bytes are missing */
	switch (d->proto) {
	case P_DETECT:
		if (!append(&d->buf, &d->len, &d->cap, data, len))
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
		exchange_free(&c->x[i]);
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
		emit_missing(h, c, &c->x[j], false, time_ns);
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
