/* SPDX-License-Identifier: Apache-2.0 */
/* chunkq.c - events kept until their turn, in order */
#include "chunkq.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

struct tls_event *chunkq_copy(const struct tls_event *hdr, const void *data)
{
	struct tls_event *copy = malloc(TLS_EVENT_HDR_SIZE + hdr->data_len + 1);

	if (!copy)
		return NULL;
	memcpy(copy, hdr, TLS_EVENT_HDR_SIZE);
	memcpy(copy->data, data, hdr->data_len);
	copy->data[hdr->data_len] = '\0';
	return copy;
}

/* Whether a goes before b: by seq, a call's chunks by offset (ends: by due_ns). */
static bool before(const struct queued_chunk *a, const struct queued_chunk *b, bool by_due)
{
	if (by_due)
		return a->due_ns < b->due_ns;
	if (a->ev->seq != b->ev->seq)
		return a->ev->seq < b->ev->seq;
	return a->ev->offset < b->ev->offset;
}

/* Events come mostly in order: the place is looked for from the end. */
bool chunkq_put(struct chunk_queue *q, struct queued_chunk c, bool by_due)
{
	struct queued_chunk *grown;
	int i;

	if (q->head > 0 && q->n == q->cap) { /* room at the front: move down first */
		memmove(q->v, q->v + q->head, (size_t)(q->n - q->head) * sizeof(*q->v));
		q->n -= q->head;
		q->head = 0;
	}
	grown = grow_for(q->v, q->n, &q->cap, sizeof(*q->v), 256);
	if (!grown)
		return false;
	q->v = grown;
	for (i = q->n; i > q->head && before(&c, &q->v[i - 1], by_due); i--)
		q->v[i] = q->v[i - 1];
	q->v[i] = c;
	q->n++;
	return true;
}

struct queued_chunk *chunkq_first(struct chunk_queue *q)
{
	return q->head < q->n ? &q->v[q->head] : NULL;
}

struct queued_chunk chunkq_take(struct chunk_queue *q)
{
	struct queued_chunk c = q->v[q->head++];

	if (q->head == q->n)
		q->head = q->n = 0;
	return c;
}

void chunkq_free(struct chunk_queue *q)
{
	int i;

	for (i = q->head; i < q->n; i++)
		free(q->v[i].ev);
	free(q->v);
	memset(q, 0, sizeof(*q));
}
