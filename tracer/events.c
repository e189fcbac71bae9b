/* events.c - the event stream: chunks reassembled into calls, exact accounting, output */
#include "events.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void events_init(struct events *e, const struct probe_set *probes, FILE *out, bool json,
		 bool hexdump, uint32_t max_data_size)
{
	memset(e, 0, sizeof(*e));
	e->probes = probes;
	e->out = out;
	e->json = json;
	e->hexdump = hexdump;
	e->max_data_size = max_data_size;
	e->start_ns = clock_ns(CLOCK_MONOTONIC);
	e->realtime_offset = (int64_t)(clock_ns(CLOCK_REALTIME) - e->start_ns);
}

static struct proc_stats *proc_of(struct events *e, const struct tls_event *ev)
{
	int i;

	for (i = 0; i < e->nprocs; i++)
		if (e->procs[i].pid == ev->pid)
			return &e->procs[i];
	if (e->nprocs == EVENTS_MAX_PROCS)
		return NULL;
	e->procs[e->nprocs].pid = ev->pid;
	memcpy(e->procs[e->nprocs].comm, ev->comm, TLS_COMM_LEN);
	return &e->procs[e->nprocs++];
}

/* The output's view of a chunk header; data and lengths are filled by the caller. */
static struct out_event view(const struct events *e, const struct tls_event *ev, char *comm)
{
	const struct resolved_probe *rp = probes_by_addr(e->probes, ev->func_addr);
	uint64_t rel = ev->time_ns > e->start_ns ? ev->time_ns - e->start_ns : 0;

