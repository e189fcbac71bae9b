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

/* What the sockets of pid counted: one report each (those with bytes) into out, up to max;
 * every entry of pid taken out. Returns how many. */
static int take_sockets(struct tracer_bpf *tb, uint32_t pid, const struct unprobed_report *proto,
			struct unprobed_report *out, int max)
{
	struct tls_pending_key keys[256], key;
	struct tls_pending_fd v;
	int n, i, got = 0;

	n = tracer_bpf__keys_of(tb, PENDING_FDS_TABLE, keys, sizeof(keys[0]), 256);
	for (i = 0; i < n; i++) {
		key = keys[i];
		if (key.tgid != pid)
			continue;
		if (tracer_bpf__lookup_key(tb, PENDING_FDS_TABLE, &key, sizeof(key), &v,
					   sizeof(v)) == 0 &&
		    (v.sent || v.recv) && got < max) {
			out[got] = *proto;
			out[got].fd = key.fd;
			out[got].ino = key.ino;
			out[got].sent = v.sent;
			out[got].recv = v.recv;
			got++;
		}
		tracer_bpf__delete_key(tb, PENDING_FDS_TABLE, &key, sizeof(key));
	}
	return got;
}

bool unprobed_settle(struct unprobed *u, struct tracer_bpf *tb, uint32_t pid, bool missed,
		     enum unprobed_why why, const char *program)
{
	struct unprobed_report proto = {.pid = pid, .fd = -1, .why = why}, found[64];
	struct tls_pending p;
	int n, i;

	if (unprobed_pending(tb, pid, &p) != 0)
		return false;
	/* the entry first: BPF counts no more from here (a byte counted between the two is
	 * lost to the count, and was the probes' to see) */
	tracer_bpf__delete_key(tb, PENDING_TABLE, &pid, sizeof(pid));
	snprintf(proto.program, sizeof(proto.program), "%s", program ? program : "");
	if (proc_read_comm((pid_t)pid, proto.comm, sizeof(proto.comm))) /* gone: as named */
		snprintf(proto.comm, sizeof(proto.comm), "%.*s", TLS_COMM_LEN - 1,
			 !proto.program[0]	       ? "?"
			 : strrchr(proto.program, '/') ? strrchr(proto.program, '/') + 1
						       : proto.program);
	n = take_sockets(tb, pid, &proto, found, 64);
	if (!missed || !n)
		return true;
	pthread_mutex_lock(&u->mu);
	for (i = 0; i < n; i++) {
		found[i].resolved = known_addr(u, &found[i]);
		queue(u, &found[i]);
	}
	pthread_mutex_unlock(&u->mu);
	return true;
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

void unprobed_drain(struct unprobed *u, FILE *json_out, struct events *ev)
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
		if (json_out)
			output_json_unprobed(json_out,
					     &(struct out_unprobed){
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
		if (ev)
			events_add_unprobed(ev, r->pid, r->comm, r->sent, r->recv);
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
