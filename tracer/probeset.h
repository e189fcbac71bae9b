/* SPDX-License-Identifier: Apache-2.0 */
/* probeset.h - the probes found so far: each one resolved in its file (where its uprobe
 * goes, what it stands for), kept in a set that grows and is looked up by attach cookie */
#ifndef TRACER_PROBESET_H
#define TRACER_PROBESET_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "callsite.h"
#include "spec.h"

_Static_assert(SPEC_MAX_CALLERS == CALLSITE_MAX_CALLERS, "a spec's callers, each resolved");

/* A probe's reference to another of its set (via, caller_probe): 1 + that one's index
 * (probe_ref); PROBE_NONE: none. */
#define PROBE_NONE 0

/* One spec resolved in one file: where its uprobe goes. */
struct resolved_probe {
	const struct probe_spec *spec;
	char func[128];		       /* the function's name (spec symbol before any '=') */
	char lib_path[PATH_MAX];       /* the file as the process we found it in sees it */
	char open_path[PATH_MAX + 32]; /* the same file as the tracer opens it */
	uint64_t offset;	       /* file offset of the symbol (+ shift) */
	uint32_t shift; /* bytes the probe sits past the function's first instruction, onto one
			 * the kernel emulates (emulated.h); 0 for most */
	uint64_t id;	/* attach cookie: id_base + this probe's index + 1 */
	int file;	/* index of its file in probe_set.files */
	/* An internal function: how each caller the spec names reaches it (callsite.h). */
	struct callsite_caller callers[CALLSITE_MAX_CALLERS];
	int ncallers;
	/* ... and the probe whose name a call through caller k takes, or PROBE_NONE */
	int caller_probe[CALLSITE_MAX_CALLERS];
	/* An exported function whose calls the probe on an internal function catches (and
	 * names after it): that probe. Not attached itself. PROBE_NONE otherwise. */
	int via;
	/* A function found without symbols (@stripped), or a Go call site: the facts it was
	 * taken on, for --list-probes. "" otherwise. */
	char evidence[192];
	/* What the BPF function needs of this place, handed over in the attach cookie's high
	 * 32 bits (a Go call site: the stack slot of its *tls.Conn); 0 for most */
	uint32_t arg;
	/* The file offsets [code_start, code_end) of the executable segment the probe is in,
	 * read as its file was resolved (probes_own_code); 0 and 0 when unknown */
	uint64_t code_start, code_end;
};

/* The attach cookie of rp: its id, and its arg above (bpf_src/00_capture.c splits them). */
static inline uint64_t probes_cookie(const struct resolved_probe *rp)
{
	return rp->id | (uint64_t)rp->arg << 32;
}

/* How a file is looked at for TLS code: by symbols (libraries, @exe), as a Go program (@go),
 * or without symbols (@stripped). An executable may be looked at each way, once. */
enum probe_look { LOOK_SYMBOLS, LOOK_GO, LOOK_STRIPPED };

/* A file looked at once, by identity: TLS code or not, it is not looked at again. */
struct seen_file {
	dev_t dev;
	ino_t ino;
	enum probe_look look;
	bool tls;	  /* some spec resolved in it */
	int first_probe;  /* with tls: index of its first probe (its probes are consecutive) */
	uint64_t live_ns; /* with tls: when its probes were attached (CLOCK_MONOTONIC; 0 not
			   * yet) */
};

/* Probes are kept in chunks that never move: the thread that follows processes adds probes
 * while the main loop names events after the probes it has (probes_by_id). */
#define PROBES_CHUNK 64
#define PROBES_MAX_CHUNKS 256 /* 16,384 probes (TLS_MAX_POINTS) */

/* Every probe found so far; grows as processes start programs and load libraries. */
struct probe_set {
	struct resolved_probe *chunk[PROBES_MAX_CHUNKS];
	int n;	      /* probes_at(set, 0 .. n-1); written (atomically) once a probe is whole */
	int attached; /* p[0, attached) are attached (but those with a `via`) */
	int nuprobes; /* uprobes attached */
	struct seen_file *files;
	int nfiles;
	bool exported_only; /* --placement=exported: internal functions never stand in */
	uint64_t id_base;   /* ids start after it: a reload's set follows the one it replaces */
	const struct probe_set *older; /* the sets reloads replaced, whose events may still
					* come: probes_of_call looks there too */
};

/* Probe i (0 <= i < set->n) of the set. */
static inline struct resolved_probe *probes_at(const struct probe_set *set, int i)
{
	return &set->chunk[i / PROBES_CHUNK][i % PROBES_CHUNK];
}

/* The reference to probe `index` of its set, and the probe a reference (not PROBE_NONE)
 * names. */
static inline int probe_ref(int index)
{
	return index + 1;
}

static inline struct resolved_probe *probe_of_ref(const struct probe_set *set, int ref)
{
	return probes_at(set, ref - 1);
}

/* The bit of set->files[f] in a mask of files (the 64th bit stands for all from 63 on). */
static inline uint64_t probes_file_bit(ptrdiff_t f)
{
	return 1ull << (f < 63 ? f : 63);
}

/* A probe of spec s in the file lib_path (opened as open_path), named after the function
 * the spec's symbol names (before any '='): where it goes is for the caller to fill. */
void probes_init_one(struct resolved_probe *rp, const struct probe_spec *s, const char *lib_path,
		     const char *open_path);

/* Appends rp to the set with the next attach cookie. Returns 0, -ENOSPC (the set is full)
 * or -ENOMEM. */
int probes_add_one(struct probe_set *set, const struct resolved_probe *rp);

/* Whether two spec lines come from one spec file (their origins "dir/x.spec:12"). */
bool probes_same_spec_file(const struct probe_spec *a, const struct probe_spec *b);

/* The probe with attach cookie `id` (in set or an older one), or NULL. */
const struct resolved_probe *probes_by_id(const struct probe_set *set, uint64_t id);

/* Whether the address delta bytes from rp's probe point (a return address seen in a call
 * rp caught) lies in the executable segment rp is in: a call the probed library made
 * itself, not one from another library. */
bool probes_own_code(const struct resolved_probe *rp, int64_t delta);

/*
 * What changed from set `old` to set `cur`: the attached probes (library, function, kind,
 * BPF function) each has and the other has not, written as "SSL_peek entry, SSL_peek
 * return in libssl.so.3" lists into added and removed ("" when none).
 */
void probes_diff(const struct probe_set *old, const struct probe_set *cur, char *added,
		 size_t addsize, char *removed, size_t remsize);

/*
 * The probe a call caught by entry probe `id` is reported under: for a probe on an internal
 * function, the exported function the call came through, told by its return address minus
 * the function's address (`ret_delta`), when that is one of its callers; else probe `id`.
 * NULL when there is no such probe.
 */
const struct resolved_probe *probes_of_call(const struct probe_set *set, uint64_t id,
					    int64_t ret_delta);

/* The first probe of file `f` (files[f]), or NULL when that file has no TLS code. */
const struct resolved_probe *probes_file_first(const struct probe_set *set, int f);

/* "a, b" list of the files with TLS code, written to buf. */
void probes_libraries(const struct probe_set *set, char *buf, size_t size);

void probes_free(struct probe_set *set);

#endif
