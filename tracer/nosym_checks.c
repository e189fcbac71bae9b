/* SPDX-License-Identifier: Apache-2.0 */
/* nosym_checks.c - functions of a stripped executable found by the error checks of their own
 * code: which reasons they report, in which order of source lines. BoringSSL's SSL_write and
 * SSL_read (Bun links BoringSSL in with no symbols for it, no .eh_frame, no caller that names
 * it); aws-lc's EVP_AEAD_CTX_seal, _seal_scatter and _open (Deno's rustls seals records so) */
#define _GNU_SOURCE
#include "nosym_checks.h"
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

#define FN_REACH 0x2000 /* bytes from a check back to its function's entry, at most */
#define FN_MAX 0x4000	/* bytes of one function decoded, at most */
#define MAX_CHECKS 8	/* checks of one function kept */
#define MAX_CALLS 32	/* direct calls of one function kept */
#define MAX_FUNCS 128	/* functions that make a check of the file, looked at */
#define MAX_RANGES 1024 /* stretches of code around the checks */
#define UNSET (2 * NOSYM_SITE_WINDOW + 1)

/*
 * The source file whose checks are looked at, and the library code its checks pass:
 * BoringSSL's ssl_lib.cc (OPENSSL_PUT_ERROR(SSL, ...)), or aws-lc's aead.c
 * (OPENSSL_PUT_ERROR(CIPHER, ...)), which aws-lc-sys may build for size: functions packed
 * without alignment, immediates set by push and pop, checks sharing tails.
 */
struct family {
	const char *file; /* the end of its __FILE__ */
	const char *name; /* its last part, as messages say it */
	const char *library;
	int lib;
	bool packed; /* functions may follow one another unaligned: each begins with a frame */
};

static const struct family BORING_SSL = {NOSYM_BORING_FILE, "ssl_lib.cc", "BoringSSL", ERR_LIB_SSL,
					 false};
static const struct family AWSLC_AEAD = {NOSYM_AWSLC_AEAD_FILE, "aead.c", "aws-lc", ERR_LIB_CIPHER,
					 true};

/* One OPENSSL_PUT_ERROR(lib, reason) of the file: where the file is loaded (and its name),
 * the reason (edx) and line (r8d) set beside it, -1 when not an immediate. */
struct check {
	uint64_t at;
	const char *file; /* in the file's mapping */
	int reason, line;
};

/* A function of the file: its checks in address order, what it calls. */
struct func {
	uint64_t entry, end;
	struct check checks[MAX_CHECKS];
	int nchecks;
	uint64_t report; /* the function its checks call; UINT64_MAX when they do not agree */
	uint64_t calls[MAX_CALLS];
	int ncalls;
	bool stores; /* writes memory through a pointer (not the stack) */
	int ncallers;
};

/* Function entries: targets of direct calls (E8 rel32) into stretches of code, sorted, each
 * as many times as it is called. */
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

/*
 * Whether a function can begin at t as compilers lay functions out: 16-byte aligned, after
 * the padding or the last instruction of the one before it (int3 padding, nop or a
 * multi-byte nop, ret); in packed code, after int3 or multi-byte nop padding or where it
 * makes its frame (makes_frame_at).
 * A call target found by the byte scan inside another instruction is so only by chance,
 * and then decoding from it must still meet the checks in step.
 */
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

static bool starts_function(const struct nosym_file *f, uint64_t t, const struct family *fam)
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

/*
 * The function [fn->entry, fn->end) decoded from its entry: its checks of the family's file
 * (the file into rcx and its library into edi within NOSYM_SITE_WINDOW instructions of each
 * other and of a direct call or jump, the reason into edx and line into r8d beside them; in
 * packed code, some of them set in the tail a jump leads to, shared with other checks), its
 * direct calls, whether it stores through a pointer. Decoding stops at the first byte that
 * is no instruction, and at int3 padding after a ret or jmp: the end of a function as
 * clang and lld lay them out (fn->end moves there); in packed code also at a frame made
 * after a ret or jmp, the next function's (one no direct call reaches is not taken in). Each of
 * must[0, nmust) has to be met as an instruction; false when one is not.
 */
