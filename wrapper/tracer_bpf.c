/* tracer_bpf.c - a thin, owning C wrapper over libbcc's C API */
#define _GNU_SOURCE
#include "tracer_bpf.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bcc/bcc_common.h>
#include <bcc/bcc_version.h>
#include <bcc/libbpf.h>
#include <bcc/perf_reader.h>

struct loaded_prog {
	char *name;
	int attach_type; /* expected_attach_type it was loaded with: ATTACH_PERF or multi */
	int fd;
};

/* bookworm's linux/bpf.h (6.1) predates uprobe_multi links (Linux 6.6): their numbers from
 * the kernel's UAPI, and BPF_LINK_CREATE's attr as 6.6 lays it out. */
#define ATTACH_PERF 0		      /* loaded for a perf event (any expected type) */
#define ATTACH_UPROBE_MULTI 48	      /* BPF_TRACE_UPROBE_MULTI */
#define UPROBE_MULTI_RETURN (1U << 0) /* BPF_F_UPROBE_MULTI_RETURN */

struct uprobe_multi_attr {
	uint32_t prog_fd, target_fd, attach_type, flags;
	uint64_t path, offsets, ref_ctr_offsets, cookies;
	uint32_t cnt, multi_flags, pid;
	uint32_t pad;
};

/* A uprobe (a uprobe_multi link; or a perf event + a BPF link carrying the cookie) or a
 * tracepoint (a perf event). */
struct attached_probe {
	char what[96]; /* for messages */
	int perf_fd;   /* -1 for a uprobe_multi link */
	int link_fd;   /* -1 for tracepoints */
	int pid;       /* the process it fires in; -1: every process */
};

/* One CPU's reader of one perf buffer table, with that table's callbacks. */
struct reader_ctx {
	tracer_bpf_sample_fn sample;
	tracer_bpf_lost_fn lost;
	void *ctx;
	int cpu;
	char table[64];
};

/* Readers taken out of a module, served by tracer_bpf__poll_readers alone. */
struct tracer_bpf_readers {
	struct perf_reader **readers;
	struct reader_ctx **reader_ctxs;
	int n;
};

/*
 * A map of the module: its shape, the fd its programs' instructions name (ref_fd) and the
 * fd used for it (fd). The same for a map libbcc made; when `shared`, a dup of an earlier
 * module's map (tracer_bpf__create's `share`); for a module made from an image, a map made
 * here. `owned`: fd is closed with the module.
 */
struct table_desc {
	char *name;
	uint32_t type, key_size, leaf_size, max_entries, flags;
	int ref_fd, fd;
	bool owned, shared;
};

/* A BPF function of the module: its instructions as compiled (map references: ref_fd). */
struct func_desc {
	char *name;
	struct bpf_insn *insns;
	size_t size; /* bytes */
};

struct tracer_bpf {
	void *mod;     /* libbcc's module; NULL when made from an image */
	char *src_dir; /* where the sources are, to name them in verifier errors; NULL none */
	struct table_desc *tables;
	int ntables;
	struct func_desc *funcs;
	int nfuncs;
	char *license;
	unsigned kern_version;
	struct loaded_prog *progs;
	int nprogs;
	struct attached_probe *probes;
	int nprobes;
	struct perf_reader **readers;
	struct reader_ctx **reader_ctxs;
	int nreaders;
	int uprobe_type;	/* the uprobe PMU's perf type, read on first attach */
	int retprobe_bit;	/* its config bit that makes a return probe */
	int multi;		/* uprobe_multi links: 0 not tried yet, 1 work, -1 not here */
	struct reaper *reapers; /* threads closing the probes of processes gone */
};

static struct table_desc *find_table(const struct tracer_bpf *tb, const char *name)
{
	int i;

	for (i = 0; tb && i < tb->ntables; i++)
		if (strcmp(tb->tables[i].name, name) == 0)
			return &tb->tables[i];
	return NULL;
}

static const struct func_desc *find_func(const struct tracer_bpf *tb, const char *name)
{
	int i;

	for (i = 0; i < tb->nfuncs; i++)
		if (strcmp(tb->funcs[i].name, name) == 0)
			return &tb->funcs[i];
	return NULL;
}

