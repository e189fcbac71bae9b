/* SPDX-License-Identifier: Apache-2.0 */
/* nosym_rustls.c - rustls 0.20's record layer (on ring) in a program without symbols: its
 * encrypters and decrypters found by the literals they copy and the vtables that call them */
#define _GNU_SOURCE
#include "nosym_rustls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * rustls hands each record to a MessageEncrypter and takes it from a MessageDecrypter
 * (bpf_src/rustls.c). Both are trait objects: each implementation's method is a function of
 * its own, called only through a vtable. A Rust vtable is [drop_in_place, size, align, then
 * (rustc before 1.7x) a pointer per supertrait, then the methods]; these traits have one
 * method each, so it is the last word: 3 or 4 words from the start.
 *
 * rustls 0.20 has three encrypters (TLS 1.3's, TLS 1.2's AES-GCM and ChaCha20-Poly1305) and
 * three decrypters. What tells them, without symbols:
 *   - every encrypter turns a sealing error into Error::General("encrypt failed"), and TLS
 *     1.3's decrypter turns a record with no content type into
 *     Error::PeerMisbehavedError("peer sent bad TLSInnerPlaintext"): their code makes the
 *     literal whole from pieces (Rust's literals have no NUL): immediates (rustc 1.95
 *     copies a short one as movabs constants), constants read rip-relative (rustc 1.63 reads
 *     the literal itself), or its address (a lea); and it allocates the literal's length;
 *   - such a function is a method in a vtable (the function's address in the data, never
 *     in the linker's own tables, after a drop function or 0, a size and a power-of-two
 *     alignment, and with 4 words a supertrait's pointer to a table of its own);
 *   - TLS 1.2's are made by a suite's Tls12AeadAlgorithm, whose vtable holds decrypter()
 *     then encrypter(): the function that loads an encrypter's vtable is an encrypter()
 *     method; the method before it in its vtable is the same suite's decrypter(), and the
 *     one vtable of the same shape it loads is that suite's decrypter's. TLS 1.3's encrypter
 *     is the one encrypter not made so.
 * Looked for only in a program that carries rustls 0.20 and ring (their source paths, in
 * panics' locations): the layouts bpf_src/rustls.c reads are 0.20's.
 */

#define LIT_ENCRYPT "encrypt failed"
#define LIT_INNER "peer sent bad TLSInnerPlaintext"
#define WINDOW 8	      /* bytes of a literal its pieces are found by */
#define MAX_RANGES 128	      /* places of the literals' pieces in read-only data */
#define MAX_LITERAL 64	      /* a literal's length, at most */
#define MAX_HITS 256	      /* references to the literals and the vtables, at most */
#define MAX_FN_SIZE 0x8000    /* bytes of a function decoded, at most */
#define MAX_SLOTS 8	      /* words of the data holding one function's address */
#define MAX_FNS 16	      /* functions copying a literal */
#define MAX_REFS 256	      /* address operands of a suite's decrypter() looked at */
#define NSKIP 8		      /* tables of the file skipped in a search for a vtable */
#define MAX_TYPE_SIZE 0x10000 /* a vtable's size word, at most */
#define MAX_ALIGN 4096	      /* ... its alignment word */

/* The functions found, in the order of ROLE. */
enum role { TLS13_ENC, TLS13_DEC, TLS12_ENC1, TLS12_DEC1, TLS12_ENC2, TLS12_DEC2, NROLES };

static const char *const ROLE[NROLES] = {
	"rustls_tls13_encrypt",	  "rustls_tls13_decrypt",   "rustls_tls12_encrypt_1",
	"rustls_tls12_decrypt_1", "rustls_tls12_encrypt_2", "rustls_tls12_decrypt_2",
};

bool nosym_is_rustls_name(const char *name)
{
	int i;

	for (i = 0; i < NROLES; i++)
		if (strcmp(name, ROLE[i]) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------ the data's words */

/* The file's R_X86_64_RELATIVE relocations, sorted by where they write: a position-
 * independent program's pointers (the word at `at` is `value` once loaded). */
struct reloc {
	uint64_t at, value;
};

struct relocs {
	struct reloc *v;
	size_t n;
	uint64_t skip[NSKIP][2]; /* file ranges of the tables below: no vtable is there */
};

/* The linker's tables that hold code addresses as words but are no vtables (a relocation's
 * value, a symbol's, an unwinder's): never looked into for one. */
static const char *const TABLES[NSKIP] = {".rela.dyn", ".rela.plt", ".dynsym",	     ".symtab",
					  ".dynamic",  ".eh_frame", ".eh_frame_hdr", ".gnu.hash"};

static int cmp_reloc(const void *a, const void *b)
{
	uint64_t x = ((const struct reloc *)a)->at, y = ((const struct reloc *)b)->at;

	return x < y ? -1 : x > y;
}

/* Reads .rela.dyn's relative relocations. 0 or -ENOMEM (none is no error). */
static int read_relocs(const struct nosym_file *f, struct relocs *r)
{
	const Elf64_Shdr *sh = elf_file_section(&f->elf, ".rela.dyn", false);
	size_t i, n;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < NSKIP; i++) {
		const Elf64_Shdr *t = elf_file_section(&f->elf, TABLES[i], false);

		if (t) {
			r->skip[i][0] = t->sh_offset;
			r->skip[i][1] = t->sh_offset + t->sh_size;
		}
	}
	if (!sh || sh->sh_type != SHT_RELA || sh->sh_entsize != sizeof(Elf64_Rela))
		return 0;
	n = sh->sh_size / sizeof(Elf64_Rela);
	r->v = malloc((n ? n : 1) * sizeof(*r->v));
	if (!r->v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		Elf64_Rela rela; /* copied: the file may place the table unaligned */

		memcpy(&rela, f->elf.map + sh->sh_offset + i * sizeof(rela), sizeof(rela));
		if (ELF64_R_TYPE(rela.r_info) == R_X86_64_RELATIVE)
			r->v[r->n++] = (struct reloc){rela.r_offset, (uint64_t)rela.r_addend};
	}
	qsort(r->v, r->n, sizeof(*r->v), cmp_reloc);
	return 0;
}

/* The file offset of the n bytes at vaddr in a loadable segment that is not executable (its
 * data, as the file has it), or UINT64_MAX. */
static uint64_t data_offset(const struct nosym_file *f, uint64_t vaddr, size_t n)
{
	int i;

	for (i = 0; i < elf_file_ehdr(&f->elf)->e_phnum; i++) {
		const Elf64_Phdr *ph = elf_file_phdr(&f->elf, i);

		if (ph->p_type == PT_LOAD && !(ph->p_flags & PF_X) && vaddr >= ph->p_vaddr &&
		    ph->p_filesz >= n && vaddr - ph->p_vaddr <= ph->p_filesz - n &&
		    ph->p_offset <= f->elf.size &&
		    vaddr - ph->p_vaddr + n <= f->elf.size - ph->p_offset)
			return ph->p_offset + (vaddr - ph->p_vaddr);
	}
	return UINT64_MAX;
}

/* The word at vaddr once loaded: a relocation's value, else the file's bytes. False when
 * no loadable data segment holds it in the file. */
static bool word_at(const struct nosym_file *f, const struct relocs *r, uint64_t vaddr, uint64_t *v)
{
	size_t lo = 0, hi = r->n;
	uint64_t off;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->v[mid].at < vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < r->n && r->v[lo].at == vaddr) {
		*v = r->v[lo].value;
		return true;
	}
	off = data_offset(f, vaddr, 8);
	if (off == UINT64_MAX)
		return false;
	memcpy(v, f->elf.map + off, 8);
	return true;
}

/* Whether file offset off lies in one of the linker's tables (relocs->skip). */
static bool in_table(const struct relocs *r, uint64_t off)
{
	int i;

	for (i = 0; i < NSKIP; i++)
		if (off >= r->skip[i][0] && off < r->skip[i][1])
			return true;
	return false;
}

/* Up to max words of the data that hold value, sorted: in a position-independent program
 * its relative relocations (every pointer in its data has one), else the words as the file
 * has them (a program linked at a fixed address keeps its vtables in read-only data; one
 * whose relocations are packed, DT_RELR, keeps their values in place). Returns how many. */
static int slots_of(const struct nosym_file *f, const struct relocs *r, uint64_t value,
		    uint64_t *out, int max)
{
	int i, n = 0;
	size_t k;

	for (k = 0; k < r->n && n < max; k++)
		if (r->v[k].value == value)
			out[n++] = r->v[k].at;
	for (i = 0; i < elf_file_ehdr(&f->elf)->e_phnum && !r->n; i++) {
		const Elf64_Phdr *ph = elf_file_phdr(&f->elf, i);
		uint64_t a, size;

		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_X) || ph->p_offset >= f->elf.size)
			continue;
		size = ph->p_filesz < f->elf.size - ph->p_offset ? ph->p_filesz
								 : f->elf.size - ph->p_offset;
		for (a = (8 - ph->p_vaddr % 8) % 8; a + 8 <= size && n < max; a += 8) {
			uint64_t w;

			memcpy(&w, f->elf.map + ph->p_offset + a, 8);
			if (w == value && !in_table(r, ph->p_offset + a))
				out[n++] = ph->p_vaddr + a;
		}
	}
	qsort(out, (size_t)n, sizeof(*out), nosym_cmp_u64);
	return n;
}

