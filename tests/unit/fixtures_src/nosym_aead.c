/* SPDX-License-Identifier: Apache-2.0 */
/* nosym_aead.c - aws-lc's EVP_AEAD_CTX_seal, EVP_AEAD_CTX_seal_scatter and EVP_AEAD_CTX_open
 * with the error checks of their own code (OPENSSL_PUT_ERROR(CIPHER, reason): library 30, the
 * reason, aead.c, the line) in aead.c's order, and a rustls crate's source path, without
 * aws-lc or rustls: its "AEAD" is a byte-wise xor and a tag of 16 zero bytes, for test_nosym
 * and test_runtimes. `run GO` waits for the file GO, then seals and opens TLS records and
 * calls that only look like them (see main): what a tracer must take, and what it must not.
 * Built -DLOOKALIKE, seal's checks are made twice, in two functions: no finder may trust
 * them. Built -DNO_RUSTLS, the program carries no rustls: nothing is looked for. Built
 * -DINDIRECT, seal is called only through a pointer: no direct call marks its entry, and
 * the function before it (cleanup, called directly) must not be taken for it. Built -DCLANG,
 * the shape of aws-lc that clang builds and Rust calls (codex): open has open_gather's
 * checks inlined after its own, and every call goes through the global offset table. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define AEAD_C "/aws-lc/crypto/fipsmodule/cipher/aead.c"
#define PUT_ERROR(reason) ERR_put_error(30, 0, (reason), AEAD_C, __LINE__)
#define TAG 16

/* what a panic's location names in a Rust program built with rustls 0.23 (cargo's layout) */
#ifndef NO_RUSTLS
const char *volatile crate_path =
	"/home/u/.cargo/registry/src/index.crates.io-0/rustls-0.23.40/src/conn.rs";
#else
const char *volatile crate_path = "/home/u/src/conn.rs";
#endif

struct aead {
	size_t overhead;
	int has_scatter;
};

struct aead_ctx {
	const struct aead *aead;
	unsigned char key;
};

#ifdef CLANG
__attribute__((visibility("hidden"))) /* aws-lc calls its own error function directly */
#endif
__attribute__((noinline)) void ERR_put_error(int lib, int unused, int reason, const char *file,
					     unsigned line)
{
	__asm__ volatile("" ::"r"(lib), "r"(unused), "r"(reason), "r"(file), "r"(line));
}

/* The "AEAD" reads its nonce and additional data as a real one does (so no compiler drops
 * the caller's stores to them). */
static void uses(const uint8_t *p, size_t n)
{
	__asm__ volatile("" ::"r"(p), "r"(n) : "memory");
}

static int check_alias(const uint8_t *in, size_t in_len, const uint8_t *out, size_t out_len)
{
	return in == out || out >= in + in_len || in >= out + out_len;
}

static void xor
	(const struct aead_ctx *ctx, uint8_t *out, const uint8_t *in, size_t len) {
		size_t i;

		for (i = 0; i < len; i++)
			out[i] = in[i] ^ ctx->key;
	}

	/* before seal, as in aead.c: a function with a frame and no checks */
	__attribute__((noinline)) void EVP_AEAD_CTX_cleanup(struct aead_ctx *ctx)
{
	uses((const uint8_t *)ctx, sizeof(*ctx));
	ctx->key = 0;
}

__attribute__((noinline)) int EVP_AEAD_CTX_seal(const struct aead_ctx *ctx, uint8_t *out,
						size_t *out_len, size_t max_out_len,
						const uint8_t *nonce, size_t nonce_len,
						const uint8_t *in, size_t in_len, const uint8_t *ad,
						size_t ad_len)
{
	uses(nonce, nonce_len);
	uses(ad, ad_len);
	if (in_len + ctx->aead->overhead < in_len) {
		PUT_ERROR(117); /* CIPHER_R_TOO_LARGE */
		goto error;
	}
	if (max_out_len < in_len + TAG) {
		PUT_ERROR(103); /* CIPHER_R_BUFFER_TOO_SMALL */
		goto error;
	}
	if (!check_alias(in, in_len, out, max_out_len)) {
		PUT_ERROR(115); /* CIPHER_R_OUTPUT_ALIASES_INPUT */
		goto error;
	}
	xor(ctx, out, in, in_len);
	memset(out + in_len, 0, TAG);
	*out_len = in_len + TAG;
	return 1;
error:
	memset(out, 0, max_out_len);
	*out_len = 0;
	return 0;
}

