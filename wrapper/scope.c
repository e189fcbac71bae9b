/* SPDX-License-Identifier: Apache-2.0 */
/* scope.c - the processes a PID-mode session traces, kept by the kernel: uprobe trace events
 * whose perf events every traced thread holds and every child inherits as it is forked */
#define _GNU_SOURCE
#include "tracer_bpf_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * How it works (docs/DESIGN.md, "Following a process"):
 *
 * - Two uprobe trace events of tracefs, group "tracer_<our PID>": "entry" holds every entry
 *   probe point, "return" every return probe point, each appended to its event as it is
 *   found (an event is a list of points; a point added to an event in use is put into every
 *   process the event's perf events cover at once).
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
 *   disabled). An older kernel refuses such events: then each traced process also holds
 *   "guard" events of its own (not inherited), put in by the tracer as soon as it hears of
 *   the process (at once for a child: tracer_scope__guard). A guard keeps the process's
 *   memory in the filter whatever is swapped, and since not every event of its context was
 *   inherited, its children's contexts are no clones and are never swapped.
 * - The BPF programs hang on "anchor" events (tracer_scope__attach): perf events of a helper
 *   thread that has exited, so they add no memory to the filter, and not inherited (the
 *   kernel takes a program off a trace event when an inherited event that carries it is
 *   freed, i.e. when the first child exits).
 * - A janitor process removes the trace events should the tracer die without doing so.
 */

#define SCOPE_EVENTS 2
#define SCOPE_BUSY_WAIT_MS 2000 /* removing an event whose last perf event is being freed */

static const char *const event_names[SCOPE_EVENTS] = {"entry", "return"};

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
	int check_fd;	 /* the perf event armed_on_append held, until the anchors hold theirs */
	char self[PATH_MAX];
	pthread_mutex_t mu; /* the follow thread adds points, the notes thread guards */
};

/*
 * Never called: each event needs a first point, and this function of our own executable is
 * one no traced process runs (a process running the tracer's executable maps it, and never
 * calls it either).
 */
__attribute__((noinline, used)) void tracer_scope_placeholder(void)
{
	__asm__ volatile("" ::: "memory");
}

/* Never called either: the point that tells whether the kernel arms a point appended to a
 * trace event in use (armed_on_append). Its body differs from the placeholder's, so the
 * compiler cannot fold the two into one. */
__attribute__((noinline, used)) void tracer_scope_check(void)
{
	__asm__ volatile("nop\n\tnop" ::: "memory");
}

/* Writes `cmd` to uprobe_events; 0 or -errno. */
static int ctl_write(int fd, const char *cmd)
{
	ssize_t n = write(fd, cmd, strlen(cmd));

	return n < 0 ? -errno : n == (ssize_t)strlen(cmd) ? 0 : -EIO;
}

/* The last line of tracefs's error_log (why a probe definition was refused), or "". */
static void last_error(const char *dir, char *buf, size_t size)
{
	char path[PATH_MAX + 16], line[512];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/error_log", dir);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "error:"))
			snprintf(buf, size, "%s", strstr(line, "error:") + 7);
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
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
	for (i = 0; i < nseen; i++)
		ctl_write(sc->ctl_fd, seen[i]); /* busy: another tracer's after all; left */
}

/* Where tracer_scope_placeholder is in our executable: its path and file offset. */
/* The file offset, in our executable, of our code at addr. 0 or -ENOENT. */
static int self_offset(uintptr_t addr, uint64_t *offset)
{
	unsigned long long start, end, pgoff;
	char line[PATH_MAX + 128], perms[8];
	FILE *f = fopen("/proc/self/maps", "re");
	int err = -ENOENT;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx-%llx %7s %llx", &start, &end, perms, &pgoff) == 4 &&
		    addr >= start && addr < end && perms[2] == 'x') {
			*offset = addr - start + pgoff;
			err = 0;
			break;
		}
	if (f)
		fclose(f);
	return err;
}

static int find_placeholder(struct tracer_scope *sc)
{
	ssize_t n = readlink("/proc/self/exe", sc->self, sizeof(sc->self) - 1);

	if (n <= 0)
		return -ENOENT;
	sc->self[n] = '\0';
	return self_offset((uintptr_t)&tracer_scope_placeholder, &sc->offset);
}

/* The path the kernel is given for `binary`: itself, or /proc/self/fd/N of an fd opened on
 * it when it has blanks (uprobe_events splits on them). *fd: that fd, or -1. */
