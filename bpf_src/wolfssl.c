/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* wolfssl.c - wolfSSL wolfSSL_write/wolfSSL_read probes */
/* compiled after 00_capture.c: stash_call, finish_call_* */

/* int wolfSSL_write(WOLFSSL *ssl, const void *data, int sz) */
int probe_entry_wolfSSL_write(struct pt_regs *ctx)
{
	return stash_call(ctx, (const void *)PT_REGS_PARM2(ctx), 0, TLS_DIR_WRITE);
}

/* int wolfSSL_read(WOLFSSL *ssl, void *data, int sz) */
int probe_entry_wolfSSL_read(struct pt_regs *ctx)
{
	return stash_call(ctx, (const void *)PT_REGS_PARM2(ctx), 0, TLS_DIR_READ);
}

/* Both return the bytes moved (an int), or <= 0: probe_return of openssl.c serves them. */
