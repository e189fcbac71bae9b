/* SPDX-License-Identifier: Apache-2.0 */
/* conns.h - connections: a socket's addresses from /proc, the run's open connections by id */
#ifndef TRACER_CONNS_H
#define TRACER_CONNS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "hello.h"

#define CONN_ADDR_LEN 46 /* INET6_ADDRSTRLEN */

/* The two ends of a TCP connection, as the traced process sees them. */
struct tls_sock_addr;

struct conn_addr {
	int family; /* AF_INET (IPv4-mapped IPv6 addresses included) or AF_INET6 */
	char laddr[CONN_ADDR_LEN], raddr[CONN_ADDR_LEN];
	uint16_t lport, rport;
};

/*
 * Parses a line of /proc/net/tcp or /proc/net/tcp6. Returns 0 and fills a and *inode for
 * a socket's line, -1 for the header or a malformed line.
 */
int conns_parse_tcp_line(const char *line, struct conn_addr *a, unsigned long *inode);

/*
 * Looks socket fd of process pid up: with proc_root "/proc", by asking a copy of the socket
 * (pidfd_getfd) for its ends; otherwise, or when no copy can be had, under proc_root: its
 * inode, then that inode in the process's network namespace's TCP tables. `ino`, when not 0,
 * is the socket's inode number as BPF saw it: an fd that names another socket now (closed
 * and reused since) counts as gone, never as that socket. Returns 0 with a filled, or:
 * -EAGAIN: a socket not (yet) connected, or not found in the TCP tables (look again later);
 * -ENOENT: the fd (or the process, or the socket `ino`) is gone; -ENOTSOCK: no socket.
 */
int conns_resolve(const char *proc_root, pid_t pid, int fd, uint64_t ino, struct conn_addr *a);

/* Writes "127.0.0.1:443" or "[::1]:443". */
void conns_format_end(char *buf, size_t size, int family, const char *addr, uint16_t port);

/*
 * Lookups made the moment BPF announces a new connection, on a thread of their own: the
 * socket is then still open, however long the main loop takes to come to the connection's
 * first event (a short-lived curl connection closes within milliseconds). The main loop
 * takes each result when it opens the connection; the oldest results give way when more
 * than CONN_NOTES are waiting, and the main loop then looks the socket up itself.
 */
#define CONN_NOTES 1024

struct conn_note {
	uint64_t id; /* 0: free */
	int err;     /* conns_resolve's result */
	struct conn_addr addr;
};

struct conn_notes {
	pthread_mutex_t mu;
	const char *proc_root;
	struct conn_note v[CONN_NOTES];
	unsigned int next; /* the slot the next result takes */
};

/* Connection id (pid's socket fd): its addresses as BPF read them from the socket (`bpf`,
 * NULL or family 0: none), else looked up now; the result kept for conns_open. */
void conn_notes_add(struct conn_notes *n, uint64_t id, uint32_t pid, int fd, uint64_t ino,
		    const struct tls_sock_addr *bpf);

/* A socket's two ends as BPF read them into a: 0, or -EAGAIN when BPF had none. */
int conns_from_bpf(const struct tls_sock_addr *bpf, struct conn_addr *a);

/* Certificates of a connection whose fingerprints are kept, to show each once */
#define CONN_CERTS_KEPT 8

/* A connection of the run: a socket a TLS call used, until it is closed. */
struct conn {
	uint64_t id;
	uint32_t pid;
	int fd;
	uint64_t ino;	 /* the socket's inode number as BPF saw it (0: unknown) */
	bool resolved;	 /* addr is known */
	int tries;	 /* lookups left before giving up */
	const char *why; /* not resolved: why (a static string) */
	struct conn_addr addr;
	uint64_t tied[2];	/* [enum tls_dir]: the session whose calls use no socket that BPF
				 * tied to it after a call (TLS_KIND_CONN_TIE); 0: none */
	uint64_t tied_since[2]; /* ... known to BPF since then (a call before was another
				 * object's at that address) */
	bool from_tie;		/* made from a tie before its opening came */
	int kept; /* --host/--port's verdict, once its addresses are known: 1 shown, -1 left
		   * out; 0: not asked yet */
	struct hello hello[2]; /* [side - 1]: its ClientHello's and ServerHello's words (side
				* 0: none seen) */
	bool told_open;	       /* its "open" JSON record was written */
	int ncerts;	       /* certificates its peer presented so far (their depths) */
	uint64_t cert_keys[CONN_CERTS_KEPT]; /* the first ones' fingerprints, hashed: a library
					      * that parses one again (GnuTLS) shows it once */
};

