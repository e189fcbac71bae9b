/* SPDX-License-Identifier: Apache-2.0 */
/* nosym_rustls.c - rustls 0.20's record layer (on ring) in a program without symbols: its
 * encrypters and decrypters found by the literals they copy and the vtables that call them
 * (read by nosymliteral.c, nosymvtable.c and nosymxref.c below it) */
#define _GNU_SOURCE
#include "nosym_rustls.h"
#include "nosymliteral.h"
#include "nosymvtable.h"
#include "nosymxref.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * rustls hands each record to a MessageEncrypter and takes it from a MessageDecrypter
 * (bpf_src/rustls.c). Both are trait objects: each implementation's method is a function of
 * its own, called only through a vtable. A Rust vtable is [drop_in_place, size, align, then
 * (rustc before 1.7x) a pointer per supertrait, then the methods]; these traits have one
 * method each, so it is the last word: 3 or 4 words from the start.
 *
 * rustls 0.20 has three encrypters (TLS 1.3's, TLS 1.2's AES-GCM and ChaCha20-Poly1305) and
 * three decrypters. What tells them, without symbols:
 *   - every encrypter turns a sealing error into Error::General("encrypt failed"), and TLS
 *     1.3's decrypter turns a record with no content type into
 *     Error::PeerMisbehavedError("peer sent bad TLSInnerPlaintext"): their code makes the
 *     literal whole from pieces (Rust's literals have no NUL): immediates (rustc 1.95
 *     copies a short one as movabs constants), constants read rip-relative (rustc 1.63 reads
 *     the literal itself), or its address (a lea); and it allocates the literal's length;
 *   - such a function is a method in a vtable (the function's address in the data, never
 *     in the linker's own tables, after a drop function or 0, a size and a power-of-two
 *     alignment, and with 4 words a supertrait's pointer to a table of its own);
 *   - TLS 1.2's are made by a suite's Tls12AeadAlgorithm, whose vtable holds decrypter()
 *     then encrypter(): the function that loads an encrypter's vtable is an encrypter()
 *     method; the method before it in its vtable is the same suite's decrypter(), and the
 *     one vtable of the same shape it loads is that suite's decrypter's. TLS 1.3's encrypter
 *     is the one encrypter not made so.
 * Looked for only in a program that carries rustls 0.20 and ring (their source paths, in
 * panics' locations): the layouts bpf_src/rustls.c reads are 0.20's.
 */

#define LIT_ENCRYPT "encrypt failed"
#define LIT_INNER "peer sent bad TLSInnerPlaintext"
#define MAX_FNS 16   /* functions copying a literal */
#define MAX_REFS 256 /* address operands of a suite's decrypter() looked at */

/* The functions found, in the order of ROLE. */
enum role { TLS13_ENC, TLS13_DEC, TLS12_ENC1, TLS12_DEC1, TLS12_ENC2, TLS12_DEC2, NROLES };

static const char *const ROLE[NROLES] = {
	"rustls_tls13_encrypt",	  "rustls_tls13_decrypt",   "rustls_tls12_encrypt_1",
	"rustls_tls12_decrypt_1", "rustls_tls12_encrypt_2", "rustls_tls12_decrypt_2",
};

bool nosym_is_rustls_name(const char *name)
{
	int i;

	for (i = 0; i < NROLES; i++)
		if (strcmp(name, ROLE[i]) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------ the search */

/* A function that copies a literal, and its vtable. */
struct copier {
	uint64_t entry, site, base; /* base: its vtable's start */
	int reads, words;
	bool inner;  /* copies LIT_INNER (else LIT_ENCRYPT) */
	bool made;   /* an encrypter made by a TLS 1.2 algorithm */
	bool unsure; /* ... or a maker of it seen, its suite's decrypter not known for sure */
	uint64_t maker, dec, dec_site, dec_base;
};

struct search {
	struct nosym_file *f;
	const struct nosym_relocs *r;
	struct copier c[MAX_FNS];
	int nc;
	char why[120];
};

static const char *const LIT[2] = {LIT_ENCRYPT, LIT_INNER};
/* nosymliteral refuses a longer literal (-EINVAL, with no reason to tell): never ours */
_Static_assert(sizeof(LIT_ENCRYPT) - 1 <= NOSYMLITERAL_MAX_LEN &&
		       sizeof(LIT_INNER) - 1 <= NOSYMLITERAL_MAX_LEN,
	       "a literal longer than nosymliteral looks for");

/* Whether the function [start, end) copies LIT[l] (nosymliteral_copies): 1 when it does (c
 * filled: its first piece), 0 when not, -errno. */
static int copies_literal(struct search *s, int l, uint64_t start, uint64_t end, struct copier *c)
{
	uint64_t site;
	int pieces, n = nosymliteral_copies(s->f, LIT[l], start, end, &site, &pieces);

	if (n == 1)
		*c = (struct copier){
			.entry = start, .site = site, .reads = pieces, .inner = l == 1};
	return n;
}

/* The functions copying the literals, each with its vtable (s->c): their candidates are the
 * code holding a window of one (an immediate) or aiming at one in read-only data. */
static int find_copiers(struct search *s)
{
	struct nosym_ranges *g = calloc(1, sizeof(*g));
	uint64_t start, end, done[NOSYMXREF_MAX_HITS];
	int l, k, i, ndone = 0, err = 0, r;
	bool entry;

	if (!g) {
		err = -ENOMEM;
		goto out;
	}
	g->fixed = nosymxref_is_fixed(s->f);
	err = nosymliteral_candidates(s->f, LIT, 2, g);
	if (err)
		goto out;
	for (i = 0; i < g->nhits; i++) {
		struct copier c = {0};

		if (!nosym_fde_of(s->f, g->hits[i], &start, &end, &entry) || !entry)
			continue; /* no function's, or a part split off one: nothing claimed */
		for (k = 0; k < ndone && done[k] != start; k++)
			;
		if (k < ndone)
			continue;
		done[ndone++] = start;
		for (l = 0; l < 2 && !(err = copies_literal(s, l, start, end, &c)); l++)
			;
		if (err < 0)
			goto out;
		if (l == 2)
			continue;
		r = nosymvtable_of(s->f, s->r, start, &c.base, &c.words, s->why, sizeof(s->why));
		if (r == -EINVAL) { /* a copier whose vtable is not one: nothing is sure */
			err = r;
			goto out;
		}
		if (r)
			continue; /* not a method: another use of the words */
		if (s->nc == MAX_FNS) {
			err = -E2BIG;
			goto out;
		}
		s->c[s->nc++] = c;
	}
	err = 0;
out:
	if (err == -E2BIG) {
		snprintf(s->why, sizeof(s->why), "its literals' pieces are too many");
		err = -EINVAL;
	}
	free(g);
	return err;
}

/* The decrypter the suite's decrypter() at dec_maker makes: the one vtable of c's shape it
 * loads (lea), whose method is a function. */
static int made_decrypter(struct search *s, struct copier *c, uint64_t dec_maker)
{
	uint64_t start, end, dec = 0, base = 0, site = 0, fn;
	struct nosym_operand *refs = malloc(MAX_REFS * sizeof(*refs));
	bool entry;
	int n, i;

	if (!refs)
		return -ENOMEM;
	c->unsure = true; /* until one decrypter is known */
	n = nosym_fde_of(s->f, dec_maker, &start, &end, &entry) && start == dec_maker
		    ? nosymxref_operands(s->f, start, end, 0, UINT64_MAX, refs, MAX_REFS)
		    : 0;
	if (n < 0 || n == MAX_REFS) { /* unread, or more than were looked at */
		free(refs);
		return n == -ENOMEM ? n : 0;
	}
	for (i = 0; i < n; i++) {
		if (refs[i].size || refs[i].target == base ||
		    !nosymvtable_head_of(s->f, s->r, refs[i].target, c->words, false) ||
		    !nosymvtable_word_at(s->f, s->r, refs[i].target + 8u * c->words, &fn) ||
		    !nosymvtable_is_function(s->f, fn))
			continue;
		if (base) { /* two vtables: not one decrypter */
			free(refs);
			return 0;
		}
		base = refs[i].target;
		site = refs[i].insn;
		dec = fn;
	}
	free(refs);
	if (!dec)
		return 0;
	c->unsure = false;
	c->made = true;
	c->dec = dec;
	c->dec_site = site;
	c->dec_base = base;
	return 0;
}

/* The method before fn in a vtable of `words` words before its methods (a suite's
 * decrypter() before its encrypter()), or 0. */
static uint64_t method_before(struct search *s, uint64_t fn, int words)
{
	uint64_t slots[NOSYMVTABLE_MAX_SLOTS], before;
	int m = nosymvtable_slots_of(s->f, s->r, fn, slots, NOSYMVTABLE_MAX_SLOTS), j;

	for (j = 0; j < m; j++)
		if (slots[j] >= 8u * (words + 1) &&
		    nosymvtable_head_of(s->f, s->r, slots[j] - 8u * (words + 1), words, true) &&
		    nosymvtable_word_at(s->f, s->r, slots[j] - 8, &before) &&
		    nosymvtable_is_function(s->f, before))
			return before;
	return 0;
}

/*
 * For each encrypter, whether a TLS 1.2 suite makes it: its vtable's start loaded (lea) by
 * a function that is a method of a vtable whose method before it (the suite's decrypter())
 * loads exactly one vtable of the encrypter's shape, whose method is the suite's decrypter.
 */
static int find_makers(struct search *s)
{
	struct nosym_ranges *g = calloc(1, sizeof(*g));
	uint64_t start, end, dec_maker;
	int i, k, n, err = 0;
	bool entry;

	if (!g)
		return -ENOMEM;
	g->fixed = nosymxref_is_fixed(s->f);
	for (i = 0; i < s->nc; i++)
		if (!s->c[i].inner)
			nosymxref_add_range(g, s->c[i].base, s->c[i].base + 1);
	err = g->n ? nosymxref_scan(s->f, g) : 0;
	if (err == -E2BIG) {
		snprintf(s->why, sizeof(s->why), "its vtables are loaded too often");
		err = -EINVAL;
	}
	for (k = 0; k < g->nhits && !err; k++) {
		if (!nosym_fde_of(s->f, g->hits[k], &start, &end, &entry) || !entry)
			continue;
		for (i = 0; i < s->nc && !err; i++) {
			struct copier *c = &s->c[i];
			struct nosym_operand refs[8];

			if (c->inner || c->made)
				continue;
			n = nosymxref_operands(s->f, start, end, c->base, c->base + 1, refs, 8);
			if (n <= 0 || refs[0].size) /* not decoded so, or not a lea */
				continue;
			dec_maker = method_before(s, start, c->words);
			err = dec_maker ? made_decrypter(s, c, dec_maker) : 0;
			if (c->made)
				c->maker = start;
		}
	}
	free(g);
	return err;
}

/* out for function entry, found by what `says`. */
static void take(const struct nosym_file *f, struct nosym_found *out, uint64_t entry, uint64_t site,
		 int nsites, uint64_t vtable, const char *crate)
{
	out->err = 0;
	out->how = NOSYM_BY_VTABLE;
	out->entry = entry;
	out->offset = elf_file_offset(&f->elf, entry, true);
	out->site = site;
	out->nsites = nsites;
	out->report = vtable;
	snprintf(out->file, sizeof(out->file), "%s", crate);
}

/* Every role unsure, for why. */
static void unsure(struct nosym_found *out, const char *why)
{
	int i;

	for (i = 0; i < NROLES; i++) {
		out[i].err = -EINVAL;
		snprintf(out[i].why, sizeof(out[i].why), "%s", why);
	}
}

/* Each role's result from the copiers and their makers (s->c), into out[NROLES]. */
static void assign(struct search *s, const char *crate, struct nosym_found *out)
{
	int i, n13e = 0, n13d = 0, n12 = 0, e13 = -1, d13 = -1, pair[2] = {-1, -1};

	for (i = 0; i < NROLES; i++)
		out[i] = (struct nosym_found){.err = -ENOENT, .how = NOSYM_BY_VTABLE};
	for (i = 0; i < s->nc; i++) {
		if (s->c[i].words != s->c[0].words) {
			unsure(out, "its encrypters' and decrypters' vtables differ in shape");
			return;
		}
		if (s->c[i].unsure) {
			unsure(out, "a TLS 1.2 suite's decrypter is not known for sure");
			return;
		}
		if (s->c[i].inner)
			d13 = n13d++ ? d13 : i;
		else if (!s->c[i].made)
			e13 = n13e++ ? e13 : i;
		else if (n12++ < 2)
			pair[n12 - 1] = i;
	}
	if (n13e == 1) {
		take(s->f, &out[TLS13_ENC], s->c[e13].entry, s->c[e13].site, s->c[e13].reads,
		     s->c[e13].base, crate);
		snprintf(out[TLS13_ENC].says, sizeof(out[TLS13_ENC].says),
			 "copies \"%s\" (x%d), method of the vtable at 0x%llx, made by no TLS 1.2 "
			 "suite",
			 LIT_ENCRYPT, s->c[e13].reads, (unsigned long long)s->c[e13].base);
	} else if (n13e > 1) {
		out[TLS13_ENC].err = -EINVAL;
		snprintf(out[TLS13_ENC].why, sizeof(out[TLS13_ENC].why),
			 "%d encrypters copy \"%s\" that no TLS 1.2 suite makes", n13e,
			 LIT_ENCRYPT);
	}
	if (n13d == 1) {
		take(s->f, &out[TLS13_DEC], s->c[d13].entry, s->c[d13].site, s->c[d13].reads,
		     s->c[d13].base, crate);
		snprintf(out[TLS13_DEC].says, sizeof(out[TLS13_DEC].says),
			 "copies \"%s\" (x%d), method of the vtable at 0x%llx", LIT_INNER,
			 s->c[d13].reads, (unsigned long long)s->c[d13].base);
	} else if (n13d > 1) {
		out[TLS13_DEC].err = -EINVAL;
		snprintf(out[TLS13_DEC].why, sizeof(out[TLS13_DEC].why), "%d methods copy \"%s\"",
			 n13d, LIT_INNER);
	}
	for (i = 0; i < 2; i++) {
		struct nosym_found *e = &out[TLS12_ENC1 + 2 * i], *d = &out[TLS12_DEC1 + 2 * i];
		const struct copier *c = pair[i] >= 0 ? &s->c[pair[i]] : NULL;

		if (n12 > 2) {
			e->err = d->err = -EINVAL;
			snprintf(e->why, sizeof(e->why),
				 "%d TLS 1.2 suites make encrypters (rustls "
				 "0.20 has two)",
				 n12);
			snprintf(d->why, sizeof(d->why), "%s", e->why);
			continue;
		}
		if (!c)
			continue;
		take(s->f, e, c->entry, c->site, c->reads, c->base, crate);
		snprintf(e->says, sizeof(e->says),
			 "copies \"%s\" (x%d), method of the vtable at 0x%llx, made by a TLS 1.2 "
			 "suite at 0x%llx",
			 LIT_ENCRYPT, c->reads, (unsigned long long)c->base,
			 (unsigned long long)c->maker);
		take(s->f, d, c->dec, c->dec_site, 1, c->dec_base, crate);
		snprintf(d->says, sizeof(d->says),
			 "method of the vtable at 0x%llx, made by the decrypter() beside it in "
			 "that suite's vtable",
			 (unsigned long long)c->dec_base);
	}
}

/* What is kept of a file (nosym_file's rustls), each made once: whether it carries rustls
 * 0.20 on ring, its relocations, and the search's results. */
struct nosym_rustls {
	int carries; /* -1: not looked at yet */
	char crate[48];
	int relocs_err; /* 1: not read yet */
	struct nosym_relocs r;
	bool searched;
	int search_err;
	struct nosym_found found[NROLES];
};

/* Frees what this file keeps of a file (nosym_close calls it, through the file's
 * rustls_free); NULL is nothing. */
static void nosym_rustls_free(struct nosym_rustls *st)
{
	if (st)
		nosymvtable_free_relocs(&st->r);
	free(st);
}

/* f's state, made on its first need; NULL without memory. */
static struct nosym_rustls *state_of(struct nosym_file *f)
{
	if (!f->rustls && (f->rustls = calloc(1, sizeof(*f->rustls))) != NULL) {
		f->rustls_free = nosym_rustls_free;
		f->rustls->carries = -1;
		f->rustls->relocs_err = 1;
	}
	return f->rustls;
}

/* Whether the file names rustls 0.20 and ring in its panics' locations (the layouts
 * bpf_src/rustls.c reads are 0.20's). */
static bool carries(const struct nosym_file *f, struct nosym_rustls *st)
{
	char ring[48];

	if (st->carries < 0)
		st->carries = nosym_crate(f, "rustls", st->crate, sizeof(st->crate)) &&
			      strncmp(st->crate, "rustls-0.20.", 12) == 0 &&
			      nosym_crate(f, "ring", ring, sizeof(ring));
	return st->carries;
}

/* Its table of functions and its relocations, read once. 0, -ENOTSUP (no .eh_frame read
 * here), -ENOMEM. */
static int tables(struct nosym_file *f, struct nosym_rustls *st)
{
	int err = nosym_load_fdes(f);

	if (!err && st->relocs_err == 1)
		st->relocs_err = nosymvtable_read_relocs(f, &st->r);
	return err ? err : st->relocs_err;
}

/* The search, once per file: st->found[NROLES]. Returns 1 when the code was searched, 0
 * when the file carries no rustls 0.20 on ring (nothing searched), -ENOMEM or -EIO. */
static int search_once(struct nosym_file *f, struct nosym_rustls *st)
{
	struct search *s;
	int l, err = 0;

	if (st->searched)
		return st->search_err;
	for (l = 0; l < NROLES; l++)
		st->found[l] = (struct nosym_found){.err = -ENOENT, .how = NOSYM_BY_VTABLE};
	if (carries(f, st)) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->f = f;
		s->r = &st->r;
		err = tables(f, st);
		err = err ? err : find_copiers(s);
		err = err ? err : find_makers(s);
		if (!err)
			assign(s, st->crate, st->found);
		else if (err == -EINVAL || err == -ENOTSUP)
			unsure(st->found,
			       err == -ENOTSUP ? "no table of its functions (.eh_frame)" : s->why);
		err = err == -ENOMEM || err == -EIO ? err : 1;
		free(s);
	}
	st->searched = true;
	st->search_err = err;
	return err;
}

static int role_of(const char *name)
{
	int i;

	for (i = 0; i < NROLES && strcmp(name, ROLE[i]) != 0; i++)
		;
	return i;
}

int nosym_find_rustls(struct nosym_file *f, const char *const *names, int n,
		      struct nosym_found *out)
{
	struct nosym_rustls *st = state_of(f);
	int i, err = st ? search_once(f, st) : -ENOMEM;

	for (i = 0; i < n && err >= 0; i++)
		if (role_of(names[i]) < NROLES)
			out[i] = st->found[role_of(names[i])];
	return err;
}

/* Whether the cached claim `out` of role still holds: its entry a function and a vtable's
 * method, copying its literal from the same place (TLS 1.3's and the encrypters), or, for a
 * TLS 1.2 decrypter, its vtable loaded by a lea at the same place. 0, or -EINVAL with why. */
static int check_claim(struct search *s, int role, struct nosym_found *out)
{
	uint64_t entry = out->entry, site = out->site, start, end, base = 0, fn;
	struct copier c = {0};
	struct nosym_operand *refs;
	int words = 0, l = role == TLS13_DEC, n, i;
	bool is_entry;

	if (!nosymvtable_is_function(s->f, entry) ||
	    !nosym_fde_of(s->f, entry, &start, &end, &is_entry))
		return snprintf(out->why, sizeof(out->why), "0x%llx begins no function",
				(unsigned long long)entry),
		       -EINVAL;
	if (role == TLS12_DEC1 || role == TLS12_DEC2) {
		/* the vtable its suite's decrypter() loads at site, whose method it is */
		refs = malloc(MAX_REFS * sizeof(*refs));
		if (!refs)
			return -ENOMEM;
		n = nosym_fde_of(s->f, site, &start, &end, &is_entry) && is_entry
			    ? nosymxref_operands(s->f, start, end, 0, UINT64_MAX, refs, MAX_REFS)
			    : 0;
		for (i = 0; i < n && !base; i++)
			for (words = 3; words <= 4 && refs[i].insn == site && !refs[i].size;
			     words++)
				if (nosymvtable_head_of(s->f, s->r, refs[i].target, words, false) &&
				    nosymvtable_word_at(s->f, s->r, refs[i].target + 8u * words,
							&fn) &&
				    fn == entry) {
					base = refs[i].target;
					break;
				}
		free(refs);
		if (n == -ENOMEM)
			return n;
		if (!base)
			return snprintf(out->why, sizeof(out->why),
					"no vtable of it is loaded at 0x%llx",
					(unsigned long long)site),
			       -EINVAL;
		snprintf(out->says, sizeof(out->says),
			 "method of the vtable at 0x%llx, loaded by a TLS 1.2 suite's decrypter() "
			 "at 0x%llx",
			 (unsigned long long)base, (unsigned long long)site);
		out->report = base;
		return 0;
	}
	if (nosymvtable_of(s->f, s->r, entry, &base, &words, out->why, sizeof(out->why)))
		return -EINVAL;
	n = copies_literal(s, l, entry, end, &c);
	if (n < 0)
		return n;
	if (!n || c.site != site)
		return snprintf(out->why, sizeof(out->why), "it does not copy \"%s\" at 0x%llx",
				LIT[l], (unsigned long long)site),
		       -EINVAL;
	snprintf(out->says, sizeof(out->says),
		 "copies \"%s\" (x%d), method of the vtable at 0x%llx", LIT[l], c.reads,
		 (unsigned long long)base);
	out->nsites = c.reads;
	out->report = base;
	return 0;
}

int nosym_verify_rustls(struct nosym_file *f, const char *name, struct nosym_found *out)
{
	struct nosym_rustls *st = state_of(f);
	struct search *s;
	int role = role_of(name), err;

	if (!st)
		return out->err = -ENOMEM;
	if (role == NROLES)
		return snprintf(out->why, sizeof(out->why), "no function of rustls is so named"),
		       out->err = -EINVAL;
	if (!carries(f, st))
		return snprintf(out->why, sizeof(out->why), "it carries no rustls 0.20 on ring"),
		       out->err = -EINVAL;
	err = tables(f, st);
	if (err)
		return snprintf(out->why, sizeof(out->why),
				"no table of its functions (.eh_frame)"),
		       out->err = err == -ENOMEM ? err : -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return out->err = -ENOMEM;
	s->f = f;
	s->r = &st->r;
	err = check_claim(s, role, out);
	free(s);
	if (!err) {
		out->how = NOSYM_BY_VTABLE;
		out->offset = elf_file_offset(&f->elf, out->entry, true);
		snprintf(out->file, sizeof(out->file), "%s", st->crate);
	}
	out->err = err;
	return err;
}
