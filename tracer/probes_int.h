/* probes_int.h - what probes.c shares with probes_go.c: a probe added to the set, the @go
 * specs of a file */
#ifndef TRACER_PROBES_INT_H
#define TRACER_PROBES_INT_H

#include "probes.h"

/* A probe of spec s in the file lib_path (opened as open_path), named after the function
 * the spec's symbol names (before any '='): where it goes is for the caller to fill. */
void probes_init_one(struct resolved_probe *rp, const struct probe_spec *s, const char *lib_path,
		     const char *open_path);

/* Appends rp to the set with the next attach cookie. Returns 0 or -ENOMEM. */
int probes_add_one(struct probe_set *set, const struct resolved_probe *rp);

/* Whether two spec lines come from one spec file (their origins "dir/x.spec:12"). */
bool probes_same_spec_file(const struct probe_spec *a, const struct probe_spec *b);

/*
 * The @go specs in the file at open_path (lib_path as the process sees it): found through
 * its .gopclntab when it is a Go program built with the register ABI (Go 1.17+). A file that
 * is no Go program, or lacks a required function (a Go program without crypto/tls), gets no
 * probes and no word (-EINVAL, as an executable without the symbols); one whose table
 * cannot be read, or built with the stack ABI, is named. Returns 0, -EINVAL or -ENOMEM.
 */
int probes_add_go_specs(struct probe_set *set, const struct spec_table *t, const char *lib_path,
			const char *open_path, int verbose);

/*
 * The @stripped specs in the executable at open_path: its functions found by what their
 * code carries (nosym.h), remembered by build id in the cache (nosymcache.h) and verified
 * when taken from there. A file with no trace of them gets no probes and no word
 * (-EINVAL); one where some are found but a required one is not is named, with why.
 * Returns 0, -EINVAL or -ENOMEM.
 */
int probes_add_stripped_specs(struct probe_set *set, const struct spec_table *t,
			      const char *lib_path, const char *open_path, int verbose);

#endif
