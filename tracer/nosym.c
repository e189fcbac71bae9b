/* SPDX-License-Identifier: Apache-2.0 */
/* nosym.c - functions of a stripped x86-64 executable found by what their code carries:
 * OpenSSL's by its error sites, the others' by the finders below (nosym_named.c,
 * nosym_checks.c, nosym_rustls.c), all reading the file through nosymfile.c */
#define _GNU_SOURCE
#include "nosym.h"
#include "nosym_checks.h"
#include "nosym_named.h"
#include "nosym_rustls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SITES 64 /* references to one name's string */

/* ---------------------------------------------------------------- error sites */

/* Whether s names a C source file, as OpenSSL's OPENSSL_FILE does. */
static bool is_source_file(const char *s)
{
	size_t len = s ? strlen(s) : 0;

	return len > 2 && len < 200 && strcmp(s + len - 2, ".c") == 0;
}

/* Where check_sites is among the function's instructions. */
struct site_walk {
	const uint64_t *sites; /* sorted */
	int nsites;
	int k;		/* the next site */
	int window;	/* instructions left for the last site's call; -1: none due */
	int since_file; /* instructions since a source file's name was loaded into rdi */
};

/* One instruction insn of the walk w: a source file's load, a site, an error site's call.
 * 0, or -EINVAL with why in out. */
static int site_step(const struct nosym_file *f, const cs_insn *insn, struct site_walk *w,
		     uint64_t start, struct nosym_found *out)
{
	const char *file = nosym_string_at(f, nosym_loads(insn, X86_REG_RDI));
	uint64_t target;
	int err = 0;

	/* the source file's load, before or after the name's, its call not made yet */
	if (nosym_loads(insn, X86_REG_RDI) != UINT64_MAX && is_source_file(file)) {
		w->since_file = 0;
		snprintf(out->file, sizeof(out->file), "%s", file);
	} else if (w->since_file <= 2 * NOSYM_SITE_WINDOW) {
		w->since_file++;
	}
	if (w->k < w->nsites && insn->address > w->sites[w->k]) {
		snprintf(out->why, sizeof(out->why),
			 "0x%llx is not an instruction of the function decoded from 0x%llx",
			 (unsigned long long)w->sites[w->k], (unsigned long long)start);
		err = -EINVAL;
	} else if (w->k < w->nsites && insn->address == w->sites[w->k]) {
		if (nosym_loads(insn, X86_REG_RDX) == UINT64_MAX) {
			snprintf(out->why, sizeof(out->why),
				 "its name is loaded at 0x%llx other than as an error site's "
				 "function name",
				 (unsigned long long)w->sites[w->k]);
			err = -EINVAL;
		} else if (w->window >= 0) {
			snprintf(out->why, sizeof(out->why),
				 "the error site at 0x%llx makes no call",
				 (unsigned long long)w->sites[w->k - 1]);
			err = -EINVAL;
		}
		w->k++;
		w->window = NOSYM_SITE_WINDOW;
	} else if (insn->id == X86_INS_CALL) {
		if (w->window >= 0 && w->since_file <= 2 * NOSYM_SITE_WINDOW &&
		    nosym_direct_call(insn, &target)) {
			if (out->report && out->report != target) {
				snprintf(out->why, sizeof(out->why),
					 "its error sites call different functions");
				err = -EINVAL;
			}
			out->report = target;
			w->window = -1;
		}
		w->since_file = 2 * NOSYM_SITE_WINDOW + 1; /* a call takes rdi */
	}
	if (w->window >= 0 && insn->address != w->sites[w->k - 1] && --w->window < 0) {
		snprintf(out->why, sizeof(out->why),
			 "the load at 0x%llx is not followed by a call with a source file name",
			 (unsigned long long)w->sites[w->k - 1]);
		err = -EINVAL;
	}
	return err;
}

/* The code of the function from start up to the end of the window of its last site `last`
 * (not past end), read into a buffer of *size bytes; NULL with why in out. */
