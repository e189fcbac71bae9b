/* SPDX-License-Identifier: Apache-2.0 */
/*
 * session.c - one tracing run: its outputs, compiled BPF, perf buffers and targets set up, the
 * poll loop, the end (detach, drain, account for every byte) and what it frees.
 *
 * Long because it owns what a run makes: each thing is set up, run and freed here in
 * reverse, and the other modules (compile.c, probes, follow.c, events.c) are handed theirs.
 */
#define _GNU_SOURCE
#include "session.h"
#include "diag.h"
#include "grow.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "audit.h"
#include "bpfcache.h"
#include "compile.h"
#include "inflight.h"
#include "output.h"
#include "privileges.h"
#include "procmaps.h"
#include "sources.h"
#include "tracefs.h"
#include "tls_event.h"
#include "tracer_bpf.h"

/* The kernel wakes the tracer once per WAKEUP_EVENTS events on a CPU of tls_meta, and of
 * tls_events once a quarter of its buffer may be full (options_wakeup_events: a wake-up costs
 * the traced program an interrupt); every poll round, at most POLL_TIMEOUT_MS apart, drains
 * every CPU's buffer whatever its count, and so does the end. */
#define POLL_TIMEOUT_MS 100
#define EXIT_POLL_MS 5		   /* rounds while a target's exit completes */
#define EXIT_WATCH_NS 500000000ull /* ... for this long after its notice */
#define WAKEUP_EVENTS 64
/* per CPU: connections, handshakes, verification, and a gap for each call whose last chunk
 * the data buffer refused (a burst of loss); each ~150 bytes (an opening ~190: its ends) */
#define META_PAGES 128
#define PERF_RECORD_OVERHEAD 16 /* perf_event_header + raw size, 8-byte aligned */

/* Processes that find the per-process counters full share one entry, made at start. */
static int init_stats(struct tracer_bpf *tb)
{
	struct tls_stats zero = {0};
	int err = tracer_bpf__update(tb, STATS_TABLE, TLS_STATS_OTHER_KEY, &zero, sizeof(zero));

	if (err && err != -ENOENT) {
		diag("failed to set up BPF map '%s': %s\n", STATS_TABLE, strerror(-err));
		return err;
	}
	return 0;
}

/* conns_mark_fn on tls_known_socks of the module in use (a reload keeps the map). */
static int mark_known(void *ctx, pid_t pid, int fd, bool add)
{
	const struct session *s = ctx;
	struct tls_fd_key key = {.tgid = (uint32_t)pid, .fd = fd};
	uint8_t one = 1;

	if (add)
		return tracer_bpf__update_key(s->tb, KNOWN_SOCKS_TABLE, &key, sizeof(key), &one,
					      sizeof(one));
	return tracer_bpf__delete_key(s->tb, KNOWN_SOCKS_TABLE, &key, sizeof(key));
}

/*
 * Looks up the sockets the traced processes hold, before any TLS probe is attached (the
 * close and dup tracepoints are): a connection older than the tracer then has its addresses
 * even if the process uses it once and closes it at once. Needs tls_known_socks; not with
 * --all (every process's sockets).
 */
static void scan_sockets(struct session *s, const struct proc_list *pl, const bool *traced)
{
	int i, n;

	if (!tracer_bpf__has_table(s->tb, KNOWN_SOCKS_TABLE))
		return;
	s->ev->conns.mark = mark_known;
	s->ev->conns.mark_ctx = s;
	for (i = 0; i < pl->n; i++) {
		if (!traced[i])
			continue;
		n = conns_scan(&s->ev->conns, pl->pid[i]);
		if (n < 0 && n != -ENOENT)
			diag("cannot list the sockets of PID %d (%s): its connections "
			     "are looked up when first used\n",
			     (int)pl->pid[i], strerror(-n));
		else if (s->env->verbose && n >= 0)
			diag("PID %d: connected TCP sockets looked up as it attached: %d\n",
			     (int)pl->pid[i], n);
	}
}

/* Opens the perf buffer of `table`, or says why not. */
static int open_buffer(struct session *s, const char *table, int pages, int wakeup,
		       tracer_bpf_sample_fn sample, tracer_bpf_lost_fn lost, void *ctx)
{
	char msg[256];
	int err = tracer_bpf__open_perf_buffer(s->tb, table, pages, wakeup, sample, lost, ctx, msg,
					       sizeof(msg));

	if (err)
		diag("%s\n", msg);
	return err;
}