#ifdef LOOKALIKE
__attribute__((noinline, aligned(64))) int seal_copy(const struct aead_ctx *ctx, uint8_t *out,
						     size_t *out_len, size_t max_out_len,
						     const uint8_t *in, size_t in_len)
{
	if (in_len + ctx->aead->overhead < in_len) {
		PUT_ERROR(117);
		goto error;
	}
	if (max_out_len < in_len + TAG) {
		PUT_ERROR(103);
		goto error;
	}
	if (!check_alias(in, in_len, out, max_out_len)) {
		PUT_ERROR(115);
		goto error;
	}
	xor(ctx, out, in, in_len);
	*out_len = in_len;
	return 1;
error:
	*out_len = 0;
	return 0;
}
#endif

__attribute__((noinline)) int
EVP_AEAD_CTX_seal_scatter(const struct aead_ctx *ctx, uint8_t *out, uint8_t *out_tag,
			  size_t *out_tag_len, size_t max_out_tag_len, const uint8_t *nonce,
			  size_t nonce_len, const uint8_t *in, size_t in_len,
			  const uint8_t *extra_in, size_t extra_in_len, const uint8_t *ad,
			  size_t ad_len)
{
	uses(nonce, nonce_len);
	uses(extra_in, extra_in_len);
	uses(ad, ad_len);
	if (!check_alias(in, in_len, out, in_len)) {
		PUT_ERROR(115); /* CIPHER_R_OUTPUT_ALIASES_INPUT */
		goto error;
	}
	if (extra_in_len && !ctx->aead->has_scatter) {
		PUT_ERROR(112); /* CIPHER_R_INVALID_OPERATION */
		goto error;
	}
	xor(ctx, out, in, in_len);
	memset(out_tag, 0, max_out_tag_len < TAG ? max_out_tag_len : TAG);
	*out_tag_len = TAG;
	return 1;
error:
	*out_tag_len = 0;
	return 0;
}

__attribute__((noinline)) int EVP_AEAD_CTX_open(const struct aead_ctx *ctx, uint8_t *out,
						size_t *out_len, size_t max_out_len,
						const uint8_t *nonce, size_t nonce_len,
						const uint8_t *in, size_t in_len, const uint8_t *ad,
						size_t ad_len)
{
	size_t i;

	uses(nonce, nonce_len);
	uses(ad, ad_len);
	if (!check_alias(in, in_len, out, max_out_len)) {
		PUT_ERROR(115); /* CIPHER_R_OUTPUT_ALIASES_INPUT */
		goto error;
	}
	if (in_len < TAG) {
		PUT_ERROR(101); /* CIPHER_R_BAD_DECRYPT */
		goto error;
	}
	if (max_out_len < in_len - TAG) {
		PUT_ERROR(103); /* CIPHER_R_BUFFER_TOO_SMALL */
		goto error;
	}
#ifdef CLANG
	/* EVP_AEAD_CTX_open_gather, inlined (its alias check made on the additional data here,
	 * so that no compiler finds it implied by the one above) */
	if (!check_alias(ad, ad_len, out, max_out_len)) {
		PUT_ERROR(115); /* CIPHER_R_OUTPUT_ALIASES_INPUT */
		goto error;
	}
	if (!ctx->aead->overhead) {
		PUT_ERROR(104); /* CIPHER_R_CTRL_NOT_IMPLEMENTED */
		goto error;
	}
#endif
	for (i = in_len - TAG; i < in_len; i++)
		if (in[i]) /* the tag does not match */
			goto error;
	xor(ctx, out, in, in_len - TAG);
	*out_len = in_len - TAG;
	return 1;
error:
	*out_len = 0;
	return 0;
}

#ifdef INDIRECT
int (*volatile seal_ptr)(const struct aead_ctx *, uint8_t *, size_t *, size_t, const uint8_t *,
			 size_t, const uint8_t *, size_t, const uint8_t *,
			 size_t) = EVP_AEAD_CTX_seal;
#define SEAL (*seal_ptr)
#else
#define SEAL EVP_AEAD_CTX_seal
#endif

/* A TLS 1.3 record's header for `sealed` bytes, or TLS 1.2's additional data for `len`. */
static void tls13_ad(uint8_t *ad, size_t sealed)
{
	const uint8_t h[5] = {23, 3, 3, (uint8_t)(sealed >> 8), (uint8_t)sealed};

	memcpy(ad, h, sizeof(h));
}

static void tls12_ad(uint8_t *ad, uint8_t type, size_t len)
{
	const uint8_t h[13] = {0,	    0, 0, 0, 0, 0, 0, 1, type, 3, 3, (uint8_t)(len >> 8),
			       (uint8_t)len};

	memcpy(ad, h, sizeof(h));
}

