/* SPDX-License-Identifier: Apache-2.0 */
/* http.h - HTTP/1.x and HTTP/2 decoded from a connection's plaintext, both directions */
#ifndef TRACER_HTTP_H
#define TRACER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httpmsg.h"

/*
 * Bytes of connection `key` in one direction (sent: by the traced process), in order;
 * `gap` bytes before them were never captured; `call_start`: they begin a TLS call (where
 * decoding starts again after a gap; len 0: only a gap, such as a call's truncated end).
 * Complete messages go to on_msg. With redact set,
 * the HPACK bytes of an HTTP/2 header value it masks are masked in data too ('*' as a
 * literal, or Huffman-coded: HPACK stays decodable, and the value reads "****").
 */
void http_data(struct http *h, uint64_t key, bool sent, uint8_t *data, size_t len, uint64_t gap,
	       bool call_start, uint64_t time_ns);

/* The connection ended: a body that runs to the close ends; each request without a
 * response is given as an `unanswered` response (status 0). */
void http_close(struct http *h, uint64_t key, uint64_t time_ns);

void http_free(struct http *h);

#endif
