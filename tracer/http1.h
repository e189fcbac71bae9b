/* SPDX-License-Identifier: Apache-2.0 */
/* http1.h - HTTP/1.x messages taken apart as their bytes come */
#ifndef TRACER_HTTP1_H
#define TRACER_HTTP1_H

#include "httpconn.h"

/* len bytes of HTTP/1.x in direction d (call_start: a call's first). Returns how many of
 * them, at its end, it left: after a 101 Switching Protocols both directions are detected
 * anew (P_DETECT), from those bytes on for d. */
size_t h1_feed(struct http *h, struct http_conn *c, struct dir *d, uint8_t *p, size_t len,
	       bool call_start, uint64_t time_ns);

/* `gap` bytes of direction d were never captured: skipped within a body, else lost. */
void h1_gap(struct http *h, struct http_conn *c, struct dir *d, uint64_t gap, bool call_start,
	    uint64_t time_ns);

/* The message of direction d ended. */
void h1_done(struct http *h, struct http_conn *c, struct dir *d, uint64_t time_ns);

#endif
