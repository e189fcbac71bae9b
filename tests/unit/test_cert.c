/* SPDX-License-Identifier: Apache-2.0 */
/* test_cert.c - a certificate made here with chosen fields, read back from its DER */
#include "cert.h"
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define NOT_BEFORE 1700000000 /* 2023-11-14T22:13:20Z */
#define NOT_AFTER 1800000000  /* 2027-01-15T08:00:00Z */

/* A certificate for api.test (EC P-256, serial 0x1234ABCD, two SANs, a control byte in its
 * O), issued by "Test CA", signed with its own key; its DER into *der (malloc'ed). */
static int make_cert(unsigned char **der, bool with_san)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *subject = X509_NAME_new(), *issuer = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int len = -1;

	if (!key || !x || !subject || !issuer)
		goto out;
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234ABCD);
	ASN1_TIME_set(X509_getm_notBefore(x), NOT_BEFORE);
	ASN1_TIME_set(X509_getm_notAfter(x), NOT_AFTER);
	X509_NAME_add_entry_by_txt(subject, "C", MBSTRING_ASC, (const unsigned char *)"DE", -1, -1,
				   0);
	X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC,
				   (const unsigned char *)"Tracer\x1b Test", -1, -1, 0);
	X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, (const unsigned char *)"api.test",
				   -1, -1, 0);
	X509_NAME_add_entry_by_txt(issuer, "CN", MBSTRING_ASC, (const unsigned char *)"Test CA", -1,
				   -1, 0);
	X509_set_subject_name(x, subject);
	X509_set_issuer_name(x, issuer);
	X509_set_pubkey(x, key);
	if (with_san) {
		X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
					  "DNS:api.test,DNS:*.api.test,IP:127.0.0.1");
		if (!ext)
			goto out;
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (X509_sign(x, key, EVP_sha256()) > 0) {
		*der = NULL;
		len = i2d_X509(x, der);
	}
out:
	X509_NAME_free(subject);
	X509_NAME_free(issuer);
	X509_free(x);
	EVP_PKEY_free(key);
	return len;
}

static void test_fields(void)
{
	unsigned char *der = NULL, md[32];
	char want[CERT_SHA256_LEN], t[32];
	struct cert_info c;
	unsigned int n = 0, i;
	size_t at = 0;
	int len = make_cert(&der, true);

	CHECK(len > 0);
	if (len <= 0)
		return;
	CHECK(cert_parse(der, (size_t)len, &c) == 0);
	CHECK_STR(c.subject, "CN=api.test,O=Tracer\\1B Test,C=DE");
	CHECK_STR(c.issuer, "CN=Test CA");
	CHECK_STR(c.san, "DNS:api.test, DNS:*.api.test, IP Address:127.0.0.1");
	CHECK_STR(c.serial, "1234ABCD");
	CHECK_STR(c.key, "EC 256 prime256v1");
	CHECK(c.not_before == NOT_BEFORE && c.not_after == NOT_AFTER);
	cert_time(c.not_after, t, sizeof(t));
	CHECK_STR(t, "2027-01-15T08:00:00Z");
	/* the fingerprint is the SHA-256 of the DER, as openssl x509 -fingerprint prints it */
	CHECK(EVP_Digest(der, (size_t)len, md, &n, EVP_sha256(), NULL) && n == 32);
	for (i = 0; i < n; i++)
		at += (size_t)snprintf(want + at, sizeof(want) - at, "%s%02X", i ? ":" : "", md[i]);
	CHECK_STR(c.sha256, want);
	/* days left: whole days, an ended certificate negative */
	CHECK(cert_days_left(&c, NOT_AFTER - 86400 * 10 - 5) == 10);
	CHECK(cert_days_left(&c, NOT_AFTER - 10) == 0);
	CHECK(cert_days_left(&c, NOT_AFTER + 1) == -1);
	CHECK(cert_days_left(&c, NOT_AFTER + 86400 * 3) == -3);
	/* cut anywhere: no certificate */
	CHECK(cert_parse(der, (size_t)len - 1, &c) == -EINVAL);
	CHECK(cert_parse(der, 10, &c) == -EINVAL);
	CHECK(cert_parse((const uint8_t *)"\x30\x03\x02\x01\x00", 5, &c) == -EINVAL);
	OPENSSL_free(der);

	/* no SANs: "" */
	der = NULL;
	len = make_cert(&der, false);
	CHECK(len > 0 && cert_parse(der, (size_t)len, &c) == 0);
	CHECK_STR(c.san, "");
	OPENSSL_free(der);
}

int main(void)
{
	test_fields();
	return check_done();
}
