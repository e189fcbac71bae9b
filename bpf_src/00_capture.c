/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * 00_capture.c - what every TLS library's probes share: the maps, the per-thread stash of a
 * call in flight, and the copy of the bytes it moved into perf buffer chunks.
 *
 * The .c files of bpf_src are compiled as one unit, in file-name order, so this file comes
 * first and each <library>.c defines only its probes: an entry probe stashes the buffer
 * (stash_call), a return probe sends what the call moved (finish_call_*). Shared code lives
 * in a .c file, not a header, because libbcc rewrites map calls (tls_calls.lookup) only in
 * the main source, never in included files.
 */
#include <uapi/linux/mman.h>
#include <uapi/linux/ptrace.h>

#include "tls_event.h"

/* ---------------------------------------------------------------- maps */

/* A call in flight: what the entry probe saw, kept until the return probe. */
struct tls_call {
	u64 owner;    /* in tls_slots: pid_tgid of the thread holding the slot, 0 when free */
	u64 buf;      /* the plaintext buffer argument */
	u64 sp;	      /* stack pointer at entry: a tail call into another probe keeps it */
	u64 ip;	      /* the probed function's address: the return address tells its caller */
	u64 len_ptr;  /* size_t * out-parameter of the _ex calls; 0 for the plain calls */
	u64 probe;    /* the entry probe's attach cookie: user space knows its library, symbol */
	u64 sess;     /* the session object (SSL *, gnutls_session_t, PRFileDesc *, ...) */
	u64 start_ns; /* when the call began */
	u64 conn;     /* the connection of the first socket syscall inside the call; 0: none yet */
	s32 fd;	      /* that syscall's fd; -1: none yet */
	u32 dir;      /* enum tls_dir */
	u32 iovcnt;   /* a gathering write (PR_Writev): buf is an array of this many tls_iovec */
	u32 kind;     /* TLS_KIND_DATA, or the handshake or verify result call it is */
	u32 again;    /* a socket syscall inside it would have blocked (EAGAIN) */
	u32 untied;   /* its session's calls use no socket and it found no connection: its
		       * event names the session, for the tie that may come (tie_late) */
	u32 hello_wait; /* its connection has received no hello yet: its reads are looked at
			 * for one (a handshake's always are) */
	u32 verifying;	/* inside X509_verify_cert: the certificates parsed are not the
			 * peer's (a CA looked up on disk, a program's verify callback) */
};

/* One piece of a gathering write: { char *base; int len; } as NSPR's PRIOVec (and, with a
 * size_t len, struct iovec) lays it out on 64-bit targets. */
struct tls_iovec {
	u64 base;
	s64 len;
};

/* At most this many pieces per gathering write (NSPR's PR_MAX_IOVECTOR_SIZE). */
#define TLS_MAX_IOV 16

/* A thread's call in flight sits in slot tid % TLS_SLOTS, which the thread takes with a
 * compare-and-swap of `owner` and gives back on return (or the scheduler at its exit): no
 * map update or delete per call. */
#ifndef TLS_SLOTS
#define TLS_SLOTS 16384
#endif
BPF_ARRAY(tls_slots, struct tls_call, TLS_SLOTS);

/* key: tid; value: the call in flight of a thread whose slot another thread holds */
BPF_HASH(tls_calls, u32, struct tls_call, 10240);

/* key: 0; value: the event being built on this CPU (it is far bigger than the BPF stack) */
BPF_PERCPU_ARRAY(tls_scratch, struct tls_event, 1);

/* per-CPU perf buffers carrying struct tls_event to user space: data chunks on tls_events,
 * the other kinds (connections, handshakes, verification) on tls_meta, so that a flood of
 * data cannot crowd them out; user space orders both together by seq */
BPF_PERF_OUTPUT(tls_events);
BPF_PERF_OUTPUT(tls_meta);

/* key: tgid (TLS_STATS_OTHER_KEY once full); value: that process's counters on this CPU.
 * The kernel reports a full buffer's losses only when a later event gets in, so refused
 * submits are counted here too. */
BPF_PERCPU_HASH(tls_stats, u32, struct tls_stats, TLS_STATS_MAX_PROCS);

/* key: tgid; value: its Go calls in flight (go.c: a goroutine's call is not a thread's, so
 * the calls its process never ended are counted as it exits or runs another program) */
BPF_HASH(tls_go_inflight, u32, u64, TLS_STATS_MAX_PROCS);

/* key: 0; value: the last call id handed out; key 1 (TLS_SEQ_KEY): the last event
 * sequence number (struct tls_event's seq), taken only by events that are sent, so that
 * user space sees a gap only where an event is still on its way or was lost */
#define TLS_SEQ_KEY 1
BPF_ARRAY(tls_call_ids, u64, 2);

/* The next event sequence number; 0 when the counter cannot be read. */
static __always_inline u64 next_seq(void)
{
	u32 key = TLS_SEQ_KEY;
	u64 *seqs = tls_call_ids.lookup(&key);

	return seqs ? __sync_fetch_and_add(seqs, 1) + 1 : 0;
}

/* key: 0; value: struct tls_settings, written by user space before any probe is attached */
BPF_ARRAY(tls_settings, struct tls_settings, 1);

/* key: 0; value: the cgroup v2 traced with TLS_SET_CGROUP (user space puts an fd of its
 * directory; the map holds the cgroup) */
BPF_CGROUP_ARRAY(tls_cgroup, 1);

/* key: tgid of a traced process (or tid of a thread one started); value: TLS_TARGET_*.
 * User space puts the targets in; the sched tracepoints below add their children and take
 * out whatever exits. */
BPF_HASH(tls_targets, u32, u32, TLS_MAX_TARGETS);

/* struct tls_proc_event records: a traced process ran a program, mapped or unmapped a file,
 * closed a range of fds or exited (the follow thread reads them). */
BPF_PERF_OUTPUT(tls_procs);
/* Where the exec notice is made (a struct tls_exec_event is too big for the stack). */
BPF_PERCPU_ARRAY(tls_exec_scratch, struct tls_exec_event, 1);
/* struct tls_proc_event records: a TLS call first used a socket (TLS_PROC_CONN), a pending
 * process's socket carried TLS (TLS_PROC_PENDING_CONN), a traced process forked where
 * children need guards (TLS_PROC_FORK). A thread of the tracer reads nothing else, so it
 * acts at once, whatever the main loop is busy with. */
BPF_PERF_OUTPUT(tls_conn_notes);

#if !TLS_KFUNC
/* key: pid_tgid of a traced thread inside mmap(PROT_EXEC) of a file to tell user space of;
 * value: the TLS_PENDING_* flags it set (LRU: a thread killed inside mmap leaves its entry,
 * which ages out); the tracepoints' way, fexit sees both */
BPF_TABLE("lru_hash", u64, u8, tls_mmaps, 1024);
#endif
/* Processes told of an unmap: one event per process until user space has read its maps
 * again and deletes the entry (it leaves those that map no TLS file: they tell no more),
 * however often it calls munmap. A process that runs a program without TLS code is put in
 * at its exec (it has nothing to tell), and taken out when it maps a TLS file or one not
 * looked at yet. */
BPF_TABLE("lru_hash", u32, u8, tls_unmaps, 1024);

/* A connection: a socket a TLS call used, from then until close(2). */
struct tls_conn {
	u64 id;	     /* unique within the run, from tls_conn_ids */
	u64 sess;    /* the session first seen on it */
	u64 told;    /* its opening was sent: a thread that finds it 0 sends it too (see
		      * conn_of_fd) */
	u64 late[2]; /* [enum tls_dir]: the session tied to it after its calls (tie_late);
		      * 0: none yet; TLS_TIED_IN_CALL: a call used it itself */
	u32 hello_in; /* a TLS call on it received a hello (hello_received) */
	u32 pad;
};

/* tls_conn's late: the socket was used inside a call, so no other session is tied to it */
#define TLS_TIED_IN_CALL (~0ULL)

/* A session object of a process. */
struct tls_sess_key {
	u64 sess;
	u32 tgid;
	u32 pad;
};

/* What a session's earlier calls told: its connection, and a handshake under way. */
struct tls_sess {
	u64 conn;     /* 0: none known */
	u64 hs_start; /* when the first call of a handshake not yet ended began; 0: none */
	s32 fd;
	u32 waiting;  /* calls of it went out without a connection: the one it gets is told
		       * (TLS_KIND_CONN_TIE) */
	u64 since_ns; /* when this entry began: a call before it was another object's */
};

#define TLS_MAX_CONNS 65536

/* key: a traced process's socket that TLS calls used; value: its connection. close(2)
 * takes it out (LRU: the sockets of a process that exits age out). */
BPF_TABLE("lru_hash", struct tls_fd_key, struct tls_conn, tls_conns, TLS_MAX_CONNS);

/* key: a session object; value: its connection, so that a call that makes no syscall (a
 * read served from the library's buffer) is still attributed. */
BPF_TABLE("lru_hash", struct tls_sess_key, struct tls_sess, tls_sessions, TLS_MAX_CONNS);

/* key: 0; value: the last connection id handed out */
BPF_ARRAY(tls_conn_ids, u64, 1);

/*
 * What ties sessions whose calls use no socket (a memory BIO: Bun, node, rustls, which seal
 * into memory and write the records afterwards) to their sockets (tie_late), per traced
 * thread that read from a TCP socket outside a TLS call or made such a call: a session is
 * tied to the socket the same thread read TLS bytes from just before its read call, or
 * writes a TLS record to next after its write call.
 */
struct tls_untied {
	u64 wsess;  /* the session whose write is waiting for its record's socket write; 0:
		     * none; TLS_UNTIED_MANY: more than one (which record is whose is not known) */
	u64 wtime;  /* when that write returned */
	u64 rbuf;   /* where the thread's read in flight puts its first bytes */
	s32 rfd;    /* the one TCP socket the thread read bytes from since its last TLS call;
		     * -1: none, TLS_UNTIED_MANY_FDS: several */
	s32 rnext;  /* the TCP socket of the thread's read in flight; -1: none */
	u32 record; /* one of the reads from rfd began with a TLS record's header */
	u32 wlen;   /* the waiting write's first record's plaintext bytes */
	u32 fresh;  /* the thread's next read begins what the next call is tied by (rfd stays
		     * for a call before it: tie_record) */
	u32 hello;  /* one of the reads from rfd began with a handshake record */
	s32 lastfd; /* the socket whose record a failed read call began to take (-1: none): a
		     * next read from it goes on with that record */
	u32 pad;
	/* hellos received (hello_received): */
	u64 hbuf;  /* the first buffer of the thread's read in flight looked at for a hello */
	u64 hroom; /* what that read can put there (a readv's or recvmsg's first iovec) */
	u64 hconn; /* that read's TLS call's connection; 0: outside a call */
	u64 hhdr;  /* the 5 bytes of a handshake record's header read alone, whose body the
		    * thread's next read from that socket begins; 0: none */
	u64 hino;  /* that socket's inode: the fd may be another's by then */
	s32 hnext; /* the socket of the read in flight looked at; -1: none */
	s32 hfd;   /* the socket hhdr came from */
};
#define TLS_UNTIED_MANY (~0ULL)
#define TLS_UNTIED_MANY_FDS (-2)
/* A TLS record carries at most this much plaintext (RFC 8446 5.1) ... */
#define TLS_MAX_PLAINTEXT 16384
/* An AEAD record is its plaintext and one of these more bytes: TLS 1.2's ChaCha20-Poly1305
 * (the tag), TLS 1.3's AEADs unpadded (the inner content type, the tag), TLS 1.2's AES-GCM
 * (an explicit nonce, the tag). A CBC record's size says too little to be told apart. */
#define TLS_AEAD_TAG_ONLY 16
#define TLS_AEAD_TLS13 17
#define TLS_AEAD_GCM12 24
/* A write's record is written within this of its call's return, or taken for another's */
#define TLS_UNTIED_WRITE_NS 10000000ULL

/* key: tid; value: its struct tls_untied (LRU: the entries of threads gone age out) */
BPF_TABLE("lru_hash", u32, struct tls_untied, tls_untied, 4096);

/* key: 0; value: 1 once a write call used no socket: until then no socket write looks in
 * tls_untied */
BPF_ARRAY(tls_untied_on, u64, 1);

/* key: a socket a target held when the tracer attached, which user space put in before it
 * looked the socket up (so the lookup saw this socket or a later one) and took out again if
 * that lookup failed; value: 1. Replacing the fd (close, dup2, dup3) takes it out, so a
 * connection opened on a key still here is that socket: user space has its addresses even
 * when the process closes it before any lookup could be made. */
BPF_HASH(tls_known_socks, struct tls_fd_key, u8, TLS_MAX_CONNS);

/* key: a file user space has looked at (struct tls_file_key); value: TLS_FILE_PLAIN or
 * TLS_FILE_TLS. A traced process that runs or maps a file not in it may run TLS code that
 * has no probes yet: it is pending (tls_pending) until user space has looked. */
BPF_HASH(tls_files, struct tls_file_key, u8, TLS_MAX_FILES);

/* key: tgid of a pending process; value: since when, and why. User space takes it out once
 * it has looked at the process's files (and probed what it found). */
BPF_HASH(tls_pending, u32, struct tls_pending, TLS_MAX_PENDING);

/* key: a socket of a pending process whose bytes began a TLS record; value: what it sent and
 * received before any probed call used it (struct tls_pending_fd). */
BPF_HASH(tls_pending_fds, struct tls_pending_key, struct tls_pending_fd, TLS_MAX_PENDING_FDS);

