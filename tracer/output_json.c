/* SPDX-License-Identifier: Apache-2.0 */
/* output_json.c - the JSON records, a line each: data, connections, handshakes,
 * verifications, hellos, certificates, HTTP messages, losses, bytes before probes, the
 * summary (docs/REFERENCE.md) */
#include "output.h"

#include <string.h>
#include <sys/socket.h>

#include "x509.h"

/* ,"name":"value" or ,"name":null */
static void json_opt_string(FILE *out, const char *name, const char *value)
{
	fprintf(out, ",\"%s\":", name);
	if (value)
		output_json_string(out, value, strlen(value));
	else
		fputs("null", out);
}

/* ,"cgroup_id":..,"cgroup":.. and, where its path names them, "runtime", "container", "pod" */
static void json_cgroup(FILE *out, const struct cgroup_label *cg)
{
	if (!cg)
		return;
	fprintf(out, ",\"cgroup_id\":%llu", (unsigned long long)cg->id);
	json_opt_string(out, "cgroup", cg->path);
	if (cg->container[0]) {
		json_opt_string(out, "runtime", cg->runtime);
		json_opt_string(out, "container", cg->container);
	}
	if (cg->pod[0])
		json_opt_string(out, "pod", cg->pod);
}

/* {"v":1,"type":T,"time_ns":..,"pid":..,"tid":..,"uid":..,"comm":.. and the cgroup (no
 * closing brace) */
static void json_begin(FILE *out, const char *type, const struct out_event *ev)
{
	fprintf(out,
		"{\"v\":1,\"type\":\"%s\",\"time_ns\":%llu,\"pid\":%u,\"tid\":%u,"
		"\"uid\":%u,\"comm\":",
		type, (unsigned long long)ev->unix_ns, ev->pid, ev->tid, ev->uid);
	output_json_string(out, ev->comm, strlen(ev->comm));
	json_cgroup(out, ev->cgroup);
}

/* ,"lib":..,"func":.. */
static void json_func(FILE *out, const struct out_event *ev)
{
	fputs(",\"lib\":", out);
	output_json_string(out, ev->lib, strlen(ev->lib));
	fputs(",\"func\":", out);
	output_json_string(out, ev->func, strlen(ev->func));
}

/* ,"family":..,"laddr":..,"lport":..,"raddr":..,"rport":.. (each null when addr is NULL) */
static void json_addr(FILE *out, const struct conn_addr *addr)
{
	if (addr)
		fprintf(out,
			",\"family\":\"%s\",\"laddr\":\"%s\",\"lport\":%u,\"raddr\":\"%s\","
			"\"rport\":%u",
			addr->family == AF_INET6 ? "ipv6" : "ipv4", addr->laddr,
			(unsigned)addr->lport, addr->raddr, (unsigned)addr->rport);
	else
		fputs(",\"family\":null,\"laddr\":null,\"lport\":null,\"raddr\":null,"
		      "\"rport\":null",
		      out);
}

/* ,"fd":..,"conn":..,"laddr":..,"lport":..,"raddr":..,"rport":.. (null when unknown) */
static void json_conn(FILE *out, const struct out_event *ev)
{
	if (ev->fd >= 0)
		fprintf(out, ",\"fd\":%d", ev->fd);
	else
		fputs(",\"fd\":null", out);
	if (ev->conn)
		fprintf(out, ",\"conn\":%llu", (unsigned long long)ev->conn);
	else
		fputs(",\"conn\":null", out);
	json_addr(out, ev->addr);
	if (ev->hello && ev->hello[0].sni[0]) {
		fputs(",\"sni\":", out);
		output_json_string(out, ev->hello[0].sni, strlen(ev->hello[0].sni));
	}
}