static bool decode(const struct nosym_file *f, csh cs, cs_insn *insn, struct func *fn,
		   const uint64_t *must, int nmust, const struct family *fam)
{
	uint8_t *buf;
	const uint8_t *code;
	size_t left;
	uint64_t addr = fn->entry, file_at = 0, target, loads;
	const char *file = NULL, *s;
	int since_file = UNSET, since_lib = UNSET, since_reason = UNSET, since_line = UNSET;
	int reason = -1, line = -1, met = 0, v, value = 0, value_before;
	bool framed = false, left_it = false, pushed = false, was_pushed;

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
		bool call = nosym_direct_call(insn, &target);
		bool jump = insn->id == X86_INS_JMP && insn->detail->x86.op_count == 1 &&
			    insn->detail->x86.operands[0].type == X86_OP_IMM;

		if (left_it && (insn->id == X86_INS_INT3 ||
				(fam->packed && makes_frame_at(f, insn->address)))) {
			addr = insn->address; /* padding, or the frame of the next function */
			break;
		}
		left_it = insn->id == X86_INS_RET || insn->id == X86_INS_JMP;
		met += met < nmust && insn->address == must[met];
		since_file += since_file < UNSET;
		since_lib += since_lib < UNSET;
		since_reason += since_reason < UNSET;
		since_line += since_line < UNSET;
		loads = nosym_loads(insn, X86_REG_RCX);
		s = loads != UINT64_MAX ? nosym_string_at(f, loads) : NULL;
		if (nosym_ends_with(s, fam->file)) {
			since_file = 0;
			file_at = insn->address;
			file = s;
		} else if (set_imm(insn, X86_REG_EDI, X86_REG_RDI, pushed, value, &v) &&
			   v == fam->lib) {
			since_lib = 0;
		} else if (set_imm(insn, X86_REG_EDX, X86_REG_RDX, pushed, value, &v)) {
			reason = v;
			since_reason = 0;
		} else if (set_imm(insn, X86_REG_R8D, X86_REG_R8, pushed, value, &v)) {
			line = v;
			since_line = 0;
		}
		was_pushed = pushed;
		value_before = value;
		pushed = push_imm(insn, &value);
		framed |= makes_frame(insn);
		fn->stores |= stores_through_pointer(insn, framed);
		if (call && fn->ncalls < MAX_CALLS)
			fn->calls[fn->ncalls++] = target;
		if (!call && !jump)
			continue;
		if (jump && fam->packed && since_file < UNSET) { /* a tail shared with others */
			struct site st = {-1, -1, -1, 0};

			if (shared_tail(f, cs, (uint64_t)insn->detail->x86.operands[0].imm,
					was_pushed, value_before, &st)) {
				since_lib = st.lib == fam->lib ? 0 : since_lib;
				reason = st.reason >= 0 ? st.reason : reason;
				since_reason = st.reason >= 0 ? 0 : since_reason;
				line = st.line >= 0 ? st.line : line;
				since_line = st.line >= 0 ? 0 : since_line;
				call = true;
				target = st.report;
			}
		}
		if (since_file < UNSET && since_lib < UNSET && fn->nchecks < MAX_CHECKS) {
			fn->checks[fn->nchecks++] = (struct check){
				.at = file_at,
				.file = file,
				.reason = since_reason < UNSET ? reason : -1,
				.line = since_line < UNSET ? line : -1,
			};
			if (call)
				fn->report =
					fn->report && fn->report != target ? UINT64_MAX : target;
		}
		since_file = since_lib = since_reason = since_line = UNSET;
	}
	fn->end = addr;
	free(buf);
	return met == nmust;
}

/* The function's reasons in the order of their lines: 0 and seq, or -1 when a check has no
 * immediate reason or line, or when they do not all report through one function. */