/* key: 0; value: 1 while tls_pending may hold a process: every process's socket syscalls
 * look no further when it is 0. BPF sets it after adding a process; user space clears it,
 * then sets it again if tls_pending is not empty. */
BPF_ARRAY(tls_pending_on, u64, 1);

/* A pending process's read in flight: its buffer and socket, for its return. */
struct tls_pending_read {
	u64 buf;
	s32 fd;
	u32 how; /* TLS_IO_* */
};

/* key: tid; value: the thread's read in flight (LRU: a thread killed inside a read leaves
 * its entry, which ages out) */
BPF_TABLE("lru_hash", u32, struct tls_pending_read, tls_pending_reads, 1024);

#ifdef TLS_OFF_TU_OFFSET
/* key: a probe point of the scope (file, offset, kind); value: its probe number and the slot
 * of its BPF function in tls_point_progs. User space puts each in before the point. */
BPF_HASH(tls_points, struct tls_point_key, struct tls_point, TLS_MAX_POINTS);

/* the BPF functions of the probe specs, by slot (each module has its own) */
BPF_PROG_ARRAY(tls_point_progs, TLS_MAX_POINT_FUNCS);

/* key: 0; value: the probe number the dispatcher hands the function it calls on this CPU */
BPF_PERCPU_ARRAY(tls_point_probe, u64, 1);
#endif

/* ------------------------------------------------------------- helpers */

/*
 * Whether the current thread is traced: its process is a target (or, with TLS_SET_ALL,
 * runs as the uid asked for), it is in the cgroup asked for (TLS_SET_CGROUP), and its name
 * is the one asked for. While a reload swaps
 * programs, only those of the settings' generation act: no call is reported twice.
 */
