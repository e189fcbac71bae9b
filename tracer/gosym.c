/* SPDX-License-Identifier: Apache-2.0 */
/* gosym.c - functions of a Go executable, stripped or not, found through its .gopclntab */
#include "gosym.h"

#include <capstone/capstone.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC_GO116 0xfffffffau
#define MAGIC_GO118 0xfffffff0u
#define MAGIC_GO120 0xfffffff1u

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Header word i (after magic, pad, quantum, pointer size): pointer-sized. */
static uint64_t header_word(const uint8_t *tab, int i)
{
	return le64(tab + 8 + 8 * i);
}

/* Size of one functab field: 32-bit offsets from 1.18, pointers before. */
static size_t field_size(const struct gosym_table *t)
{
	return t->layout == GOSYM_GO116 ? 8 : 4;
}

/* The entry address of functab slot i (i == nfunc: the end of the last function). */
static uint64_t slot_pc(const struct gosym_table *t, uint32_t i)
{
	const uint8_t *p = t->tab + t->pcln_off + 2 * (size_t)i * field_size(t);

	return t->layout == GOSYM_GO116 ? le64(p) : t->text_start + le32(p);
}

static uint64_t slot_funcoff(const struct gosym_table *t, uint32_t i)
{
	const uint8_t *p = t->tab + t->pcln_off + (2 * (size_t)i + 1) * field_size(t);

	return t->layout == GOSYM_GO116 ? le64(p) : le32(p);
}

int gosym_parse(struct gosym_table *t, const uint8_t *tab, size_t size, uint64_t text_start)
{
	uint32_t magic, i;
	int w = 0;

	memset(t, 0, sizeof(*t));
	if (size < 8)
		return -ENOENT;
	magic = le32(tab);
	if (magic == MAGIC_GO116)
		t->layout = GOSYM_GO116;
	else if (magic == MAGIC_GO118)
		t->layout = GOSYM_GO118;
	else if (magic == MAGIC_GO120)
		t->layout = GOSYM_GO120;
	else if (magic == 0xfffffffbu)
		return -ENOTSUP; /* Go 1.2-1.15: stack ABI, not read */
	else
		return -ENOENT;
	if (tab[4] || tab[5] || (tab[6] != 1 && tab[6] != 2 && tab[6] != 4) ||
	    (tab[7] != 4 && tab[7] != 8))
		return -ENOENT;
	if (tab[6] != 1 || tab[7] != 8)
		return -ENOTSUP; /* not amd64 */
	if (size < 8 + 8 * 8)
		return -EINVAL;
	t->tab = tab;
	t->size = size;
	t->nfunc = (uint32_t)header_word(tab, w++);
	if (header_word(tab, 0) != t->nfunc || t->nfunc == 0)
		return -EINVAL;
	w++; /* nfiletab */
	if (t->layout != GOSYM_GO116) {
		t->text_start = header_word(tab, w++);
		if (!t->text_start)
			t->text_start = text_start;
		if (!t->text_start)
			return -EINVAL;
	}
	t->funcname_off = header_word(tab, w++);
	w += 3; /* cutab, filetab, pctab */
	t->pcln_off = header_word(tab, w);
	if (t->funcname_off >= size || t->pcln_off >= size ||
	    (2 * (uint64_t)t->nfunc + 1) * field_size(t) > size - t->pcln_off)
		return -EINVAL;
	/* each function's record (entry, nameoff: 12 bytes read) within the table */
	if (size - t->pcln_off < 16)
		return -EINVAL;
	for (i = 0; i < t->nfunc; i++)
		if (slot_pc(t, i) > slot_pc(t, i + 1) ||
		    slot_funcoff(t, i) > size - t->pcln_off - 16)
			return -EINVAL;
	return 0;
}

/* Function i's name (NUL-terminated within the table), or NULL when out of bounds. */
static const char *func_name(const struct gosym_table *t, uint32_t i, uint64_t *entry)
{
	const uint8_t *f = t->tab + t->pcln_off + slot_funcoff(t, i);
	uint64_t name;
	int32_t nameoff;

	if (t->layout == GOSYM_GO116) {
		*entry = le64(f);
		nameoff = (int32_t)le32(f + 8);
	} else {
		*entry = t->text_start + le32(f);
		nameoff = (int32_t)le32(f + 4);
	}
	name = t->funcname_off + (uint64_t)(int64_t)nameoff;
	if (nameoff < 0 || name >= t->size || !memchr(t->tab + name, '\0', t->size - name))
		return NULL;
	return (const char *)t->tab + name;
}

