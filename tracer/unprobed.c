/* SPDX-License-Identifier: Apache-2.0 */
/* unprobed.c - what traced processes sent and received on TLS sockets before their TLS code
 * had probes: counted in BPF, settled when the tracer has looked, said per connection */
#define _GNU_SOURCE
#include "unprobed.h"
#include "diag.h"
#include "grow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "output.h"
#include "procmaps.h"
#include "tracer_bpf.h"

void unprobed_init(struct unprobed *u, const char *proc_root)
{
	memset(u, 0, sizeof(*u));
	u->proc_root = proc_root;
	pthread_mutex_init(&u->mu, NULL);
}

void unprobed_note_conn(struct unprobed *u, uint32_t pid, int fd, uint64_t ino,
			const struct tls_sock_addr *bpf)
{
	struct unprobed_addr a = {.pid = pid, .fd = fd, .ino = ino};

	a.resolved = conns_from_bpf(bpf, &a.addr) == 0 ||
		     conns_resolve(u->proc_root, (pid_t)pid, fd, ino, &a.addr) == 0;
	pthread_mutex_lock(&u->mu);
	u->addrs[u->next_addr++ % UNPROBED_ADDRS] = a;
	pthread_mutex_unlock(&u->mu);
}

int unprobed_pending(struct tracer_bpf *tb, uint32_t pid, struct tls_pending *p)
{
	return tracer_bpf__lookup_key(tb, PENDING_TABLE, &pid, sizeof(pid), p, sizeof(*p));
}

int unprobed_pending_pids(struct tracer_bpf *tb, uint32_t *pids, int max)
{
	return tracer_bpf__keys(tb, PENDING_TABLE, pids, max);
}

/* The addresses the notes thread found for a socket, with u->mu held. */
static bool known_addr(const struct unprobed *u, struct unprobed_report *r)
{
	int i;

	for (i = 0; i < UNPROBED_ADDRS; i++) {
		const struct unprobed_addr *a = &u->addrs[i];

		if (a->pid == r->pid && a->fd == r->fd && a->ino == r->ino && a->resolved) {
			r->addr = a->addr;
			return true;
		}
	}
	return false;
}

/* Queues r for the main loop (with u->mu held); dropped, and said, when out of memory. */
static void queue(struct unprobed *u, const struct unprobed_report *r)
{
	struct unprobed_report *grown;

	grown = grow_for(u->queue, u->nqueue, &u->queue_cap, sizeof(*u->queue), 16);
	if (!grown) {
		diag("out of memory: PID %u's %llu bytes sent and %llu received before probes "
		     "are not told\n",
		     r->pid, (unsigned long long)r->sent, (unsigned long long)r->recv);
		return;
	}
	u->queue = grown;
	u->queue[u->nqueue++] = *r;
}

/* Every key of tls_pending_fds, *n of them (heap; NULL when none, or out of memory). */
static struct tls_pending_key *pending_sockets(struct tracer_bpf *tb, int *n)
{
	struct tls_pending_key *keys = malloc(TLS_MAX_PENDING_FDS * sizeof(*keys));

	*n = keys ? tracer_bpf__keys_of(tb, PENDING_FDS_TABLE, keys, sizeof(*keys),
					TLS_MAX_PENDING_FDS)
		  : 0;
	if (*n <= 0) {
		free(keys);
		*n = 0;
		return NULL;
	}
	return keys;
}

/* Takes socket `key` out of tls_pending_fds; what it counted (nothing: 0) into a report
 * made from proto, appended to *out (grown; *nout, *cap). Out of memory: said. */
static void take_socket(struct tracer_bpf *tb, const struct tls_pending_key *key,
			const struct unprobed_report *proto, struct unprobed_report **out,
			int *nout, int *cap)
{
	struct unprobed_report *grown;
	struct tls_pending_fd v;

	if (tracer_bpf__lookup_key(tb, PENDING_FDS_TABLE, key, sizeof(*key), &v, sizeof(v)) == 0 &&
	    (v.sent || v.recv)) {
		grown = grow_for(*out, *nout, cap, sizeof(**out), 16);
		if (!grown) {
			diag("out of memory: PID %u's %llu bytes sent and %llu received before "
			     "probes are not told\n",
			     key->tgid, (unsigned long long)v.sent, (unsigned long long)v.recv);
		} else {
			*out = grown;
			grown[*nout] = *proto;
			grown[*nout].fd = key->fd;
			grown[*nout].ino = key->ino;
			grown[*nout].sent = v.sent;
			grown[*nout].recv = v.recv;
			(*nout)++;
		}
	}
	tracer_bpf__delete_key(tb, PENDING_FDS_TABLE, key, sizeof(*key));
}

/* Queues reports r[0..n) with their addresses, when known. */
static void queue_all(struct unprobed *u, struct unprobed_report *r, int n)
{
	int i;

	pthread_mutex_lock(&u->mu);
	for (i = 0; i < n; i++) {
		r[i].resolved = known_addr(u, &r[i]);
		queue(u, &r[i]);
	}
	pthread_mutex_unlock(&u->mu);
}

/* proto's name of process pid: its comm, or when gone what it ran. */
static void name_process(struct unprobed_report *proto, uint32_t pid)
{
	if (proc_read_comm((pid_t)pid, proto->comm, sizeof(proto->comm))) /* gone: as named */
		snprintf(proto->comm, sizeof(proto->comm), "%.*s", TLS_COMM_LEN - 1,
			 !proto->program[0]		? "?"
			 : strrchr(proto->program, '/') ? strrchr(proto->program, '/') + 1
							: proto->program);
}