/* Whether a is where a function begins, by .eh_frame (an entry: not a part split off), in
 * an executable segment. */
static bool is_function(const struct nosym_file *f, uint64_t a)
{
	uint64_t start, end;
	bool entry;

	return nosym_fde_of(f, a, &start, &end, &entry) && start == a && entry &&
	       elf_file_offset(&f->elf, a, true) != UINT64_MAX;
}

/* Whether a vtable begins at base: a drop function (0 from rustc 1.7x for a type with
 * nothing to drop), a size (0 allowed when `unit`: a type without fields) and a power-of-two
 * alignment. */
static bool vtable_head(const struct nosym_file *f, const struct relocs *r, uint64_t base,
			bool unit)
{
	uint64_t drop, size, align;

	return word_at(f, r, base, &drop) && word_at(f, r, base + 8, &size) &&
	       word_at(f, r, base + 16, &align) && (!drop || is_function(f, drop)) && align &&
	       align <= MAX_ALIGN && !(align & (align - 1)) && size <= MAX_TYPE_SIZE &&
	       (size || unit) && size % align == 0;
}

/* Whether a vtable of `words` words before its methods begins at base: its head, and with 4
 * (rustc before 1.7x) a supertrait's pointer to a head of its own. */
static bool head_of(const struct nosym_file *f, const struct relocs *r, uint64_t base, int words,
		    bool unit)
{
	uint64_t up;

	return vtable_head(f, r, base, unit) &&
	       (words == 3 || (word_at(f, r, base + 24, &up) && vtable_head(f, r, up, unit)));
}

