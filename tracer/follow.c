/* SPDX-License-Identifier: Apache-2.0 */
/*
 * follow.c - the follow thread: the TLS code of what traced processes run and map found and
 * probed as they do, off the main loop; what they moved before that told. What each process
 * maps is kept by tlsmaps.c, the files told to BPF as looked at by filemarks.c.
 */
#define _GNU_SOURCE
#include "follow.h"
#include "diag.h"
#include "grow.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conns.h"
#include "events.h"
#include "tracer_bpf.h"

#define PROCS_PAGES 8
#define FOLLOW_POLL_MS 100     /* how soon the thread sees it is asked to end */
#define SWEEP_NS 1000000000ull /* pending processes no notice named are looked at */
#define PENDING_SWEEP_MAX 256  /* of them at most this many a sweep */

void follow_init(struct follow *f, const struct follow_config *cfg)
{
	memset(f, 0, sizeof(*f));
	f->cfg = *cfg;
	pthread_mutex_init(&f->mu, NULL);
	pthread_mutex_init(&f->forget_mu, NULL);
}

void follow_lock(struct follow *f)
{
	pthread_mutex_lock(&f->mu);
}

void follow_unlock(struct follow *f)
{
	pthread_mutex_unlock(&f->mu);
}

void follow_replace(struct follow *f, struct tracer_bpf *tb, const struct probe_sink *sink,
		    struct tls_maps *maps)
{
	f->tb = tb;
	f->sink = *sink;
	tls_maps_free(&f->maps);
	f->maps = *maps;
	memset(maps, 0, sizeof(*maps));
}

void follow_close(struct follow *f)
{
	f->closed = true;
}

/* ---------------------------------------------------------- TLS code found */

int follow_find_tls_code(struct follow *f, struct tracer_bpf *tb, struct probe_set *set,
			 const struct spec_table *specs, struct proc_list *pl, const bool *traced,
			 struct tls_maps *tm, bool quiet)
{
	const struct env *env = f->cfg.env;
	struct targets *t = f->cfg.targets;
	int i, j, r, err = 0;

	for (i = 0; i < pl->n && err != -ENOMEM; i++) {
		uint64_t tls = 0;

		if (!env->all && !traced[i])
			continue;
		for (j = 0; j < env->npids && env->pids[j] != pl->pid[i]; j++)
			; /* j < npids: a given target */
		r = probes_add_process(set, pl->pid[i], specs, &tls, env->verbose);
		/* A given target's TLS library must be usable; another process that cannot be
		 * looked at (gone, or not ours to read) is passed over. */
		if (r < 0 && r != -ESRCH && (j < env->npids || r == -ENOMEM))
			err = err ? err : r;
		else if (r < 0 && r != -ESRCH && env->verbose)
			diag("passing over PID %d: %s\n", (int)pl->pid[i], strerror(-r));
		else if (r >= 0 && !tls && j < env->npids && !quiet)
			diag("PID %d (%s) maps no TLS library yet; waiting\n", (int)pl->pid[i],
			     t->comms[j]);
		if (r >= 0) {
			tls_maps_set(tm, pl->pid[i], tls);
			if (!env->all)
				file_marks_process(&f->marks, tb, set, pl->pid[i]);
		}
	}
	r = probes_add_cached(set, specs, env->verbose);
	if (r < 0 && !err)
		diag("failed to look at the ld.so cache's TLS libraries: %s\n", strerror(-r));
	file_marks_tls(&f->marks, tb, set);
	return err ? err : (r < 0 ? r : 0);
}

int follow_find_tls_code_now(struct follow *f, struct tracer_bpf *tb, struct probe_set *set,
			     const struct spec_table *specs, struct tls_maps *tm)
{
	struct proc_list pl = {0};
	uint32_t *keys = NULL;
	bool *traced;
	int i, k, n = 0, err;

	proc_list_load(&pl);
	traced = calloc(pl.n + 1, sizeof(*traced));
	if (!f->cfg.env->all) {
		keys = malloc(TLS_MAX_TARGETS * sizeof(*keys));
		n = keys ? tracer_bpf__keys(tb, TARGETS_TABLE, keys, TLS_MAX_TARGETS) : -ENOMEM;
	}
	err = !traced ? -ENOMEM : n < 0 ? n : 0;
	for (i = 0; !err && i < pl.n; i++)
		for (k = 0; k < n && !traced[i]; k++)
			traced[i] = pl.pid[i] == (pid_t)keys[k];
	if (!err)
		err = follow_find_tls_code(f, tb, set, specs, &pl, traced, tm, true);
	free(keys);
	free(traced);
	proc_list_free(&pl);
	return err;
}

