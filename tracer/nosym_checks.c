/* SPDX-License-Identifier: Apache-2.0 */
/* nosym_checks.c - functions of a stripped executable told by the error checks of their own
 * code (found and decoded by nosym_checkfuncs.c): which reasons they report, in which order of
 * source lines. BoringSSL's SSL_write and SSL_read (Bun links BoringSSL in with no symbols for
 * it, no .eh_frame, no caller that names it); aws-lc's EVP_AEAD_CTX_seal, _seal_scatter and
 * _open (Deno's rustls seals records so) */
#define _GNU_SOURCE
#include "nosym_checks.h"
#include "nosym_checkfuncs.h"
#include "nosym_named.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* OPENSSL_PUT_ERROR(SSL, reason) is ERR_put_error(ERR_LIB_SSL, 0, reason, __FILE__,
 * __LINE__); the reasons are constants of BoringSSL's public headers (ssl.h, err.h). */
#define ERR_LIB_SSL 16
#define ERR_LIB_CIPHER 30
#define R_NOT_CALLED 66	    /* ERR_R_SHOULD_NOT_HAVE_BEEN_CALLED (a QUIC connection) */
#define R_BAD_LENGTH 111    /* SSL_R_BAD_LENGTH */
#define R_HS_FAILURE 215    /* SSL_R_SSL_HANDSHAKE_FAILURE */
#define R_UNINITIALIZED 226 /* SSL_R_UNINITIALIZED */
#define R_BAD_DECRYPT 101   /* CIPHER_R_BAD_DECRYPT */
#define R_TOO_SMALL 103	    /* CIPHER_R_BUFFER_TOO_SMALL */
#define R_INVALID_OP 112    /* CIPHER_R_INVALID_OPERATION */
#define R_ALIASES 115	    /* CIPHER_R_OUTPUT_ALIASES_INPUT */
#define R_NOT_IMPL 104	    /* CIPHER_R_CTRL_NOT_IMPLEMENTED */
#define R_TOO_LARGE 117	    /* CIPHER_R_TOO_LARGE */

static const struct nosym_family BORING_SSL = {NOSYM_BORING_FILE, "ssl_lib.cc", "BoringSSL",
					       ERR_LIB_SSL, false};
static const struct nosym_family AWSLC_AEAD = {NOSYM_AWSLC_AEAD_FILE, "aead.c", "aws-lc",
					       ERR_LIB_CIPHER, true};

/* The function's reasons in the order of their lines: 0 and seq, or -1 when a check has no
 * immediate reason or line, or when they do not all report through one function. */
static int reasons_by_line(const struct nosym_checkfunc *fn, int *seq)
{
	struct nosym_check c[NOSYM_MAX_CHECKS];
	int i, j;

	if (fn->report == 0 || fn->report == UINT64_MAX)
		return -1;
	for (i = 0; i < fn->nchecks; i++) {
		if (fn->checks[i].reason < 0 || fn->checks[i].line < 0)
			return -1;
		for (j = i; j > 0 && c[j - 1].line > fn->checks[i].line; j--)
			c[j] = c[j - 1];
		c[j] = fn->checks[i];
	}
	for (i = 0; i < fn->nchecks; i++)
		seq[i] = c[i].reason;
	return 0;
}

static bool same(const int *seq, int n, const int *want, int nwant)
{
	return n == nwant && memcmp(seq, want, (size_t)n * sizeof(*seq)) == 0;
}

static int min_line(const struct nosym_checkfunc *fn)
{
	int i, m = fn->checks[0].line;

	for (i = 1; i < fn->nchecks; i++)
		m = fn->checks[i].line < m ? fn->checks[i].line : m;
	return m;
}

static int max_line(const struct nosym_checkfunc *fn)
{
	int i, m = fn->checks[0].line;

	for (i = 1; i < fn->nchecks; i++)
		m = fn->checks[i].line > m ? fn->checks[i].line : m;
	return m;
}

/* What kind of function of the family's file fn is, by its reasons in line order. */
enum kind {
	K_OTHER,
	K_WRITE,
	K_READ_IMPL,
	K_PEEK,	      /* SSL_peek's QUIC check alone: SSL_peek, or SSL_read with it inlined */
	K_READ_WHOLE, /* ssl_read_impl's checks, then SSL_peek's: both inlined into it */
	K_SEAL,	      /* EVP_AEAD_CTX_seal: too large, buffer too small, output aliases input */
	K_OPEN,	      /* EVP_AEAD_CTX_open: output aliases input, bad decrypt, too small */
	K_SCATTER,    /* EVP_AEAD_CTX_seal_scatter: output aliases input, invalid operation */
};

