/* SPDX-License-Identifier: Apache-2.0 */
/* kbtf.h - the running kernel's BTF: its struct offsets and its functions, for the BPF
 * sources */
#ifndef TRACER_KBTF_H
#define TRACER_KBTF_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The kernel's types as its BTF describes them (/sys/kernel/btf/vmlinux), read with a small
 * parser of our own: libbpf's takes ~60 ms here to index and check 130,000 types, this one
 * walks them once (a few ms). Only what the tracer asks is looked up.
 */
struct kbtf;

/*
 * Reads BTF from `path` (NULL: /sys/kernel/btf/vmlinux). *out is freed with kbtf_free.
 * Returns 0, or -errno with `why` saying what failed (no file: an older kernel, or one built
 * without BTF; -EINVAL: not BTF this parser reads).
 */
int kbtf_open(const char *path, struct kbtf **out, char *why, size_t whylen);

/* The same from `size` bytes at `data` (copied). */
int kbtf_open_mem(const void *data, size_t size, struct kbtf **out, char *why, size_t whylen);

void kbtf_free(struct kbtf *btf);

/* The type id of function `name` (a BTF FUNC: what fentry/fexit programs attach to), or
 * -ENOENT. */
int kbtf_func_id(const struct kbtf *btf, const char *name);

/*
 * The struct offsets the BPF sources read, in groups each taken whole or not at all. The
 * kernel headers libbcc compiles against may be another version's (Debian's 6.1 headers on a
 * 6.18 kernel), so their layout is not trusted: the running kernel's BTF tells. Byte offsets.
 */
enum kbtf_group {
	/* a task's file of fd N, and whether it is a socket: current->files->fdt->fd[N]
	 * ->f_inode->i_mode (and i_ino: which socket; i_ino and i_size: which file) */
	KBTF_FD,
	/* the uprobe point a trace event's hit is for: current->utask->vaddr (its dispatch
	 * data) ->tu->offset and ->tu->path.dentry->d_inode (a file, as FD reads one) */
	KBTF_PROBE,
	/* the program a task runs, current->mm->exe_file->f_inode; whether it holds perf
	 * events, current->perf_event_ctxp; when its process started,
	 * current->group_leader->start_time */
	KBTF_EXE,
	/* a socket's family and type: file->private_data (struct socket) ->type,
	 * ->sk->__sk_common.skc_family */
	KBTF_SOCK,
	/* a TCP socket's two ends, as SOCK reads the socket: ->sk->__sk_common.skc_daddr,
	 * skc_rcv_saddr, skc_dport, skc_num, skc_v6_daddr, skc_v6_rcv_saddr */
	KBTF_ADDR,
	KBTF_NGROUPS,
};

#define KBTF_NOFFSETS 32

struct kbtf_offsets {
	long v[KBTF_NOFFSETS]; /* by entry of kbtf.c's table */
	bool ok[KBTF_NGROUPS]; /* the group's offsets are all known (and FD's, which all use) */
	char why[KBTF_NGROUPS][128]; /* not ok: the struct or member missing */
};

/* Reads every group's offsets into o (a group the BTF lacks is marked not ok, with why). */
void kbtf_offsets(const struct kbtf *btf, struct kbtf_offsets *o);

/* The offset of member `member` of struct `type` as read, or -1 when not in the table or not
 * found. */
long kbtf_offset_of(const struct kbtf_offsets *o, const char *type, const char *member);

/* The known groups' offsets as -D macros for the BPF compile (TLS_OFF_TASK_FILES=...): up to
 * `max` flags written to flags; returns how many. */
#define KBTF_FLAG_LEN 48
int kbtf_flags(const struct kbtf_offsets *o, char flags[][KBTF_FLAG_LEN], int max);

#endif
