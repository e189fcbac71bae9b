/* SPDX-License-Identifier: Apache-2.0 */
/* httpconn.h - an HTTP connection's two directions and its exchanges, and the services that
 * report its messages: what http.c, http1.c and http2.c share, below them all */
#ifndef TRACER_HTTPCONN_H
#define TRACER_HTTPCONN_H

#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httpmsg.h"
#include "side.h"

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
	struct dir d[2]; /* by enum side */
	struct exchange *x;
	int nx, capx;
	uint32_t exchanges; /* HTTP/1.x exchanges numbered so far */
	bool said;	    /* a decoding error was reported */
};

/* Which side of connection c direction d is. */
static inline enum side dir_side(const struct http_conn *c, const struct dir *d)
{
	return d == &c->d[SIDE_SENT] ? SIDE_SENT : SIDE_RECEIVED;
}

/* The other direction of connection c. */
static inline struct dir *dir_other(struct http_conn *c, const struct dir *d)
{
	return &c->d[side_other(dir_side(c, d))];
}

/* Small helpers of all three. */
static inline bool is_token_char(uint8_t ch)
{
	return ch >= 'A' && ch <= 'Z';
}

static inline uint32_t be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | be24(p + 1);
}

/* A status code: three digits, 100 to 999, then the end or a space; -1 if it is not one. */
static inline int http_parse_status(const char *s)
{
	if (s[0] < '1' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' ||
	    (s[3] && s[3] != ' '))
		return -1;
	return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

/* Appends n bytes to a growing buffer; false when out of memory. */
bool http_append(uint8_t **buf, size_t *len, size_t *cap, const uint8_t *p, size_t n);

/* Frees a message's headers. */
void http_headers_free(struct http_headers *hs);

/* len bytes and a NUL: unlike strndup, a NUL among them (HPACK allows it) keeps the length. */
char *http_copy_bytes(const char *p, size_t len);

/* Adds a header, its value redacted; false when out of memory or over HTTP_MAX_HEAD. */
bool http_headers_add(struct http *h, struct http_headers *hs, const char *name, size_t nlen,
		      const char *value, size_t vlen);

/* The value of header `name` (any case), or NULL. */
const char *http_header_get(const struct http_headers *hs, const char *name);

/* The exchanges of a connection: freed, found by stream (HTTP/1.x: its number), added,
 * removed once reported. */
void http_exchange_free(struct exchange *x);
struct exchange *http_exchange_find(struct http_conn *c, uint32_t stream);
struct exchange *http_exchange_add(struct http_conn *c, uint32_t stream, uint64_t time_ns);
void http_exchange_remove(struct http_conn *c, struct exchange *x);

/* The message of exchange x: its request, or its response as far as it has come. */
struct http_msg http_message(const struct http_conn *c, const struct exchange *x, bool request,
			     uint64_t time_ns);

/* Reports the request or response of exchange x to the decoder's callback. */
void http_emit(struct http *h, struct http_conn *c, const struct exchange *x, bool request,
	       uint64_t time_ns);

/* A response that did not come whole: the stream was reset, or the connection ended. */
void http_emit_missing(struct http *h, struct http_conn *c, struct exchange *x, bool reset,
		       uint64_t time_ns);

/* Decoding of direction d stops (said once per connection, why). */
void http_stop(struct http *h, struct http_conn *c, struct dir *d, const char *why);

/* n more body bytes of the message direction d carries on `stream` (missing: never
 * captured, so the message is incomplete). */
void http_add_body(struct http_conn *c, struct dir *d, uint32_t stream, uint64_t n, bool missing);

#endif
