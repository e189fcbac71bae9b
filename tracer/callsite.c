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

/* File offset <-> virtual address through the loadable segments; UINT64_MAX if outside. */
static uint64_t to_vaddr(const struct elf_view *v, uint64_t off)
{
	int i;

	for (i = 0; i < v->nload; i++)
		if (off >= v->load[i].p_offset && off < v->load[i].p_offset + v->load[i].p_filesz)
			return off - v->load[i].p_offset + v->load[i].p_vaddr;
	return UINT64_MAX;
}

static uint64_t to_offset(const struct elf_view *v, uint64_t addr)
{
	int i;

	for (i = 0; i < v->nload; i++)
		if (addr >= v->load[i].p_vaddr && addr < v->load[i].p_vaddr + v->load[i].p_filesz)
			return addr - v->load[i].p_vaddr + v->load[i].p_offset;
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

/* The direct call and jump targets (virtual addresses, PLT left out) in the first bytes of
 * the function at file offset `off`, up to its first return. Returns how many. */
static int direct_targets(csh cs, const struct elf_view *v, uint64_t off, uint64_t *targets)
{
	uint8_t code[CALLSITE_SCAN_BYTES];
	uint64_t addr = to_vaddr(v, off);
	cs_insn *insn;
	size_t n, i;
	int nt = 0;

	if (addr == UINT64_MAX || read_at(v->f, off, code, sizeof(code)))
		return 0;
	n = cs_disasm(cs, code, sizeof(code), addr, 0, &insn);
	for (i = 0; i < n && insn[i].id != X86_INS_RET && nt < MAX_TARGETS; i++) {
		const cs_x86 *x = &insn[i].detail->x86;

		if ((insn[i].id == X86_INS_CALL || insn[i].id == X86_INS_JMP) && x->op_count == 1 &&
		    x->operands[0].type == X86_OP_IMM && !in_plt(v, (uint64_t)x->operands[0].imm))
			targets[nt++] = (uint64_t)x->operands[0].imm;
	}
	cs_free(insn, n);
	return nt;
}

int callsite_common_target(const char *path, const uint64_t *callers, int ncallers, uint64_t *out)
{
	uint64_t common[MAX_TARGETS], targets[MAX_TARGETS], found = UINT64_MAX;
	int ncommon = 0, nt, i, j, k, err;
	struct elf_view v;
	csh cs;

	err = elf_open(path, &v);
	if (err || ncallers < 1) {
		if (v.f)
			fclose(v.f);
		return err ? err : -EINVAL;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		fclose(v.f);
		return -ENOMEM;
	}
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	ncommon = direct_targets(cs, &v, callers[0], common);
	for (i = 1; i < ncallers; i++) {
		nt = direct_targets(cs, &v, callers[i], targets);
		for (j = 0, k = 0; j < ncommon; j++) {
			int t;

			for (t = 0; t < nt && targets[t] != common[j]; t++)
				;
			if (t < nt)
				common[k++] = common[j];
		}
		ncommon = k;
	}
	for (j = 0; j < ncommon; j++) {
		if (found != UINT64_MAX && common[j] != found) {
			found = UINT64_MAX; /* two candidates: none is sure */
			break;
		}
		found = common[j];
	}
	cs_close(&cs);
	*out = found == UINT64_MAX ? UINT64_MAX : to_offset(&v, found);
	fclose(v.f);
	return *out == UINT64_MAX ? -ENOENT : 0;
}
