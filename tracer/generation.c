/* SPDX-License-Identifier: Apache-2.0 */
/* generation.c - a compile of bpf_src made ready to act: its settings, the slots of the specs'
 * BPF functions for the scope's dispatcher, and kept in the compile cache once it proved good */
#define _GNU_SOURCE
#include "generation.h"
#include "diag.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tls_event.h"
#include "tracer_bpf.h"

/* Puts the cgroup of directory dir into the map the settings' TLS_SET_CGROUP looks at. */
static int put_cgroup(struct tracer_bpf *tb, const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err;

	if (fd < 0) {
		err = -errno;
		diag("failed to open cgroup %s: %s\n", dir, strerror(errno));
		return err;
	}
	/* the map takes the fd and holds the cgroup itself */
	err = tracer_bpf__update(tb, CGROUP_TABLE, 0, &fd, sizeof(fd));
	close(fd);
	if (err)
		diag("failed to put cgroup %s into BPF map '%s': %s\n", dir, CGROUP_TABLE,
		     err == -ENOENT ? "bpf_src defines no such map" : strerror(-err));
	return err;
}

int generation_settings(struct tracer_bpf *tb, const struct env *env, unsigned int gen,
			const struct tracer_scope *scope)
{
	struct tls_settings set = {
		.dirs = (env->no_read ? 0 : 1u << TLS_DIR_READ) |
			(env->no_write ? 0 : 1u << TLS_DIR_WRITE),
		.sample = env->sample,
		.uid = env->any_uid ? TLS_ANY_UID : env->uid,
		.flags = (env->all ? TLS_SET_ALL : 0) | (scope ? TLS_SET_SCOPE : 0) |
			 (scope && tracer_scope__guards(scope) ? TLS_SET_GUARDS : 0),
		.max_call_bytes = (uint64_t)env->max_call_bytes,
		.gen = gen,
	};
	char filters[128];
	int err;

	memcpy(set.comm, env->comm, sizeof(set.comm));
	if (env->cgroup[0]) {
		set.flags |= TLS_SET_CGROUP;
		if ((err = put_cgroup(tb, env->cgroup)))
			return err;
	}
	err = tracer_bpf__update(tb, SETTINGS_TABLE, 0, &set, sizeof(set));
	options_describe_filters(env, filters, sizeof(filters));
	/* Without the map the compiled bound, MAX_CHUNKS whole chunks, is the limit: fine
	 * when no filter is asked for and the limit is a whole number of chunks. */
	if (err == -ENOENT && !filters[0] && !env->all && !env->comm[0] && !scope &&
	    env->max_call_bytes % env->max_data_size == 0)
		err = 0;
	if (err)
		diag("failed to write the settings to BPF map '%s': %s\n", SETTINGS_TABLE,
		     err == -ENOENT   ? "bpf_src defines no such map"
		     : err == -EINVAL ? "its value is not a struct tls_settings of tls_event.h"
				      : strerror(-err));
	return err;
}

bool generation_can_scope(struct tracer_bpf *tb)
{
	return tracer_bpf__has_function(tb, DISPATCH_ENTRY) &&
	       tracer_bpf__has_function(tb, DISPATCH_RETURN) &&
	       tracer_bpf__has_table(tb, POINTS_TABLE) &&
	       tracer_bpf__has_table(tb, POINT_PROGS_TABLE) &&
	       tracer_bpf__has_table(tb, SETTINGS_TABLE);
}

int generation_slots(struct tracer_bpf *tb, const struct spec_table *specs,
		     struct point_slots *slots)
{
	char why[TRACER_BPF_ERRLEN];
	int i, k, err;

	slots->n = 0;
	slots->names = calloc((size_t)specs->n + 1, sizeof(*slots->names));
	if (!slots->names) {
		diag("out of memory for the slots of '%s'\n", POINT_PROGS_TABLE);
		return -ENOMEM;
	}
	for (i = 0; i < specs->n; i++) {
		const char *fn = specs->specs[i].bpf_fn;

		for (k = 0; k < slots->n && strcmp(slots->names[k], fn) != 0; k++)
			;
		if (k < slots->n)
			continue;
		err = tracer_bpf__set_tail_call(tb, POINT_PROGS_TABLE, (uint32_t)slots->n, fn, why,
						sizeof(why));
		if (err == -TRACER_BPF_EVERIFIER) {
			diag("%s (loaded for %s)\n", why, specs->specs[i].origin);
			return err;
		}
		if (err) {
			diag("%s%s\n", why,
			     err == -E2BIG
				     ? " (the specs name more BPF functions than it has slots)"
				     : "");
			return err;
		}
		slots->names[slots->n++] = fn;
	}
	return 0;
}

void generation_forget_points(struct tracer_bpf *tb, unsigned int gen)
{
	struct tls_point_key *keys = malloc(TLS_MAX_POINTS * sizeof(*keys));
	int n, i;

	n = keys ? tracer_bpf__keys_of(tb, POINTS_TABLE, keys, sizeof(*keys), TLS_MAX_POINTS) : 0;
	for (i = 0; i < n; i++)
		if (keys[i].kind >> 1 == gen)
			tracer_bpf__delete_key(tb, POINTS_TABLE, &keys[i], sizeof(keys[i]));
	free(keys);
}

void generation_slots_free(struct point_slots *slots)
{
	free(slots->names);
	slots->names = NULL;
	slots->n = 0;
}

void generation_keep(struct bpfcache *cache, struct tracer_bpf *tb, int verbose)
{
	int err = bpfcache_put(cache, tb);

	if (err && verbose)
		diag("failed to keep the compiled BPF in '%s': %s\n", cache->path, strerror(-err));
}