void output_json_data(FILE *out, const struct out_event *ev)
{
	json_begin(out, "data", ev);
	json_func(out, ev);
	json_conn(out, ev);
	fprintf(out,
		",\"dir\":\"%s\",\"call\":%llu,\"call_len\":%u,\"offset\":%u,"
		"\"latency_ns\":%llu,\"data\":\"",
		ev->write ? "write" : "read", (unsigned long long)ev->call_id, ev->len, ev->offset,
		(unsigned long long)ev->latency_ns);
	output_base64(out, ev->data, ev->data_len);
	fputc('"', out);
	if (ev->truncated)
		fprintf(out, ",\"truncated_bytes\":%u", ev->truncated);
	fputs("}\n", out);
}

void output_json_handshake(FILE *out, const struct out_event *ev)
{
	json_begin(out, "handshake", ev);
	json_func(out, ev);
	json_conn(out, ev);
	fprintf(out, ",\"latency_ns\":%llu,\"ok\":%s,\"result\":%lld}\n",
		(unsigned long long)ev->latency_ns, ev->ok ? "true" : "false",
		(long long)ev->result);
}

void output_json_verify(FILE *out, const struct out_event *ev)
{
	const char *name = x509_error_name((long)ev->result);

	json_begin(out, "verify", ev);
	json_func(out, ev);
	json_conn(out, ev);
	fprintf(out, ",\"result\":%lld,\"ok\":%s,\"error\":", (long long)ev->result,
		ev->result == 0 ? "true" : "false");
	if (name)
		fprintf(out, "\"%s\"}\n", name);
	else
		fputs("null}\n", out);
}

void output_json_verify_off(FILE *out, const struct out_event *ev)
{
	json_begin(out, "verify_disabled", ev);
	json_func(out, ev);
	json_conn(out, ev);
	fprintf(out, ",\"mode\":%lld}\n", (long long)ev->result);
}

/* ,"name":["a","b"] from "a,b" or "a, b" (hello.c keeps commas out of names; an empty one
 * is passed over all the same; a subject alternative name holding ", " itself, which no
 * host name does, would be split there). */
static void json_list(FILE *out, const char *name, const char *commas)
{
	bool first = true;
	size_t len;

	fprintf(out, ",\"%s\":[", name);
	for (; *commas; commas += len + (commas[len] == ',')) {
		commas += strspn(commas, " "); /* "a, b" as openssl prints lists */
		len = strcspn(commas, ",");
		if (!len)
			continue;
		if (!first)
			fputc(',', out);
		output_json_string(out, commas, len);
		first = false;
	}
	fputc(']', out);
}

/* ,"name":"TEXT", or the code as "0x0304" where it has no name. */
static void json_named(FILE *out, const char *name, const char *text, unsigned code)
{
	if (text)
		fprintf(out, ",\"%s\":\"%s\"", name, text);
	else
		fprintf(out, ",\"%s\":\"0x%04x\"", name, code);
}

void output_json_hello(FILE *out, const struct out_event *ev, const struct hello *h)
{
	json_begin(out, "hello", ev);
	json_conn(out, ev);
	fprintf(out, ",\"side\":\"%s\",\"dir\":\"%s\"",
		h->side == HELLO_CLIENT ? "client" : "server", ev->write ? "write" : "read");
	json_named(out, "version", hello_version_name(h->version), h->version);
	if (h->side == HELLO_CLIENT) {
		json_opt_string(out, "server_name", h->sni[0] ? h->sni : NULL);
		json_list(out, "alpn", h->alpn);
		fprintf(out, ",\"ech\":%s", h->ech ? "true" : "false");
	} else {
		json_named(out, "cipher", hello_cipher_name(h->cipher), h->cipher);
		json_opt_string(out, "alpn", h->alpn[0] ? h->alpn : NULL);
		fprintf(out, ",\"resumed\":%s,\"retry\":%s", h->resumed ? "true" : "false",
			h->retry ? "true" : "false");
	}
	fprintf(out, ",\"complete\":%s}\n", h->cut ? "false" : "true");
}

