/* session.c - one tracing run: its outputs, compiled BPF, perf buffers and targets set up, the
 * poll loop, the end (detach, drain, account for every byte) and what it frees */
#define _GNU_SOURCE
#include "session.h"
#include "diag.h"
#include "grow.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "bpfcache.h"
#include "compile.h"
#include "follow.h"
#include "output.h"
#include "privileges.h"
#include "procmaps.h"
#include "reload.h"
#include "sources.h"
#include "targets.h"
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
 * the data buffer refused (a burst of loss); each ~150 bytes */
#define META_PAGES 128
#define PROCS_PAGES 8
#define PERF_RECORD_OVERHEAD 16 /* perf_event_header + raw size, 8-byte aligned */

/*
 * The settings that change nothing in the program's shape go to the tls_settings map, with
 * the generation whose programs act. A user's bpf_src without that map gets none of them:
 * that is only fine without filters and with a per-call limit the compiled bound already
 * gives.
 */
int write_settings(struct tracer_bpf *tb, const struct env *env, unsigned int gen)
{
	struct tls_settings set = {
		.dirs = (env->no_read ? 0 : 1u << TLS_DIR_READ) |
			(env->no_write ? 0 : 1u << TLS_DIR_WRITE),
		.sample = env->sample,
		.uid = env->any_uid ? TLS_ANY_UID : env->uid,
		.flags = env->all ? TLS_SET_ALL : 0,
		.max_call_bytes = (uint64_t)env->max_call_bytes,
		.gen = gen,
	};
	char filters[128];
	int err;

	memcpy(set.comm, env->comm, sizeof(set.comm));
	err = tracer_bpf__update(tb, SETTINGS_TABLE, 0, &set, sizeof(set));
	options_describe_filters(env, filters, sizeof(filters));
	/* Without the map the compiled bound, MAX_CHUNKS whole chunks, is the limit: fine
	 * when no filter is asked for and the limit is a whole number of chunks. */
	if (err == -ENOENT && !filters[0] && !env->all && !env->comm[0] &&
	    env->max_call_bytes % env->max_data_size == 0)
		err = 0;
	if (err)
		diag("failed to write the settings to BPF map '%s': %s\n", SETTINGS_TABLE,
		     err == -ENOENT   ? "bpf_src defines no such map"
		     : err == -EINVAL ? "its value is not a struct tls_settings of tls_event.h"
				      : strerror(-err));
	return err;
}

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

/* Said at once: a missed notice means a library loaded then may go unprobed, or a
 * connection is looked up only when its events are shown (it may be closed by then). */
static void on_proc_lost(void *ctx, int cpu, uint64_t count)
{
	(void)ctx;
	(void)cpu;
	diag("missed %llu notices of programs, libraries or connections of traced processes\n",
	     (unsigned long long)count);
}

/* tls_procs: a traced process ran a program or mapped a file (looked at after the poll),
 * or (sources before tls_conn_notes) a TLS call used a socket (looked up now). */
