/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* go.c - Go's crypto/tls: (*Conn).Write and (*Conn).Read in Go programs (Go 1.17+, amd64) */
/* compiled after 00_capture.c: traced, conn_of_fd, fd_is_socket, attribute, submit_call */

/*
 * Go passes arguments and results in registers (ABIInternal, Go 1.17+ on amd64): the
 * receiver in RAX, a []byte as pointer, length, capacity in RBX, RCX, RDI; the first
 * result in RAX. R14 always holds the running goroutine (its g).
 *
 * Where the tracer recognises the code (tracer/gosite.c), one probe on a call instruction
 * inside Write and Read sees the plaintext whole (probe kind `sites`): one emulated trap per
 * call. Elsewhere an entry probe and a probe on each return instruction (kind `returns`)
 * do: a goroutine moves between threads and its stack moves when it grows, so a call in
 * flight is kept by goroutine, never by a uretprobe, whose swapped return address would
 * break the program.
 */

/* ---------------------------------------------------------------- maps */

/* A goroutine of a process. */
struct go_call_key {
	u64 g; /* R14: the goroutine's g */
	u32 tgid;
	u32 pad;
};

/* key: a goroutine inside Write or Read; value: the call (LRU: a goroutine that panics out
 * of the call, or whose process exits inside it, leaves its entry, which ages out or is
 * replaced by its next call; go_own tells it from a later process's) */
BPF_TABLE("lru_hash", struct go_call_key, struct tls_call, go_calls, 10240);

/*
 * Where the socket of a *tls.Conn is, as Go has laid these out since 1.9: tls.Conn starts
 * with `conn net.Conn` (an interface: type word, data word); for a *net.TCPConn (or any
 * net.conn) the data points at `fd *netFD`; netFD starts with poll.FD, whose fdMutex (16
 * bytes) comes before `Sysfd int`. Edit here (no rebuild) if a Go release moves them.
 */
#define GO_TLS_CONN_DATA 8 /* tls.Conn.conn's data word */
#define GO_CONN_NETFD 0	   /* net.conn.fd */
#define GO_NETFD_SYSFD 16  /* netFD.pfd.Sysfd */

/* ------------------------------------------------------------- helpers */

/* Counts a Go call of process tgid entered (+1) or ended (-1): those still in flight as it
 * exits are counted unfinished (00_capture.c). */
static __always_inline void go_inflight(u32 tgid, s64 d)
{
	u64 zero = 0, *n = tls_go_inflight.lookup(&tgid);

	if (!n && d > 0) { /* made now, here or by another thread of the process */
		tls_go_inflight.insert(&tgid, &zero);
		n = tls_go_inflight.lookup(&tgid);
	}
	if (n && (d > 0 || *n > 0)) /* never below 0: a call entered before an exec ends after */
		__sync_fetch_and_add(n, (u64)d);
}

/* Whether call, kept for a goroutine of the current process, is this process's: one an
 * earlier process of that PID left (it exited inside the call; PIDs wrap, and a program's
 * goroutines may sit at the same addresses each run) began before this one started. */
static __always_inline bool go_own(const struct tls_call *call)
{
	return call && call->start_ns >= process_start_ns();
}

/* The socket fd under *tls.Conn c, or -1 when it does not lead to one of this process's
 * sockets (a tls.Conn over another net.Conn). */
static __always_inline s32 go_conn_fd(u64 c)
{
	u64 data = 0, netfd = 0;
	s64 fd = -1;

	if (bpf_probe_read_user(&data, sizeof(data), (void *)(c + GO_TLS_CONN_DATA)) || !data ||
	    bpf_probe_read_user(&netfd, sizeof(netfd), (void *)(data + GO_CONN_NETFD)) || !netfd ||
	    bpf_probe_read_user(&fd, sizeof(fd), (void *)(netfd + GO_NETFD_SYSFD)))
		return -1;
	if (fd < 0 || fd > 0x7fffffff || !fd_is_socket((s32)fd))
		return -1;
	return (s32)fd;
}

/* The entry of a Write or Read of *tls.Conn c on buffer buf: kept for the goroutine, with
 * the connection of c's socket (looked up now, while it is open). */
static __always_inline int go_stash(struct pt_regs *ctx, u64 c, u64 buf, u32 dir)
{
	u64 id = bpf_get_current_pid_tgid();
	struct go_call_key key = {.g = ctx->r14, .tgid = id >> 32};
	struct tls_call call = {};
	s32 fd;

	if (!traced(id))
		return 0;
	init_call(&call, ctx, buf, c, dir);
	fd = go_conn_fd(c);
	if (fd >= 0) {
		call.fd = fd;
		call.conn = conn_of_fd(ctx, id, fd, c, TLS_TIE_IN_CALL, NULL);
	}
	/* a second entry (after the stack grew) is the same call, and replaces it */
	if (!go_own(go_calls.lookup(&key)))
		go_inflight(key.tgid, 1);
	go_calls.update(&key, &call);
	return 0;
}

