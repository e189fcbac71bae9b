/* SPDX-License-Identifier: Apache-2.0 */
/* probes_nosym.c - the @stripped specs resolved in an executable without symbols: its
 * functions found by what their code carries (nosym.c), remembered by build id */
#include "probes_nosym.h"
#include "diag.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "callsite.h"
#include "nosym.h"
#include "nosym_checks.h"
#include "nosym_named.h"
#include "nosymcache.h"

/* The functions the @stripped specs name (theirs and their callers'), each once. */
struct wanted {
	const char *names[NOSYM_MAX_NAMES];
	char buf[NOSYM_MAX_NAMES][128];
	struct nosym_found found[NOSYM_MAX_NAMES];
	int n;
};

static int want(struct wanted *w, const char *name)
{
	size_t len = strlen(name);
	int i;

	for (i = 0; i < w->n; i++)
		if (strcmp(w->names[i], name) == 0)
			return i;
	if (w->n == NOSYM_MAX_NAMES || len >= sizeof(w->buf[0]))
		return -1;
	memcpy(w->buf[w->n], name, len + 1);
	w->names[w->n] = w->buf[w->n];
	return w->n++;
}

/* The function named `name`'s result, or NULL when it was not looked for. */
static const struct nosym_found *result(const struct wanted *w, const char *name)
{
	int i;

	for (i = 0; i < w->n; i++)
		if (strcmp(w->names[i], name) == 0)
			return &w->found[i];
	return NULL;
}

/*
 * The names' results: from the cache when it has them all and every function found there
 * is verified anew, else by a search of the whole file (remembered). Sets *cached.
 */
static int find_all(struct nosym_file *f, struct wanted *w, bool *cached, int verbose,
		    const char *lib_path)
{
	int i, err;

	*cached = false;
	if (nosymcache_load(f->build_id, w->names, w->n, w->found) == 0) {
		for (i = 0; i < w->n; i++)
			if (w->found[i].err == 0 && nosym_verify(f, w->names[i], &w->found[i]))
				break;
		if (i == w->n) {
			*cached = true;
			return 0;
		}
		diag("the cached place of '%s' in '%s' does not hold (%s): searching anew\n",
		     w->names[i], lib_path, w->found[i].why);
	}
	err = nosym_find(f, w->names, w->n, w->found);
	if (err <= 0)
		return err; /* an error, or nothing worth remembering: no string to search for */
	err = nosymcache_save(f->build_id, w->names, w->n, w->found);
	if (err && err != -ENOENT && verbose)
		diag("cannot remember what was found in '%s': %s\n", lib_path, strerror(-err));
	return 0;
}

/* What --list-probes says of a function found so (s: its spec, whose callers are named). */
static void evidence(char *buf, size_t size, const struct nosym_found *r, const char *name,
		     bool cached, const struct probe_spec *s)
{
	const char *from = cached ? "cache (verified): " : "";
	int n;

	switch (r->how) {
	case NOSYM_BY_CALLERS:
		n = snprintf(buf, size,
			     "%snamed by callers: \"%s\" loaded after a call of it x%d, begins "
			     "with an error check of %s",
			     from, name, r->nsites, r->file);
		break;
	case NOSYM_BY_CHECKS:
		n = cached ? snprintf(buf, size,
				      "%s%s's error checks of %s: %s's first one where it was",
				      from, nosym_checks_library(name), r->file, name)
			   : snprintf(buf, size,
				      "%s's error checks of %s: %s's reasons in line order x%d%s, "
				      "called x%d%s",
				      nosym_checks_library(name), r->file, name, r->nsites,
				      r->lines, r->ncallers,
				      strcmp(name, "SSL_read") != 0 ? ""
				      : r->inlined		    ? ", SSL_peek inlined"
						   : ", SSL_peek, which SSL_read calls");
		break;
	case NOSYM_BY_VTABLE:
		n = snprintf(buf, size, "%s%s's %s, .eh_frame entry", from, r->file, r->says);
		break;
	default:
		n = snprintf(buf, size, "%serror sites: \"%s\" in %s x%d, .eh_frame entry", from,
			     name, r->file[0] ? r->file : "?", r->nsites);
	}
	for (int k = 0; k < s->ncallers && n > 0 && (size_t)n < size; k++)
		n += snprintf(buf + n, size - (size_t)n, "%s%s", k ? "&" : ", called by ",
			      s->callers[k]);
}

