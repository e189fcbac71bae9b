/* SPDX-License-Identifier: Apache-2.0 */
/* probes_attach.c - attach the probes resolved so far, and list them for --list-probes */
#include "probes_attach.h"
#include "diag.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "callsite.h"
#include "output.h"
#include "tls_event.h"
#include "tracer_bpf.h"

/* Whether rp's library path (as the process saw it) names the file rp was found in. */
static bool same_file(const struct probe_set *set, const struct resolved_probe *rp)
{
	struct stat st;

	return stat(rp->lib_path, &st) == 0 && rp->file >= 0 && rp->file < set->nfiles &&
	       set->files[rp->file].dev == st.st_dev && set->files[rp->file].ino == st.st_ino;
}

int probes_file_key(const char *path, struct tls_file_key *key)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -errno;
	key->ino = (uint64_t)st.st_ino;
	key->size = (uint64_t)st.st_size;
	return 0;
}

/* The path rp's file is taken by now: the one it was found through or, when that process
 * has exited since (its /proc/PID/exe or root), its own path when that is the same file;
 * NULL when no process runs that copy any more (nothing to probe). */
static const char *attach_path(const struct probe_set *set, const struct resolved_probe *rp)
{
	if (strncmp(rp->open_path, "/proc/", 6) != 0 || access(rp->open_path, F_OK) == 0)
		return rp->open_path;
	return same_file(set, rp) ? rp->lib_path : NULL;
}

/* The slot of BPF function fn in the sink's tls_point_progs, or -1. */
static int slot_of(const struct probe_sink *sink, const char *fn)
{
	int i;

	for (i = 0; i < sink->nslots; i++)
		if (strcmp(sink->slots[i], fn) == 0)
			return i;
	return -1;
}

/* Probe rp as a point of the sink's scope: its entry in tls_points first, so that its first
 * hit finds it. 0, or -errno with why in err. */
static int attach_point(const struct probe_sink *sink, const struct resolved_probe *rp,
			const char *path, bool ret, char *err, size_t errlen)
{
	struct tls_point_key key = {.offset = rp->offset,
				    .kind = TLS_POINT_KIND((uint64_t)sink->gen, ret)};
	struct tls_point point = {.probe = probes_cookie(rp)};
	int slot = slot_of(sink, rp->spec->bpf_fn), e;

	if (slot < 0) {
		snprintf(err, errlen, "BPF function '%s' has no slot in '%s'", rp->spec->bpf_fn,
			 POINT_PROGS_TABLE);
		return -ENOENT;
	}
	point.slot = (uint32_t)slot;
	e = probes_file_key(path, &key.file);
	if (!e)
		e = tracer_bpf__update_key(sink->tb, POINTS_TABLE, &key, sizeof(key), &point,
					   sizeof(point));
	if (e) {
		snprintf(err, errlen, "failed to put probe %s of '%s' in BPF map '%s': %s",
			 rp->func, path, POINTS_TABLE, strerror(-e));
		return e;
	}
	e = tracer_scope__add_probe(sink->scope, path, rp->offset, ret, err, errlen);
	return e < 0 ? e : 0;
}

/* Probe rp at `path` through sink. 0, or -errno with why in err. */
static int attach_one(const struct probe_sink *sink, const struct resolved_probe *rp,
		      const char *path, bool ret, char *err, size_t errlen)
{
	if (sink->scope)
		return attach_point(sink, rp, path, ret, err, errlen);
	return tracer_bpf__attach_uprobe(sink->tb, rp->spec->bpf_fn, path, rp->offset, ret, -1,
					 probes_cookie(rp), err, errlen);
}

/*
 * Attaches probes [first, last) through sink. Return probes first: an entry probe's stash is
 * then always taken by its own return probe, never left behind for another function's return
 * to misread. Returns the number attached, or the first -errno (said: the others are tried
 * all the same; a probe the verifier refused stops it).
 */
static int attach_range(const struct probe_sink *sink, const struct probe_set *set, int first,
			int last, bool say)
{
	int pass, i, n = 0, first_err = 0;

	for (pass = 0; pass < 2; pass++) {
		for (i = first; i < last; i++) {
			const struct resolved_probe *rp = probes_at(set, i);
			bool ret = rp->spec->kind == PROBE_RETURN;
			bool exits = probe_kind_exits(rp->spec->kind);
			const char *path;
			char why[TRACER_BPF_ERRLEN];
			int err;

			if (exits != (pass == 0) || rp->via != PROBE_NONE)
				continue;
			path = attach_path(set, rp);
			if (!path)
				continue;
			err = attach_one(sink, rp, path, ret, why, sizeof(why));
			/* the process it was found through exited meanwhile */
			if (err == -ENOENT && path == rp->open_path &&
			    !(path = attach_path(set, rp)))
				continue;
			if (err == -ENOENT && path != rp->open_path)
				err = attach_one(sink, rp, path, ret, why, sizeof(why));
			if (err == -TRACER_BPF_EVERIFIER) {
				diag("%s (loaded for %s)\n", why, rp->spec->origin);
				return err;
			}
			if (err) { /* said; the others are tried all the same */
				diag("%s: %s\n", rp->spec->origin, why);
				first_err = first_err ? first_err : err;
				continue;
			}
			n++;
			if (say)
				diag("attached %s to %s %s in '%s' (offset 0x%llx)\n",
				     rp->spec->bpf_fn,
				     ret     ? "return of"
				     : exits ? "a return instruction of"
					     : "entry of",
				     rp->func, rp->lib_path, (unsigned long long)rp->offset);
		}
	}
	return first_err ? first_err : n;
}

