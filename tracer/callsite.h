/* SPDX-License-Identifier: Apache-2.0 */
/* callsite.h - find a library-internal function through the exported functions calling it */
#ifndef TRACER_CALLSITE_H
#define TRACER_CALLSITE_H

#include <stdbool.h>
#include <stddef.h>
#include <capstone/capstone.h>
#include <stdint.h>

/* Bytes of each caller decoded, from its entry: the call must come early. */
#define CALLSITE_SCAN_BYTES 256

/* Callers given to callsite_common_target, at most. */
#define CALLSITE_MAX_CALLERS 8

/* A caller of an internal function: given its entry, told how it reaches the function. */
struct callsite_caller {
	uint64_t offset;   /* in: file offset of the caller's entry */
	int64_t ret_delta; /* out: its call's return address minus the internal function's */
	bool by_call;	   /* out: it calls (false: it jumps there, a tail call) */
	bool args_kept;	   /* out: at the call rdi and rsi (object, buffer) are the caller's
			    * own, and rcx too or a pointer into the caller's stack */
};

/*
 * The one function that every caller (by file offset in the x86-64 ELF file `path`) calls
 * or jumps to directly within its first CALLSITE_SCAN_BYTES, PLT stubs left out, and how
 * each caller reaches it. OpenSSL 3's SSL_write and SSL_write_ex both call the internal
 * ssl_write_internal, which is also what an SSL BIO calls. Writes its file offset to *out.
 * Returns 0; -ENOENT when no single such function exists; -EINVAL for 0 or more than
 * CALLSITE_MAX_CALLERS callers; -errno when the file cannot be read; -ENOTSUP for another
 * architecture.
 */
int callsite_common_target(const char *path, struct callsite_caller *callers, int ncallers,
			   uint64_t *out);

/*
 * How each caller (by file offset, as for callsite_common_target) reaches the function at
 * file offset `target`, found otherwise: it must call or jump there directly within its
 * first CALLSITE_SCAN_BYTES. Returns 0; -ENOENT when a caller does not; -errno as above.
 */
int callsite_reaches(const char *path, struct callsite_caller *callers, int ncallers,
		     uint64_t target);

/*
 * The instruction at file offset `offset` of `path`, as text ("push r15"), and whether the
 * kernel emulates it under a uprobe (branches, nop, push of a register) rather than
 * single-stepping it. Returns 0 or -errno.
 */
int callsite_first_insn(const char *path, uint64_t offset, char *text, size_t size, bool *emulated);

/* What the kernel does with an x86 instruction it puts a uprobe on: branches (jmp, call,
 * jcc with an immediate target), nop and push of a register it emulates (true); anything
 * else it copies out of line and single-steps, which costs several times as much. insn must
 * have been decoded with details. */
bool callsite_kernel_emulates(csh cs, const cs_insn *insn);

#endif
