/* kbtf.c - offsets of the running kernel's structs, from its BTF, for the BPF sources */
#include "kbtf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>

/* The byte offset of member `name` of struct `type_id`, looking into anonymous struct and
 * union members too; -1 when it has none. */
static long member_offset(const struct btf *btf, __u32 type_id, const char *name)
{
	const struct btf_type *t = btf__type_by_id(btf, type_id);
	const struct btf_member *m;
	int i, n;

	while (t && (btf_is_typedef(t) || btf_is_mod(t)))
		t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_composite(t))
		return -1;
	m = btf_members(t);
	n = btf_vlen(t);
	for (i = 0; i < n; i++, m++) {
		const char *mname = btf__name_by_offset(btf, m->name_off);
		long bits = btf_member_bit_offset(t, i), inner;

		if (mname && mname[0] && strcmp(mname, name) == 0)
			return bits % 8 ? -1 : bits / 8;
		if ((!mname || !mname[0]) && (inner = member_offset(btf, m->type, name)) >= 0)
			return bits / 8 + inner;
	}
	return -1;
}

int kbtf_fd_offsets(struct kbtf_fd_offsets *o, char *why, size_t whylen)
{
	static const struct {
		const char *type, *member;
		size_t at;
	} want[] = {
		{"task_struct", "files", offsetof(struct kbtf_fd_offsets, task_files)},
		{"files_struct", "fdt", offsetof(struct kbtf_fd_offsets, files_fdt)},
		{"fdtable", "max_fds", offsetof(struct kbtf_fd_offsets, fdt_max_fds)},
		{"fdtable", "fd", offsetof(struct kbtf_fd_offsets, fdt_fd)},
		{"file", "f_inode", offsetof(struct kbtf_fd_offsets, file_inode)},
		{"inode", "i_mode", offsetof(struct kbtf_fd_offsets, inode_mode)},
	};
	struct btf *btf = btf__load_vmlinux_btf();
	size_t i;
	int err = 0;

	if (!btf) {
		err = errno ? -errno : -ENOENT;
		snprintf(why, whylen, "the kernel's BTF cannot be read: %s", strerror(-err));
		return err;
	}
	for (i = 0; i < sizeof(want) / sizeof(want[0]) && !err; i++) {
		__s32 id = btf__find_by_name_kind(btf, want[i].type, BTF_KIND_STRUCT);
		long off = id > 0 ? member_offset(btf, (__u32)id, want[i].member) : -1;

		if (off < 0) {
			snprintf(why, whylen, "the kernel's BTF has no struct %s with a member %s",
				 want[i].type, want[i].member);
			err = -ENOENT;
		} else {
			*(long *)((char *)o + want[i].at) = off;
		}
	}
	btf__free(btf);
	return err;
}

void kbtf_fd_flags(const struct kbtf_fd_offsets *o, char flags[KBTF_NFLAGS][KBTF_FLAG_LEN])
{
	snprintf(flags[0], KBTF_FLAG_LEN, "-DTLS_OFF_TASK_FILES=%ld", o->task_files);
	snprintf(flags[1], KBTF_FLAG_LEN, "-DTLS_OFF_FILES_FDT=%ld", o->files_fdt);
	snprintf(flags[2], KBTF_FLAG_LEN, "-DTLS_OFF_FDT_MAX_FDS=%ld", o->fdt_max_fds);
	snprintf(flags[3], KBTF_FLAG_LEN, "-DTLS_OFF_FDT_FD=%ld", o->fdt_fd);
	snprintf(flags[4], KBTF_FLAG_LEN, "-DTLS_OFF_FILE_INODE=%ld", o->file_inode);
	snprintf(flags[5], KBTF_FLAG_LEN, "-DTLS_OFF_INODE_MODE=%ld", o->inode_mode);
}