static __always_inline bool traced(u64 id)
{
	u32 zero = 0, tgid = id >> 32;
	struct tls_settings *set = tls_settings.lookup(&zero);
	char comm[TLS_COMM_LEN];
	int i;

	if (!set || set->gen != TLS_GEN)
		return false;
	if (set->flags & TLS_SET_ALL) {
		if (set->uid != TLS_ANY_UID && set->uid != (u32)bpf_get_current_uid_gid())
			return false;
	} else if (!tls_targets.lookup(&tgid)) {
		return false;
	}
	/* 1: the thread is in the cgroup or one below it */
	if ((set->flags & TLS_SET_CGROUP) && tls_cgroup.check_current_task(0) != 1)
		return false;
	if (!set->comm[0])
		return true;
	bpf_get_current_comm(&comm, sizeof(comm));
#pragma unroll
	for (i = 0; i < TLS_COMM_LEN; i++) {
		if (comm[i] != set->comm[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

/* Tells the tracer's thread that follows processes (tls_procs) what a traced process did. */
static __always_inline void notify_proc(void *ctx, u32 pid, u32 kind, u32 flags)
{
	struct tls_proc_event pe = {.pid = pid, .kind = kind, .fd = -1, .flags = flags};

	tls_procs.perf_submit(ctx, &pe, sizeof(pe));
}

/* Whether this generation's programs act: a reload attaches the next generation's before
 * the settings switch to it, and only one of them may tell of a process. */
static __always_inline bool acting(void)
{
	u32 zero = 0;
	struct tls_settings *set = tls_settings.lookup(&zero);

	return set && set->gen == TLS_GEN;
}

/* A probe's cookie: its number in the low 32 bits, and above them what its BPF function
 * needs of the place it is on (a Go call site: where its *tls.Conn is), else 0. */
#define TLS_PROBE_ID(cookie) ((cookie) & 0xffffffffULL)
#define TLS_PROBE_ARG(cookie) ((cookie) >> 32)

/*
 * The cookie of the probe that is running: the attach cookie of its uprobe, or, for a point
 * of the scope, what the dispatcher found it to be (tls_dispatch_entry).
 */
static __always_inline u64 probe_cookie(struct pt_regs *ctx)
{
#ifdef TLS_OFF_TU_OFFSET
	u32 zero = 0;
	u64 *probe = tls_point_probe.lookup(&zero);

	if (probe && *probe)
		return *probe;
#endif
	return bpf_get_attach_cookie(ctx);
}

#define TLS_EAGAIN 11

/* This process's counters on this CPU; a full map shares the TLS_STATS_OTHER_KEY entry. */
static __always_inline struct tls_stats *stats_of(u32 tgid)
{
	struct tls_stats zero = {};
	u32 other = TLS_STATS_OTHER_KEY;
	struct tls_stats *st = tls_stats.lookup_or_try_init(&tgid, &zero);

	return st ? st : tls_stats.lookup(&other);
}

/* Sends an event of meta_event on tls_meta with the first `extra` bytes of its data (at
 * most MAX_DATA_SIZE, as the verifier must see); a refused one is counted. */
static __always_inline void submit_meta_with(void *ctx, struct tls_event *ev, u64 extra)
{
	struct tls_stats *st;

	ev->seq = next_seq();
	if (tls_meta.perf_submit(ctx, ev, TLS_EVENT_HDR_SIZE + extra) < 0 &&
	    (st = stats_of(ev->pid)))
		st->v[TLS_STAT_META_LOST]++;
}

/* A meta event of process tgid whose bytes could not be read is lost as a refused one is:
 * counted so. */
static __always_inline void meta_unread(u32 tgid)
{
	struct tls_stats *st = stats_of(tgid);

	if (st)
		st->v[TLS_STAT_META_LOST]++;
}

/* Sends an event without data (meta_event) on tls_meta. */
static __always_inline void submit_meta(void *ctx, struct tls_event *ev)
{
	submit_meta_with(ctx, ev, 0);
}

/*
 * This CPU's event, filled as an event of `kind` without data by the current thread; the
 * caller sets what the kind adds and sends it (submit_meta).
 */
static __always_inline struct tls_event *meta_event(u64 id, u32 kind)
{
	u32 zero = 0;
	struct tls_event *ev = tls_scratch.lookup(&zero);

	if (!ev)
		return NULL;
	ev->time_ns = bpf_ktime_get_ns();
	ev->probe = 0;
	ev->ret_delta = 0;
	ev->call_id = 0;
	ev->latency_ns = 0;
	ev->conn = 0;
	ev->result = 0;
	ev->pid = id >> 32;
	ev->tid = (u32)id;
	ev->uid = (u32)bpf_get_current_uid_gid();
	ev->dir = 0;
	ev->kind = kind;
	ev->fd = -1;
	ev->call_len = 0;
	ev->offset = 0;
	ev->data_len = 0;
	ev->flags = TLS_CHUNK_LAST;
	ev->truncated = 0;
	ev->unreadable = 0;
	ev->cgroup = bpf_get_current_cgroup_id();
	bpf_get_current_comm(&ev->comm, sizeof(ev->comm));
	return ev;
}

/* A data call's entry as the probes keep it: buf, moved in direction dir, by session sess. */
static __always_inline void init_call(struct tls_call *call, struct pt_regs *ctx, u64 buf,
				      u64 sess, u32 dir)
{
	call->buf = buf;
	call->sp = PT_REGS_SP(ctx);
	call->ip = PT_REGS_IP(ctx);
	call->probe = TLS_PROBE_ID(probe_cookie(ctx));
	call->sess = sess;
	call->start_ns = bpf_ktime_get_ns();
	call->fd = -1;
	call->dir = dir;
	call->kind = TLS_KIND_DATA;
}

/* Thread id's call in flight: in its slot, or else in the overflow table; NULL if none. */
static __always_inline struct tls_call *call_of(u64 id)
{
	u32 tid = (u32)id, idx = tid % TLS_SLOTS;
	struct tls_call *slot = tls_slots.lookup(&idx);

	if (slot && slot->owner == id)
		return slot;
	return tls_calls.lookup(&tid);
}

/* The call has returned: its slot is free again (an overflow entry has owner 0). */
static __always_inline void release_call(u64 id, struct tls_call *call)
{
	u32 tid = (u32)id;

	if (call->owner)
		call->owner = 0;
	else
		tls_calls.delete(&tid);
}

/*
 * The entry of a call: kept in the thread's slot until its return. A data call moves buf
 * (len_ptr: the _ex calls' size_t * out-count; iovcnt: a gathering write's pieces); a call
 * of another kind (a handshake) has neither.
 */
static __always_inline int stash_any(struct pt_regs *ctx, const void *buf, const void *len_ptr,
				     u32 iovcnt, u32 dir, u32 kind)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = (u32)id, idx = tid % TLS_SLOTS;
	struct tls_call call = {}, *cur, *slot;

	if (!traced(id))
		return 0;
	/* The same call passing on to another probed function with the same buffer: by a
	 * jump on the same stack (gnutls_record_send to gnutls_record_send2) or a call deeper
	 * down it (SSL_write to ssl_write_internal, SSL_connect to SSL_do_handshake). Keep the
	 * first stash, so the call is reported once, by the name the program called; the
	 * inner return lets it be. A handshake or verify call inside any other call (a
	 * callback) leaves that call alone. */
	cur = call_of(id);
	if (cur && cur->sp >= PT_REGS_SP(ctx) &&
	    (cur->buf == (u64)buf || (kind != TLS_KIND_DATA && cur->sp > PT_REGS_SP(ctx))))
		return 0;
	init_call(&call, ctx, (u64)buf, PT_REGS_PARM1(ctx), dir);
	call.len_ptr = (u64)len_ptr;
	call.iovcnt = iovcnt;
	call.kind = kind;
	slot = tls_slots.lookup(&idx);
	if (slot && (slot->owner == id || __sync_val_compare_and_swap(&slot->owner, 0, id) == 0)) {
		call.owner = id;
		*slot = call;
		return 0;
	}
	tls_calls.update(&tid, &call); /* another thread holds the slot */
	return 0;
}

/* The entry of a gathering write of iovcnt pieces (PR_Writev). */
static __always_inline int stash_vec(struct pt_regs *ctx, const void *buf, u32 iovcnt, u32 dir)
{
	return stash_any(ctx, buf, 0, iovcnt, dir, TLS_KIND_DATA);
}

/* The entry of a call that moves one buffer (len_ptr: the _ex calls' size_t * out-count). */
static __always_inline int stash_call(struct pt_regs *ctx, const void *buf, const void *len_ptr,
				      u32 dir)
{
	return stash_any(ctx, buf, len_ptr, 0, dir, TLS_KIND_DATA);
}

/* The entry of a handshake (SSL_do_handshake, gnutls_handshake, ...) or of another call
 * of the session whose return is reported (SSL_get_verify_result). */
static __always_inline int stash_session_call(struct pt_regs *ctx, u32 kind)
{
	return stash_any(ctx, 0, 0, 0, 0, kind);
}

/* ------------------------------------------------------------ connections */

#ifdef TLS_OFF_TASK_FILES
/*
 * The file of fd of the current process: current->files->fdt->fd[fd], at the offsets the
 * tracer read from the running kernel's BTF (-DTLS_OFF_*; the headers compiled against may be
 * another kernel's). NULL when unreadable.
 */
static __always_inline char *fd_file(s32 fd)
{
	char *task = (char *)bpf_get_current_task(), *files = 0, *fdt = 0, *file = 0;
	char **fds = 0;
	u32 max_fds = 0;

	if (bpf_probe_read_kernel(&files, sizeof(files), task + TLS_OFF_TASK_FILES) || !files ||
	    bpf_probe_read_kernel(&fdt, sizeof(fdt), files + TLS_OFF_FILES_FDT) || !fdt ||
	    bpf_probe_read_kernel(&max_fds, sizeof(max_fds), fdt + TLS_OFF_FDT_MAX_FDS) ||
	    (u32)fd >= max_fds || bpf_probe_read_kernel(&fds, sizeof(fds), fdt + TLS_OFF_FDT_FD) ||
	    !fds || bpf_probe_read_kernel(&file, sizeof(file), fds + fd))
		return 0;
	return file;
}

/* The inode of a file; NULL when unreadable. */
static __always_inline char *file_inode_of(char *file)
{
	char *inode = 0;

	if (!file || bpf_probe_read_kernel(&inode, sizeof(inode), file + TLS_OFF_FILE_INODE))
		return 0;
	return inode;
}

/* The inode of fd of the current process; NULL when unreadable. */
static __always_inline char *fd_inode(s32 fd)
{
	return file_inode_of(fd_file(fd));
}

/* The identity of the file of `inode` (struct tls_file_key). */
static __always_inline bool inode_key(char *inode, struct tls_file_key *key)
{
	key->ino = 0;
	key->size = 0;
	return inode &&
	       !bpf_probe_read_kernel(&key->ino, sizeof(key->ino), inode + TLS_OFF_INODE_INO) &&
	       !bpf_probe_read_kernel(&key->size, sizeof(key->size), inode + TLS_OFF_INODE_SIZE);
}

/* Whether fd of the current process is a socket (i_mode); unreadable: taken for one. */
static __always_inline bool fd_is_socket(s32 fd)
{
	char *inode = fd_inode(fd);
	u16 mode = 0;

	if (!inode || bpf_probe_read_kernel(&mode, sizeof(mode), inode + TLS_OFF_INODE_MODE))
		return true;
	return (mode & 0170000) == 0140000; /* S_IFSOCK */
}

/* Which socket fd is: its inode number, as /proc/PID/fd/N names it; 0 when unreadable. */
static __always_inline u64 socket_ino(s32 fd)
{
	char *inode = fd_inode(fd);
	u64 ino = 0;

	if (inode)
		bpf_probe_read_kernel(&ino, sizeof(ino), inode + TLS_OFF_INODE_INO);
	return ino;
}

#ifdef TLS_OFF_SKC_FAMILY
/* Whether fd is an IPv4 or IPv6 stream socket (what TLS runs over); unreadable: taken for
 * one. */
static __always_inline bool fd_is_tcp(s32 fd)
{
	char *file = fd_file(fd), *sock = 0, *sk = 0;
	u16 family = 0;
	s16 type = 0;

	if (!file || bpf_probe_read_kernel(&sock, sizeof(sock), file + TLS_OFF_FILE_PRIVATE) ||
	    !sock || bpf_probe_read_kernel(&type, sizeof(type), sock + TLS_OFF_SOCKET_TYPE) ||
	    bpf_probe_read_kernel(&sk, sizeof(sk), sock + TLS_OFF_SOCKET_SK) || !sk ||
	    bpf_probe_read_kernel(&family, sizeof(family),
				  sk + TLS_OFF_SK_COMMON + TLS_OFF_SKC_FAMILY))
		return true;
	return type == 1 /* SOCK_STREAM */ && (family == 2 /* AF_INET */ || family == 10);
}
#else
static __always_inline bool fd_is_tcp(s32 fd)
{
	return fd_is_socket(fd);
}
#endif

#if defined(TLS_OFF_SKC_FAMILY) && defined(TLS_OFF_SKC_NUM)
/* The two ends of TCP socket fd as the kernel holds them (a->family 0: unread). */
static __always_inline void sock_addr(s32 fd, struct tls_sock_addr *a)
{
	char *file = fd_file(fd), *sock = 0, *sk = 0, *skc;
	u16 family = 0, lport = 0, rport = 0;

	a->family = 0;
	if (!file || bpf_probe_read_kernel(&sock, sizeof(sock), file + TLS_OFF_FILE_PRIVATE) ||
	    !sock || bpf_probe_read_kernel(&sk, sizeof(sk), sock + TLS_OFF_SOCKET_SK) || !sk)
		return;
	skc = sk + TLS_OFF_SK_COMMON;
	if (bpf_probe_read_kernel(&family, sizeof(family), skc + TLS_OFF_SKC_FAMILY) ||
	    bpf_probe_read_kernel(&lport, sizeof(lport), skc + TLS_OFF_SKC_NUM) ||
	    bpf_probe_read_kernel(&rport, sizeof(rport), skc + TLS_OFF_SKC_DPORT))
		return;
	if (family == 2 /* AF_INET */ &&
	    (bpf_probe_read_kernel(a->laddr, 4, skc + TLS_OFF_SKC_RCV_SADDR) ||
	     bpf_probe_read_kernel(a->raddr, 4, skc + TLS_OFF_SKC_DADDR)))
		return;
	if (family == 10 /* AF_INET6 */ &&
	    (bpf_probe_read_kernel(a->laddr, 16, skc + TLS_OFF_SKC_V6_RCV_SADDR) ||
	     bpf_probe_read_kernel(a->raddr, 16, skc + TLS_OFF_SKC_V6_DADDR)))
		return;
	if ((family != 2 && family != 10) || !rport)
		return; /* not an internet socket, or not connected: user space says so */
	a->lport = lport;
	a->rport = bpf_ntohs(rport);
	a->family = family;
}
#else
static __always_inline void sock_addr(s32 fd, struct tls_sock_addr *a)
{
	a->family = 0; /* user space looks the socket up */
}
#endif
#else
static __always_inline bool fd_is_socket(s32 fd)
{
	return true; /* no BTF to find the file by: every fd counts */
}

static __always_inline u64 socket_ino(s32 fd)
{
	return 0;
}

static __always_inline bool fd_is_tcp(s32 fd)
{
	return false; /* nothing counted before probes: no BTF to tell a socket by */
}

static __always_inline void sock_addr(s32 fd, struct tls_sock_addr *a)
{
	a->family = 0;
}
#endif

/* Whether fd is a socket (i_mode: a file has no socket behind it, which fd_is_tcp would take
 * for one it cannot read) and an IPv4 or IPv6 stream socket: what a tie takes. */
static __always_inline bool fd_is_tcp_socket(s32 fd)
{
	return fd_is_socket(fd) && fd_is_tcp(fd);
}

/* Whether the file of fd of the current process is one user space looked at; `key` gets
 * its identity (left 0 when unreadable: then it counts as looked at, the notice says more). */
static __always_inline u8 fd_file_known(s32 fd, struct tls_file_key *key)
{
	u8 *known;

	key->ino = 0;
	key->size = 0;
#ifdef TLS_OFF_TASK_FILES
	if (!inode_key(fd_inode(fd), key))
		return TLS_FILE_TLS;
	known = tls_files.lookup(key);
	return known ? *known : 0;
#else
	return TLS_FILE_TLS;
#endif
}

/* Whether the program the current process runs (current->mm->exe_file) is one user space
 * looked at; `key` as fd_file_known's. */
static __always_inline u8 exe_known(struct tls_file_key *key)
{
	u8 *known;

	key->ino = 0;
	key->size = 0;
#if defined(TLS_OFF_MM_EXE_FILE) && defined(TLS_OFF_TASK_FILES)
	char *task = (char *)bpf_get_current_task(), *mm = 0, *exe = 0;

	if (bpf_probe_read_kernel(&mm, sizeof(mm), task + TLS_OFF_TASK_MM) || !mm ||
	    bpf_probe_read_kernel(&exe, sizeof(exe), mm + TLS_OFF_MM_EXE_FILE) ||
	    !inode_key(file_inode_of(exe), key))
		return TLS_FILE_TLS;
	known = tls_files.lookup(key);
	return known ? *known : 0;
#else
	return 0; /* unknown: every exec is looked at before it counts as probed */
#endif
}

/* When the current process started (CLOCK_MONOTONIC ns, as bpf_ktime_get_ns); 0 unknown. */
static __always_inline u64 process_start_ns(void)
{
#ifdef TLS_OFF_TASK_START_TIME
	char *task = (char *)bpf_get_current_task(), *leader = 0;
	u64 start = 0;

	if (bpf_probe_read_kernel(&leader, sizeof(leader), task + TLS_OFF_TASK_GROUP_LEADER) ||
	    !leader ||
	    bpf_probe_read_kernel(&start, sizeof(start), leader + TLS_OFF_TASK_START_TIME))
		return 0;
	return start;
#else
	return 0;
#endif
}

/* Whether the current task holds no perf event (an exec that changed its credentials made
 * the kernel drop them: it has left the scope). */
static __always_inline bool left_scope(void)
{
#ifdef TLS_OFF_TASK_PERF_CTX
	char *task = (char *)bpf_get_current_task(), *ctx = 0;
	u32 zero = 0;
	struct tls_settings *set = tls_settings.lookup(&zero);

	if (!set || !(set->flags & TLS_SET_SCOPE))
		return false;
	return bpf_probe_read_kernel(&ctx, sizeof(ctx), task + TLS_OFF_TASK_PERF_CTX) == 0 && !ctx;
#else
	return false;
#endif
}

/* Announces connection `conn` (socket fd of the current process), twice: as an event
 * ordered with the data (tls_meta) that carries its two ends as read now, so that a socket
 * closed a moment later has them all the same; and first to the thread of notes
 * (tls_conn_notes), which looks the socket up at once when they could not be read here.
 * (Sending that notice only then made a static program's next run lose calls under the
 * sanitizers, for a reason not yet found: it stays.) */
static __always_inline void announce_conn(void *ctx, u64 id, s32 fd, struct tls_fd_key *key,
					  u64 conn)
{
	struct tls_proc_event pe = {.pid = id >> 32, .kind = TLS_PROC_CONN, .fd = fd};
	struct tls_event *ev;

	pe.conn = conn;
	pe.ino = socket_ino(fd);
	sock_addr(fd, &pe.addr);
	tls_conn_notes.perf_submit(ctx, &pe, sizeof(pe));
	ev = meta_event(id, TLS_KIND_CONN_OPEN);
	if (ev) {
		ev->fd = fd;
		ev->conn = conn;
		ev->result = (s64)pe.ino; /* which socket, for the lookups of the main loop */
		if (tls_known_socks.lookup(key))
			ev->flags |= TLS_FLAG_KNOWN;
#if MAX_DATA_SIZE >= TLS_SOCK_ADDR_SIZE
		if (pe.addr.family) {
			__builtin_memcpy(ev->data, &pe.addr, TLS_SOCK_ADDR_SIZE);
			ev->data_len = TLS_SOCK_ADDR_SIZE;
			submit_meta_with(ctx, ev, TLS_SOCK_ADDR_SIZE);
			return;
		}
#endif
		submit_meta(ctx, ev);
	}
}

/* conn_of_fd's `tie`: a call used the socket itself (else: the direction a session whose
 * calls use no socket was tied to it for, tie_late) */
#define TLS_TIE_IN_CALL (-1)

/*
 * The connection of a traced process's socket fd: the one TLS calls used since it was
 * opened, or a new one, announced (announce_conn), made as `tie` says. Its opening must take
 * its place in the sequence before any event of the connection: a thread that finds the
 * connection made by another whose opening is not sent yet (two goroutines' threads, a
 * reader and a writer, on one socket) sends it too, and user space shows the first it gets.
 * hello_in (when not NULL): whether a TLS call on it received a hello yet.
 */
static __always_inline u64 conn_of_fd(void *ctx, u64 id, s32 fd, u64 sess, s32 tie, u32 *hello_in)
{
	struct tls_fd_key key = {.tgid = id >> 32, .fd = fd};
	struct tls_conn *conn = tls_conns.lookup(&key), fresh = {.sess = sess};
	u32 zero = 0;
	u64 *ids;

	fresh.late[0] = tie < 0 ? TLS_TIED_IN_CALL : tie == TLS_DIR_READ ? sess : 0;
	fresh.late[1] = tie < 0 ? TLS_TIED_IN_CALL : tie == TLS_DIR_WRITE ? sess : 0;

	if (!conn) {
		ids = tls_conn_ids.lookup(&zero);
		if (!ids)
			return 0;
		fresh.id = __sync_fetch_and_add(ids, 1) + 1;
		if (tls_conns.insert(&key, &fresh) == 0) {
			announce_conn(ctx, id, fd, &key, fresh.id);
			conn = tls_conns.lookup(&key);
			if (conn)
				conn->told = 1;
			return fresh.id;
		}
		conn = tls_conns.lookup(&key); /* another thread of the process came first */
		if (!conn)
			return 0;
	}
	if (!conn->told)
		announce_conn(ctx, id, fd, &key, conn->id);
	if (hello_in)
		*hello_in = conn->hello_in;
	return conn->id;
}

/*
 * Brings the call and its session's memory into agreement: a call that used a socket
 * teaches its session the connection; a call that used none (served from the library's
 * buffer, or before any syscall) learns it from the session. Returns the session's entry,
 * when there is one.
 */
static __always_inline struct tls_sess *attribute(struct tls_call *call, u64 id)
{
	struct tls_sess_key key = {.sess = call->sess, .tgid = id >> 32};
	struct tls_sess *s = tls_sessions.lookup(&key),
			fresh = {.conn = call->conn, .fd = call->fd, .since_ns = call->start_ns};

	if (!call->conn) {
		if (s) {
			call->conn = s->conn;
			call->fd = s->fd;
		}
		return s;
	}
	if (s && s->conn != call->conn) {
		s->conn = call->conn;
		s->fd = call->fd;
	} else if (!s) {
		tls_sessions.update(&key, &fresh);
		s = tls_sessions.lookup(&key);
	}
	return s;
}

/* ----------------------------------------- bytes moved before probes were in place */

/* How a socket syscall passes its bytes (struct tls_pending_read's how). */
#define TLS_IO_PLAIN 0 /* buf, count */
#define TLS_IO_VEC 1   /* an array of count struct iovec */
#define TLS_IO_MSG 2   /* a struct user_msghdr */
#define TLS_IO_MAX_IOV 8

/* Whether any process may be pending (tls_pending_on): every socket syscall asks. */
static __always_inline bool pending_on(void)
{
	u32 zero = 0;
	u64 *on = tls_pending_on.lookup(&zero);

	return on && *on;
}

/* Process tgid may run TLS code without probes from now on (`why`, because of file `f`):
 * its sockets' TLS bytes are counted until user space has looked at it. */
static __always_inline void mark_pending(u32 tgid, const struct tls_file_key *f, u32 why)
{
	struct tls_pending fresh = {.since_ns = bpf_ktime_get_ns(), .why = why}, *p;
	struct tls_stats *st;
	u32 zero = 0;
	u64 *on;

	p = tls_pending.lookup(&tgid);
	if (p) {
		p->why |= why; /* two threads at once may lose a reason: either one makes it pending */
		return;
	}
	fresh.file = *f;
	if (tls_pending.insert(&tgid, &fresh) == 0) {
		if ((on = tls_pending_on.lookup(&zero)))
			*on = 1;
	} else if (!tls_pending.lookup(&tgid) && (st = stats_of(tgid))) {
		st->v[TLS_STAT_UNCOUNTED]++; /* the map is full: not a thread that came first */
	}
}

#define TLS_RECORD_HANDSHAKE 22
#define TLS_RECORD_APPLICATION_DATA 23

/* The TLS record whose header is at user address buf: its content type, 20-23 (change
 * cipher spec, alert, TLS_RECORD_HANDSHAKE, TLS_RECORD_APPLICATION_DATA) with version 3.x,
 * and its length into *len; 0 when the bytes begin no record. */
static __always_inline u32 record_at(u64 buf, u32 *len)
{
	u8 b[5] = {};

	if (!buf || bpf_probe_read_user(b, sizeof(b), (const void *)buf) || b[0] < 20 ||
	    b[0] > 23 || b[1] != 3 || b[2] > 4)
		return 0;
	*len = (u32)b[3] << 8 | b[4];
	return b[0];
}

/* The first buffer of what a syscall moves (`how`): buf itself, the base of the first
 * iovec, or of the message's first iovec. */
static __always_inline u64 first_buffer(u64 buf, u32 how)
{
	u64 iov = buf, base = 0;

	if (how == TLS_IO_MSG &&
	    bpf_probe_read_user(&iov, sizeof(iov), (const void *)(buf + 16))) /* msg_iov */
		return 0;
	if (how != TLS_IO_PLAIN && bpf_probe_read_user(&base, sizeof(base), (const void *)iov))
		return 0;
	return how == TLS_IO_PLAIN ? buf : base;
}

/* The length of the first iovec of a gathering send (`how` not TLS_IO_PLAIN) into *len:
 * 0, or -1 when it cannot be read. */
static __always_inline int first_iov_len(u64 buf, u32 how, u64 *len)
{
	u64 iov = buf;

	if (how == TLS_IO_MSG &&
	    bpf_probe_read_user(&iov, sizeof(iov), (const void *)(buf + 16))) /* msg_iov */
		return -1;
	return bpf_probe_read_user(len, sizeof(*len), (const void *)(iov + 8)) ? -1 : 0;
}

/* The second iovec of a gathering send (`how` not TLS_IO_PLAIN; pieces: a writev's count):
 * its base and length; 0, or -1 when it has none or it cannot be read. */
static __always_inline int second_iov(u64 buf, u32 how, u64 pieces, u64 *base, u64 *len)
{
	u64 iov = buf;

	if (how == TLS_IO_MSG &&
	    (bpf_probe_read_user(&iov, sizeof(iov), (const void *)(buf + 16)) || /* msg_iov */
	     bpf_probe_read_user(&pieces, sizeof(pieces),
				 (const void *)(buf + 24)))) /* msg_iovlen */
		return -1;
	if (pieces < 2 || bpf_probe_read_user(base, sizeof(*base), (const void *)(iov + 16)) ||
	    bpf_probe_read_user(len, sizeof(*len), (const void *)(iov + 24)))
		return -1;
	return 0;
}

/* What a send asks to move: count bytes, or the lengths of its first TLS_IO_MAX_IOV
 * iovecs (an array of count, or the message's). */
static __always_inline u64 send_size(u64 buf, u64 count, u32 how)
{
	u64 iov = buf, n = count, len = 0, total = 0;
	int i;

	if (how == TLS_IO_PLAIN)
		return count;
	if (how == TLS_IO_MSG &&
	    (bpf_probe_read_user(&iov, sizeof(iov), (const void *)(buf + 16)) ||
	     bpf_probe_read_user(&n, sizeof(n), (const void *)(buf + 24))))
		return 0;
#pragma unroll
	for (i = 0; i < TLS_IO_MAX_IOV; i++) {
		if ((u64)i >= n ||
		    bpf_probe_read_user(&len, sizeof(len), (const void *)(iov + i * 16 + 8)))
			break;
		total += len;
	}
	return total;
}

/* A traced process maps file fd executable: told to user space when the tracer has not
 * looked at that file yet (the process is pending until it has: *flags says so) or it is a
 * TLS library (user space keeps what each process maps); a file the tracer found to hold no
 * TLS code costs nothing more. */
static __always_inline bool mapping_told(u64 id, s32 fd, u32 *flags)
{
	struct tls_file_key key;
	u8 known = fd_file_known(fd, &key);

	*flags = 0;
	if (known == TLS_FILE_PLAIN)
		return false;
	if (!known) {
		mark_pending(id >> 32, &key, TLS_PENDING_MMAP);
		*flags = TLS_PENDING_MMAP;
	}
	return true;
}

/*
 * `n` bytes moved on socket fd by a thread of a pending process (`sent` or received), the
 * first of them at user address `first`. Counted when the socket carries TLS (its bytes
 * began a record when first seen) and no probed call has used it yet (tls_conns): once one
 * has, its bytes are the probes'. A new such socket is looked up at once (its addresses).
 */
static __always_inline void count_pending(void *ctx, u64 id, s32 fd, u64 first, u64 n, bool sent)
{
	u32 tgid = id >> 32;
	struct tls_fd_key ckey = {.tgid = tgid, .fd = fd};
	struct tls_pending_key key = {.tgid = tgid, .fd = fd};
	struct tls_proc_event pe = {.pid = tgid, .kind = TLS_PROC_PENDING_CONN, .fd = fd};
	struct tls_pending_fd *pf, fresh = {};
	struct tls_stats *st;
	u32 len;

	if (!n || !tls_pending.lookup(&tgid) || tls_conns.lookup(&ckey) || !fd_is_tcp(fd))
		return;
	key.ino = socket_ino(fd);
	pf = tls_pending_fds.lookup(&key);
	if (!pf) {
		if (!record_at(first, &len))
			return;
		tls_pending_fds.insert(&key, &fresh);
		pf = tls_pending_fds.lookup(&key);
		if (!pf && (st = stats_of(tgid))) /* the map is full */
			st->v[TLS_STAT_UNCOUNTED]++;
		pe.ino = key.ino;
		sock_addr(fd, &pe.addr);
		tls_conn_notes.perf_submit(ctx, &pe, sizeof(pe));
	}
	if (pf)
		__sync_fetch_and_add(sent ? &pf->sent : &pf->recv, n);
}

/* ---------------------------------------- sessions whose calls use no socket */

/* Whether any thread has made a call that used no socket (tls_untied_on). */
static __always_inline bool untied_on(void)
{
	u32 zero = 0;
	u64 *on = tls_untied_on.lookup(&zero);

	return on && *on;
}

/* Tells user space that session sess, known since since_ns, is connection conn (socket
 * fd), found for direction dir: its calls held without a connection go on with it. */
static __always_inline void send_tie(void *ctx, u64 id, u64 sess, u64 since_ns, u64 conn,
				     s32 fd, u32 dir)
{
	struct tls_event *ev = meta_event(id, TLS_KIND_CONN_TIE);

	if (!ev)
		return;
	ev->conn = conn;
	ev->fd = fd;
	ev->dir = dir;
	ev->result = (s64)sess;
	ev->latency_ns = ev->time_ns > since_ns ? ev->time_ns - since_ns : 0;
	submit_meta(ctx, ev);
}

/*
 * Ties session sess of the current process to socket fd, found after the fact for direction
 * dir (tls_untied): the socket's connection becomes the session's, and a TLS_KIND_CONN_TIE
 * event tells user space, which holds the session's calls that came without a connection a
 * while for it. Refused where the session has another connection, a call used the socket
 * itself, or fd is no TCP socket, and for a write where another session writes on it. A
 * read takes the place of the session tied before it (TLS 1.3 opens the handshake's records
 * and the data's with different keys: rustls and aws-lc have a session object for each),
 * which forgets the connection. Returns the connection, 0 when refused.
 */
static __always_inline u64 tie_late(void *ctx, u64 id, s32 fd, u64 sess, u32 dir)
{
	struct tls_fd_key key = {.tgid = id >> 32, .fd = fd};
	struct tls_sess_key skey = {.sess = sess, .tgid = id >> 32};
	struct tls_sess *s = tls_sessions.lookup(&skey), fresh = {.fd = fd};
	struct tls_conn *c = tls_conns.lookup(&key);
	u32 d = dir & 1;
	u64 before = c ? c->late[d] : 0;

	if ((before && before != sess && (d == TLS_DIR_WRITE || before == TLS_TIED_IN_CALL)) ||
	    (s && s->conn && s->fd != fd) || !fd_is_tcp_socket(fd))
		return 0;
	fresh.since_ns = bpf_ktime_get_ns();
	fresh.conn = conn_of_fd(ctx, id, fd, sess, (s32)d, NULL);
	c = tls_conns.lookup(&key);
	/* made now with sess in place, or taken from what was seen above: another thread
	 * may have come between (a call that used the socket, another tie) */
	if (!fresh.conn || !c ||
	    (c->late[d] != sess && __sync_val_compare_and_swap(&c->late[d], before, sess) != before))
		return 0;
	if (before && before != sess) {
		skey.sess = before; /* its place taken: an object at its address later is another */
		tls_sessions.delete(&skey);
		skey.sess = sess;
	}
	s = tls_sessions.lookup(&skey);
	if (s) {
		s->conn = fresh.conn;
		s->fd = fd;
		s->waiting = 0;
		fresh.since_ns = s->since_ns;
	} else {
		tls_sessions.update(&skey, &fresh);
	}
	send_tie(ctx, id, sess, fresh.since_ns, fresh.conn, fd, d);
	return fresh.conn;
}

/* The thread's entry in tls_untied, made if new; NULL when the map refuses. */
static __always_inline struct tls_untied *untied_of(u32 tid)
{
	struct tls_untied fresh = {.rfd = -1, .rnext = -1, .lastfd = -1, .hnext = -1, .hfd = -1},
			  *u = tls_untied.lookup(&tid);

	if (u)
		return u;
	tls_untied.update(&tid, &fresh);
	return tls_untied.lookup(&tid);
}

/* A call of session sess found no connection where its session's calls use no socket: its
 * event names the session (tls_call's untied), and the connection it gets is told. */
static __always_inline void mark_untied(struct tls_call *call, u64 id)
{
	struct tls_sess_key key = {.sess = call->sess, .tgid = id >> 32};
	struct tls_sess fresh = {.fd = -1, .waiting = 1, .since_ns = call->start_ns},
			*s = tls_sessions.lookup(&key);

	call->untied = 1;
	if (s)
		s->waiting = 1;
	else
		tls_sessions.update(&key, &fresh);
}

/* A read call (a handshake's, a record's opening) of a session whose calls use no socket
 * found no connection: the one TCP socket its thread read TLS bytes from since its last
 * call, if there is one, is its connection's. */
static __always_inline void tie_read(void *ctx, struct tls_call *call, u64 id,
				     const struct tls_untied *u)
{
	if (u->rfd >= 0 && u->record &&
	    (call->conn = tie_late(ctx, id, u->rfd, call->sess, TLS_DIR_READ)))
		call->fd = u->rfd;
}

/*
 * A data call that moved `moved` bytes (0: it failed): its connection (attribute), and
 * where its session's calls use no socket and it found none, the one its thread's socket
 * calls next to it tell. A read takes the one socket its thread read TLS bytes from since
 * its last call, if there is one; a write waits for the thread's next application-data
 * record of its size written (tie_sent). Every data call ends what its thread read before.
 * A session that got its connection after calls of it went without one tells it.
 */
static __always_inline void attribute_data(void *ctx, struct tls_call *call, u64 id, u64 moved)
{
	u32 tid = (u32)id, zero = 0;
	struct tls_untied *u = tls_untied.lookup(&tid);
	struct tls_sess *s = attribute(call, id);
	struct tls_fd_key key = {.tgid = id >> 32, .fd = call->fd};
	struct tls_conn *c;
	u64 *on, now;

	if (call->conn && s && s->waiting) { /* a call used its socket at last */
		s->waiting = 0;
		send_tie(ctx, id, call->sess, s->since_ns, call->conn, call->fd, call->dir);
	}
	/* a session tied by its reads writes on its socket: no other session's write is
	 * tied to it */
	if (call->conn && u && call->dir == TLS_DIR_WRITE && (c = tls_conns.lookup(&key)) &&
	    !c->late[TLS_DIR_WRITE])
		__sync_val_compare_and_swap(&c->late[TLS_DIR_WRITE], 0, call->sess);
	if (call->conn || !call->sess || !moved) {
		if (u) { /* a failed read may have taken the first part of a record */
			u->lastfd = !moved && call->dir == TLS_DIR_READ && u->record ? u->rfd : -1;
			u->rfd = -1;
		}
		return;
	}
	if (!u && !(u = untied_of(tid)))
		return;
	if (call->dir == TLS_DIR_READ) {
		tie_read(ctx, call, id, u);
	} else {
		if ((on = tls_untied_on.lookup(&zero)))
			*on = 1;
		now = bpf_ktime_get_ns();
		if (!u->wsess || now - u->wtime > TLS_UNTIED_WRITE_NS) {
			u->wsess = call->sess; /* its first record is the one to be written first */
			u->wtime = now;
			u->wlen = moved < TLS_MAX_PLAINTEXT ? (u32)moved : TLS_MAX_PLAINTEXT;
		} else if (u->wsess != call->sess) {
			u->wsess = TLS_UNTIED_MANY;
		}
	}
	u->rfd = -1;
	u->lastfd = -1;
	if (!call->conn)
		mark_untied(call, id);
}

/*
 * A record rustls or aws-lc opened that is not the program's bytes (a handshake message, a
 * session ticket, an alert: its session may be the next data's, TLS 1.3's tickets come
 * under the data's key) ties its session as a read call does. The socket it came on stays
 * for the thread's next call until the thread reads again: TLS 1.3's client Finished and the
 * first request often come in one read, opened by two session objects.
 */
static __always_inline void tie_record(void *ctx, struct tls_call *call, u64 id)
{
	u32 tid = (u32)id;
	struct tls_untied *u = tls_untied.lookup(&tid);

	attribute(call, id);
	if (!u)
		return;
	if (!call->conn && call->sess)
		tie_read(ctx, call, id, u);
	u->fresh = 1;
}

/* Thread id writes to socket fd outside any TLS call (buf and `how` as first_buffer's): when
 * the bytes begin an application-data record the size an AEAD makes of the waiting write's
 * first record, that write's session is tied to fd. */
static __always_inline void tie_sent(void *ctx, u64 id, s32 fd, u64 buf, u32 how)
{
	u32 tid = (u32)id, len = 0, grown;
	struct tls_untied *u;

	if (!untied_on() || !(u = tls_untied.lookup(&tid)) || !u->wsess ||
	    record_at(first_buffer(buf, how), &len) != TLS_RECORD_APPLICATION_DATA)
		return;
	grown = len - u->wlen;
	if (u->wsess == TLS_UNTIED_MANY || bpf_ktime_get_ns() - u->wtime > TLS_UNTIED_WRITE_NS)
		u->wsess = 0;
	else if ((grown == TLS_AEAD_TAG_ONLY || grown == TLS_AEAD_TLS13 ||
		  grown == TLS_AEAD_GCM12) &&
		 tie_late(ctx, id, fd, u->wsess, TLS_DIR_WRITE))
		u->wsess = 0;
}

/* 1 when a < b, else 0, without a branch (both below 2^63). */
static __always_inline u64 below(u64 a, u64 b)
{
	return (a - b) >> 63;
}

/* The smaller of a and b, without a branch (both below 2^63). The empty asm hides the
 * mask from clang, which would otherwise turn this back into a branch. */
static __always_inline u64 smaller(u64 a, u64 b)
{
	u64 mask = -below(a, b);

	asm volatile("" : "+r"(mask));
	return b + ((a - b) & mask);
}

#define TLS_HS_CLIENT_HELLO 1
#define TLS_HS_SERVER_HELLO 2
#define TLS_HELLO_BYTES (TLS_HELLO_MAX < MAX_DATA_SIZE ? TLS_HELLO_MAX : MAX_DATA_SIZE)
#define TLS_HELLO_MIN 11 /* record and handshake headers, and the version: what says anything */

/* The body's length in a record header held as its 5 bytes in memory order. */
static __always_inline u32 record_len(u64 hdr)
{
	return (u32)(hdr >> 24 & 0xff) << 8 | (u32)(hdr >> 32 & 0xff);
}

/*
 * The handshake message at src (avail bytes there): TLS_HS_CLIENT_HELLO or
 * TLS_HS_SERVER_HELLO when it begins one, with a length under 64 KiB and a legacy_version
 * of 3.x; else 0. A TLS 1.2 Finished is a handshake record too, encrypted: its first
 * bytes are random, so the type alone would take one in 128 for a hello.
 */
static __always_inline u8 hello_msg(u64 src, u64 avail)
{
	u8 b[6] = {};

	if (avail < sizeof(b) || bpf_probe_read_user(b, sizeof(b), (const void *)src) ||
	    (b[0] != TLS_HS_CLIENT_HELLO && b[0] != TLS_HS_SERVER_HELLO) || b[1] || b[4] != 3 ||
	    b[5] > 4)
		return 0;
	return b[0];
}

/*
 * Sends a hello a traced thread sent or received (dir) on TCP socket fd (TLS_KIND_HELLO):
 * the record at src, avail bytes of it there, rec_len its body's length; or, with hdr,
 * the record's header apart (hdr's 5 bytes) and src its body. conn: the TLS call's.
 */
static __always_inline void send_hello(void *ctx, u64 id, s32 fd, u32 dir, u64 src, u64 avail,
				       u32 rec_len, u64 hdr, u64 conn)
{
	struct tls_event *ev = meta_event(id, TLS_KIND_HELLO);
	struct tls_fd_key key = {.tgid = id >> 32, .fd = fd};
	struct tls_conn *c;
	u64 n;

	if (!ev)
		return;
	/* smaller() hides the bounds from clang, which would drop the checks the verifier
	 * needs; each path copies to a constant place */
	if (hdr) {
		__builtin_memcpy(ev->data, &hdr, 5);
		n = smaller(smaller(avail & 0xffffffff, rec_len), TLS_HELLO_BYTES - 5);
		if (n > TLS_HELLO_BYTES - 5)
			return;
		if (bpf_probe_read_user(ev->data + 5, n, (const void *)src)) {
			meta_unread(id >> 32);
			return;
		}
		n += 5;
	} else {
		n = smaller(smaller(avail & 0xffffffff, (u64)rec_len + 5), TLS_HELLO_BYTES);
		if (n > TLS_HELLO_BYTES)
			return;
		if (bpf_probe_read_user(ev->data, n, (const void *)src)) {
			meta_unread(id >> 32);
			return;
		}
	}
	if (n < TLS_HELLO_MIN)
		return;
	ev->dir = dir;
	ev->conn = conn;
	ev->fd = fd;
	ev->result = (s64)socket_ino(fd);
	ev->call_len = rec_len + 5;
	ev->data_len = (u32)n;
	submit_meta_with(ctx, ev, n);
	if (dir == TLS_DIR_READ && conn && (c = tls_conns.lookup(&key)))
		c->hello_in = 1; /* its calls' reads need not be looked at any more */
}

/* Connection (tgid of id, fd) has received its hello, or is past it: its TLS calls' reads
 * are looked at no more (conn_of_fd's hello_in). */
static __always_inline void hello_done(u64 id, s32 fd)
{
	struct tls_fd_key key = {.tgid = id >> 32, .fd = fd};
	struct tls_conn *c = tls_conns.lookup(&key);

	if (c)
		c->hello_in = 1;
}

#define TLS_CERT_BYTES (TLS_CERT_MAX < MAX_DATA_SIZE ? TLS_CERT_MAX : MAX_DATA_SIZE)

/*
 * Inside TLS call `call` of thread id, a certificate's DER, len bytes at der, handed to the
 * X.509 parser (the probe running), which returns to ret: sent to user space
 * (TLS_KIND_CERT), which keeps those the TLS library parses (the peer's chain) and leaves
 * the rest (a CA the parser's own library looks up on disk while verifying). A call that
 * has used no socket yet takes its session's connection, if BPF knows it; else the event
 * names the session (result) for the tie that may come (a memory BIO's, tie_late).
 */
static __always_inline void cert_event(struct pt_regs *ctx, const struct tls_call *call, u64 id,
				       u64 der, u64 len, u64 ret)
{
	struct tls_sess_key key = {.sess = call->sess, .tgid = id >> 32};
	u64 n = smaller(len, TLS_CERT_BYTES);
	struct tls_event *ev;
	struct tls_sess *s;

	if (!n || n > TLS_CERT_BYTES || !(ev = meta_event(id, TLS_KIND_CERT)))
		return;
	if (bpf_probe_read_user(ev->data, n, (const void *)der)) {
		meta_unread(id >> 32);
		return;
	}
	ev->probe = call->probe;
	ev->ret_delta = (s64)(ret - call->ip);
	ev->call_id = TLS_PROBE_ID(probe_cookie(ctx));
	ev->latency_ns = ret - PT_REGS_IP(ctx);
	ev->conn = call->conn;
	ev->fd = call->fd;
	if (!ev->conn && call->sess && (s = tls_sessions.lookup(&key)) && s->conn) {
		ev->conn = s->conn;
		ev->fd = s->fd;
	}
	ev->result = ev->conn ? 0 : (s64)call->sess;
	ev->call_len = len > 0xffffffffULL ? 0xffffffffU : (u32)len;
	ev->data_len = (u32)n;
	submit_meta_with(ctx, ev, n);
}

/* At the entry of an X.509 parser, a certificate's DER, len bytes at der: sent when the
 * thread is inside a TLS call, and not inside its check of the peer's chain (cert_event). */
static __always_inline int send_cert(struct pt_regs *ctx, u64 der, u64 len)
{
	u64 id = bpf_get_current_pid_tgid(), ret = 0;
	struct tls_call *call = call_of(id);

	if (call && !call->verifying &&
	    !bpf_probe_read_user(&ret, sizeof(ret), (const void *)PT_REGS_SP(ctx)))
		cert_event(ctx, call, id, der, len, ret);
	return 0;
}

/*
 * A read from socket fd looked at for a hello (u's hnext) returned ret bytes at u's hbuf,
 * which begin a record of `type` (0: none) with a body of len bytes. Sent: a ClientHello or
 * ServerHello record, or the body of one whose header came alone in the thread's read
 * before from the same socket (OpenSSL and NSS read a record's header, then its body).
 * Inside a TLS call, a record of another type than handshake ends the looking (the
 * handshake is past: a hello missed, or a connection older than the tracer).
 */
static __always_inline void hello_received(void *ctx, u64 id, struct tls_untied *u, s32 fd,
					   long ret, u32 type, u32 len)
{
	u64 buf = u->hbuf, avail = smaller((u64)ret, u->hroom), hdr = u->hhdr;

	/* a call's socket may be any: it is checked to be TCP once per hello, as sends are */
	if (hdr && u->hfd == fd) {
		u->hhdr = 0;
		if (u->hino == socket_ino(fd) && hello_msg(buf, avail)) {
			if (!u->hconn || fd_is_tcp_socket(fd))
				send_hello(ctx, id, fd, TLS_DIR_READ, buf, avail, record_len(hdr),
					   hdr, u->hconn);
			return;
		}
		/* not that record's body: a record of its own */
	}
	if (type == TLS_RECORD_HANDSHAKE && avail == 5) { /* its body comes next */
		hdr = 0;
		if (!bpf_probe_read_user(&hdr, 5, (const void *)buf) && hdr) {
			u->hhdr = hdr;
			u->hfd = fd;
			u->hino = socket_ino(fd);
		}
	} else if (type == TLS_RECORD_HANDSHAKE && avail >= TLS_HELLO_MIN &&
		   hello_msg(buf + 5, avail - 5)) {
		if (!u->hconn || fd_is_tcp_socket(fd))
			send_hello(ctx, id, fd, TLS_DIR_READ, buf, avail, len, 0, u->hconn);
	} else if (type && type != TLS_RECORD_HANDSHAKE && u->hconn) {
		hello_done(id, fd);
	}
}

/* A traced thread (id) starts a read on TCP socket fd outside any TLS call (buf and `how`
 * as first_buffer's): kept for its return (read_done), which a read call of a session
 * whose calls use no socket may be tied by next (attribute_data). Every traced thread's
 * such reads are kept, so that a session's first read call has them too. */
static __always_inline void read_starts(u64 id, s32 fd, u64 buf, u32 how)
{
	struct tls_untied *u;

	if (!traced(id) || !fd_is_tcp_socket(fd) || !(u = untied_of((u32)id)))
		return;
	u->rnext = fd;
	u->rbuf = first_buffer(buf, how);
#ifndef TLS_NO_HELLOS
	u->hnext = fd; /* and what it reads may be a hello */
	u->hbuf = u->rbuf;
	u->hroom = 0xffffffffULL; /* any read (smaller() wants both below 2^63) */
	if (how != TLS_IO_PLAIN && first_iov_len(buf, how, &u->hroom))
		u->hroom = 0;
	u->hconn = 0;
#endif
}

/* A TLS call's thread starts a read on its call's socket fd: looked at for a hello where
 * the call is a handshake, or its connection has received none yet. */
static __always_inline void call_read_starts(struct tls_call *call, u64 id, s32 fd, u64 buf,
					     u32 how)
{
#ifndef TLS_NO_HELLOS /* -D TLS_NO_HELLOS: no hello is read (bench/run --handshakes) */
	struct tls_untied *u;

	if (call->fd != fd || (call->kind != TLS_KIND_HANDSHAKE && !call->hello_wait) ||
	    !(u = untied_of((u32)id)))
		return;
	u->hnext = fd;
	u->hbuf = first_buffer(buf, how);
	u->hroom = 0xffffffffULL; /* any read (smaller() wants both below 2^63) */
	if (how != TLS_IO_PLAIN && first_iov_len(buf, how, &u->hroom))
		u->hroom = 0;
	u->hconn = call->conn;
#endif
}

/* The thread's read returned ret: bytes read from a TCP socket count (tls_untied's rfd),
 * and may be a hello it received. */
static __always_inline void read_done(void *ctx, u64 id, long ret)
{
	u32 tid = (u32)id, type = 0, len = 0;
	struct tls_untied *u = tls_untied.lookup(&tid);
	s32 fd, hfd;

	if (!u || (u->rnext < 0 && u->hnext < 0))
		return;
	fd = u->rnext;
	hfd = u->hnext;
	u->rnext = -1;
	u->hnext = -1;
	if (ret <= 0)
		return;
	if (hfd >= 0) { /* outside a call, hbuf is rbuf: its record is read once */
		type = record_at(u->hbuf, &len);
		hello_received(ctx, id, u, hfd, ret, type, len);
	} else {
		type = record_at(u->rbuf, &len);
	}
	if (fd < 0)
		return;
	if (u->rfd == -1 || (u->fresh && u->rfd != fd)) {
		u->rfd = fd;
		u->record = fd == u->lastfd; /* the rest of a record a failed call began */
		u->hello = 0;
	} else if (u->rfd != fd) {
		u->rfd = TLS_UNTIED_MANY_FDS;
	}
	u->fresh = 0;
	u->lastfd = -1;
	if (type) {
		u->record = 1;
		u->hello |= type == TLS_RECORD_HANDSHAKE;
	}
}

/*
 * A syscall on fd by a thread: the first socket a TLS call moves bytes on names the call's
 * connection. read/write/readv/writev may be on stderr, a log or keylog file, a pipe (a
 * callback inside SSL_write): `sock` says the syscall takes sockets only, else fd is looked
 * at. Returns the thread's call in flight, NULL when none.
 */
static __always_inline struct tls_call *saw_fd(void *ctx, u64 id, s64 fd, bool sock)
{
	struct tls_call *call = call_of(id);
	u32 hello_in = 0;

	if (!call || call->fd >= 0 || fd < 0 || fd > 0x7fffffff)
		return call;
	if (!sock && !fd_is_socket((s32)fd))
		return call;
	call->fd = (s32)fd;
	call->conn = conn_of_fd(ctx, id, (s32)fd, call->sess, TLS_TIE_IN_CALL, &hello_in);
	call->hello_wait = !hello_in;
	return call;
}

/*
 * A traced thread (`in_call`: one in a TLS call) sends on TCP socket fd bytes that begin a
 * ClientHello or ServerHello record (buf and `how` as first_buffer's, count what a plain send
 * moves): its first bytes go to user space (TLS_KIND_HELLO), which reads the server name,
 * ALPN, version and cipher suite from them. Every library's handshake, Go's and memory BIOs'
 * included, sends them in clear: one event per hello sent.
 */
static __always_inline void hello_sent(void *ctx, u64 id, s32 fd, u64 buf, u64 count, u32 how,
				       bool in_call)
{
	u64 first = first_buffer(buf, how), src = first, hdr = 0, pieces = count;
	struct tls_call *call;
	u32 len = 0;

	/* a thread in a TLS call is traced; any other write is looked at only when it is */
	if ((!in_call && !traced(id)) || record_at(first, &len) != TLS_RECORD_HANDSHAKE)
		return;
	/* the bytes this send holds in its first buffer: the record's and the handshake
	 * message's headers at least, or the record's header alone with the message in the
	 * second (GnuTLS's writev), or nothing can be read of it */
	if ((how == TLS_IO_VEC && !count) ||
	    (how != TLS_IO_PLAIN && first_iov_len(buf, how, &count)))
		return;
	if (count == 5 && how != TLS_IO_PLAIN) {
		if (second_iov(buf, how, pieces, &src, &count) ||
		    bpf_probe_read_user(&hdr, 5, (const void *)first) || !hello_msg(src, count))
			return;
	} else if (count < TLS_HELLO_MIN || !hello_msg(first + 5, count - 5)) {
		return;
	}
	if (!fd_is_tcp_socket(fd))
		return;
	call = call_of(id);
	send_hello(ctx, id, fd, TLS_DIR_WRITE, src, count, len, hdr,
		   call && call->fd == fd ? call->conn : 0);
}

/* A send on fd (write, writev, sendto, sendmsg; `how` its bytes are passed): a TLS call's
 * connection, or bytes a pending process sends before its probes are in place; a hello. */
static __always_inline int saw_send(void *ctx, s64 fd, bool sock, u64 buf, u64 count, u32 how)
{
	u64 id = bpf_get_current_pid_tgid();
	bool in_call = saw_fd(ctx, id, fd, sock) != NULL;

	if (fd < 0 || fd > 0x7fffffff)
		return 0;
#ifndef TLS_NO_HELLOS /* -D TLS_NO_HELLOS: no hello is read (bench/run --handshakes) */
	hello_sent(ctx, id, (s32)fd, buf, count, how, in_call);
#endif
	if (in_call)
		return 0;
	tie_sent(ctx, id, (s32)fd, buf, how);
	if (pending_on())
		count_pending(ctx, id, (s32)fd, first_buffer(buf, how), send_size(buf, count, how),
			      true);
	return 0;
}

/* A read on fd (read, readv, recvfrom, recvmsg): as saw_send; a pending process's is kept
 * for its return, which says what it moved. */
static __always_inline int saw_recv(void *ctx, s64 fd, bool sock, u64 buf, u32 how)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tgid = id >> 32, tid = (u32)id;
	struct tls_pending_read r = {.buf = buf, .fd = (s32)fd, .how = how};
	struct tls_call *call = saw_fd(ctx, id, fd, sock);

	if (fd < 0 || fd > 0x7fffffff)
		return 0;
	if (call) {
		call_read_starts(call, id, (s32)fd, buf, how);
		return 0;
	}
	read_starts(id, (s32)fd, buf, how);
	if (pending_on() && tls_pending.lookup(&tgid))
		tls_pending_reads.update(&tid, &r);
	return 0;
}

/* A socket read of a thread returned: one that would block inside a handshake means the
 * handshake goes on in a later call (non-blocking I/O), not that it failed; a pending
 * process's read is counted. */
static __always_inline int saw_return(void *ctx, long ret)
{
	u64 id;
	u32 tid;
	struct tls_call *call;
	struct tls_pending_read *r;

	if (ret == -TLS_EAGAIN) {
		id = bpf_get_current_pid_tgid();
		call = call_of(id);
		if (call)
			call->again = 1;
	}
	read_done(ctx, bpf_get_current_pid_tgid(), ret);
	if (!pending_on())
		return 0;
	id = bpf_get_current_pid_tgid();
	tid = (u32)id;
	r = tls_pending_reads.lookup(&tid);
	if (!r)
		return 0;
	if (ret > 0)
		count_pending(ctx, id, r->fd, first_buffer(r->buf, r->how), (u64)ret, false);
	tls_pending_reads.delete(&tid);
	return 0;
}

/* The call's last chunk was refused (the buffer is full): tls_meta, which a flood of data
 * does not fill, says so, so that user space need not wait for it to come (ev is spent). */
static __always_inline void send_gap(struct pt_regs *ctx, struct tls_event *ev)
{
	ev->kind = TLS_KIND_GAP;
	ev->data_len = 0;
	ev->unreadable = 0;
	tls_meta.perf_submit(ctx, ev, TLS_EVENT_HDR_SIZE);
}

/*
 * Sends the len bytes at src as the chunk at `off` within its call. Branch-free on purpose:
 * a helper's negative return shifted right by 63 is 1, else 0, so the verifier's states do
 * not multiply per chunk. Bytes that cannot be read are sent as none, marked unreadable; a
 * refused submit is counted with all len bytes. Returns 1 when it was refused, else 0.
 */
static __always_inline u64 send_chunk(struct pt_regs *ctx, struct tls_event *ev, u64 src, u64 off,
				      u32 len, struct tls_stats *st)
{
	long ret = bpf_probe_read_user(ev->data, len, (const void *)src);
	u32 n = len & (u32)(((u64)ret >> 63) - 1);
	u64 refused;

	ev->offset = (u32)off;
	ev->data_len = n;
	ev->unreadable = len - n;
	ret = tls_events.perf_submit(ctx, ev, TLS_EVENT_HDR_SIZE + n);
	refused = (u64)ret >> 63;
	st->v[TLS_STAT_SUBMIT_FAILED] += refused;
	st->v[TLS_STAT_BYTES_LOST] += refused * len;
	return refused;
}

/* Whether the settings let this call be captured: its direction, its uid, the sample. */
static __always_inline bool wanted(const struct tls_settings *set, u32 dir, u32 uid, u64 call_id)
{
	u32 sample = set->sample ? set->sample : 1;

	return (set->dirs >> dir) & 1 && (set->uid == TLS_ANY_UID || set->uid == uid) &&
	       call_id % sample == 0;
}

/* The chunk that ends the call: its flag, and the bytes beyond the capture limit. */
static __always_inline void mark_last(struct tls_event *ev, u64 moved, u64 cap)
{
	ev->flags = TLS_CHUNK_LAST;
	ev->truncated = (u32)(moved - cap);
}

/* A contiguous buffer as chunks of MAX_DATA_SIZE; every chunk but the last is full. */
static __always_inline void send_buffer(struct pt_regs *ctx, struct tls_event *ev, u64 buf,
					u64 moved, u64 cap, struct tls_stats *st)
{
	u64 off;
	u32 n;
	int i;

#pragma clang loop unroll(disable)
	for (i = 0; i < MAX_CHUNKS - 1; i++) {
		if ((u64)(i + 1) * MAX_DATA_SIZE >= cap)
			break;
		send_chunk(ctx, ev, buf + (u64)i * MAX_DATA_SIZE, (u64)i * MAX_DATA_SIZE,
			   MAX_DATA_SIZE, st);
	}
	off = (u64)i * MAX_DATA_SIZE;
	n = cap - off < MAX_DATA_SIZE ? (u32)(cap - off) : MAX_DATA_SIZE;
	if (n > MAX_DATA_SIZE) /* restates the bound for the verifier */
		n = MAX_DATA_SIZE;
	mark_last(ev, moved, cap);
	if (send_chunk(ctx, ev, buf + off, off, n, st))
		send_gap(ctx, ev);
}

/*
 * The first cap bytes of a gathering write, in chunks of at most MAX_DATA_SIZE that never
 * span two pieces. The loop's body has no branch but its ends, so the verifier's work grows
 * with the steps, not with their combinations; an empty piece sends an empty chunk, which
 * user space passes over. Whatever the pieces cannot account for (an unreadable array)
 * goes out as an empty last chunk with those bytes marked unreadable.
 */
static __always_inline void send_iov(struct pt_regs *ctx, struct tls_event *ev, u64 iov, u32 iovcnt,
				     u64 moved, u64 cap, struct tls_stats *st)
{
	struct tls_iovec v = {};
	u64 sent = 0, pos = 0, idx = 0, n, len, done, gap = 0;
	int i;

#pragma clang loop unroll(disable)
	for (i = 0; i < MAX_CHUNKS + TLS_MAX_IOV; i++) {
		if (sent >= cap || idx >= iovcnt || idx >= TLS_MAX_IOV ||
		    bpf_probe_read_user(&v, sizeof(v), (const void *)(iov + idx * sizeof(v))))
			break;
		len = (u64)(u32)(int)v.len & 0x7fffffff; /* PRIOVec's len is an int >= 0 */
		n = smaller(smaller(len - smaller(pos, len), cap - sent), MAX_DATA_SIZE);
		if (n > MAX_DATA_SIZE) /* never: restates the bound for the verifier */
			break;
		done = 1 - below(pos + n, len); /* this piece is sent to its end */
		ev->flags = (u32)(1 - below(sent + n, cap)) * TLS_CHUNK_LAST;
		ev->truncated = ev->flags * (u32)(moved - cap);
		/* n is 0 for an empty piece; a refused last chunk leaves a gap */
		gap |= send_chunk(ctx, ev, v.base + pos, sent, (u32)n, st) & ev->flags;
		sent += n;
		idx += done;
		pos = (pos + n) & (done - 1);
	}
	if (sent < cap) {
		mark_last(ev, moved, cap);
		ev->offset = (u32)sent;
		ev->data_len = 0;
		ev->unreadable = (u32)(cap - sent);
		if (tls_events.perf_submit(ctx, ev, TLS_EVENT_HDR_SIZE) < 0) {
			st->v[TLS_STAT_SUBMIT_FAILED]++;
			st->v[TLS_STAT_BYTES_LOST] += cap - sent;
			gap = 1;
		}
	}
	if (gap)
		send_gap(ctx, ev);
}

/*
 * Counts the call and, unless the settings filter it, sends the bytes it moved as chunks,
 * up to the per-call limit; what lies beyond is counted as truncated on the last chunk.
 * Only the return probe of a gathering write (`gathering`) carries the loop over pieces,
 * which is most of the verifier's work: the other return probes load without it.
 */
static __always_inline void submit_call(struct pt_regs *ctx, struct tls_call *call, u64 moved,
					bool gathering)
{
	u64 id = bpf_get_current_pid_tgid();
	u64 limit = (u64)MAX_CHUNKS * MAX_DATA_SIZE;
	u32 zero = 0, uid = (u32)bpf_get_current_uid_gid();
	u64 *ids = tls_call_ids.lookup(&zero);
	struct tls_settings *set = tls_settings.lookup(&zero);
	struct tls_stats *st = stats_of(id >> 32);
	struct tls_event *ev = tls_scratch.lookup(&zero);
	u64 call_id, cap;

	if (!ev || !ids || !st || !set)
		return;
	call_id = __sync_fetch_and_add(ids, 1) + 1;
	st->v[TLS_STAT_CALLS]++;
	st->v[TLS_STAT_BYTES_MOVED] += moved;
	if (!wanted(set, call->dir, uid, call_id)) {
		st->v[TLS_STAT_CALLS_FILTERED]++;
		st->v[TLS_STAT_BYTES_FILTERED] += moved;
		return;
	}
	if (set->max_call_bytes < limit)
		limit = set->max_call_bytes;
	cap = moved < limit ? moved : limit;
	st->v[TLS_STAT_BYTES_TRUNCATED] += moved - cap;

	ev->time_ns = bpf_ktime_get_ns();
	ev->seq = next_seq();
	ev->probe = call->probe;
	ev->ret_delta = (s64)(PT_REGS_IP(ctx) - call->ip); /* IP of a uretprobe: where it returns */
	ev->call_id = call_id;
	ev->latency_ns = ev->time_ns - call->start_ns;
	ev->conn = call->conn;
	ev->result = call->untied ? (s64)call->sess : 0; /* what a tie will name (tie_late) */
	ev->pid = id >> 32;
	ev->tid = (u32)id;
	ev->uid = uid;
	ev->dir = call->dir;
	ev->kind = TLS_KIND_DATA;
	ev->fd = call->fd;
	ev->call_len = moved > 0xffffffffULL ? 0xffffffffU : (u32)moved;
	ev->cgroup = bpf_get_current_cgroup_id();
	bpf_get_current_comm(&ev->comm, sizeof(ev->comm));
	ev->flags = 0;
	ev->truncated = 0;
	if (gathering && call->iovcnt)
		send_iov(ctx, ev, call->buf, call->iovcnt, moved, cap, st);
	else
		send_buffer(ctx, ev, call->buf, moved, cap, st);
}

/* Whether the stash is this return's own call: `ret` has popped the return address the
 * entry saw on top of the stack. A return from a function the stashed call went on to
 * call (ssl_write_internal inside SSL_write) leaves the stash to the outer return. */
static __always_inline bool own_call(struct pt_regs *ctx, const struct tls_call *call)
{
	return call && call->sp + sizeof(u64) == PT_REGS_SP(ctx);
}

/*
 * Return of a call whose return value is the byte count (or negative): an int when `wide`
 * is false (only the low 32 bits of the register are defined), else a long (ssize_t).
 * `gathering`: the call may be a gathering write (stash_vec).
 */
static __always_inline int finish_call_count(struct pt_regs *ctx, bool wide, bool gathering)
{
	u64 id = bpf_get_current_pid_tgid();
	struct tls_call *call = call_of(id);
	long ret = wide ? (long)PT_REGS_RC(ctx) : (long)(int)PT_REGS_RC(ctx);

	if (!own_call(ctx, call) || call->kind != TLS_KIND_DATA)
		return 0;
	attribute_data(ctx, call, id, ret > 0 ? (u64)ret : 0);
	if (ret > 0)
		submit_call(ctx, call, (u64)ret, gathering);
	release_call(id, call);
	return 0;
}

/* Return of int f(..., size_t *n) that returns 1 on success with the count in *n
 * (OpenSSL's SSL_read_ex/SSL_write_ex). */
static __always_inline int finish_call_ex(struct pt_regs *ctx)
{
	u64 id = bpf_get_current_pid_tgid();
	struct tls_call *call = call_of(id);
	u64 moved = 0;

	if (!own_call(ctx, call) || call->kind != TLS_KIND_DATA)
		return 0;
	if ((int)PT_REGS_RC(ctx) != 1 ||
	    bpf_probe_read_user(&moved, sizeof(moved), (const void *)call->len_ptr))
		moved = 0;
	attribute_data(ctx, call, id, moved);
	if (moved > 0)
		submit_call(ctx, call, moved, false);
	release_call(id, call);
	return 0;
}

/* ------------------------------------------------ handshakes and verification */

/* Sends the event of `kind` that the returning session call reports: its connection, the
 * time since `start` and `result`. */
static __always_inline void send_call_event(struct pt_regs *ctx, const struct tls_call *call,
					    u64 id, u32 kind, u64 start, s64 result, u32 flags)
{
	struct tls_event *ev = meta_event(id, kind);

	if (!ev)
		return;
	ev->probe = call->probe;
	ev->ret_delta = (s64)(PT_REGS_IP(ctx) - call->ip);
	ev->latency_ns = ev->time_ns - start;
	ev->conn = call->conn;
	ev->fd = call->fd;
	ev->result = result;
	ev->flags |= flags;
	submit_meta(ctx, ev);
}

/*
 * Return of a handshake call (kind TLS_KIND_HANDSHAKE) that returned `ret`: `ok` it
 * succeeded; `pending` it did not end and the program calls again, which with
 * `blocked_pending` is so when it failed after a socket syscall that would have blocked
 * (non-blocking I/O). A handshake is reported once it ends, timed from its first call.
 */
static __always_inline int finish_handshake(struct pt_regs *ctx, s64 ret, bool ok, bool pending,
					    bool blocked_pending)
{
	u64 id = bpf_get_current_pid_tgid(), start;
	struct tls_call *call = call_of(id);
	struct tls_sess_key key = {.sess = call ? call->sess : 0, .tgid = id >> 32};
	struct tls_sess *s, fresh = {};
	u32 tid = (u32)id;
	struct tls_untied *u;

	if (!own_call(ctx, call) || call->kind != TLS_KIND_HANDSHAKE)
		return 0;
	pending = pending || (blocked_pending && !ok && call->again);
	s = attribute(call, id);
	/* a session whose calls use no socket: the handshake's messages came on the socket its
	 * thread read last, as a read call's do; they are the handshake's */
	if (!call->conn && call->sess && (u = tls_untied.lookup(&tid))) {
		if (u->hello) /* a handshake's input begins with a handshake record */
			tie_read(ctx, call, id, u);
		u->rfd = -1;
		if (call->conn)
			s = tls_sessions.lookup(&key);
	}
	start = s && s->hs_start ? s->hs_start : call->start_ns;
	if (pending) {
		if (s && !s->hs_start) {
			s->hs_start = call->start_ns;
		} else if (!s) {
			fresh.hs_start = call->start_ns;
			fresh.fd = -1;
			tls_sessions.update(&key, &fresh);
		}
	} else {
		if (s)
			s->hs_start = 0;
		send_call_event(ctx, call, id, TLS_KIND_HANDSHAKE, start, ret, ok ? TLS_FLAG_OK : 0);
	}
	release_call(id, call);
	return 0;
}

/* Return of a call of the session whose return value is reported (kind: what it is). */
static __always_inline int finish_session_call(struct pt_regs *ctx, u32 kind)
{
	u64 id = bpf_get_current_pid_tgid();
	struct tls_call *call = call_of(id);

	if (!own_call(ctx, call) || call->kind != kind)
		return 0;
	attribute(call, id);
	send_call_event(ctx, call, id, kind, call->start_ns, (s64)PT_REGS_RC(ctx), 0);
	release_call(id, call);
	return 0;
}

/* Session sess (0: a context, for sessions to come) turned peer verification off. */
static __always_inline int report_verify_off(struct pt_regs *ctx, u64 sess, s64 mode)
{
	u64 id = bpf_get_current_pid_tgid();
	struct tls_sess_key key = {.sess = sess, .tgid = id >> 32};
	struct tls_sess *s = NULL;
	struct tls_event *ev;

	if (!traced(id))
		return 0;
	if (sess)
		s = tls_sessions.lookup(&key);
	ev = meta_event(id, TLS_KIND_VERIFY_OFF);
	if (!ev)
		return 0;
	ev->probe = TLS_PROBE_ID(probe_cookie(ctx));
	ev->result = mode;
	if (s) {
		ev->conn = s->conn;
		ev->fd = s->fd;
	}
	submit_meta(ctx, ev);
	return 0;
}

/* The program gave session sess its socket fd (SSL_set_fd): its connection from now on. */
static __always_inline int learn_fd(struct pt_regs *ctx, u64 sess, s64 fd)
{
	u64 id = bpf_get_current_pid_tgid();
	struct tls_sess_key key = {.sess = sess, .tgid = id >> 32};
	struct tls_sess fresh = {.fd = (s32)fd};

	if (fd < 0 || fd > 0x7fffffff || !traced(id))
		return 0;
	fresh.conn = conn_of_fd(ctx, id, (s32)fd, sess, TLS_TIE_IN_CALL, NULL);
	tls_sessions.update(&key, &fresh);
	return 0;
}

/* ------------------------------------------ sockets: kernel functions or tracepoints */

/* A process's fd is closed or replaced: it is no longer a socket user space looked up as it
 * attached. Only the targets' sockets are marked: a lock-free lookup spares every other
 * process's close the hash delete (which takes a bucket lock). */
static __always_inline void unmark(struct tls_fd_key *key)
{
	if (tls_targets.lookup(&key->tgid))
		tls_known_socks.delete(key);
}

/* Session sess (skey's process) forgets connection conn, which ended: an object at its
 * address later is another session. */
static __always_inline void forget_session(struct tls_sess_key *skey, u64 sess, u64 conn)
{
	struct tls_sess *s;

	if (!sess || sess == TLS_TIED_IN_CALL)
		return;
	skey->sess = sess;
	s = tls_sessions.lookup(skey);
	if (s && s->conn == conn)
		tls_sessions.delete(skey);
}

/* A traced process closes a socket TLS calls used: its connection ends (in order with the
 * data), and the sessions that used it forget it. */
static __always_inline int closing_fd(void *ctx, s32 fd)
{
	u64 id = bpf_get_current_pid_tgid();
	struct tls_fd_key key = {.tgid = id >> 32, .fd = fd};
	struct tls_conn *conn = tls_conns.lookup(&key);
	struct tls_sess_key skey = {.tgid = id >> 32};
	struct tls_event *ev;

	unmark(&key);
	if (!conn)
		return 0;
	forget_session(&skey, conn->sess, conn->id);
	forget_session(&skey, conn->late[0], conn->id); /* tied after the fact (tie_late) */
	forget_session(&skey, conn->late[1], conn->id);
	ev = meta_event(id, TLS_KIND_CONN_CLOSE);
	if (ev) {
		ev->fd = key.fd;
		ev->conn = conn->id;
		submit_meta(ctx, ev);
	}
	tls_conns.delete(&key);
	return 0;
}

/* The fd a traced process's dup2/dup3 replaces is no longer the socket looked up. */
static __always_inline int replaced_fd(s64 fd)
{
	struct tls_fd_key key = {.tgid = bpf_get_current_pid_tgid() >> 32, .fd = (s32)fd};

	unmark(&key);
	return 0;
}

/* close_range(2) closes many fds at once: user space forgets the process's marked sockets
 * (it reads the notice before the events that come after it). */
static __always_inline int closing_range(void *ctx)
{
	u64 id = bpf_get_current_pid_tgid();

	if (traced(id))
		notify_proc(ctx, id >> 32, TLS_PROC_CLOSE_RANGE, 0);
	return 0;
}

/* A traced process unmapped memory: user space looks whether a TLS library went. */
static __always_inline int unmapped(void *ctx, long ret)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 pid = id >> 32;
	u8 one = 1;

	if (ret == 0 && traced(id) && tls_unmaps.insert(&pid, &one) == 0)
		notify_proc(ctx, pid, TLS_PROC_UNMAP, 0);
	return 0;
}

#if TLS_KFUNC
/*
 * The syscalls, by fentry/fexit programs on their x86-64 entry functions (__x64_sys_NAME,
 * whose one argument is the caller's registers). A process pays only for the syscalls hooked
 * here, a few tens of ns each; a syscall tracepoint, once enabled, sends every syscall of
 * every process down the kernel's slow path (~400 ns per read or write here). The tracer
 * compiles this part (-DTLS_KFUNC=1) when the kernel's BTF has every function a
 * KFUNC_PROBE or KRETFUNC_PROBE of bpf_src names, else the tracepoints below.
 */
#define SYS_ARG(regs, reg)                                                                         \
	({                                                                                         \
		u64 v_ = 0;                                                                        \
		bpf_probe_read_kernel(&v_, sizeof(v_), &(regs)->reg);                              \
		v_;                                                                                \
	})
/* fd arguments, int or unsigned int: as 32 bits (-1 is then out of saw_fd's range) */
#define SYS_FD(regs) ((s64)(u32)SYS_ARG(regs, di))

/* The socket syscalls TLS libraries move records with; only the thread's call in flight
 * is looked at (call_of), which a thread outside a TLS call does not have. */
KFUNC_PROBE(__x64_sys_read, struct pt_regs *regs)
{
	return saw_recv(ctx, SYS_FD(regs), false, SYS_ARG(regs, si), TLS_IO_PLAIN);
}
KFUNC_PROBE(__x64_sys_write, struct pt_regs *regs)
{
	return saw_send(ctx, SYS_FD(regs), false, SYS_ARG(regs, si), SYS_ARG(regs, dx),
			TLS_IO_PLAIN);
}
KFUNC_PROBE(__x64_sys_readv, struct pt_regs *regs) /* no return hook: not counted */
{
	saw_fd(ctx, bpf_get_current_pid_tgid(), SYS_FD(regs), false);
	return 0;
}
KFUNC_PROBE(__x64_sys_writev, struct pt_regs *regs)
{
	return saw_send(ctx, SYS_FD(regs), false, SYS_ARG(regs, si), SYS_ARG(regs, dx), TLS_IO_VEC);
}
KFUNC_PROBE(__x64_sys_recvfrom, struct pt_regs *regs)
{
	return saw_recv(ctx, SYS_FD(regs), true, SYS_ARG(regs, si), TLS_IO_PLAIN);
}
KFUNC_PROBE(__x64_sys_sendto, struct pt_regs *regs)
{
	return saw_send(ctx, SYS_FD(regs), true, SYS_ARG(regs, si), SYS_ARG(regs, dx),
			TLS_IO_PLAIN);
}
KFUNC_PROBE(__x64_sys_recvmsg, struct pt_regs *regs)
{
	return saw_recv(ctx, SYS_FD(regs), true, SYS_ARG(regs, si), TLS_IO_MSG);
}
KFUNC_PROBE(__x64_sys_sendmsg, struct pt_regs *regs)
{
	return saw_send(ctx, SYS_FD(regs), true, SYS_ARG(regs, si), 0, TLS_IO_MSG);
}
/* Only the reads' returns: a handshake waits for its peer's flight there (-EAGAIN). */
KRETFUNC_PROBE(__x64_sys_read, struct pt_regs *regs, long ret) { return saw_return(ctx, ret); }
KRETFUNC_PROBE(__x64_sys_recvfrom, struct pt_regs *regs, long ret) { return saw_return(ctx, ret); }
KRETFUNC_PROBE(__x64_sys_recvmsg, struct pt_regs *regs, long ret) { return saw_return(ctx, ret); }

KFUNC_PROBE(__x64_sys_close, struct pt_regs *regs) { return closing_fd(ctx, (s32)SYS_FD(regs)); }
KFUNC_PROBE(__x64_sys_dup2, struct pt_regs *regs) { return replaced_fd((s32)SYS_ARG(regs, si)); }
KFUNC_PROBE(__x64_sys_dup3, struct pt_regs *regs) { return replaced_fd((s32)SYS_ARG(regs, si)); }
KFUNC_PROBE(__x64_sys_close_range, struct pt_regs *regs) { return closing_range(ctx); }
KRETFUNC_PROBE(__x64_sys_munmap, struct pt_regs *regs, long ret) { return unmapped(ctx, ret); }

/* A traced process mapped a file executable (ld.so loading a library, dlopen). */
KRETFUNC_PROBE(__x64_sys_mmap, struct pt_regs *regs, long ret)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 flags;

	u32 tgid = id >> 32;

	if (ret >= 0 && (SYS_ARG(regs, dx) & PROT_EXEC) && (int)SYS_ARG(regs, r8) >= 0 &&
	    traced(id) && mapping_told(id, (s32)SYS_ARG(regs, r8), &flags)) {
		tls_unmaps.delete(&tgid); /* it may map TLS code now: its unmaps tell */
		notify_proc(ctx, tgid, TLS_PROC_MMAP, flags);
	}
	return 0;
}
#else
/* The same with syscall tracepoints: kernels without BTF or BPF trampolines. */
TRACEPOINT_PROBE(syscalls, sys_enter_read)
{
	return saw_recv(args, (s64)args->fd, false, (u64)args->buf, TLS_IO_PLAIN);
}
TRACEPOINT_PROBE(syscalls, sys_enter_write)
{
	return saw_send(args, (s64)args->fd, false, (u64)args->buf, args->count, TLS_IO_PLAIN);
}
TRACEPOINT_PROBE(syscalls, sys_enter_readv) /* no return hook: not counted */
{
	saw_fd(args, bpf_get_current_pid_tgid(), (s64)args->fd, false);
	return 0;
}
TRACEPOINT_PROBE(syscalls, sys_enter_writev)
{
	return saw_send(args, (s64)args->fd, false, (u64)args->vec, args->vlen, TLS_IO_VEC);
}
TRACEPOINT_PROBE(syscalls, sys_enter_recvfrom)
{
	return saw_recv(args, (s64)args->fd, true, (u64)args->ubuf, TLS_IO_PLAIN);
}
TRACEPOINT_PROBE(syscalls, sys_enter_sendto)
{
	return saw_send(args, (s64)args->fd, true, (u64)args->buff, args->len, TLS_IO_PLAIN);
}
TRACEPOINT_PROBE(syscalls, sys_enter_recvmsg)
{
	return saw_recv(args, (s64)args->fd, true, (u64)args->msg, TLS_IO_MSG);
}
TRACEPOINT_PROBE(syscalls, sys_enter_sendmsg)
{
	return saw_send(args, (s64)args->fd, true, (u64)args->msg, 0, TLS_IO_MSG);
}
/* A write blocks only on a full send buffer, which a handshake's few KB do not fill; every
 * hook costs every process on the machine that syscall (~150-300 ns here), traced or not. */
