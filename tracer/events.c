/* events.c - the event stream: chunks put in call order, reassembled, accounted, printed */
#include "events.h"
#include "diag.h"
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

void events_init(struct events *e, const struct events_config *cfg)
{
	memset(e, 0, sizeof(*e));
	e->cfg = *cfg;
	e->start_ns = clock_ns(CLOCK_MONOTONIC);
	e->shown_conn = UINT64_MAX; /* no row yet */
	e->realtime_offset = (int64_t)(clock_ns(CLOCK_REALTIME) - e->start_ns);
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

/* The output's view of an event header; data and lengths are filled by the caller. */
static struct out_event view(struct events *e, const struct tls_event *ev, char *comm)
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
		.time_ns = e->cfg.json ? ev->time_ns + (uint64_t)e->realtime_offset : rel,
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
	};
}

static void print_call(struct events *e, const struct tls_event *hdr, const unsigned char *data,
		       uint32_t len, uint32_t truncated, uint32_t lost)
{
	char comm[TLS_COMM_LEN + 1];
	struct out_event out = view(e, hdr, comm);

	out.data = data;
	out.data_len = len;
	out.truncated = truncated;
	out.lost = lost;
	if (e->shown_conn != hdr->conn)
		output_conn_line(e->cfg.out, &out);
	e->shown_conn = hdr->conn;
	output_event(e->cfg.out, &out, e->cfg.hexdump, e->cfg.latency);
}

static void drop_pending(struct events *e, struct pending_call *p)
{
	free(p->hdr);
	free(p->data);
	*p = e->pending[--e->npending];
}

/* Prints a call that will get no more chunks; what never arrived counts as lost. */
static void flush_pending(struct events *e, struct pending_call *p, uint32_t truncated)
{
	print_call(e, p->hdr, p->data, p->len, truncated, p->hdr->call_len - truncated - p->len);
	drop_pending(e, p);
}

/* Text modes: gather a call's chunks, print it when its last chunk arrives. */
static void assemble(struct events *e, int cpu, const struct tls_event *ev)
{
	struct pending_call *p = NULL;
	bool last = ev->flags & TLS_CHUNK_LAST;
	unsigned char *grown_data;
	int i;

	/* Another call's chunk on this CPU: a pending call of this CPU lost its last chunks. */
	for (i = 0; i < e->npending; i++) {
		if (e->pending[i].hdr->call_id == ev->call_id)
			p = &e->pending[i];
		else if (e->pending[i].cpu == cpu)
			flush_pending(e, &e->pending[i--], 0);
	}
	if (!p && last && ev->offset == 0) { /* the common case: a call in one chunk */
		print_call(e, ev, (const unsigned char *)ev->data, ev->data_len, ev->truncated,
			   ev->call_len - ev->truncated - ev->data_len);
		return;
	}
	if (!p) {
		struct pending_call *grown =
			realloc(e->pending, (e->npending + 1) * sizeof(*grown));

		if (!grown)
			goto oom;
		e->pending = grown;
		p = &e->pending[e->npending];
		memset(p, 0, sizeof(*p));
		p->cpu = cpu;
		p->hdr = malloc(TLS_EVENT_HDR_SIZE);
		if (!p->hdr)
			goto oom;
		memcpy(p->hdr, ev, TLS_EVENT_HDR_SIZE);
		e->npending++;
	}
	if (ev->offset >= p->next_offset) { /* a gap before it: chunks the buffer dropped */
		/* Grown by what arrives, never by what the call claims to have moved. */
		grown_data = realloc(p->data, p->len + ev->data_len + 1);
		if (!grown_data)
			goto oom;
		p->data = grown_data;
		memcpy(p->data + p->len, ev->data, ev->data_len);
		p->len += ev->data_len;
		p->next_offset = ev->offset + ev->data_len;
	}
	if (last)
		flush_pending(e, p, ev->truncated);
	return;
oom:
	diag("out of memory assembling call %llu: its bytes are reported lost\n",
	     (unsigned long long)ev->call_id);
}

/* Connection `key` ended: its HTTP exchanges, its pcapng stream and its state end too. */
static void end_flow(struct events *e, const struct tls_event *ev, uint64_t key)
{
	e->cur = ev;
	if (e->cfg.http)
		http_close(e->cfg.http, key, ev->time_ns);
	if (e->cfg.pcap)
		pcapng_close(e->cfg.pcap, key, ev->time_ns + (uint64_t)e->realtime_offset);
	flows_remove(&e->flows, key);
}

/* Connection c ended with event ev (its close, or its process's exit): said in JSON, and
 * forgotten. */