/* One @stripped spec: its function (and its callers, who must reach it, read from
 * code_path: the file as it was opened, which a process that exits meanwhile keeps open
 * for us) found. -ENOENT when one is not, with why (NULL when simply absent). */
static int add_stripped_spec(struct probe_set *set, const struct wanted *w,
			     struct resolved_probe *rp, bool cached, const char *code_path,
			     const char **why)
{
	const struct probe_spec *s = rp->spec;
	const struct nosym_found *fn = result(w, s->func), *c;

	*why = NULL;
	if (!fn || fn->err) {
		*why = fn && fn->err != -ENOENT ? fn->why : NULL;
		return -ENOENT;
	}
	for (; rp->ncallers < s->ncallers; rp->ncallers++) {
		c = result(w, s->callers[rp->ncallers]);
		if (!c || c->err) {
			*why = "a function it is known by is not found";
			return -ENOENT;
		}
		rp->callers[rp->ncallers].offset = c->offset;
	}
	if (rp->ncallers) {
		int r = callsite_reaches(code_path, rp->callers, rp->ncallers, fn->offset);

		if (r == -ENOMEM)
			return r;
		if (r) {
			*why = r == -ENOENT ? "the functions it is known by do not call it"
					    : "its callers' code cannot be read";
			return -ENOENT;
		}
	}
	rp->offset = fn->offset;
	evidence(rp->evidence, sizeof(rp->evidence), fn, rp->func, cached, s);
	return probes_add_one(set, rp);
}

/*
 * A program that carries TLS code no probe is placed in is named, with the library and why
 * (a user must not be left to guess why nothing is seen): BoringSSL whose functions are not
 * found for sure, rustls whose record layer or AEAD is not found.
 */
static void say_untaken(struct nosym_file *f, const struct wanted *w, const char *lib_path)
{
	const struct nosym_found *wr = result(w, "SSL_write"), *rd = result(w, "SSL_read");
	const struct nosym_found *seal = result(w, "EVP_AEAD_CTX_seal");
	const struct nosym_found *enc = result(w, "rustls_tls13_encrypt");
	const char *why = wr && wr->err == -EINVAL   ? wr->why
			  : rd && rd->err == -EINVAL ? rd->why
						     : NULL;
	char crate[48], provider[48] = "", said[320];

	if (nosym_has_boringssl(f)) {
		diag("not probing '%s': it carries BoringSSL (%s), but not its SSL_write and "
		     "SSL_read for sure: %s\n",
		     lib_path, NOSYM_BORING_FILE,
		     why ? why : "no function makes the error checks they make");
	} else if (nosym_crate(f, "rustls", crate, sizeof(crate))) {
		if (!nosym_crate(f, "aws-lc-rs", provider, sizeof(provider)))
			nosym_crate(f, "ring", provider, sizeof(provider));
		if (strncmp(crate, "rustls-0.20.", 12) == 0 && enc && enc->err == -EINVAL)
			snprintf(said, sizeof(said), "but not its record layer for sure: %s",
				 enc->why);
		else if (strncmp(crate, "rustls-0.20.", 12) == 0)
			snprintf(said, sizeof(said),
				 "but its encrypters and decrypters are not found by their "
				 "symbols, nor by the literals they copy and the vtables that call "
				 "them (a build the tracer does not know)");
		else if (!nosym_has_awslc_aead(f))
			snprintf(said, sizeof(said),
				 "which the tracer cannot trace yet without aws-lc (it traces "
				 "rustls 0.20, and rustls on aws-lc by aws-lc's AEAD functions)");
		else if (seal && seal->err == -EINVAL)
			snprintf(said, sizeof(said),
				 "but not aws-lc's EVP_AEAD_CTX_seal and EVP_AEAD_CTX_open for "
				 "sure: %s",
				 seal->why);
		else
			snprintf(said, sizeof(said),
				 "but aws-lc's EVP_AEAD_CTX_seal and EVP_AEAD_CTX_open are not "
				 "found by the error checks of their code (an aws-lc build the "
				 "tracer does not know)");
		diag("not probing '%s': it carries Rust's %s%s%s%s, %s\n", lib_path, crate,
		     provider[0] ? " (with " : "", provider, provider[0] ? ")" : "", said);
	}
}

/* Whether spec file `s`'s @stripped lines found something, or were unsure of a function. */
static bool file_found(const struct spec_table *t, const struct probe_spec *s,
		       const struct wanted *w)
{
	const struct nosym_found *fn;
	int i;

	for (i = 0; i < t->n; i++) {
		if (strcmp(t->specs[i].library, SPEC_STRIPPED) != 0 ||
		    !probes_same_spec_file(&t->specs[i], s))
			continue;
		fn = result(w, t->specs[i].func);
		if (fn && (fn->err == 0 || fn->err == -EINVAL))
			return true;
	}
	return false;
}

