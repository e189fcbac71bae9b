/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* tls_event.h - the event record shared by the BPF programs and the tracer */
#ifndef TRACER_TLS_EVENT_H
#define TRACER_TLS_EVENT_H

/*
 * This header is compiled twice: by libbcc inside the BPF module (against the
 * kernel headers) and by the C compiler for user space (against the libc's
 * kernel headers). Only fixed-width __u* types are used so both agree on layout.
 */
#include <linux/types.h>

#ifndef MAX_DATA_SIZE
#define MAX_DATA_SIZE 16384
#endif

#define TLS_COMM_LEN 16

enum tls_dir {
	TLS_DIR_READ = 0,  /* plaintext the process received (after decryption) */
	TLS_DIR_WRITE = 1, /* plaintext the process sent (before encryption) */
};

#ifndef MAX_CHUNKS
#define MAX_CHUNKS 64 /* a call is captured up to MAX_CHUNKS * MAX_DATA_SIZE bytes */
#endif

#define TLS_CHUNK_LAST 1 /* flags: the call's last chunk (every event of another kind has it) */
#define TLS_FLAG_OK 2	 /* flags of a handshake: it succeeded */
/* flags of a connection's opening: a socket the tracer looked up as it attached, still the
 * same (tls_known_socks) */
#define TLS_FLAG_KNOWN 4

/* What a struct tls_event reports. Data events carry the call's bytes; a connection's
 * opening carries its two ends; the others are one header each. All are ordered by seq. */
enum tls_kind {
	TLS_KIND_DATA = 0,	 /* a chunk of a call's plaintext */
	TLS_KIND_HANDSHAKE = 1,	 /* a handshake ended: result is what the last call returned,
				  * latency_ns runs from its first call (non-blocking I/O) */
	TLS_KIND_VERIFY = 2,	 /* SSL_get_verify_result returned result */
	TLS_KIND_VERIFY_OFF = 3, /* SSL_CTX_set_verify/SSL_set_verify without SSL_VERIFY_PEER:
				  * result is the mode */
	TLS_KIND_CONN_OPEN = 4,	 /* a TLS call first used socket fd: connection `conn`;
				  * result is the socket's inode number (0: unknown); data,
				  * when data_len is TLS_SOCK_ADDR_SIZE, its struct
				  * tls_sock_addr (read while the socket was open) */
	TLS_KIND_CONN_CLOSE = 5, /* the process closed fd, ending connection `conn` */
	TLS_KIND_EXIT = 6,	 /* the process exited: its connections are over */
	TLS_KIND_GAP = 7,	 /* on tls_meta: the perf buffer refused a call's last chunk, whose
				  * seq this is; user space need not wait for it */
	TLS_KIND_CONN_TIE = 8,	 /* session `result`, whose calls use no socket, is connection
				  * `conn` (socket fd): found after its call for direction dir,
				  * and sent after the connection's opening */
	TLS_KIND_HELLO = 9,	 /* a traced thread sent (dir write) or received (dir read) a
				  * ClientHello or ServerHello record on TCP socket fd: data
				  * holds its first bytes (TLS_HELLO_MAX at most), call_len the
				  * record's whole size; conn is the TLS call's that moved it
				  * (0: none, as for a memory BIO or Go's handshake), result the
				  * socket's inode number */
	TLS_KIND_CGROUP = 10,	 /* a cgroup v2 was made: result is its id, data its path in
				  * the hierarchy (a C string), so that a cgroup removed before
				  * user space looked still has its name */
	TLS_KIND_CERT = 11,	 /* inside a TLS call, its library handed a certificate's DER to
				  * the X.509 parser: data holds it (TLS_CERT_MAX bytes at most),
				  * call_len its whole size; probe, conn and fd are the TLS
				  * call's (conn 0: result names its session, for a tie), ret_delta
				  * the parser's return
				  * address less the call's probed function's address; call_id
				  * is the parser's probe, latency_ns (an s64) its return
				  * address less the parser's address */
};

