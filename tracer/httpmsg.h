/* SPDX-License-Identifier: Apache-2.0 */
/* httpmsg.h - what HTTP decoding reports (messages, their headers) and the decoder's state
 * and callbacks: shared by http.c and the modules below it */
#ifndef TRACER_HTTPMSG_H
#define TRACER_HTTPMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEAD (64u << 10) /* bytes of an HTTP/1.x head, or of an HTTP/2 block */
#define HTTP_MAX_FRAME (1u << 20) /* bytes of an HTTP/2 frame other than DATA */
#define HTTP_MAX_PENDING 64	  /* requests waiting for their response, per connection */

struct http_header {
	char *name, *value;
};

struct http_headers {
	struct http_header *v;
	int n, cap;
	size_t bytes;
};

/* A message that ended; a response carries its request's method, path and headers. */
struct http_msg {
	const char *version; /* "1.0", "1.1", "2" */
	uint64_t key;	     /* the connection, as given to http_data */
	uint32_t stream;     /* HTTP/2: the stream; HTTP/1.x: the exchange's number, from 1 */
	bool request;
	const char *method, *path, *authority;	/* NULL: not known */
	int status;				/* response: its status; 0 none (reset) */
	const struct http_headers *headers;	/* this message's */
	const struct http_headers *req_headers; /* response: its request's (NULL: unknown) */
	uint64_t body_bytes, req_body_bytes;
	uint64_t latency_ns; /* response: from its request's first byte to its own last */
	bool incomplete;     /* bytes of it were never captured */
	bool reset;	     /* HTTP/2: the stream was reset before its end */
	bool unanswered;     /* no response came before the connection ended (status 0) */
};

typedef void (*http_msg_fn)(void *ctx, const struct http_msg *m);

struct http_conn;
struct redact;

struct http {
	struct http_conn **v;
	int n, cap;
	uint64_t gen;	   /* http_data calls so far: which data pointers are live */
	uint64_t unmasked; /* bytes of redacted HTTP/2 values shown before they were known */
	http_msg_fn on_msg;
	void *ctx;
	const struct redact *redact; /* NULL: header values as they are */
	void (*on_error)(void *ctx, uint64_t key, const char *why); /* decoding stopped */
};

#endif
