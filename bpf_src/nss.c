/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* nss.c - NSS through NSPR: PR_Write/PR_Send/PR_Writev/PR_Read/PR_Recv on SSL sockets only */
/* compiled after 00_capture.c: stash_call, finish_call_* */

/*
 * NSPR's I/O functions serve files, pipes and plain sockets too. NSS puts its SSL layer on
 * top of a socket's descriptor stack, so the descriptor the program passes is that layer:
 *
 *   struct PRFileDesc { const PRIOMethods *methods; PRFilePrivate *secret;
 *                       PRFileDesc *lower, *higher; void (*dtor)(PRFileDesc *);
 *                       PRDescIdentity identity; };
 *   struct PRIOMethods { PRDescType file_type; ... };
 *
 * NSPR's own descriptors have identity PR_NSPR_IO_LAYER (0) and file_type FILE, TCP, UDP or
 * PIPE; NSS's SSL layer has an identity of its own and file_type PR_DESC_LAYERED.
 */
#define NSPR_FD_IDENTITY_OFFSET 40
#define PR_NSPR_IO_LAYER 0
#define PR_DESC_LAYERED 4

static __always_inline bool nss_layered(const void *fd)
{
	u64 methods = 0;
	int file_type = 0, identity = PR_NSPR_IO_LAYER;

	if (bpf_probe_read_user(&methods, sizeof(methods), fd) || !methods ||
	    bpf_probe_read_user(&file_type, sizeof(file_type), (const void *)methods) ||
	    bpf_probe_read_user(&identity, sizeof(identity),
				(const char *)fd + NSPR_FD_IDENTITY_OFFSET))
		return false;
	return file_type == PR_DESC_LAYERED && identity != PR_NSPR_IO_LAYER;
}

static __always_inline int stash_nss(struct pt_regs *ctx, u32 dir)
{
	if (!nss_layered((const void *)PT_REGS_PARM1(ctx)))
		return 0;
	return stash_call(ctx, (const void *)PT_REGS_PARM2(ctx), 0, dir);
}

/* PRInt32 PR_Write(PRFileDesc *fd, const void *buf, PRInt32 amount)
 * PRInt32 PR_Send(PRFileDesc *fd, const void *buf, PRInt32 amount, PRIntn flags,
 *                 PRIntervalTime timeout) */
int probe_entry_PR_Write(struct pt_regs *ctx)
{
	return stash_nss(ctx, TLS_DIR_WRITE);
}

/* PRInt32 PR_Writev(PRFileDesc *fd, const PRIOVec *iov, PRInt32 iov_size,
 *                   PRIntervalTime timeout), PRIOVec being { char *iov_base; int iov_len; } */
int probe_entry_PR_Writev(struct pt_regs *ctx)
{
	int n = (int)PT_REGS_PARM3(ctx);

	if (n <= 0 || n > TLS_MAX_IOV || !nss_layered((const void *)PT_REGS_PARM1(ctx)))
		return 0;
	return stash_vec(ctx, (const void *)PT_REGS_PARM2(ctx), n, TLS_DIR_WRITE);
}

/* PRInt32 PR_Read(PRFileDesc *fd, void *buf, PRInt32 amount)
 * PRInt32 PR_Recv(PRFileDesc *fd, void *buf, PRInt32 amount, PRIntn flags,
 *                 PRIntervalTime timeout) */
int probe_entry_PR_Read(struct pt_regs *ctx)
{
	return stash_nss(ctx, TLS_DIR_READ);
}

/* All five return the bytes moved (an int) or -1 (PR_WOULD_BLOCK_ERROR: an NSS client
 * writes again later), so writes are reported on return: by probe_return of openssl.c, and
 * PR_Writev's by this one, which copies the pieces. */
int probe_return_writev(struct pt_regs *ctx)
{
	return finish_call_count(ctx, false, true);
}

/*
 * CERTCertificate *CERT_NewTempCertificate(CERTCertDBHandle *handle, SECItem *derCert,
 *                                          char *nickname, PRBool isperm, PRBool copyDER)
 * in libnss3, SECItem being { SECItemType type; unsigned char *data; unsigned int len; }:
 * inside an NSPR call, libssl3 hands it each certificate of the peer's Certificate message.
 */
int probe_entry_nss_cert(struct pt_regs *ctx)
{
	struct {
		u32 type;
		u64 data;
		u32 len;
	} item = {};

	if (bpf_probe_read_user(&item, sizeof(item), (const void *)PT_REGS_PARM2(ctx)) || !item.len)
		return 0;
	return send_cert(ctx, item.data, item.len);
}
