/* SPDX-License-Identifier: Apache-2.0 */
/* nosym_checkfuncs.h - the functions of a stripped executable that make error checks of one
 * source file, found around the loads of its name and decoded: their checks, calls, stores */
#ifndef TRACER_NOSYM_CHECKFUNCS_H
#define TRACER_NOSYM_CHECKFUNCS_H

#include "nosymfile.h"

#define NOSYM_FN_MAX 0x4000 /* bytes of one function decoded, at most */
#define NOSYM_MAX_CHECKS 8  /* checks of one function kept */
#define NOSYM_MAX_CALLS 32  /* direct calls of one function kept */
#define NOSYM_MAX_FUNCS 128 /* functions that make a check of the file, looked at */

/*
 * The source file whose checks are looked at, and the library code its checks pass:
 * BoringSSL's ssl_lib.cc (OPENSSL_PUT_ERROR(SSL, ...)), or aws-lc's aead.c
 * (OPENSSL_PUT_ERROR(CIPHER, ...)), which aws-lc-sys may build for size: functions packed
 * without alignment, immediates set by push and pop, checks sharing tails.
 */
struct nosym_family {
	const char *file; /* the end of its __FILE__ */
	const char *name; /* its last part, as messages say it */
	const char *library;
	int lib;
	bool packed; /* functions may follow one another unaligned: each begins with a frame */
};

/* One OPENSSL_PUT_ERROR(lib, reason) of the file: where the file is loaded (and its name),
 * the reason (edx) and line (r8d) set beside it, -1 when not an immediate. */
struct nosym_check {
	uint64_t at;
	const char *file; /* in the file's mapping */
	int reason, line;
};

/*
 * A function of the file, as decoding its code from its entry sees it. A check is the
 * file's name loaded into rcx and the family's library into edi within NOSYM_SITE_WINDOW
 * instructions of each other and of a direct call or jump (in packed code, parts of it may
 * be set in a tail the jump leads to, shared with other checks).
 */
struct nosym_checkfunc {
	uint64_t entry, end; /* [entry, end): end moves to where decoding stopped */
	struct nosym_check checks[NOSYM_MAX_CHECKS]; /* in address order */
	int nchecks;
	uint64_t report; /* the function its checks call; 0: none, UINT64_MAX: they disagree */
	uint64_t calls[NOSYM_MAX_CALLS]; /* its direct calls' targets, in address order */
	int ncalls;
	bool stores;  /* writes memory through a pointer (not the stack) */
	int ncallers; /* direct calls of its entry found (nosym_checkfuncs_find only) */
};

/*
 * The functions around the loads of the file's name into rcx (files[0, nfiles): the
 * addresses of its strings), each once, into the caller's fns[0, NOSYM_MAX_FUNCS). Their
 * bounds: the nearest call target before a load where a function can begin
 * (nosym_checkfuncs_can_begin), a function ending where the next begins; each decoded
 * (nosym_checkfuncs_decode) and kept when it meets its load as an instruction. The checks'
 * file names point into f's mapping. Returns how many functions, or -errno (-EINVAL with
 * why: too many checks or functions).
 */
int nosym_checkfuncs_find(const struct nosym_file *f, const uint64_t *files, int nfiles,
			  struct nosym_checkfunc *fns, const struct nosym_family *fam, char *why,
			  size_t whylen);

/*
 * The function [fn->entry, fn->end) decoded from its entry into *fn: its checks of the
 * family's file, its direct calls, whether it stores through a pointer. Decoding stops at
 * the first byte that is no instruction, and at int3 padding after a ret or jmp: the end of
 * a function as clang and lld lay them out (fn->end moves there); in packed code also at a
 * frame made after a ret or jmp, the next function's (one no direct call reaches is not
 * taken in). Each of must[0, nmust) has to be met as an instruction; false when one is not.
 * cs and insn are the caller's (nosym_open_decoder), which frees them.
 */
bool nosym_checkfuncs_decode(const struct nosym_file *f, csh cs, cs_insn *insn,
			     struct nosym_checkfunc *fn, const uint64_t *must, int nmust,
			     const struct nosym_family *fam);

/*
 * Whether a function can begin at t as compilers lay functions out: 16-byte aligned, after
 * the padding or the last instruction of the one before it (int3 padding, nop or a
 * multi-byte nop, ret); in packed code, after int3 or multi-byte nop padding or where it
 * makes its frame ([endbr64] push rbp, then mov rbp, rsp).
 */
bool nosym_checkfuncs_can_begin(const struct nosym_file *f, uint64_t t,
				const struct nosym_family *fam);

#endif
