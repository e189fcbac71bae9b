/* SPDX-License-Identifier: Apache-2.0 */
/* handshake.c - what a handshake tells, put on its connection: the hellos (hello.c parses
 * them), kept for a connection not known yet, and the peer's certificates (cert.c decodes
 * them), told once each */
#include "handshake.h"
#include "cert.h"
#include "diag.h"
#include "event_view.h"
#include "hello.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Whether a hello of `side` sent on (pid, fd, socket inode ino) may be connection c's: the
 * same socket, or (an inode unknown on either side: a connection made from a tie) the same
 * fd with no hello of that side yet. */
static bool hello_of(const struct conn *c, uint32_t pid, int fd, uint64_t ino, int side)
{
	if (c->pid != pid || c->fd != fd)
		return false;
	if (ino && c->ino)
		return c->ino == ino;
	return !c->hello[side - 1].side;
}

/* Tells hello h, sent as event ev, on connection conn (0: none known). */
static void tell_hello(struct events *e, const struct tls_event *ev, uint64_t conn,
		       const struct hello *h)
{
	struct conn *c = conn ? conns_get(&e->conns, conn) : NULL;
	char comm[TLS_COMM_LEN + 1];
	struct out_event out;

	if (!event_kept(e, ev, conn, false))
		return;
	out = event_view_on(e, ev, c, comm);
	out.func = h->side == HELLO_CLIENT ? "ClientHello" : "ServerHello";
	TO_SINKS(e, hello, &out, h);
}

/* The oldest hello still waiting for its connection is told without one. */
static void give_up_hello(struct events *e)
{
	tell_hello(e, e->hellos[0].ev, 0, &e->hellos[0].h);
	free(e->hellos[0].ev);
	memmove(e->hellos, e->hellos + 1, (size_t)--e->nhellos * sizeof(*e->hellos));
}

/* Tells the waiting hellos that connection c (NULL: none) takes, or, without c, those of
 * process pid (it exited), and forgets them; the others wait on. */
void handshake_settle(struct events *e, struct conn *c, uint32_t pid)
{
	int i, waiting = 0;

	for (i = 0; i < e->nhellos; i++) {
		struct waiting_hello *w = &e->hellos[i];

		if (c ? !hello_of(c, w->ev->pid, w->ev->fd, (uint64_t)w->ev->result, w->h.side)
		      : w->ev->pid != pid) {
			e->hellos[waiting++] = *w;
			continue;
		}
		if (c)
			c->hello[w->h.side - 1] = w->h;
		tell_hello(e, w->ev, c ? c->id : 0, &w->h);
		free(w->ev);
	}
	e->nhellos = waiting;
}

/* A hello's turn (data: its bytes): put on its connection and told, or, sent before the
 * connection was known (a memory BIO's or Go's handshake, outside any TLS call), kept for
 * it. */
void handshake_hello(struct events *e, const struct tls_event *ev, const uint8_t *data)
{
	struct conn *c = ev->conn ? conns_get(&e->conns, ev->conn) : NULL;
	struct tls_event *copy;
	struct hello h;
	int i;

	if (hello_parse(data, ev->data_len, &h)) {
		e->malformed++; /* BPF sent it for its first bytes: never so */
		return;
	}
	h.sent = ev->dir == TLS_DIR_WRITE;
	for (i = e->conns.n - 1; !c && i >= 0; i--) /* the newest first: an fd reused */
		if (hello_of(&e->conns.v[i], ev->pid, ev->fd, (uint64_t)ev->result, h.side))
			c = &e->conns.v[i];
	if (c) {
		c->hello[h.side - 1] = h;
		tell_hello(e, ev, c->id, &h);
		return;
	}
	if (e->nhellos == EVENTS_WAITING_HELLOS)
		give_up_hello(e);
	if (!(copy = chunkq_copy(ev, data))) {
		tell_hello(e, ev, 0, &h); /* no room to wait: now, without its connection */
		return;
	}
	e->hellos[e->nhellos].ev = copy;
	e->hellos[e->nhellos++].h = h;
}

/* Whose certificate connection c's peer presents: "server" where the traced process is its
 * client (it sent the ClientHello, or received the ServerHello), "client" where it is the
 * server; NULL when no hello said. */
