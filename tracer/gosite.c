/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gosite.c - the calls inside Go's crypto/tls.(*Conn).Write and Read where the plaintext
 * passes, proven from the decoded function.
 *
 * Long because the proof is one: the prologue, the body's jumps, the spill slots kept across
 * the call, each checked on the same decoded function before a probe may go there.
 */
#include "gosite.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * What is taken as known of Go's amd64 code (cmd/compile, Go 1.17 to 1.26 seen):
 * - ABIInternal: the receiver and arguments in RAX, RBX, RCX, RDI, RSI, ...; each call
 *   clobbers every register but RSP, RBP and R14 (the goroutine);
 * - a function's frame is made once, after the stack check: `sub $F, rsp` (Go 1.20 and
 *   older, which save RBP inside the frame) or `push rbp; mov rbp, rsp; sub $F, rsp`
 *   (1.21+); it is unmade only right before a return or tail jump (`add $F, rsp`, then
 *   `pop rbp` in 1.21+). RSP is therefore the same at every instruction of the body;
 * - the caller keeps a spill slot for each register argument above the return address:
 *   the receiver's at [rsp + depth + 8], the next word's at [rsp + depth + 16];
 * - the morestack block at the end (the stack check's target) stores the arguments at the
 *   entry's RSP, calls runtime.morestack and jumps back to the entry.
 * Anything else met where it matters makes the function "not recognised".
 */

#define APPLICATION_DATA 23 /* recordTypeApplicationData */

/* The function decoded whole, with what its body's stack looks like. */
struct fn {
	csh cs;
	cs_insn *insn;
	size_t n;
	uint64_t entry, end; /* [entry, end): the function's addresses */
	uint64_t *targets;   /* sorted addresses that direct jumps reach inside the function */
	size_t ntargets;
	size_t body;	     /* the first instruction after the frame is made */
	uint32_t frame;	     /* F of `sub $F, rsp` */
	bool pushed;	     /* RBP pushed before (Go 1.21+) */
	uint32_t depth;	     /* bytes the frame (and a pushed RBP) put below the return address */
	size_t ms_lo, ms_hi; /* the morestack block [ms_lo, ms_hi); ms_lo == ms_hi: none */
};

static bool is_reg(const cs_x86_op *op, x86_reg r)
{
	return op->type == X86_OP_REG && op->reg == r;
}

/* The 64-bit register a register operand is part of (EBX, BX, BL: RBX), or r itself. */
static x86_reg full_reg(x86_reg r)
{
	static const x86_reg map[][5] = {
		{X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL, X86_REG_AH},
		{X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL, X86_REG_BH},
		{X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH},
		{X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL, X86_REG_DH},
		{X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL, X86_REG_DIL},
		{X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL, X86_REG_SIL},
		{X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL, X86_REG_SPL},
		{X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL, X86_REG_BPL},
	};
	size_t i, j;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		for (j = 0; j < 5; j++)
			if (map[i][j] == r)
				return map[i][0];
	return r;
}

/* Whether instruction i writes (part of) the 64-bit register r, named or implied. */
static bool writes(const struct fn *f, size_t i, x86_reg r)
{
	cs_regs rd, wr;
	uint8_t nrd, nwr, k;

	if (cs_regs_access(f->cs, &f->insn[i], rd, &nrd, wr, &nwr) != CS_ERR_OK)
		return true; /* not known: taken as written */
	for (k = 0; k < nwr; k++)
		if (full_reg((x86_reg)wr[k]) == r)
			return true;
	return false;
}

/* The direct target of a jump or call, or 0 when it has none. */
static uint64_t direct_target(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	return x->op_count == 1 && x->operands[0].type == X86_OP_IMM ? (uint64_t)x->operands[0].imm
								     : 0;
}

static bool is_jump(const struct fn *f, size_t i)
{
	return cs_insn_group(f->cs, &f->insn[i], CS_GRP_JUMP);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Whether a direct jump of the function lands on instruction i. */
static bool is_target(const struct fn *f, size_t i)
{
	uint64_t a = f->insn[i].address;

	return bsearch(&a, f->targets, f->ntargets, sizeof(a), cmp_u64) != NULL;
}

/* Index of the instruction at address a, or f->n. */
static size_t index_of(const struct fn *f, uint64_t a)
{
	size_t lo = 0, hi = f->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (f->insn[mid].address < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < f->n && f->insn[lo].address == a ? lo : f->n;
}

/* `op $imm, rsp` (sub or add): imm, or 0 when instruction i is not that. */
static uint32_t rsp_imm(const struct fn *f, size_t i, unsigned int id)
{
	const cs_x86 *x = &f->insn[i].detail->x86;

	if (f->insn[i].id != id || x->op_count != 2 || !is_reg(&x->operands[0], X86_REG_RSP) ||
	    x->operands[1].type != X86_OP_IMM || x->operands[1].imm <= 0 ||
	    x->operands[1].imm > 1 << 20)
		return 0;
	return (uint32_t)x->operands[1].imm;
}

/* Whether instruction i is `cmp rsp|r12, [r14 + 16]`: the stack pointer (or the frame's
 * lowest address) against the goroutine's stack guard. */
static bool is_stack_check(const struct fn *f, size_t i)
{
	const cs_x86 *x = &f->insn[i].detail->x86;
	const cs_x86_op *g = &x->operands[1];

	return f->insn[i].id == X86_INS_CMP && x->op_count == 2 &&
	       (is_reg(&x->operands[0], X86_REG_RSP) || is_reg(&x->operands[0], X86_REG_R12)) &&
	       g->type == X86_OP_MEM && g->mem.base == X86_REG_R14 &&
	       g->mem.index == X86_REG_INVALID && g->mem.disp == 16;
}

/*
 * The prologue: the stack check (`[lea r12, [rsp - N];] cmp rsp|r12, [r14 + 16]; jbe|jb
 * morestack`), then the frame. Fills body, depth and the morestack block.
 */
static int read_prologue(struct fn *f, uint64_t entry, char *err, size_t errlen)
{
	size_t i = 0, ms;
	uint32_t frame;

	if (i < f->n && f->insn[i].id == X86_INS_LEA)
		i++;
	if (i + 1 >= f->n || !is_stack_check(f, i) ||
	    (f->insn[i + 1].id != X86_INS_JBE && f->insn[i + 1].id != X86_INS_JB)) {
		snprintf(err, errlen, "it does not begin with Go's stack check");
		return -EINVAL;
	}
	ms = index_of(f, direct_target(&f->insn[i + 1]));
	i += 2;
	if (i + 1 < f->n && f->insn[i].id == X86_INS_PUSH &&
	    is_reg(&f->insn[i].detail->x86.operands[0], X86_REG_RBP) &&
	    f->insn[i + 1].id == X86_INS_MOV &&
	    is_reg(&f->insn[i + 1].detail->x86.operands[0], X86_REG_RBP) &&
	    is_reg(&f->insn[i + 1].detail->x86.operands[1], X86_REG_RSP)) {
		f->pushed = true; /* Go 1.21+: push rbp; mov rbp, rsp; sub $F, rsp */
		i += 2;
	}
	f->frame = frame = i < f->n ? rsp_imm(f, i, X86_INS_SUB) : 0;
	if (!frame) {
		snprintf(err, errlen, "its frame is not made as Go makes it, at 0x%llx",
			 (unsigned long long)(i < f->n ? f->insn[i].address : entry));
		return -EINVAL;
	}
	f->depth = frame + (f->pushed ? 8 : 0);
	f->body = i + 1;
	/* the morestack block: from the check's target to its jump back to the entry */
	if (ms < f->n && ms >= f->body) {
		size_t k;

		for (k = ms; k < f->n &&
			     !(f->insn[k].id == X86_INS_JMP && direct_target(&f->insn[k]) == entry);
		     k++)
			;
		if (k < f->n) {
			f->ms_lo = ms;
			f->ms_hi = k + 1;
		}
		for (k = f->ms_hi; k < f->n; k++) /* the end of the function: padding after it */
			if (f->insn[k].id != X86_INS_INT3)
				f->ms_lo = f->ms_hi = 0;
	}
	if (f->ms_lo == f->ms_hi) {
		snprintf(err, errlen, "its stack check leads to no morestack block");
		return -EINVAL;
	}
	return 0;
}

/* Whether a jump to t leaves the function's body: a tail call elsewhere, or a start over. */
static bool leaves(const struct fn *f, uint64_t t)
{
	return t && (t < f->entry || t >= f->end || t == f->entry);
}

/* Whether instruction i (in the body) is part of unmaking the frame right before leaving:
 * `add $F, rsp`, then `pop rbp` when it was pushed, then ret or a direct jump. */
static bool is_epilogue(const struct fn *f, size_t i)
{
	size_t k = i + 1;

	if (f->pushed && f->insn[i].id == X86_INS_POP &&
	    is_reg(&f->insn[i].detail->x86.operands[0], X86_REG_RBP) && i > 0 &&
	    rsp_imm(f, i - 1, X86_INS_ADD) == f->frame)
		; /* the pop after the add */
	else if (rsp_imm(f, i, X86_INS_ADD) != f->frame)
		return false;
	else if (f->pushed) {
		if (k >= f->n || f->insn[k].id != X86_INS_POP ||
		    !is_reg(&f->insn[k].detail->x86.operands[0], X86_REG_RBP))
			return false;
		k++;
	}
	return k < f->n &&
	       (f->insn[k].id == X86_INS_RET ||
		(f->insn[k].id == X86_INS_JMP && leaves(f, direct_target(&f->insn[k]))));
}

/*
 * The body keeps RSP where the prologue left it: nothing but calls, returns and epilogues
 * moves it, and no jump is indirect (every way into a block is then known).
 */
static int check_body(const struct fn *f, char *err, size_t errlen)
{
	size_t i;

	for (i = f->body; i < f->n; i++) {
		const cs_insn *in = &f->insn[i];

		if (i >= f->ms_lo && i < f->ms_hi)
			continue;
		if (is_jump(f, i) && !direct_target(in)) {
			snprintf(err, errlen, "an indirect jump at 0x%llx",
				 (unsigned long long)in->address);
			return -EINVAL;
		}
		if (in->id == X86_INS_CALL || in->id == X86_INS_RET || in->id == X86_INS_INT3 ||
		    !writes(f, i, X86_REG_RSP) || is_epilogue(f, i))
			continue;
		snprintf(err, errlen, "the stack pointer moves in its body at 0x%llx",
			 (unsigned long long)in->address);
		return -EINVAL;
	}
	return 0;
}

/* Decodes the code of [entry, entry + size) into f: the whole function (int3 padding
 * aside), its jump targets, prologue and body. */
static int fn_open(struct fn *f, const uint8_t *code, size_t size, uint64_t entry, char *err,
		   size_t errlen)
{
	uint64_t decoded;
	size_t i;
	int r;

	memset(f, 0, sizeof(*f));
	f->entry = entry;
	f->end = entry + size;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &f->cs) != CS_ERR_OK) {
		snprintf(err, errlen, "the disassembler could not start");
		return -ENOMEM;
	}
	cs_option(f->cs, CS_OPT_DETAIL, CS_OPT_ON);
	f->n = cs_disasm(f->cs, code, size, entry, 0, &f->insn);
	decoded = f->n ? f->insn[f->n - 1].address + f->insn[f->n - 1].size - entry : 0;
	for (; decoded < size && code[decoded] == 0xcc; decoded++)
		;
	if (!f->n || decoded != size) {
		snprintf(err, errlen, "no instruction decodes at 0x%llx",
			 (unsigned long long)(entry + decoded));
		return -EINVAL;
	}
	f->targets = calloc(f->n + 1, sizeof(*f->targets));
	if (!f->targets)
		return -ENOMEM;
	for (i = 0; i < f->n; i++) {
		uint64_t t = direct_target(&f->insn[i]);

		if (is_jump(f, i) && t >= f->entry && t < f->end)
			f->targets[f->ntargets++] = t;
	}
	qsort(f->targets, f->ntargets, sizeof(*f->targets), cmp_u64);
	r = read_prologue(f, entry, err, errlen);
	return r ? r : check_body(f, err, errlen);
}

static void fn_close(struct fn *f)
{
	if (f->insn)
		cs_free(f->insn, f->n);
	if (f->cs)
		cs_close(&f->cs);
	free(f->targets);
}

/*
 * The instruction that last wrote register r before the call at index `at`, in the block the
 * call is in: f->n when that is not known for sure (the block begins, where another way in
 * could bring another value, or a call or a leaving jump comes first).
 */
static size_t last_writer(const struct fn *f, size_t at, x86_reg r)
{
	size_t i = at;

	while (i > f->body) {
		if (is_target(f, i))
			return f->n; /* reached from elsewhere too */
		i--;
		if (f->insn[i].id == X86_INS_CALL || f->insn[i].id == X86_INS_RET ||
		    f->insn[i].id == X86_INS_JMP)
			return f->n;
		if (writes(f, i, r))
			return i;
	}
	return f->n;
}

/* Whether instruction i is `mov ebx, 23` (or rbx, or bl): the record type in RBX's low
 * byte, as Go passes a uint8. */
static bool is_record_type(const struct fn *f, size_t i, int64_t v)
{
	const cs_x86 *x = &f->insn[i].detail->x86;

	return f->insn[i].id == X86_INS_MOV && x->op_count == 2 &&
	       x->operands[0].type == X86_OP_REG &&
	       (x->operands[0].reg == X86_REG_RBX || x->operands[0].reg == X86_REG_EBX ||
		x->operands[0].reg == X86_REG_BL) &&
	       x->operands[1].type == X86_OP_IMM && x->operands[1].imm == v;
}

/* Whether op is [rsp + disp], 8 bytes. */
static bool is_slot(const cs_x86_op *op, int64_t disp)
{
	return op->type == X86_OP_MEM && op->mem.base == X86_REG_RSP &&
	       op->mem.index == X86_REG_INVALID && op->mem.segment == X86_REG_INVALID &&
	       op->mem.disp == disp && op->size == 8;
}

/* Whether instruction i is `mov dst, src` between register r and [rsp + disp]; `load`
 * tells the direction. */
static bool is_slot_move(const struct fn *f, size_t i, x86_reg r, int64_t disp, bool load)
{
	const cs_x86 *x = &f->insn[i].detail->x86;

	return f->insn[i].id == X86_INS_MOV && x->op_count == 2 &&
	       is_reg(&x->operands[load ? 0 : 1], r) && is_slot(&x->operands[load ? 1 : 0], disp);
}

/*
 * The argument register r's store into its spill slot [rsp + disp] in the first straight
 * run of the body (no call, jump or jump target before it), r unwritten since the entry:
 * its index, or f->n.
 */
static size_t spill_of(const struct fn *f, x86_reg r, int64_t disp)
{
	size_t i;

	for (i = 0; i < f->body; i++)
		if (writes(f, i, r))
			return f->n;
	for (i = f->body; i < f->n; i++) {
		if (is_target(f, i) || is_jump(f, i) || f->insn[i].id == X86_INS_CALL)
			return f->n;
		if (is_slot_move(f, i, r, disp, false))
			return i;
		if (writes(f, i, r))
			return f->n;
	}
	return f->n;
}

/* Whether memory operand k of the instruction may be written: capstone 4 marks some stores
 * (movups) as reads, so a destination (operand 0) counts as written unless the instruction
 * only reads it; another operand as capstone says. */
static bool may_write(const cs_insn *in, int k)
{
	static const unsigned int reads_first[] = {
		X86_INS_CMP,	 X86_INS_TEST,	  X86_INS_PUSH,	      X86_INS_BT,     X86_INS_NOP,
		X86_INS_UCOMISD, X86_INS_UCOMISS, X86_INS_COMISD,     X86_INS_COMISS, X86_INS_PTEST,
		X86_INS_CALL,	 X86_INS_JMP,	  X86_INS_PREFETCHT0,
	};
	size_t j;

	if (k != 0)
		return (in->detail->x86.operands[k].access & CS_AC_WRITE) != 0;
	for (j = 0; j < sizeof(reads_first) / sizeof(reads_first[0]); j++)
		if (in->id == reads_first[j])
			return false;
	return true;
}

/*
 * Whether [rsp + lo, rsp + hi) of the body is written by nothing but the instructions in
 * `keep` (nkeep): no store overlaps it, no address at or above the frame's top is taken
 * from RSP or RBP, and no store goes through RBP.
 */
static bool slots_kept(const struct fn *f, int64_t lo, int64_t hi, const size_t *keep, int nkeep)
{
	size_t i;
	int k, j;

	for (i = f->body; i < f->n; i++) {
		const cs_x86 *x = &f->insn[i].detail->x86;
		bool kept = false;

		if (i >= f->ms_lo && i < f->ms_hi)
			continue; /* stores the entry's arguments at the entry's RSP */
		for (j = 0; j < nkeep; j++)
			kept |= keep[j] == i;
		for (k = 0; k < x->op_count && !kept; k++) {
			const cs_x86_op *op = &x->operands[k];

			if (is_reg(op, X86_REG_RSP) && !is_epilogue(f, i))
				return false; /* RSP copied or moved */
			if (op->type != X86_OP_MEM)
				continue;
			if (f->insn[i].id == X86_INS_LEA) {
				if ((op->mem.base == X86_REG_RSP || op->mem.base == X86_REG_RBP) &&
				    (op->mem.base == X86_REG_RBP ||
				     op->mem.index != X86_REG_INVALID ||
				     op->mem.disp >= (int64_t)f->depth - 8) &&
				    !(op->mem.base == X86_REG_RSP &&
				      op->mem.disp == (int64_t)f->depth - 8 &&
				      is_reg(&x->operands[0], X86_REG_RBP)))
					return false; /* the address of the arguments' area */
				continue;
			}
			if (!may_write(&f->insn[i], k))
				continue;
			if (op->mem.base == X86_REG_RBP ||
			    (op->mem.base == X86_REG_RSP &&
			     (op->mem.index != X86_REG_INVALID ||
			      (op->mem.disp < hi && op->mem.disp + op->size > lo))))
				return false;
		}
	}
	return true;
}

/* Calls of c.writeRecordLocked(recordTypeApplicationData, data) in Write. */
static int write_sites(const struct fn *f, const struct gosite_callees *c, struct gosite *sites,
		       int max, char *err, size_t errlen)
{
	uint64_t target = c->write_record;
	size_t i, w;
	int n = 0;

	if (!target) {
		snprintf(err, errlen, "crypto/tls.(*Conn).writeRecordLocked is not in the program");
		return -EINVAL;
	}
	for (i = f->body; i < f->n; i++) {
		if (f->insn[i].id != X86_INS_CALL || direct_target(&f->insn[i]) != target)
			continue;
		w = last_writer(f, i, X86_REG_RBX);
		if (w == f->n || !is_record_type(f, w, APPLICATION_DATA)) {
			snprintf(err, errlen,
				 "its call of writeRecordLocked at 0x%llx is not shown to pass "
				 "application data",
				 (unsigned long long)f->insn[i].address);
			return -EINVAL;
		}
		if (n == max) {
			snprintf(err, errlen, "it calls writeRecordLocked more than %d times", max);
			return -EINVAL;
		}
		sites[n].addr = f->insn[i].address;
		sites[n].conn_slot = 0;
		snprintf(sites[n].why, sizeof(sites[n].why),
			 "call of writeRecordLocked with record type %d (application data)",
			 APPLICATION_DATA);
		n++;
	}
	if (!n)
		snprintf(err, errlen, "it has no call of writeRecordLocked");
	return n ? n : -EINVAL;
}

/* Read's one copy out of c.input into b: runtime.memmove(b, ...), the *Conn in its slot. */
static int read_sites(const struct fn *f, const struct gosite_callees *c, struct gosite *sites,
		      int max, char *err, size_t errlen)
{
	int64_t conn = (int64_t)f->depth + 8, buf = conn + 8;
	uint64_t memmove = c->memmove, reader = c->reader_read;
	size_t i, at = f->n, keep[2], w;
	int calls = 0;

	if (max < 1) {
		snprintf(err, errlen, "no room for a site");
		return -EINVAL;
	}
	if (!memmove) {
		snprintf(err, errlen, "runtime.memmove is not in the program");
		return -EINVAL;
	}
	for (i = f->body; i < f->n; i++) {
		uint64_t t = f->insn[i].id == X86_INS_CALL ? direct_target(&f->insn[i]) : 0;

		if (reader && t == reader) {
			snprintf(err, errlen,
				 "it calls bytes.(*Reader).Read (a build without inlining)");
			return -EINVAL;
		}
		if (t == memmove) {
			at = i;
			calls++;
		}
	}
	if (calls != 1) {
		snprintf(err, errlen, "it calls runtime.memmove %d times, not once", calls);
		return -EINVAL;
	}
	keep[0] = spill_of(f, X86_REG_RAX, conn);
	keep[1] = spill_of(f, X86_REG_RBX, buf);
	if (keep[0] == f->n || keep[1] == f->n || !slots_kept(f, conn, buf + 8, keep, 2)) {
		snprintf(err, errlen,
			 "its receiver and buffer are not kept in their spill slots [rsp+0x%llx] "
			 "and [rsp+0x%llx]",
			 (unsigned long long)conn, (unsigned long long)buf);
		return -EINVAL;
	}
	w = last_writer(f, at, X86_REG_RAX);
	if (w == f->n || !is_slot_move(f, w, X86_REG_RAX, buf, true)) {
		snprintf(err, errlen, "its memmove at 0x%llx is not shown to copy into its buffer",
			 (unsigned long long)f->insn[at].address);
		return -EINVAL;
	}
	sites[0].addr = f->insn[at].address;
	sites[0].conn_slot = (uint32_t)conn;
	snprintf(sites[0].why, sizeof(sites[0].why),
		 "memmove out of c.input into b (the *Conn at [rsp+0x%llx])",
		 (unsigned long long)conn);
	return 1;
}

int gosite_in_code(const uint8_t *code, size_t size, uint64_t entry, bool write,
		   const struct gosite_callees *callees, struct gosite *sites, int max, char *err,
		   size_t errlen)
{
	struct fn f;
	int r;

	r = fn_open(&f, code, size, entry, err, errlen);
	if (!r)
		r = write ? write_sites(&f, callees, sites, max, err, errlen)
			  : read_sites(&f, callees, sites, max, err, errlen);
	fn_close(&f);
	return r;
}

/* The entry of Go function `name` in g, or 0. */
static uint64_t entry_of(const struct gosym_file *g, const char *name)
{
	uint64_t entry, end;

	return gosym_find(&g->table, name, &entry, &end) == 0 ? entry : 0;
}

int gosite_find(const struct gosym_file *g, const char *func, uint64_t entry, uint64_t end,
		struct gosite *sites, int max, char *err, size_t errlen)
{
	bool write = strcmp(func, "crypto/tls.(*Conn).Write") == 0;
	struct gosite_callees c = {
		.write_record = entry_of(g, "crypto/tls.(*Conn).writeRecordLocked"),
		.memmove = entry_of(g, "runtime.memmove"),
		.reader_read = entry_of(g, "bytes.(*Reader).Read"),
	};
	uint64_t off = elf_file_offset(&g->elf, entry, true);
	uint8_t *code;
	int r;

	if (!write && strcmp(func, "crypto/tls.(*Conn).Read") != 0) {
		snprintf(err, errlen, "no call sites are known in %s", func);
		return -ENOENT;
	}
	if (off == UINT64_MAX || end <= entry || end - entry > 1 << 20 ||
	    elf_file_offset(&g->elf, end - 1, true) != off + (end - entry - 1) ||
	    !(code = elf_file_read(&g->elf, off, (size_t)(end - entry)))) {
		snprintf(err, errlen, "its code at 0x%llx cannot be read",
			 (unsigned long long)entry);
		return -EINVAL;
	}
	r = gosite_in_code(code, (size_t)(end - entry), entry, write, &c, sites, max, err, errlen);
	free(code);
	return r;
}
