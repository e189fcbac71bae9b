/* SPDX-License-Identifier: Apache-2.0 */
/* calljoin.c - a call's chunks put together, for the outputs that show whole calls */
#include "calljoin.h"
#include "diag.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void drop_pending(struct calljoin *j, struct pending_call *p)
{
	free(p->hdr);
	free(p->data);
	*p = j->v[--j->n];
}

/* Gives a call that will get no more chunks; what never arrived counts as lost. */
static void flush_pending(struct calljoin *j, struct pending_call *p, uint32_t truncated)
{
	j->done(j->ctx, p->hdr, p->data, p->len, truncated, p->hdr->call_len - truncated - p->len);
	drop_pending(j, p);
}

void calljoin_add(struct calljoin *j, int cpu, const struct tls_event *ev,
		  const unsigned char *data)
{
	struct pending_call *p = NULL;
	bool last = ev->flags & TLS_CHUNK_LAST;
	unsigned char *grown_data;
	int i;

	/* Another call's chunk on this CPU: a pending call of this CPU lost its last chunks. */
	for (i = 0; i < j->n; i++) {
		if (j->v[i].hdr->call_id == ev->call_id)
			p = &j->v[i];
		else if (j->v[i].cpu == cpu)
			flush_pending(j, &j->v[i--], 0);
	}
	if (!p && last && ev->offset == 0) { /* the common case: a call in one chunk */
		j->done(j->ctx, ev, data, ev->data_len, ev->truncated,
			ev->call_len - ev->truncated - ev->data_len);
		return;
	}
	if (!p) {
		struct pending_call *grown = realloc(j->v, (j->n + 1) * sizeof(*grown));

		if (!grown)
			goto oom;
		j->v = grown;
		p = &j->v[j->n];
		memset(p, 0, sizeof(*p));
		p->cpu = cpu;
		p->hdr = malloc(TLS_EVENT_HDR_SIZE);
		if (!p->hdr)
			goto oom;
		memcpy(p->hdr, ev, TLS_EVENT_HDR_SIZE);
		j->n++;
	}
	if (ev->offset >= p->next_offset) { /* a gap before it: chunks the buffer dropped */
		/* Grown by what arrives, never by what the call claims to have moved. */
		grown_data = realloc(p->data, p->len + ev->data_len + 1);
		if (!grown_data)
			goto oom;
		p->data = grown_data;
		memcpy(p->data + p->len, data, ev->data_len);
		p->len += ev->data_len;
		p->next_offset = ev->offset + ev->data_len;
	}
	if (last)
		flush_pending(j, p, ev->truncated);
	return;
oom:
	if (p && p < j->v + j->n && last) /* its last chunk: the call is given all the same */
		flush_pending(j, p, ev->truncated);
	if (!j->unjoined++)
		diag("out of memory putting call %llu together: %u bytes of it not shown in its "
		     "row (counted in the summary)\n",
		     (unsigned long long)ev->call_id, ev->data_len);
	j->unjoined_bytes += ev->data_len;
}

void calljoin_flush(struct calljoin *j)
{
	while (j->n > 0) /* their last chunks never came */
		flush_pending(j, &j->v[0], 0);
}

void calljoin_free(struct calljoin *j)
{
	int i;

	for (i = 0; i < j->n; i++) {
		free(j->v[i].hdr);
		free(j->v[i].data);
	}
	free(j->v);
	j->v = NULL;
	j->n = 0;
}
