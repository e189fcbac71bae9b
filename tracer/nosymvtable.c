/* SPDX-License-Identifier: Apache-2.0 */
/* nosymvtable.c - where a pointer in a stripped executable's data points, through its
 * relocations, and the Rust vtables made of such pointers */
#define _GNU_SOURCE
#include "nosymvtable.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A Rust vtable is [drop_in_place, size, align, then (rustc before 1.7x) a pointer per
 * supertrait, then the methods]. In a position-independent program each pointer in its data
 * has a relative relocation, which says what the word is once loaded; in one linked at a fixed
 * address, or whose relocations are packed (DT_RELR), the words are in the file as loaded.
 */

#define MAX_TYPE_SIZE 0x10000 /* a vtable's size word, at most */
#define MAX_ALIGN 4096	      /* ... its alignment word */

/* The linker's tables that hold code addresses as words but are no vtables (a relocation's
 * value, a symbol's, an unwinder's): never looked into for one. */
static const char *const TABLES[NOSYMVTABLE_NSKIP] = {".rela.dyn",     ".rela.plt", ".dynsym",
						      ".symtab",       ".dynamic",  ".eh_frame",
						      ".eh_frame_hdr", ".gnu.hash"};

static int cmp_reloc(const void *a, const void *b)
{
	uint64_t x = ((const struct nosym_reloc *)a)->at, y = ((const struct nosym_reloc *)b)->at;

	return x < y ? -1 : x > y;
}

int nosymvtable_read_relocs(const struct nosym_file *f, struct nosym_relocs *r)
{
	const Elf64_Shdr *sh = elf_file_section(&f->elf, ".rela.dyn", false);
	size_t i, n;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < NOSYMVTABLE_NSKIP; i++) {
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
			r->v[r->n++] = (struct nosym_reloc){rela.r_offset, (uint64_t)rela.r_addend};
	}
	qsort(r->v, r->n, sizeof(*r->v), cmp_reloc);
	return 0;
}

void nosymvtable_free_relocs(struct nosym_relocs *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
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

bool nosymvtable_word_at(const struct nosym_file *f, const struct nosym_relocs *r, uint64_t vaddr,
			 uint64_t *v)
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
static bool in_table(const struct nosym_relocs *r, uint64_t off)
{
	int i;

	for (i = 0; i < NOSYMVTABLE_NSKIP; i++)
		if (off >= r->skip[i][0] && off < r->skip[i][1])
			return true;
	return false;
}

/* A program linked at a fixed address keeps its vtables in read-only data; one whose
 * relocations are packed, DT_RELR, keeps their values in place. */
int nosymvtable_slots_of(const struct nosym_file *f, const struct nosym_relocs *r, uint64_t value,
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

bool nosymvtable_is_function(const struct nosym_file *f, uint64_t a)
{
	uint64_t start, end;
	bool entry;

	return nosym_fde_of(f, a, &start, &end, &entry) && start == a && entry &&
	       elf_file_offset(&f->elf, a, true) != UINT64_MAX;
}

/* Whether a vtable begins at base: a drop function (0 from rustc 1.7x for a type with
 * nothing to drop), a size (0 allowed when `unit`: a type without fields) and a power-of-two
 * alignment. */
static bool vtable_head(const struct nosym_file *f, const struct nosym_relocs *r, uint64_t base,
			bool unit)
{
	uint64_t drop, size, align;

	return nosymvtable_word_at(f, r, base, &drop) &&
	       nosymvtable_word_at(f, r, base + 8, &size) &&
	       nosymvtable_word_at(f, r, base + 16, &align) &&
	       (!drop || nosymvtable_is_function(f, drop)) && align && align <= MAX_ALIGN &&
	       !(align & (align - 1)) && size <= MAX_TYPE_SIZE && (size || unit) &&
	       size % align == 0;
}

bool nosymvtable_head_of(const struct nosym_file *f, const struct nosym_relocs *r, uint64_t base,
			 int words, bool unit)
{
	uint64_t up;

	return vtable_head(f, r, base, unit) &&
	       (words == 3 ||
		(nosymvtable_word_at(f, r, base + 24, &up) && vtable_head(f, r, up, unit)));
}

int nosymvtable_of(const struct nosym_file *f, const struct nosym_relocs *r, uint64_t fn,
		   uint64_t *base, int *words, char *why, size_t whylen)
{
	uint64_t slots[NOSYMVTABLE_MAX_SLOTS];
	int n = nosymvtable_slots_of(f, r, fn, slots, NOSYMVTABLE_MAX_SLOTS), i, k;

	*base = 0;
	for (i = 0; i < n; i++)
		for (k = 3; k <= 4; k++) {
			if (slots[i] < 8u * k ||
			    !nosymvtable_head_of(f, r, slots[i] - 8u * k, k, false))
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
