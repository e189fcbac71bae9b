/* SPDX-License-Identifier: Apache-2.0 */
/* compile.c - bpf_src compiled for the running kernel (or taken from the compile cache),
 * checked against the probe specs, and its kernel-side programs attached */
#define _GNU_SOURCE
#include "compile.h"
#include "diag.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "sources.h"
#include "tracefs.h"
#include "tracer_bpf.h"

void kernel_facts_free(struct kernel_facts *kf)
{
	kbtf_free(kf->btf);
	kf->btf = NULL;
}

/*
 * Whether bpf_src's KFUNC_PROBEs can be taken (-DTLS_KFUNC=1): the kernel's BTF names every
 * function they attach to, and $TRACER_SYSCALL_TRACEPOINTS does not ask for tracepoints.
 * When not, `why` says so.
 */
static bool use_kfuncs(struct kernel_facts *kf, const char *source, char *why, size_t whylen)
{
	const struct kbtf *btf = kf->btf;
	const char *p = source, *force = getenv("TRACER_SYSCALL_TRACEPOINTS");
	char name[128];
	int n = 0, id = -1, err;

	if (force && force[0]) {
		snprintf(why, whylen, "syscall tracepoints (TRACER_SYSCALL_TRACEPOINTS)");
		return false;
	}
	if (!btf) {
		snprintf(why, whylen, "syscall tracepoints (the kernel has no BTF)");
		return false;
	}
	while ((p = sources_next_kernel_function(p, name, sizeof(name))) != NULL) {
		if ((id = kbtf_func_id(btf, name)) < 0) {
			snprintf(why, whylen,
				 "syscall tracepoints (the kernel's BTF has no function %s)", name);
			return false;
		}
		n++;
	}
	if (!n) {
		snprintf(why, whylen, "syscall tracepoints (bpf_src has no KFUNC_PROBE)");
		return false;
	}
	if (kf->kfunc_probed == 0) { /* once a session: a reload asks the same kernel */
		err = tracer_bpf__probe_kfunc(id);
		kf->kfunc_probed = err ? err : 1;
	}
	err = kf->kfunc_probed > 0 ? 0 : kf->kfunc_probed;
	if (err)
		snprintf(why, whylen,
			 "syscall tracepoints (the kernel refuses fentry programs: %s)",
			 strerror(-err));
	return !err;
}

/* What every compile takes from the running kernel, found once: tracefs (mounted for the
 * tracer where missing), the kernel headers, its BTF and the struct offsets BPF reads. */
static int learn_kernel(const struct env *env, struct kernel_facts *kf)
{
	struct kheaders *kh = &kf->kh;
	struct utsname un;
	char why[256];
	int err, g;

	err = tracefs_ensure(env->verbose);
	if (err)
		return err;
	uname(&un);
	err = kheaders_find(un.release, un.machine, "/lib/modules", "/usr/src", kh);
	if (err)
		return err;
	kheaders_apply(kh);
	if (env->verbose)
		diag("kernel headers: %s\n", kh->desc);
	err = kbtf_open(NULL, &kf->btf, why, sizeof(why));
	if (!err)
		kbtf_offsets(kf->btf, &kf->offs);
	else
		for (g = 0; g < KBTF_NGROUPS; g++)
			snprintf(kf->offs.why[g], sizeof(kf->offs.why[g]), "%s", why);
	if (!kf->offs.ok[KBTF_FD] && env->verbose)
		diag("%s: a TLS call's connection is the first fd it reads or writes, socket "
		     "or not\n",
		     kf->offs.why[KBTF_FD]);
	return 0;
}

/* The compiler's command line for one compile: every string it points at is its own. */
struct cflags {
	const char *v[6 + KBTF_NOFFSETS + MAX_DEFINES + KHEADERS_MAX_CFLAGS];
	int n;
	char pid[32], size[32], chunks[32], gen[32], inc[PATH_MAX + 4];
	char defs[MAX_DEFINES][MAX_DEFINE_LEN + 2];
	char offs[KBTF_NOFFSETS][KBTF_FLAG_LEN];
};

/* The flags of generation gen's compile of `source` (from bpf_dir) into cf. Only validated
 * numbers, checked -D macros and our own paths reach the compiler's command line. */
static void build_cflags(const struct env *env, const char *bpf_dir, unsigned int gen,
			 struct kernel_facts *kf, const char *source, struct cflags *cf)
{
	const struct kheaders *kh = &kf->kh;
	char why[256];
	int noff, i;

