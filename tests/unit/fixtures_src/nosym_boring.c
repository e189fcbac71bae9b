/* SPDX-License-Identifier: Apache-2.0 */
/* nosym_boring.c - BoringSSL's error checks (OPENSSL_PUT_ERROR: library, reason, source file,
 * line) as ssl_lib.cc makes them in ssl_read_impl, SSL_read (SSL_peek inlined) and SSL_write,
 * in that order of lines, without BoringSSL, for test_nosym. Built -DLOOKALIKE, the same
 * checks where no finder may trust them: SSL_write's twice, in two functions, and a read that
 * does not call the ssl_read_impl there is. Built -DREAD_WHOLE, ssl_read_impl is inlined into
 * SSL_read. */
#include <stdlib.h>
#include <string.h>

#define SSL_LIB_CC "../../vendor/boringssl/ssl/ssl_lib.cc"
#define PUT_ERROR(reason) ERR_put_error(16, 0, (reason), SSL_LIB_CC, __LINE__)

struct ssl {
	void *quic_method;
	int (*do_handshake)(struct ssl *ssl);
	char *pending;
	size_t npending;
	int can_write;
};

__attribute__((noinline)) void ERR_put_error(int lib, int unused, int reason, const char *file,
					     unsigned line)
{
	__asm__ volatile("" ::"r"(lib), "r"(unused), "r"(reason), "r"(file), "r"(line));
}

#ifdef READ_WHOLE
#define READ_IMPL __attribute__((always_inline, unused)) static inline
#else
#define READ_IMPL __attribute__((noinline, unused)) static
#endif

READ_IMPL int ssl_read_impl(struct ssl *ssl)
{
	if (!ssl->do_handshake) {
		PUT_ERROR(226); /* SSL_R_UNINITIALIZED */
		return -1;
	}
	if (!ssl->npending && ssl->do_handshake(ssl) == 0) {
		PUT_ERROR(215); /* SSL_R_SSL_HANDSHAKE_FAILURE */
		return -1;
	}
	return (int)ssl->npending;
}

__attribute__((noinline)) int SSL_read(struct ssl *ssl, void *buf, int num)
{
	size_t todo;
	int ret;

	if (ssl->quic_method) {
		PUT_ERROR(66); /* ERR_R_SHOULD_NOT_HAVE_BEEN_CALLED */
		return -1;
	}
#ifndef LOOKALIKE
	ret = ssl_read_impl(ssl);
#else
	ret = (int)ssl->npending;
#endif
	if (ret <= 0 || num <= 0)
		return ret;
	todo = ssl->npending < (size_t)num ? ssl->npending : (size_t)num;
	memcpy(buf, ssl->pending, todo);
	ssl->pending += todo; /* consumed: SSL_read, not SSL_peek */
	ssl->npending -= todo;
	return (int)todo;
}

__attribute__((noinline)) int SSL_write(struct ssl *ssl, const void *buf, int num)
{
	if (ssl->quic_method) {
		PUT_ERROR(66);
		return -1;
	}
	if (!ssl->do_handshake) {
		PUT_ERROR(226);
		return -1;
	}
	if (!ssl->can_write && ssl->do_handshake(ssl) == 0) {
		PUT_ERROR(215);
		return -1;
	}
	if (num < 0) {
		PUT_ERROR(111); /* SSL_R_BAD_LENGTH */
		return -1;
	}
	memcpy(ssl->pending, buf, (size_t)num);
	return num;
}

#ifdef LOOKALIKE
/* aligned: padding before it, so it is a function of its own to a finder */
__attribute__((noinline, aligned(64))) int SSL_write_copy(struct ssl *ssl, const void *buf, int num)
{
	if (num == 12345)
		abort();
	if (ssl->quic_method) {
		PUT_ERROR(66);
		return -1;
	}
	if (!ssl->do_handshake) {
		PUT_ERROR(226);
		return -1;
	}
	if (!ssl->can_write && ssl->do_handshake(ssl) == 0) {
		PUT_ERROR(215);
		return -1;
	}
	if (num < 0) {
		PUT_ERROR(111); /* SSL_R_BAD_LENGTH */
		return -1;
	}
	memcpy(ssl->pending, buf, (size_t)num);
	return num;
}
#endif

static int handshake(struct ssl *ssl)
{
	return ssl->can_write = 1;
}

int main(int argc, char **argv)
{
	static char out[64], in[64] = "x";
	struct ssl ssl = {.do_handshake = handshake, .pending = out};
	int n = SSL_write(&ssl, argv[0], argc);

#ifdef LOOKALIKE
	n += SSL_write_copy(&ssl, argv[0], argc);
	n += ssl_read_impl(&ssl); /* it is there, but SSL_read does not call it */
#endif
	ssl.pending = in;
	ssl.npending = (size_t)argc;
	return n + SSL_read(&ssl, out, argc) > 0 ? 0 : 1;
}
