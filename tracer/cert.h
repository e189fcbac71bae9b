/* SPDX-License-Identifier: Apache-2.0 */
/* cert.h - what an X.509 certificate says (subject, issuer, names, serial, validity,
 * fingerprint, key), decoded from its DER by libcrypto */
#ifndef TRACER_CERT_H
#define TRACER_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CERT_NAME_LEN 512   /* a distinguished name, RFC 2253 */
#define CERT_SAN_LEN 512    /* "DNS:a.test, IP Address:127.0.0.1": as openssl x509 prints */
#define CERT_SERIAL_LEN 100 /* hex digits, openssl x509 -serial's */
#define CERT_SHA256_LEN 96  /* "AB:CD:..." */
#define CERT_KEY_LEN 48	    /* "RSA 2048", "EC 256 prime256v1", "ED25519 256" */
#define CERT_WARN_DAYS 30   /* a certificate ending within this many days is warned of */

struct cert_info {
	char subject[CERT_NAME_LEN]; /* RFC 2253, bytes outside printable ASCII escaped */
	char issuer[CERT_NAME_LEN];
	char san[CERT_SAN_LEN]; /* "" when none (cut with "..." when longer) */
	char serial[CERT_SERIAL_LEN];
	char sha256[CERT_SHA256_LEN];
	char key[CERT_KEY_LEN];
	int64_t not_before, not_after; /* Unix time */
};

/* Decodes one certificate's DER. 0, or -EINVAL when it is no certificate. */
int cert_parse(const uint8_t *der, size_t len, struct cert_info *out);

/* Whole days from now until c ends: negative once it has ended. */
int64_t cert_days_left(const struct cert_info *c, time_t now);

/* t as "2027-01-31T12:00:00Z" into buf (at least 21 bytes). */
void cert_time(int64_t t, char *buf, size_t size);

#endif