TRACEPOINT_PROBE(syscalls, sys_exit_read) { return saw_return(args, args->ret); }
TRACEPOINT_PROBE(syscalls, sys_exit_recvfrom) { return saw_return(args, args->ret); }
TRACEPOINT_PROBE(syscalls, sys_exit_recvmsg) { return saw_return(args, args->ret); }

TRACEPOINT_PROBE(syscalls, sys_enter_close) { return closing_fd(args, (s32)args->fd); }
TRACEPOINT_PROBE(syscalls, sys_enter_dup2) { return replaced_fd((s64)args->newfd); }
TRACEPOINT_PROBE(syscalls, sys_enter_dup3) { return replaced_fd((s64)args->newfd); }
TRACEPOINT_PROBE(syscalls, sys_enter_close_range) { return closing_range(args); }
TRACEPOINT_PROBE(syscalls, sys_exit_munmap) { return unmapped(args, args->ret); }

/* A traced process maps a file executable (ld.so loading a library, dlopen): marked at the
 * call, said at its return. */
TRACEPOINT_PROBE(syscalls, sys_enter_mmap)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 flags, tgid = id >> 32;
	u8 value;

	if ((args->prot & PROT_EXEC) && (int)args->fd >= 0 && traced(id) &&
	    mapping_told(id, (s32)args->fd, &flags)) {
		value = (u8)flags;
		tls_mmaps.update(&id, &value);
		tls_unmaps.delete(&tgid); /* it may map TLS code now: its unmaps tell */
	}
	return 0;
}

