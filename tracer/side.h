/* SPDX-License-Identifier: Apache-2.0 */
/* side.h - a connection's two directions as the tables of flows, HTTP decoding and the
 * capture index them: the bytes the traced process sent, and those it received */
#ifndef TRACER_SIDE_H
#define TRACER_SIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "tls_event.h"

enum side {
	SIDE_SENT = 0,	   /* written by the traced process (TLS_DIR_WRITE): local to remote */
	SIDE_RECEIVED = 1, /* read by it (TLS_DIR_READ): remote to local */
};

/* The side of bytes the process sent (true) or received. */
static inline enum side side_of_sent(bool sent)
{
	return sent ? SIDE_SENT : SIDE_RECEIVED;
}

/* The side of an event's direction (enum tls_dir). */
static inline enum side side_of_dir(uint32_t dir)
{
	return side_of_sent(dir == TLS_DIR_WRITE);
}

static inline enum side side_other(enum side s)
{
	return s == SIDE_SENT ? SIDE_RECEIVED : SIDE_SENT;
}

#endif
