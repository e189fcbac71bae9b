/* SPDX-License-Identifier: Apache-2.0 */
/* callsite.c - find a library-internal function through the exported functions calling it */
#include "callsite.h"

#include <capstone/capstone.h>
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TARGETS 32

/* What of the ELF file is needed: its loadable segments and where the PLT sections lie. */
struct elf_view {
	FILE *f;
	Elf64_Phdr load[16];
	int nload;
	uint64_t plt_lo[4], plt_hi[4]; /* virtual address ranges of .plt, .plt.got, .plt.sec */
	int nplt;
};

static int read_at(FILE *f, uint64_t off, void *buf, size_t size)
{
	if (fseeko(f, (off_t)off, SEEK_SET) != 0 || fread(buf, 1, size, f) != size)
		return -EIO;
	return 0;
}

static int elf_open(const char *path, struct elf_view *v)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh, strtab;
	char name[16];
	int i;

	memset(v, 0, sizeof(*v));
	v->f = fopen(path, "rbe");
	if (!v->f)
		return -errno;
	if (read_at(v->f, 0, &eh, sizeof(eh)) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64)
		return -EINVAL;
	if (eh.e_machine != EM_X86_64)
		return -ENOTSUP;
	for (i = 0; i < eh.e_phnum && v->nload < 16; i++) {
		Elf64_Phdr ph;

		if (read_at(v->f, eh.e_phoff + (uint64_t)i * eh.e_phentsize, &ph, sizeof(ph)))
			return -EIO;
		if (ph.p_type == PT_LOAD)
			v->load[v->nload++] = ph;
	}
	if (eh.e_shstrndx == SHN_UNDEF ||
	    read_at(v->f, eh.e_shoff + (uint64_t)eh.e_shstrndx * eh.e_shentsize, &strtab,
		    sizeof(strtab)))
		return 0; /* no section headers: no PLT to leave out */
	for (i = 0; i < eh.e_shnum && v->nplt < 4; i++) {
		if (read_at(v->f, eh.e_shoff + (uint64_t)i * eh.e_shentsize, &sh, sizeof(sh)) ||
		    read_at(v->f, strtab.sh_offset + sh.sh_name, name, sizeof(name)))
			continue;
		name[sizeof(name) - 1] = '\0';
		if (strncmp(name, ".plt", 4) == 0) {
			v->plt_lo[v->nplt] = sh.sh_addr;
			v->plt_hi[v->nplt++] = sh.sh_addr + sh.sh_size;
		}
	}
	return 0;
}

/* A file offset as a virtual address (to_vaddr) or back, through the loadable segments;
 * UINT64_MAX when outside them. */
static uint64_t translate(const struct elf_view *v, uint64_t x, bool to_vaddr)
{
	uint64_t from, to;
	int i;

	for (i = 0; i < v->nload; i++) {
		from = to_vaddr ? v->load[i].p_offset : v->load[i].p_vaddr;
		to = to_vaddr ? v->load[i].p_vaddr : v->load[i].p_offset;
		if (x >= from && x < from + v->load[i].p_filesz)
			return x - from + to;
	}
	return UINT64_MAX;
}

static bool in_plt(const struct elf_view *v, uint64_t addr)
{
	int i;

	for (i = 0; i < v->nplt; i++)
		if (addr >= v->plt_lo[i] && addr < v->plt_hi[i])
			return true;
	return false;
}

/* The argument registers an internal probe reads, as bits. */
enum { ARG_RDI = 1, ARG_RSI = 2, ARG_RCX = 4 };

/* Which of the argument registers `reg` (any width) is part of; 0 for the others. */
static unsigned arg_bit(unsigned reg)
{
	switch (reg) {
	case X86_REG_RDI:
	case X86_REG_EDI:
	case X86_REG_DI:
	case X86_REG_DIL:
		return ARG_RDI;
	case X86_REG_RSI:
	case X86_REG_ESI:
	case X86_REG_SI:
	case X86_REG_SIL:
		return ARG_RSI;
	case X86_REG_RCX:
	case X86_REG_ECX:
	case X86_REG_CX:
	case X86_REG_CL:
	case X86_REG_CH:
		return ARG_RCX;
	default:
		return 0;
	}
}