int follow_attach_new(struct follow *f)
{
	struct probe_set *set = f->cfg.probes;
	int first = set->attached, err;

	err = probes_attach_new(&f->sink, set, f->cfg.env->verbose);
	if (set->attached > first)
		file_marks_tls(&f->marks, f->tb, set);
	return err;
}

/* ------------------------------------------------------- what a process did */

/* Says that a given target (any traced process with -v) ran another program. */
static void say_exec(const struct follow *f, const struct rescan *rs)
{
	char path[64], exe[PATH_MAX], comm[64];
	ssize_t n;

	if (!targets_given(f->cfg.targets, rs->pid) && !f->cfg.env->verbose)
		return;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)rs->pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n < 0 || proc_read_comm(rs->pid, comm, sizeof(comm))) {
		diag("PID %d ran another program%s%s%s, and has exited\n", (int)rs->pid,
		     rs->program[0] ? " ('" : "", rs->program, rs->program[0] ? "')" : "");
		return;
	}
	exe[n] = '\0';
	diag("PID %d (%s) ran another program: '%s'; its TLS code is looked up again\n",
	     (int)rs->pid, comm, exe);
}

/* Says which TLS files process pid no longer maps (bits of `gone`). */
static void say_unmapped(const struct follow *f, pid_t pid, uint64_t gone)
{
	const struct probe_set *set = f->cfg.probes;
	const struct resolved_probe *rp;
	char comm[64];
	int i;

	proc_read_comm(pid, comm, sizeof(comm));
	for (i = 0; i < set->nfiles; i++)
		if ((gone & probes_file_bit(i)) && (rp = probes_file_first(set, i)))
			diag("PID %d (%s) unmapped '%s': its calls there are no longer "
			     "seen (the probes stay for other processes)\n",
			     (int)pid, comm, rp->lib_path);
}

/* Milliseconds from a to b (0 when b is not later). */
static double ms_between(uint64_t a, uint64_t b)
{
	return b > a ? (double)(b - a) / 1e6 : 0;
}

/*
 * Attaches the probes of the new TLS code process rs->pid showed us (looked at from
 * look_ns), then says which it was, and with -v, when BPF said since when the process may
 * run it, how long it took: until its notice was read (when one was: not for a process the
 * sweep found), waiting behind other processes' looks, its look, the attach.
 */
static void attach_found(struct follow *f, const struct rescan *rs, int first, uint64_t look_ns)
{
	const struct probe_set *set = f->cfg.probes;
	const char *program = rs->program;
	const struct resolved_probe *rp;
	uint64_t attach_ns = events_now(), done_ns, read_ns;
	struct tls_pending p;
	char comm[64], took[192] = "";
	pid_t pid = rs->pid;
	int i, n;

	if (first == set->n || f->closed)
		return;
	if (proc_read_comm(pid, comm, sizeof(comm)))
		snprintf(comm, sizeof(comm), "%s, exited",
			 program[0] ? (strrchr(program, '/') ? strrchr(program, '/') + 1 : program)
				    : "?");
	follow_attach_new(f);
	done_ns = events_now();
	if (unprobed_pending(f->tb, (uint32_t)pid, &p) == 0 && p.since_ns) {
		n = snprintf(took, sizeof(took), " (probed %.1f ms after it began to run it",
			     ms_between(p.since_ns, done_ns));
		read_ns = rs->noticed_ns > p.since_ns ? rs->noticed_ns : p.since_ns;
		if (rs->noticed_ns)
			n += snprintf(took + n, sizeof(took) - (size_t)n,
				      ": its notice read after %.1f ms, %.1f ms waiting, its look "
				      "%.1f ms, the attach %.1f ms",
				      ms_between(p.since_ns, read_ns), ms_between(read_ns, look_ns),
				      ms_between(look_ns, attach_ns),
				      ms_between(attach_ns, done_ns));
		snprintf(took + n, sizeof(took) - (size_t)n, ")");
	}
	for (i = 0; i < set->nfiles; i++)
		if ((rp = probes_file_first(set, i)) && set->files[i].first_probe >= first)
			diag("PID %d (%s) loaded TLS code: '%s'%s\n", (int)pid, comm, rp->lib_path,
			     f->cfg.env->verbose ? took : "");
}

