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
	u64 owner;   /* in tls_slots: pid_tgid of the thread holding the slot, 0 when free */
	u64 buf;     /* the plaintext buffer argument */
	u64 sp;	     /* stack pointer at entry: a tail call into another probe keeps it */
	u64 ip;	     /* the probed function's address: the return address tells its caller */
	u64 len_ptr; /* size_t * out-parameter of the _ex calls; 0 for the plain calls */
	u64 probe;   /* the entry probe's attach cookie: user space knows its library, symbol */
	u32 dir;     /* enum tls_dir */
	u32 iovcnt;  /* a gathering write (PR_Writev): buf is an array of this many tls_iovec */
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

/* per-CPU perf buffers carrying struct tls_event to user space */
BPF_PERF_OUTPUT(tls_events);

/* key: tgid (TLS_STATS_OTHER_KEY once full); value: that process's counters on this CPU.
 * The kernel reports a full buffer's losses only when a later event gets in, so refused
 * submits are counted here too. */
BPF_PERCPU_HASH(tls_stats, u32, struct tls_stats, TLS_STATS_MAX_PROCS);

/* key: 0; value: the last call id handed out */
BPF_ARRAY(tls_call_ids, u64, 1);

/* key: 0; value: struct tls_settings, written by user space before any probe is attached */
BPF_ARRAY(tls_settings, struct tls_settings, 1);

/* key: tgid of a traced process (or tid of a thread one started); value: TLS_TARGET_*.
 * User space puts the targets in; the sched tracepoints below add their children and take
 * out whatever exits. */
BPF_HASH(tls_targets, u32, u32, TLS_MAX_TARGETS);

/* struct tls_proc_event records: a traced process ran a program or mapped a file. */
BPF_PERF_OUTPUT(tls_procs);

/* key: pid_tgid of a traced thread inside mmap(PROT_EXEC) of a file (LRU: a thread killed
 * inside mmap leaves its entry, which ages out) */
BPF_TABLE("lru_hash", u64, u8, tls_mmaps, 1024);

/* ------------------------------------------------------------- helpers */

/*
 * Whether the current thread is traced: its process is a target (or, with TLS_SET_ALL,
 * runs as the uid asked for), and its name is the one asked for.
 */