static uint8_t *site_code(const struct nosym_file *f, uint64_t start, uint64_t end, uint64_t last,
			  size_t *size, struct nosym_found *out)
{
	uint64_t off = elf_file_offset(&f->elf, start, true);
	uint8_t *buf;

	if (off == UINT64_MAX || last >= end ||
	    elf_file_offset(&f->elf, last, true) != off + (last - start)) {
		snprintf(out->why, sizeof(out->why), "its code is not in one segment");
		return NULL;
	}
	/* up to the end of the last site: its window of instructions, 15 bytes at most each */
	*size = (size_t)((end - last > 15 * (NOSYM_SITE_WINDOW + 1)
				  ? last + 15 * (NOSYM_SITE_WINDOW + 1)
				  : end) -
			 start);
	if (elf_file_offset(&f->elf, start + *size - 1, true) != off + *size - 1 ||
	    !(buf = elf_file_read(&f->elf, off, *size))) {
		snprintf(out->why, sizeof(out->why), "its code cannot be read");
		return NULL;
	}
	return buf;
}

/*
 * The function [start, end) decoded from its first byte: each site (sorted addresses) must
 * be an instruction loading the name into rdx, with a source file name loaded into rdi
 * within NOSYM_SITE_WINDOW instructions before or after it and no call between, then a direct
 * call within NOSYM_SITE_WINDOW instructions, whose target goes to out->report (one for all).
 * Returns 0, or -EINVAL with why.
 */
static int check_sites(const struct nosym_file *f, uint64_t start, uint64_t end,
		       const uint64_t *sites, int nsites, struct nosym_found *out)
{
	struct site_walk w = {.sites = sites,
			      .nsites = nsites,
			      .window = -1,
			      .since_file = 2 * NOSYM_SITE_WINDOW + 1};
	uint64_t addr = start;
	size_t size, left;
	const uint8_t *code;
	uint8_t *buf = site_code(f, start, end, sites[nsites - 1], &size, out);
	cs_insn *insn;
	csh cs;
	int err = 0;

	if (!buf)
		return -EINVAL;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		free(buf);
		return -ENOMEM;
	}
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(cs);
	code = buf;
	left = size;
	while (!err && insn && (w.k < nsites || w.window >= 0)) {
		if (!cs_disasm_iter(cs, &code, &left, &addr, insn)) {
			if (w.k < nsites)
				snprintf(out->why, sizeof(out->why),
					 "its code does not decode from 0x%llx to 0x%llx",
					 (unsigned long long)start, (unsigned long long)sites[w.k]);
			else
				snprintf(out->why, sizeof(out->why),
					 "the load at 0x%llx is not followed by a call with a "
					 "source file name",
					 (unsigned long long)sites[w.k - 1]);
			err = -EINVAL;
			break;
		}
		err = site_step(f, insn, &w, start, out);
	}
	if (!insn)
		err = -ENOMEM;
	cs_free(insn, 1);
	cs_close(&cs);
	free(buf);
	return err;
}

/* Facts (2)-(4) and the sites' shape for a name whose sites (sorted) are known. */
static int take_function(const struct nosym_file *f, const uint64_t *sites, int nsites,
			 struct nosym_found *out)
{
	uint64_t start = 0, end = 0, s, e;
	bool entry = false, is_entry;
	int i;

