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
	u64 id = bpf_get_current_pid_tgid(), der = 0, ret = 0;
	s64 len = (s64)PT_REGS_PARM3(ctx);
	struct tls_call *call = call_of(id);

	if (!call || len <= 0 ||
	    bpf_probe_read_user(&der, sizeof(der), (const void *)PT_REGS_PARM2(ctx)) ||
	    bpf_probe_read_user(&ret, sizeof(ret), (const void *)PT_REGS_SP(ctx)))
		return 0;
	return send_cert(ctx, call, id, der, (u64)len, ret);
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