static void on_proc(void *ctx, int cpu, const void *data, int size)
{
	struct session *s = ctx;
	struct tls_proc_event copy; /* aligned: perf puts the record 4 bytes off */
	const struct tls_proc_event *pe = &copy;
	struct rescan *grown;
	int i;

	if (size < (int)sizeof(copy))
		return;
	memcpy(&copy, data, sizeof(copy));
	if (pe->kind == TLS_PROC_CONN) {
		events_on_conn(s->ev, pe->pid, pe->fd, pe->conn, pe->ino);
		return;
	}
	if (pe->kind == TLS_PROC_EXEC || pe->kind == TLS_PROC_CLOSE_RANGE)
		conns_forget_known(&s->ev->conns, (pid_t)pe->pid); /* its sockets may be gone */
	if (pe->kind == TLS_PROC_EXIT)
		s->exit_seen_ns = events_now(); /* look for the targets' end at once */
	if (pe->kind == TLS_PROC_CLOSE_RANGE)
		return;
	for (i = 0; i < s->nrescan; i++)
		if (s->rescan[i].pid == (pid_t)pe->pid) {
			s->rescan[i].exec |= pe->kind == TLS_PROC_EXEC;
			s->rescan[i].mmap |= pe->kind == TLS_PROC_MMAP;
			s->rescan[i].unmap |= pe->kind == TLS_PROC_UNMAP;
			s->rescan[i].fork |= pe->kind == TLS_PROC_FORK;
			s->rescan[i].exit |= pe->kind == TLS_PROC_EXIT;
			return;
		}
	grown = grow_for(s->rescan, s->nrescan, &s->rescan_cap, sizeof(*s->rescan), 16);
	if (!grown) {
		on_proc_lost(s, cpu, 1);
		return;
	}
	s->rescan = grown;
	s->rescan[s->nrescan++] = (struct rescan){
		.pid = (pid_t)pe->pid,
		.exec = pe->kind == TLS_PROC_EXEC,
		.mmap = pe->kind == TLS_PROC_MMAP,
		.unmap = pe->kind == TLS_PROC_UNMAP,
		.fork = pe->kind == TLS_PROC_FORK,
		.exit = pe->kind == TLS_PROC_EXIT,
	};
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
	int err, i;

	s->env = env;
	s->watch.fd = -1;
	for (i = 0; i < MAX_PIDS; i++)
		s->pidfds[i] = -1;
	pthread_mutex_init(&s->attach_mu, NULL);
	s->attach_mu_on = true;
	s->probes.exported_only = env->placement_exported;
	if (check_privileges() ||
	    sources_find_dir("probe_specs", env->probe_specs, s->spec_dir, sizeof(s->spec_dir)))
		return EXIT_RUNTIME;
	err = spec_table_load(s->spec_dir, &s->specs);
	if (err)
		return err == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
	return targets_check(s);
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

/* Keeps what was compiled for the next start (after it was verified and attached: a module
 * the verifier refuses is never kept); a failure to keep it is only said with -v. */
void keep_compiled(struct session *s)
{
	int err = bpfcache_put(&s->cache, s->tb);

	if (err && s->env->verbose)
		diag("failed to keep the compiled BPF in '%s': %s\n", s->cache.path,
		     strerror(-err));
}

int session_open(struct session *s, const struct env *env)
{
	long page_size = sysconf(_SC_PAGESIZE);
	unsigned long hdr = TLS_EVENT_HDR_SIZE + PERF_RECORD_OVERHEAD; /* before each chunk */
	struct proc_list pl = {0};
	bool *traced = NULL;
	int err, i, j, pages;

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
	if (write_settings(s->tb, env, s->gen) || init_stats(s->tb))
		return EXIT_RUNTIME;
	for (i = 0; i < env->npids; i++)
		if (targets_add(s, env->pids[i]))
			return EXIT_RUNTIME;

	/* Perf buffers first, then the probes, so no event finds the buffer missing. */
	if (output_to_stdout(env) && !s->observer.chunk)
		output_setup_stdout();
	s->ev = malloc(sizeof(*s->ev));
	if (!s->ev)
		return EXIT_RUNTIME;
	events_init(s->ev, &(struct events_config){
				   .probes = &s->probes,
				   .out = output_to_stdout(env) ? stdout : NULL,
				   .json = env->json,
				   .hexdump = env->hexdump,
				   .latency = env->latency,
				   .handshakes = env->handshakes,
				   .max_data_size = (uint32_t)env->max_data_size,
				   .pcap = s->pcap.f ? &s->pcap : NULL,
				   .http = env->http ? &s->http : NULL,
				   .redact = s->redact.n ? &s->redact : NULL,
				   .http_only = env->http_only,
				   .http_headers = env->verbose > 0,
				   .sink = s->observer.chunk,
				   .sink_ctx = s->observer.ctx,
			   });
	s->http.ctx = s->ev;
	pages = options_perf_pages(env, page_size, hdr, (int)sysconf(_SC_NPROCESSORS_ONLN));
	/* tls_meta first: a round reads it before the data, whose events come after a
	 * connection's opening in seq, and which may keep a round reading for long. */
	if ((tracer_bpf__has_table(s->tb, META_TABLE) &&
	     open_buffer(s, META_TABLE, META_PAGES, WAKEUP_EVENTS, events_on_sample,
			 events_on_meta_lost, s->ev)) ||
	    open_buffer(s, EVENTS_TABLE, pages, options_wakeup_events(env, pages * page_size, hdr),
			events_on_sample, events_on_lost, s->ev) ||
	    (tracer_bpf__has_function(s->tb, "tracepoint__sched__sched_process_exec") &&
	     open_buffer(s, PROCS_TABLE, PROCS_PAGES, 1, on_proc, on_proc_lost, s)) ||
	    follow_start(s))
		return EXIT_RUNTIME;

	/* Children from now on (tracepoints), those already there (/proc), their TLS code; the
	 * notes thread attaches a new child's probes only once these are. */
	if (attach_kernel_programs(s->tb, &s->kf, env->verbose))
		return EXIT_RUNTIME;
	pthread_mutex_lock(&s->attach_mu);
	proc_list_load(&pl);
	traced = calloc(pl.n + 1, sizeof(*traced));
	err = traced ? 0 : -ENOMEM;
	for (i = 0; !err && i < pl.n; i++)
		for (j = 0; j < env->npids; j++)
			traced[i] = traced[i] || pl.pid[i] == env->pids[j];
	if (!err && !env->no_children && !env->all)
		err = targets_add_descendants(s, &pl, traced);
	if (!err)
		err = targets_find_tls_code(s, &s->probes, &s->specs, &pl, traced, &s->tls_maps,
					    false);
	if (!err)
		scan_sockets(s, &pl, traced);
	for (i = 0; !err && follow_per_process(env) && i < pl.n; i++)
		if (traced[i] && pidset_add(&s->procs, pl.pid[i], proc_read_start(pl.pid[i])) < 0)
			err = -ENOMEM;
	if (!err)
		err = targets_attach_new(s, s->tb, &s->probes);
	pthread_mutex_unlock(&s->attach_mu);
	free(traced);
	proc_list_free(&pl);
	if (err)
		return EXIT_RUNTIME;

	/* Compiled, verified and attached: the next start takes it from the cache. */
	keep_compiled(s);

	/* Saved edits of the sources and specs are reloaded while tracing. */
	err = watch_open(&s->watch, s->bpf_dir, s->spec_dir);
	if (err)
		diag("cannot watch '%s' and '%s' for changes (%s): no reloading\n", s->bpf_dir,
		     s->spec_dir, strerror(-err));
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
			diag("PID %d (%s) maps no TLS library\n", (int)env->pids[i], s.comms[i]);
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
	if (!err && r >= 0)
		probes_list(&s.probes, stdout);
	else if (!err)
		err = EXIT_RUNTIME;
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
			      s->comms[i]);
	if (!env->all && !env->no_children && n < size)
		n += snprintf(who + n, size - n, " and %s children",
			      env->npids > 1 ? "their" : "its");
	if (s->nchildren && n < size)
		n += snprintf(who + n, size - n, " (%d running)", s->nchildren);
	if (env->comm[0] && n < size)
		snprintf(who + n, size - n, ", threads named '%s'", env->comm);
}

