/* SPDX-License-Identifier: Apache-2.0 */
/* scope_int.h - what the scope's files share and nothing else sees: its state, and the
 * helpers the lower files (scope_events.c, scope_check.c, janitor.c) give scope.c and
 * scope_attach.c */
#ifndef TRACER_BPF_SCOPE_INT_H
#define TRACER_BPF_SCOPE_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tracer_bpf_int.h"

#define SCOPE_EVENTS 2
#define SCOPE_BUSY_WAIT_MS 2000 /* removing an event whose last perf event is being freed */

/* scope_events.c: the names of the scope's trace events, by index (0 entry, 1 return). */
extern const char *const tb_scope_event_names[SCOPE_EVENTS];

/* A probe point appended to an event: a file (by identity) and an offset. */
struct scope_point {
	dev_t dev;
	ino_t ino;
	uint64_t offset;
	bool ret;
};

/* A traced thread's perf events of the two trace events: inherited by what it starts
 * (-1: none, a child's own are the copies), and its guard (-1: none). */
struct scope_task {
	int tid, tgid;
	int fd[SCOPE_EVENTS];
	int guard[SCOPE_EVENTS];
};

/* A scope (tracer_bpf.h says what it is): made by scope.c; its points and tasks under mu. */
struct tracer_scope {
	char dir[PATH_MAX]; /* tracefs */
	char group[32];	    /* "tracer_<pid>" */
	int ctl_fd;	    /* uprobe_events, for appending */
	int id[SCOPE_EVENTS];
	bool inherit;
	bool guards;   /* each process needs guard events: the kernel may swap contexts */
	bool released; /* tracer_scope__release was called: no process comes in again */
	struct scope_point *points;
	int npoints, points_cap;
	struct scope_task *tasks;
	int ntasks, tasks_cap;
	pid_t janitor;	 /* removes the events should we die; 0: none */
	int janitor_fd;	 /* its pipe: closed, it does its work and exits */
	uint64_t offset; /* the placeholder point (tracer_scope_placeholder) */
	int check_fd;	 /* tb_scope_armed_on_append's perf event, until the anchors hold theirs */
	char self[PATH_MAX];
	pthread_mutex_t mu; /* the follow thread adds points, the notes thread guards */
};

/* scope_events.c: writes `cmd` to uprobe_events (fd); 0 or -errno. */
int tb_scope_ctl_write(int fd, const char *cmd);

/* scope_events.c: appends point (binary, offset) to sc's event `ev` (an index of
 * tb_scope_event_names); 0 or -errno, with why in err (the kernel's reason from tracefs's
 * error_log when it gives one). Holds nothing afterwards. */
int tb_scope_append(struct tracer_scope *sc, int ev, const char *binary, uint64_t offset, char *err,
		    size_t errlen);

/* scope_events.c: the file offset, in our executable, of our code at addr. 0 or -ENOENT. */
int tb_scope_self_offset(uintptr_t addr, uint64_t *offset);

/* scope_events.c: a perf event of trace event `id` (or, id -1, a dummy software event) for
 * thread tid: disabled (it only names the thread's memory to the kernel's filter), inherited
 * by what it forks when `inherit`, then sampling its reads unless `swappable`; `anchor`: one
 * whose thread puts no breakpoint anywhere. Its fd, closed by the caller, or -1 with errno. */
int tb_scope_open_event(int id, int tid, bool inherit, bool swappable, bool anchor);

/* scope_events.c: waits until thread tid of ours is gone: its memory is then no anchor's. */
void tb_scope_wait_gone(pid_t tid);

/* scope_check.c: whether the kernel takes inherited events that sample their reads (Linux
 * 6.12+), whose contexts it never swaps. Holds nothing afterwards. */
bool tb_scope_unswappable_events(void);

/* scope_check.c: whether the kernel arms a point appended to a trace event in use (*armed),
 * asked on our own memory through sc's entry event. 0, or -errno with why in err. Leaves a
 * perf event of the entry event open in sc->check_fd (-1: none), closed by
 * tracer_scope__attach once the anchors hold the event, or by tracer_scope__destroy. */
int tb_scope_armed_on_append(struct tracer_scope *sc, bool *armed, char *err, size_t errlen);

/* janitor.c: forks the janitor, a process that removes sc's trace events once the tracer
 * ends however it ends (SIGKILL too); its PID and the pipe whose closing tells it go in
 * sc->janitor and sc->janitor_fd. 0 or -errno. */
int tb_janitor_start(struct tracer_scope *sc);

/* janitor.c: closes the janitor's pipe and waits for it to do its work and end (none:
 * nothing). sc->janitor and sc->janitor_fd are left 0 and -1. */
void tb_janitor_stop(struct tracer_scope *sc);

#endif
