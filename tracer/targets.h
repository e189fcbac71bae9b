/* SPDX-License-Identifier: Apache-2.0 */
/* targets.h - the traced processes: the given PIDs checked, their descendants added, and in
 * PID mode the scope that keeps them (and what they start) in the kernel's hands */
#ifndef TRACER_TARGETS_H
#define TRACER_TARGETS_H

#include <stdbool.h>
#include <sys/types.h>

#include "options.h"
#include "procmaps.h"

struct tracer_bpf;
struct tracer_scope;

struct targets {
	const struct env *env;
	char comms[MAX_PIDS][64]; /* the given targets' names */
	int pidfds[MAX_PIDS];	  /* the given targets' pidfds (-1: none) */
	int nchildren;		  /* their descendants found at start */
	/* PID mode: the traced processes, kept by the kernel (wrapper/scope.c): each child is
	 * in it from its fork on, and the probes fire in these processes alone. NULL with
	 * --all, or where the kernel lacks what it needs (then every process takes the
	 * probes, and BPF filters). */
	struct tracer_scope *scope;
};

/* Opens a pidfd for each given target and checks it can be traced. EXIT_OK, or
 * EXIT_RUNTIME/EXIT_USAGE after saying why not. Call targets_free either way. */
int targets_init(struct targets *t, const struct env *env);

/* Makes the scope (PID mode) under tracefs directory `tracefs`. 0; -EOPNOTSUPP, said as a
 * note, when the kernel cannot keep the probes to the traced processes this way (or
 * $TRACER_NO_SCOPE asks so): the session goes on without a scope; or -errno after saying
 * why. */
int targets_open_scope(struct targets *t, const char *tracefs);

/* Puts pid in the BPF targets map of module tb (TLS_TARGET_CHILDREN unless --no-children).
 * 0 or -errno (said). */
int targets_add(struct targets *t, struct tracer_bpf *tb, pid_t pid);

/* Adds the descendants the targets already have (in pl; traced[i] marks pl's traced ones)
 * to the targets map and to `traced`. 0, or -1 after saying what failed. */
int targets_add_descendants(struct targets *t, struct tracer_bpf *tb, struct proc_list *pl,
			    bool *traced);

/*
 * Puts the traced processes (pl's marked in `traced`) in the scope, each thread of each;
 * then those the targets map holds that are not in it yet (children forked meanwhile, which
 * the fork tracepoint put there), until none is left out. 0 or -errno (said).
 */
int targets_scope_processes(struct targets *t, struct tracer_bpf *tb, const struct proc_list *pl,
			    const bool *traced);

/* Process pid left the scope (an exec that changed its credentials made the kernel drop its
 * perf events): it is put in again. 0, -ESRCH or -errno. */
int targets_rescope(struct targets *t, struct tracer_bpf *tb, pid_t pid);

/* Process pid exited: what the scope held for it is closed. */
void targets_exited(struct targets *t, pid_t pid);

/* Whether pid is one of the PIDs given on the command line. */
bool targets_given(const struct targets *t, pid_t pid);

/* Whether every target is gone: each given PID has exited, and no process in the targets
 * map of tb is alive. */
bool targets_gone(const struct targets *t, struct tracer_bpf *tb);

/* Closes the pidfds and the scope (its trace events removed). */
void targets_free(struct targets *t);

#endif