/* Seals the text with its TLS 1.3 inner type and `pad` zero bytes, header claiming
 * `claim` more bytes than the record has (0: a true header); opened when `open`. */
static int tls13(const struct aead_ctx *ctx, const char *text, uint8_t type, size_t pad,
		 size_t claim, int open)
{
	uint8_t rec[256] = {0}, ad[5], nonce[12] = {0};
	size_t len = strlen(text), out_len = 0;

	memcpy(rec, text, len);
	rec[len] = type;
	tls13_ad(ad, len + 1 + pad + TAG + claim);
	if (!open)
		return SEAL(ctx, rec, &out_len, sizeof(rec), nonce, sizeof(nonce), rec,
			    len + 1 + pad, ad, sizeof(ad));
	xor(ctx, rec, rec, len + 1 + pad); /* what the peer sealed */
	return EVP_AEAD_CTX_open(ctx, rec, &out_len, sizeof(rec), nonce, sizeof(nonce), rec,
				 len + 1 + pad + TAG, ad, sizeof(ad));
}

int main(int argc, char **argv)
{
	static const struct aead aead = {TAG, 0};
	struct aead_ctx tx = {&aead, 0x5a}, rx = {&aead, 0x5a};
	uint8_t buf[256] = {0}, tag[TAG], ad[13], nonce[12] = {0}, odd[12] = {1, 2, 3};
	size_t len, n = 0;
	int ok = 1;

	if (argc < 2 || (strcmp(argv[1], "run") != 0 && strcmp(argv[1], "wait") != 0) ||
	    (strcmp(argv[1], "run") == 0 && argc != 3)) {
		fprintf(stderr, "usage: %s wait | run GO (%s)\n", argv[0], crate_path);
		return 2;
	}
	if (strcmp(argv[1], "wait") == 0) {
		pause();
		return 0;
	}
	while (access(argv[2], F_OK) != 0)
		usleep(10000);
#ifdef LOOKALIKE
	ok &= seal_copy(&tx, buf, &n, sizeof(buf), (const uint8_t *)"x", 1);
#endif
	/* taken: application data, TLS 1.3 (sealed; opened, its padding taken off) */
	ok &= tls13(&tx, "fixture request 1.3", 23, 0, 0, 0);
	ok &= tls13(&rx, "fixture response 1.3", 23, 3, 0, 1);
	/* counted, not read: more padding than the tracer looks through (its type unseen) */
	ok &= tls13(&rx, "padded past sight", 23, 20, 0, 1);
	/* not taken: a handshake record; a header whose length is not the record's; additional
	 * data of no TLS record; an open that fails (the tag does not match) */
	ok &= tls13(&tx, "a handshake message", 22, 0, 0, 0);
	ok &= tls13(&tx, "not a record of this length", 23, 0, 100, 0);
	ok &= SEAL(&tx, buf, &n, sizeof(buf), nonce, sizeof(nonce),
		   (const uint8_t *)"no tls here\x17", 12, odd, sizeof(odd));
	memcpy(buf, "a forged record\x17", 16);
	tls13_ad(ad, 16 + TAG);
	buf[16] = 1; /* its tag */
	ok &= !EVP_AEAD_CTX_open(&rx, buf, &n, sizeof(buf), nonce, sizeof(nonce), buf, 16 + TAG, ad,
				 5);
	/* taken: application data, TLS 1.2 (sealed by seal_scatter; opened) */
	len = strlen("fixture request 1.2");
	memcpy(buf, "fixture request 1.2", len);
	tls12_ad(ad, 23, len);
	ok &= EVP_AEAD_CTX_seal_scatter(&tx, buf, tag, &n, sizeof(tag), nonce, sizeof(nonce), buf,
					len, NULL, 0, ad, sizeof(ad));
	len = strlen("fixture response 1.2");
	xor(&rx, buf, (const uint8_t *)"fixture response 1.2", len);
	memset(buf + len, 0, TAG);
	tls12_ad(ad, 23, len);
	ok &= EVP_AEAD_CTX_open(&rx, buf, &n, sizeof(buf), nonce, sizeof(nonce), buf, len + TAG, ad,
				sizeof(ad));
	/* not taken: TLS 1.2's alert */
	tls12_ad(ad, 21, 2);
	ok &= EVP_AEAD_CTX_seal_scatter(&tx, buf, tag, &n, sizeof(tag), nonce, sizeof(nonce),
					(const uint8_t *)"\x01\x00", 2, NULL, 0, ad, sizeof(ad));
	EVP_AEAD_CTX_cleanup(&tx);
	EVP_AEAD_CTX_cleanup(&rx);
	return ok ? 0 : 1;
}
