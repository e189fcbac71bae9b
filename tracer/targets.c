/* SPDX-License-Identifier: Apache-2.0 */
/* targets.c - the traced processes: the given PIDs checked, their descendants added, and in
 * PID mode the scope that keeps them (and what they start) in the kernel's hands */
#define _GNU_SOURCE
#include "targets.h"
#include "diag.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privileges.h"
#include "tls_event.h"
#include "tracer_bpf.h"

/* Rounds of looking for targets left out of the scope while it was being made (each round
 * takes in what forked during the one before). */
#define SCOPE_ROUNDS 16

int targets_add(struct targets *t, struct tracer_bpf *tb, pid_t pid)
{
	uint32_t flags = TLS_TARGET_TRACED | TLS_TARGET_TELL_EXIT |
			 (t->env->no_children ? 0 : TLS_TARGET_CHILDREN);
	int err = tracer_bpf__update(tb, TARGETS_TABLE, (uint32_t)pid, &flags, sizeof(flags));

	if (err)
		diag("failed to add PID %d to BPF map '%s': %s\n", (int)pid, TARGETS_TABLE,
		     err == -ENOENT ? "bpf_src defines no such map" : strerror(-err));
	return err;
}

/*
 * Adds the descendants the targets already have (the fork tracepoint, attached before,
 * catches the ones started from now on) to the targets map and to `traced`.
 */
int targets_add_descendants(struct targets *t, struct tracer_bpf *tb, struct proc_list *pl,
			    bool *traced)
{
	bool grew = true;
	int i, j;

	while (grew) {
		grew = false;
		for (i = 0; i < pl->n; i++) {
			/* not the tracer (sudo tracer $$ makes it a child), nor what it runs */
			if (traced[i] || pl->pid[i] == getpid())
				continue;
			for (j = 0; j < pl->n && !(traced[j] && pl->pid[j] == pl->ppid[i]); j++)
				;
			if (j == pl->n)
				continue;
			if (targets_add(t, tb, pl->pid[i]))
				return -1;
			traced[i] = grew = true;
			t->nchildren++;
		}
	}
	return 0;
}

int targets_open_scope(struct targets *t, const char *tracefs)
{
	const char *guards = getenv("TRACER_SCOPE_GUARDS"); /* older kernels' way, for tests */
	const char *off = getenv("TRACER_NO_SCOPE");	    /* the way without, for tests */
	char why[512];
	int err;

	if (off && off[0]) {
		snprintf(why, sizeof(why), "TRACER_NO_SCOPE is set");
		err = -EOPNOTSUPP;
	} else {
		err = tracer_scope__open(tracefs, !t->env->no_children, guards && guards[0],
					 &t->scope, why, sizeof(why));
	}

	if (err == -EOPNOTSUPP)
		diag("note: %s: every process that maps a TLS library takes the probes, and BPF "
		     "leaves the others out\n",
		     why);
	else if (err)
		diag("failed to set up the probes for the traced processes: %s\n", why);
	else if (t->env->verbose)
		diag("traced processes: kept by trace events %s/*, %s\n",
		     tracer_scope__group(t->scope),
		     tracer_scope__guards(t->scope)
			     ? "each with guard events of its own (perf may swap the contexts "
			       "of a parent and its child)"
			     : "children inherit their events in fork() and need nothing more");
	return err;
}

/* Tells BPF that process pid's exit is to be told: it holds perf events of ours. */
static void tell_exit(struct tracer_bpf *tb, pid_t pid)
{
	uint32_t key = (uint32_t)pid, flags;

	if (tracer_bpf__lookup_key(tb, TARGETS_TABLE, &key, sizeof(key), &flags, sizeof(flags)) ==
		    0 &&
	    !(flags & TLS_TARGET_TELL_EXIT)) {
		flags |= TLS_TARGET_TELL_EXIT;
		tracer_bpf__update(tb, TARGETS_TABLE, key, &flags, sizeof(flags));
	}
}

/* Puts process pid in the scope (its exit told, to close its events); one gone meanwhile is
 * no error. */
static int scope_process(struct targets *t, struct tracer_bpf *tb, pid_t pid)
{
	int err;

	tell_exit(tb, pid); /* first: an exit right after is told */
	err = tracer_scope__add_process(t->scope, pid);
	if (err == -ESRCH)
		return 0;
	if (err)
		diag("failed to put PID %d among the traced processes: %s%s\n", (int)pid,
		     strerror(-err),
		     err == -EMFILE ? " (raise the limit of open files: ulimit -n)" : "");
	return err;
}