static enum kind kind_of(const struct nosym_checkfunc *fn, const struct nosym_family *fam)
{
	static const int write[] = {R_NOT_CALLED, R_UNINITIALIZED, R_HS_FAILURE, R_BAD_LENGTH};
	static const int read_whole[] = {R_UNINITIALIZED, R_HS_FAILURE, R_NOT_CALLED};
	static const int *read_impl = read_whole, *peek = read_whole + 2;
	static const int seal[] = {R_TOO_LARGE, R_TOO_SMALL, R_ALIASES};
	/* open, and open with EVP_AEAD_CTX_open_gather inlined into it (clang's builds) */
	static const int open[] = {R_ALIASES, R_BAD_DECRYPT, R_TOO_SMALL, R_ALIASES, R_NOT_IMPL};
	static const int scatter[] = {R_ALIASES, R_INVALID_OP};
	int seq[NOSYM_MAX_CHECKS];

	if (fn->nchecks >= NOSYM_MAX_CHECKS || reasons_by_line(fn, seq))
		return K_OTHER;
	if (fam == &AWSLC_AEAD)
		return same(seq, fn->nchecks, seal, 3)					    ? K_SEAL
		       : same(seq, fn->nchecks, open, 3) || same(seq, fn->nchecks, open, 5) ? K_OPEN
		       : same(seq, fn->nchecks, scatter, 2) ? K_SCATTER
							    : K_OTHER;
	if (same(seq, fn->nchecks, write, 4))
		return K_WRITE;
	if (same(seq, fn->nchecks, read_impl, 2))
		return K_READ_IMPL;
	if (same(seq, fn->nchecks, peek, 1))
		return K_PEEK;
	if (same(seq, fn->nchecks, read_whole, 3))
		return K_READ_WHOLE;
	return K_OTHER;
}

static bool calls(const struct nosym_checkfunc *fn, uint64_t target)
{
	int i;

	for (i = 0; i < fn->ncalls; i++)
		if (fn->calls[i] == target)
			return true;
	return false;
}

/* The one function of kind k: its index, -1 when none, -2 when more than one. */
static int one_of(const enum kind *kinds, int n, enum kind k)
{
	int i, found = -1;

	for (i = 0; i < n; i++)
		if (kinds[i] == k) {
			if (found >= 0)
				return -2;
			found = i;
		}
	return found;
}

/* out for a function found: its entry, first check, reporting function, file. */
static void take(const struct nosym_file *f, const struct nosym_checkfunc *fn,
		 struct nosym_found *out)
{
	*out = (struct nosym_found){.how = NOSYM_BY_CHECKS,
				    .entry = fn->entry,
				    .end = fn->end,
				    .site = fn->checks[0].at,
				    .report = fn->report,
				    .nsites = fn->nchecks,
				    .ncallers = fn->ncallers,
				    .inlined = fn->stores};
	out->offset = elf_file_offset(&f->elf, fn->entry, true);
	out->err = out->offset == UINT64_MAX ? -EINVAL : 0;
	if (out->err)
		snprintf(out->why, sizeof(out->why), "0x%llx is in no executable segment",
			 (unsigned long long)fn->entry);
	snprintf(out->file, sizeof(out->file), "%s", fn->checks[0].file);
	snprintf(out->lines, sizeof(out->lines), " (lines %d-%d)", min_line(fn), max_line(fn));
}

__attribute__((format(printf, 2, 3))) static void unsure(struct nosym_found *out, const char *fmt,
							 ...)
{
	va_list ap;

	*out = (struct nosym_found){.err = -EINVAL, .how = NOSYM_BY_CHECKS};
	va_start(ap, fmt);
	vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
}

int nosym_find_checks(struct nosym_file *f, const char *const *names, int n,
		      struct nosym_found *out)
{
	uint64_t files[NOSYM_MAX_STRINGS];
	struct nosym_checkfunc *fns = calloc(NOSYM_MAX_FUNCS, sizeof(*fns));
	enum kind kinds[NOSYM_MAX_FUNCS], rk;
	int nfiles, nf, i, w, ri, p;
	char why_w[160] = "", why_r[160] = "";