/*
 * What every run starts with: privileges, the probe spec table and the given targets.
 * Returns EXIT_OK or, after saying what failed, EXIT_RUNTIME/EXIT_USAGE.
 */
static int open_specs_and_targets(struct session *s, const struct env *env)
{
	int err;

	s->env = env;
	s->probes.exported_only = env->placement_exported;
	unprobed_init(&s->unprobed, "/proc");
	if (check_privileges() ||
	    sources_find_dir("probe_specs", env->probe_specs, s->spec_dir, sizeof(s->spec_dir)))
		return EXIT_RUNTIME;
	err = spec_table_load(s->spec_dir, &s->specs);
	if (err)
		return err == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
	return targets_init(&s->targets, env);
}

bool output_to_stdout(const struct env *env)
{
	return !env->pcap_path || strcmp(env->pcap_path, "-") != 0;
}

/* -w's file (at once, so a refused file fails before the compile), --redact, --http. */
static int open_outputs(struct session *s, const struct env *env)
{
	char err[512];

	if (env->redact && redact_init(&s->redact, env->redact_patterns, env->nredact_patterns, err,
				       sizeof(err))) {
		diag("invalid --redact-pattern %s\n", err);
		return EXIT_USAGE;
	}
	s->http.on_msg = events_on_http;
	s->http.on_error = events_on_http_error;
	s->http.redact = s->redact.n ? &s->redact : NULL;
	if (env->pcap_path && pcapng_open(&s->pcap, env->pcap_path, env->force))
		return EXIT_RUNTIME;
	return EXIT_OK;
}

/*
 * PID mode: whether the probes can go through a scope (the kernel keeps the traced processes
 * and everything they start; wrapper/scope.c), which takes the kernel's BTF for the
 * dispatcher and this tracer's bpf_src; if not, every process takes the probes and BPF
 * filters, said once. With --all: never.
 */
static bool use_scope(struct session *s)
{
	const char *why = NULL;

	if (s->env->all)
		return false;
	if (!s->kf.offs.ok[KBTF_PROBE])
		why = s->kf.offs.why[KBTF_PROBE];
	else if (!generation_can_scope(s->tb))
		why = "bpf_src has no " DISPATCH_ENTRY " (or its maps)";
	if (why)
		diag("note: the probes cannot be kept to the traced processes (%s): every process "
		     "that maps a TLS library takes them, and BPF leaves the others out\n",
		     why);
	return !why;
}

/* The outputs, in the order each event is handed to them: the observer's alone, or the one
 * shown on stdout, then the capture. Returns 0 or -ENOMEM. */
static int open_sinks(struct session *s, const struct env *env)
{
	FILE *out = output_to_stdout(env) ? stdout : NULL;
	struct sink *chosen[SESSION_MAX_SINKS] = {0};
	int i, n = 0;

	if (s->observer.sink) {
		chosen[n++] = s->observer.sink;
	} else if (out) {
		if (env->count)
			chosen[n++] = sink_count_new(out);
		else if (env->json)
			chosen[n++] = sink_json_new(out, env->http_only);
		else
			chosen[n++] = sink_text_new(out, &(struct sink_text_opts){
								 .hexdump = env->hexdump,
								 .latency = env->latency,
								 .handshakes = env->handshakes,
								 .http_only = env->http_only,
								 .http_headers = env->verbose > 0,
							 });
	}
	if (s->pcap.f && !s->observer.sink)
		chosen[n++] = sink_pcapng_new(&s->pcap);
	for (i = 0; i < n; i++)
		if (chosen[i])
			s->sinks[s->nsinks++] = chosen[i];
	return s->nsinks == n ? 0 : -ENOMEM;
}

/* Perf buffers first, then the probes, so no event finds the buffer missing: the events,
 * and the notices the follow and notes threads read. */