/*
 * The vtable whose one method fn is: its start and the method's word (3 or 4 words in: one
 * per supertrait between), the same in every vtable of fn. 0, -ENOENT (in none) or -EINVAL
 * (in vtables of two shapes), with why.
 */
static int vtable_of(const struct nosym_file *f, const struct relocs *r, uint64_t fn,
		     uint64_t *base, int *words, char *why, size_t whylen)
{
	uint64_t slots[MAX_SLOTS];
	int n = slots_of(f, r, fn, slots, MAX_SLOTS), i, k;

	*base = 0;
	for (i = 0; i < n; i++)
		for (k = 3; k <= 4; k++) {
			if (slots[i] < 8u * k || !head_of(f, r, slots[i] - 8u * k, k, false))
				continue;
			if (*base && k != *words)
				return snprintf(why, whylen,
						"0x%llx is in vtables of different shapes",
						(unsigned long long)fn),
				       -EINVAL;
			if (!*base)
				*base = slots[i] - 8u * k;
			*words = k;
		}
	if (!*base)
		return snprintf(why, whylen, "0x%llx is in no vtable", (unsigned long long)fn),
		       -ENOENT;
	return 0;
}

/* ------------------------------------------------------------------ the code's references */

/* Places in the code aimed at: ranges [lo, hi), sorted, apart. */
struct ranges {
	uint64_t lo[MAX_RANGES], hi[MAX_RANGES];
	int n;
	bool fixed; /* the program is linked at a fixed address: imm32 may be an address */
	uint64_t hits[MAX_HITS]; /* where a displacement aimed so is (not yet decoded) */
	int nhits;
};

/* Adds [lo, hi) to g, kept sorted and merged with what it touches; false when full. */
static bool add_range(struct ranges *g, uint64_t lo, uint64_t hi)
{
	int i = g->n;

	if (g->n && lo <= g->hi[g->n - 1] && lo >= g->lo[g->n - 1]) { /* found in order */
		g->hi[g->n - 1] = hi > g->hi[g->n - 1] ? hi : g->hi[g->n - 1];
		return true;
	}
	if (g->n == MAX_RANGES)
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
static bool in_ranges(const struct ranges *g, uint64_t a)
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

static int add_hit(struct ranges *g, uint64_t at)
{
	if (g->nhits && g->hits[g->nhits - 1] == at)
		return 0;
	if (g->nhits == MAX_HITS)
		return -E2BIG;
	g->hits[g->nhits++] = at;
	return 0;
}

/* Every 4 bytes of code that aim into a range, as a rip-relative displacement ending there
 * or as an address (code linked below 4 GiB loads one as an immediate): candidates, each
 * decoded later with its function. */
static int scan_disp(const uint8_t *buf, size_t len, uint64_t vaddr, void *arg)
{
	struct ranges *g = arg;
	uint64_t lo = g->n ? g->lo[0] : 0, span = g->n ? g->hi[g->n - 1] - lo : 0;
	size_t i;
	int err = 0;

	for (i = 0; i + 4 <= len && !err; i++) {
		uint64_t rel = vaddr + i + 4 + (uint64_t)(int64_t)(int32_t)nosym_le32(buf + i),
			 abs = nosym_le32(buf + i);

		if ((rel - lo < span && in_ranges(g, rel)) ||
		    (g->fixed && abs - lo < span && in_ranges(g, abs)))
			err = add_hit(g, vaddr + i);
	}
	return err;
}

/* An instruction's address operand, decoded. */
struct ref {
	uint64_t insn, target;
	unsigned size; /* bytes it reads (0 for a lea or an immediate: the address itself) */
};

/* Whether the program is linked at a fixed address (ET_EXEC): its code may load an address
 * as an immediate. */
static bool is_fixed(const struct nosym_file *f)
{
	return elf_file_ehdr(&f->elf)->e_type == ET_EXEC;
}

/* A function's operands aimed into [lo, hi) (up to max; its first MAX_FN_SIZE bytes):
 * rip-relative ones, and, in a fixed-address program, addresses moved into a register as
 * immediates (`mov r32, imm32`). Returns how many; -EINVAL when its code does not decode,
 * -ENOMEM. */
static int refs_in(const struct nosym_file *f, uint64_t start, uint64_t end, uint64_t lo,
		   uint64_t hi, struct ref *out, int max)
{
	bool capped = end - start > MAX_FN_SIZE, fixed = is_fixed(f);
	size_t left = (size_t)(capped ? MAX_FN_SIZE : end - start);
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
			out[n++] = (struct ref){.insn = insn->address, .target = t, .size = size};
	}
	cs_free(insn, 1);
	cs_close(&cs);
	free(buf);
	return left && !(capped && left < 16) ? -EINVAL : n; /* a cut may split an instruction */
}

