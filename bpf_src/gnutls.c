/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* gnutls.c - GnuTLS gnutls_record_send/gnutls_record_recv probes */
/* compiled after 00_capture.c: stash_call, finish_call_* */

/* -------------------------------------------------------------- probes */

/*
 * ssize_t gnutls_record_send(gnutls_session_t session, const void *data, size_t data_size)
 * ssize_t gnutls_record_send2(gnutls_session_t session, const void *data, size_t data_size,
 *                             size_t pad, unsigned flags)
 * gnutls_record_send jumps to gnutls_record_send2 with the same stack and buffer: the
 * stash keeps the first, so each write is reported once.
 */
int probe_entry_gnutls_record_send(struct pt_regs *ctx)
{
	return stash_call(ctx, (const void *)PT_REGS_PARM2(ctx), 0, TLS_DIR_WRITE);
}

/* ssize_t gnutls_record_recv(gnutls_session_t session, void *data, size_t data_size) */
int probe_entry_gnutls_record_recv(struct pt_regs *ctx)
{
	return stash_call(ctx, (const void *)PT_REGS_PARM2(ctx), 0, TLS_DIR_READ);
}

/* return of gnutls_record_send / gnutls_record_send2 / gnutls_record_recv */
int probe_return_ssize(struct pt_regs *ctx)
{
	return finish_call_count(ctx, true, false);
}

/* int gnutls_handshake(gnutls_session_t session) */
int probe_entry_gnutls_handshake(struct pt_regs *ctx)
{
	return stash_session_call(ctx, TLS_KIND_HANDSHAKE);
}

#define GNUTLS_E_AGAIN (-28)
#define GNUTLS_E_INTERRUPTED (-52)

/* 0: done; GNUTLS_E_AGAIN, GNUTLS_E_INTERRUPTED: the program calls again; else failed. */
int probe_return_gnutls_handshake(struct pt_regs *ctx)
{
	int ret = (int)PT_REGS_RC(ctx);

	return finish_handshake(ctx, ret, ret == 0,
				ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED, false);
}

#define GNUTLS_X509_FMT_DER 0

/*
 * int gnutls_pcert_import_x509_raw(gnutls_pcert_st *pcert, const gnutls_datum_t *data,
 *                                  gnutls_x509_crt_fmt_t format, unsigned int flags),
 * gnutls_datum_t being { unsigned char *data; unsigned int size; }: inside a TLS call, the
 * handshake hands it each certificate of the peer's Certificate message, DER.
 */
int probe_entry_gnutls_pcert(struct pt_regs *ctx)
{
	struct {
		u64 data;
		u32 size;
	} datum = {};

	if ((u32)PT_REGS_PARM3(ctx) != GNUTLS_X509_FMT_DER ||
	    bpf_probe_read_user(&datum, sizeof(datum), (const void *)PT_REGS_PARM2(ctx)) ||
	    !datum.size)
		return 0;
	return send_cert(ctx, datum.data, datum.size);
}