TRACEPOINT_PROBE(syscalls, sys_exit_mmap)
{
	u64 id = bpf_get_current_pid_tgid();
	u8 *flags = tls_mmaps.lookup(&id);
	u32 f;

	if (!flags)
		return 0;
	f = *flags;
	tls_mmaps.delete(&id);
	if (args->ret >= 0)
		notify_proc(args, id >> 32, TLS_PROC_MMAP, f);
	return 0;
}
#endif

/* ---------------------------------------------------- processes: tracepoints */

/* A traced process that follows its children starts one (or a thread: its entry goes when it
 * exits). The tracepoint fires before the child first runs; in PID mode the kernel has copied the
 * scope's perf events into it already (the probes are its from its first instruction).
 * Where the kernel may swap perf contexts (before 6.12), the notes thread gives it guard
 * events of its own (wrapper/scope.c says why): only then is it told of. */
/* A cgroup was made: its id and path go to user space, which names the events of its
 * threads by it even once it is removed. Only the cgroup v2 hierarchy's (root 0). */
TRACEPOINT_PROBE(cgroup, cgroup_mkdir)
{
	struct tls_event *ev;
	u64 size;
	long n;

	if (args->root != 0 || !acting() ||
	    !(ev = meta_event(bpf_get_current_pid_tgid(), TLS_KIND_CGROUP)))
		return 0;
	n = bpf_probe_read_kernel_str(ev->data, TLS_CGROUP_PATH_MAX,
				      (char *)args + (args->data_loc_path & 0xffff));
	/* a path the kernel (TRACE_CGROUP_PATH_LEN, 1024) or the buffer may have cut is not
	 * sent: user space finds it in the hierarchy */
	if (n <= 0 || n >= TLS_CGROUP_PATH_MAX || n >= 1024)
		return 0;
	/* smaller() hides the bound from clang, which would drop the check the verifier needs */
	size = smaller((u64)n, TLS_CGROUP_PATH_MAX);
	if (size > TLS_CGROUP_PATH_MAX)
		return 0;
	ev->result = (s64)args->id;
	ev->data_len = (u32)size;
	/* made by any process (systemd, a container runtime): a refused note is counted under
	 * the others, not as a traced process's */
	ev->pid = TLS_STATS_OTHER_KEY;
	submit_meta_with(args, ev, size);
	return 0;
}