	for (i = 0; i < nsites; i++) {
		if (!nosym_fde_of(f, sites[i], &s, &e, &is_entry)) {
			snprintf(out->why, sizeof(out->why),
				 "no function of .eh_frame holds its error site at 0x%llx",
				 (unsigned long long)sites[i]);
			return -EINVAL;
		}
		if (i && s != start) {
			snprintf(out->why, sizeof(out->why),
				 "its name is passed by two functions (0x%llx and 0x%llx)",
				 (unsigned long long)start, (unsigned long long)s);
			return -EINVAL;
		}
		start = s;
		end = e;
		entry = is_entry;
	}
	if (!entry) {
		snprintf(out->why, sizeof(out->why),
			 "the code at 0x%llx holding its error sites is not entered by a call (a "
			 "part split off a function?)",
			 (unsigned long long)start);
		return -EINVAL;
	}
	out->entry = start;
	out->offset = elf_file_offset(&f->elf, start, true);
	out->site = sites[0];
	out->nsites = nsites;
	return check_sites(f, start, end, sites, nsites, out);
}

/* nosym_find for the names of OpenSSL's and BoringSSL's functions. */
static int find_ssl(struct nosym_file *f, const char *const *names, int n, struct nosym_found *out)
{
	uint64_t targets[NOSYM_MAX_NAMES * NOSYM_MAX_STRINGS], sites[MAX_SITES], report = 0;
	int target_name[NOSYM_MAX_NAMES * NOSYM_MAX_STRINGS], ntargets = 0, i, j, err, fdes;
	struct nosym_refs r = {0};

	if (n > NOSYM_MAX_NAMES)
		return -EINVAL;
	for (i = 0; i < n; i++)
		out[i] = (struct nosym_found){.err = -ENOENT};
	ntargets = nosym_name_strings(f, names, n, targets, target_name);
	if (!ntargets)
		return nosym_has_boringssl(f) ? nosym_find_checks(f, names, n, out)
					      : 0; /* no name's string: nothing searched */
	r.targets = targets;
	r.target_name = target_name;
	r.ntargets = ntargets;
	err = nosym_scan_code(f, &r);
	fdes = err ? 0 : nosym_load_fdes(f);
	if (fdes == -ENOMEM)
		err = fdes;
	for (i = 0; i < n && !err; i++) {
		int nsites = 0;

		for (j = 0; j < r.n; j++)
			if (r.v[j].name == i && nsites < MAX_SITES)
				sites[nsites++] = r.v[j].vaddr;
		if (!nsites)
			continue;
		if (fdes) {
			out[i].err = -EINVAL;
			snprintf(out[i].why, sizeof(out[i].why),
				 "the program has no table of its functions (.eh_frame) to read");
			continue;
		}
		qsort(sites, (size_t)nsites, sizeof(sites[0]), nosym_cmp_u64);
		out[i].err = take_function(f, sites, nsites, &out[i]);
		if (out[i].err == -ENOMEM)
			err = -ENOMEM;
	}
	/* fact (5): one reporting function for all */
	for (i = 0; i < n && !err; i++) {
		if (out[i].err)
			continue;
		if (report && out[i].report != report) {
			for (j = 0; j < n; j++)
				if (!out[j].err) {
					out[j].err = -EINVAL;
					snprintf(out[j].why, sizeof(out[j].why),
						 "the error sites of the names looked for call "
						 "different functions");
				}
			break;
		}
		report = out[i].report;
	}
	/* no OpenSSL: BoringSSL, whose functions its callers name? The same loads tell. */
	for (i = 0; i < n && !err && out[i].err; i++)
		;
	if (!err && i == n && nosym_has_boringssl(f))
		err = nosym_named_from(f, names, n, &r, out);
	/* ... or by the checks its own functions make (Bun's callers name nothing), when neither
	 * found anything, not even a place it is unsure of */
	for (i = 0; i < n && err >= 0 && out[i].err == -ENOENT; i++)
		;
	if (err >= 0 && i == n && nosym_has_boringssl(f))
		err = nosym_find_checks(f, names, n, out);
	free(r.v);
	return err < 0 ? err : 1;
}

bool nosym_has_awslc_aead(struct nosym_file *f)
{
	uint64_t at;

	if (f->awslc < 0) /* one scan of its read-only data, however often it is asked */
		f->awslc = nosym_find_strings(f, NOSYM_AWSLC_AEAD_FILE, &at, 1) > 0;
	return f->awslc;
}

