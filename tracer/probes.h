/* SPDX-License-Identifier: Apache-2.0 */
/* probes.h - find the TLS code processes run and resolve the probe specs in it */
#ifndef TRACER_PROBES_H
#define TRACER_PROBES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "probes_attach.h" /* attaching them: for the callers, which do both */
#include "probeset.h"
#include "spec.h"

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

#endif
