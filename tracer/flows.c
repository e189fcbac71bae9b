/* SPDX-License-Identifier: Apache-2.0 */
/* flows.c - per connection and direction: where its bytes are, for gaps and redaction */
#include "flows.h"
#include "grow.h"

#include <stdlib.h>
#include <string.h>

uint64_t flows_key(uint64_t conn, uint32_t pid)
{
	return conn ? conn : FLOWS_KEY_PROCESS | pid;
}

struct flow *flows_get(struct flows *t, uint64_t key)
{
	struct flow *grown;
	int i;

	for (i = t->n - 1; i >= 0; i--)
		if (t->v[i].key == key)
			return &t->v[i];
	grown = grow_for(t->v, t->n, &t->cap, sizeof(*t->v), 16);
	if (!grown)
		return NULL;
	t->v = grown;
	memset(&t->v[t->n], 0, sizeof(t->v[0]));
	t->v[t->n].key = key;
	return &t->v[t->n++];
}

uint64_t flows_gap(struct flow_dir *d, uint64_t call, uint32_t call_len, uint32_t offset,
		   uint32_t len, bool *call_start)
{
	uint64_t gap;

	if (!d->have || d->call != call) {
		gap = (d->have ? d->call_len - d->end : 0) + offset;
		d->have = true;
		d->call = call;
		d->call_len = call_len;
		d->end = offset + len;
		*call_start = offset == 0;
		return gap;
	}
	*call_start = false;
	gap = offset > d->end ? offset - d->end : 0;
	if (offset + len > d->end)
		d->end = offset + len;
	return gap;
}

uint64_t flows_tail(struct flow_dir *d)
{
	uint64_t tail = d->have && d->call_len > d->end ? d->call_len - d->end : 0;

	d->end = d->call_len;
	return tail;
}

void flows_remove(struct flows *t, uint64_t key)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].key == key) {
			t->v[i] = t->v[--t->n];
			return;
		}
}

void flows_free(struct flows *t)
{
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}
