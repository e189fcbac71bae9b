/* SPDX-License-Identifier: Apache-2.0 */
/* conns.c - connections: a socket's addresses, the run's open connections by id */
#define _GNU_SOURCE
#include "conns.h"
#include "grow.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tls_event.h"
#include "sorted.h"

/* Lookups of a connection that is not resolved yet: when it is first seen, then as events
 * of it are shown, until one finds it connected. */
#define CONN_TRIES 4

/*
 * The kernel prints an address as the 32-bit words of its network-order bytes, each with
 * %08X: copying each parsed word back to memory gives the bytes again (on this host's byte
 * order, which is the kernel's). Returns the number of bytes (4 or 16), or 0.
 */
static size_t parse_hex_addr(const char *hex, unsigned char *bytes)
{
	size_t len = strlen(hex), i;
	char word[9];

	if (len != 8 && len != 32)
		return 0;
	for (i = 0; i < len / 8; i++) {
		uint32_t v;

		memcpy(word, hex + 8 * i, 8);
		word[8] = '\0';
		v = (uint32_t)strtoul(word, NULL, 16);
		memcpy(bytes + 4 * i, &v, 4);
	}
	return len / 2;
}

/* Formats an address of n bytes; an IPv4-mapped IPv6 address as IPv4. Returns its family. */
static int format_addr(const unsigned char *bytes, size_t n, char *out)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (n == 16 && memcmp(bytes, mapped, sizeof(mapped)) == 0) {
		bytes += 12;
		n = 4;
	}
	inet_ntop(n == 4 ? AF_INET : AF_INET6, bytes, out, CONN_ADDR_LEN);
	return n == 4 ? AF_INET : AF_INET6;
}

int conns_parse_tcp_line(const char *line, struct conn_addr *a, unsigned long *inode)
{
	char lhex[33], rhex[33];
	unsigned char lbytes[16], rbytes[16];
	unsigned int lport, rport, state;
	size_t ln, rn;

	/* sl local rem st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode */
	if (sscanf(line,
		   " %*u: %32[0-9A-Fa-f]:%x %32[0-9A-Fa-f]:%x %x %*x:%*x %*x:%*x %*x %*u %*d %lu",
		   lhex, &lport, rhex, &rport, &state, inode) != 6)
		return -1;
	ln = parse_hex_addr(lhex, lbytes);
	rn = parse_hex_addr(rhex, rbytes);
	if (!ln || ln != rn || lport > 0xffff || rport > 0xffff)
		return -1;
	memset(a, 0, sizeof(*a));
	a->family = format_addr(lbytes, ln, a->laddr);
	format_addr(rbytes, rn, a->raddr);
	a->lport = (uint16_t)lport;
	a->rport = (uint16_t)rport;
	return 0;
}

/* Finds the socket with this inode in a TCP table file: 0, or -ENOENT. */
static int find_inode(const char *path, unsigned long inode, struct conn_addr *a)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	unsigned long ino;
	int err = -ENOENT;

	if (!f)
		return -ENOENT;
	while (err && getline(&line, &cap, f) > 0)
		if (conns_parse_tcp_line(line, a, &ino) == 0 && ino == inode)
			err = 0;
	free(line);
	fclose(f);
	return err;
}

