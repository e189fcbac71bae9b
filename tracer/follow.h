/* follow.h - the notes thread: a TLS call's new connection looked up while it is open, a
 * traced process's new child given its probes as it is forked, an ended one's taken out */
#ifndef TRACER_FOLLOW_H
#define TRACER_FOLLOW_H

#include <stdbool.h>

#include "session.h"

/* Whether probes are attached for each traced process alone (PID mode: the kernel keeps
 * every other process out) rather than once for every process (--all: BPF filters). */
bool follow_per_process(const struct env *env);

/* Reads tls_conn_notes on a thread of its own, where bpf_src has that map (else on_proc
 * looks connections up, and follow_from_procs follows forks). Returns 0 or -errno (said). */
int follow_start(struct session *s);

/* Ends the notes thread; the notes it left are read here. */
void follow_stop(struct session *s);

/* The fork and exit notices from tls_procs, for a bpf_src without tls_conn_notes (no notes
 * thread): in the main loop, after its poll. */
void follow_from_procs(struct session *s, const struct rescan *rs);

#endif