void output_json_cert(FILE *out, const struct out_event *ev, const struct cert_info *c,
		      const char *who, int depth, int64_t days_left)
{
	char from[24], to[24];

	cert_time(c->not_before, from, sizeof(from));
	cert_time(c->not_after, to, sizeof(to));
	json_begin(out, "certificate", ev);
	json_func(out, ev);
	json_conn(out, ev);
	json_opt_string(out, "side", who);
	if (depth >= 0)
		fprintf(out, ",\"depth\":%d", depth);
	else
		fputs(",\"depth\":null", out);
	json_opt_string(out, "subject", c->subject);
	json_opt_string(out, "issuer", c->issuer);
	json_list(out, "san", c->san);
	json_opt_string(out, "serial", c->serial);
	json_opt_string(out, "not_before", from);
	json_opt_string(out, "not_after", to);
	json_opt_string(out, "sha256", c->sha256);
	json_opt_string(out, "key", c->key);
	fprintf(out, ",\"days_left\":%lld,\"expiring\":%s}\n", (long long)days_left,
		days_left <= CERT_WARN_DAYS ? "true" : "false");
}

void output_json_conn(FILE *out, const struct out_event *ev, const char *event, const char *reason)
{
	json_begin(out, "conn", ev);
	fprintf(out, ",\"event\":\"%s\"", event);
	json_conn(out, ev);
	if (reason)
		fprintf(out, ",\"reason\":\"%s\"", reason);
	if (!ev->addr && ev->conn_why)
		fprintf(out, ",\"unresolved\":\"%s\"", ev->conn_why);
	fputs("}\n", out);
}

void output_json_http(FILE *out, const struct out_event *ev, const struct http_msg *m)
{
	int i;

	json_begin(out, "http", ev);
	json_conn(out, ev);
	fprintf(out, ",\"version\":\"%s\",\"msg\":\"%s\",\"stream\":%u", m->version,
		m->request ? "request" : "response", m->stream);
	json_opt_string(out, "method", m->method);
	json_opt_string(out, "path", m->path);
	json_opt_string(out, "authority", m->authority);
	if (m->request || !m->status)
		fputs(",\"status\":null", out);
	else
		fprintf(out, ",\"status\":%d", m->status);
	fputs(",\"headers\":[", out);
	for (i = 0; i < m->headers->n; i++) {
		fputs(i ? ",[" : "[", out);
		output_json_string(out, m->headers->v[i].name, strlen(m->headers->v[i].name));
		fputc(',', out);
		output_json_string(out, m->headers->v[i].value, strlen(m->headers->v[i].value));
		fputc(']', out);
	}
	fprintf(out, "],\"body_bytes\":%llu", (unsigned long long)m->body_bytes);
	if (!m->request)
		fprintf(out, ",\"latency_ns\":%llu", (unsigned long long)m->latency_ns);
	fprintf(out, ",\"incomplete\":%s", m->incomplete ? "true" : "false");
	if (m->reset)
		fputs(",\"reset\":true", out);
	if (m->unanswered)
		fputs(",\"unanswered\":true", out);
	fputs("}\n", out);
}

void output_json_lost(FILE *out, const char *buffer, int cpu, uint64_t count)
{
	fputs("{\"v\":1,\"type\":\"lost\",", out);
	if (buffer)
		fprintf(out, "\"buffer\":\"%s\",", buffer);
	fprintf(out, "\"cpu\":%d,\"count\":%llu}\n", cpu, (unsigned long long)count);
}

void output_json_summary_unknown(FILE *out, const char *reason, uint64_t captured)
{
	fprintf(out,
		"{\"v\":1,\"type\":\"summary\",\"reason\":\"%s\","
		"\"bytes_captured\":%llu,\"counters\":\"unavailable\"}\n",
		reason, (unsigned long long)captured);
}

/* "name":value pairs, comma-separated, without braces. */
static void json_u64s(FILE *f, const char *const *names, const uint64_t *v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		fprintf(f, "%s\"%s\":%llu", i ? "," : "", names[i], (unsigned long long)v[i]);
}

