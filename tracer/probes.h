/* probes.h - find the TLS code processes run, resolve the probe specs in it, attach them */
#ifndef TRACER_PROBES_H
#define TRACER_PROBES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "callsite.h"
#include "spec.h"

struct tracer_bpf;

/* Spec library name that stands for the program's own executable (static OpenSSL: node). */
#define PROBES_EXE SPEC_EXE

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
	/* ... and the probe whose name a call through caller k takes: 1 + its index, or 0 */
	int caller_probe[CALLSITE_MAX_CALLERS];
	/* An exported function whose calls the probe on an internal function catches (and
	 * names after it): 1 + that probe's index. Not attached itself. 0 otherwise. */
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

/* The bit of set->files[f] in a mask of files (the 64th bit stands for all from 63 on). */
static inline uint64_t probes_file_bit(ptrdiff_t f)
{
	return 1ull << (f < 63 ? f : 63);
}

/*
 * Looks at what process `pid` maps: each library named in the specs (found through
 * /proc/<pid>/maps, opened through /proc/<pid>/root, or through /proc/<pid>/map_files when
 * deleted or replaced on disk since) and, for PROBES_EXE specs, its executable
 * (/proc/<pid>/exe). Files seen before are skipped. Sets *maps_tls to the TLS files the
 * process maps, new or not (probes_file_bit of each; 0: none). Returns the number of probes
 * added, or -ESRCH when the process is gone, -EINVAL when a library lacks a required symbol
 * (said through diag; that library gets no probes), -ENOMEM.
 */
int probes_add_process(struct probe_set *set, pid_t pid, const struct spec_table *t,
		       uint64_t *maps_tls, int verbose);

/*
 * Looks at the program at `path` (an executable a process ran, as the tracer sees it) for
 * the @exe, @go and @stripped specs, as probes_add_process does for a live process's
 * executable: for a process that exited before it could be looked at. Returns as
 * probes_add_process (-ENOENT: no such file).
 */
int probes_add_program(struct probe_set *set, const struct spec_table *t, const char *path,
		       uint64_t *maps_tls, int verbose);

/*
 * Adds the libraries the specs name as they are found in the ld.so cache (the ones a
 * process would load later by name). Returns the number of probes added or -errno as
 * probes_add_process.
 */
int probes_add_cached(struct probe_set *set, const struct spec_table *t, int verbose);

/*
 * Where probes are attached: as points of a scope (PID mode: the kernel puts them in the
 * traced processes alone, and the dispatcher of generation `gen` finds each in tls_points,
 * its BPF function in the slot `slots` names), or as uprobes of module tb that fire in every
 * process (--all, where BPF filters; and PID mode where the kernel lacks what the scope
 * needs).
 */
struct probe_sink {
	struct tracer_bpf *tb;
	struct tracer_scope *scope; /* NULL: uprobes for every process */
	unsigned int gen;
	const char *const *slots; /* BPF function of each slot of tls_point_progs */
	int nslots;
};

/*
 * Attaches the probes of set not attached yet, through sink. A file found through a process
 * that has exited since is taken by its own path when that is the same file. Returns 0 or
 * the first -errno (said).
 */
int probes_attach_new(const struct probe_sink *sink, struct probe_set *set, int verbose);

/* The identity BPF knows a file by (struct tls_file_key), of the file at `path`: 0 or
 * -errno. */
struct tls_file_key;
int probes_file_key(const char *path, struct tls_file_key *key);

/*
 * Writes the probe table --list-probes shows: per probe its library, function, kind, file
 * offset, BPF function, whether its spec requires it, first instruction and whether the
 * kernel emulates or single-steps it there (or which probe catches its calls instead), and
 * how its function was found (symbol, callers, pclntab). A Go function's `returns` spec
 * has a row per return instruction.
 */
struct tracer_bpf_trap_costs;

/*
 * The --list-probes table of set to out: per probe its file, function, kind, offset, BPF
 * function, need, first instruction, class (emulated, single-stepped, or return for a
 * uretprobe) with what a hit of that class costs here (`costs`, measured; NULL: not known,
 * `why` says why), and how it was found; then a line on the costs.
 */
void probes_list(const struct probe_set *set, FILE *out, const struct tracer_bpf_trap_costs *costs,
		 const char *why);

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