static void end_conn(struct events *e, const struct tls_event *ev, struct conn *c,
		     const char *reason)
{
	char comm[TLS_COMM_LEN + 1];
	struct out_event out;

	end_flow(e, ev, c->id);
	out = view(e, ev, comm);

	out.conn = c->id;
	out.fd = c->fd;
	out.addr = c->resolved ? &c->addr : NULL;
	out.conn_why = c->why;
	if (e->cfg.json && e->cfg.out)
		output_json_conn(e->cfg.out, &out, "close", reason);
	conns_close(&e->conns, c->id);
}

typedef void (*show_fn)(FILE *out, const struct out_event *ev);

/* An event shown as a JSON line, or in text as a row (text NULL: not in text). */
static void show(struct events *e, const struct tls_event *ev, show_fn json, show_fn text)
{
	char comm[TLS_COMM_LEN + 1];
	struct out_event out;

	if ((!e->cfg.json && !text) || !e->cfg.out)
		return;
	out = view(e, ev, comm);
	(e->cfg.json ? json : text)(e->cfg.out, &out);
}

/* An event without data: a connection's start or end, a handshake, a verification. */
static void deliver_meta(struct events *e, const struct tls_event *ev)
{
	char comm[TLS_COMM_LEN + 1];
	struct out_event out;
	struct conn *c;
	int i;

	switch (ev->kind) {
	case TLS_KIND_CONN_OPEN:
		conns_open(&e->conns, ev->conn, ev->pid, ev->fd, (uint64_t)ev->result,
			   ev->flags & TLS_FLAG_KNOWN);
		out = view(e, ev, comm);
		if (e->cfg.json && e->cfg.out)
			output_json_conn(e->cfg.out, &out, "open", NULL);
		break;
	case TLS_KIND_CONN_CLOSE:
		if ((c = conns_get(&e->conns, ev->conn))) {
			end_conn(e, ev, c, "close");
			break;
		}
		end_flow(e, ev, ev->conn); /* its opening was lost */
		out = view(e, ev, comm);
		if (e->cfg.json && e->cfg.out)
			output_json_conn(e->cfg.out, &out, "close", "close");
		break;
	case TLS_KIND_EXIT: /* the process's sockets closed with it */
		for (i = e->conns.n - 1; i >= 0; i--)
			if (e->conns.v[i].pid == ev->pid)
				end_conn(e, ev, &e->conns.v[i], "exit");
		conns_forget_known(&e->conns, (pid_t)ev->pid);
		end_flow(e, ev, flows_key(0, ev->pid));
		break;
	case TLS_KIND_HANDSHAKE:
		show(e, ev, output_json_handshake, e->cfg.handshakes ? output_handshake : NULL);
		break;
	case TLS_KIND_VERIFY:
		show(e, ev, output_json_verify, output_verify);
		break;
	case TLS_KIND_VERIFY_OFF:
		show(e, ev, output_json_verify_off, output_verify_off);
		break;
	}
}

/* "pid 7 tid 8 comm curl SSL_write call 12": a pcapng packet's comment. */
static void packet_comment(struct events *e, const struct tls_event *ev, char *buf, size_t size)
{
	char comm[TLS_COMM_LEN + 1];
	struct out_event out = view(e, ev, comm);

	snprintf(buf, size, "pid %u tid %u comm %s %s call %llu (%u bytes) %s", out.pid, out.tid,
		 out.comm, out.func, (unsigned long long)out.call_id, out.len, out.lib);
}

/* A data chunk, in order: redacted, shown, decoded as HTTP, written to the capture. */
static void deliver_data(struct events *e, int cpu, struct tls_event *ev)
{
	uint64_t key = flows_key(ev->conn, ev->pid), gap = 0;
	bool sent = ev->dir == TLS_DIR_WRITE, call_start = ev->offset == 0;
	enum side side = side_of_dir(ev->dir);
	uint8_t *data = (uint8_t *)ev->data;
	struct flow *f = NULL;

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
	if (e->cfg.out && !e->cfg.http_only && e->cfg.json) {
		char comm[TLS_COMM_LEN + 1];
		struct out_event out = view(e, ev, comm);

		out.data = data;
		out.data_len = ev->data_len;
		out.truncated = ev->truncated;
		output_json_data(e->cfg.out, &out);
	} else if (e->cfg.out && !e->cfg.http_only) {
		assemble(e, cpu, ev);
	}
	if (e->cfg.pcap) {
		struct conn *c = ev->conn ? conns_get(&e->conns, ev->conn) : NULL;
		char comment[512];

		packet_comment(e, ev, comment, sizeof(comment));
		pcapng_data(e->cfg.pcap, key, c && c->resolved ? &c->addr : NULL, sent, ev->call_id,
			    ev->call_len, ev->offset, data, ev->data_len,
			    ev->time_ns + (uint64_t)e->realtime_offset, comment);
	}
}

