/* pidset.h - the processes a PID-mode session has probes attached for */
#ifndef TRACER_PIDSET_H
#define TRACER_PIDSET_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * A set of processes, in the order they came: pid[0, n), each with its start time (clock
 * ticks after boot, /proc/PID/stat; 0: not known), which tells a process from a later one
 * given the same PID.
 */
struct pidset {
	pid_t *pid;
	unsigned long long *start;
	int n, cap;
};

/* Whether pid is in the set. */
bool pidset_has(const struct pidset *ps, pid_t pid);

/*
 * Adds process pid that started at `start`. Returns 1 when added; 0 when it was there (the
 * same start, or either not known); -EEXIST when that PID is there with another start (an
 * earlier process's: the set is unchanged); -ENOMEM.
 */
int pidset_add(struct pidset *ps, pid_t pid, unsigned long long start);

/* Removes pid. Returns whether it was there. */
bool pidset_remove(struct pidset *ps, pid_t pid);

void pidset_free(struct pidset *ps);

#endif
