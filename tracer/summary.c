/* SPDX-License-Identifier: Apache-2.0 */
/* summary.c - the closing account of a run: every byte moved is captured, truncated, lost,
 * filtered or unreadable, and said so (stderr; to the sinks as struct out_summary) */
#define _GNU_SOURCE
#include "events.h"
#include "diag.h"

#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "procmaps.h"
#include "sink.h"

/* Hands the account to each sink that takes it. */
static void to_sinks(const struct events *e, const struct out_summary *s)
{
	SINKS_EACH(e->cfg.sinks, e->cfg.nsinks, summary, s);
}

/* Without the BPF counters only what arrived is known: say so, claim nothing else. */
static void summary_unknown(struct events *e, const char *why)
{
	diag("%s: %llu bytes captured; calls, bytes moved and losses unknown (the BPF "
	     "counters could not be read)\n",
	     why, (unsigned long long)e->bytes_captured);
	to_sinks(e, &(struct out_summary){.reason = why, .all.bytes_captured = e->bytes_captured});
}

/* "; before probes: S bytes sent and R received (TLS records on sockets, not in the calls)" */
static void print_unprobed(FILE *f, uint64_t sent, uint64_t recv)
{
	if (sent || recv)
		fprintf(f,
			"; before probes: %llu bytes sent and %llu received (TLS records on "
			"sockets, not in the calls)",
			(unsigned long long)sent, (unsigned long long)recv);
}

/* "N calls, M bytes moved = C captured + T truncated + L lost[ + filtered][ + unreadable]" */
static void print_equation(FILE *f, const uint64_t *bpf, uint64_t captured, uint64_t unreadable)
{
	fprintf(f, "%llu calls, %llu bytes moved = %llu captured + %llu truncated + %llu lost",
		(unsigned long long)bpf[TLS_STAT_CALLS],
		(unsigned long long)bpf[TLS_STAT_BYTES_MOVED], (unsigned long long)captured,
		(unsigned long long)bpf[TLS_STAT_BYTES_TRUNCATED],
		(unsigned long long)bpf[TLS_STAT_BYTES_LOST]);
	if (bpf[TLS_STAT_CALLS_FILTERED])
		fprintf(f, " + %llu filtered (%llu calls)",
			(unsigned long long)bpf[TLS_STAT_BYTES_FILTERED],
			(unsigned long long)bpf[TLS_STAT_CALLS_FILTERED]);
	if (unreadable)
		fprintf(f, " + %llu unreadable", (unsigned long long)unreadable);
	if (bpf[TLS_STAT_CALLS_UNFINISHED])
		fprintf(f,
			"; %llu call%s unfinished when %s thread exited (not counted: what %s "
			"moved is unknown)",
			(unsigned long long)bpf[TLS_STAT_CALLS_UNFINISHED],
			bpf[TLS_STAT_CALLS_UNFINISHED] == 1 ? "" : "s",
			bpf[TLS_STAT_CALLS_UNFINISHED] == 1 ? "its" : "their",
			bpf[TLS_STAT_CALLS_UNFINISHED] == 1 ? "it" : "they");
	if (bpf[TLS_STAT_UNCOUNTED])
		fprintf(f,
			"; bytes before probes not counted for %llu processes or sockets (a BPF "
			"map was full)",
			(unsigned long long)bpf[TLS_STAT_UNCOUNTED]);
}

static uint64_t accounted(const uint64_t *bpf, uint64_t captured, uint64_t unreadable)
{
	return captured + unreadable + bpf[TLS_STAT_BYTES_TRUNCATED] + bpf[TLS_STAT_BYTES_LOST] +
	       bpf[TLS_STAT_BYTES_FILTERED];
}

/* The counters of the whole run or of one process, for the account handed to the sinks. */
static void counters_of(struct out_counters *c, const uint64_t *bpf, uint64_t captured,
			uint64_t unreadable, uint64_t events_lost)
{
	c->calls = bpf[TLS_STAT_CALLS];
	c->bytes_moved = bpf[TLS_STAT_BYTES_MOVED];
	c->bytes_captured = captured;
	c->bytes_truncated = bpf[TLS_STAT_BYTES_TRUNCATED];
	c->bytes_lost = bpf[TLS_STAT_BYTES_LOST];
	c->bytes_unreadable = unreadable;
	c->events_lost = events_lost;
	c->events_filtered = bpf[TLS_STAT_CALLS_FILTERED];
	c->bytes_filtered = bpf[TLS_STAT_BYTES_FILTERED];
	c->calls_unfinished = bpf[TLS_STAT_CALLS_UNFINISHED];
	c->uncounted_before_probes = bpf[TLS_STAT_UNCOUNTED];
}

/* Processes that moved bytes before probes. */
static int unprobed_procs(const struct events *e)
{
	int i, n = 0;

	for (i = 0; i < e->nprocs; i++)
		n += e->procs[i].unprobed_sent || e->procs[i].unprobed_recv;
	return n;
}

/* Calls captured through the probes of library `path`, in this generation of probes and
 * in those reloads replaced. */
