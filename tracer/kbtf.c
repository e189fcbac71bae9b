/* SPDX-License-Identifier: Apache-2.0 */
/* kbtf.c - the running kernel's BTF: its struct offsets and its functions, for the BPF
 * sources */
#include "kbtf.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <linux/btf.h>

#define KBTF_VMLINUX "/sys/kernel/btf/vmlinux"
#define KBTF_MAX_SIZE (256u << 20) /* a vmlinux BTF is ~6 MB */

struct kbtf {
	char *data; /* the whole file: mapped (Linux 6.16+ maps the kernel's own copy) or read */
	size_t size;
	bool mapped;
	const char *strs;
	uint32_t str_len;
	const char *type_sec;
	uint32_t *types; /* type id -> offset in type_sec; [0] is "void" */
	uint32_t ntypes; /* ids 1 .. ntypes-1 */
};

void kbtf_free(struct kbtf *btf)
{
	if (!btf)
		return;
	free(btf->types);
	if (btf->mapped)
		munmap(btf->data, btf->size);
	else
		free(btf->data);
	free(btf);
}

static const struct btf_type *type_at(const struct kbtf *btf, uint32_t id)
{
	return (const struct btf_type *)(btf->type_sec + btf->types[id]);
}

/* The bytes that follow a type's common part, by its kind; -1 for a kind not known here. */
static long type_extra(const struct btf_type *t)
{
	uint32_t vlen = BTF_INFO_VLEN(t->info);

	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_INT:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		return 4;
	case BTF_KIND_PTR:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 0;
	case BTF_KIND_ARRAY:
		return (long)sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return (long)(vlen * sizeof(struct btf_member));
	case BTF_KIND_ENUM:
		return (long)(vlen * sizeof(struct btf_enum));
	case BTF_KIND_FUNC_PROTO:
		return (long)(vlen * sizeof(struct btf_param));
	case BTF_KIND_DATASEC:
		return (long)(vlen * sizeof(struct btf_var_secinfo));
	case BTF_KIND_ENUM64:
		return (long)(vlen * sizeof(struct btf_enum64));
	default:
		return -1;
	}
}