static int flush_output(struct session *s);

void session_announce(struct session *s)
{
	const struct env *env = s->env;
	char libs[2048], filters[128], who[1024], outputs[512];

	describe_targets(s, who, sizeof(who));
	probes_libraries(&s->probes, libs, sizeof(libs));
	options_describe_filters(env, filters, sizeof(filters));
	audit_outputs(env, outputs, sizeof(outputs));
	audit_start(who, outputs);
	diag("Tracing %s: %d probes on %s%s%s. Ctrl-C to end.\n", who, s->probes.nuprobes,
	     libs[0] ? libs : "no TLS library yet", filters[0] ? "; capturing " : "", filters);
	if (!env->json && !env->http_only && output_to_stdout(env) && !s->observer.chunk)
		output_header(stdout, env->latency);
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
static int poll_timeout(const struct session *s, uint64_t now)
{
	uint64_t due;
	int ms = POLL_TIMEOUT_MS;

	if (now - s->exit_seen_ns < EXIT_WATCH_NS)
		ms = EXIT_POLL_MS;
	if (s->watch.last_ns) {
		due = s->watch.last_ns + WATCH_QUIET_NS;
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
		tracer_bpf__poll_with(s->tb, poll_timeout(s, round), s->watch.fd);
		targets_rescan(s);
		events_deliver(s->ev, round);
		if (s->observer.round)
			s->observer.round(s->observer.ctx);
		if (watch_ready(&s->watch, events_now()))
			session_reload(s);
		if (flush_output(s))
			break;
		s->target_exited = !s->env->all && targets_gone(s);
	}
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
	int err, read_err;

	/* Detach first, so nothing new arrives (nor does the notes thread attach any more);
	 * then drain and account for every byte. */
	pthread_mutex_lock(&s->attach_mu);
	s->attach_closed = true;
	err = tracer_bpf__detach_all(s->tb, msg, sizeof(msg)) ? EXIT_RUNTIME : EXIT_OK;
	pthread_mutex_unlock(&s->attach_mu);
	if (err)
		diag("%s\n", msg);
	follow_stop(s);
	tracer_bpf__poll(s->tb, 0);
	events_finish(s->ev);
	read_err = tracer_bpf__sum_percpu(s->tb, STATS_TABLE, events_on_counters, s->ev);
	if (read_err)
		diag("failed to read the BPF counters in '%s': %s\n", STATS_TABLE,
		     strerror(-read_err));
	events_summary(s->ev, read_err == 0, reason);
	if (s->reloads || s->reload_failures)
		diag("reloads: %d done, %d failed (the probes before them kept)\n", s->reloads,
		     s->reload_failures);
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
	int i, err;

	follow_stop(s);
	tracer_bpf__free_readers(s->note_readers);
	s->note_readers = NULL;
	if (s->notes)
		pthread_mutex_destroy(&s->notes->mu);
	free(s->notes);
	s->notes = NULL;
	err = tracer_bpf__destroy(s->tb) ? EXIT_RUNTIME : EXIT_OK;

	s->tb = NULL;
	for (i = 0; i < MAX_PIDS; i++) {
		if (s->pidfds[i] >= 0)
			close(s->pidfds[i]);
		s->pidfds[i] = -1;
	}
	free(s->rescan);
	s->rescan = NULL;
	tls_maps_free(&s->tls_maps);
	kernel_facts_free(&s->kf);
	pidset_free(&s->procs);
	bpfcache_free(&s->cache);
	if (s->pcap.f)
		pcapng_finish(&s->pcap);
	http_free(&s->http);
	redact_free(&s->redact);
	if (s->ev)
		events_free(s->ev);
	free(s->ev);
	s->ev = NULL;
	probes_free(&s->probes);
	spec_table_free(&s->specs);
	while (s->retired) {
		struct retired *r = s->retired;

		s->retired = r->next;
		probes_free(&r->probes);
		spec_table_free(&r->specs);
		free(r);
	}
	watch_close(&s->watch);
	if (s->attach_mu_on)
		pthread_mutex_destroy(&s->attach_mu);
	s->attach_mu_on = false;
	return err;
}
