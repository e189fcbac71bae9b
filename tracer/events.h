/* events.h - the event stream: chunks reassembled into calls, exact accounting, output */
#ifndef TRACER_EVENTS_H
#define TRACER_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "probes.h"
#include "tls_event.h"

#define EVENTS_MAX_CPUS 1024
#define EVENTS_MAX_PROCS 64

/* A call whose chunks are still arriving (text modes print whole calls). */
struct pending_call {
	int cpu;	       /* a call's chunks are consecutive in one CPU's buffer */
	struct tls_event *hdr; /* the first chunk's header; data[] unused */
	unsigned char *data;
	uint32_t len;	      /* bytes assembled so far (gaps closed up) */
	uint32_t next_offset; /* where the next chunk should start */
};

/* What was seen of one process (by the data that reached user space). */
struct proc_stats {
	uint32_t pid;
	char comm[TLS_COMM_LEN + 1];
	uint64_t calls, bytes_moved, bytes_captured, bytes_truncated;
};

struct events {
	const struct probe_set *probes;
	FILE *out;
	bool json, hexdump;
	uint32_t max_data_size;
	uint64_t start_ns;	 /* CLOCK_MONOTONIC when tracing started */
	int64_t realtime_offset; /* CLOCK_REALTIME - CLOCK_MONOTONIC, for JSON time_ns */
	struct pending_call *pending;
	int npending;
	uint64_t bytes_captured, bytes_unreadable, malformed;
	uint64_t lost_events, lost[EVENTS_MAX_CPUS];
	struct proc_stats procs[EVENTS_MAX_PROCS];
	int nprocs;
};

void events_init(struct events *e, const struct probe_set *probes, FILE *out, bool json,
		 bool hexdump, uint32_t max_data_size);

/* tracer_bpf sample callback: one struct tls_event chunk from CPU cpu. */
void events_on_sample(void *ctx, int cpu, const void *data, int size);

/* tracer_bpf loss callback: the kernel dropped `count` chunks of CPU cpu. */
void events_on_lost(void *ctx, int cpu, uint64_t count);

/* Prints calls still missing their last chunk (the rest counted lost) and frees them. */
void events_finish(struct events *e);

/*
 * Reconciles the BPF counters (`stats`, indexed by enum tls_stat) with what arrived and
 * prints the summary to errs (and as a JSON line to the output in JSON mode). `why` is
 * "target exited" or "stopped". With stats NULL (the counters could not be read) only what
 * arrived is reported, and the summary says the totals are unknown.
 */
void events_summary(struct events *e, const uint64_t *stats, const char *why, FILE *errs);

#endif