TRACEPOINT_PROBE(sched, sched_process_fork)
{
	u32 parent = bpf_get_current_pid_tgid() >> 32, child = args->child_pid, flags;
	u32 *pflags = tls_targets.lookup(&parent);

	struct tls_proc_event pe = {.pid = child, .kind = TLS_PROC_FORK, .fd = -1};
	u32 zero = 0;
	struct tls_settings *set;

	if (!pflags || !(*pflags & TLS_TARGET_CHILDREN) || !acting())
		return 0;
	set = tls_settings.lookup(&zero);
	flags = *pflags & ~TLS_TARGET_TELL_EXIT;
	if (set && (set->flags & TLS_SET_GUARDS))
		flags |= TLS_TARGET_TELL_EXIT;
	if (tls_targets.update(&child, &flags) == 0 && (flags & TLS_TARGET_TELL_EXIT))
		tls_conn_notes.perf_submit(args, &pe, sizeof(pe)); /* its guard */
	return 0;
}

/* n calls of process tgid never returned (a thread, or the process, exited inside them). */
static __always_inline void unfinished(u32 tgid, u64 n)
{
	struct tls_stats *st = stats_of(tgid);

	if (st)
		st->v[TLS_STAT_CALLS_UNFINISHED] += n;
}

/* The Go calls process tgid still had in flight as it exited (or ran another program). */
static __always_inline void unfinished_go(u32 tgid)
{
	u64 *n = tls_go_inflight.lookup(&tgid);

	if (!n)
		return;
	if (*n)
		unfinished(tgid, *n);
	tls_go_inflight.delete(&tgid);
}

