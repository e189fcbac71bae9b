/* targets.c - the traced processes: the given PIDs checked, their descendants added, the TLS
 * code each maps found (and found again when one runs a program or maps a file), its probes
 * attached for each */
#define _GNU_SOURCE
#include "targets.h"
#include "diag.h"
#include "grow.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "follow.h"
#include "privileges.h"
#include "procmaps.h"
#include "tls_event.h"
#include "tracer_bpf.h"

/* Puts `pid` in the tls_targets map, following its children unless --no-children. */
int targets_add(struct session *s, pid_t pid)
{
	uint32_t flags = TLS_TARGET_TRACED | (s->env->no_children ? 0 : TLS_TARGET_CHILDREN);
	int err = tracer_bpf__update(s->tb, TARGETS_TABLE, (uint32_t)pid, &flags, sizeof(flags));

	if (err)
		diag("failed to add PID %d to BPF map '%s': %s\n", (int)pid, TARGETS_TABLE,
		     err == -ENOENT ? "bpf_src defines no such map" : strerror(-err));
	return err;
}

/*
 * Adds the descendants the targets already have (the fork tracepoint, attached before,
 * catches the ones started from now on) to the targets map and to `traced`.
 */
int targets_add_descendants(struct session *s, struct proc_list *pl, bool *traced)
{
	bool grew = true;
	int i, j;

	while (grew) {
		grew = false;
		for (i = 0; i < pl->n; i++) {
			if (traced[i])
				continue;
			for (j = 0; j < pl->n && !(traced[j] && pl->pid[j] == pl->ppid[i]); j++)
				;
			if (j == pl->n)
				continue;
			if (targets_add(s, pl->pid[i]))
				return -1;
			traced[i] = grew = true;
			s->nchildren++;
		}
	}
	return 0;
}

/*
 * Attaches the probes of `set` not attached yet, in module tb: for each traced process in
 * PID mode, for every process with --all. A traced process's new child gets its own from
 * the notes thread as it is forked (follow_fork). Call with attach_mu held.
 */
int targets_attach_new(struct session *s, struct tracer_bpf *tb, struct probe_set *set)
{
	static const pid_t every = -1;

	if (!follow_per_process(s->env))
		return probes_attach_new(tb, set, &every, 1, s->env->verbose);
	return probes_attach_new(tb, set, s->procs.pid, s->procs.n, s->env->verbose);
}

/* Attaches the probes of the new TLS code a process showed us, then says which it was. */
static int attach_found(struct session *s, pid_t pid, int first)
{
	const struct resolved_probe *rp;
	char comm[64];
	int f, err;

	if (first == s->probes.n)
		return 0;
	proc_read_comm(pid, comm, sizeof(comm));
	err = targets_attach_new(s, s->tb, &s->probes);
	for (f = 0; f < s->probes.nfiles; f++)
		if ((rp = probes_file_first(&s->probes, f)) && rp - s->probes.p >= first)
			diag("PID %d (%s) loaded TLS code: '%s'\n", (int)pid, comm, rp->lib_path);
	return err;
}

/* The entry of pid, NULL if it maps no TLS file (as far as we know). */
static struct proc_tls *tls_maps_find(struct tls_maps *tm, pid_t pid)
{
	int i;

	for (i = 0; i < tm->n; i++)
		if (tm->v[i].pid == pid)
			return &tm->v[i];
	return NULL;
}

/* Whether the process an entry was made for is still there (not one that took its PID). */
static bool tls_maps_current(const struct proc_tls *e)
{
	struct proc_stat st;

	return proc_read_stat(e->pid, &st) == 0 && st.start == e->start;
}

/* Drops the entry e (of tm). */
static void tls_maps_drop(struct tls_maps *tm, struct proc_tls *e)
{
	*e = tm->v[--tm->n];
}

/* The entry of the process that has pid now; an entry of an earlier one of that PID (or of
 * one gone) is dropped. */
static struct proc_tls *tls_maps_of(struct tls_maps *tm, pid_t pid)
{
	struct proc_tls *e = tls_maps_find(tm, pid);

	if (e && !tls_maps_current(e)) {
		tls_maps_drop(tm, e);
		e = NULL;
	}
	return e;
}

/* Records the TLS files pid maps (none: its entry goes). An entry there is taken for this
 * process's (rescan checks it with tls_maps_of first). Out of memory, or pid gone: not
 * recorded. A full table first drops the entries of processes gone. */
