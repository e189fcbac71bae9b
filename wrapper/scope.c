/* SPDX-License-Identifier: Apache-2.0 */
/* scope.c - the processes a PID-mode session traces, kept by the kernel: uprobe trace events
 * whose perf events every traced thread holds and every child inherits as it is forked */
#define _GNU_SOURCE
#include "scope_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * How it works (docs/DESIGN.md, "Following a process"):
 *
 * - Two uprobe trace events of tracefs, group "tracer_<our PID>": "entry" holds every entry
 *   probe point, "return" every return probe point, each appended to its event as it is
 *   found (an event is a list of points; a point added to an event in use is put into every
 *   process the event's perf events cover at once: scope_check.c asks, as the scope opens,
 *   whether this kernel does).
 * - Each traced thread holds perf events of both (disabled: they count nothing, they are
 *   only the kernel's filter of which memory gets the breakpoints). With `inherit`, the
 *   kernel copies them into every child and thread the thread starts, inside fork(), before
 *   the child runs: a child is traced from its first instruction, whatever it runs.
 * - perf swaps the contexts of two tasks whose events were all inherited from the same
 *   parent when it switches between them, and the uprobe filter goes by the task an event
 *   was made for: when the other task exits, the event it took over is freed and the first
 *   task's memory loses its breakpoints. Since Linux 6.12 a context holding an inherited
 *   event that samples its reads (PERF_SAMPLE_READ, with PERF_SAMPLE_TID as the kernel
 *   asks) is never swapped: the inherited events ask for it (they never sample: they are
 *   disabled). An older kernel refuses such events (scope_check.c asks which it is): then
 *   each traced process also holds "guard" events of its own (not inherited), put in by the
 *   tracer as soon as it hears of the process (at once for a child: tracer_scope__guard). A
 *   guard keeps the process's memory in the filter whatever is swapped, and since not every
 *   event of its context was inherited, its children's contexts are no clones and are never
 *   swapped.
 * - The BPF programs hang on "anchor" events (tracer_scope__attach, scope_attach.c): perf
 *   events of a helper thread that has exited, so they add no memory to the filter, and not
 *   inherited (the kernel takes a program off a trace event when an inherited event that
 *   carries it is freed, i.e. when the first child exits).
 * - A janitor process removes the trace events should the tracer die without doing so
 *   (janitor.c).
 *
 * This file makes the scope, keeps its points and the perf events of its processes, and
 * removes it; what its files share is in scope_int.h, the lowest of them scope_events.c (a
 * point appended to an event, a perf event opened on one).
 */

/*
 * Never called: each event needs a first point, and this function of our own executable is
 * one no traced process runs (a process running the tracer's executable maps it, and never
 * calls it either).
 */
__attribute__((noinline, used)) void tracer_scope_placeholder(void)
{
	__asm__ volatile("" ::: "memory");
}

/* The tracefs id of event `name` of sc's group, or -errno. */
static int event_id(const struct tracer_scope *sc, const char *name)
{
	char path[PATH_MAX + 96];
	FILE *f;
	int id = -1;

	snprintf(path, sizeof(path), "%s/events/%s/%s/id", sc->dir, sc->group, name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fscanf(f, "%d", &id) != 1)
		id = -EINVAL;
	fclose(f);
	return id;
}

/* Whether process `pid` is a live tracer (its thread name). */
static bool live_tracer(int pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return strncmp(comm, "tracer", 6) == 0;
}

/* Removes the events of tracers that died without removing them (killed with their janitor),
 * ours too: a dead tracer's PID may be ours now. */
static void remove_stale(struct tracer_scope *sc)
{
	char path[PATH_MAX + 16], line[PATH_MAX + 128], cmd[128], seen[64][48];
	int nseen = 0, pid, i;
	FILE *f;

	snprintf(path, sizeof(path), "%s/uprobe_events", sc->dir);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f) && nseen < 64) {
		char grp[48], ev[48];

		if (sscanf(line, "%*c:%47[^/]/%47s", grp, ev) != 2 ||
		    sscanf(grp, "tracer_%d", &pid) != 1 || (pid != getpid() && live_tracer(pid)))
			continue;
		snprintf(cmd, sizeof(cmd), "-:%s/%s\n", grp, ev);
		for (i = 0; i < nseen && strcmp(seen[i], cmd) != 0; i++)
			;
		if (i == nseen)
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", cmd);
	}
	if (f)
		fclose(f);
	/* an event that is busy is another tracer's after all: left */
	for (i = 0; i < nseen; i++)
		tb_scope_ctl_write(sc->ctl_fd, seen[i]);
}