/*
 * A socket a target held when the tracer attached, looked up then (conns_scan): a connection
 * older than the tracer may be used and closed within milliseconds of the tracer's first
 * sight of it (a client that then exits), too soon for any lookup. BPF marks the socket as
 * it is looked up and unmarks it when the process replaces the fd, so a connection opened on
 * a marked socket (TLS_FLAG_KNOWN) is the one looked up here.
 */
struct conn_known {
	uint32_t pid;
	int fd;
	uint64_t ino; /* the socket's inode number then: a connection whose socket BPF saw with
		       * another is not this one (the fd was reused before the tracer heard) */
	struct conn_addr addr;
};

/* Marks pid's socket fd in BPF (add), or takes the mark away. Returns 0 or -errno. */
typedef int (*conns_mark_fn)(void *ctx, pid_t pid, int fd, bool add);

/* The open connections, sorted by id (ids come from BPF, mostly in increasing order). */
struct conn_table {
	const char *proc_root;
	struct conn_notes *notes; /* NULL: none; conns_open takes its results first */
	conns_mark_fn mark;	  /* NULL: sockets are not looked up as the tracer attaches */
	void *mark_ctx;
	struct conn_known *known; /* conns_scan's finds */
	int nknown, known_cap;
	struct conn *v;
	int n, cap;
	uint64_t opened;     /* connections seen in the run */
	uint64_t unresolved; /* of those, closed or still open without addresses */
};

/* The open connection `id`, or NULL; one without addresses yet is looked up again (a few
 * times at most). */
struct conn *conns_get(struct conn_table *t, uint64_t id);

/*
 * Connection `id` of pid's socket fd, added if new, with the addresses BPF read from the
 * socket (`bpf`, the opening's own; NULL or family 0: none), else those conns_scan found
 * when `known` (BPF's TLS_FLAG_KNOWN), else the result of its lookup in notes, or else
 * looked up at once (an entry already there is returned as it is: conns_get looks it up
 * again); NULL only when out of memory.
 */
struct conn *conns_open(struct conn_table *t, uint64_t id, uint32_t pid, int fd, uint64_t ino,
			bool known, const struct tls_sock_addr *bpf);

/*
 * Looks up each socket pid holds now (as the tracer attaches, before any TLS probe is), each
 * marked with t->mark first and unmarked if it is no connected TCP socket. Returns how many
 * were found connected, or -errno when pid's fds cannot be listed.
 */
int conns_scan(struct conn_table *t, pid_t pid);

/* Forgets (and unmarks) what conns_scan found of pid: it ran another program, or exited. */
void conns_forget_known(struct conn_table *t, pid_t pid);

/* Forgets connection `id` (closed), counting it if it never got addresses. */
void conns_close(struct conn_table *t, uint64_t id);

/* The open connection of pid that session object sess was tied to (conn's tied) as the
 * session it was at time_ns, or NULL. */
struct conn *conns_of_session(struct conn_table *t, uint32_t pid, uint64_t sess, uint64_t time_ns);

/* Connection c, made before its opening came, takes what the opening brings: the socket's
 * inode, `known` and the ends BPF read (as conns_open's). */
void conns_opened(struct conn_table *t, struct conn *c, uint64_t ino, bool known,
		  const struct tls_sock_addr *bpf);

/* Connections of the run that got no addresses: closed ones and open ones. */
uint64_t conns_unresolved(const struct conn_table *t);

void conns_free(struct conn_table *t);

#endif