/* Bytes of a certificate sent at most (and no more than MAX_DATA_SIZE) */
#define TLS_CERT_MAX 16384

/* Bytes of a cgroup's path sent at most, its NUL included (and no more than MAX_DATA_SIZE:
 * a longer one is not sent, and user space looks for it in the hierarchy) */
#define TLS_CGROUP_PATH_MAX (MAX_DATA_SIZE < 4096 ? MAX_DATA_SIZE : 4096)

/* Bytes of a hello record sent at most (and no more than MAX_DATA_SIZE): a ClientHello with
 * a post-quantum key share takes ~1.8 KB, its server name and ALPN come before that. */
#define TLS_HELLO_MAX 2048

/*
 * One chunk of one library call's plaintext. A call is sent as consecutive chunks sharing
 * call_id, in order of offset: one unless it moved more than MAX_DATA_SIZE bytes or gathered
 * them from several buffers (PR_Writev). Only the first data_len bytes of data[] are sent.
 */
struct tls_event {
	__u64 time_ns;	  /* bpf_ktime_get_ns() when the call returned */
	__u64 seq;	  /* the event's place among all events, from one counter taken as it is
			   * sent: a call's chunks share theirs; user space delivers in this
			   * order, waiting only for a gap (an event not read yet, or lost) */
	__u64 probe;	  /* attach cookie of the entry probe: the tracer's number for it */
	__s64 ret_delta;  /* return address - probed function's address: for a probe on an
			   * internal function, which exported function the call came through */
	__u64 call_id;	  /* one library call; unique within the run (0: not a data event);
			   * cert: the parser's probe */
	__u64 latency_ns; /* from the call's entry to its return; conn_tie: since BPF began to
			   * know the session (a call before that was another object's); cert:
			   * the parser's return address less its address (an s64) */
	__u64 conn;	  /* the connection (socket) the call used; unique within the run; 0:
			   * unknown (no socket seen for this session yet, or a memory BIO) */
	__s64 result;	  /* handshake, verify: the return value; verify_off: the mode;
			   * conn_open: the socket's inode number; conn_tie, and data whose
			   * conn is 0 of a call that tried a tie: the session object (a tie
			   * may name its connection) */
	__u32 pid;	  /* process (tgid) */
	__u32 tid;	  /* thread */
	__u32 uid;
	__u32 dir;	  /* enum tls_dir */
	__u32 kind;	  /* enum tls_kind */
	__s32 fd;	  /* the connection's socket in the process; -1: unknown */
	__u32 call_len;	  /* bytes the call moved */
	__u32 offset;	  /* where this chunk starts within the call */
	__u32 data_len;	  /* bytes captured in this chunk */
	__u32 flags;	  /* TLS_CHUNK_LAST, TLS_FLAG_OK */
	__u32 truncated;  /* on the last chunk: bytes of the call beyond the capture limit */
	__u32 unreadable; /* bytes of this chunk that could not be read: data_len + unreadable
			   * is what it stands for */
	__u64 cgroup;	  /* the thread's cgroup v2 id (the inode number of its directory) */
	char comm[TLS_COMM_LEN];
	char data[MAX_DATA_SIZE];
};

/*
 * Indices of struct tls_stats: per process (tgid) and per CPU, summed by user space.
 * Every byte a call moved is captured, truncated, lost or filtered.
 */
