/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* rustls.c - Rust's rustls: each application-data record's plaintext, at its record layer
 * (0.20, by its symbols or without them) or at aws-lc's AEAD under it (rustls on aws-lc-rs) */
/* compiled after 00_capture.c: traced, init_call, stash_call, stash_any, call_of, own_call,
 * attribute_data, tie_record, release_call, submit_call */

/*
 * rustls hands each record to a MessageEncrypter before it is sealed and takes each record
 * from a MessageDecrypter once it is opened. Both are trait objects, called through their
 * vtables, so no build inlines them, blocking or async (tokio-rustls inlines Writer::write
 * and Reader::read into its own code). A record is up to 16 KiB of one call's bytes: a
 * larger write is seen as several records.
 *
 * Rust lays its types out as the compiler chooses: these are rustls 0.20's as rustc 1.63
 * (Debian bookworm's) and rustc 1.95 lay them out; a Vec's two orders are told apart at
 * each call. Edit here (no rebuild) for another layout.
 *
 * fn encrypt(&self, msg: BorrowedPlainMessage, seq: u64) -> Result<OpaqueMessage, Error>
 *	the result's memory in rdi, self in rsi, &msg in rdx (a 24-byte struct goes by
 *	reference): payload: &[u8] (pointer, length), then version: ProtocolVersion and typ:
 *	ContentType (each a tag, then its Unknown variant's value), rustc 1.63 putting version
 *	first (typ at 0x14), rustc 1.95 typ first (version at 0x12). typ's tag is 3 for
 *	ApplicationData, version's 4 or 5 (TLSv1_2: every TLS 1.3 record's too, or TLSv1_3):
 *	the order is told by which of them holds 3.
 * fn decrypt(&self, msg: OpaqueMessage, seq: u64) -> Result<PlainMessage, Error>
 *	the result's memory in rdi, self in rsi, &msg in rdx: payload: Vec<u8>, version,
 *	typ. The result: a u64 tag (0: Ok), then the PlainMessage, laid out as msg. Its
 *	bytes are msg's record opened in place, padding and inner content type taken off
 *	(TLS 1.3): the same Vec. A Vec is its pointer and capacity, in the order the compiler
 *	chose (rustc 1.63: pointer first; from 1.7x: capacity first), then its length: the
 *	pointer is the word from RUSTLS_HEAP_MIN up, the capacity the one below it and not
 *	below the length (rustls holds a record in a Vec of its size). At the return the
 *	result's Vec must hold the same pointer: a check of the layout (and of the function,
 *	found without symbols) at each call.
 */
#define RUSTLS_BORROWED_PTR 0x00  /* BorrowedPlainMessage.payload's pointer */
#define RUSTLS_BORROWED_LEN 0x08  /* ... its length */
#define RUSTLS_BORROWED_TAGS 0x10 /* BorrowedPlainMessage's version and typ, either order */
#define RUSTLS_VERSION_TLS12 4	  /* ProtocolVersion::TLSv1_2's tag (TLSv1_3's: 5) */
#define RUSTLS_OPAQUE_VEC 0x00	  /* OpaqueMessage.payload: pointer and capacity, length */
#define RUSTLS_RESULT_OK 0x00	  /* Result<PlainMessage, Error>'s tag: 0 is Ok */
#define RUSTLS_PLAIN_VEC 0x08	  /* then PlainMessage.payload: pointer and capacity, length */
#define RUSTLS_PLAIN_TYPE 0x24	  /* ... PlainMessage.typ's tag */
#define RUSTLS_HEAP_MIN 0x100000  /* a pointer to the heap is this or more; a capacity less */
#define RUSTLS_APPLICATION_DATA 3 /* ContentType::ApplicationData's tag */
/* a record's plaintext is at most this (RFC 8446 5.1): a longer one is another layout read
 * wrongly, and is not sent */
#define RUSTLS_MAX_FRAGMENT 16384

/* -------------------------------------------------------------- probes */

/* A record being sealed, sent at the entry probe: len bytes at buf, of session sess (what
 * seals the connection's records). */
static __always_inline void send_sealed(struct pt_regs *ctx, u64 id, u64 buf, u64 len, u64 sess)
{
	struct tls_call call = {};

	init_call(&call, ctx, buf, sess, TLS_DIR_WRITE);
	attribute_data(ctx, &call, id, len);
	submit_call(ctx, &call, len, false);
}

/* The entry of each MessageEncrypter::encrypt: an application-data record is sent now, the
 * whole call at one probe (the plaintext is all there; sealing it cannot fail but for a
 * broken key). Other records (handshake messages, alerts) are not the program's bytes. */
