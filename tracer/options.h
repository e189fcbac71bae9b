/* SPDX-License-Identifier: Apache-2.0 */
/* options.h - command-line options of the tracer */
#ifndef TRACER_OPTIONS_H
#define TRACER_OPTIONS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "connfilter.h"

/* Exit statuses, documented in README and tracer --help. */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1, /* a runtime failure: target, compile, attach, privileges */
	EXIT_USAGE = 2,	  /* bad arguments or malformed probe specs */
};

#define DEFAULT_MAX_DATA_SIZE 16384
#define MIN_MAX_DATA_SIZE 16
#define MAX_MAX_DATA_SIZE 16384 /* a per-CPU map value must stay under 32 KiB */
#define DEFAULT_MAX_CALL_BYTES (2 << 20)
#define MAX_MAX_CALL_BYTES (16 << 20)
#define MAX_CHUNKS_LIMIT 1024 /* chunks per call: iterations the verifier walks */
#define MIN_AUTO_PERF_PAGES 64
#define MAX_PERF_PAGES 65536
#define MAX_PIDS 64
#define COMM_MAX 16 /* a thread name with its NUL, as the kernel keeps it */
#define MAX_REDACT_PATTERNS 16
#define MAX_DEFINES 32
#define MAX_DEFINE_LEN 128 /* one -D NAME=VALUE */

/* Every option the user can set, with its default. */
struct env {
	pid_t pids[MAX_PIDS]; /* the processes to trace (with their children) */
	int npids;
	bool all;		/* --all: every process (that -u/-c let through) */
	bool no_children;	/* --no-children: only the given PIDs, not what they start */
	char comm[COMM_MAX];	/* -c/--comm: only threads of this name; "" every thread */
	int max_data_size;	/* power of two: bytes per chunk */
	int max_call_bytes;	/* bytes captured per call, at most MAX_CHUNKS_LIMIT chunks */
	bool no_read, no_write; /* leave out received / sent plaintext */
	unsigned int sample;	/* capture one call in `sample` */
	bool any_uid;		/* no --uid: every uid */
	uint32_t uid;		/* --uid: only calls by this user */
	struct conn_filter conns; /* --host, --port: the connections shown */
	char cgroup[PATH_MAX];	  /* --cgroup: the directory of the cgroup traced; "" none */
	bool selftest;		/* --selftest: no PID; trace our own TLS client and server */
	bool list_probes;	/* --list-probes: show where the probes go, attach nothing */
	bool check;		/* --check: compile, verify, parse the specs; attach nothing */
	const char *init_dir;	/* --init-probes: copy the shipped sources there, then exit */
	const char *defines[MAX_DEFINES]; /* -D: "NAME" or "NAME=VALUE", validated */
	int ndefines;
	bool placement_exported; /* --placement=exported: no internal function stands in */
	bool json;
	int perf_pages; /* per CPU, power of two; 0: room for one whole call */
	bool hexdump;
	bool latency;	       /* -l: the LAT(ms) column */
	bool handshakes;       /* --handshake: a row per handshake */
	const char *pcap_path; /* -w: the pcapng file ("-": stdout); NULL none */
	bool force;	       /* --force: -w may overwrite an existing file */
	bool http;	       /* --http: decoded HTTP/1.x and HTTP/2 records */
	bool http_only;	       /* --http-only: those records without the data events */
	bool count;	       /* --count: a table of calls and bytes per connection at the end */
	bool redact;	       /* --redact: secrets masked in every output */
	const char *redact_patterns[MAX_REDACT_PATTERNS]; /* --redact-pattern */
	int nredact_patterns;
	int verbose;
	const char *bpf_src;	 /* NULL: found next to the executable */
	const char *probe_specs; /* NULL: found next to the executable */
	bool exit_now;		 /* --help, --usage or --version was answered */
};

#define ENV_DEFAULTS                                                                               \
	{                                                                                          \
		.npids = 0, .max_data_size = DEFAULT_MAX_DATA_SIZE,                                \
		.max_call_bytes = DEFAULT_MAX_CALL_BYTES, .sample = 1, .any_uid = true,            \
	}

/*
 * Parses argv into env. Messages go through diag (help and version to `out`). Returns EXIT_OK,
 * or EXIT_USAGE after printing what was wrong; sets env->exit_now after --help/--version.
 */
int options_parse(int argc, char **argv, struct env *env, FILE *out);

/* By default all CPUs' perf buffers together take up to this much, and one CPU's at most
 * AUTO_PERF_CPU_BYTES: room for a burst of a busy thread while the tracer is not running
 * (a write to a full pipe, another process on its CPU). */
#define AUTO_PERF_TOTAL_BYTES (128ul << 20)
#define AUTO_PERF_CPU_BYTES (32ul << 20)

/*
 * Perf buffer pages per CPU: --perf-pages, or by default the larger of the CPU's share of
 * AUTO_PERF_TOTAL_BYTES (at most AUTO_PERF_CPU_BYTES; a power of two) and the smallest power
 * of two (at least 64) that holds one call of --max-call-bytes with its chunk headers, since
 * one BPF run submits a whole call before anyone can drain it. ncpus: the CPUs with a buffer.
 */
int options_perf_pages(const struct env *env, long page_size, unsigned long event_hdr_size,
		       int ncpus);

/* At most this many data events between two wake-ups of the tracer. */
#define MAX_WAKEUP_EVENTS 512

/*
 * Data events per wake-up of the tracer for a perf buffer of buffer_bytes per CPU: as many
 * of the largest chunks (-s, each after event_hdr_size bytes of headers, as for
 * options_perf_pages) as fill a quarter of it, 1 to MAX_WAKEUP_EVENTS. A wake-up costs the
 * traced program an interrupt; the rest of the buffer is room while the tracer gets going.
 */
int options_wakeup_events(const struct env *env, long buffer_bytes, unsigned long event_hdr_size);

/*
 * Whether `def` may go to the BPF compiler as -D`def`: NAME or NAME=VALUE, NAME a C
 * identifier the tracer does not set itself, VALUE letters, digits and _ . + - only (no
 * blank, quote or anything a shell or the compiler would read as more). On refusal writes
 * why into `why` and returns -1.
 */
int options_check_define(const char *def, char *why, size_t size);

/* Chunks of --max-data-size one call of --max-call-bytes needs (the BPF loop's bound). */
int options_max_chunks(const struct env *env);

/* Writes what the filters leave out, e.g. "writes only, 1 call in 10, uid 33", or "".
 * With --all the uid and the name choose the processes and are not listed here. */
void options_describe_filters(const struct env *env, char *buf, size_t size);

#endif
