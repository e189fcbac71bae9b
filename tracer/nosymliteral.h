/* SPDX-License-Identifier: Apache-2.0 */
/* nosymliteral.h - the functions of a stripped executable that copy a string literal (Rust's,
 * without a NUL), found by the literal's pieces in their code */
#ifndef TRACER_NOSYMLITERAL_H
#define TRACER_NOSYMLITERAL_H

#include <stdint.h>

#include "nosymfile.h"
#include "nosymxref.h"

#define NOSYMLITERAL_MAX 2	/* literals looked for in one scan, at most */
#define NOSYMLITERAL_MAX_LEN 64 /* a literal's length, at most */

/*
 * The code that may copy one of lits[0, n) (each 8 to NOSYMLITERAL_MAX_LEN bytes), in one
 * pass over the executable segments: 8 bytes of one in an instruction (an immediate), or 4
 * aiming at 8 bytes of one in read-only data (the literal, or a constant a compiler copies
 * it from). Into g's hits, each to be decoded with its function (nosymliteral_copies); g is
 * zeroed by the caller, its `fixed` set, and gets the places in the data as its ranges.
 * Returns 0, -E2BIG when those places or the hits are more than g holds, -EINVAL for too
 * many or too long literals, -ENOMEM, or -errno when the code cannot be read.
 */
int nosymliteral_candidates(const struct nosym_file *f, const char *const *lits, int n,
			    struct nosym_ranges *g);

/*
 * Whether the function [start, end) copies literal lit: pieces of it, as its instructions'
 * immediates (4 or 8 bytes) or constants they read (rip-relative, 4 to 16 bytes), or the
 * literal's own address taken (a lea), make it whole, and the function moves its length into
 * a register (its String's size). 1 when it does (*site: the instruction of its first piece;
 * *pieces: how many were read), 0 when not, -EINVAL when lit is too long, -ENOMEM.
 */
int nosymliteral_copies(const struct nosym_file *f, const char *lit, uint64_t start, uint64_t end,
			uint64_t *site, int *pieces);

#endif