/* One end of a socket address into addr/port; a v4-mapped IPv6 address as IPv4. */
static int format_sockaddr(const struct sockaddr_storage *ss, char *addr, uint16_t *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		*port = ntohs(in->sin_port);
		return format_addr((const unsigned char *)&in->sin_addr, 4, addr);
	}
	*port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return format_addr(((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr, 16, addr);
}

/*
 * Asks the socket itself: a copy of pid's fd (pidfd_getfd, Linux 5.6; the ptrace access
 * the tracer has anyway), then getsockname/getpeername: a few syscalls, where reading
 * /proc/<pid>/net/tcp walks the whole TCP hash (3-13 ms a lookup measured here). Returns
 * conns_resolve's codes, or -ENOSYS when the copy cannot be had (then /proc is read).
 */
static int resolve_by_copy(pid_t pid, int fd, uint64_t ino, struct conn_addr *a)
{
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_getfd)
	struct sockaddr_storage local, peer;
	struct stat st;
	socklen_t llen = sizeof(local), plen = sizeof(peer), len = sizeof(int);
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), copy, type = 0, proto = 0, err = 0;

	if (pidfd < 0)
		return errno == ESRCH ? -ENOENT : -ENOSYS;
	copy = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (copy < 0)
		err = errno == EBADF || errno == ESRCH ? -ENOENT : -ENOSYS;
	close(pidfd);
	if (err)
		return err;
	if (ino && (fstat(copy, &st) != 0 || (uint64_t)st.st_ino != ino))
		err = -ENOENT; /* that socket is closed: the fd names another now */
	else if (getsockopt(copy, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
		err = errno == ENOTSOCK ? -ENOTSOCK : -ENOSYS;
	else if (len = sizeof(int), getsockopt(copy, SOL_SOCKET, SO_PROTOCOL, &proto, &len) ||
					    type != SOCK_STREAM || proto != IPPROTO_TCP)
		err = -EAGAIN; /* not TCP: as when it is in no TCP table */
	else if (getsockname(copy, (struct sockaddr *)&local, &llen) ||
		 getpeername(copy, (struct sockaddr *)&peer, &plen) ||
		 (local.ss_family != AF_INET && local.ss_family != AF_INET6))
		err = -EAGAIN; /* not connected (yet) */
	close(copy);
	if (err)
		return err;
	a->family = format_sockaddr(&local, a->laddr, &a->lport);
	format_sockaddr(&peer, a->raddr, &a->rport);
	return 0;
#else
	(void)pid;
	(void)fd;
	(void)ino;
	(void)a;
	return -ENOSYS;
#endif
}

int conns_resolve(const char *proc_root, pid_t pid, int fd, uint64_t ino, struct conn_addr *a)
{
	static const char *const tables[] = {"tcp", "tcp6"};
	char path[PATH_MAX], link[64];
	unsigned long inode;
	ssize_t n;
	size_t i;
	int err;

	if (strcmp(proc_root, "/proc") == 0 && (err = resolve_by_copy(pid, fd, ino, a)) != -ENOSYS)
		return err;
	snprintf(path, sizeof(path), "%s/%d/fd/%d", proc_root, (int)pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -ENOENT;
	link[n] = '\0';
	if (sscanf(link, "socket:[%lu]", &inode) != 1)
		return -ENOTSOCK;
	if (ino && inode != ino)
		return -ENOENT; /* that socket is closed: the fd names another now */
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(path, sizeof(path), "%s/%d/net/%s", proc_root, (int)pid, tables[i]);
		if (find_inode(path, inode, a) == 0)
			return a->rport ? 0 : -EAGAIN; /* no peer yet: not connected */
	}
	return -EAGAIN;
}

void conns_format_end(char *buf, size_t size, int family, const char *addr, uint16_t port)
{
	snprintf(buf, size, family == AF_INET6 ? "[%s]:%u" : "%s:%u", addr, (unsigned)port);
}

/* Index of the first connection whose id is not below `id`. */
static int lower_bound(const struct conn_table *t, uint64_t id)
{
	_Static_assert(sizeof(t->v->id) == sizeof(uint64_t), "a uint64_t key");
	return sorted_lower_bound(t->v, t->n, sizeof(*t->v), offsetof(__typeof__(*t->v), id), id);
}

/* Takes a lookup's result (conns_resolve's) into c. */
static void take_result(struct conn *c, int err)
{
	c->resolved = err == 0;
	if (err == -ENOENT)
		c->why = "socket closed before it could be looked at";
	else if (err == -ENOTSOCK)
		c->why = "not a socket";
	else if (err)
		c->why = "not a connected TCP socket";
	if (err == -ENOENT || err == -ENOTSOCK)
		c->tries = 0;
}

/* One more lookup of a connection that has no addresses yet. */
static void try_resolve(struct conn_table *t, struct conn *c)
{
	if (c->resolved || c->tries <= 0)
		return;
	c->tries--;
	take_result(c, conns_resolve(t->proc_root ? t->proc_root : "/proc", (pid_t)c->pid, c->fd,
				     c->ino, &c->addr));
}

_Static_assert(sizeof(struct tls_sock_addr) == TLS_SOCK_ADDR_SIZE, "TLS_SOCK_ADDR_SIZE");

int conns_from_bpf(const struct tls_sock_addr *bpf, struct conn_addr *a)
{
	size_t n = bpf && bpf->family == AF_INET ? 4 : 16;

	if (!bpf || (bpf->family != AF_INET && bpf->family != AF_INET6))
		return -EAGAIN;
	a->family = format_addr(bpf->laddr, n, a->laddr);
	format_addr(bpf->raddr, n, a->raddr);
	a->lport = bpf->lport;
	a->rport = bpf->rport;
	return 0;
}

void conn_notes_add(struct conn_notes *n, uint64_t id, uint32_t pid, int fd, uint64_t ino,
		    const struct tls_sock_addr *bpf)
{
	struct conn_note note = {.id = id};

	note.err = conns_from_bpf(bpf, &note.addr);
	if (note.err)
		note.err = conns_resolve(n->proc_root ? n->proc_root : "/proc", (pid_t)pid, fd, ino,
					 &note.addr);
	pthread_mutex_lock(&n->mu);
	n->v[n->next] = note;
	n->next = (n->next + 1) % CONN_NOTES;
	pthread_mutex_unlock(&n->mu);
}

/* Takes the lookup the notes hold for new connection c, if any, into c. */
static bool take_note(struct conn_notes *n, struct conn *c)
{
	bool found = false;
	unsigned int i;

	pthread_mutex_lock(&n->mu);
	for (i = 0; i < CONN_NOTES && !found; i++) {
		struct conn_note *note = &n->v[(n->next + CONN_NOTES - 1 - i) % CONN_NOTES];

		if (note->id != c->id)
			continue;
		c->addr = note->addr;
		c->tries--; /* the note was its first lookup */
		take_result(c, note->err);
		note->id = 0;
		found = true;
	}
	pthread_mutex_unlock(&n->mu);
	return found;
}

struct conn *conns_get(struct conn_table *t, uint64_t id)
{
	int i = lower_bound(t, id);

	if (i == t->n || t->v[i].id != id)
		return NULL;
	try_resolve(t, &t->v[i]);
	return &t->v[i];
}

/* Takes what conns_scan found of c's socket into c: the same fd, and the same socket when
 * BPF could tell its inode (a close_range(2) leaves the mark; its notice may come later). */
static bool take_known(const struct conn_table *t, struct conn *c)
{
	int i;

	for (i = 0; i < t->nknown; i++)
		if (t->known[i].pid == c->pid && t->known[i].fd == c->fd &&
		    (!c->ino || t->known[i].ino == c->ino)) {
			c->addr = t->known[i].addr;
			take_result(c, 0);
			return true;
		}
	return false;
}

struct conn *conns_open(struct conn_table *t, uint64_t id, uint32_t pid, int fd, uint64_t ino,
			bool known, const struct tls_sock_addr *bpf)
{
	int i = lower_bound(t, id);
	struct conn *c;

	if (i < t->n && t->v[i].id == id)
		return &t->v[i]; /* conns_get looks it up again if need be */
	c = grow_for(t->v, t->n, &t->cap, sizeof(*t->v), 64);
	if (!c)
		return NULL;
	t->v = c;
	memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof(*t->v));
	t->n++;
	c = &t->v[i];
	*c = (struct conn){.id = id, .pid = pid, .fd = fd, .ino = ino, .tries = CONN_TRIES};
	t->opened++;
	if (conns_from_bpf(bpf, &c->addr) == 0)
		take_result(c, 0);
	else if (!(known && take_known(t, c)) && !(t->notes && take_note(t->notes, c)))
		try_resolve(t, c);
	return c;
}

