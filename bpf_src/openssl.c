/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* openssl.c - OpenSSL (and BoringSSL) SSL_read/SSL_write probes */
/* compiled after 00_capture.c: stash_call, finish_call_* */

/* -------------------------------------------------------------- probes */

/* int SSL_write(SSL *ssl, const void *buf, int num) */
int probe_entry_SSL_write(struct pt_regs *ctx)
{
	return stash_call(ctx, (const void *)PT_REGS_PARM2(ctx), 0, TLS_DIR_WRITE);
}

/* int SSL_read(SSL *ssl, void *buf, int num) */
int probe_entry_SSL_read(struct pt_regs *ctx)
{
	return stash_call(ctx, (const void *)PT_REGS_PARM2(ctx), 0, TLS_DIR_READ);
}

/* int SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *written); the same serves
 * OpenSSL 3.0's internal ssl_write_internal (and ssl_read_internal below), which takes the
 * same arguments: the tracer checks that SSL_write and SSL_write_ex pass them on. */
int probe_entry_SSL_write_ex(struct pt_regs *ctx)
{
	return stash_call(ctx, (const void *)PT_REGS_PARM2(ctx), (const void *)PT_REGS_PARM4(ctx),
			  TLS_DIR_WRITE);
}

/* int SSL_read_ex(SSL *ssl, void *buf, size_t num, size_t *readbytes) */
int probe_entry_SSL_read_ex(struct pt_regs *ctx)
{
	return stash_call(ctx, (const void *)PT_REGS_PARM2(ctx), (const void *)PT_REGS_PARM4(ctx),
			  TLS_DIR_READ);
}

/* return of SSL_read / SSL_write */
int probe_return(struct pt_regs *ctx)
{
	return finish_call_count(ctx, false, false);
}

/* return of SSL_read_ex / SSL_write_ex */
int probe_return_ex(struct pt_regs *ctx)
{
	return finish_call_ex(ctx);
}

/* ------------------------------------------------- handshakes, verification, sockets */

/* int SSL_do_handshake(SSL *s), int SSL_connect(SSL *s), int SSL_accept(SSL *s) */
int probe_entry_handshake(struct pt_regs *ctx)
{
	return stash_session_call(ctx, TLS_KIND_HANDSHAKE);
}

/* 1: done. Below 1 after a socket syscall that would block: SSL_ERROR_WANT_READ/WRITE, the
 * program calls again once the socket is ready. Else it failed. */
int probe_return_handshake(struct pt_regs *ctx)
{
	int ret = (int)PT_REGS_RC(ctx);

	return finish_handshake(ctx, ret, ret == 1, false, true);
}

/* long SSL_get_verify_result(const SSL *ssl) */
int probe_entry_verify_result(struct pt_regs *ctx)
{
	return stash_session_call(ctx, TLS_KIND_VERIFY);
}

int probe_return_verify_result(struct pt_regs *ctx)
{
	return finish_session_call(ctx, TLS_KIND_VERIFY);
}

/* X509 *d2i_X509(X509 **a, const unsigned char **in, long len) in libcrypto: inside a TLS
 * call, libssl hands it each certificate of the peer's Certificate message (TLS 1.3 sends
 * it encrypted; this is after decryption), libcrypto those it looks up on disk */
int probe_entry_d2i_x509(struct pt_regs *ctx)
{
	s64 len = (s64)PT_REGS_PARM3(ctx);
	u64 der = 0;

	if (len <= 0 || bpf_probe_read_user(&der, sizeof(der), (const void *)PT_REGS_PARM2(ctx)))
		return 0;
	return send_cert(ctx, der, (u64)len);
}

/* int X509_verify_cert(X509_STORE_CTX *ctx): inside a TLS call, the check of the peer's
 * chain (parsed before it), in which what is parsed is not the peer's (send_cert) */
int probe_entry_x509_verify(struct pt_regs *ctx)
{
	struct tls_call *call = call_of(bpf_get_current_pid_tgid());

	if (call)
		call->verifying++;
	return 0;
}