static int open_buffers(struct session *s)
{
	const struct env *env = s->env;
	long page_size = sysconf(_SC_PAGESIZE);
	unsigned long hdr = TLS_EVENT_HDR_SIZE + PERF_RECORD_OVERHEAD; /* before each chunk */
	int pages;

	if (output_to_stdout(env) && !s->observer.sink)
		output_setup_stdout();
	if (open_sinks(s, env) || !(s->ev = malloc(sizeof(*s->ev))))
		return -ENOMEM;
	events_init(s->ev, &(struct events_config){
				   .probes = &s->probes,
				   .sinks = s->sinks,
				   .nsinks = s->nsinks,
				   .max_data_size = (uint32_t)env->max_data_size,
				   .http = env->http ? &s->http : NULL,
				   .redact = s->redact.n ? &s->redact : NULL,
				   .filter = &env->conns,
				   .data_only = s->observer.sink != NULL,
			   });
	s->http.ctx = s->ev;
	pages = options_perf_pages(env, page_size, hdr, (int)sysconf(_SC_NPROCESSORS_ONLN));
	/* tls_meta first: a round reads it before the data, whose events come after a
	 * connection's opening in seq, and which may keep a round reading for long. */
	if ((tracer_bpf__has_table(s->tb, META_TABLE) &&
	     open_buffer(s, META_TABLE, META_PAGES, WAKEUP_EVENTS, events_on_sample,
			 events_on_meta_lost, s->ev)) ||
	    open_buffer(s, EVENTS_TABLE, pages, options_wakeup_events(env, pages * page_size, hdr),
			events_on_sample, events_on_lost, s->ev))
		return -EIO;
	if (notes_start(&s->notes, s->tb, "/proc", &s->unprobed, s->targets.scope))
		return -EIO;
	s->ev->conns.notes = s->notes.lookups;
	return follow_open(&s->follow, s->tb,
			   &(struct probe_sink){.tb = s->tb,
						.scope = s->targets.scope,
						.gen = s->gen,
						.slots = s->slots.names,
						.nslots = s->slots.n});
}

/*
 * The processes traced at start: the given ones and their descendants (every process with
 * --all), put in the scope; their TLS code and the ld.so cache's found and attached; their
 * sockets looked up. Returns 0 or -errno (said).
 */
static int trace_running(struct session *s)
{
	const struct env *env = s->env;
	struct proc_list pl = {0};
	bool *traced = NULL;
	int err, i, j;

	proc_list_load(&pl);
	traced = calloc(pl.n + 1, sizeof(*traced));
	err = traced ? 0 : -ENOMEM;
	for (i = 0; !err && i < pl.n; i++)
		for (j = 0; j < env->npids; j++)
			traced[i] = traced[i] || pl.pid[i] == env->pids[j];
	if (!err && !env->no_children && !env->all)
		err = targets_add_descendants(&s->targets, s->tb, &pl, traced);
	if (!err)
		err = targets_scope_processes(&s->targets, s->tb, &pl, traced);
	follow_lock(&s->follow);
	if (!err)
		err = follow_find_tls_code(&s->follow, s->tb, &s->probes, &s->specs, &pl, traced,
					   &s->follow.maps, false);
	if (!err)
		scan_sockets(s, &pl, traced);
	if (!err)
		err = follow_attach_new(&s->follow);
	follow_unlock(&s->follow);
	free(traced);
	proc_list_free(&pl);
	return err;
}

/* Each traced process holds a few perf events of the tracer's (wrapper/scope.c): the soft
 * limit of open files goes up to the hard one, so that a shell with many children never
 * runs into it. */
