/* session.h - one tracing session: target, probes, compiled BPF, perf buffers, accounting */
#ifndef TRACER_SESSION_H
#define TRACER_SESSION_H

#include <signal.h>
#include <stdbool.h>

#include "events.h"
#include "options.h"
#include "probes.h"
#include "spec.h"

struct tracer_bpf;

struct session {
	const struct env *env;
	struct spec_table specs;
	struct probe_set probes;
	struct tracer_bpf *tb;
	struct events *ev;
	events_sink_fn sink; /* set before session_open: chunks go there, not to stdout */
	void *sink_ctx;
	char comm[64]; /* the target's */
	int pidfd;
	bool target_exited;
};

/*
 * Everything up to tracing: privileges, data directories, probe specs, the target's
 * libraries, the compiled BPF with its settings, perf buffers, attached probes. Returns
 * EXIT_OK, or EXIT_RUNTIME/EXIT_USAGE after saying what failed; call session_free() either
 * way.
 */
int session_open(struct session *s, const struct env *env);

/* "Tracing PID N (comm): K probes on LIBS[; filters]. Ctrl-C to end." on stderr. */
void session_announce(const struct session *s);

/* Polls and delivers events until *stop is set, the target exits or stdout goes away. */
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