/* ------------------------------------------------------------------ the search */

/* A function that copies a literal, and its vtable. */
struct copier {
	uint64_t entry, site, base; /* base: its vtable's start */
	int reads, words;
	bool inner;  /* copies LIT_INNER (else LIT_ENCRYPT) */
	bool made;   /* an encrypter made by a TLS 1.2 algorithm */
	bool unsure; /* ... or a maker of it seen, its suite's decrypter not known for sure */
	uint64_t maker, dec, dec_site, dec_base;
};

struct search {
	struct nosym_file *f;
	const struct relocs *r;
	struct copier c[MAX_FNS];
	int nc;
	char why[120];
};

static const char *const LIT[2] = {LIT_ENCRYPT, LIT_INNER};

/* The literals' 8-byte windows: what the code's immediates and constants are looked for by
 * (a filter of their first two bytes, then their values). */
struct windows {
	uint8_t first[65536 / 8];
	uint64_t v[2 * MAX_LITERAL];
	int n;
};

static void windows_of(struct windows *w)
{
	size_t k;
	int l;

	memset(w, 0, sizeof(*w));
	for (l = 0; l < 2; l++)
		for (k = 0; k + WINDOW <= strlen(LIT[l]); k++) {
			const uint8_t *p = (const uint8_t *)LIT[l] + k;

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
	struct ranges *g;
};

static int scan_copies(const uint8_t *buf, size_t len, uint64_t vaddr, void *arg)
{
	struct code_scan *c = arg;
	size_t i;
	int err = 0;

	for (i = 0; i + WINDOW <= len && !err; i++)
		if (is_window(c->w, buf + i))
			err = add_hit(c->g, vaddr + i);
	/* displacements end 4 bytes further than windows: each chunk looks at those of its own
	 * positions only (a segment's last 4 are not looked at) */
	return err || !c->g->n || len < WINDOW ? err
					       : scan_disp(buf, len - (WINDOW - 4), vaddr, c->g);
}

/* Where the literals' windows are in read-only data (the literals, and the constants a
 * compiler copies them from), as ranges of g; false when there are too many. */
static bool data_windows(const struct nosym_file *f, const struct windows *w, struct ranges *g)
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
			    !add_range(g, ph->p_vaddr + a, ph->p_vaddr + a + WINDOW))
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

/* Marks in cover the places of literal l that the n bytes at p are; how many. */
static int mark_piece(int l, const uint8_t *p, size_t n, bool *cover)
{
	size_t len = strlen(LIT[l]), k, j;
	int found = 0;

	for (k = 0; p && n <= len && k + n <= len; k++)
		if (memcmp(LIT[l] + k, p, n) == 0) {
			for (j = k; j < k + n; j++)
				cover[j] = true;
			found++;
		}
	return found;
}

/*
 * Whether the function [start, end) copies literal l: pieces of it, as its instructions'
 * immediates (4 or 8 bytes) or constants they read (rip-relative, 4 to 16 bytes), or the
 * literal's own address taken (a lea), make it whole, and the function moves its length into
 * a register (its String's size). 1 when it does (c filled: its first piece), 0 when not,
 * -ENOMEM.
 */