int probe_return_x509_verify(struct pt_regs *ctx)
{
	struct tls_call *call = call_of(bpf_get_current_pid_tgid());

	if (call && call->verifying)
		call->verifying--;
	return 0;
}

/* Byte i (< 16) of the 16 bytes lo, hi (little-endian): a byte at a computed place without
 * the stack pointer arithmetic the verifier refuses */
static __always_inline u32 der_byte(u64 lo, u64 hi, u32 i)
{
	return (u32)((i < 8 ? lo >> (8 * (i & 7)) : hi >> (8 * (i & 7))) & 0xff);
}

/* Where the DER element whose length octets begin at byte `at` of lo, hi has its contents:
 * at + 1 + the length octets (short form, or 1 to 3 bytes long form); 0: no such length. */
static __always_inline u32 der_contents(u64 lo, u64 hi, u32 at)
{
	u32 l = der_byte(lo, hi, at);

	if (l < 0x80)
		return at + 1;
	if (l == 0x80 || l > 0x83)
		return 0;
	return at + 1 + (l & 0x7f);
}

/* Whether the len bytes at der begin as a certificate does: SEQUENCE { SEQUENCE
 * (tbsCertificate) { [0] (its version) or INTEGER (a v1 serial) ... (an OCSP response,
 * a list of CA names, a session or SCTs do not) */
static __always_inline bool cert_shaped(u64 der, u64 len)
{
	u64 lo = 0, hi = 0;
	u32 at, tag;

	if (len < 16 || bpf_probe_read_user(&lo, sizeof(lo), (const void *)der) ||
	    bpf_probe_read_user(&hi, sizeof(hi), (const void *)(der + 8)) ||
	    der_byte(lo, hi, 0) != 0x30 || !(at = der_contents(lo, hi, 1)) ||
	    der_byte(lo, hi, at) != 0x30 || !(at = der_contents(lo, hi, at + 1)))
		return false;
	tag = der_byte(lo, hi, at);
	return tag == 0xa0 || tag == 0x02;
}

/* CRYPTO_BUFFER *CRYPTO_BUFFER_new_from_CBS(const CBS *cbs, CRYPTO_BUFFER_POOL *pool) in
 * BoringSSL's libcrypto, CBS being { const uint8_t *data; size_t len; }: inside a TLS call,
 * libssl hands it each certificate of the peer's Certificate message, and other DER it keeps
 * (OCSP responses, SCT lists, CA names), left out by their shape. */
int probe_entry_boring_cert(struct pt_regs *ctx)
{
	struct {
		u64 data;
		u64 len;
	} cbs = {};

	if (bpf_probe_read_user(&cbs, sizeof(cbs), (const void *)PT_REGS_PARM1(ctx)) ||
	    !cert_shaped(cbs.data, cbs.len))
		return 0;
	return send_cert(ctx, cbs.data, cbs.len);
}

#define SSL_VERIFY_PEER 0x01

/* void SSL_CTX_set_verify(SSL_CTX *ctx, int mode, SSL_verify_cb cb): for the connections
 * made with ctx from now on, none of them known yet */
int probe_entry_ctx_set_verify(struct pt_regs *ctx)
{
	int mode = (int)PT_REGS_PARM2(ctx);

	if (mode & SSL_VERIFY_PEER)
		return 0;
	return report_verify_off(ctx, 0, mode);
}

/* void SSL_set_verify(SSL *s, int mode, SSL_verify_cb cb): for session s */
int probe_entry_set_verify(struct pt_regs *ctx)
{
	int mode = (int)PT_REGS_PARM2(ctx);

	if (mode & SSL_VERIFY_PEER)
		return 0;
	return report_verify_off(ctx, PT_REGS_PARM1(ctx), mode);
}

/* int SSL_set_fd(SSL *s, int fd), SSL_set_rfd, SSL_set_wfd */
int probe_entry_set_fd(struct pt_regs *ctx)
{
	return learn_fd(ctx, PT_REGS_PARM1(ctx), (s64)(int)PT_REGS_PARM2(ctx));
}
