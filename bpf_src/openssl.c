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
