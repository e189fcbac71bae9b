/* SPDX-License-Identifier: Apache-2.0 */
/* nosym_checks.h - BoringSSL's SSL_write and SSL_read, and aws-lc's AEADs, told by the
 * reasons of their error checks */
#ifndef TRACER_NOSYM_CHECKS_H
#define TRACER_NOSYM_CHECKS_H

#include "nosymfile.h"

/* aws-lc's __FILE__ of its AEAD interface ends so (aws-lc-sys builds it from "/aws-lc/") */
#define NOSYM_AWSLC_AEAD_FILE "/aws-lc/crypto/fipsmodule/cipher/aead.c"

/* The library whose error checks tell function `name` (NOSYM_BY_CHECKS): "BoringSSL" or
 * "aws-lc". */
const char *nosym_checks_library(const char *name);

/* nosym_find for BoringSSL's SSL_write and SSL_read by the checks their code makes (the
 * other names stay -ENOENT): see nosym_checks.c. Returns 1 or -errno. */
int nosym_find_checks(struct nosym_file *f, const char *const *names, int n,
		      struct nosym_found *out);

/* nosym_find for aws-lc's EVP_AEAD_CTX_seal and EVP_AEAD_CTX_open by the checks their code
 * makes (fills only those names' out[i]): see nosym_checks.c. Returns 1 or -errno. */
int nosym_find_aead(struct nosym_file *f, const char *const *names, int n, struct nosym_found *out);

/* nosym_verify of a result of nosym_find_checks or nosym_find_aead. */
int nosym_verify_checks(struct nosym_file *f, const char *name, struct nosym_found *out);

#endif