	if (!fns)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		out[i] = (struct nosym_found){.err = -ENOENT, .how = NOSYM_BY_CHECKS};
	nfiles = nosym_source_files(f, NOSYM_BORING_FILE, files, NOSYM_MAX_STRINGS);
	nf = nfiles ? nosym_checkfuncs_find(f, files, nfiles, fns, &BORING_SSL, why_w,
					    sizeof(why_w))
		    : 0;
	if (nf < 0 && nf != -EINVAL) {
		free(fns);
		return nf;
	}
	for (i = 0; i < nf; i++)
		kinds[i] = kind_of(&fns[i], &BORING_SSL);
	w = nf > 0 ? one_of(kinds, nf, K_WRITE) : -1;
	ri = nf > 0 ? one_of(kinds, nf, K_READ_IMPL) : -1;
	for (i = 0; i < nf; i++) /* a QUIC check alone is common: SSL_peek calls ssl_read_impl */
		if (kinds[i] == K_PEEK && (ri < 0 || !calls(&fns[i], fns[ri].entry)))
			kinds[i] = K_OTHER;
	rk = nf > 0 && one_of(kinds, nf, K_PEEK) == -1 ? K_READ_WHOLE : K_PEEK;
	p = nf > 0 ? one_of(kinds, nf, rk) : -1;
	if (p == -2) { /* SSL_peek, and SSL_read with a copy of it inlined: the one that stores */
		for (i = 0; i < nf; i++)
			if (kinds[i] == rk && !fns[i].stores)
				kinds[i] = K_OTHER;
		p = one_of(kinds, nf, rk);
		p = p == -1 ? -2 : p; /* none stores: still two */
	}
	if (nf == -EINVAL) {
		w = p = -3;
	} else if (w == -2) {
		snprintf(why_w, sizeof(why_w), "two functions make the checks SSL_write makes");
		w = -3;
	}
	if (ri == -2 || p == -2) {
		snprintf(why_r, sizeof(why_r), "two functions make the checks %s makes",
			 ri == -2 ? "ssl_read_impl" : "SSL_peek");
		p = -3;
	} else if (p >= 0 && rk == K_PEEK && one_of(kinds, nf, K_READ_WHOLE) != -1) {
		snprintf(why_r, sizeof(why_r), "both SSL_peek and a whole SSL_read are found");
		p = -3;
	} else if (p >= 0 && rk == K_PEEK && max_line(&fns[ri]) >= min_line(&fns[p])) {
		snprintf(why_r, sizeof(why_r), "ssl_read_impl's checks do not come before its own");
		p = -3;
	}
	if (w >= 0 && p >= 0 && max_line(&fns[p]) >= min_line(&fns[w])) {
		snprintf(why_w, sizeof(why_w),
			 "the lines of its checks are not in ssl_lib.cc's order");
		w = p = -3;
	} else if (w >= 0 && p >= 0 && fns[w].report != fns[p].report) {
		snprintf(why_w, sizeof(why_w), "its checks report through different functions");
		w = p = -3;
	}
	if (p == -3 && !why_r[0])
		snprintf(why_r, sizeof(why_r), "%s", why_w);
	for (i = 0; i < n; i++) {
		int k = strcmp(names[i], "SSL_write") == 0  ? w
			: strcmp(names[i], "SSL_read") == 0 ? p
							    : -1;

		if (k >= 0)
			take(f, &fns[k], &out[i]);
		else if (k == -3)
			unsure(&out[i], "%s", strcmp(names[i], "SSL_write") == 0 ? why_w : why_r);
	}
	free(fns);
	return 1;
}

/* The kind of function `name` is, and its family. */
static enum kind kind_named(const char *name, const struct nosym_family **fam)
{
	*fam = strncmp(name, "EVP_AEAD_", 9) == 0 ? &AWSLC_AEAD : &BORING_SSL;
	return strcmp(name, "SSL_write") == 0			? K_WRITE
	       : strcmp(name, "SSL_read") == 0			? K_PEEK
	       : strcmp(name, "EVP_AEAD_CTX_seal") == 0		? K_SEAL
	       : strcmp(name, "EVP_AEAD_CTX_open") == 0		? K_OPEN
	       : strcmp(name, "EVP_AEAD_CTX_seal_scatter") == 0 ? K_SCATTER
								: K_OTHER;
}

const char *nosym_checks_library(const char *name)
{
	const struct nosym_family *fam;

	kind_named(name, &fam);
	return fam->library;
}