	cf->n = 0;
	/* The first target (0 with --all); the BPF programs filter on the tls_targets map. */
	snprintf(cf->pid, sizeof(cf->pid), "-DTRACE_PID=%d", env->npids ? (int)env->pids[0] : 0);
	snprintf(cf->size, sizeof(cf->size), "-DMAX_DATA_SIZE=%d", env->max_data_size);
	snprintf(cf->chunks, sizeof(cf->chunks), "-DMAX_CHUNKS=%d", options_max_chunks(env));
	snprintf(cf->gen, sizeof(cf->gen), "-DTLS_GEN=%u", gen);
	snprintf(cf->inc, sizeof(cf->inc), "-I%s", bpf_dir);
	cf->v[cf->n++] = cf->pid;
	cf->v[cf->n++] = cf->size;
	cf->v[cf->n++] = cf->chunks;
	cf->v[cf->n++] = cf->gen;
	cf->v[cf->n++] = cf->inc;
	/* the struct offsets BPF reads (TLS_OFF_*), by group: what the BTF does not give
	 * bpf_src does without (every fd taken for a socket; no scope, see session.c) */
	noff = kbtf_flags(&kf->offs, cf->offs, KBTF_NOFFSETS);
	for (i = 0; i < noff; i++)
		cf->v[cf->n++] = cf->offs[i];
	kf->kfunc = use_kfuncs(kf, source, why, sizeof(why));
	if (kf->kfunc)
		cf->v[cf->n++] = "-DTLS_KFUNC=1";
	if (env->verbose)
		diag("system calls: %s\n",
		     kf->kfunc ? "fentry/fexit programs on the kernel's functions" : why);
	for (i = 0; i < env->ndefines; i++) {
		snprintf(cf->defs[i], sizeof(cf->defs[i]), "-D%s", env->defines[i]);
		cf->v[cf->n++] = cf->defs[i];
	}
	for (i = 0; i < kh->ncflags; i++)
		cf->v[cf->n++] = kh->cflags[i];
}

/* The module compiled before from the same sources, flags, kernel and compiler, into *tb:
 * 1 when taken from the cache, 0 when it must be compiled (a cache that failed is not
 * kept). */
static int from_cache(const struct env *env, const char *bpf_dir, const char *source,
		      const struct cflags *cf, const char *kernel, const struct tracer_bpf *share,
		      struct bpfcache *cache, struct tracer_bpf **tb)
{
	char why[256];
	int err;

	bpfcache_free(cache);
	err = bpfcache_key(cache, bpf_dir, source, cf->v, cf->n, kernel);
	if (err || bpfcache_get(cache, why, sizeof(why)) != 1) {
		if (env->verbose)
			diag("compile cache: %s\n", err ? strerror(-err) : why);
		return 0;
	}
	err = tracer_bpf__create_from_image(&cache->img, share, tb);
	if (!err) {
		if (env->verbose)
			diag("compiled BPF of '%s' from the cache: %s\n", bpf_dir, cache->path);
		return 1;
	}
	diag("failed to set up the BPF module from the cache '%s': %s; compiling "
	     "(and not keeping it)\n",
	     cache->path, strerror(-err));
	cache->hit = false;
	cache->path[0] = '\0';
	return 0;
}

/*
 * Compiles bpf_dir with the settings as -D macros (and the user's -D), as generation `gen`
 * whose maps are `share`'s where they match (a reload); says which headers with -v. The
 * kernel headers and struct offsets are found on the first compile (kf->kh.desc empty) and
 * kept in *kf.
 */
static int compile_once(const struct env *env, const char *bpf_dir, unsigned int gen,
			const struct tracer_bpf *share, struct kernel_facts *kf,
			struct bpfcache *cache, struct tracer_bpf **tb)
{
	struct cflags cf;
	char *source = NULL;
	int i, err;

	if (!kf->kh.desc[0] && (err = learn_kernel(env, kf)) != 0)
		return err;
	err = sources_read_bpf(bpf_dir, &source);
	if (err)
		return err;
	build_cflags(env, bpf_dir, gen, kf, source, &cf);
	err = 0;
	if (!from_cache(env, bpf_dir, source, &cf, kf->kh.desc, share, cache, tb)) {
		if (env->verbose) {
			diag("compiling %s with", bpf_dir);
			for (i = 0; i < cf.n; i++)
				diag(" %s", cf.v[i]);
			fputc('\n', diag_stream());
		}
		err = tracer_bpf__create(source, cf.v, cf.n, share, tb);
	}
	free(source);
	/* $TRACER_PERF_UPROBES: the older kind of uprobe, where uprobe_multi links misbehave */
	if (!err && getenv("TRACER_PERF_UPROBES") && getenv("TRACER_PERF_UPROBES")[0]) {
		tracer_bpf__prefer_perf_uprobes(*tb);
		if (env->verbose)
			diag("uprobes: perf events, not uprobe_multi links "
			     "(TRACER_PERF_UPROBES)\n");
	}
	if (!err && (err = tracer_bpf__set_source_dir(*tb, bpf_dir)) != 0) {
		tracer_bpf__destroy(*tb);
		*tb = NULL;
	}
	if (err == -EINVAL)
		diag("failed to compile the BPF sources in '%s' (clang's messages above)\n",
		     bpf_dir);
	else if (err)
		diag("failed to set up the BPF module of '%s': %s\n", bpf_dir, strerror(-err));
	return err;
}

