/* SPDX-License-Identifier: Apache-2.0 */
/* nosym_rustls.h - rustls 0.20's encrypters and decrypters on ring, found by the literals
 * and vtables that lead to them */
#ifndef TRACER_NOSYM_RUSTLS_H
#define TRACER_NOSYM_RUSTLS_H

#include "nosymfile.h"

/* Whether name is one of the functions nosym_rustls.c finds ("rustls_tls13_encrypt", ...). */
bool nosym_is_rustls_name(const char *name);

/* nosym_find for rustls 0.20's encrypters and decrypters on ring (the names
 * nosym_is_rustls_name takes; fills only theirs): see nosym_rustls.c. The search is made
 * once per file. Returns 1 when the code was searched, 0 when the file carries no rustls
 * 0.20 on ring, or -errno. */
int nosym_find_rustls(struct nosym_file *f, const char *const *names, int n,
		      struct nosym_found *out);

/* nosym_verify of a result of nosym_find_rustls: its own facts checked anew (its entry a
 * function and a vtable's method, its literal's first piece or its vtable's load at the
 * cached site), not the search whole. */
int nosym_verify_rustls(struct nosym_file *f, const char *name, struct nosym_found *out);

#endif