static void raise_fd_limit(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

int session_open(struct session *s, const struct env *env)
{
	char why[TRACER_BPF_ERRLEN];
	bool scoped;
	int err, i;

	/* Privileges, the probe spec table, the targets, the outputs, the BPF sources. */
	err = open_specs_and_targets(s, env);
	if (err)
		return err;
	err = open_outputs(s, env);
	if (err)
		return err;
	if (sources_find_dir("bpf_src", env->bpf_src, s->bpf_dir, sizeof(s->bpf_dir)))
		return EXIT_RUNTIME;

	/* Compile bpf_src (generation 1); every spec's BPF function must exist. */
	s->gen = 1;
	if (compile_bpf(env, s->bpf_dir, s->gen, NULL, &s->kf, &s->cache, &s->tb))
		return EXIT_RUNTIME;
	if (check_functions(s->tb, &s->specs))
		return EXIT_USAGE;
	/* PID mode: the scope the kernel keeps the traced processes in, the specs' BPF
	 * functions where its dispatcher calls them. */
	scoped = use_scope(s);
	if (scoped)
		raise_fd_limit();
	if (scoped && (err = targets_open_scope(&s->targets, tracefs_dir())) != 0) {
		if (err != -EOPNOTSUPP)
			return EXIT_RUNTIME;
		scoped = false; /* said: the probes go to every process, BPF filters */
	}
	if (scoped && generation_slots(s->tb, &s->specs, &s->slots))
		return EXIT_RUNTIME;
	if (generation_settings(s->tb, env, s->gen, s->targets.scope) || init_stats(s->tb))
		return EXIT_RUNTIME;
	for (i = 0; i < env->npids; i++)
		if (targets_add(&s->targets, s->tb, env->pids[i]))
			return EXIT_RUNTIME;
	follow_init(&s->follow, &(struct follow_config){.env = env,
							.probes = &s->probes,
							.specs = &s->specs,
							.targets = &s->targets,
							.unprobed = &s->unprobed});
	s->follow_on = true;
	if (open_buffers(s))
		return EXIT_RUNTIME;

	/* Children from now on (tracepoints), those already there (/proc), their TLS code. */
	if (attach_kernel_programs(s->tb, &s->kf, env->verbose))
		return EXIT_RUNTIME;
	if (scoped && tracer_scope__attach(s->tb, s->targets.scope, DISPATCH_ENTRY, DISPATCH_RETURN,
					   why, sizeof(why))) {
		diag("%s\n", why);
		return EXIT_RUNTIME;
	}
	if (trace_running(s) || follow_run(&s->follow))
		return EXIT_RUNTIME;

	/* Compiled, verified and attached: the next start takes it from the cache. */
	generation_keep(&s->cache, s->tb, env->verbose);

	/* Saved edits of the sources and specs are reloaded while tracing. */
	reload_init(&s->reload, &(struct reload_config){.env = env,
							.bpf_dir = s->bpf_dir,
							.spec_dir = s->spec_dir,
							.kf = &s->kf,
							.cache = &s->cache,
							.tb = &s->tb,
							.specs = &s->specs,
							.probes = &s->probes,
							.slots = &s->slots,
							.gen = &s->gen,
							.follow = &s->follow,
							.targets = &s->targets,
							.ev = s->ev});
	s->reload_on = true;
	return EXIT_OK;
}

/* --list-probes --all: every process's TLS code; one that cannot be looked at is passed
 * over (said with -v). */
static int add_every_process(struct session *s, const struct env *env)
{
	struct proc_list pl = {0};
	int i, r = 0;
	uint64_t tls;

	proc_list_load(&pl);
	for (i = 0; i < pl.n && r != -ENOMEM; i++) {
		r = probes_add_process(&s->probes, pl.pid[i], &s->specs, &tls, env->verbose);
		if (r < 0 && r != -ENOMEM && env->verbose)
			diag("passing over PID %d: %s\n", (int)pl.pid[i], strerror(-r));
	}
	proc_list_free(&pl);
	return r == -ENOMEM ? r : 0;
}

int session_list_probes(const struct env *env)
{
	struct session s = {0};
	int err, i, r = 0;
	uint64_t tls;

	err = open_specs_and_targets(&s, env);
	for (i = 0; !err && r >= 0 && i < env->npids; i++) {
		r = probes_add_process(&s.probes, env->pids[i], &s.specs, &tls, env->verbose);
		if (r >= 0 && !tls)
			diag("PID %d (%s) maps no TLS library\n", (int)env->pids[i],
			     s.targets.comms[i]);
		else if (r < 0 && r != -EINVAL) /* -EINVAL: the missing symbol was named */
			diag("failed to look at PID %d's TLS code: %s\n", (int)env->pids[i],
			     strerror(-r));
	}
	if (!err && env->all && (r = add_every_process(&s, env)) < 0)
		diag("failed to look at the processes' TLS code: %s\n", strerror(-r));
	if (!err && r >= 0 && !env->npids && !env->all) {
		r = probes_add_cached(&s.probes, &s.specs, env->verbose);
		if (r < 0 && r != -EINVAL)
			diag("failed to look at the ld.so cache's TLS libraries: %s\n",
			     strerror(-r));
	}
	if (!err && r >= 0) {
		struct tracer_bpf_trap_costs costs;
		char why[256];
		bool measured = tracer_bpf__trap_costs(&costs, why, sizeof(why)) == 0;

		probes_list(&s.probes, stdout, measured ? &costs : NULL, why);
	} else if (!err) {
		err = EXIT_RUNTIME;
	}
	session_free(&s);
	return err;
}

/* "PID 42 (curl) and its children (3 running), threads named 'x'" */
static void describe_targets(const struct session *s, char *who, size_t size)
{
	const struct env *env = s->env;
	size_t n = 0;
	int i;

	who[0] = '\0';
	if (env->all) {
		n = snprintf(who, size, "every process");
		if (!env->any_uid)
			n += snprintf(who + n, size - n, " of uid %u", env->uid);
	}
	for (i = 0; i < env->npids && n < size; i++)
		n += snprintf(who + n, size - n, "%s%d (%s)",
			      i ? ", " : (env->npids > 1 ? "PIDs " : "PID "), (int)env->pids[i],
			      s->targets.comms[i]);
	if (!env->all && !env->no_children && n < size)
		n += snprintf(who + n, size - n, " and %s children",
			      env->npids > 1 ? "their" : "its");
	if (s->targets.nchildren && n < size)
		n += snprintf(who + n, size - n, " (%d running)", s->targets.nchildren);
	if (env->cgroup[0] && n < size)
		n += snprintf(who + n, size - n, ", in cgroup %s (and below)", env->cgroup);
	if (env->comm[0] && n < size)
		snprintf(who + n, size - n, ", threads named '%s'", env->comm);
}

static int flush_output(struct session *s);

void session_announce(struct session *s)
{
	const struct env *env = s->env;
	char libs[2048], filters[128], who[1024], outputs[512], conns[640];
	int nuprobes;

	describe_targets(s, who, sizeof(who));
	follow_lock(&s->follow); /* its thread may be adding probes */
	probes_libraries(&s->probes, libs, sizeof(libs));
	nuprobes = s->probes.nuprobes;
	follow_unlock(&s->follow);
	options_describe_filters(env, filters, sizeof(filters));
	audit_outputs(env, outputs, sizeof(outputs));
	audit_start(who, outputs);
	conn_filter_describe(&env->conns, conns, sizeof(conns));
	diag("Tracing %s: %d probes on %s%s%s%s%s. Ctrl-C to end.\n", who, nuprobes,
	     libs[0] ? libs : "no TLS library yet", filters[0] ? "; capturing " : "", filters,
	     conns[0] ? "; showing connections with " : "", conns);
	events_begin(s->ev);
	flush_output(s); /* a failure ends tracing at once */
}

/* Whether stdout's reader went away: a pipe whose reading end closed (tracer PID | head).
 * Said by poll without a write, so it is seen even while no event comes. */
static bool reader_gone(void)
{
	struct pollfd pfd = {.fd = STDOUT_FILENO};

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR);
}

