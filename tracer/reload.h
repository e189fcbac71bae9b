/* SPDX-License-Identifier: Apache-2.0 */
/* reload.h - a saved edit of bpf_src or probe_specs reloaded while tracing: the next
 * generation compiled, verified and attached beside the running one, then made the one that
 * acts */
#ifndef TRACER_RELOAD_H
#define TRACER_RELOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "bpfcache.h"
#include "compile.h"
#include "events.h"
#include "follow.h"
#include "generation.h"
#include "options.h"
#include "probes.h"
#include "spec.h"
#include "targets.h"
#include "watch.h"

struct tracer_bpf;

/* What a reload replaces, and what it makes the next generation with: the session's. */
struct reload_config {
	const struct env *env;
	const char *bpf_dir, *spec_dir;
	struct kernel_facts *kf;
	struct bpfcache *cache;
	struct tracer_bpf **tb;	  /* the module in use */
	struct spec_table *specs; /* the probe table in use */
	struct probe_set *probes; /* its probes */
	struct point_slots *slots;
	unsigned int *gen; /* the compile in use: 1, then one up per reload */
	struct follow *follow;
	struct targets *targets;
	struct events *ev; /* what the replaced module sent last is delivered */
};

/* A generation of probes a reload replaced: kept while their events may still come. */
struct retired {
	struct spec_table specs;
	struct probe_set probes;
	struct point_slots slots;
	struct retired *next;
};

struct reload {
	struct reload_config cfg;
	struct watch watch;	 /* saved changes of the sources and specs */
	struct retired *retired; /* what reloads replaced, newest first */
	int done, failed;
};

/* Starts r (its memory the caller's) and watches the sources and specs for saved changes
 * (says so when it cannot: no reloading then). */
void reload_init(struct reload *r, const struct reload_config *cfg);

/* Whether a saved change is due: the files have been quiet for a while (now: events_now). */
bool reload_due(struct reload *r, uint64_t now_ns);

/*
 * Reloads the BPF sources and probe specs after a saved change: a new generation of
 * programs, sharing the running one's maps and perf buffers, is compiled, verified and
 * attached; then the settings make it the one that acts (no call is missed or reported
 * twice: a call the old programs began, the new ones end), and the old one is taken out.
 * On any failure the new one is taken out instead and the running probes stay. Says which.
 */
void reload_apply(struct reload *r);

/* "reloads: N done, M failed ..." when there were any. */
void reload_summary(const struct reload *r);

void reload_free(struct reload *r);

#endif