enum tls_stat {
	TLS_STAT_CALLS = 0,       /* calls that moved bytes (filtered ones included) */
	TLS_STAT_BYTES_MOVED,     /* bytes those calls moved */
	TLS_STAT_BYTES_TRUNCATED, /* bytes beyond the per-call capture limit */
	TLS_STAT_SUBMIT_FAILED,   /* chunks the perf buffer refused (it was full) */
	TLS_STAT_BYTES_LOST,      /* bytes in those chunks */
	TLS_STAT_CALLS_FILTERED,  /* calls not captured by the settings (direction, uid, sample) */
	TLS_STAT_BYTES_FILTERED,  /* bytes those calls moved */
	TLS_STAT_META_LOST,	  /* events of other kinds (tls_meta) the perf buffer refused */
	TLS_STAT_CALLS_UNFINISHED, /* calls that had not returned when their thread (a Go
				    * call: its process) exited: what they moved is unknown */
	TLS_STAT_UNCOUNTED,	   /* a process, or a socket of one, whose bytes before probes
				    * could not be counted: tls_pending(_fds) was full */
	TLS_STAT_MAX,
};

struct tls_stats {
	__u64 v[TLS_STAT_MAX];
};

/* Key of struct tls_stats for processes that found the per-process map full. */
#define TLS_STATS_OTHER_KEY 0
#define TLS_STATS_MAX_PROCS 4096

#define TLS_ANY_UID 0xffffffffU

#define TLS_SET_ALL 1 /* settings flags: trace every process, not the tls_targets map */
/* settings flags: the probes fire through the scope's trace events (PID mode): a traced
 * process that holds no perf event has left the scope (an exec that changed its
 * credentials drops them) */
#define TLS_SET_SCOPE 2
/* settings flags: a traced process's new child is told of (tls_conn_notes), to be given
 * guard events of its own (a kernel before 6.12 may swap perf contexts) */
#define TLS_SET_GUARDS 4
/* settings flags: only threads in the cgroup v2 of tls_cgroup's entry 0, or in one below
 * it, are traced (--cgroup) */
#define TLS_SET_CGROUP 8

/* Which compile of bpf_src this is: the tracer counts them up as it reloads bpf_src. */
#ifndef TLS_GEN
#define TLS_GEN 1
#endif

/*
 * What user space decides at start without recompiling: the single entry of the
 * tls_settings array map. Only sizes that shape the program stay -D macros.
 */
struct tls_settings {
	__u32 dirs;	      /* bit (1 << enum tls_dir) set: capture that direction */
	__u32 sample;	      /* capture one call in `sample` (1: every call) */
	__u32 uid;	      /* capture only calls by this uid; TLS_ANY_UID: every uid */
	__u32 flags;	      /* TLS_SET_* */
	__u64 max_call_bytes; /* bytes captured per call, at most MAX_CHUNKS * MAX_DATA_SIZE */
	char comm[TLS_COMM_LEN]; /* trace only threads of this name; "" every thread */
	__u32 gen;		 /* the TLS_GEN whose programs act; the others (a reload's
				  * old or new ones, attached for a moment together) keep out */
	__u32 pad;
};

/* Values of the tls_targets map (key: a traced process's tgid). */
#define TLS_TARGET_TRACED 1   /* its calls are traced */
#define TLS_TARGET_CHILDREN 2 /* the processes it starts are traced too (with this flag) */
/* its exit is told (tls_procs): user space holds something of it (perf events of its own);
 * not passed on to its children, but where they get guard events */
#define TLS_TARGET_TELL_EXIT 4
#define TLS_MAX_TARGETS 65536

/* What a tls_procs record says happened to a traced process. */
enum tls_proc_kind {
	TLS_PROC_EXEC = 1, /* it ran a new program (a struct tls_exec_event names it) */
	TLS_PROC_MMAP = 2, /* it mapped executable a file the tracer has not looked at yet, or a
			    * TLS library (ld.so, dlopen) */
	TLS_PROC_CONN = 3, /* on tls_conn_notes: a TLS call first used socket fd, whose two ends
			    * come with it (or, unread, are looked up before it closes) */
	TLS_PROC_UNMAP = 4, /* it unmapped memory (dlclose): did a TLS library go? */
	TLS_PROC_CLOSE_RANGE = 5, /* it closed fds with close_range(2): sockets looked up as
				   * the tracer attached may be gone (tls_known_socks) */
	TLS_PROC_EXIT = 6, /* its last thread exited: was it the last target? its bytes moved
			    * before probes (tls_pending) are told */
	TLS_PROC_PENDING_CONN = 7, /* on tls_conn_notes: a socket of a process whose TLS code
				    * is not probed yet carried a TLS record: look it up */
	TLS_PROC_FORK = 8, /* on tls_conn_notes, in PID mode where the kernel may swap perf
			    * contexts (TLS_SET_GUARDS): a traced process's new child, in the
			    * scope by inheritance: it is given its guard events */
};

