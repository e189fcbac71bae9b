/* SPDX-License-Identifier: Apache-2.0 */
/*
 * events.c - the event stream: chunks put in call order (chunkq.c), accounted, and delivered
 * to the sinks: data (whole calls put together by calljoin.c), connections, handshakes
 * (handshake.c), each as event_view.c shows it.
 *
 * It stays long because the order is one story: a chunk's turn (seq), the gaps given up,
 * the closes held back for their grace, and the ties that hold a session's events until its
 * connection is known all decide together when each event is delivered.
 */
#include "events.h"
#include "diag.h"
#include "event_view.h"
#include "handshake.h"
#include "grow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "procmaps.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void give_call(void *ctx, const struct tls_event *hdr, const unsigned char *data,
		      uint32_t len, uint32_t truncated, uint32_t lost);

void events_init(struct events *e, const struct events_config *cfg)
{
	int i;

	memset(e, 0, sizeof(*e));
	e->cfg = *cfg;
	e->start_ns = clock_ns(CLOCK_MONOTONIC);
	e->realtime_offset = (int64_t)(clock_ns(CLOCK_REALTIME) - e->start_ns);
	e->next_seq = 1; /* the BPF counter's first */
	e->calls = (struct calljoin){.done = give_call, .ctx = e};
	for (i = 0; i < cfg->nsinks; i++) {
		e->whole_calls |= cfg->sinks[i]->ops->call != NULL;
		e->chunks |= cfg->sinks[i]->ops->data != NULL;
	}
}

void events_begin(struct events *e)
{
	TO_SINKS(e, begin);
}

