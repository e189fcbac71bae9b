/* kbtf.h - offsets of the running kernel's structs, from its BTF, for the BPF sources */
#ifndef TRACER_KBTF_H
#define TRACER_KBTF_H

#include <stddef.h>

/*
 * Where a task's file of fd N is, and whether it is a socket: current->files->fdt->fd[N]
 * ->f_inode->i_mode. The kernel headers libbcc compiles against may be another version's
 * (Debian's 6.1 headers on a 6.18 kernel), so their layout is not trusted: the running
 * kernel's BTF tells. Byte offsets.
 */
struct kbtf_fd_offsets {
	long task_files;  /* task_struct.files */
	long files_fdt;	  /* files_struct.fdt */
	long fdt_max_fds; /* fdtable.max_fds */
	long fdt_fd;	  /* fdtable.fd */
	long file_inode;  /* file.f_inode */
	long inode_mode;  /* inode.i_mode */
};

/*
 * Reads the offsets from the kernel's BTF (/sys/kernel/btf/vmlinux). Returns 0, or -errno
 * with `why` saying what was missing (no BTF: an older kernel, or one built without it).
 */
int kbtf_fd_offsets(struct kbtf_fd_offsets *o, char *why, size_t whylen);

/* The offsets as -D macros for the BPF compile: TLS_OFF_TASK_FILES=... (`n` flags, each
 * at most KBTF_FLAG_LEN bytes, written to flags). */
#define KBTF_NFLAGS 6
#define KBTF_FLAG_LEN 48
void kbtf_fd_flags(const struct kbtf_fd_offsets *o, char flags[KBTF_NFLAGS][KBTF_FLAG_LEN]);

#endif
