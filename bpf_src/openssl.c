/* openssl.c - OpenSSL SSL_read/SSL_write probes: copy the plaintext each call moved */
#include <uapi/linux/ptrace.h>

#include "tls_event.h"

#ifndef TRACE_PID
#error "TRACE_PID must be set by the tracer (-DTRACE_PID=<pid>)"
#endif

/* ---------------------------------------------------------------- maps */

/* A call in flight: what the entry probe saw, kept until the return probe. */
struct tls_call {
	u64 buf;       /* the plaintext buffer argument */
	u64 len_ptr;   /* size_t * out-parameter of the _ex calls; 0 for the plain calls */
	u64 func_addr; /* entry address: user space maps it back to library and symbol */
	u32 dir;       /* enum tls_dir */
};

/* key: pid_tgid of the calling thread; value: its call in flight */
BPF_HASH(tls_calls, u64, struct tls_call, 10240);

/* key: 0; value: the event being built on this CPU (it is far bigger than the BPF stack) */
BPF_PERCPU_ARRAY(tls_scratch, struct tls_event, 1);

/* per-CPU perf buffers carrying struct tls_event to user space */
BPF_PERF_OUTPUT(tls_events);

/* key: enum tls_stat; value: a per-CPU counter. The kernel reports a full buffer's losses
 * only when a later event gets in, so failed submits are counted here too. */
BPF_PERCPU_ARRAY(tls_stats, u64, TLS_STAT_MAX);

/* ------------------------------------------------------------- helpers */

static __always_inline int stash_call(struct pt_regs *ctx, const void *buf, const void *len_ptr,
				      u32 dir)
{
	u64 id = bpf_get_current_pid_tgid();
	struct tls_call call = {};

	if ((id >> 32) != TRACE_PID)
		return 0;
	call.buf = (u64)buf;
	call.len_ptr = (u64)len_ptr;
	call.func_addr = PT_REGS_IP(ctx);
	call.dir = dir;
	tls_calls.update(&id, &call);
	return 0;
}

/* Sends the first min(moved, MAX_DATA_SIZE) bytes of the stashed buffer. */
static __always_inline void submit_call(struct pt_regs *ctx, struct tls_call *call, u64 moved)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 zero = 0;
	u32 n;
	struct tls_event *ev = tls_scratch.lookup(&zero);

	if (!ev)
		return;
	ev->time_ns = bpf_ktime_get_ns();
	ev->func_addr = call->func_addr;
	ev->pid = id >> 32;
	ev->tid = (u32)id;
	ev->uid = (u32)bpf_get_current_uid_gid();
	ev->dir = call->dir;
	ev->len = moved > 0xffffffffULL ? 0xffffffffU : (u32)moved;
	bpf_get_current_comm(&ev->comm, sizeof(ev->comm));

	n = ev->len < MAX_DATA_SIZE ? ev->len : MAX_DATA_SIZE;
	if (n > MAX_DATA_SIZE) /* restates the bound for the verifier */
		n = MAX_DATA_SIZE;
	if (bpf_probe_read_user(ev->data, n, (const void *)call->buf) != 0)
		n = 0; /* unreadable: user space reports all len bytes as not captured */
	ev->data_len = n;
	if (tls_events.perf_submit(ctx, ev, TLS_EVENT_HDR_SIZE + n) != 0) {
		u32 key = TLS_STAT_SUBMIT_FAILED;
		u64 *failed = tls_stats.lookup(&key);

		if (failed)
			(*failed)++;
	}
}

/* Return of int SSL_read/SSL_write(...): the return value is the byte count. */
static __always_inline int finish_call(struct pt_regs *ctx)
{
	u64 id = bpf_get_current_pid_tgid();
	struct tls_call *call = tls_calls.lookup(&id);
	int ret = (int)PT_REGS_RC(ctx);

	if (!call)
		return 0;
	if (ret > 0)
		submit_call(ctx, call, (u64)ret);
	tls_calls.delete(&id);
	return 0;
}

/* Return of int SSL_read_ex/SSL_write_ex(..., size_t *n): 1 on success, count in *n. */
static __always_inline int finish_call_ex(struct pt_regs *ctx)
{
	u64 id = bpf_get_current_pid_tgid();
	struct tls_call *call = tls_calls.lookup(&id);
	u64 moved = 0;

	if (!call)
		return 0;
	if ((int)PT_REGS_RC(ctx) == 1 &&
	    bpf_probe_read_user(&moved, sizeof(moved), (const void *)call->len_ptr) == 0 &&
	    moved > 0)
		submit_call(ctx, call, moved);
	tls_calls.delete(&id);
	return 0;
}

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

/* int SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *written) */
int probe_entry_SSL_write_ex(struct pt_regs *ctx)
{
	return stash_call(ctx, (const void *)PT_REGS_PARM2(ctx),
			  (const void *)PT_REGS_PARM4(ctx), TLS_DIR_WRITE);
}

/* int SSL_read_ex(SSL *ssl, void *buf, size_t num, size_t *readbytes) */
int probe_entry_SSL_read_ex(struct pt_regs *ctx)
{
	return stash_call(ctx, (const void *)PT_REGS_PARM2(ctx),
			  (const void *)PT_REGS_PARM4(ctx), TLS_DIR_READ);
}

/* return of SSL_read / SSL_write */
int probe_return(struct pt_regs *ctx)
{
	return finish_call(ctx);
}

/* return of SSL_read_ex / SSL_write_ex */
int probe_return_ex(struct pt_regs *ctx)
{
	return finish_call_ex(ctx);
}
