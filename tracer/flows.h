/* SPDX-License-Identifier: Apache-2.0 */
/* flows.h - per connection and direction: where its bytes are, for gaps and redaction */
#ifndef TRACER_FLOWS_H
#define TRACER_FLOWS_H

#include <stdbool.h>
#include <stdint.h>

#include "redact.h"
#include "side.h"

/* One direction: the call whose bytes came last, and the header-line state of redaction. */
struct flow_dir {
	uint64_t call;
	uint32_t call_len, end; /* its length, and where its captured bytes end */
	bool have;
	struct redact_stream red;
};

struct flow {
	uint64_t key;
	struct flow_dir d[2]; /* by enum side */
};

struct flows {
	struct flow *v;
	int n, cap;
};

/* A connection's key: its id, or for events without one (memory BIOs) the process's, marked
 * by the top bit (connection ids never reach it). */
#define FLOWS_KEY_PROCESS (1ull << 63)
uint64_t flows_key(uint64_t conn, uint32_t pid);

/* The connection id of key, 0 when it is a process's (no connection). */
static inline uint64_t flows_key_conn(uint64_t key)
{
	return key & FLOWS_KEY_PROCESS ? 0 : key;
}

/* The process of a process's key (flows_key_conn 0). */
static inline uint32_t flows_key_pid(uint64_t key)
{
	return (uint32_t)key;
}

/* The flow of key, added if new; NULL only when out of memory. */
struct flow *flows_get(struct flows *t, uint64_t key);

/*
 * A chunk of `len` bytes at `offset` into call `call` of `call_len` bytes arrives in
 * direction d: returns the bytes of the direction never captured just before it (the last
 * call's missing tail, this call's missing head or middle); *call_start says whether the
 * chunk starts its call.
 */
uint64_t flows_gap(struct flow_dir *d, uint64_t call, uint32_t call_len, uint32_t offset,
		   uint32_t len, bool *call_start);

/* The call of direction d has ended (its last chunk came): the bytes of it never captured
 * at its end, now counted (not again at the next call). */
uint64_t flows_tail(struct flow_dir *d);

void flows_remove(struct flows *t, uint64_t key);

void flows_free(struct flows *t);

#endif