/*
 * The @stripped lines of spec file `first`'s (the first of them) added: all of its
 * required functions found, or none of its probes (said when it found some). Returns the
 * number of probes added, -EINVAL when a required one is not found, -ENOMEM.
 */
static int add_spec_file(struct probe_set *set, const struct spec_table *t, int first,
			 const struct wanted *w, bool cached, const char *lib_path,
			 const char *open_path, const char *code_path, int verbose)
{
	int n = set->n, i, r;
	const char *why;

	for (i = first; i < t->n; i++) {
		const struct probe_spec *s = &t->specs[i];
		struct resolved_probe rp;

		if (strcmp(s->library, SPEC_STRIPPED) != 0 ||
		    !probes_same_spec_file(s, &t->specs[first]))
			continue;
		probes_init_one(&rp, s, lib_path, open_path);
		r = add_stripped_spec(set, w, &rp, cached, code_path, &why);
		if (r == -ENOMEM) {
			set->n = n;
			return r;
		}
		if (r && s->required) {
			if (file_found(t, s, w))
				diag("not probing '%s': TLS code is found in it without symbols, "
				     "but not '%s' for sure%s%s (%s)\n",
				     lib_path, rp.func, why ? ": " : "", why ? why : "", s->origin);
			set->n = n; /* none of its probes are taken: said once */
			return -EINVAL;
		}
		if (r && verbose && file_found(t, s, w))
			diag("skipping optional '%s': not found for sure in '%s'%s%s (%s)\n",
			     s->symbol, lib_path, why ? ": " : "", why ? why : "", s->origin);
	}
	return set->n - n;
}

int probes_add_stripped_specs(struct probe_set *set, const struct spec_table *t,
			      const char *lib_path, const char *open_path, int verbose)
{
	struct wanted w = {.n = 0};
	struct nosym_file f;
	char msg[160] = "", code_path[48];
	int i, r, added = 0, found = 0, told = 0;
	bool cached;

	for (i = 0; i < t->n; i++) {
		const struct probe_spec *sp = &t->specs[i];
		int k;

		if (strcmp(sp->library, SPEC_STRIPPED) != 0)
			continue;
		r = want(&w, sp->func);
		for (k = 0; k < sp->ncallers && r >= 0; k++)
			r = want(&w, sp->callers[k]);
		if (r < 0 && !told++)
			diag("%s: more than %d functions to find without symbols: '%s' and the "
			     "ones after it are not looked for\n",
			     sp->origin, NOSYM_MAX_NAMES, sp->symbol);
	}
	r = nosym_open(open_path, &f, msg, sizeof(msg));
	if (r) {
		if (verbose && r == -ENOTSUP)
			diag("not looking for TLS code without symbols in '%s': %s\n", lib_path,
			     msg);
		return r == -ENOMEM ? r : -EINVAL;
	}
	r = find_all(&f, &w, &cached, verbose, lib_path);
	if (r) {
		nosym_close(&f);
		diag("cannot read the code of '%s': %s\n", lib_path, strerror(-r));
		return r == -ENOMEM ? r : -EINVAL;
	}
	for (i = 0; i < w.n; i++)
		found += w.found[i].err == 0;
	if (!found)
		say_untaken(&f, &w, lib_path);
	/* the file stays open while its probes are resolved: its code is read through our own
	 * descriptor, whether or not the process that mapped it still runs */
	snprintf(code_path, sizeof(code_path), "/proc/self/fd/%d", f.elf.fd);
	/* each spec file's lines on their own: its TLS code, whatever another file's finds */
	for (i = 0; i < t->n && found; i++) {
		int j;

		for (j = 0; j < i && !(strcmp(t->specs[j].library, SPEC_STRIPPED) == 0 &&
				       probes_same_spec_file(&t->specs[j], &t->specs[i]));
		     j++)
			;
		if (strcmp(t->specs[i].library, SPEC_STRIPPED) != 0 || j < i)
			continue; /* not @stripped, or its file is done */
		r = add_spec_file(set, t, i, &w, cached, lib_path, open_path, code_path, verbose);
		if (r == -ENOMEM) {
			nosym_close(&f);
			return r;
		}
		added += r > 0 ? r : 0;
	}
	nosym_close(&f);
	return added ? 0 : -EINVAL;
}
