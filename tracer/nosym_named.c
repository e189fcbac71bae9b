/* SPDX-License-Identifier: Apache-2.0 */
/* nosym_named.c - functions of a stripped executable found because their callers name them
 * (BoringSSL, whose error sites carry no function name: Chromium, Electron) */
#define _GNU_SOURCE
#include "nosym_named.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALLER_WINDOW 0x80 /* bytes before a name's load where the call it names is */
#define CHECK_BYTES 1024   /* bytes of a candidate decoded for its first error check */
#define ERR_LIB_SSL 16	   /* BoringSSL's OPENSSL_PUT_ERROR(SSL, ...) passes it first */
#define MAX_CANDIDATES 8

/*
 * Whether the function at t begins with a BoringSSL error check of libssl's ssl_lib.cc:
 * decoded from t, before its first ret or int3, a direct call (ERR_put_error) that follows,
 * within NOSYM_SITE_WINDOW instructions, the library ERR_LIB_SSL into edi and a source file
 * ending in NOSYM_BORING_FILE into rcx (OPENSSL_PUT_ERROR). Fills out's file and report.
 */
static bool begins_with_check(const struct nosym_file *f, csh cs, cs_insn *insn, uint64_t t,
			      struct nosym_found *out)
{
	uint8_t *buf = nosym_read_code(f, t, CHECK_BYTES);
	const uint8_t *code = buf;
	size_t left = CHECK_BYTES;
	uint64_t addr = t, target;
	int since_file = 2 * NOSYM_SITE_WINDOW + 1, since_lib = since_file;
	const char *file = NULL;
	bool found = false;

	while (buf && !found && cs_disasm_iter(cs, &code, &left, &addr, insn)) {
		const cs_x86 *x = &insn->detail->x86;
		const char *s = nosym_string_at(f, nosym_loads(insn, X86_REG_RCX));

		if (insn->id == X86_INS_RET || insn->id == X86_INS_INT3)
			break;
		since_file += since_file <= 2 * NOSYM_SITE_WINDOW;
		since_lib += since_lib <= 2 * NOSYM_SITE_WINDOW;
		if (nosym_loads(insn, X86_REG_RCX) != UINT64_MAX &&
		    nosym_ends_with(s, NOSYM_BORING_FILE)) {
			since_file = 0;
			file = s;
		} else if (insn->id == X86_INS_MOV && x->op_count == 2 &&
			   x->operands[0].type == X86_OP_REG && x->operands[0].reg == X86_REG_EDI &&
			   x->operands[1].type == X86_OP_IMM && x->operands[1].imm == ERR_LIB_SSL) {
			since_lib = 0;
		} else if (insn->id == X86_INS_CALL) {
			if (since_file <= 2 * NOSYM_SITE_WINDOW &&
			    since_lib <= 2 * NOSYM_SITE_WINDOW &&
			    nosym_direct_call(insn, &target)) {
				snprintf(out->file, sizeof(out->file), "%s", file);
				out->report = target;
				found = true;
			}
			since_file = since_lib = 2 * NOSYM_SITE_WINDOW + 1;
		}
	}
	free(buf);
	return found;
}

/*
 * The functions called just before `at`, where the name is loaded: each direct call in the
 * CALLER_WINDOW bytes before it from which decoding meets `at` as an instruction. Up to max
 * targets, each once. Returns how many.
 */
static int calls_before(const struct nosym_file *f, csh cs, cs_insn *insn, uint64_t at,
			uint64_t *targets, int max)
{
	uint8_t *buf = nosym_read_code(f, at - CALLER_WINDOW, CALLER_WINDOW);
	int n = 0, i, k;

	for (i = 0; buf && i + 5 <= CALLER_WINDOW; i++) {
		const uint8_t *code = buf + i;
		size_t left = CALLER_WINDOW - (size_t)i;
		uint64_t addr = at - CALLER_WINDOW + (uint64_t)i, target;

		if (buf[i] != 0xe8 || !cs_disasm_iter(cs, &code, &left, &addr, insn) ||
		    !nosym_direct_call(insn, &target))
			continue;
		while (addr < at && cs_disasm_iter(cs, &code, &left, &addr, insn))
			; /* in step with the code up to the name's load? */
		if (addr != at)
			continue;
		for (k = 0; k < n && targets[k] != target; k++)
			;
		if (k == n && n < max)
			targets[n++] = target;
	}
	free(buf);
	return n;
}

/* The one function named at `at` (a load of the name's string) that begins with libssl's
 * error check: 1 and *t, 0 when none, -1 when more than one. */
static int named_at(const struct nosym_file *f, csh cs, cs_insn *insn, uint64_t at, uint64_t *t,
		    struct nosym_found *out)
{
	uint64_t cand[MAX_CANDIDATES];
	int n = calls_before(f, cs, insn, at, cand, MAX_CANDIDATES), i, hits = 0;

	for (i = 0; i < n; i++)
		if (begins_with_check(f, cs, insn, cand[i], out)) {
			if (hits++ && *t != cand[i])
				return -1;
			*t = cand[i];
		}
	return hits ? 1 : 0;
}

/* The address insn loads into any register: `lea r64, [rip + disp]` or `mov r32, imm32`;
 * else UINT64_MAX. */
static uint64_t loaded(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;

	if (x->op_count != 2 || x->operands[0].type != X86_OP_REG)
		return UINT64_MAX;
	if (insn->id == X86_INS_MOV && x->operands[1].type == X86_OP_IMM && insn->size == 5)
		return (uint64_t)(uint32_t)x->operands[1].imm;
	if (insn->id == X86_INS_LEA && x->operands[1].type == X86_OP_MEM &&
	    x->operands[1].mem.base == X86_REG_RIP && x->operands[1].mem.index == X86_REG_INVALID)
		return insn->address + insn->size + (uint64_t)x->operands[1].mem.disp;
	return UINT64_MAX;
}