	memcpy(comm, ev->comm, TLS_COMM_LEN);
	comm[TLS_COMM_LEN] = '\0';
	return (struct out_event){
		.func = rp ? rp->spec->symbol : "?",
		.lib = rp ? rp->lib_path : "?",
		.comm = comm,
		.time_ns = e->json ? ev->time_ns + (uint64_t)e->realtime_offset : rel,
		.pid = ev->pid,
		.tid = ev->tid,
		.uid = ev->uid,
		.write = ev->dir == TLS_DIR_WRITE,
		.call_id = ev->call_id,
		.len = ev->call_len,
		.offset = ev->offset,
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
	output_event(e->out, &out, e->hexdump);
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
	fprintf(stderr, "out of memory assembling call %llu: its bytes are reported lost\n",
		(unsigned long long)ev->call_id);
}

void events_on_sample(void *ctx, int cpu, const void *data, int size)
{
	struct events *e = ctx;
	const struct tls_event *ev = data;
	struct proc_stats *ps;
	uint32_t expected;

	if (size < (int)TLS_EVENT_HDR_SIZE || ev->data_len > e->max_data_size ||
	    ev->data_len > (uint32_t)(size - (int)TLS_EVENT_HDR_SIZE) ||
	    ev->truncated > ev->call_len || ev->offset > ev->call_len - ev->truncated ||
	    ev->data_len > ev->call_len - ev->truncated - ev->offset) {
		e->malformed++;
		return;
	}
	e->bytes_captured += ev->data_len;
	expected = ev->call_len - ev->truncated - ev->offset;
	if (expected > e->max_data_size)
		expected = e->max_data_size;
	e->bytes_unreadable += expected - ev->data_len;
	ps = proc_of(e, ev);
	if (ps) {
		if (ev->offset == 0) {
			ps->calls++;
			ps->bytes_moved += ev->call_len;
		}
		ps->bytes_captured += ev->data_len;
		ps->bytes_truncated += ev->truncated;
	}
	if (e->json) {
		char comm[TLS_COMM_LEN + 1];
		struct out_event out = view(e, ev, comm);

		out.data = (const unsigned char *)ev->data;
		out.data_len = ev->data_len;
		out.truncated = ev->truncated;
		output_json_data(e->out, &out);
	} else {
		assemble(e, cpu, ev);
	}
}

void events_on_lost(void *ctx, int cpu, uint64_t count)
{
	struct events *e = ctx;

	if (cpu >= 0 && cpu < EVENTS_MAX_CPUS)
		e->lost[cpu] += count;
	e->lost_events += count;
	fprintf(stderr, "lost %llu events on CPU %d\n", (unsigned long long)count, cpu);
	if (e->json)
		fprintf(e->out, "{\"v\":1,\"type\":\"lost\",\"cpu\":%d,\"count\":%llu}\n", cpu,
			(unsigned long long)count);
}

void events_finish(struct events *e)
{
	while (e->npending > 0) /* their last chunks never came */
		flush_pending(e, &e->pending[0], 0);
	free(e->pending);
	e->pending = NULL;
}

/* Without the BPF counters only what arrived is known: say so, claim nothing else. */
static void summary_unknown(struct events *e, const char *why, FILE *errs)
{
	fprintf(errs,
		"%s: %llu bytes captured; calls, bytes moved and losses unknown (the BPF "
		"counters could not be read)\n",
		why, (unsigned long long)e->bytes_captured);
	if (e->json)
		fprintf(e->out,
			"{\"v\":1,\"type\":\"summary\",\"reason\":\"%s\","
			"\"bytes_captured\":%llu,\"counters\":\"unavailable\"}\n",
			why, (unsigned long long)e->bytes_captured);
}

static void summarize(struct events *e, const uint64_t *stats, const char *why, FILE *errs)
{
	uint64_t calls = stats[TLS_STAT_CALLS], moved = stats[TLS_STAT_BYTES_MOVED];
	uint64_t truncated = stats[TLS_STAT_BYTES_TRUNCATED], lost = stats[TLS_STAT_BYTES_LOST];
	uint64_t failed = stats[TLS_STAT_SUBMIT_FAILED], unreported = 0;
	uint64_t accounted = e->bytes_captured + truncated + lost + e->bytes_unreadable;
	int i, cpu;

	/* The kernel reports a loss only once a later event fits in that buffer. */
	if (failed > e->lost_events) {
		unreported = failed - e->lost_events;
		fprintf(errs, "lost %llu events the kernel had not reported yet\n",
			(unsigned long long)unreported);
	}
	fprintf(errs,
		"%s: %llu calls, %llu bytes moved = %llu captured + %llu truncated + "
		"%llu lost",
		why, (unsigned long long)calls, (unsigned long long)moved,
		(unsigned long long)e->bytes_captured, (unsigned long long)truncated,
		(unsigned long long)lost);
	if (e->bytes_unreadable)
		fprintf(errs, " + %llu unreadable", (unsigned long long)e->bytes_unreadable);
	fprintf(errs, "; %llu events lost", (unsigned long long)(e->lost_events + unreported));
	for (cpu = 0; cpu < EVENTS_MAX_CPUS; cpu++)
		if (e->lost[cpu])
			fprintf(errs, " (CPU %d: %llu)", cpu, (unsigned long long)e->lost[cpu]);
	if (unreported)
		fprintf(errs, " (unreported by the kernel: %llu)", (unsigned long long)unreported);
	if (e->malformed)
		fprintf(errs, "; %llu malformed events ignored", (unsigned long long)e->malformed);
	fputc('\n', errs);
	if (accounted != moved)
		fprintf(errs, "accounting mismatch: %llu bytes moved but %llu accounted for\n",
			(unsigned long long)moved, (unsigned long long)accounted);
	if (!e->json)
		return;
	fprintf(e->out,
		"{\"v\":1,\"type\":\"summary\",\"reason\":\"%s\",\"calls\":%llu,"
		"\"bytes_moved\":%llu,\"bytes_captured\":%llu,\"bytes_truncated\":%llu,"
		"\"bytes_lost\":%llu,\"bytes_unreadable\":%llu,\"events_lost\":%llu,"
		"\"processes\":[",
		why, (unsigned long long)calls, (unsigned long long)moved,
		(unsigned long long)e->bytes_captured, (unsigned long long)truncated,
		(unsigned long long)lost, (unsigned long long)e->bytes_unreadable,
		(unsigned long long)(e->lost_events + unreported));
	for (i = 0; i < e->nprocs; i++) {
		const struct proc_stats *p = &e->procs[i];

		fprintf(e->out, "%s{\"pid\":%u,\"comm\":", i ? "," : "", p->pid);
		output_json_string(e->out, p->comm, strlen(p->comm));
		fprintf(e->out,
			",\"calls\":%llu,\"bytes_moved\":%llu,\"bytes_captured\":%llu,"
			"\"bytes_truncated\":%llu}",
			(unsigned long long)p->calls, (unsigned long long)p->bytes_moved,
			(unsigned long long)p->bytes_captured,
			(unsigned long long)p->bytes_truncated);
	}
	fputs("]}\n", e->out);
}

void events_summary(struct events *e, const uint64_t *stats, const char *why, FILE *errs)
{
	if (!stats) {
		summary_unknown(e, why, errs);
		return;
	}
	summarize(e, stats, why, errs);
}
