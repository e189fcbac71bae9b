/* SPDX-License-Identifier: Apache-2.0 */
/* scope_check.c - what the scope needs of the kernel, asked when it opens: does it arm a
 * point appended to a trace event in use, and does it take events it never swaps */
#define _GNU_SOURCE
#include "scope_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Never called, like tracer_scope_placeholder (scope.c): the point that tells whether the
 * kernel arms a point appended to a trace event in use (tb_scope_armed_on_append). Its body
 * differs from the placeholder's, so the two cannot be folded into one. */
__attribute__((noinline, used)) void tracer_scope_check(void)
{
	__asm__ volatile("nop\n\tnop" ::: "memory");
}

/* Whether the kernel takes inherited events that sample their reads (Linux 6.12+), whose
 * contexts it never swaps: asked with a dummy event of this thread's, closed at once. */
bool tb_scope_unswappable_events(void)
{
	int fd = tb_scope_open_event(-1, 0, true, false, false);

	if (fd < 0)
		return false;
	close(fd);
	return true;
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
	j->fd = tb_scope_open_event(j->id, 0, false, true, false);
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
int tb_scope_armed_on_append(struct tracer_scope *sc, bool *armed, char *err, size_t errlen)
{
	struct check_job j = {.id = sc->id[0], .fd = -1, .ready = {-1, -1}, .go = {-1, -1}};
	uint64_t offset;
	pthread_t thread;
	char c = 0;
	int e, i;

	*armed = false;
	e = tb_scope_self_offset((uintptr_t)&tracer_scope_check, &offset);
	if (!e && (pipe2(j.ready, O_CLOEXEC) || pipe2(j.go, O_CLOEXEC)))
		e = -errno;
	if (!e)
		e = -pthread_create(&thread, NULL, check_thread, &j);
	if (e) {
		snprintf(err, errlen, "cannot check how this kernel arms probe points: %s",
			 strerror(-e));
	} else {
		if (read(j.ready[0], &c, 1) == 1 && !j.err) {
			e = tb_scope_append(sc, 0, sc->self, offset, err, errlen);
			*armed = !e && *(volatile const uint8_t *)(uintptr_t)&tracer_scope_check ==
					       0xcc; /* int3: the kernel put the breakpoint in */
		} else if (j.err) {
			e = j.err;
			snprintf(err, errlen, "cannot open a perf event of trace event %s/%s: %s",
				 sc->group, tb_scope_event_names[0], strerror(-e));
		}
		if (write(j.go[1], &c, 1) !=
		    1) { /* its read then returns 0: it ends all the same */
			close(j.go[1]);
			j.go[1] = -1;
		}
		pthread_join(thread, NULL);
		tb_scope_wait_gone(j.tid);
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