/* Whether name is one of aws-lc's AEAD functions, which only their checks tell. */
static bool is_aead(const char *name)
{
	return strncmp(name, "EVP_AEAD_", 9) == 0;
}

int nosym_find(struct nosym_file *f, const char *const *names, int n, struct nosym_found *out)
{
	struct nosym_found ssl_out[NOSYM_MAX_NAMES];
	const char *ssl[NOSYM_MAX_NAMES];
	int map[NOSYM_MAX_NAMES], nssl = 0, naead = 0, nrustls = 0, i, r;
	char crate[48];
	uint64_t at;

	if (n > NOSYM_MAX_NAMES)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		out[i] = (struct nosym_found){.err = -ENOENT};
		if (is_aead(names[i])) {
			naead++;
		} else if (nosym_is_rustls_name(names[i])) {
			nrustls++;
		} else {
			map[nssl] = i;
			ssl[nssl++] = names[i];
		}
	}
	r = nssl ? find_ssl(f, ssl, nssl, ssl_out) : 0;
	for (i = 0; i < nssl && r >= 0; i++)
		out[map[i]] = ssl_out[i];
	if (r >= 0 && naead && nosym_crate(f, "rustls", crate, sizeof(crate)) &&
	    nosym_has_awslc_aead(f) && nosym_find_strings(f, NOSYM_AWSLC_SSL_FILE, &at, 1) <= 0) {
		int a = nosym_find_aead(f, names, n, out);

		r = a < 0 ? a : 1;
	}
	if (r >= 0 && nrustls) {
		int a = nosym_find_rustls(f, names, n, out);

		r = a < 0 ? a : a > r ? a : r;
	}
	return r;
}

/* nosym_verify of a result of nosym_find. */
static int verify_errsite(struct nosym_file *f, const char *name, struct nosym_found *out)
{
	uint64_t site = out->site, entry = out->entry;
	uint64_t off = elf_file_offset(&f->elf, site, true);
	cs_insn *insn = NULL;
	uint8_t code[16];
	const char *s = NULL;
	size_t n = 0;
	csh cs;
	int err;

	*out = (struct nosym_found){.err = -EINVAL};
	if (off != UINT64_MAX && pread(f->elf.fd, code, sizeof(code), (off_t)off) == sizeof(code) &&
	    cs_open(CS_ARCH_X86, CS_MODE_64, &cs) == CS_ERR_OK) {
		cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
		n = cs_disasm(cs, code, sizeof(code), site, 1, &insn);
		if (n)
			s = nosym_string_at(f, nosym_loads(insn, X86_REG_RDX));
		if (n)
			cs_free(insn, n);
		cs_close(&cs);
	}
	if (!s || strcmp(s, name) != 0) {
		snprintf(out->why, sizeof(out->why), "0x%llx does not load \"%s\"",
			 (unsigned long long)site, name);
		return -EINVAL;
	}
	err = nosym_load_fdes(f);
	if (err) {
		snprintf(out->why, sizeof(out->why), "no table of its functions (.eh_frame)");
		return err == -ENOMEM ? err : -EINVAL;
	}
	err = take_function(f, &site, 1, out);
	if (!err && out->entry != entry) {
		snprintf(out->why, sizeof(out->why), "its function now starts at 0x%llx",
			 (unsigned long long)out->entry);
		err = -EINVAL;
	}
	out->err = err;
	return err;
}

int nosym_verify(struct nosym_file *f, const char *name, struct nosym_found *out)
{
	switch (out->how) {
	case NOSYM_BY_CALLERS:
		return nosym_verify_named(f, name, out);
	case NOSYM_BY_CHECKS:
		return nosym_verify_checks(f, name, out);
	case NOSYM_BY_VTABLE:
		return nosym_verify_rustls(f, name, out);
	default:
		return verify_errsite(f, name, out);
	}
}
