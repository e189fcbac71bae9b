/* SPDX-License-Identifier: Apache-2.0 */
/* nosymliteral.c - the functions of a stripped executable that copy a string literal (Rust's,
 * without a NUL), found by the literal's pieces in their code */
#define _GNU_SOURCE
#include "nosymliteral.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * A Rust literal has no NUL, and a function that copies one into a String makes it whole
 * from pieces: immediates (rustc 1.95 copies a short one as movabs constants), constants read
 * rip-relative (rustc 1.63 reads the literal itself), or its address (a lea); and it
 * allocates the literal's length. Its candidates are found by windows of the literals.
 */

#define WINDOW 8 /* bytes of a literal its pieces are found by */

/* The literals' 8-byte windows: what the code's immediates and constants are looked for by
 * (a filter of their first two bytes, then their values). */
struct windows {
	uint8_t first[65536 / 8];
	uint64_t v[NOSYMLITERAL_MAX * NOSYMLITERAL_MAX_LEN];
	int n;
};

static void windows_of(struct windows *w, const char *const *lits, int n)
{
	size_t k;
	int l;

	memset(w, 0, sizeof(*w));
	for (l = 0; l < n; l++)
		for (k = 0; k + WINDOW <= strlen(lits[l]); k++) {
			const uint8_t *p = (const uint8_t *)lits[l] + k;

			memcpy(&w->v[w->n++], p, WINDOW);
			w->first[(p[0] | p[1] << 8) / 8] |= (uint8_t)(1u << (p[0] & 7));
		}
}

/* Whether the 8 bytes at p are a window of a literal. */
static bool is_window(const struct windows *w, const uint8_t *p)
{
	uint64_t v;
	int i;

	if (!(w->first[(p[0] | p[1] << 8) / 8] & (1u << (p[0] & 7))))
		return false;
	memcpy(&v, p, sizeof(v));
	for (i = 0; i < w->n && w->v[i] != v; i++)
		;
	return i < w->n;
}

/* The code's candidates for copying a literal, in one pass: a window of one in an
 * instruction (an immediate), or 4 bytes aiming at one in read-only data (g's ranges). */
struct code_scan {
	const struct windows *w;
	struct nosym_ranges *g;
};

static int scan_copies(const uint8_t *buf, size_t len, uint64_t vaddr, void *arg)
{
	struct code_scan *c = arg;
	size_t i;
	int err = 0;

	for (i = 0; i + WINDOW <= len && !err; i++)
		if (is_window(c->w, buf + i))
			err = nosymxref_add_hit(c->g, vaddr + i);
	/* displacements end 4 bytes further than windows: each chunk looks at those of its own
	 * positions only (a segment's last 4 are not looked at) */
	return err || !c->g->n || len < WINDOW
		       ? err
		       : nosymxref_scan_chunk(c->g, buf, len - (WINDOW - 4), vaddr);
}

/* Where the literals' windows are in read-only data (the literals, and the constants a
 * compiler copies them from), as ranges of g; false when there are too many. */
static bool data_windows(const struct nosym_file *f, const struct windows *w,
			 struct nosym_ranges *g)
{
	int i;

	for (i = 0; i < elf_file_ehdr(&f->elf)->e_phnum; i++) {
		const Elf64_Phdr *ph = elf_file_phdr(&f->elf, i);
		const uint8_t *p;
		uint64_t size, a;

		if (ph->p_type != PT_LOAD || (ph->p_flags & (PF_W | PF_X)) ||
		    ph->p_offset >= f->elf.size)
			continue;
		size = ph->p_filesz < f->elf.size - ph->p_offset ? ph->p_filesz
								 : f->elf.size - ph->p_offset;
		p = f->elf.map + ph->p_offset;
		for (a = 0; a + WINDOW <= size; a++)
			if (is_window(w, p + a) &&
			    !nosymxref_add_range(g, ph->p_vaddr + a, ph->p_vaddr + a + WINDOW))
				return false;
	}
	return true;
}