/* Marks socket fd (inode ino), looks it up and keeps what it found; unmarks it when that is
 * nothing. */
static int scan_one(struct conn_table *t, const char *root, pid_t pid, int fd, uint64_t ino)
{
	struct conn_known k = {.pid = (uint32_t)pid, .fd = fd, .ino = ino}, *grown;
	int err;

	if (t->mark(t->mark_ctx, pid, fd, true))
		return 0; /* no mark (map full): looked up when first used, as any socket */
	err = conns_resolve(root, pid, fd, 0, &k.addr);
	grown = err ? NULL : grow_for(t->known, t->nknown, &t->known_cap, sizeof(*t->known), 16);
	if (!grown) {
		t->mark(t->mark_ctx, pid, fd, false);
		return 0;
	}
	t->known = grown;
	t->known[t->nknown++] = k;
	return 1;
}

int conns_scan(struct conn_table *t, pid_t pid)
{
	const char *root = t->proc_root ? t->proc_root : "/proc";
	char path[PATH_MAX], link[64];
	unsigned long long ino;
	struct dirent *d;
	int n = 0, fd;
	ssize_t len;
	DIR *dir;

	if (!t->mark)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%d/fd", root, (int)pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		if (sscanf(d->d_name, "%d", &fd) != 1)
			continue;
		snprintf(path, sizeof(path), "%s/%d/fd/%d", root, (int)pid, fd);
		len = readlink(path, link, sizeof(link) - 1);
		if (len > 0 && (link[len] = '\0', sscanf(link, "socket:[%llu]", &ino) == 1))
			n += scan_one(t, root, pid, fd, ino);
	}
	closedir(dir);
	return n;
}

