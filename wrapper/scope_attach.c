/* SPDX-License-Identifier: Apache-2.0 */
/* scope_attach.c - the BPF programs hung on the scope's trace events, through anchor perf
 * events of a helper thread that has exited */
#define _GNU_SOURCE
#include "scope_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Why the programs hang on anchors: scope.c, "How it works". */

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
		j->perf_fd[i] = tb_scope_open_event(j->sc->id[i], 0, false, true, true);
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
	tb_scope_wait_gone(j.tid);
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
			 fns[i], sc->group, tb_scope_event_names[i]);
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
