/* SPDX-License-Identifier: Apache-2.0 */
/* selftest.h - tracer --selftest: trace our own TLS client and server, check every byte */
#ifndef TRACER_SELFTEST_H
#define TRACER_SELFTEST_H

#include <signal.h>

#include "options.h"

/*
 * Starts a child process whose TLS client and server (the system's OpenSSL, over
 * 127.0.0.1) push known patterns of 1 byte to 4 MiB through SSL_write/SSL_write_ex and
 * SSL_read/SSL_read_ex, traces it with the normal session, and checks the sha256 of every
 * transfer in both directions. Prints a table to stdout. Returns EXIT_OK only when every
 * byte was captured, in order, with nothing lost; EXIT_RUNTIME otherwise (or the session's
 * status when tracing could not start).
 */
int selftest_run(struct env *env, volatile sig_atomic_t *stop);

#endif
