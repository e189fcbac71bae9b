/* SPDX-License-Identifier: Apache-2.0 */
/* gosite.h - the calls inside Go's crypto/tls.(*Conn).Write and Read where the plaintext
 * passes: one emulated uprobe per call instead of an entry probe and a single-stepped RET */
#ifndef TRACER_GOSITE_H
#define TRACER_GOSITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gosym.h"

#define GOSITE_MAX 8

/* A call instruction of the function where its plaintext passes, with what the BPF function
 * there needs to find the *tls.Conn. */
struct gosite {
	uint64_t addr;	    /* the call instruction */
	uint32_t conn_slot; /* the *tls.Conn at [rsp + conn_slot] as the call runs; 0: in RAX */
	char why[128];	    /* what proved it, for --list-probes */
};

/*
 * The call sites of Go function `func` at [entry, end) in g that see its plaintext, each
 * proven from the code (decoded whole; gosite.c says what is checked):
 * - crypto/tls.(*Conn).Write: every call of c.writeRecordLocked(recordTypeApplicationData,
 *   data): the *Conn in RAX, data's pointer and length in RCX and RDI;
 * - crypto/tls.(*Conn).Read: its one runtime.memmove, the copy out of c.input into b (the
 *   inlined bytes.(*Reader).Read): source and length in RBX and RCX, the *Conn in its
 *   argument's spill slot.
 * Returns how many (1..max), or -ENOENT for a function this file knows no sites of, or
 * -EINVAL with why in err when the code is not as recognised (the caller falls back to the
 * function's entry and returns), -ENOMEM.
 */
int gosite_find(const struct gosym_file *g, const char *func, uint64_t entry, uint64_t end,
		struct gosite *sites, int max, char *err, size_t errlen);

/* The functions the sites call, by entry address (0: not in the program). */
struct gosite_callees {
	uint64_t write_record; /* crypto/tls.(*Conn).writeRecordLocked */
	uint64_t memmove;      /* runtime.memmove */
	uint64_t reader_read;  /* bytes.(*Reader).Read */
};

/* gosite_find on the function's code itself (size bytes at address entry): Write's sites
 * when `write`, else Read's. Exposed for the unit test. */
int gosite_in_code(const uint8_t *code, size_t size, uint64_t entry, bool write,
		   const struct gosite_callees *callees, struct gosite *sites, int max, char *err,
		   size_t errlen);

#endif
