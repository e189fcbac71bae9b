/* SPDX-License-Identifier: Apache-2.0 */
/* probeset.c - the probes found so far: added with the next attach cookie, looked up by
 * it, compared between two sets, freed */
#include "probeset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void probes_init_one(struct resolved_probe *rp, const struct probe_spec *s, const char *lib_path,
		     const char *open_path)
{
	memset(rp, 0, sizeof(*rp));
	rp->spec = s;
	spec_display_name(s->symbol, rp->func, sizeof(rp->func));
	snprintf(rp->lib_path, sizeof(rp->lib_path), "%s", lib_path);
	snprintf(rp->open_path, sizeof(rp->open_path), "%s", open_path);
}

int probes_add_one(struct probe_set *set, const struct resolved_probe *rp)
{
	int c = set->n / PROBES_CHUNK;

	if (c >= PROBES_MAX_CHUNKS)
		return -ENOSPC;
	if (!set->chunk[c] && !(set->chunk[c] = calloc(PROBES_CHUNK, sizeof(*rp))))
		return -ENOMEM;
	*probes_at(set, set->n) = *rp;
	probes_at(set, set->n)->id = set->id_base + (uint64_t)set->n + 1;
	__atomic_store_n(&set->n, set->n + 1, __ATOMIC_RELEASE);
	return 0;
}

bool probes_same_spec_file(const struct probe_spec *a, const struct probe_spec *b)
{
	const char *ca = strrchr(a->origin, ':'), *cb = strrchr(b->origin, ':');

	return ca && cb && ca - a->origin == cb - b->origin &&
	       strncmp(a->origin, b->origin, (size_t)(ca - a->origin)) == 0;
}

/* The probe `id` names in `set` alone. */
static const struct resolved_probe *by_id(const struct probe_set *set, uint64_t id)
{
	int n = __atomic_load_n(&set->n, __ATOMIC_ACQUIRE);

	return id > set->id_base && id <= set->id_base + (uint64_t)n
		       ? probes_at(set, (int)(id - set->id_base - 1))
		       : NULL;
}

const struct resolved_probe *probes_by_id(const struct probe_set *set, uint64_t id)
{
	const struct resolved_probe *rp = NULL;

	for (; set && !rp; set = set->older)
		rp = by_id(set, id);
	return rp;
}

bool probes_own_code(const struct resolved_probe *rp, int64_t delta)
{
	uint64_t off = rp->offset + (uint64_t)delta;

	return off >= rp->code_start && off < rp->code_end;
}

const struct resolved_probe *probes_of_call(const struct probe_set *set, uint64_t id,
					    int64_t ret_delta)
{
	const struct resolved_probe *rp = NULL;
	int k;

	for (; set && !(rp = by_id(set, id)); set = set->older)
		;
	for (k = 0; rp && k < rp->ncallers; k++) /* ret_delta counts from where it was hit */
		if (rp->callers[k].ret_delta == ret_delta + (int64_t)rp->shift &&
		    rp->caller_probe[k] != PROBE_NONE)
			return probe_of_ref(set, rp->caller_probe[k]);
	return rp;
}

static bool same_probe(const struct resolved_probe *a, const struct resolved_probe *b)
{
	return strcmp(a->lib_path, b->lib_path) == 0 && strcmp(a->func, b->func) == 0 &&
	       a->spec->kind == b->spec->kind && strcmp(a->spec->bpf_fn, b->spec->bpf_fn) == 0;
}

/* Writes the attached probes of `a` that `b` lacks, grouped by library, into buf. */
static void list_missing(const struct probe_set *a, const struct probe_set *b, char *buf,
			 size_t size)
{
	const char *lib = NULL, *base;
	size_t used = 0;
	int i, j;

	buf[0] = '\0';
	for (i = 0; i < a->n && used < size; i++) {
		const struct resolved_probe *ap = probes_at(a, i);

		if (ap->via != PROBE_NONE)
			continue;
		for (j = 0; j < b->n && (probes_at(b, j)->via != PROBE_NONE ||
					 !same_probe(ap, probes_at(b, j)));
		     j++)
			;
		if (j < b->n)
			continue;
		if (lib && strcmp(lib, ap->lib_path) != 0) {
			base = strrchr(lib, '/');
			used += snprintf(buf + used, size - used, " in %s; ",
					 base ? base + 1 : lib);
		} else if (lib) {
			used += snprintf(buf + used, size - used, ", ");
		}
		if (used < size)
			used += snprintf(buf + used, size - used, "%s %s", ap->func,
					 probe_kind_name(ap->spec->kind));
		lib = ap->lib_path;
	}
	if (lib && used < size) {
		base = strrchr(lib, '/');
		snprintf(buf + used, size - used, " in %s", base ? base + 1 : lib);
	}
}

void probes_diff(const struct probe_set *old, const struct probe_set *cur, char *added,
		 size_t addsize, char *removed, size_t remsize)
{
	list_missing(cur, old, added, addsize);
	list_missing(old, cur, removed, remsize);
}

const struct resolved_probe *probes_file_first(const struct probe_set *set, int f)
{
	return set->files[f].tls ? probes_at(set, set->files[f].first_probe) : NULL;
}

void probes_libraries(const struct probe_set *set, char *buf, size_t size)
{
	const struct resolved_probe *rp;
	size_t used = 0;
	int f;

	buf[0] = '\0';
	for (f = 0; f < set->nfiles; f++)
		if ((rp = probes_file_first(set, f)))
			used += snprintf(buf + used, used < size ? size - used : 0, "%s%s",
					 used ? ", " : "", rp->lib_path);
}

void probes_free(struct probe_set *set)
{
	int c;

	for (c = 0; c < PROBES_MAX_CHUNKS; c++)
		free(set->chunk[c]);
	free(set->files);
	*set = (struct probe_set){0};
}
