/* SPDX-License-Identifier: Apache-2.0 */
/* module.c - a compiled module (libbcc's, or made from an image) and what it has: maps and
 * functions by name; its end */
#define _GNU_SOURCE
#include "tracer_bpf_int.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <bcc/bcc_common.h>
#include <bcc/bcc_version.h>
#include <bcc/libbpf.h>
#include <bcc/perf_reader.h>

struct table_desc *tb_table(const struct tracer_bpf *tb, const char *name)
{
	int i;

	for (i = 0; tb && i < tb->ntables; i++)
		if (strcmp(tb->tables[i].name, name) == 0)
			return &tb->tables[i];
	return NULL;
}

const struct func_desc *tb_func(const struct tracer_bpf *tb, const char *name)
{
	int i;

	for (i = 0; i < tb->nfuncs; i++)
		if (strcmp(tb->funcs[i].name, name) == 0)
			return &tb->funcs[i];
	return NULL;
}

/* The map fd of `table` as the programs and user space use it; -1 when there is none. */
int tb_table_fd(const struct tracer_bpf *tb, const char *table)
{
	const struct table_desc *t = tb_table(tb, table);

	return t ? t->fd : -1;
}

static bool same_shape(const struct table_desc *a, const struct table_desc *b)
{
	return a->type == b->type && a->key_size == b->key_size && a->leaf_size == b->leaf_size &&
	       a->max_entries == b->max_entries && a->flags == b->flags;
}

