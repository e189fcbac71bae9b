/* SPDX-License-Identifier: Apache-2.0 */
/* diag.h - the one way the program reports: failures as -errno, messages said once through diag */
#ifndef TRACER_DIAG_H
#define TRACER_DIAG_H

#include <stdarg.h>
#include <stdio.h>

/*
 * The error convention of the whole tree:
 *
 * - A function that can fail returns 0 or a negative errno; a failure a caller must tell apart
 *   has a typed code of its own (`-TRACER_BPF_EVERIFIER` in wrapper/tracer_bpf.h), never a
 *   message to match. Only the session level (session.c, check.c, selftest.c, options.c) turns
 *   these into exit codes (EXIT_OK, EXIT_RUNTIME, EXIT_USAGE in options.h).
 * - The message of a failure is said once, by the function that knows its subject, through
 *   diag(): what failed, the subject in quotes, why; lower case, no trailing period.
 * - Code that cannot name the subject itself - the wrapper over libbcc, and parsers whose
 *   caller knows the file and line - says nothing: it hands its message back in the caller's
 *   buffer (`char *err, size_t errlen`), and the caller says it through diag().
 * - Diagnostics go to stderr, data to stdout; tests point diag at a buffer with diag_to().
 */

/* Sends diagnostics to stream from now on (NULL: back to stderr). */
void diag_to(FILE *stream);
/* Where diagnostics go: for a block written in several calls (the closing summary). */
FILE *diag_stream(void);
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vdiag(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
