/* session.h - one tracing session: targets, probes, compiled BPF, perf buffers, accounting */
#ifndef TRACER_SESSION_H
#define TRACER_SESSION_H

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "events.h"
#include "bpfcache.h"
#include "http.h"
#include "compile.h"
#include "pcapng.h"
#include "redact.h"
#include "options.h"
#include "pidset.h"
#include "probes.h"
#include "spec.h"
#include "watch.h"

struct tracer_bpf;

/* A traced process to look at again after this poll: it mapped a file, ran a program, or
 * unmapped memory. */
struct rescan {
	pid_t pid;
	bool exec, mmap, unmap;
	bool fork, exit; /* a traced process's new child; a traced process's end */
};

/* The TLS files each process mapped when last looked at (probes_file_bit masks of the
 * probe set's files; processes mapping none are left out): an unmapped one is told. An
 * entry names its process by PID and start time, so a later process given the same PID is
 * not taken for it; entries of processes gone are dropped before the table grows. */
struct tls_maps {
	struct proc_tls {
		pid_t pid;
		unsigned long long start; /* proc_stat.start */
		uint64_t files;
	} * v;
	int n, cap;
};

/* A generation of probes a reload replaced: kept while their events may still come. */
struct retired {
	struct spec_table specs;
	struct probe_set probes;
	struct retired *next;
};

struct session {
	const struct env *env;
	struct spec_table specs;
	struct probe_set probes;
	struct tracer_bpf *tb;
	struct events *ev;
	/* Set before session_open by one who watches the run instead of its output (the
	 * self-test): every data chunk in order goes to chunk(); round() is called after every
	 * poll round, when every chunk submitted before the round began has left the perf
	 * buffers (delivered, queued in order, or counted lost). */
	struct session_observer {
		events_sink_fn chunk;
		void (*round)(void *ctx);
		void *ctx;
	} observer;
	char comms[MAX_PIDS][64]; /* the given targets' names */
	int pidfds[MAX_PIDS];	  /* the given targets' pidfds (-1: none) */
	int nchildren;		  /* their descendants found at start */
	/* The processes the probes are attached for, each on its own (PID mode): the kernel
	 * keeps every other process out. With --all: none, the probes fire everywhere. */
	struct pidset procs;
	/* Held while probes are attached or detached, or the probe set, the processes above or
	 * the module change: the notes thread attaches a new child's probes (follow_fork). */
	pthread_mutex_t attach_mu;
	bool attach_mu_on;
	bool attach_closed; /* under attach_mu: the session ends, nothing more is attached */
	struct rescan *rescan; /* processes that ran a program or (un)mapped a file */
	int nrescan, rescan_cap;
	struct tls_maps tls_maps; /* the TLS files each traced process maps */
	/* Connections announced by BPF, looked up at once on a thread of their own, which also
	 * follows the traced processes' forks and exits (tls_conn_notes). */
	struct conn_notes *notes;
	struct tracer_bpf_readers *note_readers;
	pthread_t note_thread;
	bool note_thread_on;
	atomic_bool notes_stop;
	bool target_exited;	/* the targets and all their descendants are gone */
	uint64_t exit_seen_ns;	/* when BPF last told of a target's exit (events_now) */
	bool reader_gone;	/* stdout's reader went away (tracer PID | head) */
	int write_err;		/* errno of a failed write to stdout: exit 1 */
	struct pcapng pcap;	/* -w (pcap.f NULL: none) */
	struct http http;	/* --http */
	struct redact redact;	/* --redact (redact.n 0: none) */
	char bpf_dir[PATH_MAX]; /* where the BPF sources and probe specs were read */
	char spec_dir[PATH_MAX];
	unsigned int gen;	 /* the compile of bpf_src in use: 1, then one up per reload */
	struct kernel_facts kf;	 /* what the first compile learnt of the kernel */
	struct bpfcache cache;	 /* the compile cache's entry of the module in use */
	struct watch watch;	 /* their changes, while tracing */
	struct retired *retired; /* what reloads replaced, newest first */
	int reloads, reload_failures;
};

/*
 * Everything up to tracing: privileges, data directories, probe specs, the targets and
 * their descendants, the compiled BPF with its settings, perf buffers, the process
 * tracepoints, the TLS code the targets map or may load (ld.so cache), attached probes.
 * Returns
 * EXIT_OK, or EXIT_RUNTIME/EXIT_USAGE after saying what failed; call session_free() either
 * way.
 */
int session_open(struct session *s, const struct env *env);

/* --list-probes: resolves the probes of the given PIDs' TLS code (every process's with
 * --all; the ld.so cache's libraries without PIDs) and prints them; attaches nothing.
 * Returns an exit status. */
int session_list_probes(const struct env *env);

/*
 * --check: parses the probe specs, compiles bpf_src, loads every BPF function into the
 * kernel and checks each spec's function exists, attaching nothing. Every error is printed
 * as FILE:LINE: ...; returns EXIT_OK, or EXIT_RUNTIME when any was found.
 */
int session_check(const struct env *env);

/* Whether events are shown on stdout (not when -w - writes the capture there). */
bool output_to_stdout(const struct env *env);

/* "Tracing PID N (comm) and its children: K probes on LIBS[; filters]. Ctrl-C to end." */
void session_announce(struct session *s);

/*
 * Polls and delivers events until *stop is set, the targets and their descendants are all
 * gone, or stdout goes away. Programs the targets start and libraries they load are
 * looked at as they appear, and their TLS code probed. A saved change to the BPF sources or
 * probe specs is reloaded: compiled, verified and attached before the old probes go
 * ("Reloaded ..."), or on failure said and the running probes kept.
 */
void session_run(struct session *s, volatile sig_atomic_t *stop);

/*
 * Detaches, drains what is buffered, reads the BPF counters and prints the summary.
 * Returns EXIT_OK, or EXIT_RUNTIME when detaching failed.
 */
int session_finish(struct session *s);

/* Detaches what is still attached and frees everything. Returns EXIT_RUNTIME when
 * detaching failed, else EXIT_OK. */
int session_free(struct session *s);

/* For targets.c and reload.c: the settings map written for generation gen (0 or -errno,
 * said); the compiled module kept in the compile cache once it proved good. */
int write_settings(struct tracer_bpf *tb, const struct env *env, unsigned int gen);
void keep_compiled(struct session *s);

#endif
