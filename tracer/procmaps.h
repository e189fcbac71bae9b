/* SPDX-License-Identifier: Apache-2.0 */
/* procmaps.h - what /proc says of processes: file mappings, names, parents */
#ifndef TRACER_PROCMAPS_H
#define TRACER_PROCMAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct map_entry {
	uint64_t start, end; /* virtual addresses [start, end) */
	uint64_t offset;     /* file offset mapped at start */
	uint64_t inode;
	char perms[5]; /* "r-xp" */
	bool deleted;  /* the file was replaced or removed since it was mapped */
	char *path;    /* as the target sees it, without " (deleted)" */
};

struct maps {
	struct map_entry *e;
	int n;
};

/*
 * Parses one line of /proc/PID/maps. Returns 1 for a file-backed mapping (out->path is
 * malloc'ed), 0 for an anonymous or pseudo mapping ("[heap]"), -1 for a malformed line.
 */
int maps_parse_line(const char *line, struct map_entry *out);

/* Reads the file-backed mappings of a maps stream. Returns 0 or -errno. */
int maps_read(FILE *f, struct maps *m);

/* Reads /proc/<pid>/maps. Returns 0 or -errno (-ENOENT: no such process). */
int maps_load(pid_t pid, struct maps *m);

void maps_free(struct maps *m);

/* Whether the file name of `path` is lib<name>.so or lib<name>.so.<version>. */
bool maps_library_matches(const char *path, const char *name);

/* Reads /proc/<pid>/comm into buf (no newline). On failure buf is "?" and -ESRCH returned. */
int proc_read_comm(pid_t pid, char *buf, size_t size);

/*
 * The first mapping of library `lib`: a name matched with maps_library_matches() or an
 * absolute path matched exactly. NULL when the process does not map it.
 */
const struct map_entry *maps_find_library(const struct maps *m, const char *lib);

/* What /proc/PID/stat says of a process that the tracer needs. */
struct proc_stat {
	char state; /* 'R', 'S', ... 'Z' for a zombie */
	pid_t ppid;
	unsigned int flags;	  /* PF_*: PROC_PF_KTHREAD marks a kernel thread */
	unsigned long long start; /* clock ticks after boot it started (0: not given); with
				   * the PID, it tells one process from a later one of the
				   * same PID */
};

#define PROC_PF_KTHREAD 0x00200000u
#define PROC_PF_EXITING 0x00000004u /* in do_exit: its memory is being taken away */

/* Parses the text of /proc/PID/stat (the name in parentheses may hold anything). Returns 0
 * or -EINVAL. */
int proc_parse_stat(const char *text, struct proc_stat *out);

/* Reads /proc/<pid>/stat. Returns 0, -ESRCH (no such process) or -EINVAL. */
int proc_read_stat(pid_t pid, struct proc_stat *out);

/* Whether `pid` is a live process or thread (neither gone nor a zombie). */
bool proc_alive(pid_t pid);

/* Whether `pid` is gone or exiting (PF_EXITING: its memory may already be gone). */
bool proc_exiting(pid_t pid);

/* When process pid started (proc_stat.start); 0 when it is gone. */
unsigned long long proc_read_start(pid_t pid);

/* The process (thread group) thread `pid` belongs to: pid itself for a process, from
 * /proc/<pid>/status. -ESRCH when it is gone. */
pid_t proc_read_tgid(pid_t pid);

/* The processes in /proc (threads are not listed there; kernel threads are left out), with
 * their parents. */
struct proc_list {
	pid_t *pid, *ppid;
	int n;
};

/* Reads /proc into pl; on running out of memory the list stops short. */
void proc_list_load(struct proc_list *pl);

void proc_list_free(struct proc_list *pl);

#endif
