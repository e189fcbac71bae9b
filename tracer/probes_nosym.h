/* SPDX-License-Identifier: Apache-2.0 */
/* probes_nosym.h - the @stripped specs resolved in an executable without symbols */
#ifndef TRACER_PROBES_NOSYM_H
#define TRACER_PROBES_NOSYM_H

#include "probeset.h"

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
