/* SPDX-License-Identifier: Apache-2.0 */
/* emulated.h - an entry probe moved onto the first instruction the kernel emulates, where the
 * function's first one would be single-stepped */
#ifndef TRACER_EMULATED_H
#define TRACER_EMULATED_H

#include <stdint.h>

#include "nosymfile.h"

#define EMULATED_MAX_SKIP 3 /* instructions passed over at most */

/*
 * Where the probes of the function at file offset `off` of f (an entry probe and its
 * uretprobe, which share one breakpoint) cost one emulated trap instead of a single-stepped
 * one: past an `endbr64` and instructions that write nothing but the flags (cmp, test), onto
 * the first instruction the kernel emulates (push of a register, a direct jump, call or
 * conditional jump, nop). The registers, the stack pointer and the return address on top of
 * the stack are there as at the entry, and every call passes it: the place is taken only
 * when .eh_frame says a function starts at `off` and no direct jump or call in that function
 * lands on an instruction passed over or on the place itself (a jump from another of
 * .eh_frame's pieces, such as a .cold part, is not looked for: it goes after a prologue).
 * Returns the new file offset, or `off` where the first instruction is emulated already or
 * no such place is proven.
 */
uint64_t emulated_entry(struct nosym_file *f, uint64_t off);

#endif
