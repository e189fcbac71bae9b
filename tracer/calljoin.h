/* SPDX-License-Identifier: Apache-2.0 */
/* calljoin.h - a call's chunks put together, for the outputs that show whole calls */
#ifndef TRACER_CALLJOIN_H
#define TRACER_CALLJOIN_H

#include <stdint.h>

#include "tls_event.h"

/* Where a whole call goes: hdr its first chunk's header, data its len bytes (gaps closed
 * up); truncated: bytes beyond the capture limit; lost: bytes that never arrived. */
typedef void (*calljoin_fn)(void *ctx, const struct tls_event *hdr, const unsigned char *data,
			    uint32_t len, uint32_t truncated, uint32_t lost);

/* A call whose chunks are still arriving. */
struct pending_call {
	int cpu;	       /* a call's chunks are consecutive in one CPU's buffer */
	struct tls_event *hdr; /* the first chunk's header; data[] unused */
	unsigned char *data;
	uint32_t len;	      /* bytes put together so far (gaps closed up) */
	uint32_t next_offset; /* where the next chunk should start */
};

struct calljoin {
	calljoin_fn done; /* set by the owner */
	void *ctx;
	struct pending_call *v;
	int n;
	/* out of memory: chunks (and their bytes) not put into their call, so missing from
	 * what done was given (the summary says so) */
	uint64_t unjoined, unjoined_bytes;
};

/* A chunk of CPU cpu, in order: the call is given to done once its last chunk came (or
 * another call's chunk came on that CPU: its last ones were lost). Out of memory: said, and
 * its bytes are given as lost. */
void calljoin_add(struct calljoin *j, int cpu, const struct tls_event *ev,
		  const unsigned char *data);

/* Gives each call still missing its last chunks (the rest counted lost). */
void calljoin_flush(struct calljoin *j);

/* Frees the calls still pending, without giving them. */
void calljoin_free(struct calljoin *j);

#endif
