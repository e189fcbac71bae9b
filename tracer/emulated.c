/* SPDX-License-Identifier: Apache-2.0 */
/* emulated.c - an entry probe moved onto the first instruction the kernel emulates, where the
 * function's first one would be single-stepped */
#include "emulated.h"

#include <capstone/capstone.h>
#include <stdbool.h>
#include <stdlib.h>

#include "callsite.h"
#include "nosymfile.h"

#define MAX_FUNCTION (256 * 1024) /* bytes of a function decoded for its jumps */

/* Whether the instruction changes nothing a probe's BPF function or the return reads: an
 * endbr64, or one that writes the flags alone (no register, no memory). */
static bool passes_over(csh cs, const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;
	cs_regs rd, wr;
	uint8_t nrd, nwr, i;

	if (in->id == X86_INS_ENDBR64)
		return true;
	if (in->id != X86_INS_CMP && in->id != X86_INS_TEST)
		return false;
	if (cs_regs_access(cs, in, rd, &nrd, wr, &nwr) != CS_ERR_OK)
		return false;
	for (i = 0; i < nwr; i++)
		if (wr[i] != X86_REG_EFLAGS)
			return false;
	for (i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM && (x->operands[i].access & CS_AC_WRITE))
			return false;
	return true;
}

/* Whether a direct jump or call of the code [start, end) lands in (start, place]; also when
 * the code cannot be decoded to its end (not known). */
static bool landed_on(csh cs, cs_insn *in, const uint8_t *code, uint64_t start, uint64_t end,
		      uint64_t place)
{
	size_t size = (size_t)(end - start);
	uint64_t addr = start;

	while (size) {
		const cs_x86 *x;

		if (!cs_disasm_iter(cs, &code, &size, &addr, in))
			return true;
		x = &in->detail->x86;
		if ((cs_insn_group(cs, in, CS_GRP_JUMP) || in->id == X86_INS_CALL) &&
		    x->op_count == 1 && x->operands[0].type == X86_OP_IMM &&
		    (uint64_t)x->operands[0].imm > start && (uint64_t)x->operands[0].imm <= place)
			return true;
	}
	return false;
}

uint64_t emulated_entry(struct nosym_file *f, uint64_t off)
{
	uint64_t vaddr = elf_file_vaddr(&f->elf, off, true), start, end, addr, place = UINT64_MAX;
	const uint8_t *p;
	uint8_t *code;
	cs_insn *in;
	size_t size;
	bool entry;
	int k;
	csh cs;

	if (vaddr == UINT64_MAX || nosym_load_fdes(f) ||
	    !nosym_fde_of(f, vaddr, &start, &end, &entry) || start != vaddr || !entry ||
	    end - start > MAX_FUNCTION || !(code = nosym_read_code(f, start, end - start)))
		return off;
	if (nosym_open_decoder(&cs, &in)) {
		free(code);
		return off;
	}
	p = code;
	size = (size_t)(end - start);
	addr = start;
	for (k = 0; k <= EMULATED_MAX_SKIP && cs_disasm_iter(cs, &p, &size, &addr, in); k++) {
		if (callsite_kernel_emulates(cs, in)) {
			place = k ? in->address : UINT64_MAX; /* k == 0: emulated already */
			break;
		}
		if (!passes_over(cs, in))
			break;
	}
	if (place != UINT64_MAX && landed_on(cs, in, code, start, end, place))
		place = UINT64_MAX;
	cs_free(in, 1);
	cs_close(&cs);
	free(code);
	return place == UINT64_MAX ? off : off + (place - start);
}