int probe_entry_rustls_encrypt(struct pt_regs *ctx)
{
	u64 id = bpf_get_current_pid_tgid(), msg = PT_REGS_PARM3(ctx), buf = 0, len = 0;
	u8 tags[6] = {};

	if (!traced(id) ||
	    bpf_probe_read_user(tags, sizeof(tags), (void *)(msg + RUSTLS_BORROWED_TAGS)) ||
	    !((tags[4] == RUSTLS_APPLICATION_DATA && (tags[0] == RUSTLS_VERSION_TLS12 ||
						      tags[0] == RUSTLS_VERSION_TLS12 + 1)) ||
	      (tags[0] == RUSTLS_APPLICATION_DATA && (tags[2] == RUSTLS_VERSION_TLS12 ||
						      tags[2] == RUSTLS_VERSION_TLS12 + 1))) ||
	    bpf_probe_read_user(&buf, sizeof(buf), (void *)(msg + RUSTLS_BORROWED_PTR)) ||
	    bpf_probe_read_user(&len, sizeof(len), (void *)(msg + RUSTLS_BORROWED_LEN)) || !len ||
	    len > RUSTLS_MAX_FRAGMENT)
		return 0;
	send_sealed(ctx, id, buf, len, PT_REGS_PARM2(ctx)); /* self: the connection's encrypter */
	return 0;
}

/* The pointer of the Vec whose words (pointer and capacity in either order, then length)
 * are w; 0 when neither order fits. */
static __always_inline u64 vec_pointer(const u64 *w)
{
	if (w[0] >= RUSTLS_HEAP_MIN && w[1] < RUSTLS_HEAP_MIN && w[1] >= w[2])
		return w[0];
	if (w[1] >= RUSTLS_HEAP_MIN && w[0] < RUSTLS_HEAP_MIN && w[0] >= w[2])
		return w[1];
	return 0;
}

/* The entry of each MessageDecrypter::decrypt: kept, with where its result will be and the
 * record's bytes (in len_ptr, which no rustls call has; 0 when msg's Vec fits no layout read
 * here: then its result, if application data, is counted unreadable). */
int probe_entry_rustls_decrypt(struct pt_regs *ctx)
{
	u64 id = bpf_get_current_pid_tgid(), vec[3] = {}, record = 0;
	struct tls_call *call;

	if (!traced(id))
		return 0;
	if (!bpf_probe_read_user(vec, sizeof(vec), (void *)(PT_REGS_PARM3(ctx) + RUSTLS_OPAQUE_VEC)))
		record = vec_pointer(vec);
	stash_call(ctx, (const void *)PT_REGS_PARM1(ctx), (const void *)record, TLS_DIR_READ);
	call = call_of(id);
	if (call && call->sp == PT_REGS_SP(ctx))
		call->sess = PT_REGS_PARM2(ctx); /* the connection's decrypter */
	return 0;
}

/* Its return: an opened application-data record is sent, its bytes where the record's were;
 * when they are not (a layout not read here), as that many bytes counted unreadable. */
int probe_return_rustls_decrypt(struct pt_regs *ctx)
{
	u64 id = bpf_get_current_pid_tgid(), tag = 1, vec[3] = {}, len = 0;
	struct tls_call *call = call_of(id);
	u8 typ = 0;

	if (!own_call(ctx, call) || call->kind != TLS_KIND_DATA)
		return 0;
	if (bpf_probe_read_user(&tag, sizeof(tag), (void *)(call->buf + RUSTLS_RESULT_OK)) == 0 &&
	    tag == 0 &&
	    bpf_probe_read_user(&typ, sizeof(typ), (void *)(call->buf + RUSTLS_PLAIN_TYPE)) == 0 &&
	    typ == RUSTLS_APPLICATION_DATA &&
	    bpf_probe_read_user(vec, sizeof(vec), (void *)(call->buf + RUSTLS_PLAIN_VEC)) == 0 &&
	    (len = vec[2]) > 0 && len <= RUSTLS_MAX_FRAGMENT) {
		/* its bytes, or, when its Vec is not the record's (a layout not read here),
		 * that many bytes counted unreadable: never taken for a handshake record */
		call->buf = call->len_ptr && vec_pointer(vec) == call->len_ptr ? call->len_ptr : 0;
		attribute_data(ctx, call, id, len);
		submit_call(ctx, call, len, false);
	} else if (tag == 0) {
		tie_record(ctx, call, id); /* a handshake message, a ticket or an alert */
	} else {
		attribute_data(ctx, call, id, 0); /* it failed */
	}
	release_call(id, call);
	return 0;
}

/* ------------------------------------------- rustls on aws-lc, without symbols */