/* Loads every fentry/fexit program of module tb now: 0, or the first -errno (said). */
int kfunc_btf_id(const struct kernel_facts *kf, const char *fn, char *why, size_t whylen)
{
	bool exit;
	const char *kfn = tracer_bpf__kernel_function(fn, &exit);
	int id;

	if (!kfn)
		return 0;
	id = kf->btf ? kbtf_func_id(kf->btf, kfn) : -ENOENT;
	if (id < 0)
		snprintf(why, whylen, "BPF function '%s': the kernel's BTF has no function %s", fn,
			 kfn);
	return id;
}

static int load_kfuncs(struct tracer_bpf *tb, const struct kernel_facts *kf)
{
	const char *names[1024];
	char msg[TRACER_BPF_ERRLEN];
	int i, n, id, err;

	n = tracer_bpf__functions(tb, names, 1024);
	for (i = 0; i < n && i < 1024; i++) {
		id = kfunc_btf_id(kf, names[i], msg, sizeof(msg));
		if (id == 0)
			continue;
		err = id < 0 ? id : tracer_bpf__load(tb, names[i], id, msg, sizeof(msg));
		if (err) {
			diag("%s\n", msg);
			return err;
		}
	}
	return 0;
}

/*
 * compile_once, and where that took bpf_src's fentry/fexit programs (TLS_KFUNC), they are
 * loaded at once: a kernel that refuses one of them (the probe passed, the program did not)
 * gets the syscall tracepoints instead, for the rest of the session, and a working tracer.
 */
int compile_bpf(const struct env *env, const char *bpf_dir, unsigned int gen,
		const struct tracer_bpf *share, struct kernel_facts *kf, struct bpfcache *cache,
		struct tracer_bpf **tb)
{
	int err = compile_once(env, bpf_dir, gen, share, kf, cache, tb);

	if (err || !kf->kfunc || (err = load_kfuncs(*tb, kf)) == 0)
		return err;
	diag("fentry/fexit programs failed (%s): watching the socket system calls "
	     "with syscall tracepoints instead\n",
	     strerror(-err));
	kf->kfunc_probed = err;
	tracer_bpf__destroy(*tb);
	*tb = NULL;
	return compile_once(env, bpf_dir, gen, share, kf, cache, tb);
}

/* Every BPF function the specs name must exist in the module: libraries come and go. */
int check_functions(struct tracer_bpf *tb, const struct spec_table *t)
{
	int i, err = 0;

	for (i = 0; i < t->n; i++) {
		if (!tracer_bpf__has_function(tb, t->specs[i].bpf_fn)) {
			diag("%s: BPF function '%s' is not defined in bpf_src\n",
			     t->specs[i].origin, t->specs[i].bpf_fn);
			err = -EINVAL;
		}
	}
	return err;
}

/*
 * Every tracepoint and kernel-function program bpf_src defines, attached (by name:
 * "tracepoint__CATEGORY__EVENT", "kfunc__FUNCTION", "kretfunc__FUNCTION"): the sched
 * tracepoints that follow children and late loads, the system calls that tell connections
 * and mappings. A bpf_src of one's own may leave them out: then that is not followed.
 */
int attach_kernel_programs(struct tracer_bpf *tb, const struct kernel_facts *kf, int verbose)
{
	const char *names[1024], *sep;
	char category[64], why[TRACER_BPF_ERRLEN];
	int i, n, err, id;

	n = tracer_bpf__functions(tb, names, 1024);
	for (i = 0; i < n && i < 1024; i++) {
		if (strncmp(names[i], "tracepoint__", 12) == 0 &&
		    (sep = strstr(names[i] + 12, "__")) != NULL &&
		    (size_t)(sep - names[i] - 12) < sizeof(category)) {
			snprintf(category, sizeof(category), "%.*s", (int)(sep - names[i] - 12),
				 names[i] + 12);
			err = tracer_bpf__attach_tracepoint(tb, names[i], category, sep + 2, why,
							    sizeof(why));
		} else if ((id = kfunc_btf_id(kf, names[i], why, sizeof(why))) != 0) {
			err = id < 0 ? id
				     : tracer_bpf__attach_kfunc(tb, names[i], id, why, sizeof(why));
		} else {
			continue;
		}
		if (err) {
			diag("%s\n", why);
			return err;
		}
		if (verbose)
			diag("attached %s\n", names[i]);
	}
	if (verbose && !tracer_bpf__has_function(tb, "tracepoint__sched__sched_process_fork"))
		diag("bpf_src has no tracepoint__sched__sched_process_fork: children "
		     "are not followed\n");
	if (verbose && !tracer_bpf__has_function(tb, "tracepoint__sched__sched_process_exec"))
		diag("bpf_src has no tracepoint__sched__sched_process_exec: programs "
		     "started later are not looked at\n");
	return 0;
}