/* The map fd of `table` as the programs and user space use it; -1 when there is none. */
static int table_fd(const struct tracer_bpf *tb, const char *table)
{
	const struct table_desc *t = find_table(tb, table);

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
		const struct table_desc *p = find_table(prev, t->name);

		if (!p || p->fd < 0 || !same_shape(t, p))
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

int tracer_bpf__image(const struct tracer_bpf *tb, struct tracer_bpf_image *img)
{
	int i;

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
	const struct table_desc *t = find_table(tb, table);

	return t && t->shared;
}

bool tracer_bpf__has_function(const struct tracer_bpf *tb, const char *fn)
{
	return find_func(tb, fn) != NULL;
}

bool tracer_bpf__has_table(const struct tracer_bpf *tb, const char *table)
{
	return table_fd(tb, table) >= 0;
}

/*
 * A copy of function f's instructions with every map reference (a 64-bit immediate load of
 * a map fd) turned to the fd used for that map (shared, or made from an image). NULL when
 * out of memory.
 */
static struct bpf_insn *relocated_insns(const struct tracer_bpf *tb, const struct func_desc *f)
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

int tracer_bpf__verifier_summary(const char *log, char *where, size_t wherelen, char *why,
				 size_t whylen)
{
	char line[512], *at, *colon;
	const char *p, *next;
	size_t len;

	where[0] = why[0] = '\0';
	for (p = log; p && *p; p = next) {
		next = strchr(p, '\n');
		len = next ? (size_t)(next++ - p) : strlen(p);
		if (len >= sizeof(line))
			continue; /* register states: not what is looked for */
		memcpy(line, p, len);
		line[len] = '\0';
		if (strncmp(line, "processed ", 10) == 0)
			break;
		if (line[0] == ';') {
			/* "; <source> @ file.c:12": where the instructions below come from (line
			 * 0: the compiler's own, no source line) */
			at = strstr(line, " @ ");
			colon = at ? strrchr(at, ':') : NULL;
			if (colon && strtoul(colon + 1, NULL, 10) > 0 && strlen(at + 3) < wherelen)
				strcpy(where, at + 3);
		} else if (len && !isdigit((unsigned char)line[0]) && len < whylen) {
			strcpy(why,
			       line); /* the complaint: the last such line before "processed" */
		}
	}
	return where[0] && why[0] ? 0 : -ENOENT;
}

#define VERIFIER_LOG_SIZE (1 << 20)

/* Says why the kernel refused `fn`: where in the source the verifier stopped, when its log
 * tells, in the source directory when the file is there. */
static void load_error(const struct tracer_bpf *tb, const char *fn, int e, const char *log,
		       char *err, size_t errlen)
{
	char where[256], why[256], path[PATH_MAX];
	const char *dir = "";

	if (e == EACCES && log &&
	    tracer_bpf__verifier_summary(log, where, sizeof(where), why, sizeof(why)) == 0) {
		snprintf(path, sizeof(path), "%s/%.*s", tb->src_dir ? tb->src_dir : "",
			 (int)strcspn(where, ":"), where);
		if (tb->src_dir && !strchr(where, '/') && access(path, F_OK) == 0)
			dir = tb->src_dir;
		snprintf(err, errlen, "%s%s%s: the verifier rejected BPF function '%s': %s", dir,
			 dir[0] ? "/" : "", where, fn, why);
	} else {
		snprintf(err, errlen, "failed to load BPF function '%s': %s%s", fn, strerror(e),
			 e == EPERM ? " (needs root or CAP_BPF + CAP_PERFMON)" : "");
	}
}

#define VERIFIER_LOG_TAIL 12 /* lines of a refusing verifier's log shown */

/* libbcc prints a refused program's whole verifier log (thousands of lines for a big
 * function): its stderr goes to /dev/null while it loads, and the log's end is shown. */
static int mute_stderr(void)
{
	int saved, null;

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved >= 0 && null >= 0)
		dup2(null, STDERR_FILENO);
	if (null >= 0)
		close(null);
	return saved;
}

static void unmute_stderr(int saved)
{
	if (saved < 0)
		return;
	dup2(saved, STDERR_FILENO);
	close(saved);
}

/* The last VERIFIER_LOG_TAIL lines of a verifier log, indented, on stderr. */
static void show_log_tail(const char *fn, const char *log)
{
	const char *p = log + strlen(log), *start;
	int lines = 0, total = 0, i;

	while (p > log && p[-1] == '\n')
		p--;
	for (i = 0; log + i < p; i++)
		total += log[i] == '\n';
	total += p > log;
	for (start = p; start > log; start--)
		if (start[-1] == '\n' && ++lines == VERIFIER_LOG_TAIL)
			break;
	if (p == log)
		return;
	fprintf(stderr, "verifier log, last %d of %d lines, of BPF function '%s':\n",
		total < VERIFIER_LOG_TAIL ? total : VERIFIER_LOG_TAIL, total, fn);
	while (start < p) {
		const char *nl = memchr(start, '\n', (size_t)(p - start));
		size_t len = nl ? (size_t)(nl - start) : (size_t)(p - start);

		fprintf(stderr, "  %.*s\n", (int)len, start);
		start += len + 1;
	}
}