static __always_inline bool traced(u64 id)
{
	u32 zero = 0, tgid = id >> 32;
	struct tls_settings *set = tls_settings.lookup(&zero);
	char comm[TLS_COMM_LEN];
	int i;

	if (!set)
		return false;
	if (set->flags & TLS_SET_ALL) {
		if (set->uid != TLS_ANY_UID && set->uid != (u32)bpf_get_current_uid_gid())
			return false;
	} else if (!tls_targets.lookup(&tgid)) {
		return false;
	}
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

static __always_inline void notify_proc(void *ctx, u32 pid, u32 kind)
{
	struct tls_proc_event pe = {.pid = pid, .kind = kind};

	tls_procs.perf_submit(ctx, &pe, sizeof(pe));
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

static __always_inline int stash_vec(struct pt_regs *ctx, const void *buf, const void *len_ptr,
				     u32 iovcnt, u32 dir)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = (u32)id, idx = tid % TLS_SLOTS;
	struct tls_call call = {}, *cur, *slot;

	if (!traced(id))
		return 0;
	/* The same call passing on to another probed function with the same buffer: by a
	 * jump on the same stack (gnutls_record_send to gnutls_record_send2) or a call deeper
	 * down it (SSL_write to ssl_write_internal). Keep the first stash, so the call is
	 * reported once, by the name the program called; the inner return lets it be. */
	cur = call_of(id);
	if (cur && cur->sp >= PT_REGS_SP(ctx) && cur->buf == (u64)buf)
		return 0;
	call.buf = (u64)buf;
	call.sp = PT_REGS_SP(ctx);
	call.ip = PT_REGS_IP(ctx);
	call.len_ptr = (u64)len_ptr;
	call.probe = bpf_get_attach_cookie(ctx);
	call.dir = dir;
	call.iovcnt = iovcnt;
	slot = tls_slots.lookup(&idx);
	if (slot && (slot->owner == id || __sync_val_compare_and_swap(&slot->owner, 0, id) == 0)) {
		call.owner = id;
		*slot = call;
		return 0;
	}
	tls_calls.update(&tid, &call); /* another thread holds the slot */
	return 0;
}

/* The entry of a call that moves one buffer (len_ptr: the _ex calls' size_t * out-count). */
static __always_inline int stash_call(struct pt_regs *ctx, const void *buf, const void *len_ptr,
				      u32 dir)
{
	return stash_vec(ctx, buf, len_ptr, 0, dir);
}

/*
 * Sends the len bytes at src as the chunk at `off` within its call. Branch-free on purpose:
 * a helper's negative return shifted right by 63 is 1, else 0, so the verifier's states do
 * not multiply per chunk. Bytes that cannot be read are sent as none, marked unreadable; a
 * refused submit is counted with all len bytes.
 */
static __always_inline void send_chunk(struct pt_regs *ctx, struct tls_event *ev, u64 src, u64 off,
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
}

/* This process's counters on this CPU; a full map shares the TLS_STATS_OTHER_KEY entry. */
static __always_inline struct tls_stats *stats_of(u32 tgid)
{
	struct tls_stats zero = {};
	u32 other = TLS_STATS_OTHER_KEY;
	struct tls_stats *st = tls_stats.lookup_or_try_init(&tgid, &zero);

	return st ? st : tls_stats.lookup(&other);
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
	send_chunk(ctx, ev, buf + off, off, n, st);
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
	u64 sent = 0, pos = 0, idx = 0, n, len, done;
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
		send_chunk(ctx, ev, v.base + pos, sent, (u32)n, st); /* n is 0 for an empty piece */
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
		}
	}
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
	ev->probe = call->probe;
	ev->ret_delta = (s64)(PT_REGS_IP(ctx) - call->ip); /* IP of a uretprobe: where it returns */
	ev->call_id = call_id;
	ev->pid = id >> 32;
	ev->tid = (u32)id;
	ev->uid = uid;
	ev->dir = call->dir;
	ev->call_len = moved > 0xffffffffULL ? 0xffffffffU : (u32)moved;
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

	if (!own_call(ctx, call))
		return 0;
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

	if (!own_call(ctx, call))
		return 0;
	if ((int)PT_REGS_RC(ctx) == 1 &&
	    bpf_probe_read_user(&moved, sizeof(moved), (const void *)call->len_ptr) == 0 &&
	    moved > 0)
		submit_call(ctx, call, moved, false);
	release_call(id, call);
	return 0;
}

/* ---------------------------------------------------- processes: tracepoints */

/* A traced process that follows its children starts one (or a thread: harmless). */
TRACEPOINT_PROBE(sched, sched_process_fork)
{
	u32 parent = bpf_get_current_pid_tgid() >> 32, child = args->child_pid, flags;
	u32 *pflags = tls_targets.lookup(&parent);

	if (!pflags || !(*pflags & TLS_TARGET_CHILDREN))
		return 0;
	flags = *pflags;
	tls_targets.update(&child, &flags);
	return 0;
}

/* A task is gone for good (its pid may be reused from now on), and with it any call it
 * had in flight. */
TRACEPOINT_PROBE(sched, sched_process_free)
{
	u32 pid = args->pid, idx = pid % TLS_SLOTS;
	struct tls_call *slot = tls_slots.lookup(&idx);
	u64 owner;

	tls_targets.delete(&pid);
	tls_calls.delete(&pid);
	if (slot && (u32)(owner = slot->owner) == pid && owner)
		__sync_val_compare_and_swap(&slot->owner, owner, 0);
	return 0;
}

/* A traced process runs a new program: user space looks for TLS code in it. */
TRACEPOINT_PROBE(sched, sched_process_exec)
{
	u64 id = bpf_get_current_pid_tgid();

	if (traced(id))
		notify_proc(args, id >> 32, TLS_PROC_EXEC);
	return 0;
}

/* A traced process maps a file executable (ld.so loading a library, dlopen). */
TRACEPOINT_PROBE(syscalls, sys_enter_mmap)
{
	u64 id = bpf_get_current_pid_tgid();
	u8 one = 1;

	if ((args->prot & PROT_EXEC) && (int)args->fd >= 0 && traced(id))
		tls_mmaps.update(&id, &one);
	return 0;
}

TRACEPOINT_PROBE(syscalls, sys_exit_mmap)
{
	u64 id = bpf_get_current_pid_tgid();

	if (!tls_mmaps.lookup(&id))
		return 0;
	tls_mmaps.delete(&id);
	if (args->ret >= 0)
		notify_proc(args, id >> 32, TLS_PROC_MMAP);
	return 0;
}