void conns_forget_known(struct conn_table *t, pid_t pid)
{
	int i, kept = 0;

	for (i = 0; i < t->nknown; i++) {
		if (t->known[i].pid != (uint32_t)pid)
			t->known[kept++] = t->known[i];
		else if (t->mark)
			t->mark(t->mark_ctx, pid, t->known[i].fd, false);
	}
	t->nknown = kept;
}

void conns_close(struct conn_table *t, uint64_t id)
{
	int i = lower_bound(t, id);

	if (i == t->n || t->v[i].id != id)
		return;
	if (!t->v[i].resolved)
		t->unresolved++;
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
	t->n--;
}

struct conn *conns_of_session(struct conn_table *t, uint32_t pid, uint64_t sess, uint64_t time_ns)
{
	const struct conn *c;
	int i, d;

	for (i = 0; i < t->n && sess; i++)
		for (d = 0, c = &t->v[i]; d < 2; d++)
			if (c->pid == pid && c->tied[d] == sess && c->tied_since[d] <= time_ns)
				return &t->v[i];
	return NULL;
}

void conns_opened(struct conn_table *t, struct conn *c, uint64_t ino, bool known,
		  const struct tls_sock_addr *bpf)
{
	c->from_tie = false;
	c->ino = ino;
	if (conns_from_bpf(bpf, &c->addr) == 0)
		take_result(c, 0);
	else if (!c->resolved && known)
		take_known(t, c);
}

uint64_t conns_unresolved(const struct conn_table *t)
{
	uint64_t n = t->unresolved;
	int i;

	for (i = 0; i < t->n; i++)
		n += !t->v[i].resolved;
	return n;
}

void conns_free(struct conn_table *t)
{
	free(t->v);
	free(t->known);
	t->v = NULL;
	t->known = NULL;
	t->n = t->cap = t->nknown = t->known_cap = 0;
}