/*
 * rustls 0.23 with aws-lc-rs (Deno) seals each record with aws-lc's EVP_AEAD_CTX_seal and
 * opens it with EVP_AEAD_CTX_open, found in a stripped program by the error checks of their
 * own code (docs/PROBES.md). An AEAD is not TLS: a call is a record only when its
 * additional data is a TLS record's, and then its plaintext is the program's bytes only
 * when the record carries application data:
 *   TLS 1.3: the 5-byte record header 23 3 3 LEN, LEN the sealed length (the plaintext,
 *	its inner content type byte, any padding, the tag); the inner type follows the
 *	plaintext (RFC 8446 5.2: 23 is application data);
 *   TLS 1.2: 13 bytes, the sequence number (8), type 23, version 3 3, the plaintext's length.
 *
 * int EVP_AEAD_CTX_seal(const EVP_AEAD_CTX *ctx, uint8_t *out, size_t *out_len,
 *	size_t max_out_len, const uint8_t *nonce, size_t nonce_len, const uint8_t *in,
 *	size_t in_len, const uint8_t *ad, size_t ad_len)
 * EVP_AEAD_CTX_open: the same arguments; in is the sealed record, out gets its plaintext
 * (in place in rustls) and *out_len its length, when it returns 1.
 * int EVP_AEAD_CTX_seal_scatter(const EVP_AEAD_CTX *ctx, uint8_t *out, uint8_t *out_tag,
 *	size_t *out_tag_len, size_t max_out_tag_len, const uint8_t *nonce, size_t nonce_len,
 *	const uint8_t *in, size_t in_len, const uint8_t *extra_in, size_t extra_in_len,
 *	const uint8_t *ad, size_t ad_len): what aws-lc-rs seals TLS 1.2's records with.
 * From the 7th on, arguments are on the stack, above the return address (in u64s above
 * rsp at entry: 1 is the 7th).
 */
struct aead_args {
	int in, in_len, ad, ad_len;
};

static const struct aead_args AEAD_SEAL = {1, 2, 3, 4}; /* and open */
static const struct aead_args AEAD_SCATTER = {2, 3, 6, 7};
#define AEAD_ARG_EXTRA_LEN 5 /* seal_scatter's extra_in_len: rustls passes none */
#define AEAD_TAG 16	 /* the tag of the AEADs rustls seals TLS with (GCM, ChaCha20-Poly1305) */
#define AEAD_PAD_SEEN 16 /* TLS 1.3 padding looked through for the inner type */
#define TLS13_TYPE_UNSEEN (~0ULL) /* more padding than that, or the record unreadable */
#define TLS13_AD_LEN 5
#define TLS12_AD_LEN 13
#define TLS_APPLICATION_DATA 23

/* The AEAD call's stack argument n (struct aead_args) at its entry; 0 when unreadable. */
static __always_inline u64 aead_arg(struct pt_regs *ctx, int n)
{
	u64 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (void *)(PT_REGS_SP(ctx) + n * sizeof(u64)));
	return v;
}

/* Which TLS record the AEAD call's additional data heads, at its entry: 13 for TLS 1.3 (every
 * record's outer type is 23: its true type follows the plaintext), 12 for TLS 1.2 of
 * application data, 0 for none. The length in the header must be the call's: for TLS 1.3
 * the sealed record's (an open's in_len; a seal's in_len and the tag), for TLS 1.2 the
 * plaintext's. */
static __always_inline u32 aead_record(struct pt_regs *ctx, const struct aead_args *a, bool opening)
{
	u64 ad = aead_arg(ctx, a->ad), ad_len = aead_arg(ctx, a->ad_len);
	u64 in_len = aead_arg(ctx, a->in_len), sealed;
	u8 h[TLS12_AD_LEN] = {};

	if (ad_len == TLS13_AD_LEN && bpf_probe_read_user(h, TLS13_AD_LEN, (void *)ad) == 0 &&
	    h[0] == TLS_APPLICATION_DATA && h[1] == 3 && h[2] == 3) {
		sealed = (u64)h[3] << 8 | h[4];
		/* opening: the record whole; sealing: the plaintext, its type and padding, a
		 * tag short (16 bytes: every AEAD TLS 1.3 has but CCM_8, which rustls lacks) */
		if (opening ? sealed == in_len : sealed == in_len + AEAD_TAG)
			return 13;
	} else if (ad_len == TLS12_AD_LEN &&
		   bpf_probe_read_user(h, TLS12_AD_LEN, (void *)ad) == 0 &&
		   h[8] == TLS_APPLICATION_DATA && h[9] == 3 && h[10] == 3) {
		sealed = (u64)h[11] << 8 | h[12];
		if (opening ? sealed + AEAD_TAG == in_len : sealed == in_len)
			return 12;
	}
	return 0;
}

/* The length of a TLS 1.3 record's plaintext of `len` bytes at buf (padding and inner type
 * taken off), when its inner type is application data; 0 for another type. rustls pads
 * nothing: the last byte is the type; up to AEAD_PAD_SEEN bytes of another's padding are
 * looked through. TLS13_TYPE_UNSEEN when the type is not found so: the record is then sent
 * as unreadable (aead_record_len), counted, never dropped unsaid. */
