/* SPDX-License-Identifier: Apache-2.0 */
/* sources.h - locate bpf_src/ and probe_specs/, and read the BPF C sources */
#ifndef TRACER_SOURCES_H
#define TRACER_SOURCES_H

#include <stddef.h>
#include <stdio.h>

/*
 * Finds data directory `name` ("bpf_src", "probe_specs"): `override` when given, else next
 * to the executable (build tree: <exe dir>/<name>) or in its install prefix
 * (<exe dir>/../share/tracer/<name>). Never the current directory. Writes the absolute path
 * to out. Returns 0 or -ENOENT after saying through diag where it looked.
 */
int sources_find_dir(const char *name, const char *override, char *out, size_t size);

/*
 * Reads every "*.c" file of `dir` in name order into one NUL-terminated text (*out, freed
 * by the caller). Each file is introduced by a #line directive, so compiler messages name
 * the real file and line. Returns 0, -ENOENT when there is no .c file, or -errno; every
 * failure is said through diag.
 */
int sources_read_bpf(const char *dir, char **out);

/*
 * The next kernel function a KFUNC_PROBE(NAME, ...) or KRETFUNC_PROBE(NAME, ...) of `text`
 * names, at or after `text`: NAME is written to `name` (cut to size-1 bytes). Returns where
 * to look for the next one, or NULL when there are no more. Whatever #if surrounds them.
 */
const char *sources_next_kernel_function(const char *text, char *name, size_t size);

/*
 * --init-probes: copies the shipped bpf_src (*.c, *.h) and probe_specs (*.spec) into
 * dir/bpf_src and dir/probe_specs, creating them (dir too). Neither may exist yet, so no
 * edit is ever overwritten. Says what it did on out. Returns 0, or -errno after saying
 * through diag what failed.
 */
int sources_init_probes(const char *dir, FILE *out);

#endif