/*
 * A TCP socket's two ends as the kernel holds them (struct sock_common), read in BPF as the
 * socket is first seen, so that a connection closed a moment later has its addresses all
 * the same. Ports in host order; addresses as in memory (network order; IPv4 in the first 4
 * bytes).
 */
struct tls_sock_addr {
	__u16 family; /* AF_INET (2) or AF_INET6 (10); 0: not read (user space looks it up) */
	__u16 lport;
	__u16 rport;
	__u16 pad;
	__u8 laddr[16];
	__u8 raddr[16];
};

#define TLS_SOCK_ADDR_SIZE 40 /* sizeof(struct tls_sock_addr), for the preprocessor */

/* A record of the tls_procs perf buffer (user space looks at the process again) and of
 * tls_conn_notes (TLS_PROC_CONN, TLS_PROC_PENDING_CONN, TLS_PROC_FORK). */
struct tls_proc_event {
	__u32 pid;
	__u32 kind;  /* enum tls_proc_kind */
	__s32 fd;    /* TLS_PROC_CONN, TLS_PROC_PENDING_CONN: the socket */
	__u32 flags; /* TLS_PROC_EXEC, TLS_PROC_MMAP: why the process is pending now (0: it
		      * is not) */
	__u64 conn; /* TLS_PROC_CONN: the connection's id */
	__u64 ino;  /* TLS_PROC_CONN: the socket's inode number (0: unknown), so that a lookup
		     * after the fd was closed and reused is not taken for this socket's */
	struct tls_sock_addr addr; /* TLS_PROC_CONN, TLS_PROC_PENDING_CONN: its two ends */
};

#define TLS_PATH_LEN 256

/* A TLS_PROC_EXEC record: the program as exec(2) was given it, so that user space can look
 * at it even when the process has exited by then (its first run never goes unlooked at). */
struct tls_exec_event {
	struct tls_proc_event pe;
	char path[TLS_PATH_LEN];
};

/* A file by identity (key of tls_files): its inode number and size (what BPF and stat(2)
 * agree on whatever the file system: a device number may not be, as on btrfs). */
struct tls_file_key {
	__u64 ino;
	__u64 size;
};

/* Values of tls_files: what user space found the file to be. */
#define TLS_FILE_PLAIN 1 /* no TLS code the specs name */
#define TLS_FILE_TLS 2	 /* TLS code, probed */
#define TLS_MAX_FILES 65536

/* Why a process's TLS code may not be probed yet (struct tls_pending's why). */
#define TLS_PENDING_EXEC 1  /* it ran a program the tracer had not looked at */
#define TLS_PENDING_MMAP 2  /* it mapped a file the tracer had not looked at */
#define TLS_PENDING_SCOPE 4 /* it left the scope (the kernel dropped its perf events) */

/*
 * Value of tls_pending (key: tgid): a traced process that may run TLS code without probes,
 * from `since_ns` until user space has looked (and probed what it found); meanwhile its
 * sockets that carry TLS records are counted (tls_pending_fds). Gone once user space settled
 * it.
 */
struct tls_pending {
	__u64 since_ns;
	struct tls_file_key file; /* the first file not looked at */
	__u32 why;		  /* TLS_PENDING_* */
	__u32 pad;
};

