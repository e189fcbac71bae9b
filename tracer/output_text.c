/* SPDX-License-Identifier: Apache-2.0 */
/* output_text.c - sslsniff-like text rows: the header, a row per call with its payload, the
 * connection lines, handshakes, verifications, hellos, certificates, HTTP exchanges; and
 * --list-probes' table */
#include "output.h"

#include <string.h>

#include "x509.h"

#define ROW_FMT "%-19s %-12s %-16s %-7s %-7s %s\n"
#define LEN_LAT_FMT "%-7s %s" /* -l: LEN and LAT(ms) as the last column */

void output_printable(char *buf, size_t size, const char *s)
{
	size_t i;

	for (i = 0; i + 1 < size && s[i]; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
}

void output_header(FILE *out, bool latency)
{
	char last[32];

	snprintf(last, sizeof(last), LEN_LAT_FMT, "LEN", "LAT(ms)");
	fprintf(out, ROW_FMT, "FUNC", "TIME(s)", "COMM", "PID", "TID", latency ? last : "LEN");
}

/* A row's columns up to TID and then `last`: FUNC TIME(s) COMM PID TID last. */
static void put_row(FILE *out, const struct out_event *ev, const char *last)
{
	char time[32], pid[16], tid[16], comm[17];

	output_printable(comm, sizeof(comm), ev->comm);
	snprintf(time, sizeof(time), "%llu.%09llu", (unsigned long long)(ev->time_ns / 1000000000),
		 (unsigned long long)(ev->time_ns % 1000000000));
	snprintf(pid, sizeof(pid), "%u", ev->pid);
	snprintf(tid, sizeof(tid), "%u", ev->tid);
	fprintf(out, ROW_FMT, ev->func, time, comm, pid, tid, last);
}

/* Milliseconds with three decimals: "12.345". */
static void format_ms(char *buf, size_t size, uint64_t ns)
{
	snprintf(buf, size, "%llu.%03llu", (unsigned long long)(ns / 1000000),
		 (unsigned long long)(ns / 1000 % 1000));
}

void output_event(FILE *out, const struct out_event *ev, bool hexdump, bool latency)
{
	char len[16], lat[32], last[64];

	snprintf(len, sizeof(len), "%u", ev->len);
	if (latency) {
		format_ms(lat, sizeof(lat), ev->latency_ns);
		snprintf(last, sizeof(last), LEN_LAT_FMT, len, lat);
	}
	put_row(out, ev, latency ? last : len);

	if (hexdump) {
		fputs("----- DATA -----\n", out);
		output_hexdump(out, ev->data, ev->data_len);
	} else {
		output_payload(out, ev->data, ev->data_len);
	}
	if (ev->truncated && ev->lost)
		fprintf(out,
			"----- END DATA (TRUNCATED, %u bytes not shown; LOST, %u bytes) -----\n",
			ev->truncated, ev->lost);
	else if (ev->truncated)
		fprintf(out, "----- END DATA (TRUNCATED, %u bytes not shown) -----\n",
			ev->truncated);
	else if (ev->lost)
		fprintf(out, "----- END DATA (LOST, %u bytes not captured) -----\n", ev->lost);
	else
		fputs("----- END DATA -----\n", out);
}

/* " (conn 3)" or "" when the connection is unknown. */
static void conn_suffix(char *buf, size_t size, const struct out_event *ev)
{
	if (ev->conn)
		snprintf(buf, size, " (conn %llu)", (unsigned long long)ev->conn);
	else
		buf[0] = '\0';
}

/* "; sni example.com, alpn h2,http/1.1; TLSv1.3, TLS_AES_128_GCM_SHA256": what the
 * connection's hellos said, if any was seen. */
static void put_hellos(FILE *out, const struct out_event *ev)
{
	char said[HELLO_SNI_LEN + HELLO_ALPN_LEN + 64];
	int i;

	for (i = 0; ev->hello && i < 2; i++) {
		if (!ev->hello[i].side)
			continue;
		hello_describe(&ev->hello[i], said, sizeof(said));
		if (said[0])
			fprintf(out, "; %s", said);
	}
}

/* "; container docker 0123456789ab, pod UID" or "; cgroup /a/b": where the process runs,
 * when it is not the hierarchy's root */
static void put_cgroup(FILE *out, const struct cgroup_label *cg)
{
	char said[CGROUP_DESCRIBE_LEN];

	cgroup_describe(cg, true, said, sizeof(said));
	if (said[0])
		fprintf(out, "; %s", said);
}

void output_conn_line(FILE *out, const struct out_event *ev)
{
	char local[CONN_ADDR_LEN + 8], remote[CONN_ADDR_LEN + 8];

	if (!ev->conn) {
		fputs("--- connection unknown: no socket seen for this session ---\n", out);
		return;
	}
	if (!ev->addr) {
		fprintf(out, "--- conn %llu, fd %d: addresses unknown (%s)",
			(unsigned long long)ev->conn, ev->fd, ev->conn_why ? ev->conn_why : "?");
		put_hellos(out, ev);
		put_cgroup(out, ev->cgroup);
		fputs(" ---\n", out);
		return;
	}
	conns_format_end(local, sizeof(local), ev->addr->family, ev->addr->laddr, ev->addr->lport);
	conns_format_end(remote, sizeof(remote), ev->addr->family, ev->addr->raddr,
			 ev->addr->rport);
	fprintf(out, "--- conn %llu, fd %d: local %s, remote %s", (unsigned long long)ev->conn,
		ev->fd, local, remote);
	put_hellos(out, ev);
	put_cgroup(out, ev->cgroup);
	fputs(" ---\n", out);
}

void output_handshake(FILE *out, const struct out_event *ev)
{
	char lat[32], conn[32], last[128];

	format_ms(lat, sizeof(lat), ev->latency_ns);
	conn_suffix(conn, sizeof(conn), ev);
	if (ev->ok)
		snprintf(last, sizeof(last), "handshake ok in %s ms%s", lat, conn);
	else
		snprintf(last, sizeof(last), "handshake FAILED (returned %lld) after %s ms%s",
			 (long long)ev->result, lat, conn);
	put_row(out, ev, last);
}

void output_verify(FILE *out, const struct out_event *ev)
{
	const char *name = x509_error_name((long)ev->result);
	char conn[32], last[160];

	conn_suffix(conn, sizeof(conn), ev);
	snprintf(last, sizeof(last), "verify %s: %lld %s%s", ev->result ? "FAILED" : "ok",
		 (long long)ev->result, name ? name : "(unknown X509_V_ value)", conn);
	put_row(out, ev, last);
}

void output_verify_off(FILE *out, const struct out_event *ev)
{
	char conn[32], last[256];

	conn_suffix(conn, sizeof(conn), ev);
	snprintf(last, sizeof(last),
		 "WARNING: certificate verification disabled (mode %lld, no SSL_VERIFY_PEER): a "
		 "client accepts any server certificate%s",
		 (long long)ev->result, conn);
	put_row(out, ev, last);
}

void output_hello(FILE *out, const struct out_event *ev, const struct hello *h)
{
	char said[HELLO_SNI_LEN + HELLO_ALPN_LEN + 64], conn[32], last[HELLO_SNI_LEN + 256];

	hello_describe(h, said, sizeof(said));
	conn_suffix(conn, sizeof(conn), ev);
	snprintf(last, sizeof(last), "%s hello%s%s%s%s%s",
		 h->side == HELLO_CLIENT ? "client" : "server", ev->write ? "" : " received",
		 said[0] ? ": " : "", said, h->cut ? " (its first bytes only)" : "", conn);
	put_row(out, ev, last);
}

/* "server certificate 0" (who: "server", "client" or NULL: the peer's) */
static void cert_who(char *buf, size_t size, const char *who, int depth)
{
	if (depth >= 0)
		snprintf(buf, size, "%s certificate %d", who ? who : "peer", depth);
	else
		snprintf(buf, size, "%s certificate", who ? who : "peer");
}

void output_cert(FILE *out, const struct out_event *ev, const struct cert_info *c, const char *who,
		 int depth)
{
	char conn[32], name[48], from[24], to[24], last[CERT_NAME_LEN * 2 + CERT_SAN_LEN + 512];

	conn_suffix(conn, sizeof(conn), ev);
	cert_who(name, sizeof(name), who, depth);
	cert_time(c->not_before, from, sizeof(from));
	cert_time(c->not_after, to, sizeof(to));
	snprintf(last, sizeof(last),
		 "%s: %s; issuer %s%s%s; serial %s; %s; valid %s to %s; sha256 %s%s", name,
		 c->subject, c->issuer, c->san[0] ? "; " : "", c->san, c->serial, c->key, from, to,
		 c->sha256, conn);
	put_row(out, ev, last);
}

void output_cert_expiry(FILE *out, const struct out_event *ev, const struct cert_info *c,
			const char *who, int depth, int64_t days_left)
{
	char conn[32], name[48], to[24], last[CERT_NAME_LEN + 256];

	conn_suffix(conn, sizeof(conn), ev);
	cert_who(name, sizeof(name), who, depth);
	cert_time(c->not_after, to, sizeof(to));
	if (days_left < 0)
		snprintf(last, sizeof(last), "WARNING: %s %s expired on %s%s", name, c->subject, to,
			 conn);
	else
		snprintf(last, sizeof(last), "WARNING: %s %s expires in %lld day%s, on %s%s", name,
			 c->subject, (long long)days_left, days_left == 1 ? "" : "s", to, conn);
	put_row(out, ev, last);
}

/* Writes a NUL-terminated string escaped for the terminal; NULL as "?". */
static void put_text(FILE *out, const char *s)
{
	if (!s)
		s = "?";
	output_escape(out, (const unsigned char *)s, strlen(s));
}

static void http_headers_text(FILE *out, const struct http_headers *hs, const char *mark)
{
	int i;

	for (i = 0; hs && i < hs->n; i++) {
		fputs(mark, out);
		put_text(out, hs->v[i].name);
		fputs(": ", out);
		put_text(out, hs->v[i].value);
		fputc('\n', out);
	}
}

void output_http(FILE *out, const struct out_event *ev, const struct http_msg *m, bool headers)
{
	if (m->request)
		return;
	fprintf(out, "HTTP/%s", m->version);
	if (ev->conn)
		fprintf(out, " conn %llu", (unsigned long long)ev->conn);
	if (!strcmp(m->version, "2"))
		fprintf(out, " stream %u", m->stream);
	fputs(": ", out);
	put_text(out, m->method);
	fputc(' ', out);
	put_text(out, m->path);
	if (m->unanswered)
		fputs(" -> no response", out);
	else if (m->reset)
		fputs(" -> reset", out);
	else
		fprintf(out, " -> %d", m->status);
	fprintf(out, ", %.3f ms, request %llu B, response %llu B%s\n", m->latency_ns / 1e6,
		(unsigned long long)m->req_body_bytes, (unsigned long long)m->body_bytes,
		m->incomplete ? " (incomplete: bytes not captured)" : "");
	if (headers) {
		http_headers_text(out, m->req_headers, "  > ");
		http_headers_text(out, m->headers, "  < ");
	}
}

#define PROBE_FMT "%-40s %-22s %-7s %-9s %-31s %-8s %-36s %-16s %-*s %s\n"

void output_probes_header(FILE *out)
{
	fprintf(out, PROBE_FMT, "LIBRARY", "FUNCTION", "KIND", "OFFSET", "BPF FUNCTION", "NEED",
		"FIRST INSTRUCTION", "UPROBE", 9, "COST/HIT", "FOUND BY");
}

void output_probe(FILE *out, const struct out_probe *p)
{
	/* the width counts bytes: µ takes two */
	fprintf(out, PROBE_FMT, p->lib, p->func, p->kind, p->offset, p->bpf_fn, p->need, p->insn,
		p->uprobe, strstr(p->cost, "\u00b5") ? 10 : 9, p->cost, p->found_by);
}

void output_probe_costs(FILE *out, int calls, double emulated_ns, double stepped_ns,
			double return_ns)
{
	fprintf(out,
		"\nCOST/HIT: what one hit costs the traced program on this machine, measured now "
		"on the tracer's own code (the least of 5 timings of %d calls): emulated %.1f "
		"\u00b5s, single-stepped %.1f \u00b5s, return %.1f \u00b5s (a uretprobe's "
		"trampoline as the function returns; its breakpoint is the entry probe's at the "
		"same offset).\n",
		calls, emulated_ns / 1000, stepped_ns / 1000, return_ns / 1000);
}

void output_probe_costs_unknown(FILE *out, const char *why)
{
	fprintf(out, "\nCOST/HIT: not measured here: %s\n", why);
}