static void tls_maps_set(struct tls_maps *tm, pid_t pid, uint64_t files)
{
	struct proc_tls *e = tls_maps_find(tm, pid), *grown;
	struct proc_stat st;
	int i;

	if (e && files) {
		e->files = files;
		return;
	}
	if (e)
		tls_maps_drop(tm, e);
	if (!files || proc_read_stat(pid, &st) != 0)
		return;
	if (tm->n == tm->cap) /* full: the processes gone make room first */
		for (i = tm->n - 1; i >= 0; i--)
			if (!tls_maps_current(&tm->v[i]))
				tls_maps_drop(tm, &tm->v[i]);
	if (tm->n == tm->cap) {
		grown = grow_for(tm->v, tm->n, &tm->cap, sizeof(*tm->v), 16);
		if (!grown)
			return;
		tm->v = grown;
	}
	tm->v[tm->n++] = (struct proc_tls){pid, st.start, files};
}

void tls_maps_free(struct tls_maps *tm)
{
	free(tm->v);
	memset(tm, 0, sizeof(*tm));
}

/*
 * The TLS code in reach at start: what each traced process maps (every process with
 * --all) and the spec libraries of the ld.so cache, which a process would load later.
 * A given target that maps none yet is said to be waited for.
 */
int targets_find_tls_code(struct session *s, struct probe_set *set, const struct spec_table *specs,
			  struct proc_list *pl, const bool *traced, struct tls_maps *tm, bool quiet)
{
	const struct env *env = s->env;
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
			     s->comms[j]);
		if (r >= 0)
			tls_maps_set(tm, pl->pid[i], tls);
	}
	r = probes_add_cached(set, specs, env->verbose);
	if (r < 0 && !err)
		diag("failed to look at the ld.so cache's TLS libraries: %s\n", strerror(-r));
	return err ? err : (r < 0 ? r : 0);
}

/* How many threads process pid has (its main thread may have ended before the others). */
static int threads_of(pid_t pid)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	while (dir && (d = readdir(dir)))
		n += d->d_name[0] != '.';
	if (dir)
		closedir(dir);
	return n;
}

/*
 * Opens a pidfd for each given target and checks it is a process we can trace: alive, not
 * a kernel thread, not the tracer itself, ours or traceable with our capabilities.
 * Returns EXIT_OK, or EXIT_RUNTIME/EXIT_USAGE after saying why not.
 */