int gosym_find(const struct gosym_table *t, const char *name, uint64_t *entry, uint64_t *end)
{
	uint32_t i;
	uint64_t own;

	for (i = 0; i < t->nfunc; i++) {
		const char *n = func_name(t, i, &own);

		if (!n || strcmp(n, name) != 0)
			continue;
		if (own != slot_pc(t, i) || slot_pc(t, i + 1) <= own)
			return -EINVAL; /* the record and the table disagree */
		*entry = own;
		*end = slot_pc(t, i + 1);
		return 0;
	}
	return -ENOENT;
}

/* ---------------------------------------------------------------- the ELF file */

uint64_t gosym_file_offset(const struct gosym_file *g, uint64_t vaddr)
{
	return elf_file_offset(&g->elf, vaddr, true);
}

/* The value a R_X86_64_RELATIVE relocation puts at vaddr (a PIE's textStart), or 0. */
static uint64_t relocated(const struct gosym_file *g, uint64_t vaddr)
{
	const Elf64_Shdr *rela = elf_file_section(&g->elf, ".rela.dyn", false);
	const Elf64_Rela *r;
	size_t i;

	if (!rela || rela->sh_offset % 8)
		return 0;
	r = (const Elf64_Rela *)(g->elf.map + rela->sh_offset);
	for (i = 0; i < rela->sh_size / sizeof(*r); i++)
		if (r[i].r_offset == vaddr && ELF64_R_TYPE(r[i].r_info) == R_X86_64_RELATIVE)
			return (uint64_t)r[i].r_addend;
	return 0;
}

/* The word at vaddr as the loaded program has it: what a R_X86_64_RELATIVE relocation puts
 * there (a PIE), else the file's bytes; 0 when no loadable segment holds it in the file. */
static uint64_t loaded_word(const struct gosym_file *g, uint64_t vaddr)
{
	uint64_t off = elf_file_offset(&g->elf, vaddr, false), r;

	if (off == UINT64_MAX || off > g->elf.size - 8)
		return 0;
	r = relocated(g, vaddr);
	return r ? r : le64(g->elf.map + off);
}

/* Offsets in runtime.moduledata (runtime/symtab.go), unchanged since Go 1.16: it starts with
 * a pointer to the pcHeader, then six slices and findfunctab, then minpc, maxpc, text and
 * etext. */
#define MODULE_MINPC (20 * 8)
#define MODULE_TEXT (22 * 8)

/* The `text` of a runtime.moduledata candidate at m for the pclntab `tab`: taken only when its
 * minpc, maxpc, text and etext lie in order in executable code and the table's first
 * function starts at its minpc. 0 when not. */
static uint64_t module_text_at(const struct gosym_file *g, const uint8_t *tab, size_t size,
			       uint64_t m)
{
	uint64_t minpc = loaded_word(g, m + MODULE_MINPC),
		 maxpc = loaded_word(g, m + MODULE_MINPC + 8),
		 text = loaded_word(g, m + MODULE_TEXT),
		 etext = loaded_word(g, m + MODULE_TEXT + 8);
	struct gosym_table t;

	if (!text || text > minpc || minpc >= maxpc || maxpc > etext ||
	    elf_file_offset(&g->elf, text, true) == UINT64_MAX ||
	    elf_file_offset(&g->elf, etext - 1, true) == UINT64_MAX)
		return 0;
	return gosym_parse(&t, tab, size, text) == 0 && slot_pc(&t, 0) == minpc ? text : 0;
}

/*
 * The text start of the pclntab `tab` (at vaddr) that names none (Go 1.26 left the header's
 * field 0, to need no relocation): runtime.moduledata's `text`, whose first word points at
 * the table (in the file, or by a relocation in a PIE). A place is taken only when its minpc,
 * maxpc, text and etext lie in order in executable code and the table's first function
 * starts at its minpc. 0 when none is.
 */