static int copies_literal(struct search *s, int l, uint64_t start, uint64_t end, struct copier *c)
{
	size_t left = (size_t)(end - start > MAX_FN_SIZE ? MAX_FN_SIZE : end - start),
	       len = strlen(LIT[l]), k;
	uint8_t *buf = nosym_read_code(s->f, start, left);
	bool cover[MAX_LITERAL] = {false}, has_len = false;
	const uint8_t *code = buf;
	uint64_t addr = start, site = 0;
	int pieces = 0, i;
	cs_insn *insn;
	csh cs;

	if (!buf)
		return 0;
	if (nosym_open_decoder(&cs, &insn)) {
		free(buf);
		return -ENOMEM;
	}
	while (left && cs_disasm_iter(cs, &code, &left, &addr, insn)) {
		const cs_x86 *x = &insn->detail->x86;
		int before = pieces;

		for (i = 0; i < x->op_count; i++) {
			const cs_x86_op *op = &x->operands[i];
			uint64_t t;
			uint8_t imm[8];

			if (op->type == X86_OP_IMM && insn->id == X86_INS_MOV && i == 1 &&
			    (uint64_t)op->imm == len && x->operands[0].type == X86_OP_REG)
				has_len = true;
			if (op->type == X86_OP_IMM && (op->size == 4 || op->size == 8)) {
				memcpy(imm, &op->imm, sizeof(imm)); /* little-endian */
				pieces += mark_piece(l, imm, op->size, cover);
			}
			if (op->type != X86_OP_MEM || op->mem.base != X86_REG_RIP ||
			    op->mem.index != X86_REG_INVALID)
				continue;
			t = insn->address + insn->size + (uint64_t)op->mem.disp;
			if (insn->id == X86_INS_LEA)
				pieces += mark_piece(l, data_at(s->f, t, len), len, cover);
			else if (op->size >= 4 && op->size <= 16)
				pieces +=
					mark_piece(l, data_at(s->f, t, op->size), op->size, cover);
		}
		if (pieces > before && !site)
			site = insn->address;
	}
	cs_free(insn, 1);
	cs_close(&cs);
	free(buf);
	for (k = 0; k < len && cover[k]; k++)
		;
	if (k < len || !has_len)
		return 0;
	*c = (struct copier){.entry = start, .site = site, .reads = pieces, .inner = l == 1};
	return 1;
}

/* The functions copying the literals, each with its vtable (s->c): their candidates are the
 * code holding a window of one (an immediate) or aiming at one in read-only data. */
static int find_copiers(struct search *s)
{
	struct ranges *g = calloc(1, sizeof(*g));
	struct windows *w = malloc(sizeof(*w));
	struct code_scan scan = {.w = w, .g = g};
	uint64_t start, end, done[MAX_HITS];
	int l, k, i, ndone = 0, err = 0, r;
	bool entry;

	if (!g || !w) {
		err = -ENOMEM;
		goto out;
	}
	g->fixed = is_fixed(s->f);
	windows_of(w);
	if (!data_windows(s->f, w, g)) {
		err = -E2BIG;
		goto out;
	}
	err = nosym_each_code_chunk(s->f, WINDOW - 1, scan_copies, &scan);
	if (err)
		goto out;
	for (i = 0; i < g->nhits; i++) {
		struct copier c = {0};

		if (!nosym_fde_of(s->f, g->hits[i], &start, &end, &entry) || !entry)
			continue; /* no function's, or a part split off one: nothing claimed */
		for (k = 0; k < ndone && done[k] != start; k++)
			;
		if (k < ndone)
			continue;
		done[ndone++] = start;
		for (l = 0; l < 2 && !(err = copies_literal(s, l, start, end, &c)); l++)
			;
		if (err < 0)
			goto out;
		if (l == 2)
			continue;
		r = vtable_of(s->f, s->r, start, &c.base, &c.words, s->why, sizeof(s->why));
		if (r == -EINVAL) { /* a copier whose vtable is not one: nothing is sure */
			err = r;
			goto out;
		}
		if (r)
			continue; /* not a method: another use of the words */
		if (s->nc == MAX_FNS) {
			err = -E2BIG;
			goto out;
		}
		s->c[s->nc++] = c;
	}
	err = 0;
out:
	if (err == -E2BIG) {
		snprintf(s->why, sizeof(s->why), "its literals' pieces are too many");
		err = -EINVAL;
	}
	free(g);
	free(w);
	return err;
}

/* The decrypter the suite's decrypter() at dec_maker makes: the one vtable of c's shape it
 * loads (lea), whose method is a function. */
static int made_decrypter(struct search *s, struct copier *c, uint64_t dec_maker)
{
	uint64_t start, end, dec = 0, base = 0, site = 0, fn;
	struct ref *refs = malloc(MAX_REFS * sizeof(*refs));
	bool entry;
	int n, i;

	if (!refs)
		return -ENOMEM;
	c->unsure = true; /* until one decrypter is known */
	n = nosym_fde_of(s->f, dec_maker, &start, &end, &entry) && start == dec_maker
		    ? refs_in(s->f, start, end, 0, UINT64_MAX, refs, MAX_REFS)
		    : 0;
	if (n < 0 || n == MAX_REFS) { /* unread, or more than were looked at */
		free(refs);
		return n == -ENOMEM ? n : 0;
	}
	for (i = 0; i < n; i++) {
		if (refs[i].size || refs[i].target == base ||
		    !head_of(s->f, s->r, refs[i].target, c->words, false) ||
		    !word_at(s->f, s->r, refs[i].target + 8u * c->words, &fn) ||
		    !is_function(s->f, fn))
			continue;
		if (base) { /* two vtables: not one decrypter */
			free(refs);
			return 0;
		}
		base = refs[i].target;
		site = refs[i].insn;
		dec = fn;
	}
	free(refs);
	if (!dec)
		return 0;
	c->unsure = false;
	c->made = true;
	c->dec = dec;
	c->dec_site = site;
	c->dec_base = base;
	return 0;
}

