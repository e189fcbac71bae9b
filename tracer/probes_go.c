/* probes_go.c - the @go specs resolved in a Go program: its functions found through its
 * .gopclntab (gosym.c), an entry probe each, a `returns` probe on each return instruction */
#include "probes.h"
#include "diag.h"
#include "probes_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gosym.h"

/* One @go spec in the Go program g: a probe at the function's entry, or for `returns` one
 * at each of its return instructions. -ENOENT when the function is not there; -EINVAL when
 * its returns cannot be told for sure (said). */
static int add_go_spec(struct probe_set *set, const struct gosym_file *g,
		       const struct resolved_probe *base)
{
	uint64_t entry, end, offsets[GOSYM_MAX_RETURNS];
	struct resolved_probe rp = *base;
	char why[256];
	int i, n;

	if (gosym_find(&g->table, base->func, &entry, &end) != 0)
		return -ENOENT;
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
	int i, r, err = 0;

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
	for (i = 0; i < t->n && err != -ENOMEM; i++) {
		const struct probe_spec *s = &t->specs[i];
		struct resolved_probe rp;

		if (strcmp(s->library, SPEC_GO) != 0)
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
		r = add_go_spec(set, &g, &rp);
		if (r == -ENOENT && !s->required && verbose)
			diag("skipping optional '%s': not in Go program '%s' (%s)\n", s->symbol,
			     lib_path, s->origin);
		if (r == -ENOMEM || (r && s->required))
			err = err ? err : r == -ENOENT ? -EINVAL : r;
	}
	if (!err && verbose)
		diag("'%s' is a Go program (%s, functions from %s)\n", lib_path,
		     g.version[0] ? g.version : "version not recorded",
		     g.from_section ? "its .gopclntab section" : "a .gopclntab found by its magic");
	gosym_close(&g);
	return err;
}