static uint64_t library_calls(const struct events *e, const char *path)
{
	const struct probe_set *set;
	uint64_t calls = 0;
	int i;

	for (set = e->cfg.probes; set; set = set->older)
		for (i = 0; i < set->n; i++)
			if (probes_at(set, i)->id < e->nprobe_calls &&
			    strcmp(probes_at(set, i)->lib_path, path) == 0)
				calls += e->probe_calls[probes_at(set, i)->id];
	return calls;
}

/* "calls captured by library: A (3), B (0)" on stderr; the libraries' paths and calls into
 * s (its arrays freed by the caller). */
static void summarize_libraries(const struct events *e, struct out_summary *s)
{
	const struct probe_set *set = e->cfg.probes;
	const struct resolved_probe *rp;
	uint64_t calls;
	int f, n = 0;

	s->lib_paths = calloc((size_t)set->nfiles + 1, sizeof(*s->lib_paths));
	s->lib_calls = calloc((size_t)set->nfiles + 1, sizeof(*s->lib_calls));
	for (f = 0; f < set->nfiles; f++) {
		if (!(rp = probes_file_first(set, f)))
			continue;
		calls = library_calls(e, rp->lib_path);
		diag("%s%s (%llu)", n++ ? ", " : "calls captured by library: ", rp->lib_path,
		     (unsigned long long)calls);
		if (s->lib_paths && s->lib_calls) {
			s->lib_paths[s->nlibs] = rp->lib_path;
			s->lib_calls[s->nlibs++] = calls;
		}
	}
	if (n)
		fputc('\n', diag_stream());
}

/* The summary's first line on stderr: the account of every byte, and what was lost. */
static void say_totals(const struct events *e, const char *why, uint64_t events_lost,
		       uint64_t unreported, uint64_t meta_lost)
{
	int cpu;

	diag("%s: ", why);
	print_equation(diag_stream(), e->bpf, e->bytes_captured, e->bytes_unreadable);
	if (e->calls_in_flight)
		diag("; %llu call%s in flight as the tracer stopped (handshakes and reads still "
		     "waiting included; what %s moved is not counted)",
		     (unsigned long long)e->calls_in_flight, e->calls_in_flight == 1 ? "" : "s",
		     e->calls_in_flight == 1 ? "it" : "they");
	print_unprobed(diag_stream(), e->unprobed_sent, e->unprobed_recv);
	if (e->unprobed_conns)
		diag(" on %llu connection%s of %d process%s", (unsigned long long)e->unprobed_conns,
		     e->unprobed_conns == 1 ? "" : "s", unprobed_procs(e),
		     unprobed_procs(e) == 1 ? "" : "es");
	diag("; %llu events lost", (unsigned long long)events_lost);
	for (cpu = 0; cpu < EVENTS_MAX_CPUS; cpu++)
		if (e->lost[cpu])
			diag(" (CPU %d: %llu)", cpu, (unsigned long long)e->lost[cpu]);
	if (unreported)
		diag(" (unreported by the kernel: %llu)", (unsigned long long)unreported);
	if (meta_lost)
		diag("; %llu connection, handshake, hello, certificate, cgroup or gap events lost",
		     (unsigned long long)meta_lost);
	if (e->malformed)
		diag("; %llu malformed events ignored", (unsigned long long)e->malformed);
	if (e->dropped)
		diag("; %llu chunks (%llu bytes) dropped: out of memory",
		     (unsigned long long)e->dropped, (unsigned long long)e->bytes_dropped);
	if (e->late)
		diag("; %llu chunks arrived after later ones were shown",
		     (unsigned long long)e->late);
	fputc('\n', diag_stream());
}

/* A line per process when there are several (a process that sent no event, all filtered or
 * lost, named from /proc if alive). */
static void say_processes(struct events *e)
{
	int i;

	for (i = 0; i < e->nprocs; i++)
		if (!e->procs[i].comm[0])
			proc_read_comm((pid_t)e->procs[i].pid, e->procs[i].comm,
				       sizeof(e->procs[i].comm));
	for (i = 0; e->nprocs > 1 && i < e->nprocs; i++) {
		diag("  PID %u (%s): ", e->procs[i].pid, e->procs[i].comm);
		print_equation(diag_stream(), e->procs[i].bpf, e->procs[i].bytes_captured,
			       e->procs[i].bytes_unreadable);
		print_unprobed(diag_stream(), e->procs[i].unprobed_sent, e->procs[i].unprobed_recv);
		fputc('\n', diag_stream());
	}
}

/* The summary's other lines on stderr: connections, certificates, HTTP, and a mismatch in
 * the account should there be one. */