static __always_inline u64 tls13_plaintext(u64 buf, u64 len)
{
	u8 tail[AEAD_PAD_SEEN] = {};
	u64 from, n;
	int i;

	if (!len)
		return 0;
	if (bpf_probe_read_user(tail, 1, (void *)(buf + len - 1)))
		return TLS13_TYPE_UNSEEN;
	if (tail[0])
		return tail[0] == TLS_APPLICATION_DATA ? len - 1 : 0;
	from = len > AEAD_PAD_SEEN ? len - AEAD_PAD_SEEN : 0;
	n = len - from;
	if (n == 0 || n > AEAD_PAD_SEEN || bpf_probe_read_user(tail, n, (void *)(buf + from)))
		return TLS13_TYPE_UNSEEN;
#pragma unroll
	for (i = AEAD_PAD_SEEN - 1; i >= 0; i--) {
		if (i >= n || tail[i] == 0)
			continue;
		return tail[i] == TLS_APPLICATION_DATA ? from + i : 0;
	}
	return len > AEAD_PAD_SEEN ? TLS13_TYPE_UNSEEN : 0; /* all padding: no type at all */
}

/* What of a record of `len` bytes at *buf (`record`: aead_record's) is the program's: its
 * plaintext's length; 0 for none. A TLS 1.3 record whose type is unseen is the program's
 * for all the tracer knows: it goes whole, *buf made 0, so that it is counted unreadable. */
static __always_inline u64 aead_record_len(u32 record, u64 *buf, u64 len)
{
	u64 n = record == 13 ? tls13_plaintext(*buf, len) : len;

	if (n == TLS13_TYPE_UNSEEN) {
		*buf = 0;
		n = len;
	}
	return n <= RUSTLS_MAX_FRAGMENT + 256 ? n : 0; /* more than a TLS record holds: no record */
}

/* The entry of a seal: an application-data record's plaintext, the whole call at one probe
 * (it cannot fail but for a broken key). */
static __always_inline int aead_sealing(struct pt_regs *ctx, const struct aead_args *a)
{
	u64 id = bpf_get_current_pid_tgid(), in, len;
	u32 record;

	if (!traced(id) || !(record = aead_record(ctx, a, false)))
		return 0;
	in = aead_arg(ctx, a->in);
	len = aead_record_len(record, &in, aead_arg(ctx, a->in_len));
	if (!len)
		return 0;
	send_sealed(ctx, id, in, len, PT_REGS_PARM1(ctx)); /* ctx: the connection's sealing key */
	return 0;
}

/* The entry of EVP_AEAD_CTX_seal. */
int probe_entry_aead_seal(struct pt_regs *ctx)
{
	return aead_sealing(ctx, &AEAD_SEAL);
}

/* The entry of EVP_AEAD_CTX_seal_scatter, sealing in one piece (no extra_in). */
int probe_entry_aead_seal_scatter(struct pt_regs *ctx)
{
	return aead_arg(ctx, AEAD_ARG_EXTRA_LEN) ? 0 : aead_sealing(ctx, &AEAD_SCATTER);
}

/* The entry of EVP_AEAD_CTX_open: kept when it opens a TLS record, with where its plaintext
 * and length will be, and which TLS (in iovcnt, which no read uses). */
int probe_entry_aead_open(struct pt_regs *ctx)
{
	u32 record = aead_record(ctx, &AEAD_SEAL, true);

	return record ? stash_any(ctx, (const void *)PT_REGS_PARM2(ctx),
				  (const void *)PT_REGS_PARM3(ctx), record, TLS_DIR_READ,
				  TLS_KIND_DATA)
		      : 0;
}

/* Its return: an opened application-data record is sent; another record opened ties its
 * session by the socket it came on (tie_record). */
int probe_return_aead_open(struct pt_regs *ctx)
{
	u64 id = bpf_get_current_pid_tgid(), opened = 0, len = 0, buf = 0;
	struct tls_call *call = call_of(id);

	if (!own_call(ctx, call))
		return 0;
	if (call->kind == TLS_KIND_DATA && call->len_ptr && (u32)PT_REGS_RC(ctx) == 1 &&
	    bpf_probe_read_user(&opened, sizeof(opened), (void *)call->len_ptr) == 0) {
		buf = call->buf;
		len = aead_record_len(call->iovcnt, &buf, opened);
	}
	if (len) {
		call->buf = buf;
		attribute_data(ctx, call, id, len);
		submit_call(ctx, call, len, false);
	} else if (opened) {
		tie_record(ctx, call, id); /* a handshake message, a ticket or an alert */
	} else if (call->kind == TLS_KIND_DATA) {
		attribute_data(ctx, call, id, 0); /* it failed */
	}
	release_call(id, call);
	return 0;
}
