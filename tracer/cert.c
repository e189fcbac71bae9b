/* SPDX-License-Identifier: Apache-2.0 */
/* cert.c - what an X.509 certificate says, decoded from its DER by libcrypto */
#include "cert.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* What bio holds into buf, every byte outside printable ASCII as '?', cut with "..." when
 * longer; bio is freed. */
static void take(BIO *bio, char *buf, size_t size)
{
	char *data = NULL;
	long n = bio ? BIO_get_mem_data(bio, &data) : 0;
	size_t i, m = n > 0 ? (size_t)n : 0;

	if (m >= size) {
		m = size - 1;
		if (m >= 3)
			memcpy(data + m - 3, "...", 3);
	}
	for (i = 0; i < m; i++)
		buf[i] = data[i] >= 0x20 && data[i] < 0x7f ? data[i] : '?';
	buf[m] = '\0';
	BIO_free(bio);
}

static void name_of(const X509_NAME *name, char *buf, size_t size)
{
	BIO *bio = BIO_new(BIO_s_mem());

	/* RFC 2253 escapes control characters and bytes above 0x7f */
	if (bio)
		X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
	take(bio, buf, size);
}

/* The subject alternative names as openssl x509 -ext subjectAltName prints them. */
static void san_of(X509 *x, char *buf, size_t size)
{
	int at = X509_get_ext_by_NID(x, NID_subject_alt_name, -1);
	BIO *bio = at >= 0 ? BIO_new(BIO_s_mem()) : NULL;

	if (bio && !X509V3_EXT_print(bio, X509_get_ext(x, at), 0, 0))
		(void)BIO_reset(bio);
	take(bio, buf, size);
}

/* The serial number as openssl x509 -serial prints it: hex digits, upper case. */
static void serial_of(X509 *x, char *buf, size_t size)
{
	BIO *bio = BIO_new(BIO_s_mem());

	if (bio)
		i2a_ASN1_INTEGER(bio, X509_get0_serialNumber(x));
	take(bio, buf, size);
}

static void sha256_of(X509 *x, char *buf, size_t size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	size_t at = 0;

	buf[0] = '\0';
	if (!X509_digest(x, EVP_sha256(), md, &n))
		return;
	for (i = 0; i < n && at + 4 <= size; i++)
		at += (size_t)snprintf(buf + at, size - at, "%s%02X", i ? ":" : "", md[i]);
}

/* "RSA 2048", "EC 256 prime256v1", "ED25519 256" */
static void key_of(X509 *x, char *buf, size_t size)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	const char *type = pk ? EVP_PKEY_get0_type_name(pk) : NULL;
	char group[32] = "";
	size_t len = 0;

	if (!pk) {
		snprintf(buf, size, "?");
		return;
	}
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC &&
	    !EVP_PKEY_get_group_name(pk, group, sizeof(group), &len))
		group[0] = '\0';
	snprintf(buf, size, "%s %d%s%s", type ? type : "?", EVP_PKEY_get_bits(pk),
		 group[0] ? " " : "", group);
}

/* An ASN1_TIME as Unix time; 0 when unreadable. */
static int64_t unix_time(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

int cert_parse(const uint8_t *der, size_t len, struct cert_info *out)
{
	const unsigned char *p = der;
	X509 *x = len <= (size_t)0x7fffffff ? d2i_X509(NULL, &p, (long)len) : NULL;

	memset(out, 0, sizeof(*out));
	if (!x)
		return -EINVAL;
	name_of(X509_get_subject_name(x), out->subject, sizeof(out->subject));
	name_of(X509_get_issuer_name(x), out->issuer, sizeof(out->issuer));
	san_of(x, out->san, sizeof(out->san));
	serial_of(x, out->serial, sizeof(out->serial));
	sha256_of(x, out->sha256, sizeof(out->sha256));
	key_of(x, out->key, sizeof(out->key));
	out->not_before = unix_time(X509_get0_notBefore(x));
	out->not_after = unix_time(X509_get0_notAfter(x));
	X509_free(x);
	return 0;
}

int64_t cert_days_left(const struct cert_info *c, time_t now)
{
	int64_t left = c->not_after - (int64_t)now;

	/* whole days, rounded toward minus infinity: ended a second ago is -1 */
	return left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
}

void cert_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "?");
}
