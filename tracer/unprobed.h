/* SPDX-License-Identifier: Apache-2.0 */
/* unprobed.h - what traced processes sent and received on TLS sockets before their TLS code
 * had probes: counted in BPF, settled when the tracer has looked, said per connection */
#ifndef TRACER_UNPROBED_H
#define TRACER_UNPROBED_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "conns.h"
#include "tls_event.h"

struct tracer_bpf;
struct events;

/* Why a process's bytes went without probes (struct unprobed_report's why). */
enum unprobed_why {
	UNPROBED_NEW_CODE, /* it ran TLS code the tracer had not probed yet (its first run) */
	UNPROBED_EXITED,   /* it exited before the tracer could look at what it ran */
	UNPROBED_LEFT,	   /* an exec that changed its credentials took its probes away */
	UNPROBED_UNPROBED, /* TLS records on its sockets, none of them by a probed call */
};

/* One connection's bytes before probes (fd -1: the process's, no socket known). */
struct unprobed_report {
	uint32_t pid;
	char comm[TLS_COMM_LEN + 1];
	char program[TLS_PATH_LEN]; /* what it ran ("" unknown) */
	int fd;
	uint64_t ino;
	uint64_t sent, recv;
	enum unprobed_why why;
	bool resolved; /* addr is known */
	struct conn_addr addr;
};

/* A socket looked up the moment BPF saw its first TLS record (TLS_PROC_PENDING_CONN), so
 * that it is named even when it is closed by the time it is told. */
struct unprobed_addr {
	uint32_t pid;
	int fd;
	uint64_t ino;
	bool resolved;
	struct conn_addr addr;
};

#define UNPROBED_ADDRS 256

struct unprobed {
	const char *proc_root;
	pthread_mutex_t mu; /* the notes thread and the follow thread fill, the main loop drains */
	struct unprobed_report *queue;
	int nqueue, queue_cap;
	struct unprobed_addr addrs[UNPROBED_ADDRS]; /* a ring: the oldest give way */
	unsigned int next_addr;
};

/* Starts u (its memory the caller's). */
void unprobed_init(struct unprobed *u, const char *proc_root);

/* The notes thread: pid's socket fd (inode ino) carried a TLS record before probes: looked
 * up now, while it is open. */
void unprobed_note_conn(struct unprobed *u, uint32_t pid, int fd, uint64_t ino,
			const struct tls_sock_addr *bpf);

/*
 * The follow thread settles process pid in BPF: its tls_pending entry and its sockets'
 * counts are read and taken out. When `missed` (its TLS code went without probes for a
 * while), what it moved is queued for the main loop, with `why` and the program it ran;
 * otherwise the counts are dropped (its probes were in place: what it moved was captured).
 * Returns whether there was an entry.
 */
bool unprobed_settle(struct unprobed *u, struct tracer_bpf *tb, uint32_t pid, bool missed,
		     enum unprobed_why why, const char *program);

/* Tells what sockets counted for processes no longer pending (BPF took a socket up just as
 * its process was settled): reason "unprobed". The follow thread calls it every second. */
void unprobed_sweep(struct unprobed *u, struct tracer_bpf *tb);

/* Reads pid's tls_pending entry: 0 with *p filled, or -ENOENT. */
int unprobed_pending(struct tracer_bpf *tb, uint32_t pid, struct tls_pending *p);

/* Every pid tls_pending holds, up to max into pids: how many. */
int unprobed_pending_pids(struct tracer_bpf *tb, uint32_t *pids, int max);

/* After settling: clears the gate BPF checks on every socket syscall when nothing is pending
 * any more (and sets it again should BPF have added a process meanwhile). */
void unprobed_gate(struct tracer_bpf *tb);

/*
 * The main loop: says each queued report on stderr ("PID 42 (hey) sent 517 and received
 * 3,012 bytes on 127.0.0.1:40 -> 127.0.0.1:8443 before its TLS code had probes (...)"),
 * and hands it to the event stream (events_add_unprobed: counted for the summary, and to the
 * sinks: the JSON record).
 */
void unprobed_drain(struct unprobed *u, struct events *ev);

void unprobed_free(struct unprobed *u);

#endif
