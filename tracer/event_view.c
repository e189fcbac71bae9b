/* SPDX-License-Identifier: Apache-2.0 */
/* event_view.c - what the sinks are shown of an event (its probe, process, connection, times),
 * and whether --host/--port/--sni show its connection at all */
#include "event_view.h"

#include <string.h>

/* The output's view of an event header; data and lengths are filled by the caller. */
struct out_event event_view(struct events *e, const struct tls_event *ev, char *comm)
{
	const struct resolved_probe *rp = probes_of_call(e->cfg.probes, ev->probe, ev->ret_delta);
	uint64_t rel = ev->time_ns > e->start_ns ? ev->time_ns - e->start_ns : 0;
	struct conn *c = ev->conn ? conns_get(&e->conns, ev->conn) : NULL;

	memcpy(comm, ev->comm, TLS_COMM_LEN);
	comm[TLS_COMM_LEN] = '\0';
	return (struct out_event){
		.func = rp ? rp->func : "?",
		.lib = rp ? rp->lib_path : "?",
		.comm = comm,
		.time_ns = rel,
		.unix_ns = ev->time_ns + (uint64_t)e->realtime_offset,
		.pid = ev->pid,
		.tid = ev->tid,
		.uid = ev->uid,
		.write = ev->dir == TLS_DIR_WRITE,
		.call_id = ev->call_id,
		.len = ev->call_len,
		.offset = ev->offset,
		.latency_ns = ev->latency_ns,
		.fd = ev->fd,
		.conn = ev->conn,
		.addr = c && c->resolved ? &c->addr : NULL,
		.conn_why = c ? c->why : (ev->conn ? "closed before it was shown" : NULL),
		.result = ev->result,
		.ok = ev->flags & TLS_FLAG_OK,
		.hello = c ? c->hello : NULL,
		.cgroup = cgroups_get(&e->cgroups, ev->cgroup),
	};
}

/* ev as event_view() shows it, on connection c (NULL: none) whatever ev names. */
struct out_event event_view_on(struct events *e, const struct tls_event *ev, const struct conn *c,
			       char *comm)
{
	struct out_event out = event_view(e, ev, comm);

	out.conn = c ? c->id : 0;
	out.fd = c ? c->fd : ev->fd;
	out.addr = c && c->resolved ? &c->addr : NULL;
	out.conn_why = c ? c->why : NULL;
	out.hello = c ? c->hello : NULL;
	return out;
}

/* Whether connection id, closed since, was one the filter kept (its last chunks may come
 * after its close: EVENTS_CLOSE_GRACE_NS). */
static bool kept_closed(const struct events *e, uint64_t id)
{
	int i;

	for (i = 0; i < EVENTS_KEPT_CLOSED; i++)
		if (e->kept_closed[i] == id)
			return true;
	return false;
}

/*
 * Whether --host/--port/--sni keep connection `id` (no filter: yes), asked as event ev is
 * delivered. Decided once what the filter asks of it is known: its addresses (its opening
 * brings them, nearly always) and, with --sni, its ClientHello (sent before any data). Until
 * then no, for now; `final` (a data chunk: nothing more will come before it) decides for
 * good. A call on no known connection: no. A connection kept once its server name is known
 * has its "open" JSON record told then (it was held back).
 */
bool event_kept(struct events *e, const struct tls_event *ev, uint64_t id, bool final)
{
	const struct conn_filter *f = e->cfg.filter;
	char comm[TLS_COMM_LEN + 1];
	struct out_event out;
	struct conn *c;
	bool known;

	if (!conn_filter_on(f))
		return true;
	if (!id)
		return false;
	if (!(c = conns_get(&e->conns, id))) /* closed: a late chunk of a kept one is shown */
		return kept_closed(e, id);
	if (!c->kept) {
		known = (c->resolved || (!f->nhosts && !f->nports)) &&
			(!f->nsnis || c->hello[HELLO_CLIENT - 1].side);
		if (!known && !final)
			return false;
		c->kept = known && conn_filter_keeps(f, &c->addr, c->hello[HELLO_CLIENT - 1].sni)
				  ? 1
				  : -1;
		e->conns_filtered += c->kept < 0;
		if (c->kept > 0 && !c->told_open) {
			out = event_view_on(e, ev, c, comm);
			TO_SINKS(e, conn, &out, NULL);
			c->told_open = true;
		}
	}
	return c->kept > 0;
}
