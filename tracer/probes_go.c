/* SPDX-License-Identifier: Apache-2.0 */
/* probes_go.c - the @go specs resolved in a Go program: its functions found through its
 * .gopclntab (gosym.c); a probe on each call site where the plaintext passes (gosite.c), or
 * where those are not recognised, an entry probe and one on each return instruction */
#include "probes_go.h"
#include "diag.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gosite.h"
#include "gosym.h"

/* The call sites of a `sites` spec (gosite.h), each a probe with its *tls.Conn's place in
 * its cookie. -EAGAIN when they are not found for sure (said with -v: the function's
 * fallback specs stand in). */
static int add_go_sites(struct probe_set *set, const struct gosym_file *g,
			struct resolved_probe *rp, uint64_t entry, uint64_t end, int verbose)
{
	struct gosite sites[GOSITE_MAX];
	int i, n, first = set->n;
	char why[256];

	n = gosite_find(g, rp->func, entry, end, sites, GOSITE_MAX, why, sizeof(why));
	if (n == -ENOMEM)
		return n;
	if (n < 0) {
		if (verbose)
			diag("Go function '%s' in '%s' (%s): call sites not recognised (%s); "
			     "probed at its entry and returns instead\n",
			     rp->func, rp->lib_path, rp->spec->origin, why);
		return -EAGAIN;
	}
	for (i = 0; i < n; i++)
		if (gosym_file_offset(g, sites[i].addr) == UINT64_MAX)
			return -EAGAIN;
	for (i = 0; i < n; i++) { /* all of them or none */
		rp->offset = gosym_file_offset(g, sites[i].addr);
		rp->arg = sites[i].conn_slot;
		snprintf(rp->evidence, sizeof(rp->evidence), "pclntab: %s", sites[i].why);
		if (probes_add_one(set, rp)) {
			set->n = first;
			return -ENOMEM;
		}
	}
	return 0;
}

/* One @go spec in the Go program g: a probe at the function's entry, for `returns` one at
 * each of its return instructions, for `sites` one at each call site. -ENOENT when the
 * function is not there; -EINVAL when its returns cannot be told for sure (said); -EAGAIN
 * when its sites cannot. */
static int add_go_spec(struct probe_set *set, const struct gosym_file *g,
		       const struct resolved_probe *base, int verbose)
{
	uint64_t entry, end, offsets[GOSYM_MAX_RETURNS];
	struct resolved_probe rp = *base;
	char why[256];
	int i, n;

	if (gosym_find(&g->table, base->func, &entry, &end) != 0)
		return -ENOENT;
	if (base->spec->kind == PROBE_SITES)
		return add_go_sites(set, g, &rp, entry, end, verbose);
	if (base->spec->kind == PROBE_ENTRY) {
		rp.offset = gosym_file_offset(g, gosym_entry_probe(g, entry, end));
		if (rp.offset == UINT64_MAX)
			return -ENOENT;
		return probes_add_one(set, &rp);
	}
	n = gosym_returns(g, entry, end, offsets, GOSYM_MAX_RETURNS, why, sizeof(why));
	if (n < 0) {
		diag("not probing Go function '%s' in '%s' (%s): %s\n", base->func, base->lib_path,
		     base->spec->origin, why);
		return n == -ENOMEM ? n : -EINVAL;
	}
	for (i = 0; i < n; i++) {
		rp.offset = offsets[i];
		if (probes_add_one(set, &rp))
			return -ENOMEM;
	}
	return 0;
}

/* Whether the table has a fallback line for Go function `symbol`. */
static bool has_fallback(const struct spec_table *t, const char *symbol)
{
	int j;

	for (j = 0; j < t->n; j++)
		if (t->specs[j].fallback && strcmp(t->specs[j].symbol, symbol) == 0)
			return true;
	return false;
}

/* Whether the fallback spec s is wanted: the `sites` spec of its function (sites_found, by
 * index) was not found, or there is none. */
