/* SPDX-License-Identifier: Apache-2.0 */
/* nosymcache.h - what nosym_find found in a build, remembered by its build id */
#ifndef TRACER_NOSYMCACHE_H
#define TRACER_NOSYMCACHE_H

#include "nosym.h"

/*
 * Kept in the tracer's cache directory (bpfcache_dir: /var/cache/tracer, $TRACER_CACHE_DIR),
 * a text file "nosym-<build id>" (0600) per program, one line a name: "NAME 0xENTRY 0xSITE"
 * when found ("... named" when found by its callers' naming it), "NAME none" when not there, "NAME
 * unsure WHY" when not sure. A found entry is a claim to verify (nosym_verify), never a probe
 * address to trust; a file not ours (owner, mode) is not read.
 */

/* Files kept, at most: the least recently used go. */
#define NOSYMCACHE_MAX_ENTRIES 256

/*
 * Reads the names' results for build `build_id` into out[i] (err 0 with entry and site,
 * -ENOENT, or -EINVAL with why); a file that has every name is marked used (its time).
 * Returns 0 when the file has every name; -ENOENT when it has not, or there is no cache
 * or file.
 */
int nosymcache_load(const char *build_id, const char *const *names, int n, struct nosym_found *out);

/* Writes the names' results for build `build_id` (a new file, renamed into place); past
 * NOSYMCACHE_MAX_ENTRIES files the least recently used go. Returns 0 or -errno; no cache
 * (or no build id) is -ENOENT. */
int nosymcache_save(const char *build_id, const char *const *names, int n,
		    const struct nosym_found *out);

#endif
