/* SPDX-License-Identifier: Apache-2.0 */
/* notes.c - the notes thread: a TLS call's new connection, and a socket that carried TLS
 * before probes, looked up the moment BPF tells of it, while the socket is open; a traced
 * process's new child given its guard events */
#define _GNU_SOURCE
#include "notes.h"
#include "diag.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "procmaps.h"
#include "tls_event.h"
#include "tracer_bpf.h"

#define CONN_NOTES_PAGES 8
#define NOTES_POLL_MS 100 /* how soon the thread sees it is asked to end */

/*
 * A traced process's new child (in the scope already: the kernel copied the events into it
 * as it forked) gets its guard events (wrapper/scope.c says why). A thread's notice (the
 * tracepoint tells of those too) is passed over. The process is pinned with a pidfd and
 * checked to be in the targets map, so that a later process given the PID is never guarded
 * (it would take breakpoints).
 */
static void guard_child(struct notes *n, pid_t pid)
{
	struct pollfd pfd = {.events = POLLIN};
	uint32_t key = (uint32_t)pid, flags;
	int err;

	if (!n->scope || proc_read_tgid(pid) != pid)
		return;
	pfd.fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd.fd < 0)
		return;
	if (tracer_bpf__fd_lookup(n->targets_fd, &key, &flags) == 0) {
		err = tracer_scope__guard(n->scope, pid);
		if (err && err != -ESRCH)
			diag("failed to give PID %d its perf events of the traced processes: "
			     "%s%s\n",
			     (int)pid, strerror(-err),
			     err == -EMFILE ? " (raise the limit of open files: ulimit -n)" : "");
		if (!err && poll(&pfd, 1, 0) > 0) /* it ended meanwhile: they may be another's */
			tracer_scope__drop_process(n->scope, pid);
	}
	close(pfd.fd);
}

/* tls_conn_notes: a TLS call first used a socket; a pending process's socket carried TLS; a
 * traced process forked. */
static void on_note(void *ctx, int cpu, const void *data, int size)
{
	struct notes *n = ctx;
	struct tls_proc_event pe; /* aligned: perf puts the record 4 bytes off */

	(void)cpu;
	if (size < (int)sizeof(pe))
		return;
	memcpy(&pe, data, sizeof(pe));
	if (pe.kind == TLS_PROC_CONN)
		conn_notes_add(n->lookups, pe.conn, pe.pid, pe.fd, pe.ino, &pe.addr);
	else if (pe.kind == TLS_PROC_PENDING_CONN && n->unprobed)
		unprobed_note_conn(n->unprobed, pe.pid, pe.fd, pe.ino, &pe.addr);
	else if (pe.kind == TLS_PROC_FORK)
		guard_child(n, (pid_t)pe.pid);
}

static void on_note_lost(void *ctx, int cpu, uint64_t count)
{
	(void)ctx;
	(void)cpu;
	diag("missed %llu notices of new connections or children of traced processes (a "
	     "connection is looked up when its events are shown, it may be closed by then)\n",
	     (unsigned long long)count);
}

static void *serve(void *arg)
{
	struct notes *n = arg;

	while (!atomic_load(&n->stop) && tracer_bpf__poll_readers(n->readers, NOTES_POLL_MS) == 0)
		;
	return NULL;
}

int notes_start(struct notes *n, struct tracer_bpf *tb, const char *proc_root,
		struct unprobed *unprobed, struct tracer_scope *scope)
{
	char msg[256];
	int err;

	memset(n, 0, sizeof(*n));
	n->started = true;
	n->unprobed = unprobed;
	n->targets_fd = -1;
	if (scope) {
		n->targets_fd = tracer_bpf__table_dup(tb, TARGETS_TABLE);
		n->scope = n->targets_fd >= 0 ? scope : NULL;
	}
	if (!tracer_bpf__has_table(tb, CONN_NOTES_TABLE))
		return 0;
	n->lookups = calloc(1, sizeof(*n->lookups));
	if (!n->lookups) {
		diag("out of memory for the readers of '%s'\n", CONN_NOTES_TABLE);
		return -ENOMEM;
	}
	pthread_mutex_init(&n->lookups->mu, NULL);
	n->lookups->proc_root = proc_root;
	err = tracer_bpf__open_perf_buffer(tb, CONN_NOTES_TABLE, CONN_NOTES_PAGES, 1, on_note,
					   on_note_lost, n, msg, sizeof(msg));
	if (err) {
		diag("%s\n", msg);
		return err;
	}
	n->readers = tracer_bpf__take_readers(tb, CONN_NOTES_TABLE);
	if (!n->readers) {
		diag("out of memory for the readers of '%s'\n", CONN_NOTES_TABLE);
		return -ENOMEM;
	}
	err = pthread_create(&n->thread, NULL, serve, n);
	if (err) {
		diag("failed to start the thread that looks connections up: %s\n", strerror(err));
		return -err;
	}
	pthread_setname_np(n->thread, "tracer-notes"); /* as top -H and /proc show it */
	n->running = true;
	return 0;
}

void notes_stop(struct notes *n)
{
	if (!n->running)
		return;
	atomic_store(&n->stop, true);
	pthread_join(n->thread, NULL);
	n->running = false;
	tracer_bpf__poll_readers(n->readers, 0);
}

void notes_free(struct notes *n)
{
	if (!n->started)
		return;
	notes_stop(n);
	tracer_bpf__free_readers(n->readers);
	n->readers = NULL;
	if (n->lookups)
		pthread_mutex_destroy(&n->lookups->mu);
	free(n->lookups);
	n->lookups = NULL;
	if (n->targets_fd >= 0)
		close(n->targets_fd);
	n->targets_fd = -1;
}
