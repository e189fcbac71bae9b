/* SPDX-License-Identifier: Apache-2.0 */
/* detach.c - the probes attached, counted and taken off all at once, in threads whose RCU
 * grace periods overlap */
#define _GNU_SOURCE
#include "tracer_bpf_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bcc/libbpf.h>

int tracer_bpf__attached(const struct tracer_bpf *tb)
{
	return tb->nprobes;
}

/* Closes one probe's fds; returns 0 or the errno of the close that failed. */
static int close_probe(const struct attached_probe *p)
{
	int e = 0;

	if (p->link_fd >= 0 && close(p->link_fd) != 0)
		e = errno;
	if (p->perf_fd >= 0 && bpf_close_perf_event_fd(p->perf_fd) != 0 && !e)
		e = errno ? errno : EIO;
	return e;
}

/* One closing thread's share of the probes: every `stride`-th from `first`. */
struct closer {
	const struct attached_probe *probes;
	int *errs;
	int n, first, stride;
	bool running; /* on a thread of its own, to be joined */
	pthread_t thread;
};

static void *close_share(void *arg)
{
	struct closer *c = arg;
	int i;

	for (i = c->first; i < c->n; i += c->stride)
		c->errs[i] = close_probe(&c->probes[i]);
	return NULL;
}

/*
 * The kernel waits for an RCU grace period as it releases each uprobe and each tracepoint's
 * last perf event (~0.1 s here): closed one after another, 67 probes took 6-7 s. Closed from
 * up to DETACH_THREADS threads at once, their grace periods overlap.
 */
#define DETACH_THREADS 64

/* Closes the probes `sel` (n of them) from up to max_threads threads. Returns 0, or the
 * first -errno with what failed in err (how many, and the first of them). */
static int close_probes(const struct attached_probe *sel, int n, int max_threads, char *err_msg,
			size_t errlen)
{
	struct closer c[DETACH_THREADS];
	int nthreads = n < max_threads ? n : max_threads, i, err = 0, failed, first = 0;
	int *errs = calloc(n ? n : 1, sizeof(*errs));

	if (!errs)
		return -ENOMEM;
	for (i = 0; i < nthreads; i++) {
		c[i] = (struct closer){
			.probes = sel, .errs = errs, .n = n, .first = i, .stride = nthreads};
		c[i].running =
			nthreads > 1 && pthread_create(&c[i].thread, NULL, close_share, &c[i]) == 0;
		if (!c[i].running)
			close_share(&c[i]); /* alone, or no thread: this one closes that share */
	}
	for (i = 0; i < nthreads; i++)
		if (c[i].running)
			pthread_join(c[i].thread, NULL);
	for (i = 0, failed = 0; i < n; i++)
		if (errs[i] && failed++ == 0) {
			err = -errs[i];
			first = i;
		}
	if (failed)
		snprintf(err_msg, errlen, "failed to detach %d of %d probes, the first %s: %s",
			 failed, n, sel[first].what, strerror(-err));
	free(errs);
	return err;
}

/* Takes the probes of process `pid` (all of them when `all`) out of tb's list, keeping the
 * others in order; *out gets them (malloc'd), *n how many. */
static int take_matching(struct tracer_bpf *tb, bool all, int pid, struct attached_probe **out,
			 int *n)
{
	struct attached_probe *sel;
	int i, kept = 0;

	*n = 0;
	*out = NULL;
	if (!tb || !tb->nprobes)
		return 0;
	sel = malloc(tb->nprobes * sizeof(*sel));
	if (!sel)
		return -ENOMEM;
	for (i = 0; i < tb->nprobes; i++) {
		if (all || tb->probes[i].pid == pid)
			sel[(*n)++] = tb->probes[i];
		else
			tb->probes[kept++] = tb->probes[i];
	}
	tb->nprobes = kept;
	*out = sel;
	return 0;
}

int tracer_bpf__detach_all(struct tracer_bpf *tb, char *err_msg, size_t errlen)
{
	struct attached_probe *sel;
	int n, err;

	if (!tb)
		return 0;
	err = take_matching(tb, true, 0, &sel, &n);
	if (!err)
		err = close_probes(sel, n, DETACH_THREADS, err_msg, errlen);
	else
		snprintf(err_msg, errlen, "out of memory detaching the probes");
	free(sel);
	return err;
}