static int reasons_by_line(const struct func *fn, int *seq)
{
	struct check c[MAX_CHECKS];
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

static int min_line(const struct func *fn)
{
	int i, m = fn->checks[0].line;

	for (i = 1; i < fn->nchecks; i++)
		m = fn->checks[i].line < m ? fn->checks[i].line : m;
	return m;
}

static int max_line(const struct func *fn)
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

static enum kind kind_of(const struct func *fn, const struct family *fam)
{
	static const int write[] = {R_NOT_CALLED, R_UNINITIALIZED, R_HS_FAILURE, R_BAD_LENGTH};
	static const int read_whole[] = {R_UNINITIALIZED, R_HS_FAILURE, R_NOT_CALLED};
	static const int *read_impl = read_whole, *peek = read_whole + 2;
	static const int seal[] = {R_TOO_LARGE, R_TOO_SMALL, R_ALIASES};
	/* open, and open with EVP_AEAD_CTX_open_gather inlined into it (clang's builds) */
	static const int open[] = {R_ALIASES, R_BAD_DECRYPT, R_TOO_SMALL, R_ALIASES, R_NOT_IMPL};
	static const int scatter[] = {R_ALIASES, R_INVALID_OP};
	int seq[MAX_CHECKS];

	if (fn->nchecks >= MAX_CHECKS || reasons_by_line(fn, seq))
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

static bool calls(const struct func *fn, uint64_t target)
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

/* The loads of the file's name into rcx in the code, and the functions around them, each
 * once (their bounds: the call targets found, a function ending where the next begins).
 * Returns how many functions, or -errno (-EINVAL with why). */
static int find_funcs(const struct nosym_file *f, const uint64_t *files, int nfiles,
		      struct func *fns, const struct family *fam, char *why, size_t whylen)
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
	for (i = 0; i < refs.n && !err; i++) {
		uint64_t a = refs.v[i].vaddr;

		if (refs.v[i].reg != 1 /* rcx */)
			continue;
		if (nr == MAX_RANGES) {
			snprintf(why, whylen, "more than %d checks of %s", MAX_RANGES, fam->name);
			err = -EINVAL;
			break;
		}
		r[nr++] = (struct range){a > FN_REACH ? a - FN_REACH : 0,
					 a < UINT64_MAX - FN_MAX ? a + FN_MAX : UINT64_MAX};
	}
	if (!err && nr) {
		qsort(r, (size_t)nr, sizeof(r[0]), cmp_range); /* sorted and merged */
		for (i = 1, j = 0; i < nr; i++) {
			if (r[i].lo <= r[j].hi)
				r[j].hi = r[i].hi > r[j].hi ? r[i].hi : r[j].hi;
			else
				r[++j] = r[i];
		}
		nr = j + 1;
		err = call_targets(f, r, nr, &e);
	}
	for (i = 0; i < refs.n && nr && !err; i++) {
		uint64_t a = refs.v[i].vaddr;
		long k = entry_at_or_before(&e, a);
		size_t next;
		struct func fn = {0};

		if (refs.v[i].reg != 1)
			continue;
		/* its entry: the nearest call target before it where a function can begin */
		while (k >= 0 && a - e.v[k] < FN_REACH && !starts_function(f, e.v[k], fam))
			k--;
		if (k < 0 || a - e.v[k] >= FN_REACH)
			continue;
		while (k > 0 && e.v[k - 1] == e.v[k])
			k--;
		for (j = 0; j < nf && fns[j].entry != e.v[k]; j++)
			;
		if (j < nf)
			continue; /* its function is looked at already */
		if (nf == MAX_FUNCS) {
			snprintf(why, whylen, "more than %d functions check %s", MAX_FUNCS,
				 fam->name);
			err = -EINVAL;
			break;
		}
		fn.entry = e.v[k];
		for (next = (size_t)k; next < e.n && e.v[next] == fn.entry; next++)
			fn.ncallers++;
		while (next < e.n && e.v[next] - fn.entry < FN_MAX &&
		       !starts_function(f, e.v[next], fam))
			next++; /* it ends where the next function begins */
		fn.end =
			next < e.n && e.v[next] - fn.entry < FN_MAX ? e.v[next] : fn.entry + FN_MAX;
		if (decode(f, cs, insn, &fn, &a, 1, fam))
			fns[nf++] = fn;
	}
	free(e.v);
	free(refs.v);
	cs_free(insn, 1);
	cs_close(&cs);
	return err ? err : nf;
}

/* out for a function found: its entry, first check, reporting function, file. */
static void take(const struct nosym_file *f, const struct func *fn, struct nosym_found *out)
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
	struct func *fns = calloc(MAX_FUNCS, sizeof(*fns));
	enum kind kinds[MAX_FUNCS], rk;
	int nfiles, nf, i, w, ri, p;
	char why_w[160] = "", why_r[160] = "";

	if (!fns)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		out[i] = (struct nosym_found){.err = -ENOENT, .how = NOSYM_BY_CHECKS};
	nfiles = nosym_source_files(f, NOSYM_BORING_FILE, files, NOSYM_MAX_STRINGS);
	nf = nfiles ? find_funcs(f, files, nfiles, fns, &BORING_SSL, why_w, sizeof(why_w)) : 0;
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
static enum kind kind_named(const char *name, const struct family **fam)
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
	const struct family *fam;

	kind_named(name, &fam);
	return fam->library;
}

int nosym_find_aead(struct nosym_file *f, const char *const *names, int n, struct nosym_found *out)
{
	uint64_t files[NOSYM_MAX_STRINGS];
	struct func *fns = calloc(MAX_FUNCS, sizeof(*fns));
	enum kind kinds[MAX_FUNCS];
	int nfiles, nf, i, s = -1, o = -1, sc = -1;
	char why[160] = "";

	if (!fns)
		return -ENOMEM;
	nfiles = nosym_source_files(f, AWSLC_AEAD.file, files, NOSYM_MAX_STRINGS);
	nf = nfiles ? find_funcs(f, files, nfiles, fns, &AWSLC_AEAD, why, sizeof(why)) : 0;
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
		const struct family *fam;
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
	struct func fn = {.entry = out->entry, .end = out->end};
	const struct family *fam;
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
	if (!starts_function(f, fn.entry, fam) || fn.end <= site || fn.end - fn.entry > FN_MAX) {
		unsure(out, "no function can begin at 0x%llx and hold 0x%llx",
		       (unsigned long long)fn.entry, (unsigned long long)site);
		return -EINVAL;
	}
	if (nosym_open_decoder(&cs, &insn))
		return -ENOMEM;
	met = decode(f, cs, insn, &fn, &site, 1, fam);
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
