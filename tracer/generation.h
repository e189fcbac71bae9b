/* SPDX-License-Identifier: Apache-2.0 */
/* generation.h - a compile of bpf_src made ready to act: its settings, the slots of the specs'
 * BPF functions for the scope's dispatcher, and kept in the compile cache once it proved good */
#ifndef TRACER_GENERATION_H
#define TRACER_GENERATION_H

#include <stdbool.h>

#include "bpfcache.h"
#include "options.h"
#include "spec.h"

struct tracer_bpf;
struct tracer_scope;

/* The BPF functions of the specs, each in its slot of tls_point_progs (the scope's
 * dispatcher calls a probe's function there): names[i] is slot i's. */
struct point_slots {
	const char **names; /* into the spec table's strings */
	int n;
};

/*
 * The settings that change nothing in the program's shape go to the tls_settings map, with
 * the generation whose programs act (and whether the probes come through `scope`, NULL for
 * none, and whether its new children are to be told of for their guard events). A
 * user's bpf_src without that map gets none of them: that is only fine without filters and
 * with a per-call limit the compiled bound already gives. 0 or -errno (said).
 */
int generation_settings(struct tracer_bpf *tb, const struct env *env, unsigned int gen,
			const struct tracer_scope *scope);

/* Whether module tb can serve a scope: it has the dispatcher and its maps (bpf_src of this
 * tracer, compiled with the kernel's offsets for it). */
bool generation_can_scope(struct tracer_bpf *tb);

/* Puts each BPF function the specs name in its slot of tls_point_progs (loading it for a
 * trace event, as the scope runs it). 0 or -errno (said); *slots freed with
 * generation_slots_free. */
int generation_slots(struct tracer_bpf *tb, const struct spec_table *specs,
		     struct point_slots *slots);

void generation_slots_free(struct point_slots *slots);

/* Takes generation gen's probe points out of tls_points (of module tb, which shares the map
 * with gen's): it was replaced, or its reload failed. */
void generation_forget_points(struct tracer_bpf *tb, unsigned int gen);

/* Keeps module tb in the compile cache for the next start (after it was verified and
 * attached: a module the verifier refuses is never kept); a failure is said with -v. */
void generation_keep(struct bpfcache *cache, struct tracer_bpf *tb, int verbose);

#endif
