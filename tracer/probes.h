/* probes.h - resolve the probe spec table in a target process and attach it */
#ifndef TRACER_PROBES_H
#define TRACER_PROBES_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "spec.h"

struct tracer_bpf;

/* One spec resolved in one target: where its uprobe goes. */
struct resolved_probe {
	const struct probe_spec *spec;
	char lib_path[PATH_MAX];       /* the library as the target sees it */
	char open_path[PATH_MAX + 32]; /* the same file through /proc/<pid>/root */
	uint64_t offset;	       /* file offset of the symbol */
	uint64_t addr;		       /* its virtual address in the target */
};

struct probe_set {
	struct resolved_probe *p;
	int n;
};

/*
 * Resolves every spec whose library `pid` maps (libraries named in the specs are looked
 * up in /proc/<pid>/maps and opened through /proc/<pid>/root). Optional symbols that are
 * missing are skipped (said with verbose). Returns 0; -ESRCH when the process is gone;
 * -ENOENT when it maps none of the spec libraries; -EINVAL when a required symbol is
 * missing. Every failure is reported on errs.
 */
int probes_resolve(pid_t pid, const struct spec_table *t, struct probe_set *set, int verbose,
		   FILE *errs);

/*
 * Attaches every resolved probe for `pid`: return probes first, then entry probes, so
 * detaching in reverse takes the entry probes out first. Returns 0 or the first -errno
 * (reported).
 */
int probes_attach(struct tracer_bpf *tb, const struct probe_set *set, pid_t pid, int verbose,
		  FILE *errs);

/* The entry probe whose function starts at `addr` in the target, or NULL. */
const struct resolved_probe *probes_by_addr(const struct probe_set *set, uint64_t addr);

/* "a, b" list of the distinct libraries of the set, written to buf. */
void probes_libraries(const struct probe_set *set, char *buf, size_t size);

void probes_free(struct probe_set *set);

#endif
