/* SPDX-License-Identifier: Apache-2.0 */
/* audit.h - a syslog line (LOG_AUTHPRIV) when tracing starts and stops: who, what, where to */
#ifndef TRACER_AUDIT_H
#define TRACER_AUDIT_H
#include <stddef.h>

#include "options.h"

/* Where the plaintext goes: stdout (the file, pipe or terminal it is) and -w's file. */
void audit_outputs(const struct env *env, char *buf, size_t size);

/* "tracing started by uid U (login uid L): TARGETS; outputs: OUTPUTS" */
void audit_start(const char *targets, const char *outputs);

/* "tracing stopped by uid U: TARGETS; HOW" */
void audit_stop(const char *targets, const char *how);
#endif
