/* SPDX-License-Identifier: Apache-2.0 */
/* sink_text.c - the text output: a row per call with its payload, a line per connection
 * change, and rows for handshakes, hellos, certificates and HTTP exchanges */
#include "sink.h"

#include <stdlib.h>

struct text_sink {
	struct sink base;
	struct sink_text_opts o;
	uint64_t shown_conn; /* the connection of the rows shown last; UINT64_MAX: none */
};

static struct text_sink *text_of(struct sink *s)
{
	return (struct text_sink *)s;
}

static void text_begin(struct sink *s)
{
	output_header(s->out, text_of(s)->o.latency);
}

/* The connection line, when ev's connection is not the one of the rows shown last. */
static void text_conn_change(struct text_sink *t, FILE *out, const struct out_event *ev)
{
	if (t->shown_conn != ev->conn)
		output_conn_line(out, ev);
	t->shown_conn = ev->conn;
}

static void text_call(struct sink *s, const struct out_event *ev)
{
	struct text_sink *t = text_of(s);

	text_conn_change(t, s->out, ev);
	output_event(s->out, ev, t->o.hexdump, t->o.latency);
}

static void text_meta(struct sink *s, enum tls_kind kind, const struct out_event *ev)
{
	if (kind == TLS_KIND_HANDSHAKE && text_of(s)->o.handshakes)
		output_handshake(s->out, ev);
	else if (kind == TLS_KIND_VERIFY)
		output_verify(s->out, ev);
	else if (kind == TLS_KIND_VERIFY_OFF)
		output_verify_off(s->out, ev);
}

static void text_hello(struct sink *s, const struct out_event *ev, const struct hello *h)
{
	if (text_of(s)->o.handshakes)
		output_hello(s->out, ev, h);
}

/* With --handshake a row per certificate; always a warning when it ends soon. */
static void text_cert(struct sink *s, const struct out_event *ev, const struct cert_info *c,
		      const char *who, int depth, int64_t days_left)
{
	if (text_of(s)->o.handshakes)
		output_cert(s->out, ev, c, who, depth);
	if (days_left <= CERT_WARN_DAYS)
		output_cert_expiry(s->out, ev, c, who, depth, days_left);
}

/* A line per response, after the event that ended it has been shown. */
static void text_http(struct sink *s, const struct out_event *ev, const struct http_msg *m)
{
	struct text_sink *t = text_of(s);
	FILE *held;

	if (m->request)
		return;
	held = sink_hold(s);
	if (t->o.http_only)
		t->shown_conn = ev->conn; /* no rows: no connection lines */
	else
		text_conn_change(t, held, ev);
	output_http(held, ev, m, t->o.http_headers);
}

static void text_free(struct sink *s)
{
	free(text_of(s));
}

#define TEXT_OPS_BUT_CALL                                                                          \
	.meta = text_meta, .hello = text_hello, .cert = text_cert, .http = text_http,              \
	.free = text_free

static const struct sink_ops text_ops = {.begin = text_begin, .call = text_call, TEXT_OPS_BUT_CALL};
/* --http-only: no header, no data rows; the stream need not put calls together for it */
static const struct sink_ops text_http_only_ops = {TEXT_OPS_BUT_CALL};

struct sink *sink_text_new(FILE *out, const struct sink_text_opts *o)
{
	struct text_sink *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->base.ops = o->http_only ? &text_http_only_ops : &text_ops;
	t->base.out = out;
	t->o = *o;
	t->shown_conn = UINT64_MAX;
	return &t->base;
}