static void say_the_rest(const struct events *e)
{
	diag("connections: %llu (%llu without addresses", (unsigned long long)e->conns.opened,
	     (unsigned long long)conns_unresolved(&e->conns));
	if (conn_filter_on(e->cfg.filter))
		diag("; %llu left out by --host/--port/--sni, their calls counted as filtered",
		     (unsigned long long)e->conns_filtered);
	diag("); %llu calls without a known connection%s\n",
	     (unsigned long long)e->calls_without_conn,
	     conn_filter_on(e->cfg.filter) && e->calls_without_conn ? " (filtered)" : "");
	if (e->certs_undecoded)
		diag("certificates not decoded: %llu (more bytes than were captured, or not "
		     "X.509)\n",
		     (unsigned long long)e->certs_undecoded);
	if (e->certs_unshown)
		diag("certificates not shown: %llu (their connection was not known, or not yet "
		     "known, to match --host/--port/--sni)\n",
		     (unsigned long long)e->certs_unshown);
	if (e->calls.unjoined)
		diag("out of memory putting calls together: %llu chunks (%llu bytes) not shown in "
		     "their calls' rows\n",
		     (unsigned long long)e->calls.unjoined,
		     (unsigned long long)e->calls.unjoined_bytes);
	if (e->cfg.http)
		diag("HTTP: %llu requests and responses decoded; decoding stopped on %llu "
		     "connections\n",
		     (unsigned long long)e->http_records, (unsigned long long)e->http_stopped);
	if (e->cfg.http && e->cfg.http->unmasked)
		diag("redaction: %llu bytes of HTTP/2 header values were shown unmasked "
		     "(their frame began in an earlier call)\n",
		     (unsigned long long)e->cfg.http->unmasked);
	if (accounted(e->bpf, e->bytes_captured, e->bytes_unreadable) !=
	    e->bpf[TLS_STAT_BYTES_MOVED])
		diag("accounting mismatch: %llu bytes moved but %llu accounted for\n",
		     (unsigned long long)e->bpf[TLS_STAT_BYTES_MOVED],
		     (unsigned long long)accounted(e->bpf, e->bytes_captured, e->bytes_unreadable));
}

/* The account s (its libraries filled) of e, stopped for why, handed to the sinks. */
static void tell_summary(const struct events *e, struct out_summary *s, const char *why,
			 uint64_t events_lost, uint64_t meta_lost)
{
	int i;

	s->reason = why;
	s->counters_known = true;
	counters_of(&s->all, e->bpf, e->bytes_captured, e->bytes_unreadable, events_lost);
	s->all.bytes_sent_before_probes = e->unprobed_sent;
	s->all.bytes_received_before_probes = e->unprobed_recv;
	s->conns_before_probes = e->unprobed_conns;
	s->late = e->late;
	s->meta_lost = meta_lost;
	s->malformed = e->malformed;
	s->dropped = e->dropped;
	s->bytes_dropped = e->bytes_dropped;
	s->conns = e->conns.opened;
	s->conns_unresolved = conns_unresolved(&e->conns);
	s->calls_without_conn = e->calls_without_conn;
	s->conns_filtered = e->conns_filtered;
	s->certs_undecoded = e->certs_undecoded;
	s->certs_unshown = e->certs_unshown;
	s->calls_in_flight = e->calls_in_flight;
	s->http = e->cfg.http != NULL;
	s->http_messages = e->http_records;
	s->http_stopped = e->http_stopped;
	s->http_unmasked = e->cfg.http ? e->cfg.http->unmasked : 0;
	s->procs = calloc((size_t)e->nprocs + 1, sizeof(*s->procs));
	for (i = 0; s->procs && i < e->nprocs; i++) {
		const struct proc_stats *p = &e->procs[i];

		s->procs[i].pid = p->pid;
		s->procs[i].comm = p->comm;
		counters_of(&s->procs[i].c, p->bpf, p->bytes_captured, p->bytes_unreadable,
			    p->bpf[TLS_STAT_SUBMIT_FAILED]);
		s->procs[i].c.bytes_sent_before_probes = p->unprobed_sent;
		s->procs[i].c.bytes_received_before_probes = p->unprobed_recv;
		s->nprocs++;
	}
	to_sinks(e, s);
}

static void summarize(struct events *e, const char *why)
{
	struct out_summary s;
	uint64_t failed = e->bpf[TLS_STAT_SUBMIT_FAILED], unreported = 0;
	/* The kernel's count, or the BPF side's where it has not reported them all yet. */
	uint64_t meta_lost = e->bpf[TLS_STAT_META_LOST] > e->meta_lost ? e->bpf[TLS_STAT_META_LOST]
								       : e->meta_lost;

	/* The kernel reports a loss only once a later event fits in that buffer. */
	if (failed > e->lost_events) {
		unreported = failed - e->lost_events;
		diag("lost %llu events the kernel had not reported yet\n",
		     (unsigned long long)unreported);
	}
	say_totals(e, why, e->lost_events + unreported, unreported, meta_lost);
	say_processes(e);
	say_the_rest(e);
	memset(&s, 0, sizeof(s));
	summarize_libraries(e, &s);
	tell_summary(e, &s, why, e->lost_events + unreported, meta_lost);
	free(s.procs);
	free(s.lib_paths);
	free(s.lib_calls);
}

void events_summary(struct events *e, bool have_counters, const char *why)
{
	if (!have_counters) {
		summary_unknown(e, why);
		return;
	}
	summarize(e, why);
}