/* Indexes the types of btf->data; 0, -ENOMEM or -EINVAL with `why`. */
static int index_types(struct kbtf *btf, char *why, size_t whylen)
{
	size_t size = btf->size;
	const struct btf_header *h = (const struct btf_header *)btf->data;
	const char *types, *p, *end;
	uint32_t cap = 1024;
	long extra;

	if (size < sizeof(*h) || h->magic != BTF_MAGIC || h->hdr_len < sizeof(*h) ||
	    h->hdr_len > size) {
		snprintf(why, whylen, "not BTF of this machine's byte order");
		return -EINVAL;
	}
	if ((uint64_t)h->hdr_len + h->type_off + h->type_len > size ||
	    (uint64_t)h->hdr_len + h->str_off + h->str_len > size || h->str_len == 0 ||
	    btf->data[h->hdr_len + h->str_off + h->str_len - 1] != '\0' || h->type_off % 4) {
		snprintf(why, whylen, "BTF sections out of the file's bounds");
		return -EINVAL;
	}
	btf->strs = btf->data + h->hdr_len + h->str_off;
	btf->str_len = h->str_len;
	types = btf->type_sec = btf->data + h->hdr_len + h->type_off;
	end = types + h->type_len;
	btf->types = malloc(cap * sizeof(*btf->types));
	if (!btf->types)
		return -ENOMEM;
	btf->types[0] = 0;
	btf->ntypes = 1;
	for (p = types; p < end; p += sizeof(struct btf_type) + extra) {
		const struct btf_type *t = (const struct btf_type *)p;

		if ((size_t)(end - p) < sizeof(*t) || (extra = type_extra(t)) < 0 ||
		    (size_t)(end - p) < sizeof(*t) + (size_t)extra || t->name_off >= btf->str_len) {
			snprintf(why, whylen,
				 "BTF type %u is cut short or of a kind not known here",
				 btf->ntypes);
			return -EINVAL;
		}
		if (btf->ntypes == cap) {
			uint32_t *grown;

			cap *= 2;
			grown = realloc(btf->types, cap * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			btf->types = grown;
		}
		btf->types[btf->ntypes++] = (uint32_t)(p - types);
	}
	return 0;
}

/* Takes btf->data (btf->size bytes) and indexes it; frees btf on failure. */
static int take(struct kbtf *btf, struct kbtf **out, char *why, size_t whylen)
{
	int err = index_types(btf, why, whylen);

	if (err) {
		if (err == -ENOMEM)
			snprintf(why, whylen, "out of memory");
		kbtf_free(btf);
		return err;
	}
	*out = btf;
	return 0;
}

int kbtf_open_mem(const void *data, size_t size, struct kbtf **out, char *why, size_t whylen)
{
	struct kbtf *btf = calloc(1, sizeof(*btf));

	*out = NULL;
	if (!btf || !(btf->data = malloc(size ? size : 1))) {
		free(btf);
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	memcpy(btf->data, data, size);
	btf->size = size;
	return take(btf, out, why, whylen);
}

int kbtf_open(const char *path, struct kbtf **out, char *why, size_t whylen)
{
	struct kbtf *btf;
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd, err;

	*out = NULL;
	path = path ? path : KBTF_VMLINUX;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		err = -errno;
		snprintf(why, whylen, "the kernel's BTF '%s' cannot be read: %s", path,
			 strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	btf = calloc(1, sizeof(*btf));
	if (!btf || st.st_size <= 0 || (uint64_t)st.st_size > KBTF_MAX_SIZE) {
		close(fd);
		free(btf);
		snprintf(why, whylen, "the kernel's BTF '%s': %s", path,
			 btf ? "an unlikely size" : "out of memory");
		return btf ? -EINVAL : -ENOMEM;
	}
	btf->size = (size_t)st.st_size;
	/* Mapped, the kernel's pages are used as they are (reading 5.5 MB into fresh memory costs
	 * ~40 ms on a VM); older kernels cannot map it: read. */
	btf->data = mmap(NULL, btf->size, PROT_READ, MAP_PRIVATE, fd, 0);
	btf->mapped = btf->data != MAP_FAILED;
	if (!btf->mapped && (btf->data = malloc(btf->size)) != NULL) {
		while (got < btf->size && (n = read(fd, btf->data + got, btf->size - got)) > 0)
			got += (size_t)n;
		btf->size = got;
	}
	close(fd);
	if (!btf->data) {
		free(btf);
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	return take(btf, out, why, whylen);
}

static const char *name_of(const struct kbtf *btf, const struct btf_type *t)
{
	return btf->strs + t->name_off;
}

/* The first type of kind `kind` named `name`: its id, or -ENOENT. */
static int find(const struct kbtf *btf, const char *name, unsigned int kind)
{
	uint32_t id;

	for (id = 1; id < btf->ntypes; id++) {
		const struct btf_type *t = type_at(btf, id);

		if (BTF_INFO_KIND(t->info) == kind && btf->strs[t->name_off] == name[0] &&
		    strcmp(name_of(btf, t), name) == 0)
			return (int)id;
	}
	return -ENOENT;
}

int kbtf_func_id(const struct kbtf *btf, const char *name)
{
	return find(btf, name, BTF_KIND_FUNC);
}

/* The type behind typedefs and qualifiers; NULL for a bad id. */
static const struct btf_type *resolve(const struct kbtf *btf, uint32_t id)
{
	const struct btf_type *t;
	int hops;

	for (hops = 0; hops < 32 && id && id < btf->ntypes; hops++) {
		t = type_at(btf, id);
		switch (BTF_INFO_KIND(t->info)) {
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			id = t->type;
			break;
		default:
			return t;
		}
	}
	return NULL;
}

/* The byte offset of member `name` of the struct or union `t`, looking into anonymous
 * struct and union members too, and its type's id in *type_id; -1 when it has none (or it is
 * a bitfield). */
static long member_offset(const struct kbtf *btf, const struct btf_type *t, const char *name,
			  int depth, uint32_t *type_id)
{
	unsigned int kind = t ? BTF_INFO_KIND(t->info) : 0;
	const struct btf_member *m;
	uint32_t i, n;

	if (!t || (kind != BTF_KIND_STRUCT && kind != BTF_KIND_UNION) || depth > 8)
		return -1;
	m = (const struct btf_member *)(t + 1);
	n = BTF_INFO_VLEN(t->info);
	for (i = 0; i < n; i++, m++) {
		uint32_t bits =
			BTF_INFO_KFLAG(t->info) ? BTF_MEMBER_BIT_OFFSET(m->offset) : m->offset;
		const char *mname = m->name_off < btf->str_len ? btf->strs + m->name_off : "";
		long inner;

		if (mname[0] && strcmp(mname, name) == 0) {
			*type_id = m->type;
			return bits % 8 ? -1 : (long)(bits / 8);
		}
		if (!mname[0] && (inner = member_offset(btf, resolve(btf, m->type), name, depth + 1,
							type_id)) >= 0)
			return (long)(bits / 8) + inner;
	}
	return -1;
}

/* The byte offset of element `elem` of an array of type `t` (what an array member's element
 * is: a pointer or a sized type); -1 when not an array or its element has no size known. */
static long element_offset(const struct kbtf *btf, const struct btf_type *t, int elem)
{
	const struct btf_array *a;
	const struct btf_type *e;
	long size;

	if (!t || BTF_INFO_KIND(t->info) != BTF_KIND_ARRAY)
		return -1;
	a = (const struct btf_array *)(t + 1);
	if ((uint32_t)elem >= a->nelems || !(e = resolve(btf, a->type)))
		return -1;
	switch (BTF_INFO_KIND(e->info)) {
	case BTF_KIND_PTR:
		size = (long)sizeof(void *);
		break;
	case BTF_KIND_INT:
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_ENUM:
		size = (long)e->size;
		break;
	default:
		return -1;
	}
	return size * elem;
}

/* Every offset the BPF sources read: its macro, struct, member and group; `elem`: where the
 * member is an array (older kernels), the element meant. */
static const struct kbtf_member {
	const char *macro, *type, *member;
	enum kbtf_group group;
	int elem;
} members[] = {
	{"TLS_OFF_TASK_FILES", "task_struct", "files", KBTF_FD, 0},
	{"TLS_OFF_FILES_FDT", "files_struct", "fdt", KBTF_FD, 0},
	{"TLS_OFF_FDT_MAX_FDS", "fdtable", "max_fds", KBTF_FD, 0},
	{"TLS_OFF_FDT_FD", "fdtable", "fd", KBTF_FD, 0},
	{"TLS_OFF_FILE_INODE", "file", "f_inode", KBTF_FD, 0},
	{"TLS_OFF_INODE_MODE", "inode", "i_mode", KBTF_FD, 0},
	{"TLS_OFF_INODE_INO", "inode", "i_ino", KBTF_FD, 0},
	{"TLS_OFF_INODE_SIZE", "inode", "i_size", KBTF_FD, 0},
	{"TLS_OFF_TASK_UTASK", "task_struct", "utask", KBTF_PROBE, 0},
	{"TLS_OFF_UTASK_VADDR", "uprobe_task", "vaddr", KBTF_PROBE, 0},
	{"TLS_OFF_UDD_TU", "uprobe_dispatch_data", "tu", KBTF_PROBE, 0},
	{"TLS_OFF_TU_OFFSET", "trace_uprobe", "offset", KBTF_PROBE, 0},
	{"TLS_OFF_TU_PATH", "trace_uprobe", "path", KBTF_PROBE, 0},
	{"TLS_OFF_PATH_DENTRY", "path", "dentry", KBTF_PROBE, 0},
	{"TLS_OFF_DENTRY_INODE", "dentry", "d_inode", KBTF_PROBE, 0},
	{"TLS_OFF_TASK_MM", "task_struct", "mm", KBTF_EXE, 0},
	{"TLS_OFF_MM_EXE_FILE", "mm_struct", "exe_file", KBTF_EXE, 0},
	/* before Linux 6.2 an array by context kind: a trace event's perf events are in the
	 * software context, perf_sw_context (1) */
	{"TLS_OFF_TASK_PERF_CTX", "task_struct", "perf_event_ctxp", KBTF_EXE, 1},
	{"TLS_OFF_TASK_GROUP_LEADER", "task_struct", "group_leader", KBTF_EXE, 0},
	{"TLS_OFF_TASK_START_TIME", "task_struct", "start_time", KBTF_EXE, 0},
	{"TLS_OFF_FILE_PRIVATE", "file", "private_data", KBTF_SOCK, 0},
	{"TLS_OFF_SOCKET_TYPE", "socket", "type", KBTF_SOCK, 0},
	{"TLS_OFF_SOCKET_SK", "socket", "sk", KBTF_SOCK, 0},
	{"TLS_OFF_SK_COMMON", "sock", "__sk_common", KBTF_SOCK, 0},
	{"TLS_OFF_SKC_FAMILY", "sock_common", "skc_family", KBTF_SOCK, 0},
	{"TLS_OFF_SKC_DADDR", "sock_common", "skc_daddr", KBTF_ADDR, 0},
	{"TLS_OFF_SKC_RCV_SADDR", "sock_common", "skc_rcv_saddr", KBTF_ADDR, 0},
	{"TLS_OFF_SKC_DPORT", "sock_common", "skc_dport", KBTF_ADDR, 0},
	{"TLS_OFF_SKC_NUM", "sock_common", "skc_num", KBTF_ADDR, 0},
	{"TLS_OFF_SKC_V6_DADDR", "sock_common", "skc_v6_daddr", KBTF_ADDR, 0},
	{"TLS_OFF_SKC_V6_RCV_SADDR", "sock_common", "skc_v6_rcv_saddr", KBTF_ADDR, 0},
};

_Static_assert(sizeof(members) / sizeof(members[0]) <= KBTF_NOFFSETS, "KBTF_NOFFSETS");

#define NMEMBERS (sizeof(members) / sizeof(members[0]))

void kbtf_offsets(const struct kbtf *btf, struct kbtf_offsets *o)
{
	size_t i;
	int g;

	memset(o, 0, sizeof(*o));
	for (g = 0; g < KBTF_NGROUPS; g++)
		o->ok[g] = true;
	for (i = 0; i < NMEMBERS; i++) {
		int id = find(btf, members[i].type, BTF_KIND_STRUCT);
		uint32_t type_id = 0;
		long off = id > 0 ? member_offset(btf, type_at(btf, (uint32_t)id),
						  members[i].member, 0, &type_id)
				  : -1;
		const struct btf_type *mt = off >= 0 ? resolve(btf, type_id) : NULL;

		if (mt && BTF_INFO_KIND(mt->info) == BTF_KIND_ARRAY) {
			long e = element_offset(btf, mt, members[i].elem);

			off = e >= 0 ? off + e : -1;
		}

		o->v[i] = off;
		if (off < 0 && o->ok[members[i].group]) {
			o->ok[members[i].group] = false;
			snprintf(o->why[members[i].group], sizeof(o->why[0]),
				 "the kernel's BTF has no struct %s with a member %s",
				 members[i].type, members[i].member);
		}
	}
	for (g = 1; g < KBTF_NGROUPS; g++) /* each reads a file's inode as FD does */
		if (o->ok[g] && !o->ok[KBTF_FD]) {
			o->ok[g] = false;
			snprintf(o->why[g], sizeof(o->why[0]), "%s", o->why[KBTF_FD]);
		}
	if (o->ok[KBTF_ADDR] && !o->ok[KBTF_SOCK]) { /* it reads the socket as SOCK does */
		o->ok[KBTF_ADDR] = false;
		snprintf(o->why[KBTF_ADDR], sizeof(o->why[0]), "%s", o->why[KBTF_SOCK]);
	}
}

long kbtf_offset_of(const struct kbtf_offsets *o, const char *type, const char *member)
{
	size_t i;

	for (i = 0; i < NMEMBERS; i++)
		if (strcmp(members[i].type, type) == 0 && strcmp(members[i].member, member) == 0)
			return o->v[i];
	return -1;
}

int kbtf_flags(const struct kbtf_offsets *o, char flags[][KBTF_FLAG_LEN], int max)
{
	size_t i;
	int n = 0;

	for (i = 0; i < NMEMBERS && n < max; i++)
		if (o->ok[members[i].group])
			snprintf(flags[n++], KBTF_FLAG_LEN, "-D%s=%ld", members[i].macro, o->v[i]);
	return n;
}