bool nosym_has_boringssl(struct nosym_file *f)
{
	uint64_t at;

	if (f->boring < 0) /* one scan of its read-only data, however often it is asked */
		f->boring =
			nosym_find_strings(f, NOSYM_BORING_FILE, &at, 1) > 0; /* a string's end */
	return f->boring;
}

int nosym_source_files(const struct nosym_file *f, const char *suffix, uint64_t *out, int max)
{
	int n = nosym_find_strings(f, suffix, out, max), i, k = 0;

	for (i = 0; i < n; i++) { /* from the end of each back to its start */
		uint64_t a = out[i];
		const char *s;

		while (out[i] - a < 256 && (s = nosym_string_at(f, a - 1)) && *s)
			a--;
		if (out[i] - a < 256)
			out[k++] = a;
	}
	return k;
}

int nosym_named_from(struct nosym_file *f, const char *const *names, int n,
		     const struct nosym_refs *r, struct nosym_found *out)
{
	uint64_t t = 0;
	cs_insn *insn;
	int i, j, err;
	csh cs;

	for (i = 0; i < n; i++)
		out[i] = (struct nosym_found){.err = -ENOENT, .how = NOSYM_BY_CALLERS};
	err = nosym_open_decoder(&cs, &insn);
	for (i = 0; i < n && !err; i++) {
		struct nosym_found *o = &out[i];

		for (j = 0; j < r->n; j++) {
			int hit;

			if (r->v[j].name != i)
				continue;
			hit = named_at(f, cs, insn, r->v[j].vaddr, &t, o);
			if (hit == 0)
				continue;
			if (hit < 0 || (o->nsites && o->entry != t)) {
				o->err = -EINVAL;
				snprintf(o->why, sizeof(o->why),
					 "its callers name two functions of libssl (at 0x%llx)",
					 (unsigned long long)r->v[j].vaddr);
				break;
			}
			if (!o->nsites++) {
				o->entry = t;
				o->site = r->v[j].vaddr;
			}
		}
		if (o->nsites && o->err == -ENOENT) {
			o->offset = elf_file_offset(&f->elf, o->entry, true);
			o->err = o->offset == UINT64_MAX ? -EINVAL : 0;
		}
	}
	if (!err) {
		cs_free(insn, 1);
		cs_close(&cs);
	}
	/* one reporting function for all, and a function for one name only */
	for (i = 0; i < n && !err; i++)
		for (j = 0; j < i; j++)
			if (!out[i].err && !out[j].err &&
			    (out[i].report != out[j].report || out[i].entry == out[j].entry)) {
				out[i].err = out[j].err = -EINVAL;
				snprintf(
					out[i].why, sizeof(out[i].why),
					"'%s' and '%s' are named at calls of functions that do not "
					"agree",
					names[j], names[i]);
				snprintf(out[j].why, sizeof(out[j].why), "%s", out[i].why);
			}
	return err ? err : 1;
}

int nosym_find_named(struct nosym_file *f, const char *const *names, int n, struct nosym_found *out)
{
	uint64_t targets[NOSYM_MAX_NAMES * NOSYM_MAX_STRINGS];
	int target_name[NOSYM_MAX_NAMES * NOSYM_MAX_STRINGS], i, err;
	struct nosym_refs r = {0};

	if (n > NOSYM_MAX_NAMES)
		return -EINVAL;
	for (i = 0; i < n; i++)
		out[i] = (struct nosym_found){.err = -ENOENT, .how = NOSYM_BY_CALLERS};
	r.ntargets = nosym_name_strings(f, names, n, targets, target_name);
	if (!r.ntargets || !nosym_has_boringssl(f))
		return 0; /* no name's string, or no libssl of BoringSSL: nothing to search */
	r.targets = targets;
	r.target_name = target_name;
	err = nosym_scan_code(f, &r);
	if (!err)
		err = nosym_named_from(f, names, n, &r, out);
	free(r.v);
	return err;
}

int nosym_verify_named(struct nosym_file *f, const char *name, struct nosym_found *out)
{
	uint64_t at = out->site, entry = out->entry, t = 0;
	const char *s = NULL;
	cs_insn *insn;
	csh cs;
	uint8_t *code = nosym_read_code(f, at, 16);
	size_t left = 16;
	uint64_t addr = at;
	int hit = 0;

	*out = (struct nosym_found){
		.err = -EINVAL, .how = NOSYM_BY_CALLERS, .site = at, .nsites = 1};
	if (nosym_open_decoder(&cs, &insn)) {
		free(code);
		return -ENOMEM;
	}
	if (code && cs_disasm_iter(cs, &(const uint8_t *){code}, &left, &addr, insn))
		s = nosym_string_at(f, loaded(insn));
	free(code);
	if (s && strcmp(s, name) == 0)
		hit = named_at(f, cs, insn, at, &t, out);
	cs_free(insn, 1);
	cs_close(&cs);
	if (hit != 1 || t != entry) {
		snprintf(out->why, sizeof(out->why),
			 "0x%llx does not load \"%s\" after a call of libssl's 0x%llx",
			 (unsigned long long)at, name, (unsigned long long)entry);
		return -EINVAL;
	}
	out->entry = t;
	out->offset = elf_file_offset(&f->elf, t, true);
	out->err = out->offset == UINT64_MAX ? -EINVAL : 0;
	return out->err;
}