/*
 * A thread exits: its call in flight (if it died mid-call) is dropped and counted, and when
 * it is the
 * process's last, the process leaves the targets and its connections are over. Done here,
 * not at sched_process_free: that comes after an RCU grace period, by which time the PID
 * may belong to a new process (a traced child the fork tracepoint just added).
 */
TRACEPOINT_PROBE(sched, sched_process_exit)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = (u32)id, tgid = id >> 32, idx = tid % TLS_SLOTS;
	struct tls_call *slot = tls_slots.lookup(&idx);
	struct tls_event *ev;
	u32 *tflags;

	if (tls_calls.lookup(&tid)) {
		tls_calls.delete(&tid);
		unfinished(tgid, 1);
	}
	if (slot && slot->owner == id &&
	    __sync_val_compare_and_swap(&slot->owner, id, 0) == id)
		unfinished(tgid, 1);
	if (tid != tgid) /* the fork tracepoint put every thread in too */
		tls_targets.delete(&tid);
	if (tls_untied.lookup(&tid)) /* a thread given its tid later starts afresh */
		tls_untied.delete(&tid);
	if (!args->group_dead || !acting())
		return 0;
	unfinished_go(tgid);
	if (traced(id) && (ev = meta_event(id, TLS_KIND_EXIT)))
		submit_meta(args, ev);
	/* told when user space holds something of it, or what it moved before probes is to be
	 * told; not for every child (a notice wakes the tracer: each costs a fork+exit more) */
	tflags = tls_targets.lookup(&tgid);
	if ((tflags && (*tflags & TLS_TARGET_TELL_EXIT)) || tls_pending.lookup(&tgid))
		notify_proc(args, tgid, TLS_PROC_EXIT, 0);
	tls_targets.delete(&tgid);
	return 0;
}

