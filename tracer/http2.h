/* SPDX-License-Identifier: Apache-2.0 */
/* http2.h - HTTP/2 frames taken apart as their bytes come */
#ifndef TRACER_HTTP2_H
#define TRACER_HTTP2_H

#include "httpconn.h"

/* len bytes of HTTP/2 frames in direction d. */
void h2_feed(struct http *h, struct http_conn *c, struct dir *d, uint8_t *p, size_t len,
	     uint64_t time_ns);

/* `gap` bytes of an HTTP/2 direction never captured: within a DATA payload they are
 * counted; elsewhere the frames (and the header compression state) are lost for good. */
void h2_gap(struct http *h, struct http_conn *c, struct dir *d, uint64_t gap, uint64_t time_ns);

#endif