/* A return instruction of the goroutine's call: n bytes were moved (RAX, the int result). */
static __always_inline int go_finish(struct pt_regs *ctx)
{
	u64 id = bpf_get_current_pid_tgid();
	struct go_call_key key = {.g = ctx->r14, .tgid = id >> 32};
	struct tls_call *call = go_calls.lookup(&key);
	s64 n = (s64)ctx->ax;

	if (!call)
		return 0;
	if (!go_own(call)) { /* an earlier process's, left behind */
		go_calls.delete(&key);
		return 0;
	}
	attribute(call, id);
	if (n > 0)
		submit_call(ctx, call, (u64)n, false);
	go_calls.delete(&key);
	go_inflight(key.tgid, -1);
	return 0;
}

/*
 * A call site inside Write or Read where n bytes of plaintext at buf pass (probe kind
 * `sites`): the whole call in one event, from one emulated uprobe on a call instruction.
 */
static __always_inline int go_site(struct pt_regs *ctx, u64 c, u64 buf, s64 n, u32 dir)
{
	u64 id = bpf_get_current_pid_tgid();
	struct tls_call call = {};
	s32 fd;

	if (!traced(id) || n <= 0)
		return 0;
	init_call(&call, ctx, buf, c, dir);
	fd = c ? go_conn_fd(c) : -1;
	if (fd >= 0) {
		call.fd = fd;
		call.conn = conn_of_fd(ctx, id, fd, c, TLS_TIE_IN_CALL, NULL);
	}
	attribute(&call, id);
	submit_call(ctx, &call, (u64)n, false);
	return 0;
}

/* -------------------------------------------------------------- probes */

/* Write's call of c.writeRecordLocked(recordTypeApplicationData, data): the *Conn in RAX,
 * data's pointer and length in RCX and RDI (tracer/gosite.c proves the place). */
int probe_site_go_write(struct pt_regs *ctx)
{
	return go_site(ctx, ctx->ax, ctx->cx, (s64)ctx->di, TLS_DIR_WRITE);
}

/* Read's copy out of c.input into b, runtime.memmove(b, src, n): src and n in RBX and RCX;
 * the *Conn in Read's spill slot, [rsp + the cookie's argument]. */
int probe_site_go_read(struct pt_regs *ctx)
{
	u64 c = 0, slot = TLS_PROBE_ARG(probe_cookie(ctx));

	if (!slot || bpf_probe_read_user(&c, sizeof(c), (void *)(ctx->sp + slot)))
		c = 0;
	return go_site(ctx, c, ctx->bx, (s64)ctx->cx, TLS_DIR_READ);
}

/* func (c *Conn) Write(b []byte) (int, error) */
int probe_entry_go_write(struct pt_regs *ctx)
{
	return go_stash(ctx, ctx->ax, ctx->bx, TLS_DIR_WRITE);
}

/* func (c *Conn) Read(b []byte) (int, error) */
int probe_entry_go_read(struct pt_regs *ctx)
{
	return go_stash(ctx, ctx->ax, ctx->bx, TLS_DIR_READ);
}

/* each return instruction of Write and Read: (n int, err error) in RAX, RBX:RCX */
int probe_return_go(struct pt_regs *ctx)
{
	return go_finish(ctx);
}

/* At most this many certificates of a peer's chain are sent (Go hands them over at once) */
#define GO_CERTS_MAX 8

/*
 * The certificates the peer of *Conn c presented, a [][]byte of n at certs (each { data,
 * len, cap }), handed to crypto/tls's own function (the probe running, the TLS call they
 * are sent as parsed inside, from its own code), on c's connection. A function entered
 * again after its stack grew sends them again: user space shows a connection's once.
 */
static __always_inline int go_certs(struct pt_regs *ctx, u64 c, u64 certs, s64 n)
{
	u64 id = bpf_get_current_pid_tgid();
	struct tls_call call = {};
	s32 fd;
	int i;

	if (!traced(id) || n <= 0)
		return 0;
	init_call(&call, ctx, 0, c, TLS_DIR_READ);
	fd = go_conn_fd(c);
	if (fd >= 0) {
		call.fd = fd;
		call.conn = conn_of_fd(ctx, id, fd, c, TLS_TIE_IN_CALL, NULL);
	}
	if (!call.conn) /* a tls.Conn over another net.Conn: no tie will name it */
		call.sess = 0;
	for (i = 0; i < GO_CERTS_MAX && i < n; i++) {
		struct {
			u64 data, len, cap;
		} der = {};

		if (bpf_probe_read_user(&der, sizeof(der), (void *)(certs + i * sizeof(der))))
			break;
		cert_event(ctx, &call, id, der.data, der.len, call.ip);
	}
	return 0;
}

/* func (c *Conn) verifyServerCertificate(certificates [][]byte) error: a client's, with
 * the server's chain (the receiver in RAX, the slice in RBX, RCX, RDI) */
int probe_entry_go_server_certs(struct pt_regs *ctx)
{
	return go_certs(ctx, ctx->ax, ctx->bx, (s64)ctx->cx);
}

/* func (c *Conn) processCertsFromClient(certificate Certificate) error: a server's, with
 * the client's chain. tls.Certificate (15 words) does not fit in the registers left after
 * the receiver: it is on the stack, its first field (Certificate [][]byte) just above the
 * return address. */
int probe_entry_go_client_certs(struct pt_regs *ctx)
{
	u64 slice[2] = {};

	if (bpf_probe_read_user(slice, sizeof(slice), (void *)(ctx->sp + 8)))
		return 0;
	return go_certs(ctx, ctx->ax, slice[0], (s64)slice[1]);
}
