/* SPDX-License-Identifier: Apache-2.0 */
/* x509.h - names of OpenSSL's certificate verification results (X509_V_*) */
#ifndef TRACER_X509_H
#define TRACER_X509_H

/* "X509_V_OK", "X509_V_ERR_CERT_HAS_EXPIRED", ...; NULL for a value it does not know. */
const char *x509_error_name(long code);

#endif
