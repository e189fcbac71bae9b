/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* mbedtls.c - mbedTLS mbedtls_ssl_write/mbedtls_ssl_read probes */
/* compiled after 00_capture.c: stash_call, finish_call_* */

/* int mbedtls_ssl_write(mbedtls_ssl_context *ssl, const unsigned char *buf, size_t len) */
int probe_entry_mbedtls_ssl_write(struct pt_regs *ctx)
{
	return stash_call(ctx, (const void *)PT_REGS_PARM2(ctx), 0, TLS_DIR_WRITE);
}

/* int mbedtls_ssl_read(mbedtls_ssl_context *ssl, unsigned char *buf, size_t len) */
int probe_entry_mbedtls_ssl_read(struct pt_regs *ctx)
{
	return stash_call(ctx, (const void *)PT_REGS_PARM2(ctx), 0, TLS_DIR_READ);
}

/* Both return the bytes moved (an int), or a negative MBEDTLS_ERR_* (nothing moved):
 * probe_return of openssl.c serves them. */
