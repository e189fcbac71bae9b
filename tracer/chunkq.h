/* SPDX-License-Identifier: Apache-2.0 */
/* chunkq.h - events kept until their turn: copies of chunks in the order of (seq, offset),
 * or of the time they are due */
#ifndef TRACER_CHUNKQ_H
#define TRACER_CHUNKQ_H

#include <stdbool.h>
#include <stdint.h>

#include "tls_event.h"

/* One event waiting for its turn (by seq) or for its grace to pass (by due_ns). */
struct queued_chunk {
	int cpu;
	struct tls_event *ev; /* a copy: header and data_len bytes of data, then a NUL */
	uint64_t due_ns;      /* by due time: when the grace has passed */
};

/* Events in order, the first at v[head]. */
struct chunk_queue {
	struct queued_chunk *v;
	int head, n, cap;
};

/* An aligned copy of the chunk (header hdr, then its data and a NUL for redact_bytes);
 * NULL when out of memory. */
struct tls_event *chunkq_copy(const struct tls_event *hdr, const void *data);

/* Puts c in q in its place, by (seq, offset) or by_due; false when out of memory (c is
 * still the caller's then). */
bool chunkq_put(struct chunk_queue *q, struct queued_chunk c, bool by_due);

/* The first of q (NULL when empty), and taking it out (the caller owns its ev then). */
struct queued_chunk *chunkq_first(struct chunk_queue *q);
struct queued_chunk chunkq_take(struct chunk_queue *q);

/* Frees q and the copies still in it. */
void chunkq_free(struct chunk_queue *q);

#endif
