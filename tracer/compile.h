/* SPDX-License-Identifier: Apache-2.0 */
/* compile.h - bpf_src compiled for the running kernel (or taken from the compile cache),
 * checked against the probe specs, and its kernel-side programs attached */
#ifndef TRACER_COMPILE_H
#define TRACER_COMPILE_H

#include <stdbool.h>

#include "bpfcache.h"
#include "kbtf.h"
#include "kheaders.h"
#include "options.h"
#include "spec.h"

struct tracer_bpf;

/* What every compile of bpf_src takes from the running kernel, found on the first. */
struct kernel_facts {
	struct kheaders kh;	  /* the kernel headers libbcc compiles against */
	struct kbtf_offsets offs; /* the struct offsets BPF reads, by group (its BTF): a
				   * socket told from stderr or a log file, the probe point a
				   * hit is for, the program a process runs, a socket's family */
	struct kbtf *btf;	  /* the kernel's BTF (NULL: none), for fentry programs */
	bool kfunc;		  /* the last compile took bpf_src's KFUNC_PROBEs (TLS_KFUNC) */
	int kfunc_probed;	  /* fentry programs run here: 1, -errno; 0: not tried yet */
};

/* Frees what kernel_facts holds (its BTF). */
void kernel_facts_free(struct kernel_facts *kf);

/*
 * Compiles bpf_dir with the settings as -D macros (and the user's -D), as generation `gen`
 * whose maps are `share`'s where they match (a reload), or takes it from the compile cache
 * (`cache` keeps what the compile depended on, for bpfcache_put once it proved good). The
 * kernel headers, BTF and struct offsets are found on the first compile (kf->kh.desc
 * empty) and kept in *kf. Returns 0 with *tb set, or -errno after saying what failed.
 */
int compile_bpf(const struct env *env, const char *bpf_dir, unsigned int gen,
		const struct tracer_bpf *share, struct kernel_facts *kf, struct bpfcache *cache,
		struct tracer_bpf **tb);

/* Every BPF function the specs name must exist in the module: -EINVAL after naming each
 * one missing, else 0. */
int check_functions(struct tracer_bpf *tb, const struct spec_table *t);

/* The BTF id of the kernel function BPF function `fn` attaches to ("kfunc__NAME",
 * "kretfunc__NAME"); 0 for any other function; -ENOENT, with `why` naming both, when the
 * kernel's BTF (or the kernel) has none. */
int kfunc_btf_id(const struct kernel_facts *kf, const char *fn, char *why, size_t whylen);

/*
 * Attaches every tracepoint and kernel-function program module tb defines, by name:
 * "tracepoint__CATEGORY__EVENT", "kfunc__FUNCTION", "kretfunc__FUNCTION". Returns 0 or the
 * first -errno (said).
 */
int attach_kernel_programs(struct tracer_bpf *tb, const struct kernel_facts *kf, int verbose);

#endif
