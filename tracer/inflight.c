/* SPDX-License-Identifier: Apache-2.0 */
/* inflight.c - the calls still in flight as the tracer stops: a moment for those whose
 * thread is about to return (their bytes are then captured), the rest counted */
#define _GNU_SOURCE
#include "inflight.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grow.h"
#include "procmaps.h"
#include "tls_event.h"

/* Adds table t's entries (keys u32) that hold a call: every tls_calls entry, and a
 * tls_slots entry whose value begins with a nonzero u64 owner (its pid_tgid). */
static int add_calls(struct inflight *in, int *cap, size_t *bytes_cap, int t, const uint8_t *keys,
		     const uint8_t *values, int n, size_t ks, size_t vs)
{
	uint64_t owner;
	uint32_t key;
	size_t used = in->n ? in->calls[in->n - 1].off + in->calls[in->n - 1].size : 0;
	void *grown;
	int i;

	if (ks != sizeof(key) || (t == 0 && vs < sizeof(owner)))
		return 0; /* not the tables this reads */
	for (i = 0; i < n; i++) {
		memcpy(&key, keys + (size_t)i * ks, sizeof(key));
		memcpy(&owner, values + (size_t)i * vs, sizeof(owner));
		if (t == 0 && !owner)
			continue;
		grown = grow_for(in->calls, in->n, cap, sizeof(*in->calls), 16);
		if (!grown)
			return -ENOMEM;
		in->calls = grown;
		if (used + vs > *bytes_cap) {
			size_t want = (used + vs) * 2;
			uint8_t *b = realloc(in->bytes, want);

			if (!b)
				return -ENOMEM;
			in->bytes = b;
			*bytes_cap = want;
		}
		memcpy(in->bytes + used, values + (size_t)i * vs, vs);
		in->calls[in->n++] = (struct inflight_call){.key = key,
							    .tid = t == 0 ? (uint32_t)owner : key,
							    .table = t,
							    .off = used,
							    .size = vs};
		used += vs;
	}
	return 0;
}

/* The Go calls in flight by process: tls_go_inflight's u32 tgid keys and u64 counts. */
static int add_go(struct inflight *in, const uint8_t *keys, const uint8_t *values, int n, size_t ks,
		  size_t vs)
{
	int i;

	if (ks != sizeof(*in->go_tgid) || vs != sizeof(*in->go_calls) || n <= 0)
		return 0;
	in->go_tgid = malloc((size_t)n * sizeof(*in->go_tgid));
	in->go_calls = malloc((size_t)n * sizeof(*in->go_calls));
	if (!in->go_tgid || !in->go_calls)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		memcpy(&in->go_tgid[i], keys + (size_t)i * ks, ks);
		memcpy(&in->go_calls[i], values + (size_t)i * vs, vs);
	}
	in->ngo = n;
	return 0;
}

int inflight_take(struct tracer_bpf *tb, struct inflight *in)
{
	static const char *const tables[] = {SLOTS_TABLE, CALLS_TABLE, GO_INFLIGHT_TABLE};
	size_t bytes_cap = 0, ks, vs;
	void *keys, *values;
	int t, n, cap = 0, err = 0;

	inflight_free(in);
	for (t = 0; t < 3 && !err; t++) {
		n = tracer_bpf__read_all(tb, tables[t], &keys, &values, &ks, &vs);
		if (n == -ENOENT)
			continue; /* not in these sources */
		if (n < 0) {
			err = n;
			break;
		}
		err = t < 2 ? add_calls(in, &cap, &bytes_cap, t, keys, values, n, ks, vs)
			    : add_go(in, keys, values, n, ks, vs);
		free(keys);
		free(values);
	}
	if (err)
		inflight_free(in);
	return err;
}

void inflight_free(struct inflight *in)
{
	free(in->calls);
	free(in->bytes);
	free(in->go_tgid);
	free(in->go_calls);
	memset(in, 0, sizeof(*in));
}

/* Whether call c of `of` is in `in` too, with the same bytes. */
static bool holds(const struct inflight *in, const struct inflight *of,
		  const struct inflight_call *c)
{
	int i;

	for (i = 0; i < in->n; i++) {
		const struct inflight_call *d = &in->calls[i];

		if (d->table == c->table && d->key == c->key && d->size == c->size &&
		    memcmp(in->bytes + d->off, of->bytes + c->off, c->size) == 0)
			return true;
	}
	return false;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Whether call c of `in` is still in its table, with the same bytes (one lookup). */
static bool still_in_flight(struct tracer_bpf *tb, const struct inflight *in,
			    const struct inflight_call *c)
{
	uint8_t *now = malloc(c->size);
	bool same = now &&
		    tracer_bpf__lookup_key(tb, c->table ? CALLS_TABLE : SLOTS_TABLE, &c->key,
					   sizeof(c->key), now, c->size) == 0 &&
		    memcmp(now, in->bytes + c->off, c->size) == 0;

	free(now);
	return same;
}

void inflight_settle(struct tracer_bpf *tb, int max_ms)
{
	uint64_t until = now_ns() + (uint64_t)max_ms * 1000000ull;
	struct inflight first = {0};
	struct proc_stat st;
	bool running = true;
	int i;

	if (inflight_take(tb, &first) == 0)
		while (running && now_ns() < until) {
			for (running = false, i = 0; i < first.n && !running; i++)
				running = proc_read_stat((pid_t)first.calls[i].tid, &st) == 0 &&
					  st.state == 'R' &&
					  still_in_flight(tb, &first, &first.calls[i]);
			if (running)
				tracer_bpf__poll(tb, 1); /* a wait of 1 ms that reads what comes */
		}
	inflight_free(&first);
}

uint64_t inflight_count(const struct inflight *before, const struct inflight *after)
{
	uint64_t n = 0;
	int i, j;

	for (i = 0; i < after->n; i++) {
		const struct inflight_call *c = &after->calls[i];

		for (j = 0; j < i && after->calls[j].tid != c->tid; j++)
			;
		if (j == i && holds(before, after, c)) /* a thread's first, unchanged */
			n++;
	}
	for (i = 0; i < after->ngo; i++)
		for (j = 0; j < before->ngo; j++)
			if (before->go_tgid[j] == after->go_tgid[i])
				n += before->go_calls[j] < after->go_calls[i] ? before->go_calls[j]
									      : after->go_calls[i];
	return n;
}