/* Whether a TLS file of mask `files` got its probes after `since_ns`. */
static bool probed_after(const struct probe_set *set, uint64_t files, uint64_t since_ns)
{
	int i;

	for (i = 0; i < set->nfiles; i++)
		if ((files & probes_file_bit(i)) && set->files[i].tls &&
		    set->files[i].live_ns > since_ns)
			return true;
	return false;
}

/*
 * Settles process pid's bytes before probes, if it is pending: told when its TLS code went
 * without probes for a while (a TLS file it maps got its probes after it became pending, it
 * left the scope, or it exited before it could be looked at: then only sockets that carried
 * TLS no probed call used have counts), dropped otherwise (its probes were in place).
 */
static bool settle(struct follow *f, pid_t pid, uint64_t files, bool exited, bool found_new,
		   const char *program)
{
	struct tls_pending p;
	enum unprobed_why why;
	bool missed;

	if (unprobed_pending(f->tb, (uint32_t)pid, &p) != 0)
		return false;
	missed = exited || (p.why & TLS_PENDING_SCOPE) ||
		 probed_after(f->cfg.probes, files, p.since_ns);
	why = (p.why & TLS_PENDING_SCOPE)				    ? UNPROBED_LEFT
	      : found_new || probed_after(f->cfg.probes, files, p.since_ns) ? UNPROBED_NEW_CODE
	      : exited							    ? UNPROBED_EXITED
									    : UNPROBED_UNPROBED;
	return unprobed_settle(f->cfg.unprobed, f->tb, (uint32_t)pid, missed, why, program);
}

/* Looks at a process again (with mu held): new TLS code gets its probes, a TLS library it
 * unmapped is told, its bytes before probes are settled. */
static bool rescan_process(struct follow *f, const struct rescan *rs)
{
	struct probe_set *set = f->cfg.probes;
	const struct env *env = f->cfg.env;
	struct proc_tls *was = tls_maps_of(&f->maps, rs->pid);
	uint64_t now = 0, look_ns;
	int first = set->n, r;
	bool alive;

	if (rs->exec)
		say_exec(f, rs);
	/* A program already looked at (BPF found it marked; it is not pending): nothing to
	 * find in it, and what it maps later that holds TLS code is told as it maps it. Not
	 * reading its maps here keeps the tracer out of its way as it starts. */
	if (rs->exec && !rs->pending && !rs->mmap && !rs->unmap && !rs->exit) {
		if (was)
			tls_maps_drop(&f->maps, was);
		return false;
	}
	if ((rs->pending & TLS_PENDING_SCOPE) &&
	    targets_rescope(f->cfg.targets, f->tb, rs->pid) == 0 && env->verbose)
		diag("PID %d left the traced processes' perf events (an exec that changed its "
		     "credentials): put back\n",
		     (int)rs->pid);
	/* An unmap in a process that maps no TLS file: nothing to look at, and its
	 * tls_unmaps entry stays, so it tells no more (until the LRU map drops it). */
	if (!rs->exec && !rs->mmap && !was && !rs->exit && !rs->pending)
		return false;
	look_ns = events_now();
	r = rs->exit ? -ESRCH : probes_add_process(set, rs->pid, f->cfg.specs, &now, env->verbose);
	alive = r != -ESRCH;
	/* Gone before it could be looked at: what it ran is, so that its next run is
	 * probed from its start. */
	if (!alive && rs->program[0])
		probes_add_program(set, f->cfg.specs, rs->program, &now, env->verbose);
	/* An exiting process (the exit notice comes before the kernel takes its memory
	 * away) unmapped nothing: its maps are empty while it still looks alive. */
	if (r >= 0 && was && !rs->exec && !rs->exit && (was->files & ~now) && proc_alive(rs->pid) &&
	    !proc_exiting(rs->pid))
		say_unmapped(f, rs->pid, was->files & ~now);
	tls_maps_set(&f->maps, rs->pid, r >= 0 ? now : 0);
	if (r >= 0 && now) /* its next unmap tells again */
		tracer_bpf__delete(f->tb, UNMAPS_TABLE, (uint32_t)rs->pid);
	attach_found(f, rs, first, look_ns);
	if (alive)
		file_marks_process(&f->marks, f->tb, set, rs->pid);
	return settle(f, rs->pid, now, !alive, set->n > first, rs->program);
}