int targets_check(struct session *s)
{
	const struct env *env = s->env;
	struct proc_stat st;
	int i;

	for (i = 0; i < env->npids; i++) {
		pid_t pid = env->pids[i];

		s->pidfds[i] = (int)syscall(SYS_pidfd_open, pid, 0);
		if ((s->pidfds[i] < 0 && errno == ESRCH) || proc_read_stat(pid, &st) ||
		    proc_read_comm(pid, s->comms[i], sizeof(s->comms[i]))) {
			diag("no process with PID %d\n", (int)pid);
			return EXIT_RUNTIME;
		}
		if (pid == getpid()) {
			diag("PID %d is the tracer itself: give the PID of another "
			     "process\n",
			     (int)pid);
			return EXIT_USAGE;
		}
		if (st.flags & PROC_PF_KTHREAD) {
			diag("PID %d (%s) is a kernel thread: it runs no TLS library\n", (int)pid,
			     s->comms[i]);
			return EXIT_RUNTIME;
		}
		if ((st.state == 'Z' || st.state == 'X') && threads_of(pid) <= 1) {
			diag("PID %d (%s) has exited (a zombie its parent has not "
			     "reaped): nothing to trace\n",
			     (int)pid, s->comms[i]);
			return EXIT_RUNTIME;
		}
		if (check_owner(pid, s->comms[i]))
			return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* Whether pid is one of the PIDs given on the command line. */
static bool given_target(const struct session *s, pid_t pid)
{
	int i;

	for (i = 0; i < s->env->npids && s->env->pids[i] != pid; i++)
		;
	return i < s->env->npids;
}

/* Says that a given target (any traced process with -v) ran another program. */
static void say_exec(const struct session *s, pid_t pid)
{
	char path[64], exe[PATH_MAX], comm[64];
	ssize_t n;

	if (!given_target(s, pid) && !s->env->verbose)
		return;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n < 0 || proc_read_comm(pid, comm, sizeof(comm))) {
		diag("PID %d ran another program, and has exited\n", (int)pid);
		return;
	}
	exe[n] = '\0';
	diag("PID %d (%s) ran another program: '%s'; its TLS code is looked up again\n", (int)pid,
	     comm, exe);
}

/* Says which TLS files process pid no longer maps (bits of `gone`). */
static void say_unmapped(const struct session *s, pid_t pid, uint64_t gone)
{
	const struct resolved_probe *rp;
	char comm[64];
	int f;

	proc_read_comm(pid, comm, sizeof(comm));
	for (f = 0; f < s->probes.nfiles; f++)
		if ((gone & probes_file_bit(f)) && (rp = probes_file_first(&s->probes, f)))
			diag("PID %d (%s) unmapped '%s': its calls there are no longer "
			     "seen (the probes stay for other processes)\n",
			     (int)pid, comm, rp->lib_path);
}

/* rescan for one process (attach_mu held). */
static void rescan_process(struct session *s, const struct rescan *rs)
{
	struct proc_tls *was = tls_maps_of(&s->tls_maps, rs->pid);
	uint64_t now;
	int first, r;

	/* An unmap in a process that maps no TLS file: nothing to look at, and its
	 * tls_unmaps entry stays, so it tells no more (until the LRU map drops it). */
	if (!rs->exec && !rs->mmap && !was)
		return;
	if (rs->exec)
		say_exec(s, rs->pid);
	first = s->probes.n;
	/* Failures are reported; the process goes on being traced as it is. */
	r = probes_add_process(&s->probes, rs->pid, &s->specs, &now, s->env->verbose);
	/* An exiting process (the exit notice comes before the kernel takes its memory
	 * away) unmapped nothing: its maps are empty while it still looks alive. */
	if (r >= 0 && was && !rs->exec && !rs->exit && (was->files & ~now) && proc_alive(rs->pid) &&
	    !proc_exiting(rs->pid))
		say_unmapped(s, rs->pid, was->files & ~now);
	tls_maps_set(&s->tls_maps, rs->pid, r >= 0 ? now : 0);
	if (r >= 0 && now) /* its next unmap tells again */
		tracer_bpf__delete(s->tb, UNMAPS_TABLE, (uint32_t)rs->pid);
	attach_found(s, rs->pid, first);
}

/* Looks again at the processes that ran a program or (un)mapped a file: new TLS code gets
 * its probes now; a TLS library a process unmapped is told. The probe set grows meanwhile:
 * attach_mu keeps the notes thread from attaching a child's probes from it. */
void targets_rescan(struct session *s)
{
	int i;

	for (i = 0; i < s->nrescan; i++) {
		const struct rescan *rs = &s->rescan[i];

		follow_from_procs(s, rs);
		pthread_mutex_lock(&s->attach_mu);
		rescan_process(s, rs);
		pthread_mutex_unlock(&s->attach_mu);
	}
	s->nrescan = 0;
}

/*
 * Whether every target is gone: each given PID has exited (its pidfd turns readable), and
 * no process in the targets map (its descendants) is alive.
 */
bool targets_gone(const struct session *s)
{
	struct pollfd pfd = {.events = POLLIN};
	uint32_t keys[1024];
	int i, n;

	for (i = 0; i < s->env->npids; i++) {
		pfd.fd = s->pidfds[i];
		if (pfd.fd >= 0 ? poll(&pfd, 1, 0) == 0 : proc_alive(s->env->pids[i]))
			return false;
	}
	n = tracer_bpf__keys(s->tb, TARGETS_TABLE, keys, 1024);
	for (i = 0; i < n; i++)
		if (proc_alive((pid_t)keys[i]))
			return false;
	return true;
}

/* The TLS code of every traced process now (the targets map: the targets and their
 * descendants; every process with --all) and of the ld.so cache, into `set`. */
int targets_find_tls_code_now(struct session *s, struct probe_set *set,
			      const struct spec_table *specs, struct tls_maps *tm)
{
	struct proc_list pl = {0};
	uint32_t *keys = NULL;
	bool *traced;
	int i, k, n = 0, err;

	proc_list_load(&pl);
	traced = calloc(pl.n + 1, sizeof(*traced));
	if (!s->env->all) {
		keys = malloc(TLS_MAX_TARGETS * sizeof(*keys));
		n = keys ? tracer_bpf__keys(s->tb, TARGETS_TABLE, keys, TLS_MAX_TARGETS) : -ENOMEM;
	}
	err = !traced ? -ENOMEM : n < 0 ? n : 0;
	for (i = 0; !err && i < pl.n; i++)
		for (k = 0; k < n && !traced[i]; k++)
			traced[i] = pl.pid[i] == (pid_t)keys[k];
	if (!err)
		err = targets_find_tls_code(s, set, specs, &pl, traced, tm, true);
	free(keys);
	free(traced);
	proc_list_free(&pl);
	return err;
}
