/* SPDX-License-Identifier: Apache-2.0 */
/* nosymvtable.h - where a pointer in a stripped executable's data points, through its
 * relocations, and the Rust vtables made of such pointers */
#ifndef TRACER_NOSYMVTABLE_H
#define TRACER_NOSYMVTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nosymfile.h"

#define NOSYMVTABLE_NSKIP 8	/* tables of the file skipped in a search for a vtable */
#define NOSYMVTABLE_MAX_SLOTS 8 /* words of the data holding one function's address */

/* One R_X86_64_RELATIVE relocation: the word at `at` is `value` once loaded. */
struct nosym_reloc {
	uint64_t at, value;
};

/*
 * The file's relative relocations, sorted by where they write: a position-independent
 * program's pointers. Read by nosymvtable_read_relocs, freed by nosymvtable_free_relocs.
 */
struct nosym_relocs {
	struct nosym_reloc *v; /* malloc'd (NULL: no .rela.dyn) */
	size_t n;
	uint64_t skip[NOSYMVTABLE_NSKIP][2]; /* file ranges of the linker's tables (relocations,
					      * symbols, unwind info): no vtable is there */
};

/* Reads .rela.dyn's relative relocations into *r (none is no error: r->n 0). Returns 0 or
 * -ENOMEM; either way r is the caller's to free with nosymvtable_free_relocs. */
int nosymvtable_read_relocs(const struct nosym_file *f, struct nosym_relocs *r);

/* Frees what r holds (not r itself). */
void nosymvtable_free_relocs(struct nosym_relocs *r);

/* The word at vaddr once loaded, into *v: a relocation's value, else the file's bytes. False
 * when no loadable data segment holds it in the file. */
bool nosymvtable_word_at(const struct nosym_file *f, const struct nosym_relocs *r, uint64_t vaddr,
			 uint64_t *v);

/* Up to max words of the data that hold value, sorted into out: in a position-independent
 * program its relative relocations, else the words as the file has them (outside the
 * linker's tables). Returns how many. */
int nosymvtable_slots_of(const struct nosym_file *f, const struct nosym_relocs *r, uint64_t value,
			 uint64_t *out, int max);

/* Whether a is where a function begins, by .eh_frame (an entry: not a part split off), in
 * an executable segment. The table of functions must be loaded (nosym_load_fdes). */
bool nosymvtable_is_function(const struct nosym_file *f, uint64_t a);

/* Whether a vtable of `words` words before its methods (3, or 4 with a supertrait's pointer
 * to a head of its own) begins at base: a drop function or 0, a size (0 allowed when `unit`)
 * and a power-of-two alignment. */
bool nosymvtable_head_of(const struct nosym_file *f, const struct nosym_relocs *r, uint64_t base,
			 int words, bool unit);

/* The vtable whose one method fn is: its start into *base and the method's word into *words
 * (3 or 4 words in: one per supertrait between), the same in every vtable of fn. 0, -ENOENT
 * (in none) or -EINVAL (in vtables of two shapes), with why. */
int nosymvtable_of(const struct nosym_file *f, const struct nosym_relocs *r, uint64_t fn,
		   uint64_t *base, int *words, char *why, size_t whylen);

#endif
