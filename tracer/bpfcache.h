/* SPDX-License-Identifier: Apache-2.0 */
/* bpfcache.h - compiled BPF kept on disk by what it was compiled from: a second start
 * compiles nothing */
#ifndef TRACER_BPFCACHE_H
#define TRACER_BPFCACHE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "tracer_bpf.h"

/* Where entries are kept (root's: a directory of the effective user's, not writable by
 * anyone else, or the cache is not used). $TRACER_CACHE_DIR overrides it; empty: no cache. */
#define BPFCACHE_DIR "/var/cache/tracer"
#define BPFCACHE_MAX_ENTRIES 64 /* the newest are kept (~140 KB each) */

/* The cache directory, made if missing: BPFCACHE_DIR or $TRACER_CACHE_DIR; "" when that is
 * empty or not safe: it must be a directory of the effective user that nobody else can
 * write to. Compiled BPF is kept there, and what nosym.c found (nosymcache.h). */
void bpfcache_dir(char *dir, size_t size);

/* Keeps the newest `keep` files of the directory of `path` whose names begin with `prefix`
 * and end with `suffix` (regular files; by modification time): the oldest go. Each edit of
 * the sources makes a compiled entry, each stripped program a nosymcache file. */
void bpfcache_prune(const char *path, const char *prefix, const char *suffix, int keep);

struct bpfcache {
	char path[PATH_MAX]; /* the entry's file; "" when the cache is off */
	char *key;	     /* everything the compile depends on, as text */
	size_t keylen;
	bool hit;   /* the module came from the entry */
	void *blob; /* a hit's file contents: the image points into it */
	struct tracer_bpf_image img;
};

/*
 * Names the entry of a compile: the key is the tracer's and libbcc's identity, the kernel
 * (uname), the kernel headers (`kheaders`: which, libbcc's BCC_KERNEL_SOURCE), the compile
 * flags in order (settings, the headers' other half, struct offsets), the source
 * text libbcc compiles, and every header in `bpf_dir` (they are #included from there). `c`
 * starts zeroed; what it held before is freed.
 * The cache is off (c->path "") when its directory cannot be made safe. Returns 0 or
 * -ENOMEM.
 */
int bpfcache_key(struct bpfcache *c, const char *bpf_dir, const char *source,
		 const char *const *cflags, int ncflags, const char *kheaders);

/*
 * Reads the entry: 1 and c->img filled (valid until bpfcache_free) when it is there, is
 * ours (owner, mode 0600, a regular file), its key is c->key byte for byte and its payload
 * matches its SHA-256; 0 when it is not there or is not trusted (`why` says why, for -v).
 */
int bpfcache_get(struct bpfcache *c, char *why, size_t whylen);

/* Writes module tb as the entry (mode 0600, to a temporary file renamed into place); then
 * the oldest entries go, past BPFCACHE_MAX_ENTRIES. Returns 0 or -errno. */
int bpfcache_put(const struct bpfcache *c, const struct tracer_bpf *tb);

/* The same for a module already described as an image (the unit test's way in). */
int bpfcache_put_image(const struct bpfcache *c, const struct tracer_bpf_image *img);

/* Parses an entry's contents (exposed for the unit test): fills *img pointing into buf.
 * Returns 0, or -EINVAL when it is malformed or its key is not `key`. */
int bpfcache_parse(const void *buf, size_t len, const char *key, size_t keylen,
		   struct tracer_bpf_image *img);

void bpfcache_free(struct bpfcache *c);

#endif
