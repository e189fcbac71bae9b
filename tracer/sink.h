/* SPDX-License-Identifier: Apache-2.0 */
/* sink.h - the outputs of the event stream behind one interface: text, JSON, pcapng, counts */
#ifndef TRACER_SINK_H
#define TRACER_SINK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cert.h"
#include "hello.h"
#include "http.h"
#include "output.h"
#include "pcapng.h"
#include "tls_event.h"

struct sink;

/*
 * What the event stream (events.c) hands an output, each in the stream's order. An output
 * leaves NULL what it does not show. ev is the event as output.h names it (its time_ns since
 * tracing started, unix_ns the wall clock). The stream decides what is shown at all (the
 * connection filter, the certificates the TLS library parsed, a connection opened once);
 * a sink decides how, and which of its options show it.
 */
struct sink_ops {
	/* Before the first event (the text's column header). */
	void (*begin)(struct sink *s);
	/* A data chunk of a connection shown (redacted): ev->data_len bytes at ev->offset of
	 * the call (ev->truncated on its last). */
	void (*data)(struct sink *s, const struct out_event *ev);
	/* A whole call, its chunks put together by the stream for the sinks that have this
	 * (ev->lost: its bytes that never arrived), once its last chunk came or can no longer. */
	void (*call)(struct sink *s, const struct out_event *ev);
	/* Connection ev->conn opened (reason NULL) or ended (reason "close" or "exit"). */
	void (*conn)(struct sink *s, const struct out_event *ev, const char *reason);
	/* The stream of flow `key` (flows_key) ended at Unix time unix_ns: shown or not. */
	void (*flow_end)(struct sink *s, uint64_t key, uint64_t unix_ns);
	/* A handshake that ended, a verification's result, verification turned off: kind. */
	void (*meta)(struct sink *s, enum tls_kind kind, const struct out_event *ev);
	/* A hello sent or received (ev->func "ClientHello" or "ServerHello"). */
	void (*hello)(struct sink *s, const struct out_event *ev, const struct hello *h);
	/* A certificate the peer presented: whose (who: "server", "client", NULL not known),
	 * its place in the chain (depth; -1 not known), the days it has left. */
	void (*cert)(struct sink *s, const struct out_event *ev, const struct cert_info *c,
		     const char *who, int depth, int64_t days_left);
	/* An HTTP message decoded in the event being delivered (ev names its connection),
	 * before that event is shown: written through sink_hold, or kept by the sink until
	 * release. */
	void (*http)(struct sink *s, const struct out_event *ev, const struct http_msg *m);
	/* The event being delivered has been shown: what the sink kept of it is written (before
	 * what sink_hold held). */
	void (*release)(struct sink *s);
	/* The kernel dropped `count` events of CPU cpu's buffer: "meta", or NULL the data's. */
	void (*lost)(struct sink *s, const char *buffer, int cpu, uint64_t count);
	/* A connection's TLS bytes before its process had probes. */
	void (*unprobed)(struct sink *s, const struct out_unprobed *u);
	/* The closing account (sum->counters_known false: the BPF counters were not read). */
	void (*summary)(struct sink *s, const struct out_summary *sum);
	/* Frees the sink and what it made (not its stream). */
	void (*free)(struct sink *s);
};

/* Bytes written while an event is delivered, for after it. */
struct sink_held {
	FILE *f; /* a memstream, or NULL */
	char *buf;
	size_t size;
};

/* An output: each kind begins its own struct with one (sink_text.c and the others). */
struct sink {
	const struct sink_ops *ops;
	FILE *out; /* the stream it writes, whose errors the run notes; NULL: none of ours */
	struct sink_held held;
};

/* How text rows look (the options that shape them). */
struct sink_text_opts {
	bool hexdump;	   /* -x: payloads as hex dumps */
	bool latency;	   /* -l: the LAT(ms) column */
	bool handshakes;   /* --handshake: a row per handshake, hello and certificate */
	bool http_only;	   /* --http-only: HTTP lines, no data rows */
	bool http_headers; /* -v with --http: each header under its line */
};

/* Each returns a sink writing to out, or NULL when out of memory. */
struct sink *sink_text_new(FILE *out, const struct sink_text_opts *o);
struct sink *sink_json_new(FILE *out, bool http_only);
struct sink *sink_pcapng_new(struct pcapng *w); /* -w: w is the caller's */
struct sink *sink_count_new(FILE *out);		/* --count */

/*
 * Output held until the event being delivered is shown (HTTP lines and records come while
 * their chunk is decoded, before it is shown): the stream to write it to. Out of memory for
 * holding it, s's own stream: shown at once, before its event rather than after, not lost.
 */
FILE *sink_hold(struct sink *s);

/* After each event: what s kept (its release op) and what it held are written to its
 * stream. */
void sink_release(struct sink *s);

/* Frees s through its kind, and what it held (NULL: nothing). */
void sink_free(struct sink *s);

/* Hands each of the n sinks that has `op` the rest of the arguments, after itself. */
#define SINKS_EACH(sinks, n, op, ...)                                                              \
	do {                                                                                       \
		for (int i_ = 0; i_ < (n); i_++) {                                                 \
			struct sink *s_ = (sinks)[i_];                                             \
			if (s_->ops->op)                                                           \
				s_->ops->op(s_, ##__VA_ARGS__);                                    \
		}                                                                                  \
	} while (0)

#endif