/*
 * A traced process runs a new program: user space looks for TLS code in it (named, so that
 * it can even once the process has exited). A program it has not looked at yet, or an exec
 * that took the process out of the scope, makes the process pending until it has.
 */
TRACEPOINT_PROBE(sched, sched_process_exec)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 pid = id >> 32, flags = 0, zero = 0;
	u16 loc = args->data_loc_filename & 0xFFFF;
	struct tls_exec_event *ev;
	struct tls_file_key key;
	u8 known, one = 1;

	if (!traced(id))
		return 0;
	unfinished_go(pid); /* the program it ran before is gone */
	known = exe_known(&key);
	if (!known)
		flags |= TLS_PENDING_EXEC;
	if (left_scope())
		flags |= TLS_PENDING_SCOPE;
	if (flags)
		mark_pending(pid, &key, flags);
	/* A program without TLS code: its unmaps tell nothing until it maps a TLS file. */
	if (known == TLS_FILE_PLAIN)
		tls_unmaps.update(&pid, &one);
	else
		tls_unmaps.delete(&pid);
	ev = tls_exec_scratch.lookup(&zero); /* too big for the stack */
	if (!ev)
		return 0;
	__builtin_memset(&ev->pe, 0, sizeof(ev->pe));
	ev->pe.pid = pid;
	ev->pe.kind = TLS_PROC_EXEC;
	ev->pe.fd = -1;
	ev->pe.flags = flags;
	ev->path[0] = 0;
	bpf_probe_read_kernel_str(ev->path, sizeof(ev->path), (char *)args + loc);
	tls_procs.perf_submit(args, ev, sizeof(*ev));
	return 0;
}

#ifdef TLS_OFF_TU_OFFSET
/* ---------------------------------------------------------- the scope's dispatch */

/*
 * The probe point a hit of the scope's trace events is for: the kernel's trace_uprobe of the
 * point (current->utask->vaddr holds its dispatch data while its handlers run), its file
 * and offset.
 */
static __always_inline bool point_hit(struct tls_point_key *key)
{
	char *task = (char *)bpf_get_current_task(), *utask = 0, *udd = 0, *tu = 0, *dentry = 0;
	char *inode = 0;

	if (bpf_probe_read_kernel(&utask, sizeof(utask), task + TLS_OFF_TASK_UTASK) || !utask ||
	    bpf_probe_read_kernel(&udd, sizeof(udd), utask + TLS_OFF_UTASK_VADDR) || !udd ||
	    bpf_probe_read_kernel(&tu, sizeof(tu), udd + TLS_OFF_UDD_TU) || !tu ||
	    bpf_probe_read_kernel(&key->offset, sizeof(key->offset), tu + TLS_OFF_TU_OFFSET) ||
	    bpf_probe_read_kernel(&dentry, sizeof(dentry),
				  tu + TLS_OFF_TU_PATH + TLS_OFF_PATH_DENTRY) ||
	    !dentry || bpf_probe_read_kernel(&inode, sizeof(inode), dentry + TLS_OFF_DENTRY_INODE))
		return false;
	return inode_key(inode, &key->file);
}

/* Runs the BPF function of the probe point hit, with its probe number (probe_cookie). */
static __always_inline int dispatch(struct pt_regs *ctx, bool ret)
{
	struct tls_point_key key = {.kind = TLS_POINT_KIND(TLS_GEN, ret)};
	struct tls_point *point;
	u32 zero = 0;
	u64 *probe;

	if (!acting() || !point_hit(&key))
		return 0;
	point = tls_points.lookup(&key);
	probe = tls_point_probe.lookup(&zero);
	if (!point || !probe)
		return 0;
	*probe = point->probe;
	tls_point_progs.call(ctx, point->slot);
	*probe = 0; /* no such function: nothing ran */
	return 0;
}

/* Every entry point of the scope (trace event tracer_<pid>/entry). */
int tls_dispatch_entry(struct pt_regs *ctx)
{
	return dispatch(ctx, false);
}

/* Every return point of the scope (trace event tracer_<pid>/return). */
int tls_dispatch_return(struct pt_regs *ctx)
{
	return dispatch(ctx, true);
}
#endif