/* A traced process ended: what the scope held for it goes; its bytes before probes are
 * told. */
static bool process_exited(struct follow *f, const struct rescan *rs)
{
	targets_exited(f->cfg.targets, rs->pid);
	atomic_store(&f->exit_seen_ns, events_now());
	if (unprobed_pending(f->tb, (uint32_t)rs->pid, &(struct tls_pending){0}) != 0)
		return false;
	return rescan_process(f, rs);
}

/* Pending processes no notice named (a notice lost, a child of a pending process): those
 * gone are settled, the others looked at. */
static bool sweep(struct follow *f)
{
	uint32_t pids[PENDING_SWEEP_MAX];
	int n = unprobed_pending_pids(f->tb, pids, PENDING_SWEEP_MAX), i;
	bool settled = false;

	for (i = 0; i < n; i++) {
		struct rescan rs = {.pid = (pid_t)pids[i], .mmap = true};

		if (!proc_alive(rs.pid))
			rs.exit = true;
		settled |= rescan_process(f, &rs);
	}
	return settled;
}

/* Looks at what BPF told since the last look (with mu held). */
static void look(struct follow *f)
{
	bool settled = false;
	uint64_t now;
	int i;

	for (i = 0; i < f->nrescan; i++) {
		const struct rescan *rs = &f->rescan[i];

		if (rs->exit)
			settled |= process_exited(f, rs);
		else
			settled |= rescan_process(f, rs);
	}
	f->nrescan = 0;
	now = events_now();
	if (now - f->last_sweep_ns > SWEEP_NS) {
		f->last_sweep_ns = now;
		settled |= sweep(f);
		unprobed_sweep(f->cfg.unprobed, f->tb);
	}
	if (settled)
		unprobed_gate(f->tb);
}

/* ---------------------------------------------------------------- the thread */

static void on_proc_lost(void *ctx, int cpu, uint64_t count)
{
	(void)ctx;
	(void)cpu;
	diag("missed %llu notices of programs, libraries or exits of traced processes (a "
	     "program run then may go unprobed)\n",
	     (unsigned long long)count);
}

/* Asks the main loop to forget pid's sockets looked up as the tracer attached. */
static void forget(struct follow *f, pid_t pid)
{
	pid_t *grown;

	pthread_mutex_lock(&f->forget_mu);
	grown = grow_for(f->forget, f->nforget, &f->forget_cap, sizeof(*f->forget), 16);
	if (grown) {
		f->forget = grown;
		f->forget[f->nforget++] = pid;
	}
	pthread_mutex_unlock(&f->forget_mu);
}

/* tls_procs: a traced process ran a program, mapped or unmapped a file, closed a range of
 * fds or exited: kept for the next look (one entry a process). */