/* The method before fn in a vtable of `words` words before its methods (a suite's
 * decrypter() before its encrypter()), or 0. */
static uint64_t method_before(struct search *s, uint64_t fn, int words)
{
	uint64_t slots[MAX_SLOTS], before;
	int m = slots_of(s->f, s->r, fn, slots, MAX_SLOTS), j;

	for (j = 0; j < m; j++)
		if (slots[j] >= 8u * (words + 1) &&
		    head_of(s->f, s->r, slots[j] - 8u * (words + 1), words, true) &&
		    word_at(s->f, s->r, slots[j] - 8, &before) && is_function(s->f, before))
			return before;
	return 0;
}

/*
 * For each encrypter, whether a TLS 1.2 suite makes it: its vtable's start loaded (lea) by
 * a function that is a method of a vtable whose method before it (the suite's decrypter())
 * loads exactly one vtable of the encrypter's shape, whose method is the suite's decrypter.
 */
static int find_makers(struct search *s)
{
	struct ranges *g = calloc(1, sizeof(*g));
	uint64_t start, end, dec_maker;
	int i, k, n, err = 0;
	bool entry;

	if (!g)
		return -ENOMEM;
	g->fixed = is_fixed(s->f);
	for (i = 0; i < s->nc; i++)
		if (!s->c[i].inner)
			add_range(g, s->c[i].base, s->c[i].base + 1);
	err = g->n ? nosym_each_code_chunk(s->f, 3, scan_disp, g) : 0;
	if (err == -E2BIG) {
		snprintf(s->why, sizeof(s->why), "its vtables are loaded too often");
		err = -EINVAL;
	}
	for (k = 0; k < g->nhits && !err; k++) {
		if (!nosym_fde_of(s->f, g->hits[k], &start, &end, &entry) || !entry)
			continue;
		for (i = 0; i < s->nc && !err; i++) {
			struct copier *c = &s->c[i];
			struct ref refs[8];

			if (c->inner || c->made)
				continue;
			n = refs_in(s->f, start, end, c->base, c->base + 1, refs, 8);
			if (n <= 0 || refs[0].size) /* not decoded so, or not a lea */
				continue;
			dec_maker = method_before(s, start, c->words);
			err = dec_maker ? made_decrypter(s, c, dec_maker) : 0;
			if (c->made)
				c->maker = start;
		}
	}
	free(g);
	return err;
}

/* out for function entry, found by what `says`. */
static void take(const struct nosym_file *f, struct nosym_found *out, uint64_t entry, uint64_t site,
		 int nsites, uint64_t vtable, const char *crate)
{
	out->err = 0;
	out->how = NOSYM_BY_VTABLE;
	out->entry = entry;
	out->offset = elf_file_offset(&f->elf, entry, true);
	out->site = site;
	out->nsites = nsites;
	out->report = vtable;
	snprintf(out->file, sizeof(out->file), "%s", crate);
}

/* Every role unsure, for why. */
static void unsure(struct nosym_found *out, const char *why)
{
	int i;

	for (i = 0; i < NROLES; i++) {
		out[i].err = -EINVAL;
		snprintf(out[i].why, sizeof(out[i].why), "%s", why);
	}
}

