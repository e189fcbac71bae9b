/* targets.h - the traced processes: the given PIDs checked, their descendants added, the
 * TLS code each maps found (and found again), its probes attached for each */
#ifndef TRACER_TARGETS_H
#define TRACER_TARGETS_H

#include <stdbool.h>
#include <sys/types.h>

#include "procmaps.h"
#include "session.h"

/* Opens a pidfd for each given target and checks it can be traced. EXIT_OK, or
 * EXIT_RUNTIME/EXIT_USAGE after saying why not. */
int targets_check(struct session *s);

/* Puts pid in the BPF targets map (TLS_TARGET_CHILDREN unless --no-children). 0 or -errno
 * (said). */
int targets_add(struct session *s, pid_t pid);

/* Adds the descendants the targets already have (in pl; traced[i] marks pl's traced ones)
 * to the targets map and to `traced`. 0, or -1 after saying what failed. */
int targets_add_descendants(struct session *s, struct proc_list *pl, bool *traced);

/* Finds the TLS code of pl's traced processes (every process with --all; the ld.so cache's
 * spec libraries) into set, and what each maps into tm; `quiet` at a reload. 0 or -errno. */
int targets_find_tls_code(struct session *s, struct probe_set *set,
			  const struct spec_table *specs, struct proc_list *pl, const bool *traced,
			  struct tls_maps *tm, bool quiet);

/* The same for the processes the targets map holds now (a reload). */
int targets_find_tls_code_now(struct session *s, struct probe_set *set,
			      const struct spec_table *specs, struct tls_maps *tm);

/* Attaches the probes of set not attached yet, in module tb: for each traced process in PID
 * mode, for every process with --all. Call with attach_mu held. 0 or the first -errno. */
int targets_attach_new(struct session *s, struct tracer_bpf *tb, struct probe_set *set);

/* Looks again at the processes that ran a program or (un)mapped a file (s->rescan): new TLS
 * code gets its probes now; a TLS library a process unmapped is told. */
void targets_rescan(struct session *s);

/* Whether every target is gone: each given PID has exited, and no process in the targets
 * map is alive. */
bool targets_gone(const struct session *s);

void tls_maps_free(struct tls_maps *tm);

#endif