int targets_scope_processes(struct targets *t, struct tracer_bpf *tb, const struct proc_list *pl,
			    const bool *traced)
{
	uint32_t *keys = NULL;
	int i, k, n, round, added = 1, err = 0;

	if (!t->scope)
		return 0;
	for (i = 0; i < pl->n && !err; i++)
		if (traced[i])
			err = scope_process(t, tb, pl->pid[i]);
	keys = err ? NULL : malloc(TLS_MAX_TARGETS * sizeof(*keys));
	if (!err && !keys) {
		diag("out of memory reading BPF map '%s'\n", TARGETS_TABLE);
		err = -ENOMEM;
	}
	/* A traced process that forked before its events were there: its child is in the
	 * targets map (the fork tracepoint was attached first), not in the scope. */
	for (round = 0; !err && added && round < SCOPE_ROUNDS; round++) {
		n = tracer_bpf__keys(tb, TARGETS_TABLE, keys, TLS_MAX_TARGETS);
		for (k = 0, added = 0; k < n && !err; k++) {
			pid_t tgid = proc_read_tgid((pid_t)keys[k]);

			if (tgid <= 0 || tracer_scope__has_process(t->scope, tgid))
				continue;
			err = scope_process(t, tb, tgid);
			added++;
		}
	}
	free(keys);
	return err;
}

int targets_rescope(struct targets *t, struct tracer_bpf *tb, pid_t pid)
{
	if (!t->scope)
		return 0;
	tracer_scope__drop_process(t->scope, pid); /* the kernel dropped them: closed too */
	tell_exit(tb, pid);
	return tracer_scope__add_process(t->scope, pid);
}

void targets_exited(struct targets *t, pid_t pid)
{
	if (t->scope && tracer_scope__has_process(t->scope, pid))
		tracer_scope__process_exited(t->scope, pid);
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
 */
int targets_init(struct targets *t, const struct env *env)
{
	struct proc_stat st;
	int i;

	memset(t, 0, sizeof(*t));
	t->env = env;
	for (i = 0; i < MAX_PIDS; i++)
		t->pidfds[i] = -1;
	for (i = 0; i < env->npids; i++) {
		pid_t pid = env->pids[i];

		t->pidfds[i] = (int)syscall(SYS_pidfd_open, pid, 0);
		if ((t->pidfds[i] < 0 && errno == ESRCH) || proc_read_stat(pid, &st) ||
		    proc_read_comm(pid, t->comms[i], sizeof(t->comms[i]))) {
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
			     t->comms[i]);
			return EXIT_RUNTIME;
		}
		if ((st.state == 'Z' || st.state == 'X') && threads_of(pid) <= 1) {
			diag("PID %d (%s) has exited (a zombie its parent has not "
			     "reaped): nothing to trace\n",
			     (int)pid, t->comms[i]);
			return EXIT_RUNTIME;
		}
		if (check_owner(pid, t->comms[i]))
			return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

bool targets_given(const struct targets *t, pid_t pid)
{
	int i;

	for (i = 0; i < t->env->npids && t->env->pids[i] != pid; i++)
		;
	return i < t->env->npids;
}

/*
 * Whether every target is gone: each given PID has exited (its pidfd turns readable), and
 * no process in the targets map (its descendants) is alive.
 */
bool targets_gone(const struct targets *t, struct tracer_bpf *tb)
{
	struct pollfd pfd = {.events = POLLIN};
	uint32_t first[64], *keys = first;
	bool gone = true;
	int i, n;

	for (i = 0; i < t->env->npids; i++) {
		pfd.fd = t->pidfds[i];
		if (pfd.fd >= 0 ? poll(&pfd, 1, 0) == 0 : proc_alive(t->env->pids[i]))
			return false;
	}
	/* most often a few: the whole map is read only when they do not fit */
	n = tracer_bpf__keys(tb, TARGETS_TABLE, keys, 64);
	if (n == 64) {
		keys = malloc(TLS_MAX_TARGETS * sizeof(*keys));
		n = keys ? tracer_bpf__keys(tb, TARGETS_TABLE, keys, TLS_MAX_TARGETS) : -ENOMEM;
		if (n < 0) /* not knowing, tracing goes on */
			gone = false;
	}
	for (i = 0; gone && i < n; i++)
		if (proc_alive((pid_t)keys[i]))
			gone = false;
	if (keys != first)
		free(keys);
	return gone;
}

void targets_free(struct targets *t)
{
	char why[256];
	int i;

	if (!t->env) /* never started */
		return;
	for (i = 0; i < MAX_PIDS; i++) {
		if (t->pidfds[i] >= 0)
			close(t->pidfds[i]);
		t->pidfds[i] = -1;
	}
	if (t->scope && tracer_scope__destroy(t->scope, why, sizeof(why)))
		diag("%s\n", why);
	t->scope = NULL;
}