/* Each role's result from the copiers and their makers (s->c), into out[NROLES]. */
static void assign(struct search *s, const char *crate, struct nosym_found *out)
{
	int i, n13e = 0, n13d = 0, n12 = 0, e13 = -1, d13 = -1, pair[2] = {-1, -1};

	for (i = 0; i < NROLES; i++)
		out[i] = (struct nosym_found){.err = -ENOENT, .how = NOSYM_BY_VTABLE};
	for (i = 0; i < s->nc; i++) {
		if (s->c[i].words != s->c[0].words) {
			unsure(out, "its encrypters' and decrypters' vtables differ in shape");
			return;
		}
		if (s->c[i].unsure) {
			unsure(out, "a TLS 1.2 suite's decrypter is not known for sure");
			return;
		}
		if (s->c[i].inner)
			d13 = n13d++ ? d13 : i;
		else if (!s->c[i].made)
			e13 = n13e++ ? e13 : i;
		else if (n12++ < 2)
			pair[n12 - 1] = i;
	}
	if (n13e == 1) {
		take(s->f, &out[TLS13_ENC], s->c[e13].entry, s->c[e13].site, s->c[e13].reads,
		     s->c[e13].base, crate);
		snprintf(out[TLS13_ENC].says, sizeof(out[TLS13_ENC].says),
			 "copies \"%s\" (x%d), method of the vtable at 0x%llx, made by no TLS 1.2 "
			 "suite",
			 LIT_ENCRYPT, s->c[e13].reads, (unsigned long long)s->c[e13].base);
	} else if (n13e > 1) {
		out[TLS13_ENC].err = -EINVAL;
		snprintf(out[TLS13_ENC].why, sizeof(out[TLS13_ENC].why),
			 "%d encrypters copy \"%s\" that no TLS 1.2 suite makes", n13e,
			 LIT_ENCRYPT);
	}
	if (n13d == 1) {
		take(s->f, &out[TLS13_DEC], s->c[d13].entry, s->c[d13].site, s->c[d13].reads,
		     s->c[d13].base, crate);
		snprintf(out[TLS13_DEC].says, sizeof(out[TLS13_DEC].says),
			 "copies \"%s\" (x%d), method of the vtable at 0x%llx", LIT_INNER,
			 s->c[d13].reads, (unsigned long long)s->c[d13].base);
	} else if (n13d > 1) {
		out[TLS13_DEC].err = -EINVAL;
		snprintf(out[TLS13_DEC].why, sizeof(out[TLS13_DEC].why), "%d methods copy \"%s\"",
			 n13d, LIT_INNER);
	}
	for (i = 0; i < 2; i++) {
		struct nosym_found *e = &out[TLS12_ENC1 + 2 * i], *d = &out[TLS12_DEC1 + 2 * i];
		const struct copier *c = pair[i] >= 0 ? &s->c[pair[i]] : NULL;

		if (n12 > 2) {
			e->err = d->err = -EINVAL;
			snprintf(e->why, sizeof(e->why),
				 "%d TLS 1.2 suites make encrypters (rustls "
				 "0.20 has two)",
				 n12);
			snprintf(d->why, sizeof(d->why), "%s", e->why);
			continue;
		}
		if (!c)
			continue;
		take(s->f, e, c->entry, c->site, c->reads, c->base, crate);
		snprintf(e->says, sizeof(e->says),
			 "copies \"%s\" (x%d), method of the vtable at 0x%llx, made by a TLS 1.2 "
			 "suite at 0x%llx",
			 LIT_ENCRYPT, c->reads, (unsigned long long)c->base,
			 (unsigned long long)c->maker);
		take(s->f, d, c->dec, c->dec_site, 1, c->dec_base, crate);
		snprintf(d->says, sizeof(d->says),
			 "method of the vtable at 0x%llx, made by the decrypter() beside it in "
			 "that suite's vtable",
			 (unsigned long long)c->dec_base);
	}
}

/* What is kept of a file (nosym_file's rustls), each made once: whether it carries rustls
 * 0.20 on ring, its relocations, and the search's results. */
struct nosym_rustls {
	int carries; /* -1: not looked at yet */
	char crate[48];
	int relocs_err; /* 1: not read yet */
	struct relocs r;
	bool searched;
	int search_err;
	struct nosym_found found[NROLES];
};

/* Frees what this file keeps of a file (nosym_close calls it, through the file's
 * rustls_free); NULL is nothing. */
static void nosym_rustls_free(struct nosym_rustls *st)
{
	if (st)
		free(st->r.v);
	free(st);
}

/* f's state, made on its first need; NULL without memory. */
static struct nosym_rustls *state_of(struct nosym_file *f)
{
	if (!f->rustls && (f->rustls = calloc(1, sizeof(*f->rustls))) != NULL) {
		f->rustls_free = nosym_rustls_free;
		f->rustls->carries = -1;
		f->rustls->relocs_err = 1;
	}
	return f->rustls;
}

/* Whether the file names rustls 0.20 and ring in its panics' locations (the layouts
 * bpf_src/rustls.c reads are 0.20's). */
static bool carries(const struct nosym_file *f, struct nosym_rustls *st)
{
	char ring[48];

	if (st->carries < 0)
		st->carries = nosym_crate(f, "rustls", st->crate, sizeof(st->crate)) &&
			      strncmp(st->crate, "rustls-0.20.", 12) == 0 &&
			      nosym_crate(f, "ring", ring, sizeof(ring));
	return st->carries;
}

/* Its table of functions and its relocations, read once. 0, -ENOTSUP (no .eh_frame read
 * here), -ENOMEM. */
static int tables(struct nosym_file *f, struct nosym_rustls *st)
{
	int err = nosym_load_fdes(f);

	if (!err && st->relocs_err == 1)
		st->relocs_err = read_relocs(f, &st->r);
	return err ? err : st->relocs_err;
}

/* The search, once per file: st->found[NROLES]. Returns 1 when the code was searched, 0
 * when the file carries no rustls 0.20 on ring (nothing searched), -ENOMEM or -EIO. */
static int search_once(struct nosym_file *f, struct nosym_rustls *st)
{
	struct search *s;
	int l, err = 0;

	if (st->searched)
		return st->search_err;
	for (l = 0; l < NROLES; l++)
		st->found[l] = (struct nosym_found){.err = -ENOENT, .how = NOSYM_BY_VTABLE};
	if (carries(f, st)) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->f = f;
		s->r = &st->r;
		err = tables(f, st);
		err = err ? err : find_copiers(s);
		err = err ? err : find_makers(s);
		if (!err)
			assign(s, st->crate, st->found);
		else if (err == -EINVAL || err == -ENOTSUP)
			unsure(st->found,
			       err == -ENOTSUP ? "no table of its functions (.eh_frame)" : s->why);
		err = err == -ENOMEM || err == -EIO ? err : 1;
		free(s);
	}
	st->searched = true;
	st->search_err = err;
	return err;
}

