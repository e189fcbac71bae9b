/* SPDX-License-Identifier: Apache-2.0 */
/* events_state.h - the event stream's state (struct events) and its settings: what events.c
 * and the modules it delivers through (event_view.c, handshake.c) share, below them all */
#ifndef TRACER_EVENTS_STATE_H
#define TRACER_EVENTS_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "calljoin.h"
#include "cgroup.h"
#include "chunkq.h"
#include "connfilter.h"
#include "conns.h"
#include "flows.h"
#include "http.h"
#include "probes.h"
#include "sink.h"
#include "tls_event.h"

#define EVENTS_MAX_CPUS 1024

/*
 * Events are delivered in the order of their seq (tls_event.h), straight from the perf
 * buffer when it is their turn. One that comes before its turn (an earlier event is still in
 * another CPU's buffer) is kept until the gap is filled, or until it is older than the newest
 * read round by this much: then what is missing is taken for lost (and counted late should
 * it come). It bounds how long one BPF run (a whole call of up to 16 MiB) takes.
 */
#define EVENTS_REORDER_WINDOW_NS 50000000ull

/*
 * A connection's close (and a process's exit, which closes them all) is put this much later
 * among the events than it happened: a call of that connection may return just after
 * another thread (a Go program's other goroutine) closed the socket - its bytes went out
 * before the close - and is shown before the close, on its connection, not after it on
 * none. (The close keeps its own time_ns.)
 */
#define EVENTS_CLOSE_GRACE_NS 25000000ull

/* Bytes of events kept waiting for their turn at most: past it the oldest gap is taken for
 * lost at once, and the kernel's loss counts what does not fit in the perf buffers. */
#define EVENTS_QUEUE_BUDGET (8u << 20)

/* Connections the filter kept that closed, remembered for their late chunks. */
#define EVENTS_KEPT_CLOSED 64

/* Hellos sent on sockets no connection was known for yet, kept for them at most (then the
 * oldest gives way). */
#define EVENTS_WAITING_HELLOS 64

/* A hello sent before its connection was known: its event (a copy of the header: PID pid's
 * socket fd, inode in result) and what it said. */
struct waiting_hello {
	struct tls_event *ev;
	struct hello h;
};

/* One process: what the BPF counters say (enum tls_stat) and what reached user space. */
struct proc_stats {
	uint32_t pid;
	char comm[TLS_COMM_LEN + 1];
	uint64_t bpf[TLS_STAT_MAX];
	uint64_t bytes_captured, bytes_unreadable;
	uint64_t unprobed_sent, unprobed_recv; /* TLS bytes on its sockets before probes */
};

/* Where the ordered events go and what is shown: everything events is given. */
struct events_config {
	const struct probe_set *probes; /* the probes (and, through ->older, replaced ones) */
	struct sink **sinks;		/* the outputs, each handed every event it takes */
	int nsinks;
	uint32_t max_data_size;		  /* a chunk's most bytes (-s) */
	struct http *http;		  /* --http, or NULL */
	const struct redact *redact;	  /* --redact, or NULL */
	const struct conn_filter *filter; /* --host, --port, --sni; NULL: every connection */
	/* The self-test: data chunks alone go to the sinks, in order as BPF sent them; no
	 * connections, handshakes or ties are kept. */
	bool data_only;
};

struct events {
	struct events_config cfg; /* as events_init was given it */
	bool whole_calls;	  /* a sink takes whole calls: chunks are put together */
	bool chunks;		  /* a sink takes chunks */
	uint64_t start_ns;	  /* CLOCK_MONOTONIC when tracing started */
	int64_t realtime_offset;  /* CLOCK_REALTIME - CLOCK_MONOTONIC, for JSON time_ns */
	struct chunk_queue queue; /* events come before their turn */
	struct chunk_queue ends;  /* closes and exits in their grace, by due_ns */
	size_t queued_bytes;	  /* held in queue */
	uint64_t next_seq;	  /* whose turn it is: the seq of the next event */
	uint64_t late;		  /* chunks that came after their turn was given up */
	struct calljoin calls;	  /* for the sinks that take whole calls */
	uint64_t bytes_captured, bytes_unreadable, malformed;
	uint64_t dropped, bytes_dropped; /* chunks not kept: out of memory */
	int out_err;			 /* errno of the first failed write of a sink */
	uint64_t lost_events, lost[EVENTS_MAX_CPUS];
	uint64_t meta_lost;	    /* events of tls_meta the kernel said it dropped */
	uint64_t bpf[TLS_STAT_MAX]; /* the BPF counters summed over processes */
	struct proc_stats *procs;
	int nprocs;
	uint64_t *probe_calls; /* [probe id]: calls whose first chunk came through it */
	uint64_t nprobe_calls;
	struct conn_table conns;
	struct cgroups cgroups;	     /* the labels of the cgroup ids events named */
	uint64_t calls_without_conn; /* captured calls whose connection was unknown */
	uint64_t conns_filtered;     /* connections --host/--port/--sni left out */
	uint64_t certs_undecoded;    /* certificates not decoded (cut, or not X.509) */
	/* certificates --host/--port/--sni could not decide on (their connection unknown, or
	 * not yet known to match) */
	uint64_t certs_unshown;
	uint64_t kept_closed[EVENTS_KEPT_CLOSED]; /* the last connections kept and closed */
	unsigned int kept_closed_next;
	struct waiting_hello hellos[EVENTS_WAITING_HELLOS];
	int nhellos;
	uint64_t calls_in_flight;    /* calls that had not returned as the tracer stopped */
	struct flows flows;	     /* gaps and redaction state per connection and direction */
	const struct tls_event *cur; /* the event being delivered (HTTP records name it) */
	uint64_t http_records, http_stopped;
	uint64_t unprobed_sent, unprobed_recv, unprobed_conns; /* TLS bytes before probes */
};

/* Hands each of e's sinks that has `op` the rest of the arguments. */
#define TO_SINKS(e, op, ...) SINKS_EACH((e)->cfg.sinks, (e)->cfg.nsinks, op, ##__VA_ARGS__)

#endif