static int probe_path(const char *binary, char *buf, size_t size, int *fd)
{
	*fd = -1;
	if (!strpbrk(binary, " \t\n")) {
		snprintf(buf, size, "%s", binary);
		return 0;
	}
	*fd = open(binary, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	snprintf(buf, size, "/proc/self/fd/%d", *fd);
	return 0;
}

/* Appends point (binary, offset) to event `ev`. 0 or -errno, with why in err. */
static int append(struct tracer_scope *sc, int ev, const char *binary, uint64_t offset, char *err,
		  size_t errlen)
{
	char cmd[PATH_MAX + 128], path[PATH_MAX], why[256];
	int fd, e;

	e = probe_path(binary, path, sizeof(path), &fd);
	if (!e) {
		snprintf(cmd, sizeof(cmd), "%c:%s/%s %s:0x%" PRIx64 "\n", ev ? 'r' : 'p', sc->group,
			 event_names[ev], path, offset);
		e = ctl_write(sc->ctl_fd, cmd);
	}
	if (fd >= 0)
		close(fd);
	if (e) {
		last_error(sc->dir, why, sizeof(why));
		snprintf(err, errlen,
			 "failed to add a %s probe at offset 0x%" PRIx64 " of '%s': %s%s%s",
			 ev ? "return" : "entry", offset, binary, strerror(-e), why[0] ? ": " : "",
			 why);
	}
	return e;
}

/*
 * The janitor: a process of its own that waits for the tracer to end (its pipe's other end
 * closes however the tracer ends, SIGKILL too) and then removes the events. It holds nothing
 * else (every other fd closed), ignores the terminal's signals, and runs only system calls
 * (forked from a process with threads).
 */
static void janitor_main(int rfd, int ctl_fd, const char *const *cmds, int ncmds)
{
	struct timespec pause = {0, 10 * 1000 * 1000};
	sigset_t all;
	char c;
	int i, tries;

	int lo = rfd < ctl_fd ? rfd : ctl_fd, hi = rfd < ctl_fd ? ctl_fd : rfd;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	if (lo > 0)
		syscall(SYS_close_range, 0, lo - 1, 0);
	if (hi > lo + 1)
		syscall(SYS_close_range, lo + 1, hi - 1, 0);
	syscall(SYS_close_range, hi + 1, ~0U, 0);
	/* until the tracer's end closes the pipe's other end */
	while (read(rfd, &c, 1) < 0 && errno == EINTR)
		;
	for (i = 0; i < ncmds; i++)
		for (tries = 0; tries < SCOPE_BUSY_WAIT_MS / 10; tries++) {
			ssize_t n = write(ctl_fd, cmds[i], strlen(cmds[i]));

			if (n >= 0 || errno != EBUSY)
				break;
			nanosleep(&pause, NULL);
		}
	_exit(0);
}

static int start_janitor(struct tracer_scope *sc)
{
	char cmd[SCOPE_EVENTS][96];
	const char *cmds[SCOPE_EVENTS];
	int p[2], i;
	pid_t pid;

	for (i = 0; i < SCOPE_EVENTS; i++) {
		snprintf(cmd[i], sizeof(cmd[i]), "-:%s/%s\n", sc->group, event_names[i]);
		cmds[i] = cmd[i];
	}
	if (pipe2(p, O_CLOEXEC) != 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		close(p[1]);
		janitor_main(p[0], sc->ctl_fd, cmds, SCOPE_EVENTS);
	}
	close(p[0]);
	sc->janitor = pid;
	sc->janitor_fd = p[1];
	return 0;
}

static void stop_janitor(struct tracer_scope *sc)
{
	if (sc->janitor_fd >= 0)
		close(sc->janitor_fd);
	sc->janitor_fd = -1;
	if (sc->janitor > 0)
		while (waitpid(sc->janitor, NULL, 0) < 0 && errno == EINTR)
			;
	sc->janitor = 0;
}

/* A perf event of trace event `id` (or, id -1, a dummy software event) for thread tid:
 * disabled (it only names the thread's memory to the kernel's filter), inherited by what it
 * forks when `inherit`, then sampling its reads unless `swappable` (so that the kernel never
 * swaps its context with another task's). */
static int open_event(int id, int tid, bool inherit, bool swappable, bool anchor)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = id < 0 ? PERF_TYPE_SOFTWARE : PERF_TYPE_TRACEPOINT;
	attr.config = id < 0 ? PERF_COUNT_SW_DUMMY : (uint64_t)id;
	attr.sample_period = 1;
	attr.disabled = 1;
	attr.inherit = inherit;
	if (inherit && !swappable)
		attr.sample_type = PERF_SAMPLE_READ | PERF_SAMPLE_TID;
	/* an anchor's thread puts no breakpoint anywhere, however briefly it lives: with
	 * enable_on_exec the kernel leaves it to exec and mmap, which it never does */
	attr.enable_on_exec = anchor;
	return (int)syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

/* Whether the kernel takes inherited events that sample their reads (Linux 6.12+), whose
 * contexts it never swaps: asked with a dummy event of this thread's, closed at once. */
static bool unswappable_events(void)
{
	int fd = open_event(-1, 0, true, false, false);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Waits until thread tid of ours is gone: its memory is then no anchor's. */
static void wait_gone(pid_t tid)
{
	struct timespec pause = {0, 100 * 1000};
	char path[64];
	int i;

	snprintf(path, sizeof(path), "/proc/self/task/%d", (int)tid);
	for (i = 0; i < 20000 && access(path, F_OK) == 0; i++)
		nanosleep(&pause, NULL);
}

/* A helper thread's perf event of the entry trace event, held while the thread waits. */
struct check_job {
	int id, fd, err;
	pid_t tid;
	int ready[2], go[2]; /* pipes: the event is open; the thread may end */
};

static void *check_thread(void *arg)
{
	struct check_job *j = arg;
	char c = 0;

	j->tid = (pid_t)syscall(SYS_gettid);
	j->fd = open_event(j->id, 0, false, true, false);
	j->err = j->fd < 0 ? -errno : 0;
	if (write(j->ready[1], &c, 1) == 1)
		while (read(j->go[0], &c, 1) < 0 && errno == EINTR)
			;
	return NULL;
}

/*
 * Whether the kernel arms a point appended to a trace event in use (the scope adds the
 * points of TLS code it finds later that way; a kernel that only lists it would leave it
 * without breakpoints, and choke on it when a perf event comes or goes). Asked on our own
 * memory: a helper thread holds a perf event of the entry event while tracer_scope_check,
 * never called, is appended to it; then the thread ends before the event is closed, so that
 * closing it touches no point (the kernel leaves the points of an exited task's event as
 * they are). The event stays open (sc->check_fd) until the anchors hold it. 0 (*armed
 * says), or -errno.
 */
static int armed_on_append(struct tracer_scope *sc, bool *armed, char *err, size_t errlen)
{
	struct check_job j = {.id = sc->id[0], .fd = -1, .ready = {-1, -1}, .go = {-1, -1}};
	uint64_t offset;
	pthread_t thread;
	char c = 0;
	int e, i;

	*armed = false;
	e = self_offset((uintptr_t)&tracer_scope_check, &offset);
	if (!e && (pipe2(j.ready, O_CLOEXEC) || pipe2(j.go, O_CLOEXEC)))
		e = -errno;
	if (!e)
		e = -pthread_create(&thread, NULL, check_thread, &j);
	if (e) {
		snprintf(err, errlen, "cannot check how this kernel arms probe points: %s",
			 strerror(-e));
	} else {
		if (read(j.ready[0], &c, 1) == 1 && !j.err) {
			e = append(sc, 0, sc->self, offset, err, errlen);
			*armed = !e && *(volatile const uint8_t *)(uintptr_t)&tracer_scope_check ==
					       0xcc; /* int3: the kernel put the breakpoint in */
		} else if (j.err) {
			e = j.err;
			snprintf(err, errlen, "cannot open a perf event of trace event %s/%s: %s",
				 sc->group, event_names[0], strerror(-e));
		}
		if (write(j.go[1], &c, 1) !=
		    1) { /* its read then returns 0: it ends all the same */
			close(j.go[1]);
			j.go[1] = -1;
		}
		pthread_join(thread, NULL);
		wait_gone(j.tid);
	}
	/* Kept open until the anchors hold the event: closing it now would take every point
	 * out, for the anchors to put them in again, a grace period each way. */
	sc->check_fd = j.fd;
	for (i = 0; i < 2; i++) {
		if (j.ready[i] >= 0)
			close(j.ready[i]);
		if (j.go[i] >= 0)
			close(j.go[i]);
	}
	return e;
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
	sc->guards = inherit && (guards || !unswappable_events());
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
		e = append(sc, i, sc->self, sc->offset, err, errlen);
	for (i = 0; !e && i < SCOPE_EVENTS; i++)
		if ((sc->id[i] = event_id(sc, event_names[i])) < 0) {
			e = sc->id[i];
			snprintf(err, errlen, "cannot read the id of trace event %s/%s: %s",
				 sc->group, event_names[i], strerror(-e));
		}
	if (!e && (e = start_janitor(sc)) != 0)
		snprintf(err, errlen,
			 "cannot start the process that cleans up after the tracer: %s",
			 strerror(-e));
	if (!e && (e = armed_on_append(sc, &armed, err, errlen)) == 0 && !armed) {
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
	e = append(sc, retprobe, binary, offset, err, errlen);
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
		    (t.fd[i] = open_event(sc->id[i], tid, true, sc->guards, false)) < 0)
			e = -errno;
		else if ((sc->guards || !sc->inherit) &&
			 (t.guard[i] = open_event(sc->id[i], tid, false, false, false)) < 0)
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

/* The anchors' thread: opens them and hangs the programs on them, then ends. */
struct anchor_job {
	const struct tracer_scope *sc;
	int prog_fd[SCOPE_EVENTS];
	int perf_fd[SCOPE_EVENTS], link_fd[SCOPE_EVENTS];
	int err;
	pid_t tid; /* the thread's, to wait for its end */
};

static void *open_anchors(void *arg)
{
	struct anchor_job *j = arg;
	union bpf_attr attr;
	int i;

	j->tid = (pid_t)syscall(SYS_gettid);
	for (i = 0; i < SCOPE_EVENTS && !j->err; i++) {
		j->perf_fd[i] = open_event(j->sc->id[i], 0, false, true, true);
		if (j->perf_fd[i] < 0) {
			j->err = -errno;
			break;
		}
		memset(&attr, 0, sizeof(attr));
		attr.link_create.prog_fd = (uint32_t)j->prog_fd[i];
		attr.link_create.target_fd = (uint32_t)j->perf_fd[i];
		attr.link_create.attach_type = BPF_PERF_EVENT;
		j->link_fd[i] = (int)syscall(SYS_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
		if (j->link_fd[i] < 0)
			j->err = -errno;
	}
	return NULL;
}

int tracer_scope__attach(struct tracer_bpf *tb, struct tracer_scope *sc, const char *entry_fn,
			 const char *return_fn, char *err, size_t errlen)
{
	struct anchor_job j = {.sc = sc, .perf_fd = {-1, -1}, .link_fd = {-1, -1}};
	const char *fns[SCOPE_EVENTS] = {entry_fn, return_fn};
	struct attached_probe *grown;
	pthread_t thread;
	int i, e;

	for (i = 0; i < SCOPE_EVENTS; i++) {
		j.prog_fd[i] =
			tb_load_prog(tb, fns[i], BPF_PROG_TYPE_KPROBE, ATTACH_PERF, 0, err, errlen);
		if (j.prog_fd[i] < 0)
			return j.prog_fd[i];
	}
	grown = realloc(tb->probes, (tb->nprobes + SCOPE_EVENTS) * sizeof(*grown));
	if (!grown) {
		snprintf(err, errlen, "out of memory attaching '%s'", entry_fn);
		return -ENOMEM;
	}
	tb->probes = grown;
	e = pthread_create(&thread, NULL, open_anchors, &j);
	if (e) {
		snprintf(err, errlen, "failed to start a thread: %s", strerror(e));
		return -e;
	}
	pthread_join(thread, NULL);
	wait_gone(j.tid);
	if (sc->check_fd >= 0) { /* the anchors hold the event now */
		close(sc->check_fd);
		sc->check_fd = -1;
	}
	for (i = 0; i < SCOPE_EVENTS; i++) {
		if (j.perf_fd[i] < 0 || j.link_fd[i] < 0) {
			if (j.link_fd[i] >= 0)
				close(j.link_fd[i]);
			if (j.perf_fd[i] >= 0)
				close(j.perf_fd[i]);
			continue;
		}
		tb->probes[tb->nprobes] = (struct attached_probe){
			.perf_fd = j.perf_fd[i], .link_fd = j.link_fd[i], .pid = -1};
		snprintf(tb->probes[tb->nprobes].what, sizeof(tb->probes[0].what), "%s on %s/%s",
			 fns[i], sc->group, event_names[i]);
		tb->nprobes++;
	}
	if (j.err) {
		snprintf(err, errlen, "failed to attach '%s' and '%s' to trace events %s/*: %s%s",
			 entry_fn, return_fn, sc->group, strerror(-j.err),
			 j.err == -EPERM ? " (needs root or CAP_BPF + CAP_PERFMON)" : "");
		return j.err;
	}
	return 0;
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
		snprintf(cmd, sizeof(cmd), "-:%s/%s\n", sc->group, event_names[i]);
		for (tries = 0; tries < SCOPE_BUSY_WAIT_MS / 10; tries++) {
			r = ctl_write(sc->ctl_fd, cmd);
			if (r != -EBUSY)
				break;
			nanosleep(&pause, NULL);
		}
		if (r && r != -ENOENT && !e) {
			e = r;
			if (err)
				snprintf(err, errlen, "failed to remove trace event %s/%s: %s",
					 sc->group, event_names[i], strerror(-r));
		}
	}
	stop_janitor(sc);
	if (sc->ctl_fd >= 0)
		close(sc->ctl_fd);
	pthread_mutex_destroy(&sc->mu);
	free(sc->points);
	free(sc->tasks);
	free(sc);
	return e;
}
