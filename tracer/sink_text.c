/* SPDX-License-Identifier: Apache-2.0 */
/* sink_text.c - the text output: a row per call with its payload, a line per connection
 * change, and rows for handshakes, hellos, certificates and HTTP exchanges */
#define _GNU_SOURCE
#include "sink.h"
#include "grow.h"

#include <stdio.h>
#include <stdlib.h>

/* An HTTP line held until the event that ended its message has been shown (its row may
 * come after the message was decoded), with the connection line it needs should the rows
 * shown by then be another connection's. */
struct held_http {
	uint64_t conn;
	char *conn_line;
	char *text;
};

struct text_sink {
	struct sink base;
	struct sink_text_opts o;
	uint64_t shown_conn; /* the connection of the rows shown last; UINT64_MAX: none */
	struct held_http *held;
	int nheld, capheld;
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

/* What output_conn_line (http NULL) or output_http writes of ev, as a string (malloc'd), or
 * NULL: out of memory. */
static char *rendered(const struct out_event *ev, const struct http_msg *http, bool headers)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	if (http)
		output_http(f, ev, http, headers);
	else
		output_conn_line(f, ev);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* A line per response, after the event that ended it has been shown (text_release). */
static void text_http(struct sink *s, const struct out_event *ev, const struct http_msg *m)
{
	struct text_sink *t = text_of(s);
	struct held_http h = {.conn = ev->conn}, *grown;

	if (m->request)
		return;
	if (t->o.http_only) { /* no rows: no connection lines */
		output_http(sink_hold(s), ev, m, t->o.http_headers);
		return;
	}
	h.conn_line = rendered(ev, NULL, false);
	h.text = rendered(ev, m, t->o.http_headers);
	grown = grow_for(t->held, t->nheld, &t->capheld, sizeof(*t->held), 4);
	if (!h.conn_line || !h.text || !grown) { /* out of memory: shown now, before its row */
		free(h.conn_line);
		free(h.text);
		text_conn_change(t, s->out, ev);
		output_http(s->out, ev, m, t->o.http_headers);
		return;
	}
	t->held = grown;
	t->held[t->nheld++] = h;
}

/* The event is shown: the HTTP lines it ended follow, each with its connection's line when
 * the rows shown last were another connection's. */
static void text_release(struct sink *s)
{
	struct text_sink *t = text_of(s);
	int i;

	for (i = 0; i < t->nheld; i++) {
		if (t->shown_conn != t->held[i].conn)
			fputs(t->held[i].conn_line, s->out);
		t->shown_conn = t->held[i].conn;
		fputs(t->held[i].text, s->out);
		free(t->held[i].conn_line);
		free(t->held[i].text);
	}
	t->nheld = 0;
}

static void text_free(struct sink *s)
{
	struct text_sink *t = text_of(s);
	int i;

	for (i = 0; i < t->nheld; i++) {
		free(t->held[i].conn_line);
		free(t->held[i].text);
	}
	free(t->held);
	free(t);
}

#define TEXT_OPS_BUT_CALL                                                                          \
	.meta = text_meta, .hello = text_hello, .cert = text_cert, .http = text_http,              \
	.release = text_release, .free = text_free

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
