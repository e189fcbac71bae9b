/* rustls.c - Rust's rustls (0.20): each application-data record's plaintext, at its record
 * layer */
/* compiled after 00_capture.c: traced, probe_cookie, stash_any, call_of, own_call, attribute,
 * release_call, submit_call */

/*
 * rustls hands each record to a MessageEncrypter before it is sealed and takes each record
 * from a MessageDecrypter once it is opened. Both are trait objects, called through their
 * vtables, so no build inlines them, blocking or async (tokio-rustls inlines Writer::write
 * and Reader::read into its own code). A record is up to 16 KiB of one call's bytes: a
 * larger write is seen as several records.
 *
 * Rust lays its types out as the compiler chooses: these are rustls 0.20's as rustc 1.63
 * lays them out (Debian bookworm's). Edit here (no rebuild) for another layout.
 *
 * fn encrypt(&self, msg: BorrowedPlainMessage, seq: u64) -> Result<OpaqueMessage, Error>
 *	the result's memory in rdi, self in rsi, &msg in rdx (a 24-byte struct goes by
 *	reference): payload: &[u8] (pointer, length), then version, then typ: ContentType
 *	(a byte-tagged enum: ApplicationData is its 4th variant)
 * fn decrypt(&self, msg: OpaqueMessage, seq: u64) -> Result<PlainMessage, Error>
 *	the result's memory in rdi: a u64 tag (0: Ok), then the PlainMessage: payload:
 *	Vec<u8> (pointer, capacity, length), version, typ. Its bytes are the record opened
 *	in place, padding and inner content type taken off (TLS 1.3).
 */
#define RUSTLS_BORROWED_PTR 0x00  /* BorrowedPlainMessage.payload's pointer */
#define RUSTLS_BORROWED_LEN 0x08  /* ... its length */
#define RUSTLS_BORROWED_TYPE 0x14 /* BorrowedPlainMessage.typ's tag */
#define RUSTLS_RESULT_OK 0x00	  /* Result<PlainMessage, Error>'s tag: 0 is Ok */
#define RUSTLS_PLAIN_PTR 0x08	  /* then PlainMessage.payload's pointer */
#define RUSTLS_PLAIN_LEN 0x18	  /* ... its length */
#define RUSTLS_PLAIN_TYPE 0x24	  /* ... PlainMessage.typ's tag */
#define RUSTLS_APPLICATION_DATA 3 /* ContentType::ApplicationData's tag */
/* a record's plaintext is at most this (RFC 8446 5.1): a longer one is another layout read
 * wrongly, and is not sent */
#define RUSTLS_MAX_FRAGMENT 16384

/* -------------------------------------------------------------- probes */

/* The entry of each MessageEncrypter::encrypt: an application-data record is sent now, the
 * whole call at one probe (the plaintext is all there; sealing it cannot fail but for a
 * broken key). Other records (handshake messages, alerts) are not the program's bytes. */
int probe_entry_rustls_encrypt(struct pt_regs *ctx)
{
	u64 id = bpf_get_current_pid_tgid(), msg = PT_REGS_PARM3(ctx), buf = 0, len = 0;
	struct tls_call call = {};
	u8 typ = 0;

	if (!traced(id) ||
	    bpf_probe_read_user(&typ, sizeof(typ), (void *)(msg + RUSTLS_BORROWED_TYPE)) ||
	    typ != RUSTLS_APPLICATION_DATA ||
	    bpf_probe_read_user(&buf, sizeof(buf), (void *)(msg + RUSTLS_BORROWED_PTR)) ||
	    bpf_probe_read_user(&len, sizeof(len), (void *)(msg + RUSTLS_BORROWED_LEN)) || !len ||
	    len > RUSTLS_MAX_FRAGMENT)
		return 0;
	call.buf = buf;
	call.sp = PT_REGS_SP(ctx);
	call.ip = PT_REGS_IP(ctx);
	call.probe = probe_cookie(ctx);
	call.sess = PT_REGS_PARM2(ctx); /* the connection's encrypter */
	call.start_ns = bpf_ktime_get_ns();
	call.fd = -1;
	call.dir = TLS_DIR_WRITE;
	call.kind = TLS_KIND_DATA;
	attribute(&call, id);
	submit_call(ctx, &call, len, false);
	return 0;
}

/* The entry of each MessageDecrypter::decrypt: kept, with where its result will be. */
int probe_entry_rustls_decrypt(struct pt_regs *ctx)
{
	u64 id = bpf_get_current_pid_tgid();
	struct tls_call *call;

	stash_call(ctx, (const void *)PT_REGS_PARM1(ctx), 0, TLS_DIR_READ);
	call = call_of(id);
	if (call && call->sp == PT_REGS_SP(ctx))
		call->sess = PT_REGS_PARM2(ctx); /* the connection's decrypter */
	return 0;
}

/* Its return: an opened application-data record is sent. */
int probe_return_rustls_decrypt(struct pt_regs *ctx)
{
	u64 id = bpf_get_current_pid_tgid(), tag = 1, buf = 0, len = 0;
	struct tls_call *call = call_of(id);
	u8 typ = 0;

	if (!own_call(ctx, call) || call->kind != TLS_KIND_DATA)
		return 0;
	if (bpf_probe_read_user(&tag, sizeof(tag), (void *)(call->buf + RUSTLS_RESULT_OK)) == 0 &&
	    tag == 0 &&
	    bpf_probe_read_user(&typ, sizeof(typ), (void *)(call->buf + RUSTLS_PLAIN_TYPE)) == 0 &&
	    typ == RUSTLS_APPLICATION_DATA &&
	    bpf_probe_read_user(&buf, sizeof(buf), (void *)(call->buf + RUSTLS_PLAIN_PTR)) == 0 &&
	    bpf_probe_read_user(&len, sizeof(len), (void *)(call->buf + RUSTLS_PLAIN_LEN)) == 0 &&
	    len > 0 && len <= RUSTLS_MAX_FRAGMENT) {
		call->buf = buf;
		attribute(call, id);
		submit_call(ctx, call, len, false);
	}
	release_call(id, call);
	return 0;
}