static uint64_t module_text(const struct gosym_file *g, const uint8_t *tab, size_t size,
			    uint64_t vaddr)
{
	const Elf64_Shdr *rela = elf_file_section(&g->elf, ".rela.dyn", false);
	uint64_t text = 0, off;
	size_t i;
	int k;

	for (k = 0; !text && k < elf_file_ehdr(&g->elf)->e_phnum; k++) {
		const Elf64_Phdr *p = elf_file_phdr(&g->elf, k);

		if (p->p_type != PT_LOAD || (p->p_flags & PF_X) || p->p_offset >= g->elf.size)
			continue;
		for (off = p->p_offset + (8 - p->p_offset % 8) % 8;
		     !text && off + 8 <= p->p_offset + p->p_filesz && off + 8 <= g->elf.size;
		     off += 8)
			if (le64(g->elf.map + off) == vaddr)
				text = module_text_at(g, tab, size,
						      p->p_vaddr + (off - p->p_offset));
	}
	if (!text && rela && rela->sh_offset % 8 == 0) {
		const Elf64_Rela *r = (const Elf64_Rela *)(g->elf.map + rela->sh_offset);

		for (i = 0; !text && i < rela->sh_size / sizeof(*r); i++)
			if (ELF64_R_TYPE(r[i].r_info) == R_X86_64_RELATIVE &&
			    (uint64_t)r[i].r_addend == vaddr)
				text = module_text_at(g, tab, size, r[i].r_offset);
	}
	return text;
}

/* The text start for the pclntab `tab` at vaddr: the header's, a relocation's (a PIE linked
 * by an external linker), or runtime.moduledata's (Go 1.26+; a PIE's through .rela.dyn, so
 * not in a PIE without section headers). 0 when none is found. */
static uint64_t text_start_of(const struct gosym_file *g, const uint8_t *tab, size_t size,
			      uint64_t vaddr)
{
	struct gosym_table t;
	uint64_t r;

	if (size < 8 + 3 * 8 || le32(tab) == MAGIC_GO116 || header_word(tab, 2) ||
	    gosym_parse(&t, tab, size, 1) != 0)
		return 0; /* none needed, the header's own, or no valid table whatever its start */
	r = relocated(g, vaddr + 8 + 2 * 8);
	return r ? r : module_text(g, tab, size, vaddr);
}

/* The Go version .go.buildinfo names ("go1.19.8"): inline from 1.18, through a pointer to
 * a string before. "" when it does not say. */
static void read_version(struct gosym_file *g)
{
	static const char magic[] = "\xff Go buildinf:";
	const Elf64_Shdr *s = elf_file_section(&g->elf, ".go.buildinfo", false);
	const uint8_t *b;
	uint64_t len = 0, str, off;
	int shift = 0, i;

	g->version[0] = '\0';
	if (!s || s->sh_size < 48)
		return;
	b = g->elf.map + s->sh_offset;
	if (memcmp(b, magic, 14) != 0 || b[14] != 8 || (b[15] & 1)) /* 64-bit little-endian */
		return;
	if (b[15] & 2) { /* inline: varint length, then the bytes */
		for (i = 32; i < 42 && (uint64_t)i < s->sh_size; i++) {
			len |= (uint64_t)(b[i] & 0x7f) << shift;
			shift += 7;
			if (!(b[i] & 0x80))
				break;
		}
		if (i + 1 + len <= s->sh_size && len < sizeof(g->version))
			snprintf(g->version, sizeof(g->version), "%.*s", (int)len,
				 (const char *)b + i + 1);
		return;
	}
	/* a pointer to a string header { ptr, len } */
	off = elf_file_offset(&g->elf, le64(b + 16), false);
	if (off == UINT64_MAX || off + 16 > g->elf.size)
		return;
	str = elf_file_offset(&g->elf, le64(g->elf.map + off), false);
	len = le64(g->elf.map + off + 8);
	if (str != UINT64_MAX && len < sizeof(g->version) && str + len <= g->elf.size)
		snprintf(g->version, sizeof(g->version), "%.*s", (int)len,
			 (const char *)g->elf.map + str);
}