int nosym_find_aead(struct nosym_file *f, const char *const *names, int n, struct nosym_found *out)
{
	uint64_t files[NOSYM_MAX_STRINGS];
	struct nosym_checkfunc *fns = calloc(NOSYM_MAX_FUNCS, sizeof(*fns));
	enum kind kinds[NOSYM_MAX_FUNCS];
	int nfiles, nf, i, s = -1, o = -1, sc = -1;
	char why[160] = "";

	if (!fns)
		return -ENOMEM;
	nfiles = nosym_source_files(f, AWSLC_AEAD.file, files, NOSYM_MAX_STRINGS);
	nf = nfiles ? nosym_checkfuncs_find(f, files, nfiles, fns, &AWSLC_AEAD, why, sizeof(why))
		    : 0;
	if (nf < 0 && nf != -EINVAL) {
		free(fns);
		return nf;
	}
	for (i = 0; i < nf; i++)
		kinds[i] = kind_of(&fns[i], &AWSLC_AEAD);
	if (nf > 0) {
		s = one_of(kinds, nf, K_SEAL);
		o = one_of(kinds, nf, K_OPEN);
		sc = one_of(kinds, nf, K_SCATTER);
	}
	if (nf == -EINVAL) {
		s = o = sc = -3;
	} else if (s == -2 || o == -2 || sc == -2) {
		snprintf(why, sizeof(why), "two functions make the checks %s makes",
			 s == -2   ? "EVP_AEAD_CTX_seal"
			 : o == -2 ? "EVP_AEAD_CTX_open"
				   : "EVP_AEAD_CTX_seal_scatter");
		s = o = sc = -3;
	} else if ((s >= 0 && o >= 0 && max_line(&fns[s]) >= min_line(&fns[o])) ||
		   (sc >= 0 && s >= 0 && max_line(&fns[s]) >= min_line(&fns[sc])) ||
		   (sc >= 0 && o >= 0 && max_line(&fns[sc]) >= min_line(&fns[o]))) {
		/* aead.c defines seal, seal_scatter and open in this order */
		snprintf(why, sizeof(why), "the lines of their checks are not in aead.c's order");
		s = o = sc = -3;
	} else if ((s >= 0 && o >= 0 && fns[s].report != fns[o].report) ||
		   (s >= 0 && sc >= 0 && fns[s].report != fns[sc].report)) {
		snprintf(why, sizeof(why), "their checks report through different functions");
		s = o = sc = -3;
	}
	for (i = 0; i < n; i++) {
		const struct nosym_family *fam;
		enum kind k = kind_named(names[i], &fam);
		int at = k == K_SEAL ? s : k == K_OPEN ? o : k == K_SCATTER ? sc : -1;

		if (fam != &AWSLC_AEAD)
			continue;
		out[i] = (struct nosym_found){.err = -ENOENT, .how = NOSYM_BY_CHECKS};
		if (at >= 0)
			take(f, &fns[at], &out[i]);
		else if (at == -3)
			unsure(&out[i], "%s", why);
	}
	free(fns);
	return 1;
}

int nosym_verify_checks(struct nosym_file *f, const char *name, struct nosym_found *out)
{
	struct nosym_checkfunc fn = {.entry = out->entry, .end = out->end};
	const struct nosym_family *fam;
	enum kind want = kind_named(name, &fam);
	uint64_t site = out->site;
	cs_insn *insn;
	csh cs;
	bool met;

	if (want == K_OTHER) {
		unsure(out, "no function is known by the checks of '%s'", name);
		return -EINVAL;
	}
	/* where it begins, its checks met in step, of the same reasons in the same order */
	if (!nosym_checkfuncs_can_begin(f, fn.entry, fam) || fn.end <= site ||
	    fn.end - fn.entry > NOSYM_FN_MAX) {
		unsure(out, "no function can begin at 0x%llx and hold 0x%llx",
		       (unsigned long long)fn.entry, (unsigned long long)site);
		return -EINVAL;
	}
	if (nosym_open_decoder(&cs, &insn))
		return -ENOMEM;
	met = nosym_checkfuncs_decode(f, cs, insn, &fn, &site, 1, fam);
	cs_free(insn, 1);
	cs_close(&cs);
	if (!met || fn.end != out->end || fn.nchecks == 0 || fn.checks[0].at != site ||
	    (kind_of(&fn, fam) != want && (want != K_PEEK || kind_of(&fn, fam) != K_READ_WHOLE))) {
		unsure(out, "0x%llx-0x%llx does not make the checks %s makes",
		       (unsigned long long)fn.entry, (unsigned long long)out->end, name);
		return -EINVAL;
	}
	take(f, &fn, out);
	return out->err;
}
