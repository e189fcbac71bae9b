/* SPDX-License-Identifier: Apache-2.0 */
/* nosym_named.h - BoringSSL's functions named by the functions that call them, and
 * the source files a program's strings name */
#ifndef TRACER_NOSYM_NAMED_H
#define TRACER_NOSYM_NAMED_H

#include "nosymfile.h"

#define NOSYM_BORING_FILE "ssl/ssl_lib.cc" /* BoringSSL's __FILE__ ends so, whatever the path */

/*
 * Finds each of names[0, n) as a program that calls BoringSSL names it: BoringSSL's error
 * sites pass a file and line only, but its callers often say what they called (WebRTC in
 * Chromium: `SSL_write` ... "SSL_write"). Function F is taken when (1) a direct call of
 * it comes within CALLER_WINDOW bytes before a load of the string "F", decoding from the
 * call meeting that load as an instruction; (2) it is a function of BoringSSL's libssl:
 * decoded from its first byte, before its first return, it makes an error check of
 * ssl_lib.cc (OPENSSL_PUT_ERROR(SSL, ...): ERR_LIB_SSL into edi, the file into rcx, a
 * direct call); (3) every such call before the name's loads is of F and no other function
 * of libssl; (4) all names found report through one function, each its own. A call target
 * is a function's entry. Looked for only when the file has BoringSSL's ssl_lib.cc name.
 * Returns as nosym_find; out[i].how is NOSYM_BY_CALLERS.
 */
int nosym_find_named(struct nosym_file *f, const char *const *names, int n,
		     struct nosym_found *out);

/* Whether the file holds the name of BoringSSL's ssl/ssl_lib.cc (its libssl is linked in). */
bool nosym_has_boringssl(struct nosym_file *f);

/* The addresses of the strings ending in suffix, a source file's path (their starts), up to
 * max. */
int nosym_source_files(const struct nosym_file *f, const char *suffix, uint64_t *out, int max);

/* nosym_find_named's search over the loads of the names' strings r already found (the scan
 * nosym_find made). Fills out; returns 1 or -errno. */
int nosym_named_from(struct nosym_file *f, const char *const *names, int n,
		     const struct nosym_refs *r, struct nosym_found *out);

/* nosym_verify of a result of nosym_find_named. */
int nosym_verify_named(struct nosym_file *f, const char *name, struct nosym_found *out);

#endif