/* Flushes stdout and the capture. A reader that went away (EPIPE) ends tracing quietly;
 * another error (a full disk) says so and ends it with status 1. */
static int flush_output(struct session *s)
{
	int err;

	if (s->pcap.f && pcapng_flush(&s->pcap))
		return -1;
	if (s->reader_gone || s->write_err)
		return -1;
	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout)) {
		s->reader_gone = reader_gone();
		return s->reader_gone ? -EPIPE : 0;
	}
	/* The write that failed said why (a failed fflush now, or an event's write). */
	err = errno ? errno : s->ev && s->ev->out_err ? s->ev->out_err : EIO;
	if (err == EPIPE) {
		s->reader_gone = true;
		return -EPIPE;
	}
	s->write_err = err;
	diag("failed to write events to stdout: %s; stopping\n", strerror(err));
	return -err;
}

/* How long the next poll may wait: a round at least every POLL_TIMEOUT_MS; sooner while a
 * target's exit completes (its pidfd turns readable a moment after the notice), and when a
 * saved change is due to be reloaded (the watch's fd wakes the poll as it comes). */
static int poll_timeout(struct session *s, uint64_t now)
{
	uint64_t due;
	int ms = POLL_TIMEOUT_MS;

	if (now - atomic_load(&s->follow.exit_seen_ns) < EXIT_WATCH_NS)
		ms = EXIT_POLL_MS;
	if (s->reload.watch.last_ns) {
		due = s->reload.watch.last_ns + WATCH_QUIET_NS;
		if (due <= now)
			return 0;
		if ((due - now) / 1000000 + 1 < (uint64_t)ms)
			ms = (int)((due - now) / 1000000 + 1);
	}
	return ms;
}

void session_run(struct session *s, volatile sig_atomic_t *stop)
{
	uint64_t round;

	while (!*stop && !s->target_exited) {
		round = events_now();
		tracer_bpf__poll_with(s->tb, poll_timeout(s, round), s->reload.watch.fd);
		follow_drain(&s->follow, &s->ev->conns);
		events_deliver(s->ev, round);
		unprobed_drain(&s->unprobed, s->ev);
		if (s->observer.round)
			s->observer.round(s->observer.ctx);
		if (reload_due(&s->reload, events_now()))
			reload_apply(&s->reload);
		if (flush_output(s))
			break;
		s->target_exited = !s->env->all && targets_gone(&s->targets, s->tb);
	}
}