/*
 * Loads instructions without libbcc (a module made from an image): BPF_PROG_LOAD, and on
 * failure again with a log to tell why. Returns the fd, or -1 with errno set.
 */
static int load_raw(const struct tracer_bpf *tb, int prog_type, const char *fn,
		    const struct bpf_insn *insns, size_t size, int attach_type, char *log,
		    size_t loglen)
{
	union bpf_attr attr;
	int fd, e;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = (uint32_t)prog_type;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)(size / sizeof(*insns));
	attr.license = (uint64_t)(uintptr_t)tb->license;
	attr.kern_version = tb->kern_version;
	attr.expected_attach_type = (uint32_t)attach_type;
	snprintf(attr.prog_name, sizeof(attr.prog_name), "%s", fn); /* as libbcc names it */
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (fd >= 0 || (errno != EACCES && errno != EINVAL))
		return fd;
	e = errno;
	attr.log_level = 1;
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = (uint32_t)loglen;
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (fd < 0 && errno == ENOSPC) /* a log too long for the buffer: the first answer */
		errno = e;
	return fd;
}

/* Returns the program fd of `fn` for attach type `attach_type`, loading it on first use. */
static int load_prog(struct tracer_bpf *tb, const char *fn, int prog_type, int attach_type,
		     char *err, size_t errlen)
{
	const struct func_desc *f = find_func(tb, fn);
	struct loaded_prog *grown;
	struct bpf_insn *insns;
	char *log;
	int fd, i, e, saved;

	for (i = 0; i < tb->nprogs; i++)
		if (strcmp(tb->progs[i].name, fn) == 0 && tb->progs[i].attach_type == attach_type)
			return tb->progs[i].fd;

	if (!f) {
		snprintf(err, errlen, "BPF function '%s' is not defined in bpf_src", fn);
		return -ENOENT;
	}
	insns = relocated_insns(tb, f);
	log = malloc(VERIFIER_LOG_SIZE); /* filled only on failure */
	if (!insns || !log) {
		free(insns);
		free(log);
		snprintf(err, errlen, "out of memory loading '%s'", fn);
		return -ENOMEM;
	}
	log[0] = '\0';
	saved = mute_stderr();
	errno = 0;
	if (tb->mod) /* libbcc adds the sources' line info (BTF), for the verifier's messages */
		fd = bcc_func_load(tb->mod, prog_type, fn, insns, (int)f->size, tb->license,
				   tb->kern_version, 0, log, VERIFIER_LOG_SIZE, NULL, attach_type);
	else
		fd = load_raw(tb, prog_type, fn, insns, f->size, attach_type, log,
			      VERIFIER_LOG_SIZE);
	e = errno ? errno : EINVAL;
	unmute_stderr(saved);
	if (fd < 0) {
		show_log_tail(fn, log);
		load_error(tb, fn, e, log, err, errlen);
		free(insns);
		free(log);
		return -e;
	}
	free(insns);
	free(log);
	grown = realloc(tb->progs, (tb->nprogs + 1) * sizeof(*grown));
	if (!grown || !(grown[tb->nprogs].name = strdup(fn))) {
		tb->progs = grown ? grown : tb->progs;
		close(fd);
		snprintf(err, errlen, "out of memory loading '%s'", fn);
		return -ENOMEM;
	}
	tb->progs = grown;
	tb->progs[tb->nprogs].attach_type = attach_type;
	tb->progs[tb->nprogs++].fd = fd;
	return fd;
}