/* Whether the instruction points rcx into the stack: mov %rsp,%rcx or lea N(%rsp),%rcx. */
static bool rcx_from_stack(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;

	if (x->op_count != 2 || x->operands[0].type != X86_OP_REG ||
	    x->operands[0].reg != X86_REG_RCX)
		return false;
	if (insn->id == X86_INS_MOV)
		return x->operands[1].type == X86_OP_REG && x->operands[1].reg == X86_REG_RSP;
	return insn->id == X86_INS_LEA && x->operands[1].type == X86_OP_MEM &&
	       x->operands[1].mem.base == X86_REG_RSP &&
	       x->operands[1].mem.index == X86_REG_INVALID;
}

/* The argument registers the instruction changes (a call changes them all: the ABI). */
static unsigned args_written(csh cs, const cs_insn *insn)
{
	cs_regs rd, wr;
	uint8_t nrd = 0, nwr = 0, i;
	unsigned bits = 0;

	if (insn->id == X86_INS_CALL)
		return ARG_RDI | ARG_RSI | ARG_RCX;
	if (rcx_from_stack(insn))
		return 0; /* an out-parameter on the caller's stack: still the layout we read */
	if (cs_regs_access(cs, insn, rd, &nrd, wr, &nwr) != CS_ERR_OK)
		return ARG_RDI | ARG_RSI | ARG_RCX;
	for (i = 0; i < nwr; i++)
		bits |= arg_bit(wr[i]);
	return bits;
}

/* A direct call or jump found in a caller. */
struct branch {
	uint64_t target; /* virtual address it goes to */
	uint64_t ret;	 /* virtual address after it: a call's return address */
	bool call;
	bool args_kept; /* rdi, rsi and rcx still hold the caller's (or rcx its stack) */
};

/* The direct calls and jumps (PLT left out) in the first bytes of the function at file
 * offset `off`, up to its first return, in address order. Returns how many. */
static int direct_branches(csh cs, const struct elf_view *v, uint64_t off, struct branch *out)
{
	uint8_t code[CALLSITE_SCAN_BYTES];
	uint64_t addr = translate(v, off, true);
	unsigned written = 0;
	cs_insn *insn;
	size_t n, i;
	int nb = 0;

	if (addr == UINT64_MAX || read_at(v->f, off, code, sizeof(code)))
		return 0;
	n = cs_disasm(cs, code, sizeof(code), addr, 0, &insn);
	for (i = 0; i < n && insn[i].id != X86_INS_RET && nb < MAX_TARGETS; i++) {
		const cs_x86 *x = &insn[i].detail->x86;

		if ((insn[i].id == X86_INS_CALL || insn[i].id == X86_INS_JMP) && x->op_count == 1 &&
		    x->operands[0].type == X86_OP_IMM && !in_plt(v, (uint64_t)x->operands[0].imm))
			out[nb++] = (struct branch){
				.target = (uint64_t)x->operands[0].imm,
				.ret = insn[i].address + insn[i].size,
				.call = insn[i].id == X86_INS_CALL,
				.args_kept = !written,
			};
		written |= args_written(cs, &insn[i]);
	}
	cs_free(insn, n);
	return nb;
}

/* The first branch of `b` to `target`, or NULL. */
static const struct branch *branch_to(const struct branch *b, int nb, uint64_t target)
{
	int i;

	for (i = 0; i < nb; i++)
		if (b[i].target == target)
			return &b[i];
	return NULL;
}

/* The direct branches of each caller (nb[i] of them in b[i]); 0 or -errno. */
static int caller_branches(const char *path, struct elf_view *v,
			   const struct callsite_caller *callers, int ncallers,
			   struct branch (*b)[MAX_TARGETS], int *nb)
{
	int i, err;
	csh cs;

	err = elf_open(path, v);
	if (err || ncallers < 1 || ncallers > CALLSITE_MAX_CALLERS) {
		if (v->f)
			fclose(v->f);
		return err ? err : -EINVAL;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		fclose(v->f);
		return -ENOMEM;
	}
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	for (i = 0; i < ncallers; i++)
		nb[i] = direct_branches(cs, v, callers[i].offset, b[i]);
	cs_close(&cs);
	return 0;
}