/* Where tracer_scope_placeholder is in our executable: its path and file offset. */
static int find_placeholder(struct tracer_scope *sc)
{
	ssize_t n = readlink("/proc/self/exe", sc->self, sizeof(sc->self) - 1);

	if (n <= 0)
		return -ENOENT;
	sc->self[n] = '\0';
	return tb_scope_self_offset((uintptr_t)&tracer_scope_placeholder, &sc->offset);
}

int tracer_scope__open(const char *tracefs, bool inherit, bool guards, struct tracer_scope **out,
		       char *err, size_t errlen)
{
	bool armed = false;

	struct tracer_scope *sc = calloc(1, sizeof(*sc));
	char path[PATH_MAX + 32];
	int e = 0, i;

	*out = NULL;
	if (!sc) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	sc->janitor_fd = -1;
	sc->check_fd = -1;
	sc->inherit = inherit;
	sc->guards = inherit && (guards || !tb_scope_unswappable_events());
	pthread_mutex_init(&sc->mu, NULL);
	snprintf(sc->dir, sizeof(sc->dir), "%s", tracefs);
	snprintf(sc->group, sizeof(sc->group), "tracer_%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/uprobe_events", tracefs);
	sc->ctl_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (sc->ctl_fd < 0) {
		e = -errno;
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(-e));
		free(sc);
		return e;
	}
	remove_stale(sc);
	e = find_placeholder(sc);
	if (e)
		snprintf(err, errlen, "cannot find the tracer's own executable in /proc/self/maps");
	for (i = 0; !e && i < SCOPE_EVENTS; i++)
		e = tb_scope_append(sc, i, sc->self, sc->offset, err, errlen);
	for (i = 0; !e && i < SCOPE_EVENTS; i++)
		if ((sc->id[i] = event_id(sc, tb_scope_event_names[i])) < 0) {
			e = sc->id[i];
			snprintf(err, errlen, "cannot read the id of trace event %s/%s: %s",
				 sc->group, tb_scope_event_names[i], strerror(-e));
		}
	if (!e && (e = tb_janitor_start(sc)) != 0)
		snprintf(err, errlen,
			 "cannot start the process that cleans up after the tracer: %s",
			 strerror(-e));
	if (!e && (e = tb_scope_armed_on_append(sc, &armed, err, errlen)) == 0 && !armed) {
		e = -EOPNOTSUPP;
		snprintf(err, errlen,
			 "this kernel does not arm a probe point added to a trace event in use");
	}
	if (e) {
		tracer_scope__destroy(sc, NULL, 0);
		return e;
	}
	*out = sc;
	return 0;
}

bool tracer_scope__guards(const struct tracer_scope *sc)
{
	return sc->guards;
}

const char *tracer_scope__group(const struct tracer_scope *sc)
{
	return sc->group;
}