/* A chunk's turn has come: to the sink, or to the outputs; then the HTTP records it ended. */
static void deliver_chunk(struct events *e, int cpu, struct tls_event *ev)
{
	if (ev->kind != TLS_KIND_DATA) {
		if (!e->cfg.sink) /* the self-test looks at data only */
			deliver_meta(e, ev);
	} else if (e->cfg.sink) {
		e->cfg.sink(e->cfg.sink_ctx, ev);
	} else {
		deliver_data(e, cpu, ev);
	}
	if (e->records) {
		fclose(e->records);
		e->records = NULL;
		fwrite(e->records_buf, 1, e->records_size, e->cfg.out);
		free(e->records_buf);
		e->records_buf = NULL;
	}
}

void events_on_http(void *ctx, const struct http_msg *m)
{
	struct events *e = ctx;
	char comm[TLS_COMM_LEN + 1];
	struct out_event out;
	struct conn *c;

	e->http_records++;
	if (!e->cfg.out || !e->cur || (!e->cfg.json && m->request)) /* text: a line per response */
		return;
	/* Written after the chunk that ended the message has been shown. */
	if (!e->records && !(e->records = open_memstream(&e->records_buf, &e->records_size)))
		return;
	out = view(e, e->cur, comm);
	out.conn = flows_key_conn(m->key); /* a close event of its process names none */
	c = out.conn ? conns_get(&e->conns, out.conn) : NULL;
	out.addr = c && c->resolved ? &c->addr : out.addr;
	if (e->cfg.json) {
		output_json_http(e->records, &out, m);
	} else {
		if (e->shown_conn != out.conn && !e->cfg.http_only)
			output_conn_line(e->records, &out);
		e->shown_conn = out.conn;
		output_http(e->records, &out, m, e->cfg.http_headers);
	}
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

/* Whether the chunk is well formed: its lengths agree with each other and with the buffer. */
static bool valid_chunk(const struct events *e, const struct tls_event *ev, int size)
{
	return size >= (int)TLS_EVENT_HDR_SIZE && ev->kind <= TLS_KIND_EXIT &&
	       (ev->kind == TLS_KIND_DATA || ev->data_len == 0) &&
	       ev->data_len <= e->cfg.max_data_size &&
	       ev->data_len <= (uint32_t)(size - (int)TLS_EVENT_HDR_SIZE) &&
	       ev->truncated <= ev->call_len && ev->offset <= ev->call_len - ev->truncated &&
	       ev->data_len <= ev->call_len - ev->truncated - ev->offset &&
	       ev->unreadable <= ev->call_len - ev->truncated - ev->offset - ev->data_len;
}

/* Keeps an aligned copy of the chunk (header hdr, then its data and a NUL) until
 * events_deliver; false when out of memory. */
/* An event's place in time among the others: a connection's end (its close, or its
 * process's exit, which ends them all) a little later (EVENTS_CLOSE_GRACE_NS). */
static uint64_t order_of(const struct tls_event *ev)
{
	bool end = ev->kind == TLS_KIND_CONN_CLOSE || ev->kind == TLS_KIND_EXIT;

	return ev->time_ns + (end ? EVENTS_CLOSE_GRACE_NS : 0);
}

static bool enqueue(struct events *e, int cpu, const struct tls_event *hdr, const void *data)
{
	struct queued_chunk *grown;
	struct tls_event *copy;

	grown = grow_for(e->queue, e->nqueue, &e->queue_cap, sizeof(*e->queue), 256);
	if (!grown)
		return false;
	e->queue = grown;
	copy = malloc(TLS_EVENT_HDR_SIZE + hdr->data_len + 1);
	if (!copy)
		return false;
	memcpy(copy, hdr, TLS_EVENT_HDR_SIZE);
	memcpy(copy->data, data, hdr->data_len);
	copy->data[hdr->data_len] = '\0'; /* for redact_bytes */
	e->queue[e->nqueue++] = (struct queued_chunk){
		.cpu = cpu,
		.ev = copy,
		.order_ns = order_of(hdr),
	};
	e->queued_bytes += TLS_EVENT_HDR_SIZE + hdr->data_len;
	return true;
}

/* One more call captured, under the probe it is reported by (its library saw traffic). */
static void count_call(struct events *e, const struct tls_event *ev)
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
	e->probe_calls[id]++;
}

