/* SPDX-License-Identifier: Apache-2.0 */
/* sink_json.c - the JSON output: a line per chunk, connection, handshake, hello,
 * certificate, HTTP message, loss, bytes before probes and the summary (docs/REFERENCE.md) */
#include "sink.h"

#include <stdlib.h>

static void json_data(struct sink *s, const struct out_event *ev)
{
	output_json_data(s->out, ev);
}

static void json_conn(struct sink *s, const struct out_event *ev, const char *reason)
{
	output_json_conn(s->out, ev, reason ? "close" : "open", reason);
}

static void json_meta(struct sink *s, enum tls_kind kind, const struct out_event *ev)
{
	if (kind == TLS_KIND_HANDSHAKE)
		output_json_handshake(s->out, ev);
	else if (kind == TLS_KIND_VERIFY)
		output_json_verify(s->out, ev);
	else if (kind == TLS_KIND_VERIFY_OFF)
		output_json_verify_off(s->out, ev);
}

static void json_hello(struct sink *s, const struct out_event *ev, const struct hello *h)
{
	output_json_hello(s->out, ev, h);
}

static void json_cert(struct sink *s, const struct out_event *ev, const struct cert_info *c,
		      const char *who, int depth, int64_t days_left)
{
	output_json_cert(s->out, ev, c, who, depth, days_left);
}

/* A record per request and per response, after the event that ended it. */
static void json_http(struct sink *s, const struct out_event *ev, const struct http_msg *m)
{
	output_json_http(sink_hold(s), ev, m);
}

static void json_lost(struct sink *s, const char *buffer, int cpu, uint64_t count)
{
	output_json_lost(s->out, buffer, cpu, count);
}

static void json_unprobed(struct sink *s, const struct out_unprobed *u)
{
	output_json_unprobed(s->out, u);
}

static void json_summary(struct sink *s, const struct out_summary *sum)
{
	if (sum->counters_known)
		output_json_summary(s->out, sum);
	else
		output_json_summary_unknown(s->out, sum->reason, sum->all.bytes_captured);
}

static void json_free(struct sink *s)
{
	free(s);
}

#define JSON_OPS_BUT_DATA                                                                          \
	.conn = json_conn, .meta = json_meta, .hello = json_hello, .cert = json_cert,              \
	.http = json_http, .lost = json_lost, .unprobed = json_unprobed, .summary = json_summary,  \
	.free = json_free

static const struct sink_ops json_ops = {.data = json_data, JSON_OPS_BUT_DATA};
static const struct sink_ops json_http_only_ops = {JSON_OPS_BUT_DATA}; /* --http-only */

struct sink *sink_json_new(FILE *out, bool http_only)
{
	struct sink *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ops = http_only ? &json_http_only_ops : &json_ops;
	s->out = out;
	return s;
}
