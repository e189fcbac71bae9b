/* SPDX-License-Identifier: Apache-2.0 */
/* follow.h - the follow thread: the TLS code of what traced processes run and map found and
 * probed as they do, off the main loop; what they moved before that told */
#ifndef TRACER_FOLLOW_H
#define TRACER_FOLLOW_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "filemarks.h"
#include "options.h"
#include "probes.h"
#include "procmaps.h"
#include "spec.h"
#include "targets.h"
#include "tls_event.h"
#include "tlsmaps.h"
#include "unprobed.h"

struct tracer_bpf;
struct conn_table;

/* A traced process to look at again: what BPF told of it since the last look. */
struct rescan {
	pid_t pid;
	bool exec, mmap, unmap, exit;
	uint32_t pending;	    /* TLS_PENDING_* BPF set as it told */
	char program[TLS_PATH_LEN]; /* exec: what it ran, as exec(2) was given it */
	uint64_t noticed_ns;	    /* when its first notice was read (events_now) */
};

/* What the follow thread is given: the session's, which it uses under mu. */
struct follow_config {
	const struct env *env;
	struct probe_set *probes;	/* new TLS code is added here */
	const struct spec_table *specs; /* the probe table */
	struct targets *targets;	/* the given PIDs; the scope */
	struct unprobed *unprobed;	/* bytes before probes */
};

struct follow {
	struct follow_config cfg;
	/* Held while the thread looks at processes and attaches what it finds; a reload
	 * holds it while it replaces the module, the probes and the sink. */
	pthread_mutex_t mu;
	struct tracer_bpf *tb;	 /* the module in use (under mu) */
	struct probe_sink sink;	 /* where new probes go (under mu) */
	struct tls_maps maps;	 /* under mu */
	struct file_marks marks; /* under mu */
	bool closed;		 /* under mu: tracing ends, nothing more is attached */
	struct rescan *rescan;	 /* the thread's: told since its last look */
	int nrescan, rescan_cap;
	struct tracer_bpf_readers *readers; /* tls_procs */
	pthread_t thread;
	bool running;
	atomic_bool stop;
	atomic_ullong exit_seen_ns; /* when a traced process last exited (events_now) */
	/* for the main loop, which owns the connections: processes whose sockets looked up as
	 * the tracer attached may be gone (they ran a program, or closed a range of fds) */
	pthread_mutex_t forget_mu;
	pid_t *forget;
	int nforget, forget_cap;
	uint64_t last_sweep_ns;
};

/* Starts f (its memory the caller's) with what cfg gives. */
void follow_init(struct follow *f, const struct follow_config *cfg);

/*
 * The TLS code in reach at start (or at a reload, into a new set): what pl's traced
 * processes map (every process with --all) and the spec libraries of the ld.so cache, which
 * a process would load later; each file a process maps told to BPF as looked at (tls_files
 * of tb). What each process maps goes into tm; `quiet` at a reload. 0 or -errno.
 */
int follow_find_tls_code(struct follow *f, struct tracer_bpf *tb, struct probe_set *set,
			 const struct spec_table *specs, struct proc_list *pl, const bool *traced,
			 struct tls_maps *tm, bool quiet);

/* The same for the processes the targets map of tb holds now (a reload). */
int follow_find_tls_code_now(struct follow *f, struct tracer_bpf *tb, struct probe_set *set,
			     const struct spec_table *specs, struct tls_maps *tm);

/* Attaches what is new in the session's probe set through the sink (under mu). 0 or -errno
 * (said). */
int follow_attach_new(struct follow *f);

/* Opens tls_procs of module tb (the notices the thread reads), before the kernel programs
 * that send them are attached. 0 or -errno (said). */
int follow_open(struct follow *f, struct tracer_bpf *tb, const struct probe_sink *sink);

/* Starts the thread. 0 or -errno (said). */
int follow_run(struct follow *f);

/* Ends the thread; the notices it left are looked at here. */
void follow_stop(struct follow *f);

void follow_lock(struct follow *f);
void follow_unlock(struct follow *f);

/* A reload's generation takes over (with the lock held): the module, the sink new probes go
 * through, and what each process maps (*maps taken: left empty). */
void follow_replace(struct follow *f, struct tracer_bpf *tb, const struct probe_sink *sink,
		    struct tls_maps *maps);

/* Tracing ends (with the lock held): nothing found from now on is attached. */
void follow_close(struct follow *f);

/* The main loop: forgets the sockets looked up as the tracer attached of the processes the
 * thread said may have lost them. */
void follow_drain(struct follow *f, struct conn_table *conns);

void follow_free(struct follow *f);

#endif
