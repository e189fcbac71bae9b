/* SPDX-License-Identifier: Apache-2.0 */
/* http2.c - HTTP/2 frames taken apart as their bytes come: header blocks inflated by
 * nghttp2's HPACK decoder (their value bytes masked for --redact), DATA counted, streams
 * paired, gaps */
#define _GNU_SOURCE /* strcasestr */
#include "http2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The stream of direction d ended (END_STREAM). */
static void h2_end_stream(struct http *h, struct http_conn *c, struct dir *d, uint32_t stream,
			  uint64_t time_ns)
{
	struct exchange *x = http_exchange_find(c, stream);

	if (!x)
		return;
	if (d->client) {
		http_emit(h, c, x, true, time_ns);
	} else {
		http_emit(h, c, x, false, time_ns);
		http_exchange_remove(c, x);
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
	struct exchange *x = http_exchange_find(c, d->block_stream);
	struct http_headers push = {0}, *hs;
	const uint8_t *in = d->block;
	size_t inlen = d->block_len;

	if (!x && !d->block_push && !(x = http_exchange_add(c, d->block_stream, time_ns))) {
		http_stop(h, c, d, "too many HTTP/2 streams at once");
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
			http_stop(h, c, d, nghttp2_strerror((int)rv));
			break;
		}
		in += rv;
		inlen -= (size_t)rv;
		if ((flags & NGHTTP2_HD_INFLATE_EMIT) &&
		    !http_headers_add(h, hs, (const char *)nv.name, nv.namelen,
				      (const char *)nv.value, nv.valuelen)) {
			http_stop(h, c, d, "HTTP/2 header block too large");
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
	http_headers_free(&push);
	if (!x || d->proto != P_H2)
		return;
	if (d->client) {
		const char *v;

		if (!x->method && (v = http_header_get(hs, ":method")))
			x->method = strdup(v);
		if (!x->path && (v = http_header_get(hs, ":path")))
			x->path = strdup(v);
		if (!x->authority && (v = http_header_get(hs, ":authority")))
			x->authority = strdup(v);
	} else {
		int i;

		for (i = 0; i < hs->n; i++) /* the last :status: 1xx ones come first */
			if (!strcmp(hs->v[i].name, ":status") &&
			    http_parse_status(hs->v[i].value) > 0)
				x->status = http_parse_status(hs->v[i].value);
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
		    !http_append(&d->block, &d->block_len, &d->block_cap, p, n)) {
			http_stop(h, c, d, "HTTP/2 header block too large");
			return;
		}
		if (flags & FL_END_HEADERS)
			h2_block(h, c, d, time_ns);
		break;
	case F_SETTINGS: /* the sender's decoder table size bounds the other way's encoder */
		for (i = 0; !(flags & FL_ACK) && i + 6 <= n; i += 6)
			if (((uint32_t)p[i] << 8 | p[i + 1]) == 1)
				nghttp2_hd_inflate_change_table_size(dir_other(c, d)->inf,
								     be32(p + i + 2));
		break;
	case F_RST_STREAM:
		if ((x = http_exchange_find(c, stream))) {
			http_emit_missing(h, c, x, true, time_ns);
			http_exchange_remove(c, x);
		}
		break;
	}
	return;
bad:
	http_stop(h, c, d, "malformed HTTP/2 frame");
}

void h2_feed(struct http *h, struct http_conn *c, struct dir *d, uint8_t *p, size_t len,
	     uint64_t time_ns)
{
	size_t n, need;

	while (len > 0 && d->proto == P_H2) {
		if (d->skip) { /* a DATA frame's payload: counted, not kept */
			n = len < d->skip ? len : (size_t)d->skip;
			http_add_body(c, d, d->data_stream, n, false);
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
		if (!http_append(&d->buf, &d->len, &d->cap, p, n)) {
			http_stop(h, c, d, "out of memory");
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
			http_stop(h, c, d, "HTTP/2 frame too large");
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
void h2_gap(struct http *h, struct http_conn *c, struct dir *d, uint64_t gap, uint64_t time_ns)
{
	if (d->skip >= gap && d->len == 0) {
		d->skip -= gap;
		http_add_body(c, d, d->data_stream, gap, true);
		if (!d->skip && d->data_end)
			h2_end_stream(h, c, d, d->data_stream, time_ns);
		return;
	}
	http_stop(h, c, d, "HTTP/2 bytes were not captured: decoding stopped");
}
