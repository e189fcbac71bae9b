/* SPDX-License-Identifier: Apache-2.0 */
/* gosym.h - functions of a Go executable, stripped or not, found through its .gopclntab */
#ifndef TRACER_GOSYM_H
#define TRACER_GOSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elffile.h"

/*
 * The pclntab layouts (runtime/symtab.go, debug/gosym), told by their magic number:
 * Go 1.16-1.17 (functab of pointer-sized absolute PCs), 1.18-1.19 and 1.20+ (32-bit
 * offsets from the header's textStart; the two differ in nothing read here).
 */
enum gosym_layout {
	GOSYM_GO116 = 116, /* magic 0xfffffffa */
	GOSYM_GO118 = 118, /* magic 0xfffffff0 */
	GOSYM_GO120 = 120, /* magic 0xfffffff1 */
};

/* A function table read from a pclntab (pointers into the caller's bytes). */
struct gosym_table {
	const uint8_t *tab;
	size_t size;
	enum gosym_layout layout;
	uint64_t text_start; /* 1.18+: the address functab offsets count from */
	uint32_t nfunc;
	uint64_t funcname_off, pcln_off; /* within tab */
};

/*
 * Reads the function table of the pclntab `tab` (size bytes; 64-bit little-endian x86-64
 * only). `text_start` stands in for the header's textStart when that is 0 (a PIE linked by
 * an external linker leaves it to a relocation). Returns 0, -ENOENT when tab is no pclntab,
 * -ENOTSUP for another layout or architecture, -EINVAL when it is malformed (offsets out of
 * bounds, entries out of order).
 */
int gosym_parse(struct gosym_table *t, const uint8_t *tab, size_t size, uint64_t text_start);

/*
 * The function named `name` ("crypto/tls.(*Conn).Write"): its entry address and the next
 * function's (its end, padding included). The function's own record must agree with the
 * table on its entry. Returns 0, -ENOENT when no such function, -EINVAL when malformed.
 */
int gosym_find(const struct gosym_table *t, const char *name, uint64_t *entry, uint64_t *end);

/* A Go executable or library: its tables read through the mapping, its code with pread
 * (elffile.h says why). */
struct gosym_file {
	struct elf_file elf;
	struct gosym_table table;
	char version[32];  /* "go1.19.8" from .go.buildinfo, or "" when it does not say */
	bool register_abi; /* Go >= 1.17 on amd64: arguments and results in registers */
	bool from_section; /* the pclntab was a section by name (else found by its magic) */
};

/*
 * Maps the ELF file `path` and reads its pclntab: the section named "*gopclntab" or, with
 * no section headers, the first valid table in a data segment. Returns 0; -ENOENT when the
 * file is no Go program (nothing opened); -ENOTSUP for another architecture; -errno when it
 * cannot be read; -EINVAL for a malformed table, with why in err.
 */
int gosym_open(const char *path, struct gosym_file *g, char *err, size_t errlen);

/* The file offset of address `vaddr` in an executable segment; UINT64_MAX if none. */
uint64_t gosym_file_offset(const struct gosym_file *g, uint64_t vaddr);

/*
 * Where an entry probe of the function at [entry, end) costs least and still sees its
 * arguments: the conditional jump of Go's stack check (`[lea r12, [rsp - N];] cmp rsp|r12,
 * [r14 + 16]; jbe morestack`), which a uprobe emulates, where the first instruction would
 * be single-stepped (~20 times the cost). Nothing before it writes a register but r12 and
 * the flags, so the arguments, the stack pointer and r14 are as at the entry; when the
 * stack must grow the function starts over and passes it again. Returns the address of
 * that jump, or `entry` when the function does not begin so (a function without the check).
 */
uint64_t gosym_entry_probe(const struct gosym_file *g, uint64_t entry, uint64_t end);

#define GOSYM_MAX_RETURNS 64

/*
 * The file offsets of the return instructions of the function at [entry, end) (addresses),
 * decoded from its first byte to its end, one instruction after another: Go puts no data
 * in its code, and its functions are padded with int3. Returns how many (at most max), or
 * -EINVAL with why in err when an instruction cannot be decoded, the function leaves by a
 * jump elsewhere (its return would not be seen), or it has no return or more than max.
 */
int gosym_returns(const struct gosym_file *g, uint64_t entry, uint64_t end, uint64_t *offsets,
		  int max, char *err, size_t errlen);

void gosym_close(struct gosym_file *g);

#endif