static void on_proc(void *ctx, int cpu, const void *data, int size)
{
	struct follow *f = ctx;
	struct tls_exec_event ev; /* aligned: perf puts the record 4 bytes off */
	const struct tls_proc_event *pe = &ev.pe;
	struct rescan *rs = NULL, *grown;
	int i;

	if (size < (int)sizeof(ev.pe))
		return;
	memset(&ev, 0, sizeof(ev));
	memcpy(&ev, data, (size_t)size < sizeof(ev) ? (size_t)size : sizeof(ev));
	ev.path[sizeof(ev.path) - 1] = '\0';
	if (pe->kind == TLS_PROC_EXEC || pe->kind == TLS_PROC_CLOSE_RANGE)
		forget(f, (pid_t)pe->pid); /* its sockets may be gone */
	if (pe->kind == TLS_PROC_CLOSE_RANGE)
		return;
	for (i = 0; i < f->nrescan && !rs; i++)
		if (f->rescan[i].pid == (pid_t)pe->pid)
			rs = &f->rescan[i];
	if (!rs) {
		grown = grow_for(f->rescan, f->nrescan, &f->rescan_cap, sizeof(*f->rescan), 16);
		if (!grown) {
			on_proc_lost(f, cpu, 1);
			return;
		}
		f->rescan = grown;
		rs = &f->rescan[f->nrescan++];
		memset(rs, 0, sizeof(*rs));
		rs->pid = (pid_t)pe->pid;
		rs->noticed_ns = events_now();
	}
	rs->exec |= pe->kind == TLS_PROC_EXEC;
	rs->mmap |= pe->kind == TLS_PROC_MMAP;
	rs->unmap |= pe->kind == TLS_PROC_UNMAP;
	rs->exit |= pe->kind == TLS_PROC_EXIT;
	rs->pending |= pe->flags;
	if (pe->kind == TLS_PROC_EXEC)
		snprintf(rs->program, sizeof(rs->program), "%s", ev.path);
}

static void *serve(void *arg)
{
	struct follow *f = arg;

	while (!atomic_load(&f->stop)) {
		if (tracer_bpf__poll_readers(f->readers, FOLLOW_POLL_MS) != 0)
			break;
		pthread_mutex_lock(&f->mu);
		look(f);
		pthread_mutex_unlock(&f->mu);
	}
	return NULL;
}

int follow_open(struct follow *f, struct tracer_bpf *tb, const struct probe_sink *sink)
{
	char msg[256];
	int err;

	f->tb = tb;
	f->sink = *sink;
	if (!tracer_bpf__has_table(tb, PROCS_TABLE))
		return 0;
	err = tracer_bpf__open_perf_buffer(tb, PROCS_TABLE, PROCS_PAGES, 1, on_proc, on_proc_lost,
					   f, msg, sizeof(msg));
	if (err) {
		diag("%s\n", msg);
		return err;
	}
	f->readers = tracer_bpf__take_readers(tb, PROCS_TABLE);
	if (!f->readers) {
		diag("out of memory for the readers of '%s'\n", PROCS_TABLE);
		return -ENOMEM;
	}
	return 0;
}

int follow_run(struct follow *f)
{
	int err;

	if (!f->readers)
		return 0;
	err = pthread_create(&f->thread, NULL, serve, f);
	if (err) {
		diag("failed to start the thread that follows the traced processes: %s\n",
		     strerror(err));
		return -err;
	}
	pthread_setname_np(f->thread, "tracer-follow"); /* as top -H and /proc show it */
	f->running = true;
	return 0;
}

void follow_stop(struct follow *f)
{
	if (!f->running)
		return;
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
	f->running = false;
	/* what came meanwhile: its bytes before probes are told too */
	pthread_mutex_lock(&f->mu);
	tracer_bpf__poll_readers(f->readers, 0);
	f->last_sweep_ns = 0;
	look(f);
	pthread_mutex_unlock(&f->mu);
}

void follow_drain(struct follow *f, struct conn_table *conns)
{
	int i;

	pthread_mutex_lock(&f->forget_mu);
	for (i = 0; i < f->nforget; i++)
		conns_forget_known(conns, f->forget[i]);
	f->nforget = 0;
	pthread_mutex_unlock(&f->forget_mu);
}

void follow_free(struct follow *f)
{
	follow_stop(f);
	tracer_bpf__free_readers(f->readers);
	f->readers = NULL;
	tls_maps_free(&f->maps);
	file_marks_free(&f->marks);
	free(f->rescan);
	free(f->forget);
	f->rescan = NULL;
	f->forget = NULL;
	pthread_mutex_destroy(&f->mu);
	pthread_mutex_destroy(&f->forget_mu);
}
