/* SPDX-License-Identifier: Apache-2.0 */
/* nosymxref.c - where a stripped executable's code aims at given places in its data: a scan
 * of its bytes for candidates, and a function's address operands decoded */
#define _GNU_SOURCE
#include "nosymxref.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool nosymxref_add_range(struct nosym_ranges *g, uint64_t lo, uint64_t hi)
{
	int i = g->n;

	if (g->n && lo <= g->hi[g->n - 1] && lo >= g->lo[g->n - 1]) { /* found in order */
		g->hi[g->n - 1] = hi > g->hi[g->n - 1] ? hi : g->hi[g->n - 1];
		return true;
	}
	if (g->n == NOSYMXREF_MAX_RANGES)
		return false;
	while (i > 0 && g->lo[i - 1] > lo) {
		g->lo[i] = g->lo[i - 1];
		g->hi[i] = g->hi[i - 1];
		i--;
	}
	g->lo[i] = lo;
	g->hi[i] = hi;
	g->n++;
	return true;
}

/* Whether a lies in one of g's ranges. */
static bool in_ranges(const struct nosym_ranges *g, uint64_t a)
{
	int lo = 0, hi = g->n;

	while (lo < hi) { /* the first range ending after a */
		int mid = lo + (hi - lo) / 2;

		if (g->hi[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < g->n && g->lo[lo] <= a;
}

int nosymxref_add_hit(struct nosym_ranges *g, uint64_t at)
{
	if (g->nhits && g->hits[g->nhits - 1] == at)
		return 0;
	if (g->nhits == NOSYMXREF_MAX_HITS)
		return -E2BIG;
	g->hits[g->nhits++] = at;
	return 0;
}

/* Candidates, each decoded later with its function: code linked below 4 GiB loads an
 * address as an immediate. */
int nosymxref_scan_chunk(struct nosym_ranges *g, const uint8_t *buf, size_t len, uint64_t vaddr)
{
	uint64_t lo = g->n ? g->lo[0] : 0, span = g->n ? g->hi[g->n - 1] - lo : 0;
	size_t i;
	int err = 0;

	for (i = 0; i + 4 <= len && !err; i++) {
		uint64_t rel = vaddr + i + 4 + (uint64_t)(int64_t)(int32_t)nosym_le32(buf + i),
			 abs = nosym_le32(buf + i);

		if ((rel - lo < span && in_ranges(g, rel)) ||
		    (g->fixed && abs - lo < span && in_ranges(g, abs)))
			err = nosymxref_add_hit(g, vaddr + i);
	}
	return err;
}

static int scan_disp(const uint8_t *buf, size_t len, uint64_t vaddr, void *arg)
{
	return nosymxref_scan_chunk(arg, buf, len, vaddr);
}

int nosymxref_scan(const struct nosym_file *f, struct nosym_ranges *g)
{
	return nosym_each_code_chunk(f, 3, scan_disp, g); /* 3: a displacement seen whole */
}

bool nosymxref_is_fixed(const struct nosym_file *f)
{
	return elf_file_ehdr(&f->elf)->e_type == ET_EXEC;
}

int nosymxref_operands(const struct nosym_file *f, uint64_t start, uint64_t end, uint64_t lo,
		       uint64_t hi, struct nosym_operand *out, int max)
{
	bool capped = end - start > NOSYMXREF_MAX_FN_SIZE, fixed = nosymxref_is_fixed(f);
	size_t left = (size_t)(capped ? NOSYMXREF_MAX_FN_SIZE : end - start);
	uint8_t *buf = nosym_read_code(f, start, left);
	const uint8_t *code = buf;
	uint64_t addr = start;
	cs_insn *insn;
	int n = 0;
	csh cs;

	if (!buf)
		return -EINVAL;
	if (nosym_open_decoder(&cs, &insn)) {
		free(buf);
		return -ENOMEM;
	}
	while (left && cs_disasm_iter(cs, &code, &left, &addr, insn)) {
		const cs_x86 *x = &insn->detail->x86;
		const cs_x86_op *op = &x->operands[x->op_count > 1 ? 1 : 0];
		uint64_t t = UINT64_MAX;
		unsigned size = 0;

		if (fixed && x->op_count == 2 && insn->id == X86_INS_MOV &&
		    op->type == X86_OP_IMM && x->operands[0].type == X86_OP_REG &&
		    op->imm >= 0x10000) {
			t = (uint64_t)op->imm;
		} else if (x->op_count >= 1 && op->type == X86_OP_MEM &&
			   op->mem.base == X86_REG_RIP && op->mem.index == X86_REG_INVALID) {
			t = insn->address + insn->size + (uint64_t)op->mem.disp;
			size = insn->id == X86_INS_LEA ? 0 : op->size;
		}
		if (t - lo < hi - lo && n < max)
			out[n++] = (struct nosym_operand){
				.insn = insn->address, .target = t, .size = size};
	}
	cs_free(insn, 1);
	cs_close(&cs);
	free(buf);
	return left && !(capped && left < 16) ? -EINVAL : n; /* a cut may split an instruction */
}
