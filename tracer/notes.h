/* SPDX-License-Identifier: Apache-2.0 */
/* notes.h - the notes thread: a TLS call's new connection, and a socket that carried TLS
 * before probes, looked up the moment BPF tells of it, while the socket is open; a traced
 * process's new child given its guard events */
#ifndef TRACER_NOTES_H
#define TRACER_NOTES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "conns.h"
#include "unprobed.h"

struct tracer_bpf;
struct tracer_scope;

struct notes {
	struct conn_notes *lookups; /* the results, for the main loop's connections */
	struct unprobed *unprobed;  /* sockets of processes before probes */
	struct tracer_scope *scope; /* PID mode: new children are guarded there */
	int targets_fd;		    /* the targets map (a child still traced?); -1: none */
	struct tracer_bpf_readers *readers;
	pthread_t thread;
	bool started, running; /* notes_start was called; the thread runs */
	atomic_bool stop;
};

/*
 * Opens tls_conn_notes of module tb and reads it on a thread of its own, looking sockets up
 * under proc_root (results into n->lookups, which events' connections take) and guarding
 * the new children of traced processes in `scope` (NULL: none). A bpf_src without that map
 * gets no thread (0; its connections are looked up as their events come). Returns 0 or
 * -errno (said).
 */
int notes_start(struct notes *n, struct tracer_bpf *tb, const char *proc_root,
		struct unprobed *unprobed, struct tracer_scope *scope);

/* Ends the thread; the notes it left are read here. */
void notes_stop(struct notes *n);

/* Frees what notes_start made (after notes_stop). */
void notes_free(struct notes *n);

#endif