uint64_t events_now(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* The entry of process pid, added if new; NULL only when out of memory. */
static struct proc_stats *proc_of(struct events *e, uint32_t pid)
{
	struct proc_stats *grown;
	int i;

	for (i = 0; i < e->nprocs; i++)
		if (e->procs[i].pid == pid)
			return &e->procs[i];
	grown = realloc(e->procs, (e->nprocs + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	e->procs = grown;
	memset(&e->procs[e->nprocs], 0, sizeof(*grown));
	e->procs[e->nprocs].pid = pid;
	return &e->procs[e->nprocs++];
}

void events_add_unprobed(struct events *e, const struct out_unprobed *u)
{
	struct proc_stats *ps = proc_of(e, u->pid);

	TO_SINKS(e, unprobed, u);
	e->unprobed_sent += u->sent;
	e->unprobed_recv += u->recv;
	e->unprobed_conns++;
	if (!ps)
		return;
	if (!ps->comm[0])
		snprintf(ps->comm, sizeof(ps->comm), "%s", u->comm);
	ps->unprobed_sent += u->sent;
	ps->unprobed_recv += u->recv;
}

/* A whole call (hdr its first chunk's header), to the sinks that take calls (calljoin_fn). */
static void give_call(void *ctx, const struct tls_event *hdr, const unsigned char *data,
		      uint32_t len, uint32_t truncated, uint32_t lost)
{
	struct events *e = ctx;
	char comm[TLS_COMM_LEN + 1];
	struct out_event out = event_view(e, hdr, comm);

	out.data = data;
	out.data_len = len;
	out.truncated = truncated;
	out.lost = lost;
	TO_SINKS(e, call, &out);
}

static void count_call(struct events *e, const struct tls_event *ev, int64_t delta);

/* A chunk --host/--port/--sni leave out: its bytes move from captured (or unreadable) to
 * filtered, and its call (at its first chunk) from the calls its library captured to those
 * filtered, in the run's account and its process's. */
static void leave_out(struct events *e, const struct tls_event *ev)
{
	struct proc_stats *ps = proc_of(e, ev->pid);
	uint64_t calls = ev->offset == 0, bytes = (uint64_t)ev->data_len + ev->unreadable;

	e->bytes_captured -= ev->data_len;
	e->bytes_unreadable -= ev->unreadable;
	e->bpf[TLS_STAT_CALLS_FILTERED] += calls;
	e->bpf[TLS_STAT_BYTES_FILTERED] += bytes;
	if (ps) {
		ps->bytes_captured -= ev->data_len;
		ps->bytes_unreadable -= ev->unreadable;
		ps->bpf[TLS_STAT_CALLS_FILTERED] += calls;
		ps->bpf[TLS_STAT_BYTES_FILTERED] += bytes;
	}
	if (calls)
		count_call(e, ev, -1);
}

/* Connection `key` ended: its HTTP exchanges, its pcapng stream and its state end too. */
static void end_flow(struct events *e, const struct tls_event *ev, uint64_t key)
{
	e->cur = ev;
	if (e->cfg.http)
		http_close(e->cfg.http, key, ev->time_ns);
	TO_SINKS(e, flow_end, key, ev->time_ns + (uint64_t)e->realtime_offset);
	flows_remove(&e->flows, key);
}

/* Connection c ended with event ev (its close, or its process's exit): told, and
 * forgotten. */
static void end_conn(struct events *e, const struct tls_event *ev, struct conn *c,
		     const char *reason)
{
	char comm[TLS_COMM_LEN + 1];
	struct out_event out;

	end_flow(e, ev, c->id);
	out = event_view(e, ev, comm);

	out.conn = c->id;
	out.fd = c->fd;
	out.addr = c->resolved ? &c->addr : NULL;
	out.conn_why = c->why;
	if (!conn_filter_on(e->cfg.filter) || c->kept > 0)
		TO_SINKS(e, conn, &out, reason);
	if (conn_filter_on(e->cfg.filter) && c->kept > 0)
		e->kept_closed[e->kept_closed_next++ % EVENTS_KEPT_CLOSED] = c->id;
	else if (conn_filter_on(e->cfg.filter) && !c->kept) /* never shown to match */
		e->conns_filtered++;
	conns_close(&e->conns, c->id);
}

/* A handshake, verification or verification turned off, told. */
static void tell_meta(struct events *e, const struct tls_event *ev)
{
	char comm[TLS_COMM_LEN + 1];
	struct out_event out = event_view(e, ev, comm);

	TO_SINKS(e, meta, (enum tls_kind)ev->kind, &out);
}

/* Connection ev->conn opens (PID ev->pid's socket ev->fd, inode ino, `known` as
 * conns_open's; ends: its two ends as BPF read them, or NULL): kept, and told. */
static void open_conn(struct events *e, const struct tls_event *ev, uint64_t ino, bool known,
		      const struct tls_sock_addr *ends)
{
	char comm[TLS_COMM_LEN + 1];
	struct out_event out;
	struct conn *c = conns_open(&e->conns, ev->conn, ev->pid, ev->fd, ino, known, ends);

	out = event_view(e, ev, comm);
	if (c && event_kept(e, ev, ev->conn, false) && !c->told_open) {
		TO_SINKS(e, conn, &out, NULL);
		c->told_open = true;
	}
	if (c && e->nhellos) /* it takes the hellos sent on its socket before it was known */
		handshake_settle(e, c, 0);
}

/* An event other than data: a connection's start (data: its two ends, when BPF read them)
 * or end, a handshake, a verification. */
static void deliver_meta(struct events *e, const struct tls_event *ev, const uint8_t *data)
{
	char comm[TLS_COMM_LEN + 1];
	struct tls_sock_addr ends;
	struct out_event out;
	struct conn *c;
	int i;

	switch (ev->kind) {
	case TLS_KIND_CONN_OPEN:
		if (ev->data_len == sizeof(ends))
			memcpy(&ends, data, sizeof(ends));
		if ((c = conns_get(&e->conns, ev->conn)) && c->from_tie) /* a tie opened it */
			conns_opened(&e->conns, c, (uint64_t)ev->result, ev->flags & TLS_FLAG_KNOWN,
				     ev->data_len == sizeof(ends) ? &ends : NULL);
		if (c)
			break; /* a second thread sent it too (conn_of_fd): the first was shown */
		open_conn(e, ev, (uint64_t)ev->result, ev->flags & TLS_FLAG_KNOWN,
			  ev->data_len == sizeof(ends) ? &ends : NULL);
		break;
	case TLS_KIND_CONN_CLOSE:
		if ((c = conns_get(&e->conns, ev->conn))) {
			end_conn(e, ev, c, "close");
			break;
		}
		end_flow(e, ev, ev->conn); /* its opening was lost */
		out = event_view(e, ev, comm);
		if (!conn_filter_on(e->cfg.filter))
			TO_SINKS(e, conn, &out, "close");
		break;
	case TLS_KIND_EXIT: /* the process's sockets closed with it */
		for (i = e->conns.n - 1; i >= 0; i--)
			if (e->conns.v[i].pid == ev->pid)
				end_conn(e, ev, &e->conns.v[i], "exit");
		conns_forget_known(&e->conns, (pid_t)ev->pid);
		end_flow(e, ev, flows_key(0, ev->pid));
		handshake_settle(e, NULL, ev->pid); /* told without a connection */
		break;
	case TLS_KIND_HANDSHAKE:
	case TLS_KIND_VERIFY:
		if (event_kept(e, ev, ev->conn, false))
			tell_meta(e, ev);
		break;
	case TLS_KIND_VERIFY_OFF:
		tell_meta(e, ev);
		break;
	case TLS_KIND_HELLO:
		handshake_hello(e, ev, data);
		break;
	case TLS_KIND_CERT:
		handshake_cert(e, ev, data);
		break;
	case TLS_KIND_CGROUP:
		cgroups_note(&e->cgroups, (uint64_t)ev->result, (const char *)data, ev->data_len);
		break;
	}
}

/* A data chunk, to the sinks that take chunks. */
static void give_chunk(struct events *e, const struct tls_event *ev, const uint8_t *data)
{
	char comm[TLS_COMM_LEN + 1];
	struct out_event out;

	if (!e->chunks)
		return;
	out = event_view(e, ev, comm);
	out.data = data;
	out.data_len = ev->data_len;
	out.truncated = ev->truncated;
	TO_SINKS(e, data, &out);
}

/* A data chunk, in order: redacted, decoded as HTTP, handed to the sinks (put together
 * with the rest of its call for those that take calls). data is written to only when
 * redacting (then it is the stream's copy). */
static void deliver_data(struct events *e, int cpu, const struct tls_event *ev, uint8_t *data)
{
	uint64_t key = flows_key(ev->conn, ev->pid), gap = 0;
	bool sent = ev->dir == TLS_DIR_WRITE, call_start = ev->offset == 0;
	enum side side = side_of_dir(ev->dir);
	struct flow *f = NULL;

	if (!event_kept(e, ev, ev->conn, true)) {
		leave_out(e, ev);
		return;
	}
	if (e->cfg.redact || e->cfg.http) {
		f = flows_get(&e->flows, key);
		if (f)
			gap = flows_gap(&f->d[side], ev->call_id, ev->call_len, ev->offset,
					ev->data_len, &call_start);
	}
	if (e->cfg.redact && f)
		redact_bytes(e->cfg.redact, &f->d[side].red, data, ev->data_len);
	/* Decoded first: redaction of HTTP/2 header values masks their HPACK bytes in data. */
	if (e->cfg.http && f) {
		e->cur = ev;
		http_data(e->cfg.http, key, sent, data, ev->data_len, gap, call_start, ev->time_ns);
		if ((ev->flags & TLS_CHUNK_LAST) && (gap = flows_tail(&f->d[side])))
			http_data(e->cfg.http, key, sent, data, 0, gap, false, ev->time_ns);
	}
	give_chunk(e, ev, data);
	if (e->whole_calls)
		calljoin_add(&e->calls, cpu, ev, data);
}

/* A chunk's turn has come: to the sinks, then what it ended (HTTP messages) is shown. ev is
 * the header; data, its bytes. */
static void deliver_chunk(struct events *e, int cpu, const struct tls_event *ev, uint8_t *data)
{
	if (ev->kind != TLS_KIND_DATA) {
		if (!e->cfg.data_only)
			deliver_meta(e, ev, data);
	} else if (e->cfg.data_only) {
		give_chunk(e, ev, data);
	} else {
		deliver_data(e, cpu, ev, data);
	}
	for (int i = 0; i < e->cfg.nsinks; i++)
		sink_release(e->cfg.sinks[i]);
}

void events_on_http(void *ctx, const struct http_msg *m)
{
	struct events *e = ctx;
	char comm[TLS_COMM_LEN + 1];
	struct out_event out;
	struct conn *c;

	e->http_records++;
	if (!e->cur)
		return;
	out = event_view(e, e->cur, comm);
	out.conn = flows_key_conn(m->key); /* a close event of its process names none */
	c = out.conn ? conns_get(&e->conns, out.conn) : NULL;
	out.addr = c && c->resolved ? &c->addr : out.addr;
	out.hello = c ? c->hello : out.hello;
	TO_SINKS(e, http, &out, m);
}

void events_on_http_error(void *ctx, uint64_t key, const char *why)
{
	struct events *e = ctx;

	e->http_stopped++;
	if (!flows_key_conn(key))
		diag("HTTP decoding of PID %u's data stopped: %s\n", flows_key_pid(key), why);
	else
		diag("HTTP decoding of connection %llu stopped: %s\n", (unsigned long long)key,
		     why);
}

/* Whether the chunk is well formed: its lengths agree with each other and with the buffer.
 * Only data is part of its call; an opening's data is its two ends (struct tls_sock_addr). */
static bool valid_chunk(const struct events *e, const struct tls_event *ev, int size)
{
	uint32_t in_call = ev->kind == TLS_KIND_DATA ? ev->data_len : 0;

	return size >= (int)TLS_EVENT_HDR_SIZE && ev->kind <= TLS_KIND_CERT &&
	       (ev->kind == TLS_KIND_DATA || ev->kind == TLS_KIND_HELLO ||
		ev->kind == TLS_KIND_CERT || ev->kind == TLS_KIND_CGROUP || ev->data_len == 0 ||
		(ev->kind == TLS_KIND_CONN_OPEN && ev->data_len == sizeof(struct tls_sock_addr))) &&
	       ev->data_len <= e->cfg.max_data_size &&
	       ev->data_len <= (uint32_t)(size - (int)TLS_EVENT_HDR_SIZE) &&
	       ev->truncated <= ev->call_len && ev->offset <= ev->call_len - ev->truncated &&
	       in_call <= ev->call_len - ev->truncated - ev->offset &&
	       ev->unreadable <= ev->call_len - ev->truncated - ev->offset - in_call;
}

/* Whether the event ends connections (a close, or its process's exit, which closes them
 * all): it waits out EVENTS_CLOSE_GRACE_NS before it is delivered. */
static bool ends_conns(const struct tls_event *ev)
{
	return ev->kind == TLS_KIND_CONN_CLOSE || ev->kind == TLS_KIND_EXIT;
}

/* ------------------------------------------------ sessions tied after their calls */

/* Whether ev is a call's data or a certificate it parsed, sent without a connection but
 * with its session (result), which a tie may name the connection of. */
static bool may_tie(const struct tls_event *ev)
{
	return (ev->kind == TLS_KIND_DATA || ev->kind == TLS_KIND_CERT) && !ev->conn && ev->result;
}

/* A call BPF sent without a connection, whose session it has tied to one since
 * (TLS_KIND_CONN_TIE): ev is given it. Only at its turn: the table is then as BPF's
 * tables were when the call was made (a tie later in the sequence is not yet in it, a
 * closed connection's session no longer is: take_turn). */
static void give_tie(struct events *e, struct tls_event *ev)
{
	struct conn *c;

	if (!may_tie(ev))
		return;
	c = conns_of_session(&e->conns, ev->pid, (uint64_t)ev->result, ev->time_ns);
	if (c) {
		ev->conn = c->id;
		ev->fd = c->fd;
	}
}

/* Whether event ev, which give_tie has looked at, waits for its session's tie: sent
 * without a connection for a session whose calls use no socket (result), tied to none yet,
 * and not older than release_ns (the window gives up on it, as on a gap). */
static bool awaits_tie(const struct events *e, const struct tls_event *ev, uint64_t release_ns)
{
	return may_tie(ev) && !e->cfg.data_only && ev->time_ns >= release_ns;
}

/* Whether a call whose turn has come waits in the queue for its session's tie. */
static bool holding(struct events *e)
{
	struct queued_chunk *c = chunkq_first(&e->queue);

	return c && c->ev->seq <= e->next_seq;
}

/*
 * BPF tied a session to connection ev->conn (TLS_KIND_CONN_TIE): taken as it comes, before
 * its turn, so that the calls waiting for it go on. The connection's opening came before it:
 * shown now if it still waits its turn, which then passes it over (deliver_meta shows an
 * opening once); one still on its way (another thread sent it, on another CPU's buffer) or
 * lost is made from the tie, its addresses from the lookup BPF asked for as it sent it.
 */
static void note_tie(struct events *e, const struct tls_event *ev)
{
	struct conn *c = conns_get(&e->conns, ev->conn);
	int i;

	if (e->cfg.data_only) /* the self-test takes data alone */
		return;
	for (i = e->queue.head; !c && i < e->queue.n; i++) {
		const struct tls_event *q = e->queue.v[i].ev;

		if (q->kind == TLS_KIND_CONN_OPEN && q->conn == ev->conn) {
			deliver_meta(e, q, (const uint8_t *)q->data);
			c = conns_get(&e->conns, ev->conn);
		}
	}
	if (!c) {
		open_conn(e, ev, 0, false, NULL);
		if ((c = conns_get(&e->conns, ev->conn)))
			c->from_tie = true;
	}
	if (c) {
		c->tied[ev->dir & 1] = (uint64_t)ev->result;
		c->tied_since[ev->dir & 1] = ev->time_ns - ev->latency_ns;
	}
}

/* A close or an exit takes its turn: the sessions tied to the connections it ends are no
 * longer theirs (an object at a freed session's address is another session), though the
 * connections wait out their grace. */
static void untie(struct events *e, const struct tls_event *ev)
{
	struct conn *c;
	int i;

	if (ev->kind == TLS_KIND_CONN_CLOSE && (c = conns_get(&e->conns, ev->conn)))
		c->tied[0] = c->tied[1] = 0;
	for (i = 0; ev->kind == TLS_KIND_EXIT && i < e->conns.n; i++)
		if (e->conns.v[i].pid == ev->pid)
			e->conns.v[i].tied[0] = e->conns.v[i].tied[1] = 0;
}

/* Delivers one event (ev its header, data its bytes) and notes a failed write. */
static void deliver_one(struct events *e, int cpu, const struct tls_event *ev, uint8_t *data)
{
	int i;

	deliver_chunk(e, cpu, ev, data);
	/* errno says why now, before other calls change it */
	for (i = 0; i < e->cfg.nsinks && !e->out_err; i++)
		if (e->cfg.sinks[i]->out && ferror(e->cfg.sinks[i]->out))
			e->out_err = errno ? errno : EIO;
}

/* Delivers the ends whose grace has passed by until_ns. */
static void deliver_ends(struct events *e, uint64_t until_ns)
{
	struct queued_chunk *c;

	while ((c = chunkq_first(&e->ends)) && c->due_ns <= until_ns) {
		struct queued_chunk end = chunkq_take(&e->ends);

		deliver_one(e, end.cpu, end.ev, (uint8_t *)end.ev->data);
		free(end.ev);
	}
}

/*
 * ev's turn has come (or passed: it is late). An end waits out its grace; anything else
 * goes after the ends whose grace passed before it returned. `copy` is ev when the stream
 * owns it (a copy), NULL when ev and data are in the perf buffer.
 */
static void take_turn(struct events *e, int cpu, const struct tls_event *ev, uint8_t *data,
		      struct tls_event *copy)
{
	if (ev->seq >= e->next_seq) /* a call's chunks share a seq: its turn lasts to its last */
		e->next_seq = ev->seq + (ev->kind != TLS_KIND_DATA || (ev->flags & TLS_CHUNK_LAST));
	if (ev->kind == TLS_KIND_DATA && ev->offset == 0)
		e->calls_without_conn += !ev->conn;
	if (ends_conns(ev)) {
		untie(e, ev);
		if (!copy && !(copy = chunkq_copy(ev, data))) {
			e->dropped++;
			return;
		}
		if (chunkq_put(&e->ends,
			       (struct queued_chunk){.cpu = cpu,
						     .ev = copy,
						     .due_ns = ev->time_ns + EVENTS_CLOSE_GRACE_NS},
			       true))
			return;
		deliver_one(e, cpu, copy, (uint8_t *)copy->data); /* no room to wait: now */
		free(copy);
		return;
	}
	deliver_ends(e, ev->time_ns);
	deliver_one(e, cpu, ev, data);
	free(copy);
}

/* Delivers the kept events whose turn has come, up to one that waits for its session's tie
 * and is not older than release_ns. */
static void deliver_due(struct events *e, uint64_t release_ns)
{
	struct queued_chunk *c;

	while ((c = chunkq_first(&e->queue)) && c->ev->seq <= e->next_seq) {
		struct queued_chunk q;

		give_tie(e, c->ev);
		if (awaits_tie(e, c->ev, release_ns))
			break;
		q = chunkq_take(&e->queue);

		e->queued_bytes -= TLS_EVENT_HDR_SIZE + q.ev->data_len;
		take_turn(e, q.cpu, q.ev, (uint8_t *)q.ev->data, q.ev);
	}
}

/* A gap before an event older than until_ns (or one there is no room to wait behind) will
 * not be filled: what is missing was lost, and the kernel or the BPF counters say so. */
static void give_up_gaps(struct events *e, uint64_t until_ns)
{
	struct queued_chunk *c;

	while ((c = chunkq_first(&e->queue)) &&
	       (c->ev->time_ns < until_ns || e->queued_bytes > EVENTS_QUEUE_BUDGET)) {
		e->next_seq = c->ev->seq;
		deliver_due(e, e->queued_bytes > EVENTS_QUEUE_BUDGET ? UINT64_MAX : until_ns);
	}
}

/* Keeps a copy of the chunk until its turn; false when out of memory. */
static bool keep(struct events *e, int cpu, const struct tls_event *hdr, const void *data)
{
	struct tls_event *copy = chunkq_copy(hdr, data);

	if (!copy || !chunkq_put(&e->queue, (struct queued_chunk){.cpu = cpu, .ev = copy}, false)) {
		free(copy);
		return false;
	}
	e->queued_bytes += TLS_EVENT_HDR_SIZE + hdr->data_len;
	return true;
}

/* delta more calls captured (-1: one left out after all), under the probe it is reported by
 * (its library saw traffic). */
static void count_call(struct events *e, const struct tls_event *ev, int64_t delta)
{
	const struct resolved_probe *rp = probes_of_call(e->cfg.probes, ev->probe, ev->ret_delta);
	uint64_t *grown, n, id = rp ? rp->id : 0;

	if (id >= e->nprobe_calls) {
		n = id + 64;
		grown = realloc(e->probe_calls, n * sizeof(*grown));
		if (!grown)
			return;
		memset(grown + e->nprobe_calls, 0, (n - e->nprobe_calls) * sizeof(*grown));
		e->probe_calls = grown;
		e->nprobe_calls = n;
	}
	e->probe_calls[id] += (uint64_t)delta;
}

void events_on_sample(void *ctx, int cpu, const void *data, int size)
{
	struct events *e = ctx;
	struct tls_event hdr; /* perf puts the record 4 bytes off 8-byte alignment: copied */
	const struct tls_event *ev = &hdr;
	uint8_t *bytes = (uint8_t *)data + TLS_EVENT_HDR_SIZE;
	struct tls_event *copy;
	struct proc_stats *ps;

	if (size < (int)TLS_EVENT_HDR_SIZE) {
		e->malformed++;
		return;
	}
	memcpy(&hdr, data, TLS_EVENT_HDR_SIZE);
	if (!valid_chunk(e, ev, size)) {
		e->malformed++;
		return;
	}
	if (ev->kind == TLS_KIND_DATA) {
		e->bytes_captured += ev->data_len;
		e->bytes_unreadable += ev->unreadable;
		ps = proc_of(e, ev->pid);
		if (ps) {
			if (!ps->comm[0])
				memcpy(ps->comm, ev->comm, TLS_COMM_LEN);
			ps->bytes_captured += ev->data_len;
			ps->bytes_unreadable += ev->unreadable;
		}
		if (!ev->data_len && !ev->unreadable && !(ev->flags & TLS_CHUNK_LAST))
			return; /* an empty piece of a gathering write: nothing to show */
		if (ev->offset == 0)
			count_call(e, ev, 1);
	}
	if (ev->kind == TLS_KIND_CONN_TIE)
		note_tie(e, ev);
	if (ev->seq <= e->next_seq)
		give_tie(e, &hdr);
	/* an earlier event is still on its way or waits for its session's tie (all that comes
	 * waits behind it then, a gap event of its own call too), or this one waits */
	if (ev->seq > e->next_seq ||
	    (ev->seq == e->next_seq && (holding(e) || awaits_tie(e, ev, 0)))) {
		/* Out of memory: the chunk is counted as dropped, never passed over silently. */
		if (!keep(e, cpu, ev, bytes)) {
			e->dropped++;
			e->bytes_dropped += ev->kind == TLS_KIND_DATA ? ev->data_len : 0;
		}
		deliver_due(e, 0);  /* a call that waited for this tie (note_tie) goes on */
		give_up_gaps(e, 0); /* no room to wait any longer (a read round may last) */
		return;
	}
	e->late += ev->seq < e->next_seq;
	copy = NULL;
	/* Redaction writes into the bytes: it gets a copy, not the perf buffer. */
	if (e->cfg.redact && !(copy = chunkq_copy(ev, bytes))) {
		e->dropped++;
		e->bytes_dropped += ev->kind == TLS_KIND_DATA ? ev->data_len : 0;
		return;
	}
	take_turn(e, cpu, copy ? copy : ev, copy ? (uint8_t *)copy->data : bytes, copy);
	deliver_due(e, 0);
}

void events_deliver(struct events *e, uint64_t read_start_ns)
{
	uint64_t until = read_start_ns;

	if (read_start_ns != UINT64_MAX)
		until = read_start_ns > EVENTS_REORDER_WINDOW_NS
				? read_start_ns - EVENTS_REORDER_WINDOW_NS
				: 0;
	give_up_gaps(e, until);
	deliver_ends(e, until);
}

void events_on_conn(struct events *e, uint32_t pid, int fd, uint64_t conn, uint64_t ino)
{
	if (!conns_open(&e->conns, conn, pid, fd, ino, false, NULL))
		diag("out of memory: connection %llu goes without addresses\n",
		     (unsigned long long)conn);
}

void events_on_lost(void *ctx, int cpu, uint64_t count)
{
	struct events *e = ctx;

	if (cpu >= 0 && cpu < EVENTS_MAX_CPUS)
		e->lost[cpu] += count;
	e->lost_events += count;
	diag("lost %llu events on CPU %d\n", (unsigned long long)count, cpu);
	TO_SINKS(e, lost, NULL, cpu, count);
}

void events_on_meta_lost(void *ctx, int cpu, uint64_t count)
{
	struct events *e = ctx;

	e->meta_lost += count;
	diag("lost %llu connection, handshake, hello, certificate, cgroup or gap events on CPU "
	     "%d\n",
	     (unsigned long long)count, cpu);
	TO_SINKS(e, lost, "meta", cpu, count);
}

void events_finish(struct events *e)
{
	events_deliver(e, UINT64_MAX);
	handshake_give_up(e); /* the hellos whose connections never came */
	calljoin_flush(&e->calls);
}

void events_on_counters(void *ctx, uint32_t pid, const uint64_t *sums, int n)
{
	struct events *e = ctx;
	struct proc_stats *ps = NULL;
	bool any = false;
	int i;

	for (i = 0; i < n && i < TLS_STAT_MAX; i++)
		any |= sums[i] != 0;
	if (any) /* the shared entry of processes that found the map full is often empty */
		ps = proc_of(e, pid);
	if (ps && pid == TLS_STATS_OTHER_KEY)
		snprintf(ps->comm, sizeof(ps->comm), "(others)");
	for (i = 0; i < n && i < TLS_STAT_MAX; i++) {
		e->bpf[i] += sums[i];
		if (ps)
			ps->bpf[i] += sums[i];
	}
}

bool events_all_captured(const struct events *e)
{
	return e->lost_events == 0 && e->bpf[TLS_STAT_SUBMIT_FAILED] == 0 &&
	       e->bpf[TLS_STAT_BYTES_TRUNCATED] == 0 && e->bytes_unreadable == 0 && e->late == 0 &&
	       e->malformed == 0 && e->bytes_captured == e->bpf[TLS_STAT_BYTES_MOVED];
}

void events_free(struct events *e)
{
	chunkq_free(&e->queue);
	chunkq_free(&e->ends);
	calljoin_free(&e->calls);
	handshake_free(e);
	free(e->procs);
	free(e->probe_calls);
	conns_free(&e->conns);
	cgroups_free(&e->cgroups);
	flows_free(&e->flows);
	e->probe_calls = NULL;
	e->nprobe_calls = 0;
	e->procs = NULL;
	e->nprocs = 0;
	e->queued_bytes = 0;
}