/* Takes over, by a dup of their fds, the maps of `prev` that have a twin in tb. */
static int share_maps(struct tracer_bpf *tb, const struct tracer_bpf *prev)
{
	int i, fd;

	for (i = 0; i < tb->ntables; i++) {
		struct table_desc *t = &tb->tables[i];
		const struct table_desc *p = tb_table(prev, t->name);

		/* a program array holds its own module's programs: never a later one's */
		if (!p || p->fd < 0 || !same_shape(t, p) || t->type == BPF_MAP_TYPE_PROG_ARRAY)
			continue;
		fd = fcntl(p->fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (t->owned && t->fd >= 0)
			close(t->fd);
		t->fd = fd;
		t->owned = t->shared = true;
	}
	return 0;
}

/* Copies what libbcc compiled (maps, functions, license) into tb's own descriptions. */
static int describe_module(struct tracer_bpf *tb)
{
	size_t id, ntables = bpf_num_tables(tb->mod), nfuncs = bpf_num_functions(tb->mod);

	tb->tables = calloc(ntables ? ntables : 1, sizeof(*tb->tables));
	tb->funcs = calloc(nfuncs ? nfuncs : 1, sizeof(*tb->funcs));
	tb->license = strdup(bpf_module_license(tb->mod) ? bpf_module_license(tb->mod) : "GPL");
	if (!tb->tables || !tb->funcs || !tb->license)
		return -ENOMEM;
	tb->kern_version = bpf_module_kern_version(tb->mod);
	for (id = 0; id < ntables; id++) {
		struct table_desc *t = &tb->tables[tb->ntables];
		const char *name = bpf_table_name(tb->mod, id);

		if (!name)
			continue;
		*t = (struct table_desc){
			.name = strdup(name),
			.type = (uint32_t)bpf_table_type_id(tb->mod, id),
			.key_size = (uint32_t)bpf_table_key_size_id(tb->mod, id),
			.leaf_size = (uint32_t)bpf_table_leaf_size_id(tb->mod, id),
			.max_entries = (uint32_t)bpf_table_max_entries_id(tb->mod, id),
			.flags = (uint32_t)bpf_table_flags_id(tb->mod, id),
			.ref_fd = bpf_table_fd_id(tb->mod, id),
		};
		t->fd = t->ref_fd;
		tb->ntables++;
		if (!t->name)
			return -ENOMEM;
	}
	for (id = 0; id < nfuncs; id++) {
		struct func_desc *f = &tb->funcs[tb->nfuncs];
		const char *name = bpf_function_name(tb->mod, id);
		const void *start = name ? bpf_function_start(tb->mod, name) : NULL;

		if (!start)
			continue;
		f->size = bpf_function_size(tb->mod, name);
		f->name = strdup(name);
		f->insns = malloc(f->size ? f->size : 1);
		tb->nfuncs++;
		if (!f->name || !f->insns)
			return -ENOMEM;
		memcpy(f->insns, start, f->size);
	}
	return 0;
}

int tracer_bpf__create(const char *source, const char *const *cflags, int ncflags,
		       const struct tracer_bpf *share, struct tracer_bpf **out)
{
	struct tracer_bpf *tb = calloc(1, sizeof(*tb));
	int err;

	if (!tb)
		return -ENOMEM;
	/* libbcc's prototype lacks const; it does not modify the flags. */
	tb->mod = bpf_module_create_c_from_string(source, 0, (const char **)cflags, ncflags, true,
						  NULL);
	if (!tb->mod) {
		free(tb);
		return -EINVAL;
	}
	err = describe_module(tb);
	if (!err && share)
		err = share_maps(tb, share);
	if (err) {
		tracer_bpf__destroy(tb);
		return err;
	}
	*out = tb;
	return 0;
}

/* Whether every 64-bit immediate load of f that refers to something is a map fd of tb's
 * tables (the one kind of reference an image can carry over to a module made from it). */
static bool refs_known(const struct tracer_bpf *tb, const struct func_desc *f)
{
	size_t i, n = f->size / sizeof(*f->insns);
	int k;

	for (i = 0; i + 1 < n; i++) {
		if (f->insns[i].code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		if (f->insns[i].src_reg != 0) {
			for (k = 0; k < tb->ntables && f->insns[i].imm != tb->tables[k].ref_fd; k++)
				;
			if (f->insns[i].src_reg != BPF_PSEUDO_MAP_FD || k == tb->ntables)
				return false;
		}
		i++; /* the immediate's second half */
	}
	return true;
}

int tracer_bpf__image(const struct tracer_bpf *tb, struct tracer_bpf_image *img)
{
	int i;

	for (i = 0; i < tb->nfuncs; i++)
		if (!refs_known(tb, &tb->funcs[i]))
			return -EOPNOTSUPP;

	memset(img, 0, sizeof(*img));
	img->tables = calloc(tb->ntables ? tb->ntables : 1, sizeof(*img->tables));
	img->funcs = calloc(tb->nfuncs ? tb->nfuncs : 1, sizeof(*img->funcs));
	if (!img->tables || !img->funcs) {
		tracer_bpf__image_free(img);
		return -ENOMEM;
	}
	snprintf(img->license, sizeof(img->license), "%s", tb->license);
	img->kern_version = tb->kern_version;
	for (i = 0; i < tb->ntables; i++) {
		const struct table_desc *t = &tb->tables[i];
		struct tracer_bpf_table *o = &img->tables[img->ntables];

		if (strlen(t->name) >= sizeof(o->name)) {
			tracer_bpf__image_free(img);
			return -ENAMETOOLONG;
		}
		strcpy(o->name, t->name);
		o->type = t->type;
		o->key_size = t->key_size;
		o->leaf_size = t->leaf_size;
		o->max_entries = t->max_entries;
		o->flags = t->flags;
		o->ref_fd = t->ref_fd;
		img->ntables++;
	}
	for (i = 0; i < tb->nfuncs; i++) {
		const struct func_desc *f = &tb->funcs[i];
		struct tracer_bpf_func *o = &img->funcs[img->nfuncs];

		if (strlen(f->name) >= sizeof(o->name)) {
			tracer_bpf__image_free(img);
			return -ENAMETOOLONG;
		}
		strcpy(o->name, f->name);
		o->size = (uint32_t)f->size;
		o->insns = f->insns;
		img->nfuncs++;
	}
	return 0;
}

void tracer_bpf__image_free(struct tracer_bpf_image *img)
{
	free(img->tables);
	free(img->funcs);
	memset(img, 0, sizeof(*img));
}

int tracer_bpf__create_from_image(const struct tracer_bpf_image *img,
				  const struct tracer_bpf *share, struct tracer_bpf **out)
{
	struct tracer_bpf *tb = calloc(1, sizeof(*tb));
	int i, err = 0;

	if (!tb)
		return -ENOMEM;
	tb->tables = calloc(img->ntables ? img->ntables : 1, sizeof(*tb->tables));
	tb->funcs = calloc(img->nfuncs ? img->nfuncs : 1, sizeof(*tb->funcs));
	tb->license = strndup(img->license, sizeof(img->license));
	tb->kern_version = img->kern_version;
	if (!tb->tables || !tb->funcs || !tb->license)
		err = -ENOMEM;
	for (i = 0; !err && i < img->ntables; i++) {
		const struct tracer_bpf_table *o = &img->tables[i];
		struct table_desc *t = &tb->tables[tb->ntables++];

		*t = (struct table_desc){.name = strndup(o->name, sizeof(o->name)),
					 .type = o->type,
					 .key_size = o->key_size,
					 .leaf_size = o->leaf_size,
					 .max_entries = o->max_entries,
					 .flags = o->flags,
					 .ref_fd = o->ref_fd,
					 .fd = -1};
		err = t->name ? 0 : -ENOMEM;
	}
	for (i = 0; !err && i < img->nfuncs; i++) {
		const struct tracer_bpf_func *o = &img->funcs[i];
		struct func_desc *f = &tb->funcs[tb->nfuncs++];

		f->name = strndup(o->name, sizeof(o->name));
		f->size = o->size;
		f->insns = malloc(o->size ? o->size : 1);
		err = f->name && f->insns ? 0 : -ENOMEM;
		if (!err)
			memcpy(f->insns, o->insns, o->size);
	}
	if (!err && share)
		err = share_maps(tb, share);
	/* The maps not shared are made as libbcc made them. */
	for (i = 0; !err && i < tb->ntables; i++) {
		struct table_desc *t = &tb->tables[i];

		if (t->fd >= 0)
			continue;
		errno = 0;
		t->fd = bcc_create_map((enum bpf_map_type)t->type, t->name, (int)t->key_size,
				       (int)t->leaf_size, (int)t->max_entries, (int)t->flags);
		if (t->fd < 0)
			err = errno ? -errno : -EINVAL;
		t->owned = t->fd >= 0;
	}
	if (err) {
		tracer_bpf__destroy(tb);
		return err;
	}
	*out = tb;
	return 0;
}

int tracer_bpf__compiler_id(char *buf, size_t len)
{
	Dl_info info;
	struct stat st;

	/* The library file itself: a libbcc upgraded in place is another compiler. */
	if (dladdr((void *)bpf_module_create_c_from_string, &info) && info.dli_fname &&
	    stat(info.dli_fname, &st) == 0)
		snprintf(buf, len, "libbcc %s %s %lld %lld", LIBBCC_VERSION, info.dli_fname,
			 (long long)st.st_size, (long long)st.st_mtime);
	else
		snprintf(buf, len, "libbcc %s", LIBBCC_VERSION);
	return 0;
}

int tracer_bpf__set_source_dir(struct tracer_bpf *tb, const char *dir)
{
	char *copy = strdup(dir);

	if (!copy)
		return -ENOMEM;
	free(tb->src_dir);
	tb->src_dir = copy;
	return 0;
}

bool tracer_bpf__table_shared(const struct tracer_bpf *tb, const char *table)
{
	const struct table_desc *t = tb_table(tb, table);

	return t && t->shared;
}

bool tracer_bpf__has_function(const struct tracer_bpf *tb, const char *fn)
{
	return tb_func(tb, fn) != NULL;
}

bool tracer_bpf__has_table(const struct tracer_bpf *tb, const char *table)
{
	return tb_table_fd(tb, table) >= 0;
}

/*
 * A copy of function f's instructions with every map reference (a 64-bit immediate load of
 * a map fd) turned to the fd used for that map (shared, or made from an image). NULL when
 * out of memory.
 */
struct bpf_insn *tb_relocated_insns(const struct tracer_bpf *tb, const struct func_desc *f)
{
	struct bpf_insn *insns = malloc(f->size ? f->size : 1);
	size_t i, n = f->size / sizeof(*insns);
	int k;

	if (!insns)
		return NULL;
	memcpy(insns, f->insns, f->size);
	for (i = 0; i + 1 < n; i++) {
		if (insns[i].code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		for (k = 0; insns[i].src_reg == BPF_PSEUDO_MAP_FD && k < tb->ntables; k++)
			if (insns[i].imm == tb->tables[k].ref_fd) {
				insns[i].imm = tb->tables[k].fd;
				break;
			}
		i++; /* the immediate's second half */
	}
	return insns;
}

int tracer_bpf__functions(const struct tracer_bpf *tb, const char **names, int max)
{
	int i;

	for (i = 0; i < tb->nfuncs && i < max; i++)
		names[i] = tb->funcs[i].name;
	return tb->nfuncs;
}

int tracer_bpf__tables(const struct tracer_bpf *tb, const char **names, int max)
{
	int i;

	for (i = 0; i < tb->ntables && i < max; i++)
		names[i] = tb->tables[i].name;
	return tb->ntables;
}

int tracer_bpf__destroy(struct tracer_bpf *tb)
{
	char msg[256];
	int i, err;

	if (!tb)
		return 0;
	err = tracer_bpf__detach_all(tb, msg, sizeof(msg));
	for (i = 0; i < tb->nreaders; i++) {
		perf_reader_free(tb->readers[i]);
		free(tb->reader_ctxs[i]);
	}
	for (i = 0; i < tb->nprogs; i++) {
		close(tb->progs[i].fd);
		free(tb->progs[i].name);
	}
	for (i = 0; i < tb->ntables; i++) {
		if (tb->tables[i].owned)
			close(tb->tables[i].fd);
		free(tb->tables[i].name);
	}
	free(tb->tables);
	for (i = 0; i < tb->nfuncs; i++) {
		free(tb->funcs[i].name);
		free(tb->funcs[i].insns);
	}
	free(tb->funcs);
	free(tb->license);
	free(tb->src_dir);
	if (tb->mod)
		bpf_module_destroy(tb->mod);
	free(tb->readers);
	free(tb->reader_ctxs);
	free(tb->probes);
	free(tb->progs);
	free(tb);
	return err;
}