bool unprobed_settle(struct unprobed *u, struct tracer_bpf *tb, uint32_t pid, bool missed,
		     enum unprobed_why why, const char *program)
{
	struct unprobed_report proto = {.pid = pid, .fd = -1, .why = why}, *found = NULL;
	struct tls_pending_key *keys;
	struct tls_pending p;
	int n, i, nfound = 0, cap = 0;

	if (unprobed_pending(tb, pid, &p) != 0)
		return false;
	/* the entry first: BPF counts no more from here (a socket it took up just before is
	 * an orphan, told by unprobed_sweep) */
	tracer_bpf__delete_key(tb, PENDING_TABLE, &pid, sizeof(pid));
	snprintf(proto.program, sizeof(proto.program), "%s", program ? program : "");
	name_process(&proto, pid);
	keys = pending_sockets(tb, &n);
	for (i = 0; i < n; i++)
		if (keys[i].tgid == pid)
			take_socket(tb, &keys[i], &proto, &found, &nfound, &cap);
	free(keys);
	if (missed && nfound)
		queue_all(u, found, nfound);
	free(found);
	return true;
}

void unprobed_sweep(struct unprobed *u, struct tracer_bpf *tb)
{
	struct unprobed_report proto = {.fd = -1, .why = UNPROBED_UNPROBED}, *found = NULL;
	struct tls_pending_key *keys;
	struct tls_pending p;
	int n, i, nfound = 0, cap = 0;

	keys = pending_sockets(tb, &n);
	for (i = 0; i < n; i++) {
		if (unprobed_pending(tb, keys[i].tgid, &p) == 0)
			continue; /* its process is pending: settled with it */
		proto.pid = keys[i].tgid;
		name_process(&proto, proto.pid);
		take_socket(tb, &keys[i], &proto, &found, &nfound, &cap);
	}
	free(keys);
	if (nfound)
		queue_all(u, found, nfound);
	free(found);
}

void unprobed_gate(struct tracer_bpf *tb)
{
	uint64_t off = 0, on = 1;
	uint32_t pid;

	tracer_bpf__update(tb, PENDING_GATE_TABLE, 0, &off, sizeof(off));
	if (tracer_bpf__keys(tb, PENDING_TABLE, &pid, 1) > 0)
		tracer_bpf__update(tb, PENDING_GATE_TABLE, 0, &on, sizeof(on));
}

static const char *why_text(const struct unprobed_report *r)
{
	switch (r->why) {
	case UNPROBED_NEW_CODE:
		return "its TLS code was not probed yet";
	case UNPROBED_EXITED:
		return "it exited before the tracer could look at it";
	case UNPROBED_LEFT:
		return "an exec that changed its credentials took its probes away";
	default:
		return "no probed call used the socket";
	}
}

static const char *why_name(enum unprobed_why why)
{
	static const char *const names[] = {"new_code", "exited", "left_scope", "unprobed"};

	return names[why];
}

/* "127.0.0.1:40 -> 127.0.0.1:8443" or "fd 5 (addresses unknown)" */
static void describe_conn(const struct unprobed_report *r, char *buf, size_t size)
{
	char l[CONN_ADDR_LEN + 8], rr[CONN_ADDR_LEN + 8];

	if (!r->resolved) {
		snprintf(buf, size, "fd %d (addresses unknown: closed before it was looked up)",
			 r->fd);
		return;
	}
	conns_format_end(l, sizeof(l), r->addr.family, r->addr.laddr, r->addr.lport);
	conns_format_end(rr, sizeof(rr), r->addr.family, r->addr.raddr, r->addr.rport);
	snprintf(buf, size, "fd %d, %s -> %s", r->fd, l, rr);
}

void unprobed_drain(struct unprobed *u, struct events *ev)
{
	struct unprobed_report *batch;
	char conn[160];
	int n, i;

	pthread_mutex_lock(&u->mu);
	batch = u->queue;
	n = u->nqueue;
	u->queue = NULL;
	u->nqueue = u->queue_cap = 0;
	pthread_mutex_unlock(&u->mu);
	for (i = 0; i < n; i++) {
		const struct unprobed_report *r = &batch[i];

		describe_conn(r, conn, sizeof(conn));
		diag("PID %u (%s) sent %llu and received %llu bytes of TLS records on %s "
		     "before probes: %s%s%s%s\n",
		     r->pid, r->comm, (unsigned long long)r->sent, (unsigned long long)r->recv,
		     conn, why_text(r), r->program[0] ? " (it ran '" : "", r->program,
		     r->program[0] ? "')" : "");
		if (ev)
			events_add_unprobed(ev, &(struct out_unprobed){
							.pid = r->pid,
							.comm = r->comm,
							.program = r->program,
							.fd = r->fd,
							.socket_ino = r->ino,
							.addr = r->resolved ? &r->addr : NULL,
							.sent = r->sent,
							.recv = r->recv,
							.reason = why_name(r->why),
						});
	}
	free(batch);
}

void unprobed_free(struct unprobed *u)
{
	free(u->queue);
	u->queue = NULL;
	u->nqueue = u->queue_cap = 0;
	pthread_mutex_destroy(&u->mu);
}