/* The scope's processes leave it (their breakpoints taken out), beside the detaching. */
static void *release_scope(void *scope)
{
	tracer_scope__release(scope);
	return NULL;
}

int session_finish(struct session *s)
{
	const char *reason = s->target_exited ? "target exited"
			     : s->write_err   ? "stopped (writing to stdout failed)"
			     : s->pcap.err && s->pcap.err != EPIPE
				     ? "stopped (writing the capture failed)"
			     : s->reader_gone ? "stopped (stdout's reader went away)"
					      : "stopped";
	char who[1024], how[128], msg[256];
	struct inflight before = {0}, after = {0};
	pthread_t releaser;
	bool releasing;
	int err, read_err, in_err;

	/* A call whose thread runs on to its return gets a moment to reach it (inflight.h).
	 * Then detach, so nothing new arrives (nor does the follow thread attach any more);
	 * then drain and account for every byte. The traced processes leave the scope at the
	 * same time (each waits on other kernel locks than the detaching). */
	inflight_settle(s->tb, INFLIGHT_WAIT_MS);
	in_err = inflight_take(s->tb, &before);
	follow_lock(&s->follow);
	follow_close(&s->follow);
	releasing = s->targets.scope &&
		    pthread_create(&releaser, NULL, release_scope, s->targets.scope) == 0;
	err = tracer_bpf__detach_all(s->tb, msg, sizeof(msg)) ? EXIT_RUNTIME : EXIT_OK;
	if (releasing)
		pthread_join(releaser, NULL);
	follow_unlock(&s->follow);
	if (err)
		diag("%s\n", msg);
	follow_stop(&s->follow);
	notes_stop(&s->notes);
	tracer_bpf__poll(s->tb, 0);
	follow_drain(&s->follow, &s->ev->conns);
	events_finish(s->ev);
	unprobed_drain(&s->unprobed, s->ev);
	in_err = in_err ? in_err : inflight_take(s->tb, &after);
	if (in_err)
		diag("failed to read the calls in flight: %s\n", strerror(-in_err));
	else
		s->ev->calls_in_flight = inflight_count(&before, &after);
	inflight_free(&before);
	inflight_free(&after);
	read_err = tracer_bpf__sum_percpu(s->tb, STATS_TABLE, events_on_counters, s->ev);
	if (read_err)
		diag("failed to read the BPF counters in '%s': %s\n", STATS_TABLE,
		     strerror(-read_err));
	events_summary(s->ev, read_err == 0, reason);
	reload_summary(&s->reload);
	flush_output(s);
	if (s->pcap.f && pcapng_finish(&s->pcap) && s->pcap.err != EPIPE)
		err = EXIT_RUNTIME;
	err = s->write_err ? EXIT_RUNTIME : err;
	describe_targets(s, who, sizeof(who));
	snprintf(how, sizeof(how), "%s; exit status %d", reason, err);
	audit_stop(who, how);
	return err;
}

int session_free(struct session *s)
{
	int err;

	if (s->follow_on)
		follow_stop(&s->follow);
	notes_free(&s->notes);
	if (s->reload_on)
		reload_free(&s->reload);
	err = tracer_bpf__destroy(s->tb) ? EXIT_RUNTIME : EXIT_OK;
	s->tb = NULL;
	/* after the module: its programs hung on the scope's events */
	targets_free(&s->targets);
	if (s->follow_on)
		follow_free(&s->follow);
	s->follow_on = s->reload_on = false;
	unprobed_free(&s->unprobed);
	kernel_facts_free(&s->kf);
	bpfcache_free(&s->cache);
	if (s->pcap.f)
		pcapng_finish(&s->pcap);
	http_free(&s->http);
	redact_free(&s->redact);
	if (s->ev)
		events_free(s->ev);
	free(s->ev);
	s->ev = NULL;
	while (s->nsinks > 0)
		if (s->sinks[--s->nsinks] != s->observer.sink)
			sink_free(s->sinks[s->nsinks]);
	probes_free(&s->probes);
	generation_slots_free(&s->slots);
	spec_table_free(&s->specs);
	return err;
}