/* Key of tls_pending_fds: a socket of a pending process. */
struct tls_pending_key {
	__u32 tgid;
	__s32 fd;
	__u64 ino; /* the socket's inode number (0: unknown) */
};

/* Value of tls_pending_fds: what a pending process sent and received on a socket whose bytes
 * began a TLS record, before any probed call used it. Sends are counted as asked (a write
 * the kernel took in part counts whole), receives as they returned. */
struct tls_pending_fd {
	__u64 sent, recv;
};

#define TLS_MAX_PENDING 4096
#define TLS_MAX_PENDING_FDS 16384

/* A probe point of the scope (key of tls_points): the file and offset of the uprobe a trace
 * event hit fired, and whether it is a return probe, for the compile of bpf_src in use. */
struct tls_point_key {
	struct tls_file_key file;
	__u64 offset;
	__u64 kind; /* TLS_POINT_KIND(generation, return probe) */
};

#define TLS_POINT_KIND(gen, ret) (((gen) << 1) | ((ret) ? 1 : 0))

/* Value of tls_points: the probe's number (what its attach cookie would be) and the slot of
 * tls_point_progs holding its BPF function. */
struct tls_point {
	__u64 probe;
	__u32 slot;
	__u32 pad;
};

#define TLS_MAX_POINTS 16384
#define TLS_MAX_POINT_FUNCS 256

/* A process's socket: key of tls_conns and tls_known_socks. */
struct tls_fd_key {
	__u32 tgid;
	__s32 fd;
};

/* The maps the tracer reads or writes by name (the BPF sources name them as identifiers). */
#define EVENTS_TABLE "tls_events"	    /* perf buffer: struct tls_event with data */
#define META_TABLE "tls_meta"		    /* perf buffer: events without data */
#define STATS_TABLE "tls_stats"		    /* per-CPU struct tls_stats by process */
#define SLOTS_TABLE "tls_slots"		    /* calls in flight: a value begins with its
					     * thread's u64 pid_tgid, 0 when free */
#define CALLS_TABLE "tls_calls"		    /* calls in flight by u32 tid (slot taken) */
#define GO_INFLIGHT_TABLE "tls_go_inflight" /* u64 Go calls in flight by tgid */
#define SETTINGS_TABLE "tls_settings"	    /* struct tls_settings at key 0 */
#define CGROUP_TABLE "tls_cgroup"	    /* --cgroup's cgroup at key 0 (TLS_SET_CGROUP) */
#define TARGETS_TABLE "tls_targets"	    /* TLS_TARGET_* flags by traced tgid */
#define PROCS_TABLE "tls_procs"		    /* perf buffer: struct tls_proc_event */
#define CONN_NOTES_TABLE "tls_conn_notes"   /* perf buffer: the notes thread's */
#define KNOWN_SOCKS_TABLE "tls_known_socks" /* struct tls_fd_key: sockets looked up */
#define UNMAPS_TABLE "tls_unmaps"	    /* tgids told of an unmap */
#define FILES_TABLE "tls_files"		    /* struct tls_file_key: TLS_FILE_* */
#define PENDING_TABLE "tls_pending"	    /* struct tls_pending by tgid */
#define PENDING_FDS_TABLE "tls_pending_fds" /* tls_pending_fd by struct tls_pending_key */
#define PENDING_GATE_TABLE "tls_pending_on" /* key 0: 1 while any process may be pending */
#define POINTS_TABLE "tls_points"	    /* struct tls_point by struct tls_point_key */
#define POINT_PROGS_TABLE "tls_point_progs" /* program array: the specs' BPF functions */
#define DISPATCH_ENTRY "tls_dispatch_entry" /* the scope's BPF functions */
#define DISPATCH_RETURN "tls_dispatch_return"

/* Size of the fixed part in front of data[]. */
#define TLS_EVENT_HDR_SIZE ((unsigned long)&((struct tls_event *)0)->data)

#endif
