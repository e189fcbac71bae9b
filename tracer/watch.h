/* SPDX-License-Identifier: Apache-2.0 */
/* watch.h - notice saved changes to the BPF sources and probe specs (inotify) */
#ifndef TRACER_WATCH_H
#define TRACER_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WATCH_QUIET_NS 100000000ULL /* a change is taken once the files are quiet this long */
#define WATCH_CHANGED_MAX 512

struct watch {
	int fd;				 /* the inotify instance; -1: not watching */
	uint64_t last_ns;		 /* when the latest change was seen; 0: none pending */
	char changed[WATCH_CHANGED_MAX]; /* "openssl.c, openssl.spec": the files changed */
	bool taken;			 /* watch_ready handed `changed` out: start anew */
};

/*
 * Starts watching directories `bpf_dir` (its *.c and *.h files) and `spec_dir` (its *.spec
 * files) for files written, moved in or out, or deleted. Returns 0 or -errno (w->fd is
 * then -1).
 */
int watch_open(struct watch *w, const char *bpf_dir, const char *spec_dir);

/*
 * Reads the changes seen so far without waiting; `now_ns` is CLOCK_MONOTONIC. Returns true
 * once a change is pending and the files have been quiet for WATCH_QUIET_NS (an editor's
 * save is several events): w->changed names the files then, and the next change starts a
 * new list.
 */
bool watch_ready(struct watch *w, uint64_t now_ns);

/* Whether `name` is a file the watch cares about: a .c or .h source, or a .spec file,
 * not hidden (an editor's swap or backup file is none of these). */
bool watch_relevant(const char *name);

void watch_close(struct watch *w);

#endif