int tracer_bpf__load(struct tracer_bpf *tb, const char *fn, bool tracepoint, char *err,
		     size_t errlen)
{
	int fd = load_prog(tb, fn, tracepoint ? BPF_PROG_TYPE_TRACEPOINT : BPF_PROG_TYPE_KPROBE,
			   ATTACH_PERF, err, errlen);

	return fd < 0 ? fd : 0;
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

/* Reads one integer after `prefix` from a sysfs file ("8", "config:0"). */
static int read_sysfs_int(const char *path, const char *prefix, int *out)
{
	char buf[64];
	FILE *f = fopen(path, "re");
	int ok;

	if (!f)
		return -errno;
	ok = fgets(buf, sizeof(buf), f) && strncmp(buf, prefix, strlen(prefix)) == 0 &&
	     sscanf(buf + strlen(prefix), "%d", out) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static struct attached_probe *new_probe(struct tracer_bpf *tb)
{
	struct attached_probe *grown = realloc(tb->probes, (tb->nprobes + 1) * sizeof(*grown));

	if (!grown)
		return NULL;
	tb->probes = grown;
	return &tb->probes[tb->nprobes];
}

/* The uprobe PMU (perf_event_open type and return-probe bit), read once. */
static int uprobe_pmu(struct tracer_bpf *tb, char *err, size_t errlen)
{
	const char *dir = "/sys/bus/event_source/devices/uprobe";
	char path[128];
	int e;

	if (tb->uprobe_type > 0)
		return 0;
	snprintf(path, sizeof(path), "%s/type", dir);
	e = read_sysfs_int(path, "", &tb->uprobe_type);
	if (!e) {
		snprintf(path, sizeof(path), "%s/format/retprobe", dir);
		e = read_sysfs_int(path, "config:", &tb->retprobe_bit);
	}
	if (e)
		snprintf(err, errlen, "the kernel has no uprobe PMU (%s: %s)", path, strerror(-e));
	return e;
}

/*
 * A uprobe_multi link of one probe (Linux 6.6+): the kernel filters by process itself (no
 * breakpoint in another process's memory), and releasing the link waits one grace period
 * that other links' releases share, where a perf uprobe's waits under a global mutex.
 * Returns the link fd or -errno.
 */
static int link_uprobe_multi(int prog_fd, const char *binary, uint64_t offset, bool retprobe,
			     int pid, uint64_t cookie)
{
	struct uprobe_multi_attr attr = {
		.prog_fd = (uint32_t)prog_fd,
		.attach_type = ATTACH_UPROBE_MULTI,
		.path = (uint64_t)(uintptr_t)binary,
		.offsets = (uint64_t)(uintptr_t)&offset,
		.cookies = (uint64_t)(uintptr_t)&cookie,
		.cnt = 1,
		.multi_flags = retprobe ? UPROBE_MULTI_RETURN : 0,
		.pid = pid > 0 ? (uint32_t)pid : 0,
	};
	int fd = (int)syscall(SYS_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));

	return fd < 0 ? -errno : fd;
}

/* The older way (Linux 4.17+): a uprobe perf event (pid -1: every process, on CPU 0; the
 * program runs on all CPUs), then a BPF link that hands the program `cookie`. */
static int attach_perf_uprobe(struct tracer_bpf *tb, struct attached_probe *p, int prog_fd,
			      const char *binary, uint64_t offset, bool retprobe, int pid,
			      uint64_t cookie)
{
	struct perf_event_attr attr = {0};
	union bpf_attr link = {0};

	attr.size = sizeof(attr);
	attr.type = (uint32_t)tb->uprobe_type;
	attr.config = retprobe ? 1ULL << tb->retprobe_bit : 0;
	attr.config1 = (uint64_t)(uintptr_t)binary;
	attr.config2 = offset;
	attr.sample_period = 1;
	p->perf_fd = (int)syscall(SYS_perf_event_open, &attr, pid, pid == -1 ? 0 : -1, -1,
				  PERF_FLAG_FD_CLOEXEC);
	if (p->perf_fd < 0)
		return -errno;
	link.link_create.prog_fd = (uint32_t)prog_fd;
	link.link_create.target_fd = (uint32_t)p->perf_fd;
	link.link_create.attach_type = BPF_PERF_EVENT;
	link.link_create.perf_event.bpf_cookie = cookie;
	p->link_fd = (int)syscall(SYS_bpf, BPF_LINK_CREATE, &link, sizeof(link));
	if (p->link_fd < 0) {
		int e = errno;

		close(p->perf_fd);
		return -e;
	}
	return 0;
}

int tracer_bpf__attach_uprobe(struct tracer_bpf *tb, const char *fn, const char *binary,
			      uint64_t offset, bool retprobe, int pid, uint64_t cookie, char *err,
			      size_t errlen)
{
	struct attached_probe *p;
	int prog_fd, e = 0;

	p = new_probe(tb);
	if (!p) {
		snprintf(err, errlen, "out of memory attaching '%s'", fn);
		return -ENOMEM;
	}
	snprintf(p->what, sizeof(p->what), "%s at 0x%llx", fn, (unsigned long long)offset);
	p->perf_fd = p->link_fd = -1;
	p->pid = pid > 0 ? pid : -1;
	if (tb->multi >= 0) {
		prog_fd = load_prog(tb, fn, BPF_PROG_TYPE_KPROBE, ATTACH_UPROBE_MULTI, err, errlen);
		if (prog_fd < 0)
			return prog_fd;
		e = link_uprobe_multi(prog_fd, binary, offset, retprobe, pid, cookie);
		/* A kernel before 6.6 refuses the attach type: perf uprobes from now on. */
		if (tb->multi == 0 && (e == -EINVAL || e == -EOPNOTSUPP || e == -ENOSYS))
			tb->multi = -1;
		else if (e >= 0)
			tb->multi = 1;
		p->link_fd = e >= 0 ? e : -1;
	}
	if (tb->multi < 0) {
		prog_fd = load_prog(tb, fn, BPF_PROG_TYPE_KPROBE, ATTACH_PERF, err, errlen);
		if (prog_fd < 0)
			return prog_fd;
		e = uprobe_pmu(tb, err, errlen);
		if (e)
			return e;
		e = attach_perf_uprobe(tb, p, prog_fd, binary, offset, retprobe, pid, cookie);
	}
	if (e < 0) {
		snprintf(err, errlen, "failed to attach %s '%s' at offset 0x%llx of '%s': %s%s",
			 retprobe ? "uretprobe" : "uprobe", fn, (unsigned long long)offset, binary,
			 strerror(-e), e == -EPERM ? " (needs root or CAP_BPF + CAP_PERFMON)" : "");
		return e;
	}
	tb->nprobes++;
	return 0;
}

int tracer_bpf__attach_tracepoint(struct tracer_bpf *tb, const char *fn, const char *category,
				  const char *event, char *err, size_t errlen)
{
	struct attached_probe *p;
	int prog_fd, pfd;

	prog_fd = load_prog(tb, fn, BPF_PROG_TYPE_TRACEPOINT, ATTACH_PERF, err, errlen);
	if (prog_fd < 0)
		return prog_fd;
	p = new_probe(tb);
	if (!p) {
		snprintf(err, errlen, "out of memory attaching '%s'", fn);
		return -ENOMEM;
	}
	errno = 0;
	pfd = bpf_attach_tracepoint(prog_fd, category, event);
	if (pfd < 0) {
		int e = errno ? errno : EINVAL;

		snprintf(err, errlen, "failed to attach '%s' to tracepoint %s:%s: %s", fn, category,
			 event, strerror(e));
		return -e;
	}
	snprintf(p->what, sizeof(p->what), "%s on %s:%s", fn, category, event);
	p->perf_fd = pfd;
	p->link_fd = -1;
	p->pid = -1;
	tb->nprobes++;
	return 0;
}

int tracer_bpf__attached(const struct tracer_bpf *tb)
{
	return tb->nprobes;
}

static void on_sample(void *cookie, void *raw, int size)
{
	struct reader_ctx *rc = cookie;

	rc->sample(rc->ctx, rc->cpu, raw, size);
}

static void on_lost(void *cookie, uint64_t count)
{
	struct reader_ctx *rc = cookie;

	rc->lost(rc->ctx, rc->cpu, count);
}

/* Parses a CPU list file such as /sys/devices/system/cpu/online ("0-3,5") into a bitmap of
 * up to `max` CPUs. Returns the number of CPUs listed or -errno. */
static int read_cpu_list(const char *path, bool *online, int max)
{
	char buf[256], *p;
	FILE *f = fopen(path, "re");
	int n = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	for (p = buf; *p && *p != '\n';) {
		char *end;
		long lo = strtol(p, &end, 10), hi = lo;

		if (end == p)
			return -EINVAL;
		if (*end == '-')
			hi = strtol(end + 1, &end, 10);
		for (; lo <= hi && lo < max; lo++, n++)
			online[lo] = true;
		p = *end == ',' ? end + 1 : end;
	}
	return n;
}

int tracer_bpf__open_perf_buffer(struct tracer_bpf *tb, const char *table, int page_cnt,
				 int wakeup_events, tracer_bpf_sample_fn sample,
				 tracer_bpf_lost_fn lost, void *ctx)
{
	int ncpus = (int)sysconf(_SC_NPROCESSORS_CONF);
	int map_fd = table_fd(tb, table);
	struct perf_reader **readers;
	struct reader_ctx **rcs;
	bool *online;
	int cpu, err = 0;

	if (map_fd < 0) {
		fprintf(stderr, "no perf buffer table '%s' in bpf_src\n", table);
		return -ENOENT;
	}
	if (!sample || !lost || ncpus <= 0)
		return -EINVAL;
	online = calloc(ncpus, sizeof(*online));
	readers = realloc(tb->readers, (tb->nreaders + ncpus) * sizeof(*readers));
	if (readers)
		tb->readers = readers;
	rcs = realloc(tb->reader_ctxs, (tb->nreaders + ncpus) * sizeof(*rcs));
	if (rcs)
		tb->reader_ctxs = rcs;
	if (!online || !readers || !rcs) {
		err = -ENOMEM;
		goto out;
	}
	err = read_cpu_list("/sys/devices/system/cpu/online", online, ncpus);
	if (err < 0) {
		fprintf(stderr, "failed to read the online CPUs: %s\n", strerror(-err));
		goto out;
	}
	err = 0;
	for (cpu = 0; cpu < ncpus; cpu++) {
		struct bcc_perf_buffer_opts opts = {
			.pid = -1, .cpu = cpu, .wakeup_events = wakeup_events};
		struct reader_ctx *rc;
		struct perf_reader *r;
		int fd;

		if (!online[cpu])
			continue;
		rc = calloc(1, sizeof(*rc));
		if (!rc) {
			err = -ENOMEM;
			goto out;
		}
		*rc = (struct reader_ctx){.sample = sample, .lost = lost, .ctx = ctx, .cpu = cpu};
		snprintf(rc->table, sizeof(rc->table), "%s", table);
		errno = 0;
		r = bpf_open_perf_buffer_opts(on_sample, on_lost, rc, page_cnt, &opts);
		if (!r) {
			err = errno ? -errno : -EINVAL;
			free(rc);
			fprintf(stderr,
				"failed to open the perf buffer '%s' of CPU %d (%d pages): %s\n",
				table, cpu, page_cnt, strerror(-err));
			goto out;
		}
		tb->reader_ctxs[tb->nreaders] = rc;
		tb->readers[tb->nreaders++] = r;
		fd = perf_reader_fd(r);
		if (bpf_update_elem(map_fd, &cpu, &fd, 0) < 0) {
			err = -errno;
			fprintf(stderr,
				"failed to register the perf buffer of CPU %d in '%s': %s\n", cpu,
				table, strerror(errno));
			goto out;
		}
	}
out:
	free(online);
	return err;
}

/* Number of values the kernel returns for a per-CPU map: one per possible CPU. */
static int possible_cpus(void)
{
	int ncpus = (int)sysconf(_SC_NPROCESSORS_CONF), nposs, cpu;
	bool *possible;

	if (ncpus <= 0)
		return -EINVAL;
	possible = calloc(ncpus, sizeof(*possible));
	if (!possible)
		return -ENOMEM;
	nposs = read_cpu_list("/sys/devices/system/cpu/possible", possible, ncpus);
	for (cpu = ncpus - 1; nposs > 0 && cpu >= 0 && !possible[cpu]; cpu--)
		;
	free(possible);
	return nposs > 0 ? cpu + 1 : ncpus;
}

int tracer_bpf__sum_percpu(struct tracer_bpf *tb, const char *table, tracer_bpf_sums_fn fn,
			   void *ctx)
{
	const struct table_desc *t = find_table(tb, table);
	int fd = t ? t->fd : -1, nposs = possible_cpus(), n, cpu, i, err = 0;
	size_t leaf = t ? t->leaf_size : 0;
	uint64_t *values = NULL, *sums = NULL;
	uint32_t key, next;
	bool more;

	if (fd < 0)
		return -ENOENT;
	if (nposs < 0)
		return nposs;
	n = (int)(leaf / sizeof(uint64_t));
	if (n <= 0 || leaf % sizeof(uint64_t) || t->key_size != sizeof(key))
		return -EINVAL;
	values = calloc((size_t)nposs * n, sizeof(*values));
	sums = calloc(n, sizeof(*sums));
	if (!values || !sums) {
		err = -ENOMEM;
		goto out;
	}
	for (more = bpf_get_first_key(fd, &key, sizeof(key)) == 0; more;
	     more = bpf_get_next_key(fd, &key, &next) == 0, key = next) {
		if (bpf_lookup_elem(fd, &key, values) != 0) {
			if (errno == ENOENT) /* deleted while walking */
				continue;
			err = -errno;
			break;
		}
		memset(sums, 0, (size_t)n * sizeof(*sums));
		for (cpu = 0; cpu < nposs; cpu++)
			for (i = 0; i < n; i++)
				sums[i] += values[(size_t)cpu * n + i];
		fn(ctx, key, sums, n);
	}
out:
	free(values);
	free(sums);
	return err;
}

int tracer_bpf__update_key(struct tracer_bpf *tb, const char *table, const void *key,
			   size_t key_size, const void *value, size_t size)
{
	const struct table_desc *t = find_table(tb, table);
	int fd = t ? t->fd : -1, type = t ? (int)t->type : -1;
	bool percpu = type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY;
	int ncopies = percpu ? possible_cpus() : 1, cpu, err;
	size_t stride = percpu ? (size + 7) / 8 * 8 : size;
	char *values;

	if (fd < 0)
		return -ENOENT;
	if (ncopies < 0)
		return ncopies;
	if (t->leaf_size != size || t->key_size != key_size)
		return -EINVAL;
	/* A per-CPU map takes one value per possible CPU, each 8-byte aligned. */
	values = calloc(ncopies, stride);
	if (!values)
		return -ENOMEM;
	for (cpu = 0; cpu < ncopies; cpu++)
		memcpy(values + (size_t)cpu * stride, value, size);
	err = bpf_update_elem(fd, (void *)key, values, BPF_ANY) ? -errno : 0;
	free(values);
	return err;
}

int tracer_bpf__update(struct tracer_bpf *tb, const char *table, uint32_t key, const void *value,
		       size_t size)
{
	return tracer_bpf__update_key(tb, table, &key, sizeof(key), value, size);
}

int tracer_bpf__delete_key(struct tracer_bpf *tb, const char *table, const void *key,
			   size_t key_size)
{
	const struct table_desc *t = find_table(tb, table);

	if (!t || t->fd < 0)
		return -ENOENT;
	if (t->key_size != key_size)
		return -EINVAL;
	return bpf_delete_elem(t->fd, (void *)key) ? -errno : 0;
}

int tracer_bpf__delete(struct tracer_bpf *tb, const char *table, uint32_t key)
{
	return tracer_bpf__delete_key(tb, table, &key, sizeof(key));
}

int tracer_bpf__keys(struct tracer_bpf *tb, const char *table, uint32_t *keys, int max)
{
	const struct table_desc *t = find_table(tb, table);
	int fd = t ? t->fd : -1, n = 0;
	uint32_t key, next;
	bool more;

	if (fd < 0)
		return -ENOENT;
	if (t->key_size != sizeof(key))
		return -EINVAL;
	for (more = bpf_get_first_key(fd, &key, sizeof(key)) == 0; more && n < max;
	     more = bpf_get_next_key(fd, &key, &next) == 0, key = next)
		keys[n++] = key;
	return n;
}

int tracer_bpf__poll(struct tracer_bpf *tb, int timeout_ms)
{
	if (!tb->nreaders)
		return -EINVAL;
	perf_reader_poll(tb->nreaders, tb->readers, timeout_ms);
	perf_reader_consume(tb->nreaders, tb->readers);
	return 0;
}

/* Closes one probe's fds; returns 0 or the errno of the close that failed. */
static int close_probe(const struct attached_probe *p)
{
	int e = 0;

	if (p->link_fd >= 0 && close(p->link_fd) != 0)
		e = errno;
	if (p->perf_fd >= 0 && bpf_close_perf_event_fd(p->perf_fd) != 0 && !e)
		e = errno ? errno : EIO;
	return e;
}

/* One closing thread's share of the probes: every `stride`-th from `first`. */
struct closer {
	const struct attached_probe *probes;
	int *errs;
	int n, first, stride;
	bool running; /* on a thread of its own, to be joined */
	pthread_t thread;
};

static void *close_share(void *arg)
{
	struct closer *c = arg;
	int i;

	for (i = c->first; i < c->n; i += c->stride)
		c->errs[i] = close_probe(&c->probes[i]);
	return NULL;
}

/*
 * The kernel waits for an RCU grace period as it releases each uprobe and each tracepoint's
 * last perf event (~0.1 s here): closed one after another, 67 probes took 6-7 s. Closed from
 * up to DETACH_THREADS threads at once, their grace periods overlap.
 */
#define DETACH_THREADS 64

/* Closes the probes `sel` (n of them) from up to DETACH_THREADS threads; reports each
 * failure. Returns 0 or the first -errno. */
static int close_probes(const struct attached_probe *sel, int n)
{
	struct closer c[DETACH_THREADS];
	int nthreads = n < DETACH_THREADS ? n : DETACH_THREADS, i, err = 0;
	int *errs = calloc(n ? n : 1, sizeof(*errs));

	if (!errs)
		return -ENOMEM;
	for (i = 0; i < nthreads; i++) {
		c[i] = (struct closer){
			.probes = sel, .errs = errs, .n = n, .first = i, .stride = nthreads};
		c[i].running = pthread_create(&c[i].thread, NULL, close_share, &c[i]) == 0;
		if (!c[i].running)
			close_share(&c[i]); /* no thread: this one closes that share */
	}
	for (i = 0; i < nthreads; i++)
		if (c[i].running)
			pthread_join(c[i].thread, NULL);
	for (i = 0; i < n; i++)
		if (errs[i]) {
			fprintf(stderr, "failed to detach %s: %s\n", sel[i].what,
				strerror(errs[i]));
			err = err ? err : -errs[i];
		}
	free(errs);
	return err;
}

/* A thread of its own closing probes (those of a process that exited), so the caller does
 * not wait out their grace periods; joined when it is done, or by destroy. */
struct reaper {
	pthread_t thread;
	struct attached_probe *sel;
	int n;
	atomic_bool done;
	struct reaper *next;
};

static void *reap(void *arg)
{
	struct reaper *r = arg;

	close_probes(r->sel, r->n);
	atomic_store(&r->done, true);
	return NULL;
}

/* Joins the reapers that are done (all of them, waiting, when `all`). */
static void join_reapers(struct tracer_bpf *tb, bool all)
{
	struct reaper **pp = &tb->reapers, *r;

	while ((r = *pp) != NULL) {
		if (!all && !atomic_load(&r->done)) {
			pp = &r->next;
			continue;
		}
		pthread_join(r->thread, NULL);
		*pp = r->next;
		free(r->sel);
		free(r);
	}
}

/* Takes the probes of process `pid` (all of them when `all`) out of tb's list, keeping the
 * others in order; *out gets them (malloc'd), *n how many. */
static int take_matching(struct tracer_bpf *tb, bool all, int pid, struct attached_probe **out,
			 int *n)
{
	struct attached_probe *sel;
	int i, kept = 0;

	*n = 0;
	*out = NULL;
	if (!tb || !tb->nprobes)
		return 0;
	sel = malloc(tb->nprobes * sizeof(*sel));
	if (!sel)
		return -ENOMEM;
	for (i = 0; i < tb->nprobes; i++) {
		if (all || tb->probes[i].pid == pid)
			sel[(*n)++] = tb->probes[i];
		else
			tb->probes[kept++] = tb->probes[i];
	}
	tb->nprobes = kept;
	*out = sel;
	return 0;
}

int tracer_bpf__detach_all(struct tracer_bpf *tb)
{
	struct attached_probe *sel;
	int n, err;

	if (!tb)
		return 0;
	err = take_matching(tb, true, 0, &sel, &n);
	if (!err)
		err = close_probes(sel, n);
	free(sel);
	join_reapers(tb, true);
	return err;
}

int tracer_bpf__detach_pid(struct tracer_bpf *tb, int pid)
{
	struct reaper *r;
	int err;

	join_reapers(tb, false);
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	err = take_matching(tb, false, pid, &r->sel, &r->n);
	if (!err && r->n && pthread_create(&r->thread, NULL, reap, r) == 0) {
		r->next = tb->reapers;
		tb->reapers = r;
		return 0;
	}
	if (!err && r->n) /* no thread: closed here */
		err = close_probes(r->sel, r->n);
	free(r->sel);
	free(r);
	return err;
}

struct tracer_bpf_readers *tracer_bpf__take_readers(struct tracer_bpf *tb, const char *table)
{
	struct tracer_bpf_readers *set = calloc(1, sizeof(*set));
	int i, kept = 0;

	if (set) {
		set->readers = calloc(tb->nreaders + 1, sizeof(*set->readers));
		set->reader_ctxs = calloc(tb->nreaders + 1, sizeof(*set->reader_ctxs));
	}
	if (!set || !set->readers || !set->reader_ctxs) {
		tracer_bpf__free_readers(set);
		return NULL;
	}
	for (i = 0; i < tb->nreaders; i++) {
		if (strcmp(tb->reader_ctxs[i]->table, table) == 0) {
			set->readers[set->n] = tb->readers[i];
			set->reader_ctxs[set->n++] = tb->reader_ctxs[i];
			continue;
		}
		tb->readers[kept] = tb->readers[i];
		tb->reader_ctxs[kept++] = tb->reader_ctxs[i];
	}
	tb->nreaders = kept;
	return set;
}

int tracer_bpf__poll_readers(struct tracer_bpf_readers *set, int timeout_ms)
{
	if (!set || !set->n)
		return -EINVAL;
	perf_reader_poll(set->n, set->readers, timeout_ms);
	perf_reader_consume(set->n, set->readers);
	return 0;
}

void tracer_bpf__free_readers(struct tracer_bpf_readers *set)
{
	int i;

	if (!set)
		return;
	for (i = 0; i < set->n; i++) {
		perf_reader_free(set->readers[i]);
		free(set->reader_ctxs[i]);
	}
	free(set->readers);
	free(set->reader_ctxs);
	free(set);
}

int tracer_bpf__adopt_readers(struct tracer_bpf *tb, struct tracer_bpf *from)
{
	if (tb->nreaders)
		return -EBUSY;
	tb->readers = from->readers;
	tb->reader_ctxs = from->reader_ctxs;
	tb->nreaders = from->nreaders;
	from->readers = NULL;
	from->reader_ctxs = NULL;
	from->nreaders = 0;
	return 0;
}

int tracer_bpf__destroy(struct tracer_bpf *tb)
{
	int i, err;

	if (!tb)
		return 0;
	err = tracer_bpf__detach_all(tb);
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
