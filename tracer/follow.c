/* follow.c - the notes thread: a TLS call's new connection looked up while it is open, a
 * traced process's new child given its probes as it is forked, an ended one's taken out */
#define _GNU_SOURCE
#include "follow.h"
#include "diag.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procmaps.h"
#include "tls_event.h"
#include "tracer_bpf.h"

#define CONN_NOTES_PAGES 8
#define NOTES_POLL_MS 100 /* how soon the thread sees it is asked to end */

bool follow_per_process(const struct env *env)
{
	return !env->all;
}

/* Gives process pid, started at `start`, probes of its own: `anew` when the set may have
 * it already (its old probes go first). With attach_mu held. Returns pidset_add's answer
 * (-EEXIST: another process of that PID has them) or a failure (said). */
static int attach_process(struct session *s, pid_t pid, unsigned long long start, bool anew)
{
	int r;

	if (anew && pidset_remove(&s->procs, pid))
		tracer_bpf__detach_pid(s->tb, pid);
	r = pidset_add(&s->procs, pid, start);
	if (r == 1)
		r = probes_attach_process(s->tb, &s->probes, pid, s->env->verbose);
	if (r < 0 && r != -ESRCH && r != -EEXIST)
		diag("failed to attach the probes for PID %d: %s\n", (int)pid, strerror(-r));
	return r;
}

/*
 * A new child of a traced process (the fork tracepoint, which fires before the child first
 * runs, put it among the targets): every probe for it, now, on the notes thread, whatever
 * the main loop is busy with (~1 ms after the fork: bench/loop measures it). A thread's
 * notice (the tracepoint tells of those too) is passed over: threads share their process's
 * probes. A PID still in the set from an earlier process (its exit read later) is that
 * process's: its probes go first.
 */
static void follow_fork(struct session *s, pid_t pid)
{
	struct proc_stat st;

	if (!follow_per_process(s->env) || proc_read_tgid(pid) != pid || proc_read_stat(pid, &st) ||
	    (st.flags & PROC_PF_EXITING))
		return;
	pthread_mutex_lock(&s->attach_mu);
	if (!s->attach_closed && attach_process(s, pid, st.start, false) == -EEXIST)
		attach_process(s, pid, st.start, true);
	pthread_mutex_unlock(&s->attach_mu);
}

/* A traced process ended (its last thread exits): its probes go. The notice of an earlier
 * process whose PID a live one has taken since is passed over. */
static void follow_exit(struct session *s, pid_t pid)
{
	if (!follow_per_process(s->env) || !proc_exiting(pid))
		return;
	pthread_mutex_lock(&s->attach_mu);
	if (!s->attach_closed && pidset_remove(&s->procs, pid))
		tracer_bpf__detach_pid(s->tb, pid);
	pthread_mutex_unlock(&s->attach_mu);
}

/* A thread other than the first ran a new program and took the process's PID: its probes,
 * which the kernel tied to the first thread, are attached anew. */
static void follow_relink(struct session *s, pid_t pid)
{
	if (!follow_per_process(s->env))
		return;
	pthread_mutex_lock(&s->attach_mu);
	if (!s->attach_closed && pidset_has(&s->procs, pid))
		attach_process(s, pid, proc_read_start(pid), true);
	pthread_mutex_unlock(&s->attach_mu);
}

/* tls_conn_notes, on the notes thread: a TLS call first used a socket (looked up now,
 * while it is open); a traced process forked, exited or was taken over by a thread. */
static void on_conn_note(void *ctx, int cpu, const void *data, int size)
{
	struct session *s = ctx;
	struct tls_proc_event pe; /* aligned: perf puts the record 4 bytes off */

	(void)cpu;
	if (size < (int)sizeof(pe))
		return;
	memcpy(&pe, data, sizeof(pe));
	if (pe.kind == TLS_PROC_CONN)
		conn_notes_add(s->notes, pe.conn, pe.pid, pe.fd, pe.ino);
	else if (pe.kind == TLS_PROC_FORK)
		follow_fork(s, (pid_t)pe.pid);
	else if (pe.kind == TLS_PROC_EXIT)
		follow_exit(s, (pid_t)pe.pid);
	else if (pe.kind == TLS_PROC_RELINK)
		follow_relink(s, (pid_t)pe.pid);
}

static void on_conn_note_lost(void *ctx, int cpu, uint64_t count)
{
	(void)ctx;
	(void)cpu;
	diag("missed %llu notices of new connections, children or exits of traced processes "
	     "(a child then goes without probes; a connection is looked up later)\n",
	     (unsigned long long)count);
}

static void *serve_notes(void *arg)
{
	struct session *s = arg;

	while (!atomic_load(&s->notes_stop) &&
	       tracer_bpf__poll_readers(s->note_readers, NOTES_POLL_MS) == 0)
		;
	return NULL;
}

int follow_start(struct session *s)
{
	int err;

	if (!tracer_bpf__has_table(s->tb, CONN_NOTES_TABLE))
		return 0;
	s->notes = calloc(1, sizeof(*s->notes));
	if (s->notes) {
		pthread_mutex_init(&s->notes->mu, NULL);
		char msg[256];

		if ((err = tracer_bpf__open_perf_buffer(s->tb, CONN_NOTES_TABLE, CONN_NOTES_PAGES,
							1, on_conn_note, on_conn_note_lost, s, msg,
							sizeof(msg)))) {
			diag("%s\n", msg);
			return err;
		}
		s->note_readers = tracer_bpf__take_readers(s->tb, CONN_NOTES_TABLE);
	}
	if (!s->notes || !s->note_readers) {
		diag("out of memory for the readers of '%s'\n", CONN_NOTES_TABLE);
		return -ENOMEM;
	}
	err = pthread_create(&s->note_thread, NULL, serve_notes, s);
	if (err) {
		diag("failed to start the thread that looks connections up: %s\n", strerror(err));
		return -err;
	}
	s->note_thread_on = true;
	s->ev->conns.notes = s->notes;
	return 0;
}

void follow_stop(struct session *s)
{
	if (!s->note_thread_on)
		return;
	atomic_store(&s->notes_stop, true);
	pthread_join(s->note_thread, NULL);
	s->note_thread_on = false;
	tracer_bpf__poll_readers(s->note_readers, 0);
}

void follow_from_procs(struct session *s, const struct rescan *rs)
{
	if (s->note_thread_on)
		return;
	if (rs->exit)
		follow_exit(s, rs->pid);
	if (rs->fork)
		follow_fork(s, rs->pid);
}