static int role_of(const char *name)
{
	int i;

	for (i = 0; i < NROLES && strcmp(name, ROLE[i]) != 0; i++)
		;
	return i;
}

int nosym_find_rustls(struct nosym_file *f, const char *const *names, int n,
		      struct nosym_found *out)
{
	struct nosym_rustls *st = state_of(f);
	int i, err = st ? search_once(f, st) : -ENOMEM;

	for (i = 0; i < n && err >= 0; i++)
		if (role_of(names[i]) < NROLES)
			out[i] = st->found[role_of(names[i])];
	return err;
}

/* Whether the cached claim `out` of role still holds: its entry a function and a vtable's
 * method, copying its literal from the same place (TLS 1.3's and the encrypters), or, for a
 * TLS 1.2 decrypter, its vtable loaded by a lea at the same place. 0, or -EINVAL with why. */
static int check_claim(struct search *s, int role, struct nosym_found *out)
{
	uint64_t entry = out->entry, site = out->site, start, end, base = 0, fn;
	struct copier c = {0};
	struct ref *refs;
	int words = 0, l = role == TLS13_DEC, n, i;
	bool is_entry;

	if (!is_function(s->f, entry) || !nosym_fde_of(s->f, entry, &start, &end, &is_entry))
		return snprintf(out->why, sizeof(out->why), "0x%llx begins no function",
				(unsigned long long)entry),
		       -EINVAL;
	if (role == TLS12_DEC1 || role == TLS12_DEC2) {
		/* the vtable its suite's decrypter() loads at site, whose method it is */
		refs = malloc(MAX_REFS * sizeof(*refs));
		if (!refs)
			return -ENOMEM;
		n = nosym_fde_of(s->f, site, &start, &end, &is_entry) && is_entry
			    ? refs_in(s->f, start, end, 0, UINT64_MAX, refs, MAX_REFS)
			    : 0;
		for (i = 0; i < n && !base; i++)
			for (words = 3; words <= 4 && refs[i].insn == site && !refs[i].size;
			     words++)
				if (head_of(s->f, s->r, refs[i].target, words, false) &&
				    word_at(s->f, s->r, refs[i].target + 8u * words, &fn) &&
				    fn == entry) {
					base = refs[i].target;
					break;
				}
		free(refs);
		if (n == -ENOMEM)
			return n;
		if (!base)
			return snprintf(out->why, sizeof(out->why),
					"no vtable of it is loaded at 0x%llx",
					(unsigned long long)site),
			       -EINVAL;
		snprintf(out->says, sizeof(out->says),
			 "method of the vtable at 0x%llx, loaded by a TLS 1.2 suite's decrypter() "
			 "at 0x%llx",
			 (unsigned long long)base, (unsigned long long)site);
		out->report = base;
		return 0;
	}
	if (vtable_of(s->f, s->r, entry, &base, &words, out->why, sizeof(out->why)))
		return -EINVAL;
	n = copies_literal(s, l, entry, end, &c);
	if (n < 0)
		return n;
	if (!n || c.site != site)
		return snprintf(out->why, sizeof(out->why), "it does not copy \"%s\" at 0x%llx",
				LIT[l], (unsigned long long)site),
		       -EINVAL;
	snprintf(out->says, sizeof(out->says),
		 "copies \"%s\" (x%d), method of the vtable at 0x%llx", LIT[l], c.reads,
		 (unsigned long long)base);
	out->nsites = c.reads;
	out->report = base;
	return 0;
}

int nosym_verify_rustls(struct nosym_file *f, const char *name, struct nosym_found *out)
{
	struct nosym_rustls *st = state_of(f);
	struct search *s;
	int role = role_of(name), err;

	if (!st)
		return out->err = -ENOMEM;
	if (role == NROLES)
		return snprintf(out->why, sizeof(out->why), "no function of rustls is so named"),
		       out->err = -EINVAL;
	if (!carries(f, st))
		return snprintf(out->why, sizeof(out->why), "it carries no rustls 0.20 on ring"),
		       out->err = -EINVAL;
	err = tables(f, st);
	if (err)
		return snprintf(out->why, sizeof(out->why),
				"no table of its functions (.eh_frame)"),
		       out->err = err == -ENOMEM ? err : -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return out->err = -ENOMEM;
	s->f = f;
	s->r = &st->r;
	err = check_claim(s, role, out);
	free(s);
	if (!err) {
		out->how = NOSYM_BY_VTABLE;
		out->offset = elf_file_offset(&f->elf, out->entry, true);
		snprintf(out->file, sizeof(out->file), "%s", st->crate);
	}
	out->err = err;
	return err;
}
