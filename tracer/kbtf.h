/* kbtf.h - the running kernel's BTF: its struct offsets and its functions, for the BPF
 * sources */
#ifndef TRACER_KBTF_H
#define TRACER_KBTF_H

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
 * Where a task's file of fd N is, and whether it is a socket: current->files->fdt->fd[N]
 * ->f_inode->i_mode (and i_ino, which socket). The kernel headers libbcc compiles against may be
 * another version's (Debian's 6.1 headers on a 6.18 kernel), so their layout is not trusted: the
 * running kernel's BTF tells. Byte offsets.
 */
struct kbtf_fd_offsets {
	long task_files;  /* task_struct.files */
	long files_fdt;	  /* files_struct.fdt */
	long fdt_max_fds; /* fdtable.max_fds */
	long fdt_fd;	  /* fdtable.fd */
	long file_inode;  /* file.f_inode */
	long inode_mode;  /* inode.i_mode */
	long inode_ino;	  /* inode.i_ino: a socket's number, as /proc/PID/fd names it */
};

/* Reads the offsets. Returns 0, or -ENOENT with `why` naming the struct or member missing. */
int kbtf_fd_offsets(const struct kbtf *btf, struct kbtf_fd_offsets *o, char *why, size_t whylen);

/* The offsets as -D macros for the BPF compile: TLS_OFF_TASK_FILES=... (`n` flags, each
 * at most KBTF_FLAG_LEN bytes, written to flags). */
#define KBTF_NFLAGS 7
#define KBTF_FLAG_LEN 48
void kbtf_fd_flags(const struct kbtf_fd_offsets *o, char flags[KBTF_NFLAGS][KBTF_FLAG_LEN]);

#endif