static bool fallback_wanted(const struct spec_table *t, const struct probe_spec *s,
			    const bool *sites_found)
{
	int j;

	for (j = 0; j < t->n; j++)
		if (t->specs[j].kind == PROBE_SITES && strcmp(t->specs[j].library, SPEC_GO) == 0 &&
		    strcmp(t->specs[j].symbol, s->symbol) == 0 && sites_found[j])
			return false;
	return true;
}

/*
 * The @go specs in the file: found through its .gopclntab when it is a Go program built
 * with the register ABI (Go 1.17+). A file that is no Go program, or lacks a required
 * function (a Go program without crypto/tls), gets no probes and no word (-EINVAL, as an
 * executable without the symbols); one whose table cannot be read, or built with the
 * stack ABI, is named.
 */
int probes_add_go_specs(struct probe_set *set, const struct spec_table *t, const char *lib_path,
			const char *open_path, int verbose)
{
	struct gosym_file g;
	char why[256] = "";
	uint64_t entry, end;
	bool *sites_found;
	int k, r, err = 0;

	r = gosym_open(open_path, &g, why, sizeof(why));
	if (r) {
		if (r == -EINVAL || r == -ENOTSUP)
			diag("not probing Go program '%s': %s\n", lib_path,
			     r == -EINVAL
				     ? why
				     : "built for another architecture, or with Go 1.15 or "
				       "older, whose functions take their arguments on the "
				       "stack; crypto/tls is traced in amd64 programs of Go 1.17 "
				       "or later");
		return r == -ENOMEM ? r : -EINVAL;
	}
	sites_found = calloc((size_t)t->n + 1, sizeof(*sites_found));
	if (!sites_found) {
		gosym_close(&g);
		return -ENOMEM;
	}
	/* the fallbacks last: they are wanted where a function's sites were not found */
	for (k = 0; k < 2 * t->n && err != -ENOMEM; k++) {
		const struct probe_spec *s = &t->specs[k % t->n];
		struct resolved_probe rp;

		if (strcmp(s->library, SPEC_GO) != 0 || s->fallback != (k >= t->n) ||
		    (s->fallback && !fallback_wanted(t, s, sites_found)))
			continue;
		probes_init_one(&rp, s, lib_path, open_path);
		if (!g.register_abi) {
			if (gosym_find(&g.table, s->symbol, &entry, &end) == 0) {
				diag("not probing Go program '%s': built with %s, whose functions "
				     "take their arguments on the stack; crypto/tls is traced in "
				     "programs of Go 1.17 or later\n",
				     lib_path, g.version[0] ? g.version : "Go 1.16");
				err = -EINVAL;
				break;
			}
			continue;
		}
		r = add_go_spec(set, &g, &rp, verbose);
		if (r == -EAGAIN && has_fallback(t, s->symbol))
			continue; /* its fallbacks stand in */
		if (r == -EAGAIN) {
			diag("not probing Go function '%s' in '%s' (%s): its call sites are not "
			     "recognised (-v says why) and no fallback line stands in\n",
			     s->symbol, lib_path, s->origin);
			r = -EINVAL;
		}
		if (r == 0 && s->kind == PROBE_SITES)
			sites_found[k % t->n] = true;
		if (r == -ENOENT && !s->required && verbose)
			diag("skipping optional '%s': not in Go program '%s' (%s)\n", s->symbol,
			     lib_path, s->origin);
		if (r == -ENOMEM || (r && s->required))
			err = err ? err : r == -ENOENT ? -EINVAL : r;
	}
	free(sites_found);
	if (!err && verbose)
		diag("'%s' is a Go program (%s, functions from %s)\n", lib_path,
		     g.version[0] ? g.version : "version not recorded",
		     g.from_section ? "its .gopclntab section" : "a .gopclntab found by its magic");
	gosym_close(&g);
	return err;
}
