/* SPDX-License-Identifier: Apache-2.0 */
/* handshake.h - hellos and the peer's certificates, put on their connections and told */
#ifndef TRACER_HANDSHAKE_H
#define TRACER_HANDSHAKE_H

#include <stdint.h>

#include "events_state.h"

/* A hello's turn (ev, data: its bytes): put on its connection and told, or, sent before the
 * connection was known, kept for it (e->hellos; at most EVENTS_WAITING_HELLOS). */
void handshake_hello(struct events *e, const struct tls_event *ev, const uint8_t *data);

/* Tells the waiting hellos that connection c takes, or, with c NULL, those of process pid
 * (it exited) without a connection. */
void handshake_settle(struct events *e, struct conn *c, uint32_t pid);

/* Every hello still waiting, told without its connection (tracing ends). */
void handshake_give_up(struct events *e);

/* A certificate's DER (data) that a TLS call's thread handed an X.509 parser: told once per
 * connection when it is the peer's (more at the definition). */
void handshake_cert(struct events *e, const struct tls_event *ev, const uint8_t *data);

/* Frees the hellos still waiting. */
void handshake_free(struct events *e);

#endif
