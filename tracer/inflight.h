/* SPDX-License-Identifier: Apache-2.0 */
/* inflight.h - the calls still in flight as the tracer stops: a moment for those whose
 * thread is about to return (their bytes are then captured), the rest counted */
#ifndef TRACER_INFLIGHT_H
#define TRACER_INFLIGHT_H

#include <stdint.h>

#include "tracer_bpf.h"

#define INFLIGHT_WAIT_MS 100 /* the longest wait for running threads' calls to return */

/* A call in flight: its entry in tls_slots (by slot) or tls_calls (by tid), its bytes. */
struct inflight_call {
	uint32_t key, tid;
	int table; /* 0: tls_slots, 1: tls_calls */
	size_t off; /* its bytes in inflight.bytes, `size` of them */
	size_t size;
};

/* The calls in flight at one moment (C calls between entry and return probe, what
 * tls_slots and tls_calls hold) and the Go calls in flight by process (tls_go_inflight). */
struct inflight {
	struct inflight_call *calls;
	int n;
	uint8_t *bytes;
	uint32_t *go_tgid;
	uint64_t *go_calls;
	int ngo;
};

/* Reads the calls in flight now into `in` (emptied first; inflight_free frees it). 0, or
 * -ENOMEM, -errno; a table a source tree of one's own does not have holds none. */
int inflight_take(struct tracer_bpf *tb, struct inflight *in);

void inflight_free(struct inflight *in);

/*
 * Waits, up to max_ms, while a call in flight now is still in flight, unchanged, and its
 * thread is running or ready to run (state R): a thread that handed its bytes to the socket
 * may not have reached its return yet, and a stop then would take its probes away first.
 * A thread asleep in its call (a read waiting for data) is not waited for, nor a call that
 * began after this one. The perf buffers are read meanwhile.
 */
void inflight_settle(struct tracer_bpf *tb, int max_ms);

/* The calls in flight both `before` (taken before the probes were detached) and `after`
 * (taken after), unchanged: a call that began while the probes went (its entry probe still
 * there, its return probe gone) is not one. A thread is counted once; Go's, the lesser
 * count of each process. */
uint64_t inflight_count(const struct inflight *before, const struct inflight *after);

#endif