static int add_probe(struct tracer_scope *sc, const char *binary, uint64_t offset, bool retprobe,
		     char *err, size_t errlen)
{
	struct scope_point *grown;
	struct stat st;
	int i, e;

	if (stat(binary, &st) != 0) {
		e = -errno;
		snprintf(err, errlen, "cannot add a probe to '%s': %s", binary, strerror(-e));
		return e;
	}
	for (i = 0; i < sc->npoints; i++)
		if (sc->points[i].dev == st.st_dev && sc->points[i].ino == st.st_ino &&
		    sc->points[i].offset == offset && sc->points[i].ret == retprobe)
			return 1;
	if (sc->npoints == sc->points_cap) {
		int cap = sc->points_cap ? 2 * sc->points_cap : 64;

		grown = realloc(sc->points, cap * sizeof(*grown));
		if (!grown) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		sc->points = grown;
		sc->points_cap = cap;
	}
	e = tb_scope_append(sc, retprobe, binary, offset, err, errlen);
	if (e)
		return e;
	sc->points[sc->npoints++] = (struct scope_point){st.st_dev, st.st_ino, offset, retprobe};
	return 0;
}

static struct scope_task *find_task(struct tracer_scope *sc, int tid)
{
	int i;

	for (i = 0; i < sc->ntasks; i++)
		if (sc->tasks[i].tid == tid)
			return &sc->tasks[i];
	return NULL;
}

/* Closes the events of task t. */
static void close_task(const struct scope_task *t)
{
	int k;

	for (k = 0; k < SCOPE_EVENTS; k++) {
		if (t->fd[k] >= 0)
			close(t->fd[k]);
		if (t->guard[k] >= 0)
			close(t->guard[k]);
	}
}

/* Opens thread tid's events: inherited ones when `inherit_too`, and guards where they are
 * needed (or the events are not inherited: then they are the thread's only ones). */