/* Whether "go1.N..." names a Go release of at least 1.17 (the register ABI on amd64). */
static bool version_has_register_abi(const char *v)
{
	return strncmp(v, "go1.", 4) == 0 && atoi(v + 4) >= 17;
}

/* With no section headers: the first valid pclntab in a data segment, by its magic. */
static int scan_for_table(struct gosym_file *g)
{
	int i;

	for (i = 0; i < elf_file_ehdr(&g->elf)->e_phnum; i++) {
		const Elf64_Phdr *p = elf_file_phdr(&g->elf, i);
		uint64_t off;

		if (p->p_type != PT_LOAD || (p->p_flags & PF_X) || p->p_offset >= g->elf.size)
			continue;
		for (off = p->p_offset;
		     off + 72 <= p->p_offset + p->p_filesz && off + 72 <= g->elf.size; off += 8) {
			uint32_t m = le32(g->elf.map + off);
			size_t room = (size_t)(p->p_offset + p->p_filesz - off);

			if ((m != MAGIC_GO118 && m != MAGIC_GO120 && m != MAGIC_GO116) ||
			    g->elf.map[off + 4] || g->elf.map[off + 5] ||
			    g->elf.map[off + 6] != 1 || g->elf.map[off + 7] != 8)
				continue;
			if (room > g->elf.size - off)
				room = g->elf.size - off;
			if (gosym_parse(&g->table, g->elf.map + off, room,
					text_start_of(g, g->elf.map + off, room,
						      p->p_vaddr + (off - p->p_offset))) == 0)
				return 0;
		}
	}
	return -ENOENT;
}

int gosym_open(const char *path, struct gosym_file *g, char *err, size_t errlen)
{
	const Elf64_Shdr *s;
	int r;

	memset(g, 0, sizeof(*g));
	r = elf_file_open(path, &g->elf);
	if (r)
		return r;
	s = elf_file_section(&g->elf, "gopclntab", true);
	if (s && s->sh_size) {
		r = gosym_parse(
			&g->table, g->elf.map + s->sh_offset, s->sh_size,
			text_start_of(g, g->elf.map + s->sh_offset, s->sh_size, s->sh_addr));
		g->from_section = true;
	} else if (!elf_file_section(&g->elf, ".text", false)) {
		r = scan_for_table(g); /* section headers stripped */
	} else {
		r = -ENOENT;
	}
	if (r == 0 && elf_file_ehdr(&g->elf)->e_machine != EM_X86_64)
		r = -ENOTSUP;
	if (r) {
		if (r == -EINVAL)
			snprintf(err, errlen, "its Go function table (.gopclntab) is malformed");
		gosym_close(g);
		return r;
	}
	read_version(g);
	g->register_abi = g->table.layout != GOSYM_GO116 || version_has_register_abi(g->version);
	return 0;
}

void gosym_close(struct gosym_file *g)
{
	elf_file_close(&g->elf);
}

/* Whether operand op is register reg. */
static bool is_reg(const cs_x86_op *op, x86_reg reg)
{
	return op->type == X86_OP_REG && op->reg == reg;
}

/* Whether op is the memory operand [r14 + 16]: g.stackguard0. */
static bool is_stackguard(const cs_x86_op *op)
{
	return op->type == X86_OP_MEM && op->mem.base == X86_REG_R14 &&
	       op->mem.index == X86_REG_INVALID && op->mem.disp == 16 &&
	       op->mem.segment == X86_REG_INVALID;
}