/* The n bytes at vaddr in the file's read-only data, or NULL. */
static const uint8_t *data_at(const struct nosym_file *f, uint64_t vaddr, size_t n)
{
	uint64_t off = elf_file_offset(&f->elf, vaddr, false);

	if (off == UINT64_MAX || n > f->elf.size || off > f->elf.size - n ||
	    elf_file_offset(&f->elf, vaddr + n - 1, false) != off + n - 1)
		return NULL;
	return f->elf.map + off;
}

/* Marks in cover the places of literal lit that the n bytes at p are; how many. */
static int mark_piece(const char *lit, const uint8_t *p, size_t n, bool *cover)
{
	size_t len = strlen(lit), k, j;
	int found = 0;

	for (k = 0; p && n <= len && k + n <= len; k++)
		if (memcmp(lit + k, p, n) == 0) {
			for (j = k; j < k + n; j++)
				cover[j] = true;
			found++;
		}
	return found;
}

int nosymliteral_candidates(const struct nosym_file *f, const char *const *lits, int n,
			    struct nosym_ranges *g)
{
	struct windows *w;
	struct code_scan scan;
	int l, err;

	if (n > NOSYMLITERAL_MAX)
		return -EINVAL;
	for (l = 0; l < n; l++)
		if (strlen(lits[l]) > NOSYMLITERAL_MAX_LEN)
			return -EINVAL;
	w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	windows_of(w, lits, n);
	scan = (struct code_scan){.w = w, .g = g};
	err = data_windows(f, w, g) ? nosym_each_code_chunk(f, WINDOW - 1, scan_copies, &scan)
				    : -E2BIG;
	free(w);
	return err;
}

int nosymliteral_copies(const struct nosym_file *f, const char *lit, uint64_t start, uint64_t end,
			uint64_t *site, int *pieces)
{
	size_t left = (size_t)(end - start > NOSYMXREF_MAX_FN_SIZE ? NOSYMXREF_MAX_FN_SIZE
								   : end - start),
	       len = strlen(lit), k;
	bool cover[NOSYMLITERAL_MAX_LEN] = {false}, has_len = false;
	const uint8_t *code;
	uint64_t addr = start, first = 0;
	int npieces = 0, i;
	uint8_t *buf;
	cs_insn *insn;
	csh cs;

	if (len > NOSYMLITERAL_MAX_LEN)
		return -EINVAL;
	buf = nosym_read_code(f, start, left);
	if (!buf)
		return 0;
	code = buf;
	if (nosym_open_decoder(&cs, &insn)) {
		free(buf);
		return -ENOMEM;
	}
	while (left && cs_disasm_iter(cs, &code, &left, &addr, insn)) {
		const cs_x86 *x = &insn->detail->x86;
		int before = npieces;

		for (i = 0; i < x->op_count; i++) {
			const cs_x86_op *op = &x->operands[i];
			uint64_t t;
			uint8_t imm[8];

			if (op->type == X86_OP_IMM && insn->id == X86_INS_MOV && i == 1 &&
			    (uint64_t)op->imm == len && x->operands[0].type == X86_OP_REG)
				has_len = true;
			if (op->type == X86_OP_IMM && (op->size == 4 || op->size == 8)) {
				memcpy(imm, &op->imm, sizeof(imm)); /* little-endian */
				npieces += mark_piece(lit, imm, op->size, cover);
			}
			if (op->type != X86_OP_MEM || op->mem.base != X86_REG_RIP ||
			    op->mem.index != X86_REG_INVALID)
				continue;
			t = insn->address + insn->size + (uint64_t)op->mem.disp;
			if (insn->id == X86_INS_LEA)
				npieces += mark_piece(lit, data_at(f, t, len), len, cover);
			else if (op->size >= 4 && op->size <= 16)
				npieces +=
					mark_piece(lit, data_at(f, t, op->size), op->size, cover);
		}
		if (npieces > before && !first)
			first = insn->address;
	}
	cs_free(insn, 1);
	cs_close(&cs);
	free(buf);
	for (k = 0; k < len && cover[k]; k++)
		;
	if (k < len || !has_len)
		return 0;
	*site = first;
	*pieces = npieces;
	return 1;
}