/* CLOCK_MONOTONIC in ns, the clock of BPF's bpf_ktime_get_ns. */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int probes_attach_new(const struct probe_sink *sink, struct probe_set *set, int verbose)
{
	int i, r, sites = 0;
	uint64_t live;

	for (i = set->attached; i < set->n; i++)
		sites += probes_at(set, i)->via == PROBE_NONE;
	/* a probe that failed was said: it is not tried again with every later find */
	r = attach_range(sink, set, set->attached, set->n, verbose);
	if (r == -TRACER_BPF_EVERIFIER)
		return r;
	live = now_ns();
	for (i = set->attached; i < set->n; i++)
		if (!set->files[probes_at(set, i)->file].live_ns)
			set->files[probes_at(set, i)->file].live_ns = live;
	set->nuprobes += sites;
	set->attached = set->n;
	return r < 0 ? r : 0;
}

/* How a probe's function was found, for --list-probes: "symbol", "callers" (an internal
 * function, through those calling it), "pclntab" (a Go function), or for one found without
 * symbols the facts it was taken on ("error sites ...", from the cache or not). */
static const char *found_by(const struct resolved_probe *rp)
{
	return rp->evidence[0]				 ? rp->evidence
	       : strcmp(rp->spec->library, SPEC_GO) == 0 ? "pclntab"
	       : rp->ncallers				 ? "callers"
							 : "symbol";
}

/* "2.3 µs", or "?" when costs are not known. */
static void format_cost(char *buf, size_t size, const struct tracer_bpf_trap_costs *costs,
			double ns)
{
	if (costs)
		snprintf(buf, size, "%.1f \u00b5s", ns > 0 ? ns / 1000 : 0.0);
	else
		snprintf(buf, size, "?");
}

void probes_list(const struct probe_set *set, FILE *out, const struct tracer_bpf_trap_costs *costs,
		 const char *why)
{
	char insn[64], where[160], offset[32], cost[32];
	bool emulated;
	int i;

	output_probes_header(out);
	for (i = 0; i < set->n; i++) {
		const struct resolved_probe *rp = probes_at(set, i);

		snprintf(offset, sizeof(offset), "0x%llx", (unsigned long long)rp->offset);
		snprintf(cost, sizeof(cost), "-");
		if (rp->via != PROBE_NONE) {
			snprintf(where, sizeof(where), "none: caught by %s",
				 probe_of_ref(set, rp->via)->func);
			snprintf(insn, sizeof(insn), "-");
		} else if (callsite_first_insn(rp->open_path, rp->offset, insn, sizeof(insn),
					       &emulated)) {
			snprintf(insn, sizeof(insn), "?");
			snprintf(where, sizeof(where), "?");
			snprintf(cost, sizeof(cost), "?");
		} else if (rp->spec->kind == PROBE_RETURN) {
			/* its breakpoint at the entry is the entry probe's, at the same offset */
			snprintf(where, sizeof(where), "return");
			format_cost(cost, sizeof(cost), costs, costs ? costs->return_ns : 0);
		} else {
			snprintf(where, sizeof(where), "%s",
				 emulated ? "emulated" : "single-stepped");
			format_cost(cost, sizeof(cost), costs,
				    !costs     ? 0
				    : emulated ? costs->emulated_ns
					       : costs->stepped_ns);
		}
		output_probe(out, &(struct out_probe){
					  .lib = rp->lib_path,
					  .func = rp->func,
					  .kind = probe_kind_name(rp->spec->kind),
					  .offset = rp->via != PROBE_NONE ? "-" : offset,
					  .bpf_fn = rp->spec->bpf_fn,
					  .need = rp->spec->fallback   ? "fallback"
						  : rp->spec->required ? "required"
								       : "optional",
					  .insn = insn,
					  .uprobe = where,
					  .cost = cost,
					  .found_by = found_by(rp),
				  });
	}
	if (!set->n)
		return;
	if (costs)
		output_probe_costs(out, costs->calls, costs->emulated_ns, costs->stepped_ns,
				   costs->return_ns);
	else
		output_probe_costs_unknown(out, why);
}
