/* SPDX-License-Identifier: Apache-2.0 */
/* sink_count.c - --count: no rows, but at the end a table of the calls and bytes of each
 * connection, each way (the calls without a known connection: a line per process); the
 * warnings text would show (verification failed or off, a certificate ending) on stderr */
#include "sink.h"
#include "diag.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "conns.h"
#include "grow.h"
#include "sorted.h"

#define NO_CONN (1ull << 63) /* above every connection id: those rows come last */

/* What one connection (or one process's calls on none: conn 0) moved. */
struct count_row {
	uint64_t key; /* the table's order: conn, or for calls on none NO_CONN | pid */
	uint64_t conn;
	uint32_t pid;
	char comm[TLS_COMM_LEN + 1];
	char remote[CONN_ADDR_LEN + 8]; /* "" until known */
	uint64_t calls[2], bytes[2];	/* [1]: sent, [0]: received */
};

struct count_sink {
	struct sink base;
	struct count_row *v;
	int n, cap;
	bool no_memory; /* a connection went uncounted: said under the table */
};

/* The row of ev's connection (of its process when it has none), added if new: found by
 * bisection, as a busy process has many connections (new ones mostly go last). */
static struct count_row *row_of(struct count_sink *c, const struct out_event *ev)
{
	uint64_t key = ev->conn ? ev->conn : NO_CONN | ev->pid;
	int at =
		sorted_lower_bound(c->v, c->n, sizeof(*c->v), offsetof(struct count_row, key), key);
	struct count_row *grown, *r;

	if (at < c->n && c->v[at].key == key)
		return &c->v[at];
	if (!(grown = grow_for(c->v, c->n, &c->cap, sizeof(*c->v), 64))) {
		c->no_memory = true;
		return NULL;
	}
	c->v = grown;
	memmove(&c->v[at + 1], &c->v[at], (size_t)(c->n - at) * sizeof(*c->v));
	c->n++;
	r = &c->v[at];
	memset(r, 0, sizeof(*r));
	r->key = key;
	r->conn = ev->conn;
	r->pid = ev->pid;
	output_printable(r->comm, sizeof(r->comm), ev->comm); /* the program chose it */
	return r;
}

/* Its remote end, once one of its events knows it. */
static void note_remote(struct count_row *r, const struct out_event *ev)
{
	if (!r->remote[0] && ev->addr)
		conns_format_end(r->remote, sizeof(r->remote), ev->addr->family, ev->addr->raddr,
				 ev->addr->rport);
}

/* A call is counted at its first chunk, with the bytes it moved (captured or not). */
static void count_data(struct sink *s, const struct out_event *ev)
{
	struct count_row *r;

	if (ev->offset != 0 || !(r = row_of((struct count_sink *)s, ev)))
		return;
	note_remote(r, ev);
	r->calls[ev->write]++;
	r->bytes[ev->write] += ev->len;
}

/* No rows, but what warns of a danger still reaches the user, on stderr: a failed
 * verification, verification turned off, a certificate that ends soon. */
static void count_meta(struct sink *s, enum tls_kind kind, const struct out_event *ev)
{
	(void)s;
	if (kind == TLS_KIND_VERIFY && ev->result)
		output_verify(diag_stream(), ev);
	else if (kind == TLS_KIND_VERIFY_OFF)
		output_verify_off(diag_stream(), ev);
}

static void count_cert(struct sink *s, const struct out_event *ev, const struct cert_info *c,
		       const char *who, int depth, int64_t days_left)
{
	(void)s;
	if (days_left <= CERT_WARN_DAYS)
		output_cert_expiry(diag_stream(), ev, c, who, depth, days_left);
}

/* A connection is listed from its opening, even when it moves no data. */
static void count_conn(struct sink *s, const struct out_event *ev, const char *reason)
{
	struct count_row *r;

	if (!reason && ev->conn && (r = row_of((struct count_sink *)s, ev)))
		note_remote(r, ev);
}

static void count_summary(struct sink *s, const struct out_summary *sum)
{
	struct count_sink *c = (struct count_sink *)s;
	uint64_t total[4] = {0};
	char conn[24];
	int i;

	(void)sum;
	fprintf(s->out, "%-6s %-7s %-16s %-30s %9s %12s %9s %12s\n", "CONN", "PID", "COMM",
		"REMOTE", "CALLS_OUT", "BYTES_OUT", "CALLS_IN", "BYTES_IN");
	for (i = 0; i < c->n; i++) {
		const struct count_row *r = &c->v[i];

		snprintf(conn, sizeof(conn), "%" PRIu64, r->conn);
		fprintf(s->out,
			"%-6s %-7u %-16s %-30s %9" PRIu64 " %12" PRIu64 " %9" PRIu64 " %12" PRIu64
			"\n",
			r->conn ? conn : "-", r->pid, r->comm,
			r->conn && r->remote[0] ? r->remote
			: r->conn		? "?"
						: "-",
			r->calls[1], r->bytes[1], r->calls[0], r->bytes[0]);
		total[0] += r->calls[1];
		total[1] += r->bytes[1];
		total[2] += r->calls[0];
		total[3] += r->bytes[0];
	}
	fprintf(s->out,
		"%-6s %-7s %-16s %-30s %9" PRIu64 " %12" PRIu64 " %9" PRIu64 " %12" PRIu64 "\n",
		"TOTAL", "", "", "", total[0], total[1], total[2], total[3]);
	if (c->no_memory)
		diag("--count: out of memory: some connections are not in the table\n");
}

static void count_free(struct sink *s)
{
	free(((struct count_sink *)s)->v);
	free(s);
}

static const struct sink_ops count_ops = {
	.data = count_data,
	.conn = count_conn,
	.meta = count_meta,
	.cert = count_cert,
	.summary = count_summary,
	.free = count_free,
};

struct sink *sink_count_new(FILE *out)
{
	struct count_sink *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->base.ops = &count_ops;
	c->base.out = out;
	return &c->base;
}