static int add_task(struct tracer_scope *sc, int tid, int tgid, bool inherit_too)
{
	struct scope_task t = {.tid = tid, .tgid = tgid, .fd = {-1, -1}, .guard = {-1, -1}};
	struct scope_task *grown;
	int i, e = 0;

	if (sc->released || find_task(sc, tid))
		return 0;
	if (sc->ntasks == sc->tasks_cap) {
		int cap = sc->tasks_cap ? 2 * sc->tasks_cap : 16;

		grown = realloc(sc->tasks, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		sc->tasks = grown;
		sc->tasks_cap = cap;
	}
	for (i = 0; i < SCOPE_EVENTS && !e; i++) {
		if (inherit_too && sc->inherit &&
		    (t.fd[i] = tb_scope_open_event(sc->id[i], tid, true, sc->guards, false)) < 0)
			e = -errno;
		else if ((sc->guards || !sc->inherit) &&
			 (t.guard[i] = tb_scope_open_event(sc->id[i], tid, false, false, false)) <
				 0)
			e = -errno;
	}
	if (e) {
		close_task(&t);
		return e;
	}
	sc->tasks[sc->ntasks++] = t;
	return 0;
}

int tracer_scope__add_probe(struct tracer_scope *sc, const char *binary, uint64_t offset,
			    bool retprobe, char *err, size_t errlen)
{
	int r;

	pthread_mutex_lock(&sc->mu);
	r = add_probe(sc, binary, offset, retprobe, err, errlen);
	pthread_mutex_unlock(&sc->mu);
	return r;
}

int tracer_scope__add_thread(struct tracer_scope *sc, int tid, int tgid)
{
	int r;

	pthread_mutex_lock(&sc->mu);
	r = add_task(sc, tid, tgid, true);
	pthread_mutex_unlock(&sc->mu);
	return r;
}

int tracer_scope__guard(struct tracer_scope *sc, int pid)
{
	int r;

	if (!sc->guards)
		return 0;

	pthread_mutex_lock(&sc->mu);
	r = add_task(sc, pid, pid, false);
	pthread_mutex_unlock(&sc->mu);
	return r;
}

int tracer_scope__add_process(struct tracer_scope *sc, int pid)
{
	char path[64];
	struct dirent *d;
	int n = 0, e = 0, r;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((d = readdir(dir)) != NULL && e != -ENOMEM) {
		if (d->d_name[0] == '.')
			continue;
		r = tracer_scope__add_thread(sc, atoi(d->d_name), pid);
		if (r == 0)
			n++;
		else if (r != -ESRCH && !e)
			e = r; /* a thread that ended meanwhile is no loss */
	}
	closedir(dir);
	return n ? 0 : e ? e : -ESRCH;
}

bool tracer_scope__has_process(struct tracer_scope *sc, int pid)
{
	bool has = false;
	int i;

	pthread_mutex_lock(&sc->mu);
	for (i = 0; i < sc->ntasks && !has; i++)
		has = sc->tasks[i].tgid == pid;
	pthread_mutex_unlock(&sc->mu);
	return has;
}

void tracer_scope__drop_process(struct tracer_scope *sc, int pid)
{
	int i, kept = 0;

	pthread_mutex_lock(&sc->mu);
	for (i = 0; i < sc->ntasks; i++) {
		if (sc->tasks[i].tgid != pid)
			sc->tasks[kept++] = sc->tasks[i];
		else
			close_task(&sc->tasks[i]);
	}
	sc->ntasks = kept;
	pthread_mutex_unlock(&sc->mu);
}

void tracer_scope__process_exited(struct tracer_scope *sc, int pid)
{
	int i, k, kept = 0;

	pthread_mutex_lock(&sc->mu);
	for (i = 0; i < sc->ntasks; i++) {
		struct scope_task *t = &sc->tasks[i];

		if (t->tgid == pid) {
			for (k = 0; k < SCOPE_EVENTS; k++) {
				if (t->guard[k] >= 0)
					close(t->guard[k]);
				t->guard[k] = -1;
			}
			/* Closing an inherited event frees every copy the kernel made of it: the
			 * children it left running would lose their probes. Kept, nameless (the
			 * PID may come again), until the scope goes. */
			t->tid = t->tgid = 0;
			if (t->fd[0] < 0 && t->fd[1] < 0)
				continue;
		}
		sc->tasks[kept++] = *t;
	}
	sc->ntasks = kept;
	pthread_mutex_unlock(&sc->mu);
}

int tracer_scope__points(struct tracer_scope *sc)
{
	int n;

	pthread_mutex_lock(&sc->mu);
	n = sc->npoints;
	pthread_mutex_unlock(&sc->mu);
	return n;
}

void tracer_scope__release(struct tracer_scope *sc)
{
	int i;

	if (!sc)
		return;
	pthread_mutex_lock(&sc->mu);
	for (i = 0; i < sc->ntasks; i++)
		close_task(&sc->tasks[i]);
	sc->ntasks = 0;
	sc->released = true;
	pthread_mutex_unlock(&sc->mu);
}

int tracer_scope__destroy(struct tracer_scope *sc, char *err, size_t errlen)
{
	struct timespec pause = {0, 10 * 1000 * 1000};
	char cmd[96];
	int i, tries, e = 0, r;

	if (!sc)
		return 0;
	tracer_scope__release(sc);
	if (sc->check_fd >= 0)
		close(sc->check_fd);
	for (i = 0; sc->ctl_fd >= 0 && i < SCOPE_EVENTS; i++) {
		snprintf(cmd, sizeof(cmd), "-:%s/%s\n", sc->group, tb_scope_event_names[i]);
		for (tries = 0; tries < SCOPE_BUSY_WAIT_MS / 10; tries++) {
			r = tb_scope_ctl_write(sc->ctl_fd, cmd);
			if (r != -EBUSY)
				break;
			nanosleep(&pause, NULL);
		}
		if (r && r != -ENOENT && !e) {
			e = r;
			if (err)
				snprintf(err, errlen, "failed to remove trace event %s/%s: %s",
					 sc->group, tb_scope_event_names[i], strerror(-r));
		}
	}
	tb_janitor_stop(sc);
	if (sc->ctl_fd >= 0)
		close(sc->ctl_fd);
	pthread_mutex_destroy(&sc->mu);
	free(sc->points);
	free(sc->tasks);
	free(sc);
	return e;
}