static const char *peer_side(const struct conn *c)
{
	const struct hello *client = &c->hello[HELLO_CLIENT - 1];
	const struct hello *server = &c->hello[HELLO_SERVER - 1];

	if (client->side)
		return client->sent ? "server" : "client";
	if (server->side)
		return server->sent ? "client" : "server";
	return NULL;
}

/*
 * Whether the X.509 parser of cert event ev was called by the TLS library parsing the peer's
 * Certificate message: from the TLS call's own code (libssl calling libcrypto, GnuTLS and a
 * program with OpenSSL linked in calling themselves), or, where the parser is in a file of
 * its own, from anywhere but that file (NSS: libssl3, between libnspr4's call and libnss3's
 * parser; a parser whose code is not known takes nothing that way). Not: the parser's
 * library calling itself (a CA looked up on disk while verifying; where one file holds
 * both, BPF leaves out what is parsed inside X509_verify_cert).
 */
static bool cert_from_tls(struct events *e, const struct tls_event *ev)
{
	const struct resolved_probe *call = probes_by_id(e->cfg.probes, ev->probe);
	const struct resolved_probe *parser = probes_by_id(e->cfg.probes, ev->call_id);

	if (!call || !parser)
		return false;
	if (probes_own_code(call, ev->ret_delta))
		return true;
	return strcmp(call->lib_path, parser->lib_path) != 0 && parser->code_end &&
	       !probes_own_code(parser, (int64_t)ev->latency_ns);
}

/* Whether connection c (or none) has had certificate `der` (len bytes) before: GnuTLS parses
 * the peer's first one again to check its key exchange (TLS 1.2). Else noted as had. */
static bool cert_again(struct conn *c, const uint8_t *der, uint32_t len)
{
	uint64_t key = 1469598103934665603ULL; /* FNV-1a */
	uint32_t n;
	int i;

	for (n = 0; n < len; n++)
		key = (key ^ der[n]) * 1099511628211ULL;
	for (i = 0; c && i < c->ncerts && i < CONN_CERTS_KEPT; i++)
		if (c->cert_keys[i] == key)
			return true;
	if (c && c->ncerts < CONN_CERTS_KEPT)
		c->cert_keys[c->ncerts] = key;
	return false;
}

/*
 * A certificate's DER (data) that a TLS call's thread handed an X.509 parser: the peer's
 * when the TLS library called it (cert_from_tls), else left alone. Told once per
 * connection, decoded only then; one whose connection --host/--port/--sni have not decided
 * on yet is counted, not shown.
 */
void handshake_cert(struct events *e, const struct tls_event *ev, const uint8_t *data)
{
	struct conn *c = ev->conn ? conns_get(&e->conns, ev->conn) : NULL;
	const char *who = c ? peer_side(c) : NULL;
	char comm[TLS_COMM_LEN + 1];
	struct cert_info info;
	struct out_event out;
	int64_t left;
	int depth;

	if (!cert_from_tls(e, ev) || cert_again(c, data, ev->data_len))
		return;
	depth = c ? c->ncerts++ : -1;
	if (!event_kept(e, ev, ev->conn, false)) {
		e->certs_unshown += !c || !c->kept; /* not left out: not decided on */
		return;
	}
	if (ev->data_len < ev->call_len || cert_parse(data, ev->data_len, &info)) {
		if (!e->certs_undecoded++) /* said once; the summary counts them */
			diag("a certificate of %u bytes (PID %u, conn %llu) was not decoded: %s\n",
			     ev->call_len, ev->pid, (unsigned long long)ev->conn,
			     ev->data_len < ev->call_len ? "more bytes than were captured (16 KiB, "
							   "and --max-data-size)"
							 : "libcrypto could not read it");
		return;
	}
	left = cert_days_left(&info, time(NULL));
	out = event_view(e, ev, comm);
	out.func = "Certificate";
	out.call_id = 0;
	out.latency_ns = 0;
	TO_SINKS(e, cert, &out, &info, who, depth, left);
}

void handshake_give_up(struct events *e)
{
	while (e->nhellos > 0)
		give_up_hello(e);
}

void handshake_free(struct events *e)
{
	int i;

	for (i = 0; i < e->nhellos; i++)
		free(e->hellos[i].ev);
	e->nhellos = 0;
}
