/* SPDX-License-Identifier: Apache-2.0 */
/* probes_attach.h - attach the probes resolved so far, and list them for --list-probes */
#ifndef TRACER_PROBES_ATTACH_H
#define TRACER_PROBES_ATTACH_H

#include <stdio.h>

#include "probeset.h"

struct tracer_bpf;
struct tracer_bpf_trap_costs;
struct tracer_scope;
struct tls_file_key;

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
int probes_file_key(const char *path, struct tls_file_key *key);

/*
 * The --list-probes table of set to out: per probe its file, function, kind, offset, BPF
 * function, need, first instruction, class (emulated, single-stepped, or return for a
 * uretprobe) with what a hit of that class costs here (`costs`, measured; NULL: not known,
 * `why` says why), and how it was found; then a line on the costs.
 */
void probes_list(const struct probe_set *set, FILE *out, const struct tracer_bpf_trap_costs *costs,
		 const char *why);

#endif
