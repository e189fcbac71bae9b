/* SPDX-License-Identifier: Apache-2.0 */
/* events.h - the event stream: chunks put in call order, what is shown decided, accounted,
 * handed to the sinks */
#ifndef TRACER_EVENTS_H
#define TRACER_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "events_state.h"

/* Starts e (its memory is the caller's) with what cfg gives. */
void events_init(struct events *e, const struct events_config *cfg);

/* Before the first event: each sink begins (the text's column header). */
void events_begin(struct events *e);

/* --http: decoded messages and decoding failures (set as the decoder's callbacks). */
void events_on_http(void *ctx, const struct http_msg *m);
void events_on_http_error(void *ctx, uint64_t key, const char *why);

/* tracer_bpf sample callback: one struct tls_event chunk from CPU cpu: delivered at once
 * when it is its turn, else kept until it is. */
void events_on_sample(void *ctx, int cpu, const void *data, int size);

/* A traced process's TLS call first used socket fd, now connection `conn`: its addresses
 * are looked up at once, before the socket may close. */
void events_on_conn(struct events *e, uint32_t pid, int fd, uint64_t conn, uint64_t ino);

/* tracer_bpf loss callback: the kernel dropped `count` chunks of CPU cpu. */
void events_on_lost(void *ctx, int cpu, uint64_t count);

/* The same for tls_meta: `count` events of other kinds (connections, handshakes). */
void events_on_meta_lost(void *ctx, int cpu, uint64_t count);

/* Monotonic nanoseconds, the clock of the events' time_ns. */
uint64_t events_now(void);

/*
 * After a read round that began at read_start_ns: events still waiting behind a gap older
 * than that minus the reorder window are delivered (the gap is taken for lost), and so are
 * the ends whose grace has passed by then. UINT64_MAX delivers everything (after the last
 * drain).
 */
void events_deliver(struct events *e, uint64_t read_start_ns);

/* Prints calls still missing their last chunk (the rest counted lost) and frees them. */
void events_finish(struct events *e);

/* tracer_bpf__sum_percpu callback: one process's BPF counters (key: its tgid). */
void events_on_counters(void *ctx, uint32_t pid, const uint64_t *sums, int n);

/*
 * Reconciles the BPF counters (given through events_on_counters) with what arrived and
 * prints the summary through diag (and hands it to the sinks: the JSON record), with the
 * calls captured through each TLS library probed. `why` is
 * "target exited" or "stopped". With have_counters false (they could not be read) only
 * what arrived is reported, and the summary says the totals are unknown.
 */
void events_summary(struct events *e, bool have_counters, const char *why);

/* Whether every byte the BPF counters say was moved was captured and delivered in order:
 * nothing lost, truncated, unreadable, late or malformed (after events_on_counters). */
bool events_all_captured(const struct events *e);

/* A process sent and received these TLS bytes on a socket before it had probes
 * (unprobed.c): counted for the summary, and handed to the sinks. */
void events_add_unprobed(struct events *e, const struct out_unprobed *u);

/* Frees what events_init and the stream allocated. */
void events_free(struct events *e);

#endif
