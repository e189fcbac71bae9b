/* SPDX-License-Identifier: Apache-2.0 */
/* output.h - the output layer: encodings (output.c), text rows (output_text.c), JSON
 * records (output_json.c); every row and record is written here */
#ifndef TRACER_OUTPUT_H
#define TRACER_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cert.h"
#include "cgroup.h"
#include "conns.h"
#include "http.h"

/* A call's plaintext (text modes: the whole call; JSON: one chunk) as the output sees it. */
struct out_event {
	const char *func;
	const char *lib;
	const char *comm;
	uint64_t time_ns; /* since tracing started (text) */
	uint64_t unix_ns; /* the wall clock's Unix time (JSON) */
	uint32_t pid, tid, uid;
	bool write; /* the process sent this (else it received it) */
	uint64_t call_id;
	uint32_t len;	 /* bytes the call moved */
	uint32_t offset; /* where data starts within the call */
	const unsigned char *data;
	uint32_t data_len;   /* bytes captured here */
	uint32_t truncated;  /* bytes of the call beyond the capture limit (0 but on the end) */
	uint32_t lost;	     /* bytes of the call that never arrived (text modes) */
	uint64_t latency_ns; /* from the call's entry to its return (handshake: its first) */
	int fd;		     /* the connection's socket; -1: unknown */
	uint64_t conn;	     /* the connection's id; 0: unknown */
	const struct conn_addr *addr; /* its ends; NULL: not known */
	const char *conn_why;	      /* conn known, addr not: why */
	int64_t result;		      /* handshake, verify: the return value; verify_off: mode */
	bool ok;		      /* handshake: it succeeded */
	const struct hello *hello;    /* the connection's [client, server] hellos (side 0: not
				       * seen); NULL: none */
	const struct cgroup_label *cgroup; /* the thread's cgroup; NULL: unknown */
};

/*
 * Writes bytes so no byte can drive the terminal: printable ASCII, '\n', '\t', "\r\n" and
 * well-formed UTF-8 (but C1 controls) pass; '\\' becomes "\\\\"; every other byte "\xHH".
 */
void output_escape(FILE *out, const unsigned char *data, size_t len);

/* Writes 16 bytes a line: offset, hex, and the printable ASCII ('.' for the rest). */
void output_hexdump(FILE *out, const unsigned char *data, size_t len);

/* A payload between "----- DATA -----" and the end marker's line: escaped text, or, when
 * that would take more room than base64, base64 lines after "----- DATA (base64) -----". */
void output_payload(FILE *out, const unsigned char *data, size_t len);

/* stdout's buffer when it is not a terminal: written by the megabyte, flushed every round
 * of the poll loop. */
#define OUTPUT_BUFFER_SIZE (1u << 20)

/* Sets stdout up for a stream of events before anything is written to it: a file or pipe
 * gets an OUTPUT_BUFFER_SIZE buffer, a pipe as much room; a terminal keeps its lines. */
void output_setup_stdout(void);

/* s as rows show a name the traced program chose (its command name): printable ASCII, '?'
 * for every other byte, cut to fit size. */
void output_printable(char *buf, size_t size, const char *s);

/* The column header, same widths as output_event's rows; `latency`: with LAT(ms). */
void output_header(FILE *out, bool latency);

/*
 * A row, then the payload between DATA markers; the end marker says what is missing. Not
 * `hexdump`: escaped as output_escape does, or, when that would take more room than base64,
 * as base64 in lines of 76 characters after "----- DATA (base64) -----".
 */
void output_event(FILE *out, const struct out_event *ev, bool hexdump, bool latency);

/* The line that says which connection the rows after it belong to. */
void output_conn_line(FILE *out, const struct out_event *ev);

/* A row for a handshake that ended: ok or failed, and how long it took. */
void output_handshake(FILE *out, const struct out_event *ev);

/* A row for SSL_get_verify_result: its value and X509 error name. */
void output_verify(FILE *out, const struct out_event *ev);

/* A row warning that certificate verification was turned off (result: the mode). */
void output_verify_off(FILE *out, const struct out_event *ev);

/* A row per certificate the peer presented (who: "server" or "client", whose it is;
 * NULL: not known; depth: its place in the chain, 0 the peer's own; -1 not known): its
 * subject, issuer, names, serial, key, validity and fingerprint. */
void output_cert(FILE *out, const struct out_event *ev, const struct cert_info *c, const char *who,
		 int depth);

/* A row warning that a certificate ends within CERT_WARN_DAYS days, or has ended. */
void output_cert_expiry(FILE *out, const struct out_event *ev, const struct cert_info *c,
			const char *who, int depth, int64_t days_left);

/* A row for a hello sent, "client hello: sni example.com, alpn h2 (conn 3)", or received,
 * "server hello received: TLSv1.3, TLS_AES_128_GCM_SHA256 (conn 3)". */
void output_hello(FILE *out, const struct out_event *ev, const struct hello *h);

/* A line per HTTP exchange, at its response: "HTTP/1.1 conn 3: GET /a -> 200, 1.204 ms,
 * request 0 B, response 12 B"; `headers`: then each request ("  > ") and response
 * ("  < ") header. Requests give no line. */
void output_http(FILE *out, const struct out_event *ev, const struct http_msg *m, bool headers);

