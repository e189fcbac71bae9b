/* SPDX-License-Identifier: Apache-2.0 */
/* nosymxref.h - where a stripped executable's code aims at given places in its data: a scan
 * of its bytes for candidates, and a function's address operands decoded */
#ifndef TRACER_NOSYMXREF_H
#define TRACER_NOSYMXREF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nosymfile.h"

#define NOSYMXREF_MAX_RANGES 128     /* places aimed at, at most */
#define NOSYMXREF_MAX_HITS 256	     /* candidates found, at most */
#define NOSYMXREF_MAX_FN_SIZE 0x8000 /* bytes of a function decoded, at most */

/*
 * Places in the data aimed at, and the code found aiming there. The caller zeroes it, sets
 * `fixed` and adds ranges (nosymxref_add_range); a scan adds hits.
 */
struct nosym_ranges {
	uint64_t lo[NOSYMXREF_MAX_RANGES], hi[NOSYMXREF_MAX_RANGES]; /* [lo, hi), sorted, apart */
	int n;
	bool fixed; /* the program is linked at a fixed address: imm32 may be an address */
	uint64_t hits[NOSYMXREF_MAX_HITS]; /* where a displacement aimed so is (not yet decoded) */
	int nhits;
};

/* An instruction's address operand, decoded. */
struct nosym_operand {
	uint64_t insn, target;
	unsigned size; /* bytes it reads (0 for a lea or an immediate: the address itself) */
};

/* Whether the program is linked at a fixed address (ET_EXEC): its code may load an address
 * as an immediate. */
bool nosymxref_is_fixed(const struct nosym_file *f);

/* Adds [lo, hi) to g, kept sorted and merged with what it touches; false when full. */
bool nosymxref_add_range(struct nosym_ranges *g, uint64_t lo, uint64_t hi);

/* Adds code address at to g's hits (once when added twice in a row). 0, or -E2BIG when
 * full. */
int nosymxref_add_hit(struct nosym_ranges *g, uint64_t at);

/* Adds to g's hits every 4 bytes of buf (len bytes of code at vaddr) that aim into one of
 * g's ranges, as a rip-relative displacement ending there or, when g->fixed, as an address.
 * 0, or -E2BIG when g's hits are full. */
int nosymxref_scan_chunk(struct nosym_ranges *g, const uint8_t *buf, size_t len, uint64_t vaddr);

/* nosymxref_scan_chunk over the whole of the executable segments. 0, -E2BIG, or -errno when
 * the code cannot be read. */
int nosymxref_scan(const struct nosym_file *f, struct nosym_ranges *g);

/* The function [start, end)'s operands aimed into [lo, hi), into out (up to max; its first
 * NOSYMXREF_MAX_FN_SIZE bytes): rip-relative ones, and, in a fixed-address program,
 * addresses moved into a register as immediates (`mov r32, imm32`). Returns how many;
 * -EINVAL when its code does not decode, -ENOMEM. */
int nosymxref_operands(const struct nosym_file *f, uint64_t start, uint64_t end, uint64_t lo,
		       uint64_t hi, struct nosym_operand *out, int max);

#endif