/* Fills how each caller reaches vaddr `target`; false when one does not. */
static bool fill_callers(struct callsite_caller *callers, int ncallers,
			 struct branch (*b)[MAX_TARGETS], const int *nb, uint64_t target)
{
	const struct branch *hit;
	int i;

	for (i = 0; i < ncallers; i++) {
		hit = branch_to(b[i], nb[i], target);
		if (!hit)
			return false;
		callers[i].ret_delta = (int64_t)(hit->ret - target);
		callers[i].by_call = hit->call;
		callers[i].args_kept = hit->args_kept;
	}
	return true;
}

int callsite_common_target(const char *path, struct callsite_caller *callers, int ncallers,
			   uint64_t *out)
{
	struct branch b[CALLSITE_MAX_CALLERS][MAX_TARGETS];
	int nb[CALLSITE_MAX_CALLERS], i, j, err;
	uint64_t found = UINT64_MAX;
	struct elf_view v;

	err = caller_branches(path, &v, callers, ncallers, b, nb);
	if (err)
		return err;
	/* The targets of the first caller that every other caller goes to as well. */
	for (j = 0; j < nb[0]; j++) {
		if (branch_to(b[0], j, b[0][j].target))
			continue; /* a target seen already */
		for (i = 1; i < ncallers && branch_to(b[i], nb[i], b[0][j].target); i++)
			;
		if (i < ncallers)
			continue;
		if (found != UINT64_MAX) {
			found = UINT64_MAX; /* two candidates: none is sure */
			break;
		}
		found = b[0][j].target;
	}
	if (found != UINT64_MAX)
		fill_callers(callers, ncallers, b, nb, found);
	*out = found == UINT64_MAX ? UINT64_MAX : translate(&v, found, false);
	fclose(v.f);
	return *out == UINT64_MAX ? -ENOENT : 0;
}

int callsite_reaches(const char *path, struct callsite_caller *callers, int ncallers,
		     uint64_t target)
{
	struct branch b[CALLSITE_MAX_CALLERS][MAX_TARGETS];
	int nb[CALLSITE_MAX_CALLERS], err;
	uint64_t vaddr;
	struct elf_view v;

	err = caller_branches(path, &v, callers, ncallers, b, nb);
	if (err)
		return err;
	vaddr = translate(&v, target, true);
	err = vaddr != UINT64_MAX && fill_callers(callers, ncallers, b, nb, vaddr) ? 0 : -ENOENT;
	fclose(v.f);
	return err;
}

bool callsite_kernel_emulates(csh cs, const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;

	if (insn->id == X86_INS_NOP)
		return true;
	if (insn->id == X86_INS_PUSH)
		return x->op_count == 1 && x->operands[0].type == X86_OP_REG;
	if (insn->id == X86_INS_LOOP || insn->id == X86_INS_LOOPE || insn->id == X86_INS_LOOPNE ||
	    insn->id == X86_INS_JRCXZ || insn->id == X86_INS_JECXZ)
		return false;
	if (cs_insn_group(cs, insn, CS_GRP_JUMP) || insn->id == X86_INS_CALL)
		return x->op_count == 1 && x->operands[0].type == X86_OP_IMM;
	return false;
}

int callsite_first_insn(const char *path, uint64_t offset, char *text, size_t size, bool *emulated)
{
	uint8_t code[16];
	struct elf_view v;
	cs_insn *insn;
	size_t n;
	int err;
	csh cs;

	err = elf_open(path, &v);
	if (!err && read_at(v.f, offset, code, sizeof(code)))
		err = -EIO;
	if (!err && cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		err = -ENOMEM;
	if (v.f)
		fclose(v.f);
	if (err)
		return err;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	n = cs_disasm(cs, code, sizeof(code), translate(&v, offset, true), 1, &insn);
	if (n == 1) {
		snprintf(text, size, "%s%s%s", insn->mnemonic, insn->op_str[0] ? " " : "",
			 insn->op_str);
		*emulated = callsite_kernel_emulates(cs, insn);
		cs_free(insn, n);
	}
	cs_close(&cs);
	return n == 1 ? 0 : -EINVAL;
}
