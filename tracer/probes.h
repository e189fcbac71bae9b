/* SPDX-License-Identifier: Apache-2.0 */
/* probes.h - find the TLS code processes run, resolve the probe specs in it, attach them */
#ifndef TRACER_PROBES_H
#define TRACER_PROBES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "probeset.h"
#include "spec.h"

struct tracer_bpf;

/* Spec library name that stands for the program's own executable (static OpenSSL: node). */
#define PROBES_EXE SPEC_EXE

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

#endif
