/* pidset.h - the processes a PID-mode session has probes attached for */
#ifndef TRACER_PIDSET_H
#define TRACER_PIDSET_H

#include <stdbool.h>
#include <sys/types.h>

/* A set of PIDs, in the order they came; pid[0, n). */
struct pidset {
	pid_t *pid;
	int n, cap;
};

/* Whether pid is in the set. */
bool pidset_has(const struct pidset *ps, pid_t pid);

/* Adds pid (once). Returns 1 when added, 0 when it was there, -ENOMEM. */
int pidset_add(struct pidset *ps, pid_t pid);

/* Removes pid. Returns whether it was there. */
bool pidset_remove(struct pidset *ps, pid_t pid);

void pidset_free(struct pidset *ps);

#endif