/* The counters of the whole run or of one process, without braces. */
static void json_counters(FILE *f, const struct out_counters *c)
{
	static const char *const names[] = {
		"calls",
		"bytes_moved",
		"bytes_captured",
		"bytes_truncated",
		"bytes_lost",
		"bytes_unreadable",
		"events_lost",
		"events_filtered",
		"bytes_filtered",
		"calls_unfinished",
		"bytes_sent_before_probes",
		"bytes_received_before_probes",
		"uncounted_before_probes",
	};
	const uint64_t v[] = {c->calls,
			      c->bytes_moved,
			      c->bytes_captured,
			      c->bytes_truncated,
			      c->bytes_lost,
			      c->bytes_unreadable,
			      c->events_lost,
			      c->events_filtered,
			      c->bytes_filtered,
			      c->calls_unfinished,
			      c->bytes_sent_before_probes,
			      c->bytes_received_before_probes,
			      c->uncounted_before_probes};

	json_u64s(f, names, v, (int)(sizeof(names) / sizeof(names[0])));
}

void output_json_summary(FILE *out, const struct out_summary *s)
{
	static const char *const names[] = {
		"chunks_out_of_order",	  "meta_events_lost",	  "malformed_events",
		"chunks_dropped",	  "bytes_dropped",	  "connections",
		"connections_unresolved", "calls_without_conn",	  "connections_before_probes",
		"calls_in_flight",	  "connections_filtered", "certificates_undecoded",
		"certificates_unshown",
	};
	const uint64_t v[] = {s->late,
			      s->meta_lost,
			      s->malformed,
			      s->dropped,
			      s->bytes_dropped,
			      s->conns,
			      s->conns_unresolved,
			      s->calls_without_conn,
			      s->conns_before_probes,
			      s->calls_in_flight,
			      s->conns_filtered,
			      s->certs_undecoded,
			      s->certs_unshown};
	int i;

	fprintf(out, "{\"v\":1,\"type\":\"summary\",\"reason\":\"%s\",", s->reason);
	fputs("\"libraries\":[", out);
	for (i = 0; i < s->nlibs; i++) {
		fprintf(out, "%s{\"path\":", i ? "," : "");
		output_json_string(out, s->lib_paths[i], strlen(s->lib_paths[i]));
		fprintf(out, ",\"calls\":%llu}", (unsigned long long)s->lib_calls[i]);
	}
	fputs("],", out);
	json_counters(out, &s->all);
	fputc(',', out);
	json_u64s(out, names, v, (int)(sizeof(names) / sizeof(names[0])));
	fputc(',', out);
	if (s->http)
		fprintf(out,
			"\"http_messages\":%llu,\"http_stopped\":%llu,"
			"\"http_unmasked_bytes\":%llu,",
			(unsigned long long)s->http_messages, (unsigned long long)s->http_stopped,
			(unsigned long long)s->http_unmasked);
	fputs("\"processes\":[", out);
	for (i = 0; i < s->nprocs; i++) {
		fprintf(out, "%s{\"pid\":%u,\"comm\":", i ? "," : "", s->procs[i].pid);
		output_json_string(out, s->procs[i].comm, strlen(s->procs[i].comm));
		fputc(',', out);
		json_counters(out, &s->procs[i].c);
		fputc('}', out);
	}
	fputs("]}\n", out);
}

void output_json_unprobed(FILE *out, const struct out_unprobed *u)
{
	fprintf(out, "{\"v\":1,\"type\":\"unprobed\",\"pid\":%u,\"comm\":", u->pid);
	output_json_string(out, u->comm, strlen(u->comm));
	fputs(",\"program\":", out);
	output_json_string(out, u->program, strlen(u->program));
	fprintf(out, ",\"fd\":%d,\"socket_ino\":%llu", u->fd, (unsigned long long)u->socket_ino);
	json_addr(out, u->addr);
	fprintf(out, ",\"bytes_sent\":%llu,\"bytes_received\":%llu,\"reason\":\"%s\"}\n",
		(unsigned long long)u->sent, (unsigned long long)u->recv, u->reason);
}