void events_on_sample(void *ctx, int cpu, const void *data, int size)
{
	struct events *e = ctx;
	struct tls_event hdr; /* perf puts the record 4 bytes off 8-byte alignment: copied */
	const struct tls_event *ev = &hdr;
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
	if (ev->kind != TLS_KIND_DATA)
		goto queue;
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
	if (ev->offset == 0) {
		count_call(e, ev);
		e->calls_without_conn += !ev->conn;
	}
queue:
	if (order_of(ev) < e->delivered_ns)
		e->late++;
	/* Out of memory: the chunk is counted as dropped, never passed over silently. */
	if (!enqueue(e, cpu, ev, (const unsigned char *)data + TLS_EVENT_HDR_SIZE)) {
		e->dropped++;
		e->bytes_dropped += ev->data_len;
	}
}

/* Time order (a close's a little later); a call's chunks share their time, so then by call
 * and offset. */
static int chunk_order(const void *a, const void *b)
{
	const struct queued_chunk *qa = a, *qb = b;
	const struct tls_event *x = qa->ev, *y = qb->ev;

	if (qa->order_ns != qb->order_ns)
		return qa->order_ns < qb->order_ns ? -1 : 1;
	if (x->call_id != y->call_id)
		return x->call_id < y->call_id ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

void events_deliver(struct events *e, uint64_t read_start_ns)
{
	uint64_t until = read_start_ns;
	int i, n;

	if (read_start_ns != UINT64_MAX)
		until = read_start_ns > EVENTS_REORDER_WINDOW_NS
				? read_start_ns - EVENTS_REORDER_WINDOW_NS
				: 0;
	if (e->nqueue > 1)
		qsort(e->queue, e->nqueue, sizeof(*e->queue), chunk_order);
	for (n = 0; n < e->nqueue &&
		    (e->queue[n].order_ns < until || e->queued_bytes > EVENTS_QUEUE_BUDGET);
	     n++) {
		struct tls_event *ev = e->queue[n].ev;

		if (e->queue[n].order_ns >=
		    until) /* early, for want of room: what is older is late */
			until = e->queue[n].order_ns + 1;
		e->queued_bytes -= TLS_EVENT_HDR_SIZE + ev->data_len;
		deliver_chunk(e, e->queue[n].cpu, ev);
		free(e->queue[n].ev);
		/* errno says why now, before other calls change it */
		if (e->cfg.out && !e->out_err && ferror(e->cfg.out))
			e->out_err = errno ? errno : EIO;
	}
	for (i = n; i < e->nqueue; i++)
		e->queue[i - n] = e->queue[i];
	e->nqueue -= n;
	if (until > e->delivered_ns)
		e->delivered_ns = until;
}

void events_on_conn(struct events *e, uint32_t pid, int fd, uint64_t conn, uint64_t ino)
{
	if (!conns_open(&e->conns, conn, pid, fd, ino, false))
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
	if (e->cfg.json && e->cfg.out)
		fprintf(e->cfg.out, "{\"v\":1,\"type\":\"lost\",\"cpu\":%d,\"count\":%llu}\n", cpu,
			(unsigned long long)count);
}

void events_on_meta_lost(void *ctx, int cpu, uint64_t count)
{
	struct events *e = ctx;

	e->meta_lost += count;
	diag("lost %llu connection or handshake events on CPU %d\n", (unsigned long long)count,
	     cpu);
	if (e->cfg.json && e->cfg.out)
		fprintf(e->cfg.out,
			"{\"v\":1,\"type\":\"lost\",\"buffer\":\"meta\",\"cpu\":%d,"
			"\"count\":%llu}\n",
			cpu, (unsigned long long)count);
}

void events_finish(struct events *e)
{
	events_deliver(e, UINT64_MAX);
	while (e->npending > 0) /* their last chunks never came */
		flush_pending(e, &e->pending[0], 0);
	free(e->pending);
	e->pending = NULL;
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
	int i;

	for (i = 0; i < e->nqueue; i++)
		free(e->queue[i].ev);
	free(e->queue);
	for (i = 0; i < e->npending; i++) {
		free(e->pending[i].hdr);
		free(e->pending[i].data);
	}
	free(e->pending);
	free(e->procs);
	free(e->probe_calls);
	conns_free(&e->conns);
	flows_free(&e->flows);
	e->probe_calls = NULL;
	e->nprobe_calls = 0;
	e->queue = NULL;
	e->pending = NULL;
	e->procs = NULL;
	e->nqueue = e->npending = e->nprocs = 0;
	e->queued_bytes = 0;
}
