/* SPDX-License-Identifier: Apache-2.0 */
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
#include "follow.h"
#include "generation.h"
#include "http.h"
#include "compile.h"
#include "notes.h"
#include "pcapng.h"
#include "redact.h"
#include "options.h"
#include "probes.h"
#include "reload.h"
#include "sink.h"
#include "spec.h"
#include "targets.h"
#include "unprobed.h"

struct tracer_bpf;

#define SESSION_MAX_SINKS 4 /* stdout's output and the capture, with room to spare */

struct session {
	const struct env *env;
	struct spec_table specs;
	struct probe_set probes;
	struct point_slots slots; /* the specs' BPF functions in the module's tls_point_progs */
	struct tracer_bpf *tb;
	struct events *ev;
	/* Set before session_open by one who watches the run instead of its output (the
	 * self-test): every data chunk in order goes to its sink alone (the observer's to
	 * free); round() is called after every poll round, when every chunk submitted before the
	 * round began has left the perf buffers (delivered, queued in order, or counted lost). */
	struct session_observer {
		struct sink *sink;
		void (*round)(void *ctx);
		void *ctx;
	} observer;
	struct sink *sinks[SESSION_MAX_SINKS]; /* the outputs (open_sinks); the session frees
						* those it made */
	int nsinks;
	struct targets targets;	   /* who is traced */
	struct follow follow;	   /* what they run, found and probed as they run it */
	struct notes notes;	   /* sockets looked up while open */
	struct unprobed unprobed;  /* bytes moved before probes */
	struct reload reload;	   /* saved edits of the sources and specs */
	bool follow_on, reload_on; /* follow_init, reload_init were called */
	bool target_exited;	   /* the targets and all their descendants are gone */
	bool reader_gone;	   /* stdout's reader went away (tracer PID | head) */
	int write_err;		   /* errno of a failed write to stdout: exit 1 */
	struct pcapng pcap;	   /* -w (pcap.f NULL: none) */
	struct http http;	   /* --http */
	struct redact redact;	   /* --redact (redact.n 0: none) */
	char bpf_dir[PATH_MAX];	   /* where the BPF sources and probe specs were read */
	char spec_dir[PATH_MAX];
	unsigned int gen;	/* the compile of bpf_src in use: 1, then one up per reload */
	struct kernel_facts kf; /* what the first compile learnt of the kernel */
	struct bpfcache cache;	/* the compile cache's entry of the module in use */
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

#endif
