/* SPDX-License-Identifier: Apache-2.0 */
/* nosym_checkfuncs.c - the functions of a stripped executable that make error checks of one
 * source file (OPENSSL_PUT_ERROR's file, library, reason and line): found around the loads
 * of the file's name, bounded by the call targets near them, decoded with capstone */
#define _GNU_SOURCE
#include "nosym_checkfuncs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FN_REACH 0x2000 /* bytes from a check back to its function's entry, at most */
#define MAX_RANGES 1024 /* stretches of code around the checks */
#define UNSET (2 * NOSYM_SITE_WINDOW + 1)

/* Function entries: targets of calls into stretches of code, direct (E8 rel32) or through
 * the GOT (FF 15), sorted, each as many times as it is called. */
struct entries {
	uint64_t *v;
	size_t n, cap;
};

struct range {
	uint64_t lo, hi;
};

static int cmp_range(const void *a, const void *b)
{
	return nosym_cmp_u64(&((const struct range *)a)->lo, &((const struct range *)b)->lo);
}

static bool in_ranges(const struct range *r, int n, uint64_t a)
{
	int lo = 0, hi = n;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (a < r[mid].lo)
			hi = mid;
		else if (a >= r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

static int add_entry(struct entries *e, uint64_t t)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 1024;
		uint64_t *v = realloc(e->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = t;
	return 0;
}

/* What call_targets looks for, and what it found. */
struct call_scan {
	const struct nosym_file *f;
	const struct range *r;
	int nr;
	struct entries *e;
};

/* The address a global offset table's slot at vaddr holds, as the file has it (a static
 * program's, or one the linker filled in); 0 when none. */
static uint64_t got_slot(const struct nosym_file *f, uint64_t vaddr)
{
	uint64_t off = elf_file_offset(&f->elf, vaddr, false), v = 0;

	if (off != UINT64_MAX && f->elf.size >= 8 && off <= f->elf.size - 8 &&
	    elf_file_offset(&f->elf, vaddr + 7, false) == off + 7)
		memcpy(&v, f->elf.map + off, sizeof(v));
	return v;
}

static int chunk_calls(const uint8_t *buf, size_t len, uint64_t vaddr, void *arg)
{
	const struct call_scan *c = arg;
	uint64_t lo = c->r[0].lo, span = c->r[c->nr - 1].hi - lo, t;
	size_t k;
	int err = 0;

	for (k = 0; k + 6 <= len && !err; k++) {
		if (buf[k] == 0xe8)
			t = vaddr + k + 5 + (uint64_t)(int64_t)(int32_t)nosym_le32(buf + k + 1);
		else if (buf[k] == 0xff && buf[k + 1] == 0x15) /* call [rip + disp32]: a GOT's */
			t = got_slot(c->f,
				     vaddr + k + 6 +
					     (uint64_t)(int64_t)(int32_t)nosym_le32(buf + k + 2));
		else
			continue;
		if (t - lo < span && in_ranges(c->r, c->nr, t))
			err = add_entry(c->e, t);
	}
	return err;
}

/* Every target of a direct call (E8 rel32), or of a call through a global offset table's
 * slot (rustc calls C functions so: FF 15 disp32), that lies in the ranges, once per call,
 * sorted: a byte scan of the executable segments, so a few are bytes inside other
 * instructions. */
static int call_targets(const struct nosym_file *f, const struct range *r, int nr,
			struct entries *e)
{
	struct call_scan c = {.f = f, .r = r, .nr = nr, .e = e};
	int err = nosym_each_code_chunk(f, 5, chunk_calls, &c); /* a call is 5 or 6 bytes */

	if (!err && e->n)
		qsort(e->v, e->n, sizeof(e->v[0]), nosym_cmp_u64);
	return err;
}

/* Index of the greatest entry <= a, or -1. */
static long entry_at_or_before(const struct entries *e, uint64_t a)
{
	long lo = 0, hi = (long)e->n;

	while (lo < hi) {
		long mid = (lo + hi) / 2;

		if (e->v[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - 1;
}

/* Whether the code at t makes a frame: [endbr64] push rbp, and mov rbp, rsp in the next 15
 * bytes (a compiler may schedule other moves between them). */
static bool makes_frame_at(const struct nosym_file *f, uint64_t t)
{
	static const uint8_t endbr64[] = {0xf3, 0x0f, 0x1e, 0xfa},
			     mov_rbp_rsp[] = {0x48, 0x89, 0xe5};
	uint8_t *b = nosym_read_code(f, t, 20), *p;
	bool ok;

	if (!b)
		return false;
	p = memcmp(b, endbr64, sizeof(endbr64)) == 0 ? b + sizeof(endbr64) : b;
	ok = p[0] == 0x55 && memmem(p + 1, 15, mov_rbp_rsp, sizeof(mov_rbp_rsp));
	free(b);
	return ok;
}

/*
 * Whether a function can begin at t as compilers lay functions out: 16-byte aligned, after
 * the padding or the last instruction of the one before it (int3 padding, nop or a
 * multi-byte nop, ret); in packed code, after int3 or multi-byte nop padding or where it
 * makes its frame (makes_frame_at).
 * A call target found by the byte scan inside another instruction is so only by chance,
 * and then decoding from it must still meet the checks in step.
 */
bool nosym_checkfuncs_can_begin(const struct nosym_file *f, uint64_t t,
				const struct nosym_family *fam)
{
	static const uint8_t nops[][8] = {{0x0f, 0x1f, 0x00},
					  {0x0f, 0x1f, 0x40, 0x00},
					  {0x0f, 0x1f, 0x44, 0x00, 0x00},
					  {0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
					  {0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00}};
	static const size_t nop_len[] = {3, 4, 5, 7, 8};
	uint8_t *b = (t & 15) == 0 ? nosym_read_code(f, t - 8, 8) : NULL;
	bool ok = false;
	size_t i;

	if (b) { /* in packed code a lone ret or nop byte may be another instruction's */
		ok = b[7] == 0xcc || (!fam->packed && (b[7] == 0x90 || b[7] == 0xc3));
		for (i = 0; i < sizeof(nop_len) / sizeof(nop_len[0]) && !ok; i++)
			ok = memcmp(b + 8 - nop_len[i], nops[i], nop_len[i]) == 0;
		free(b);
	}
	return ok || (fam->packed && makes_frame_at(f, t));
}

/* The end of the executable segment that holds vaddr (vaddr itself when none does). */
static uint64_t segment_end(const struct nosym_file *f, uint64_t vaddr)
{
	int i;

	for (i = 0; i < elf_file_ehdr(&f->elf)->e_phnum; i++) {
		const Elf64_Phdr *ph = elf_file_phdr(&f->elf, i);

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && vaddr >= ph->p_vaddr &&
		    vaddr - ph->p_vaddr < ph->p_filesz)
			return ph->p_vaddr + ph->p_filesz;
	}
	return vaddr;
}

/* Whether insn is `push imm`; the value in *v. */
static bool push_imm(const cs_insn *insn, int *v)
{
	const cs_x86 *x = &insn->detail->x86;

	if (insn->id != X86_INS_PUSH || x->op_count != 1 || x->operands[0].type != X86_OP_IMM)
		return false;
	*v = (int)x->operands[0].imm;
	return true;
}

/* Whether insn sets reg (a 32-bit register, reg64 its whole) to an immediate: `mov reg,
 * imm`, or `pop reg64` right after a `push imm` (pushed: 1 and its value; code built for
 * size). The value in *v. */
static bool set_imm(const cs_insn *insn, x86_reg reg, x86_reg reg64, bool pushed, int value, int *v)
{
	const cs_x86 *x = &insn->detail->x86;

	if (pushed && insn->id == X86_INS_POP && x->op_count == 1 &&
	    x->operands[0].type == X86_OP_REG && x->operands[0].reg == reg64) {
		*v = value;
		return true;
	}
	if (insn->id != X86_INS_MOV || x->op_count != 2 || x->operands[0].type != X86_OP_REG ||
	    x->operands[0].reg != reg || x->operands[1].type != X86_OP_IMM)
		return false;
	*v = (int)x->operands[1].imm;
	return true;
}

/* What a check sets: its library, reason and line (-1: not set), the function it calls. */
struct site {
	int lib, reason, line;
	uint64_t report;
};

/*
 * The tail a check jumps to at t, which checks built for size share: decoded for at most
 * NOSYM_SITE_WINDOW instructions up to a direct call, what it sets (a value pushed before
 * the jump, `pushed` and `value`, popped there). True when it reaches a direct call.
 */
static bool shared_tail(const struct nosym_file *f, csh cs, uint64_t t, bool pushed, int value,
			struct site *st)
{
	uint64_t end = segment_end(f, t);
	size_t left = end - t < 16 * NOSYM_SITE_WINDOW ? (size_t)(end - t) : 16 * NOSYM_SITE_WINDOW;
	uint8_t *buf = left ? nosym_read_code(f, t, left) : NULL; /* to its segment's end */
	const uint8_t *code = buf;
	cs_insn *insn = buf ? cs_malloc(cs) : NULL;
	uint64_t addr = t;
	bool found = false;
	int n = 0, v;

	while (insn && !found && n++ < NOSYM_SITE_WINDOW &&
	       cs_disasm_iter(cs, &code, &left, &addr, insn)) {
		if (set_imm(insn, X86_REG_EDI, X86_REG_RDI, pushed, value, &v))
			st->lib = v;
		else if (set_imm(insn, X86_REG_EDX, X86_REG_RDX, pushed, value, &v))
			st->reason = v;
		else if (set_imm(insn, X86_REG_R8D, X86_REG_R8, pushed, value, &v))
			st->line = v;
		else if (insn->id == X86_INS_RET || insn->id == X86_INS_JMP)
			break;
		found = nosym_direct_call(insn, &st->report);
		pushed = push_imm(insn, &value);
	}
	if (insn)
		cs_free(insn, 1);
	free(buf);
	return found;
}

/* Whether insn writes memory through a pointer: a base register other than the stack's (rsp,
 * and rbp when the function made it its frame pointer). */
static bool stores_through_pointer(const cs_insn *insn, bool framed)
{
	const cs_x86 *x = &insn->detail->x86;
	x86_reg base = x->op_count >= 1 ? x->operands[0].mem.base : X86_REG_INVALID;

	if (x->op_count < 1 || x->operands[0].type != X86_OP_MEM ||
	    !(x->operands[0].access & CS_AC_WRITE))
		return false;
	return base != X86_REG_RSP && base != X86_REG_RIP && base != X86_REG_INVALID &&
	       (base != X86_REG_RBP || !framed);
}

/* Whether insn is `mov rbp, rsp`: rbp is the frame pointer from here. */
static bool makes_frame(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;

	return insn->id == X86_INS_MOV && x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
	       x->operands[0].reg == X86_REG_RBP && x->operands[1].type == X86_OP_REG &&
	       x->operands[1].reg == X86_REG_RSP;
}

/* What decoding one function has met so far. */
struct decoding {
	const struct nosym_file *f;
	csh cs;
	const struct nosym_family *fam;
	struct nosym_checkfunc *fn;
	/* the check under way: instructions since each of its parts was met (UNSET: not within
	 * the window), and what they set */
	int since_file, since_lib, since_reason, since_line;
	uint64_t file_at; /* the load of the file's name */
	const char *file;
	int reason, line;
	/* the instructions before */
	bool pushed;  /* the last one was `push imm` */
	int value;    /* the value of the last `push imm` */
	bool framed;  /* rbp is the frame pointer */
	bool left_it; /* the last one was a ret or jmp */
};

/* Whether insn is a direct jump (jmp rel). */
static bool direct_jump(const cs_insn *insn)
{
	return insn->id == X86_INS_JMP && insn->detail->x86.op_count == 1 &&
	       insn->detail->x86.operands[0].type == X86_OP_IMM;
}

/* Whether insn, right after a ret or jmp, is past the function's end: int3 padding, or in
 * packed code the frame of the next function. */
static bool past_the_end(const struct decoding *d, const cs_insn *insn)
{
	return d->left_it && (insn->id == X86_INS_INT3 ||
			      (d->fam->packed && makes_frame_at(d->f, insn->address)));
}

/* One instruction on: each part of the check under way is one further away. */
static void age_parts(struct decoding *d)
{
	d->since_file += d->since_file < UNSET;
	d->since_lib += d->since_lib < UNSET;
	d->since_reason += d->since_reason < UNSET;
	d->since_line += d->since_line < UNSET;
}

/* The part of a check insn sets, if any: the file's name into rcx, the family's library
 * into edi, a reason into edx, a line into r8d (`pop` of a value pushed just before too). */
static void note_part(struct decoding *d, const cs_insn *insn)
{
	uint64_t loads = nosym_loads(insn, X86_REG_RCX);
	const char *s = loads != UINT64_MAX ? nosym_string_at(d->f, loads) : NULL;
	int v;

	if (nosym_ends_with(s, d->fam->file)) {
		d->since_file = 0;
		d->file_at = insn->address;
		d->file = s;
	} else if (set_imm(insn, X86_REG_EDI, X86_REG_RDI, d->pushed, d->value, &v) &&
		   v == d->fam->lib) {
		d->since_lib = 0;
	} else if (set_imm(insn, X86_REG_EDX, X86_REG_RDX, d->pushed, d->value, &v)) {
		d->reason = v;
		d->since_reason = 0;
	} else if (set_imm(insn, X86_REG_R8D, X86_REG_R8, d->pushed, d->value, &v)) {
		d->line = v;
		d->since_line = 0;
	}
}

/*
 * The jump insn of a check under way in packed code, to a tail shared with other checks
 * (shared_tail; a value pushed right before the jump is popped there): the parts the tail
 * sets join the check. True when the tail reaches a direct call, its target in *report.
 */
static bool through_shared_tail(struct decoding *d, const cs_insn *insn, uint64_t *report)
{
	struct site st = {-1, -1, -1, 0};

	if (!shared_tail(d->f, d->cs, (uint64_t)insn->detail->x86.operands[0].imm, d->pushed,
			 d->value, &st))
		return false;
	d->since_lib = st.lib == d->fam->lib ? 0 : d->since_lib;
	d->reason = st.reason >= 0 ? st.reason : d->reason;
	d->since_reason = st.reason >= 0 ? 0 : d->since_reason;
	d->line = st.line >= 0 ? st.line : d->line;
	d->since_line = st.line >= 0 ? 0 : d->since_line;
	*report = st.report;
	return true;
}

/* At a direct call or jump, the end of the check under way: kept when the file's name and
 * the library were met within the window, with its reason and line when they were too; a
 * call (to target) is the function it reports through. Its parts are forgotten either
 * way. */
static void end_check(struct decoding *d, bool call, uint64_t target)
{
	struct nosym_checkfunc *fn = d->fn;

	if (d->since_file < UNSET && d->since_lib < UNSET && fn->nchecks < NOSYM_MAX_CHECKS) {
		fn->checks[fn->nchecks++] = (struct nosym_check){
			.at = d->file_at,
			.file = d->file,
			.reason = d->since_reason < UNSET ? d->reason : -1,
			.line = d->since_line < UNSET ? d->line : -1,
		};
		if (call)
			fn->report = fn->report && fn->report != target ? UINT64_MAX : target;
	}
	d->since_file = d->since_lib = d->since_reason = d->since_line = UNSET;
}

/* Each instruction in turn: past the function's end, decoding stops; else it may set a part of
 * the check under way, tell what the function does besides (makes a frame, stores, calls),
 * and end the check (a direct call or jump, perhaps through a shared tail). */
bool nosym_checkfuncs_decode(const struct nosym_file *f, csh cs, cs_insn *insn,
			     struct nosym_checkfunc *fn, const uint64_t *must, int nmust,
			     const struct nosym_family *fam)
{
	struct decoding d = {.f = f,
			     .cs = cs,
			     .fam = fam,
			     .fn = fn,
			     .since_file = UNSET,
			     .since_lib = UNSET,
			     .since_reason = UNSET,
			     .since_line = UNSET,
			     .reason = -1,
			     .line = -1};
	uint64_t addr = fn->entry, target = 0;
	uint8_t *buf;
	const uint8_t *code;
	size_t left;
	int met = 0;

	if (fn->end > segment_end(f, fn->entry))
		fn->end = segment_end(f, fn->entry);
	left = fn->end > fn->entry ? (size_t)(fn->end - fn->entry) : 0;
	code = buf = nosym_read_code(f, fn->entry, left);
	if (!buf)
		return false;
	fn->nchecks = fn->ncalls = 0;
	fn->report = 0;
	fn->stores = false;
	while (cs_disasm_iter(cs, &code, &left, &addr, insn)) {
		bool call = nosym_direct_call(insn, &target), jump = direct_jump(insn);

		if (past_the_end(&d, insn)) {
			addr = insn->address; /* padding, or the frame of the next function */
			break;
		}
		d.left_it = insn->id == X86_INS_RET || insn->id == X86_INS_JMP;
		met += met < nmust && insn->address == must[met];
		age_parts(&d);
		note_part(&d, insn);
		d.framed |= makes_frame(insn);
		fn->stores |= stores_through_pointer(insn, d.framed);
		if (call && fn->ncalls < NOSYM_MAX_CALLS)
			fn->calls[fn->ncalls++] = target;
		if (jump && fam->packed && d.since_file < UNSET &&
		    through_shared_tail(&d, insn, &target))
			call = true; /* a tail shared with others made the call */
		if (call || jump)
			end_check(&d, call, target);
		d.pushed = push_imm(insn, &d.value); /* for a pop in the next one */
	}
	fn->end = addr;
	free(buf);
	return met == nmust;
}

/* The stretches of code around the loads of the file's name into rcx, where the functions
 * that make its checks lie, into r sorted and merged. Returns how many, or -EINVAL (with
 * why) when there are more than MAX_RANGES loads. */
static int check_ranges(const struct nosym_refs *refs, struct range *r,
			const struct nosym_family *fam, char *why, size_t whylen)
{
	int nr = 0, i, j;

	for (i = 0; i < refs->n; i++) {
		uint64_t a = refs->v[i].vaddr;

		if (refs->v[i].reg != 1 /* rcx */)
			continue;
		if (nr == MAX_RANGES) {
			snprintf(why, whylen, "more than %d checks of %s", MAX_RANGES, fam->name);
			return -EINVAL;
		}
		r[nr++] = (struct range){a > FN_REACH ? a - FN_REACH : 0,
					 a < UINT64_MAX - NOSYM_FN_MAX ? a + NOSYM_FN_MAX
								       : UINT64_MAX};
	}
	if (!nr)
		return 0;
	qsort(r, (size_t)nr, sizeof(r[0]), cmp_range); /* sorted and merged */
	for (i = 1, j = 0; i < nr; i++) {
		if (r[i].lo <= r[j].hi)
			r[j].hi = r[i].hi > r[j].hi ? r[i].hi : r[j].hi;
		else
			r[++j] = r[i];
	}
	return j + 1;
}

int nosym_checkfuncs_find(const struct nosym_file *f, const uint64_t *files, int nfiles,
			  struct nosym_checkfunc *fns, const struct nosym_family *fam, char *why,
			  size_t whylen)
{
	int zero[NOSYM_MAX_STRINGS] = {0}, nr = 0, nf = 0, i, j, err;
	struct nosym_refs refs = {.targets = files, .target_name = zero, .ntargets = nfiles};
	struct range r[MAX_RANGES];
	struct entries e = {0};
	cs_insn *insn = NULL;
	csh cs;

	err = nosym_open_decoder(&cs, &insn);
	if (err)
		return err;
	err = nosym_scan_code(f, &refs);
	if (!err)
		nr = check_ranges(&refs, r, fam, why, whylen);
	if (nr < 0)
		err = nr;
	else if (!err && nr)
		err = call_targets(f, r, nr, &e);
	for (i = 0; i < refs.n && nr && !err; i++) {
		uint64_t a = refs.v[i].vaddr;
		long k = entry_at_or_before(&e, a);
		size_t next;
		struct nosym_checkfunc fn = {0};

		if (refs.v[i].reg != 1)
			continue;
		/* its entry: the nearest call target before it where a function can begin */
		while (k >= 0 && a - e.v[k] < FN_REACH &&
		       !nosym_checkfuncs_can_begin(f, e.v[k], fam))
			k--;
		if (k < 0 || a - e.v[k] >= FN_REACH)
			continue;
		while (k > 0 && e.v[k - 1] == e.v[k])
			k--;
		for (j = 0; j < nf && fns[j].entry != e.v[k]; j++)
			;
		if (j < nf)
			continue; /* its function is looked at already */
		if (nf == NOSYM_MAX_FUNCS) {
			snprintf(why, whylen, "more than %d functions check %s", NOSYM_MAX_FUNCS,
				 fam->name);
			err = -EINVAL;
			break;
		}
		fn.entry = e.v[k];
		for (next = (size_t)k; next < e.n && e.v[next] == fn.entry; next++)
			fn.ncallers++;
		while (next < e.n && e.v[next] - fn.entry < NOSYM_FN_MAX &&
		       !nosym_checkfuncs_can_begin(f, e.v[next], fam))
			next++; /* it ends where the next function begins */
		fn.end = next < e.n && e.v[next] - fn.entry < NOSYM_FN_MAX
				 ? e.v[next]
				 : fn.entry + NOSYM_FN_MAX;
		if (nosym_checkfuncs_decode(f, cs, insn, &fn, &a, 1, fam))
			fns[nf++] = fn;
	}
	free(e.v);
	free(refs.v);
	cs_free(insn, 1);
	cs_close(&cs);
	return err ? err : nf;
}
