/* SPDX-License-Identifier: Apache-2.0 */
/* nosym.h - functions of a stripped x86-64 executable found by what their code carries */
#ifndef TRACER_NOSYM_H
#define TRACER_NOSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nosymfile.h"

/* aws-lc's libssl (BoringSSL's, over aws-lc's AEAD: its records would show twice) names
 * this file (__FILE__) */
#define NOSYM_AWSLC_SSL_FILE "/aws-lc/ssl/ssl_lib.cc"

/*
 * Finds each of names[0, n) as OpenSSL 3 records it: every error site of function F
 * (ERR_raise) passes F's own name, __func__, to ERR_set_debug(file, line, func), so F is
 * the function whose code loads the string "F" into rdx, next to a source file name ("*.c")
 * into rdi, before a direct call. A name is taken only when (1) every reference to its
 * string in the code is such a site, (2) all lie in one function of .eh_frame, (3) whose
 * first byte is an entry (the frame a call makes: CFA = rsp + 8, nothing saved; a cold
 * part split off a function is not), (4) decoding it from that byte meets each site as an
 * instruction, and (5) every site of every name found calls the same function. Fills
 * out[i] for names[i]. When no name is found so and the file holds BoringSSL's libssl, the
 * same loads are searched as nosym_find_named does (out[i].how NOSYM_BY_CALLERS), and when
 * that finds nothing either, SSL_write and SSL_read are known by the reasons of their
 * error checks (NOSYM_BY_CHECKS, nosym_checks.c). aws-lc's EVP_AEAD_CTX_seal and
 * EVP_AEAD_CTX_open are looked for by their error checks alone, and only in a program that
 * carries rustls and aws-lc's aead.c but not aws-lc's libssl (rustls on aws-lc-rs: a
 * libssl on the same AEAD is traced by its SSL_write, and would show each record twice). Returns 1
 * when the code was searched, 0 when no name's string is in the file and no BoringSSL or rustls on
 * aws-lc either (nothing searched), or -errno when the code cannot be read.
 */
int nosym_find(struct nosym_file *f, const char *const *names, int n, struct nosym_found *out);

/*
 * Checks that function `name` is found at out->entry through out->site alone (a result
 * remembered from an earlier nosym_find on the same build, found as out->how says): facts
 * (2)-(4) of error sites, (1)-(2) of callers, or the first check where it was, for the
 * same reason. Fills the rest of *out. Returns
 * 0, or -EINVAL with why in out->why.
 */
int nosym_verify(struct nosym_file *f, const char *name, struct nosym_found *out);

/* Whether the file holds the name of aws-lc's aead.c (aws-lc's AEADs are linked in). */
bool nosym_has_awslc_aead(struct nosym_file *f);

#endif