/* {"v":1,"type":"http","msg":"request"|"response",...}: one per request and per response. */
void output_json_http(FILE *out, const struct out_event *ev, const struct http_msg *m);

/* Writes len bytes as a JSON string with its quotes; bytes that are not UTF-8 as \u00XX. */
void output_json_string(FILE *out, const char *s, size_t len);

/* Writes len bytes as RFC 4648 base64 with padding. */
void output_base64(FILE *out, const unsigned char *data, size_t len);

/* One JSON line: {"v":1,"type":"data",...} for a chunk. */
void output_json_data(FILE *out, const struct out_event *ev);

/* {"v":1,"type":"handshake",...,"latency_ns":N,"ok":B,"result":N} */
void output_json_handshake(FILE *out, const struct out_event *ev);

/* {"v":1,"type":"verify",...,"result":N,"ok":B,"error":"X509_V_..."} */
void output_json_verify(FILE *out, const struct out_event *ev);

/* {"v":1,"type":"verify_disabled",...,"mode":N} */
void output_json_verify_off(FILE *out, const struct out_event *ev);

/* {"v":1,"type":"hello","side":"client"|"server",...}: what a hello sent or received said
 * (server name, ALPN, version, suite, resumed), docs/REFERENCE.md. */
void output_json_hello(FILE *out, const struct out_event *ev, const struct hello *h);

/* {"v":1,"type":"certificate",...}: a certificate the peer presented, decoded, with its
 * days left and whether they are CERT_WARN_DAYS or fewer (docs/REFERENCE.md). */
void output_json_cert(FILE *out, const struct out_event *ev, const struct cert_info *c,
		      const char *who, int depth, int64_t days_left);

/* {"v":1,"type":"conn","event":"open"|"close",...}; reason of a close: "close", "exit". */
void output_json_conn(FILE *out, const struct out_event *ev, const char *event, const char *reason);

/* {"v":1,"type":"lost",["buffer":"meta",]"cpu":N,"count":N}: the kernel dropped count
 * events of CPU cpu's buffer (buffer NULL: the data's). */
void output_json_lost(FILE *out, const char *buffer, int cpu, uint64_t count);

/* A row of --list-probes' table, each column as probes_list says it. */
struct out_probe {
	const char *lib, *func, *kind, *offset, *bpf_fn, *need, *insn, *uprobe, *cost, *found_by;
};

/* --list-probes: the table's header, a row, and the line under it that says what one hit
 * of each class cost (ns), measured on `calls` calls. */
void output_probes_header(FILE *out);
void output_probe(FILE *out, const struct out_probe *p);
void output_probe_costs(FILE *out, int calls, double emulated_ns, double stepped_ns,
			double return_ns);
void output_probe_costs_unknown(FILE *out, const char *why);

/* The counters of a run or of one of its processes, as the summary gives them. */
struct out_counters {
	uint64_t calls, bytes_moved, bytes_captured, bytes_truncated, bytes_lost, bytes_unreadable;
	uint64_t events_lost, events_filtered, bytes_filtered;
	uint64_t calls_unfinished; /* calls still in flight when their thread or process exited */
	/* TLS record bytes on its sockets before its TLS code had probes (not in bytes_moved) */
	uint64_t bytes_sent_before_probes, bytes_received_before_probes;
	/* processes or sockets whose bytes before probes could not be counted (a map full) */
	uint64_t uncounted_before_probes;
};

/* One connection's TLS bytes sent and received before the process had probes. */
struct out_unprobed {
	uint32_t pid;
	const char *comm, *program; /* program: what it ran ("" unknown) */
	int fd;
	uint64_t socket_ino;
	const struct conn_addr *addr; /* NULL: not known */
	uint64_t sent, recv;
	const char *reason; /* "new_code", "exited", "left_scope", "unprobed" */
};

/* {"v":1,"type":"unprobed","pid":N,...,"bytes_sent":N,"bytes_received":N,"reason":"..."} */
void output_json_unprobed(FILE *out, const struct out_unprobed *u);

/* The closing account of a run (summary.c fills it). */
struct out_summary {
	const char *reason;
	bool counters_known; /* false: the BPF counters were not read, only all.bytes_captured
			      * is known */
	struct out_counters all;
	uint64_t late, meta_lost, malformed, dropped, bytes_dropped;
	uint64_t conns, conns_unresolved, calls_without_conn;
	uint64_t conns_filtered;      /* left out by --host/--port/--sni */
	uint64_t certs_undecoded;     /* certificates not decoded (cut, or not X.509) */
	uint64_t certs_unshown;	      /* certificates the filter could not decide on */
	uint64_t calls_in_flight;     /* calls that had not returned as the tracer stopped */
	uint64_t conns_before_probes; /* connections with bytes before probes */
	bool http;
	uint64_t http_messages, http_stopped, http_unmasked;
	const char **lib_paths; /* nlibs of them, with their calls */
	uint64_t *lib_calls;
	int nlibs;
	struct out_summary_proc {
		uint32_t pid;
		const char *comm;
		struct out_counters c;
	} * procs;
	int nprocs;
};

/* The JSON summary record: {"v":1,"type":"summary",...} and a newline. */
void output_json_summary(FILE *out, const struct out_summary *s);

/* The JSON summary record when the BPF counters could not be read: what was captured. */
void output_json_summary_unknown(FILE *out, const char *reason, uint64_t captured);

#endif