uint64_t gosym_entry_probe(const struct gosym_file *g, uint64_t entry, uint64_t end)
{
	uint64_t off = elf_file_offset(&g->elf, entry, true), addr = entry, found = entry;
	size_t size = end > entry ? (size_t)(end - entry) : 0;
	const uint8_t *code;
	bool compared = false;
	uint8_t *buf;
	cs_insn *insn;
	int step;
	csh cs;

	if (size > 64)
		size = 64; /* the prologue: three instructions */
	if (off == UINT64_MAX || size > g->elf.size - off ||
	    !(buf = elf_file_read(&g->elf, off, size)))
		return entry;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs)) {
		free(buf);
		return entry;
	}
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	code = buf;
	insn = cs_malloc(cs);
	for (step = 0; insn && step < 3 && cs_disasm_iter(cs, &code, &size, &addr, insn); step++) {
		const cs_x86 *x = &insn->detail->x86;

		/* lea r12, [rsp - N]: the frame's lowest address, checked next */
		if (step == 0 && insn->id == X86_INS_LEA && x->op_count == 2 &&
		    is_reg(&x->operands[0], X86_REG_R12) && x->operands[1].type == X86_OP_MEM &&
		    x->operands[1].mem.base == X86_REG_RSP &&
		    x->operands[1].mem.index == X86_REG_INVALID)
			continue;
		/* cmp rsp|r12, [r14 + 16] */
		if (!compared && insn->id == X86_INS_CMP && x->op_count == 2 &&
		    (is_reg(&x->operands[0], X86_REG_RSP) ||
		     is_reg(&x->operands[0], X86_REG_R12)) &&
		    is_stackguard(&x->operands[1])) {
			compared = true;
			continue;
		}
		/* jbe/jb morestack, right after the cmp */
		if (compared && (insn->id == X86_INS_JBE || insn->id == X86_INS_JB))
			found = insn->address;
		break;
	}
	cs_free(insn, 1);
	cs_close(&cs);
	free(buf);
	return found;
}

/* Whether every byte of [p, end) is int3: the padding after a function. */
static bool padding(const uint8_t *p, const uint8_t *end)
{
	for (; p < end; p++)
		if (*p != 0xcc)
			return false;
	return true;
}

int gosym_returns(const struct gosym_file *g, uint64_t entry, uint64_t end, uint64_t *offsets,
		  int max, char *err, size_t errlen)
{
	uint64_t off = elf_file_offset(&g->elf, entry, true), addr = entry;
	const uint8_t *code;
	uint8_t *buf;
	size_t size;
	cs_insn *insn;
	csh cs;
	int n = 0, r = 0;

	if (off == UINT64_MAX || end <= entry ||
	    elf_file_offset(&g->elf, end - 1, true) != off + (end - entry - 1)) {
		snprintf(err, errlen, "its code at 0x%llx is not in an executable segment",
			 (unsigned long long)entry);
		return -EINVAL;
	}
	size = (size_t)(end - entry);
	if (!(buf = elf_file_read(&g->elf, off, size))) {
		snprintf(err, errlen, "its code at 0x%llx cannot be read",
			 (unsigned long long)entry);
		return -EIO;
	}
	code = buf;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		snprintf(err, errlen, "the disassembler could not start");
		free(buf);
		return -ENOMEM;
	}
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(cs);
	while (insn && size) {
		const uint8_t *at = code;

		if (!cs_disasm_iter(cs, &code, &size, &addr, insn)) {
			if (padding(at, at + size))
				break;
			snprintf(err, errlen, "no instruction decodes at 0x%llx",
				 (unsigned long long)addr);
			r = -EINVAL;
			break;
		}
		if (insn->id == X86_INS_RET) {
			if (n == max) {
				snprintf(err, errlen, "it has more than %d return instructions",
					 max);
				r = -EINVAL;
				break;
			}
			offsets[n++] = off + (insn->address - entry);
		} else if (insn->id == X86_INS_JMP && insn->detail->x86.op_count == 1 &&
			   insn->detail->x86.operands[0].type == X86_OP_IMM &&
			   ((uint64_t)insn->detail->x86.operands[0].imm < entry ||
			    (uint64_t)insn->detail->x86.operands[0].imm >= end)) {
			snprintf(err, errlen,
				 "it leaves by a jump at 0x%llx: its return is not its own",
				 (unsigned long long)insn->address);
			r = -EINVAL;
			break;
		}
	}
	if (!insn) {
		snprintf(err, errlen, "out of memory decoding");
		r = -ENOMEM;
	}
	cs_free(insn, 1);
	cs_close(&cs);
	free(buf);
	if (!r && n == 0) {
		snprintf(err, errlen, "no return instruction found");
		r = -EINVAL;
	}
	return r ? r : n;
}
