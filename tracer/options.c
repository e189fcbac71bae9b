/* SPDX-License-Identifier: Apache-2.0 */
/*
 * options.c - command-line options of the tracer, parsed and validated with argp.
 *
 * Long because it is one table: the --help text and the options' own words (its first 230
 * lines), each option's parsing with its range check, and the checks across options, which
 * a reader adding an option wants side by side.
 */
#include "options.h"
#include "cgroup.h"
#include "diag.h"

#include <argp.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <regex.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#ifndef TRACER_VERSION
#define TRACER_VERSION "0.1.0"
#endif

enum {
	OPT_MAX_DATA_SIZE = 0x100,
	OPT_MAX_CALL_BYTES,
	OPT_JSON,
	OPT_PERF_PAGES,
	OPT_BPF_SRC,
	OPT_PROBE_SPECS,
	OPT_USAGE,
	OPT_NO_READ,
	OPT_NO_WRITE,
	OPT_SAMPLE,
	OPT_UID,
	OPT_SELFTEST,
	OPT_ALL,
	OPT_NO_CHILDREN,
	OPT_PLACEMENT,
	OPT_LIST_PROBES,
	OPT_HANDSHAKE,
	OPT_FORCE,
	OPT_HTTP,
	OPT_HTTP_ONLY,
	OPT_REDACT,
	OPT_REDACT_PATTERN,
	OPT_CHECK,
	OPT_INIT_PROBES,
	OPT_HOST,
	OPT_PORT,
	OPT_SNI,
	OPT_CGROUP,
	OPT_COUNT,
};

static const char doc[] =
	"Show the plaintext of processes' TLS traffic, captured by eBPF uprobes on their TLS "
	"code: the libraries (OpenSSL, BoringSSL, GnuTLS, NSS, mbedTLS, wolfSSL), Go's "
	"crypto/tls, rustls, and TLS linked into programs, stripped ones too (node, Bun, "
	"Deno, chromium).\n"
	"\n"
	"USAGE: tracer [OPTION...] PID...\n"
	"       tracer --all [-u USER] [-c NAME] [--cgroup PATH]\n"
	"       tracer --cgroup PATH [PID...]\n"
	"       tracer --selftest\n"
	"       tracer --list-probes [PID...|--all]\n"
	"       tracer --check [--bpf-src DIR] [--probe-specs DIR] [-D NAME[=VALUE]...]\n"
	"       tracer --init-probes DIR\n"
	"\n"
	"EXAMPLES:\n"
	"  tracer 4242                    # what PID 4242 and its children send and get\n"
	"  tracer 12 34 --no-children     # PIDs 12 and 34 only, not what they start\n"
	"  tracer --all -c curl           # every process named curl, now or later\n"
	"  tracer --cgroup /docker/ID     # every process of a container, now or later\n"
	"  tracer -x 4242                 # the same as a hex dump\n"
	"  tracer --json 4242 | jq .      # JSON lines, payloads in base64\n"
	"  tracer -l --handshake 4242     # each call's latency, and the handshakes\n"
	"  tracer --http 4242             # and a line per HTTP/1.x or HTTP/2 exchange\n"
	"  tracer --count 4242            # at the end, calls and bytes per connection\n"
	"  tracer -w cap.pcapng 4242      # also a pcapng file: tshark -r cap.pcapng\n"
	"  tracer -w - 4242 | wireshark -k -i -   # Wireshark, live\n"
	"  tracer --redact --redact-pattern 'token=([^&]*)' 42\n"
	"                                 # secrets masked everywhere\n"
	"  tracer --max-data-size 1024 42 # capture at most 1 KiB of each call\n"
	"  tracer --no-read --sample 10 42 # every 10th call's sent plaintext\n"
	"  tracer --port 443 4242         # only connections with port 443 at an end\n"
	"  tracer --host 10.0.0.0/8 4242  # only connections with an end in 10.0.0.0/8\n"
	"  tracer --sni '*.example.com' 42 # only connections to those server names\n"
	"  tracer --init-probes ./mine    # your own copy of the probes to edit...\n"
	"  tracer --bpf-src ./mine/bpf_src --probe-specs ./mine/probe_specs 42\n"
	"                                 # ...traced with; saved edits reload at once\n"
	"  tracer --check --bpf-src ./mine/bpf_src --probe-specs ./mine/probe_specs\n"
	"                                 # compile, verify, parse: errors as FILE:LINE\n"
	"  tracer -D TLS_SLOTS=4096 42    # a macro of your own for the BPF compile\n"
	"  tracer --selftest              # check capture end to end on this machine\n"
	"  tracer --list-probes 4242      # where the probes would go, and their cost\n"
	"\v"
	"Exit status: 0 when the target exited or tracing was interrupted (SIGINT/SIGTERM), "
	"1 on a runtime failure (no such process or a kernel thread, compile or attach error, "
	"missing privileges, a failed --selftest, any error --check finds), 2 on bad usage or a "
	"malformed probe spec.\n"
	"\n"
	"While tracing, the tracer watches its bpf_src and probe_specs directories: a saved change "
	"is compiled, verified and attached before the old probes are taken out (stderr: "
	"\"Reloaded ...\"); if it fails, the running probes stay (\"keeping previous probes\").\n"
	"\n"
	"See tracer(8), docs/TUTORIAL.md and docs/HOW-IT-WORKS.md.";

static const char args_doc[] = "PID...";

static const struct argp_option options[] = {
	{"hexdump", 'x', NULL, 0, "Show payloads as hex + ASCII", 0},
	{"json", OPT_JSON, NULL, 0,
	 "Write JSON lines (one per chunk, connection, handshake, verification, loss and "
	 "summary)",
	 0},
	{"latency", 'l', NULL, 0, "Show each call's latency, entry to return (LAT(ms))", 0},
	{"handshake", OPT_HANDSHAKE, NULL, 0,
	 "Show a row per TLS handshake, ok or failed, timed, per hello sent or received "
	 "(server name, ALPN, version, suite) and per certificate the peer presented",
	 0},
	{"http", OPT_HTTP, NULL, 0,
	 "Decode HTTP/1.x and HTTP/2: a line (JSON: a record per request and per response) "
	 "per exchange; -v adds the headers",
	 0},
	{"http-only", OPT_HTTP_ONLY, NULL, 0, "--http, without the data events", 0},
	{"count", OPT_COUNT, NULL, 0,
	 "Show no rows, but at the end a table of each connection's calls and bytes, sent and "
	 "received",
	 0},
	{"write", 'w', "FILE", 0,
	 "Also write the plaintext as a pcapng file (created 0600; '-': stdout, then no other "
	 "output there), one TCP stream per connection",
	 0},
	{"force", OPT_FORCE, NULL, 0, "Let -w overwrite an existing file", 0},
	{"redact", OPT_REDACT, NULL, 0,
	 "Mask secrets in every output with '*', lengths kept: Authorization, "
	 "Proxy-Authorization, Cookie and Set-Cookie values, bearer tokens",
	 0},
	{"redact-pattern", OPT_REDACT_PATTERN, "REGEX", 0,
	 "--redact, and also mask what REGEX (POSIX extended) matches, or its first group; "
	 "up to 16",
	 0},
	{"max-data-size", OPT_MAX_DATA_SIZE, "BYTES", 0,
	 "Bytes per event (chunk), a power of two from 16 to 16384 (default 16384)", 0},
	{"max-call-bytes", OPT_MAX_CALL_BYTES, "BYTES", 0,
	 "Bytes captured per call, 1 to 16 MiB in at most 1024 chunks of --max-data-size "
	 "(default 2 MiB, or 1024 chunks if that is less); the rest is counted as truncated",
	 0},
	{"no-read", OPT_NO_READ, NULL, 0, "Leave out received plaintext (SSL_read...)", 0},
	{"no-write", OPT_NO_WRITE, NULL, 0, "Leave out sent plaintext (SSL_write...)", 0},
	{"sample", OPT_SAMPLE, "N", 0, "Capture one call in N (the others are counted)", 0},
	{"host", OPT_HOST, "ADDR[/PREFIX]", 0,
	 "Show only connections with an end (either) in ADDR[/PREFIX], IPv4 or IPv6; up to 16, "
	 "any may match; the others, and calls on no known connection, are counted as filtered",
	 0},
	{"port", OPT_PORT, "N", 0,
	 "Show only connections with a port (either end) N; up to 16, any may match; with "
	 "--host, both must",
	 0},
	{"sni", OPT_SNI, "PATTERN", 0,
	 "Show only connections whose ClientHello (sent by a traced client, received by a "
	 "traced server) asked for a server name PATTERN matches (a shell pattern, any case: "
	 "'*.example.com'); up to 16; with "
	 "--host or --port, all must",
	 0},
	{"uid", 'u', "USER", 0,
	 "Capture only calls made by USER (a name or a number); with --all, trace only USER's "
	 "processes",
	 0},
	{"comm", 'c', "NAME", 0, "Trace only threads named NAME (as in /proc/PID/comm)", 0},
	{"cgroup", OPT_CGROUP, "PATH", 0,
	 "Trace only processes in cgroup v2 PATH or below it, those that join later too (a "
	 "directory, or the path /proc/PID/cgroup shows); without PIDs, every process in it",
	 0},
	{"all", OPT_ALL, NULL, 0, "Trace every process that uses a supported TLS library", 0},
	{"no-children", OPT_NO_CHILDREN, NULL, 0,
	 "Trace only the given PIDs, not the processes they start", 0},
	{"selftest", OPT_SELFTEST, NULL, 0,
	 "Trace a TLS client and server of our own over 127.0.0.1 and check every byte", 0},
	{"perf-pages", OPT_PERF_PAGES, "PAGES", 0,
	 "Perf buffer pages per CPU, a power of two (default: a CPU's share of 128 MiB, at most "
	 "32 MiB, and room for one --max-call-bytes call)",
	 0},
	{"placement", OPT_PLACEMENT, "WHERE", 0,
	 "internal (default): probe OpenSSL 3.0's internal read/write functions, which the "
	 "kernel runs ten times cheaper under a uprobe, in place of the exported ones; "
	 "exported: probe the exported functions (the internal ones only for SSL BIO calls)",
	 0},
	{"list-probes", OPT_LIST_PROBES, NULL, 0,
	 "List each probe of the given PIDs' TLS code (with --all: of every process's; else of "
	 "the ld.so cache's libraries): library, function, kind, file offset, BPF function, "
	 "required, optional or fallback, first instruction, its class (emulated, "
	 "single-stepped, or return for a uretprobe) and what one hit of that class costs "
	 "here (measured on the tracer's own code), and how the function was found (symbol, "
	 "callers, pclntab); attach nothing to them (the costs are timed on uprobes in the "
	 "tracer's own process)",
	 0},
	{"check", OPT_CHECK, NULL, 0,
	 "Compile bpf_src, load every BPF function into the kernel (the verifier) and parse "
	 "probe_specs, attaching nothing; print each error as FILE:LINE and exit 1, or exit 0",
	 0},
	{"init-probes", OPT_INIT_PROBES, "DIR", 0,
	 "Copy the shipped bpf_src and probe_specs into DIR/bpf_src and DIR/probe_specs, to "
	 "edit and use with --bpf-src and --probe-specs; then exit",
	 0},
	{"bpf-src", OPT_BPF_SRC, "DIR", 0, "Read BPF C sources from DIR (watched while tracing)",
	 0},
	{"probe-specs", OPT_PROBE_SPECS, "DIR", 0,
	 "Read probe spec files from DIR (watched while tracing)", 0},
	{"define", 'D', "NAME[=VALUE]", 0,
	 "Pass a macro to the BPF compile (a C identifier; a value of letters, digits, _ . + -); "
	 "up to 32",
	 0},
	{"verbose", 'v', NULL, 0,
	 "Say which headers and compile flags are used and each probe as it is attached", 0},
	{"help", 'h', NULL, 0, "Show this help", -1},
	{"usage", OPT_USAGE, NULL, 0, "Show a short usage message", -1},
	{"version", 'V', NULL, 0, "Show the version", -1},
	{0},
};

struct parse_ctx {
	struct env *env;
	FILE *out;
	FILE *err;
	int npids;
	bool call_bytes_given;
};

/* Parses a decimal integer in [lo, hi] (lo >= 0); the whole string must be the number. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)s[0])) /* no sign, no blanks */
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static bool is_pow2(long v)
{
	return v > 0 && (v & (v - 1)) == 0;
}

/* Parses a power of two in [lo, hi] for option `name`; on error says so through argp. */
static int parse_pow2(struct argp_state *state, const char *name, const char *arg, long lo, long hi,
		      int *out)
{
	long v;

	if (parse_long(arg, lo, hi, &v) || !is_pow2(v)) {
		argp_error(state, "invalid %s '%s': want a power of two from %ld to %ld", name, arg,
			   lo, hi);
		return EINVAL;
	}
	*out = (int)v;
	return 0;
}

/* A user name, or a decimal uid other than (uid_t)-1. */
static int parse_uid(const char *arg, uint32_t *uid)
{
	struct passwd *pw;
	long v;

	if (parse_long(arg, 0, 0xfffffffeL, &v) == 0) {
		*uid = (uint32_t)v;
		return 0;
	}
	pw = getpwnam(arg);
	if (!pw)
		return -1;
	*uid = (uint32_t)pw->pw_uid;
	return 0;
}

/* A --redact-pattern must compile (as redact_init will compile it). */
static int check_pattern(struct argp_state *state, const char *arg)
{
	char msg[256];
	regex_t re;
	int rc = regcomp(&re, arg, REG_EXTENDED);

	if (!rc) {
		regfree(&re);
		return 0;
	}
	regerror(rc, &re, msg, sizeof(msg));
	argp_error(state, "invalid --redact-pattern '%s': %s", arg, msg);
	return -1;
}

/* --check and --init-probes trace nothing: no PID, no tracing option. */
static int check_no_tracing(struct argp_state *state, const struct env *env, int npids)
{
	const char *what = env->check ? "--check" : "--init-probes";

	if (env->check && env->init_dir) {
		argp_error(state, "--check and --init-probes: one at a time");
		return 1;
	}
	if (npids || env->all || env->selftest || env->list_probes || env->pcap_path || env->http ||
	    env->redact || env->json || env->hexdump || env->latency || env->handshakes ||
	    env->count || conn_filter_on(&env->conns) || env->cgroup[0]) {
		argp_error(state,
			   "%s traces nothing: no PID, --all, --cgroup, --selftest, --list-probes, "
			   "-w, --http, --redact, --host, --port, --sni or output option with it",
			   what);
		return 1;
	}
	if (env->init_dir && (env->bpf_src || env->probe_specs || env->ndefines)) {
		argp_error(state, "--init-probes copies the shipped sources: no --bpf-src, "
				  "--probe-specs or -D with it");
		return 1;
	}
	return 0;
}

/* The checks that need every option: run at the end of parsing. */
static int check_env(struct argp_state *state, const struct env *env, int npids)
{
	if (env->check || env->init_dir)
		return check_no_tracing(state, env, npids);
	if ((env->pcap_path || env->http || env->redact || env->count) &&
	    (env->selftest || env->list_probes)) {
		argp_error(state, "-w, --http, --redact and --count are for tracing: not with "
				  "--selftest or --list-probes");
		return 1;
	}
	if (env->pcap_path && !strcmp(env->pcap_path, "-") &&
	    (env->json || env->hexdump || env->http || env->latency || env->handshakes ||
	     env->count)) {
		argp_error(state, "-w - writes the capture to stdout: no --json, -x, --http, -l, "
				  "--handshake or --count output can go there too");
		return 1;
	}
	if (env->count &&
	    (env->json || env->hexdump || env->http || env->latency || env->handshakes)) {
		argp_error(state, "--count shows a table instead of the rows: no --json, -x, "
				  "--http, -l or --handshake with it");
		return 1;
	}
	if (env->selftest) {
		if (npids)
			argp_error(state, "--selftest takes no PID");
		else if (env->no_read || env->no_write || env->sample != 1 || !env->any_uid ||
			 conn_filter_on(&env->conns))
			argp_error(state, "--selftest checks every byte: no filters with it");
		if (env->all || env->comm[0] || env->no_children || env->cgroup[0])
			argp_error(state, "--selftest traces its own processes: no --all, -c, "
					  "--cgroup or --no-children with it");
		if (env->list_probes)
			argp_error(state, "--list-probes lists the probes of the given PIDs (or of "
					  "the ld.so cache's libraries): no --selftest with it");
		return npids || env->no_read || env->no_write || env->sample != 1 ||
		       !env->any_uid || conn_filter_on(&env->conns) || env->all || env->comm[0] ||
		       env->no_children || env->list_probes || env->cgroup[0];
	}
	if (npids == 0 && !env->all && !env->list_probes && !env->cgroup[0]) {
		argp_error(state, "no PID given (or --all for every process, --cgroup PATH for "
				  "those of a cgroup)");
		return 1;
	}
	if (npids > 0 && env->all) {
		argp_error(state, "--all traces every process: give no PID with it");
		return 1;
	}
	if (npids > MAX_PIDS) {
		argp_error(state, "%d PIDs given; at most %d", npids, MAX_PIDS);
		return 1;
	}
	if (env->no_read && env->no_write) {
		argp_error(state, "--no-read with --no-write leaves nothing to capture");
		return 1;
	}
	if (options_max_chunks(env) > MAX_CHUNKS_LIMIT) {
		argp_error(state,
			   "--max-call-bytes %d needs %d chunks of --max-data-size %d; at most "
			   "%d: raise --max-data-size",
			   env->max_call_bytes, options_max_chunks(env), env->max_data_size,
			   MAX_CHUNKS_LIMIT);
		return 1;
	}
	return 0;
}

/* The options that only turn a setting on: which bool of struct env each sets. */
static const struct {
	int key;
	size_t at;
} flag_options[] = {
	{'x', offsetof(struct env, hexdump)},
	{'l', offsetof(struct env, latency)},
	{OPT_HANDSHAKE, offsetof(struct env, handshakes)},
	{OPT_HTTP, offsetof(struct env, http)},
	{OPT_FORCE, offsetof(struct env, force)},
	{OPT_REDACT, offsetof(struct env, redact)},
	{OPT_JSON, offsetof(struct env, json)},
	{OPT_NO_READ, offsetof(struct env, no_read)},
	{OPT_NO_WRITE, offsetof(struct env, no_write)},
	{OPT_ALL, offsetof(struct env, all)},
	{OPT_NO_CHILDREN, offsetof(struct env, no_children)},
	{OPT_SELFTEST, offsetof(struct env, selftest)},
	{OPT_LIST_PROBES, offsetof(struct env, list_probes)},
	{OPT_CHECK, offsetof(struct env, check)},
	{OPT_COUNT, offsetof(struct env, count)},
};

/* --host, --port or --sni (`opt`) arg, put in the connection filter by `add`: 0, or EINVAL
 * after argp_error says why. */
static error_t add_conn_filter(struct argp_state *state, const char *opt,
			       int (*add)(struct conn_filter *, const char *, char *, size_t),
			       const char *arg)
{
	struct parse_ctx *ctx = state->input;
	char why[160];

	if (add(&ctx->env->conns, arg, why, sizeof(why)) == 0)
		return 0;
	argp_error(state, "invalid %s '%s': %s", opt, arg, why);
	return EINVAL;
}

/* --cgroup: one cgroup, resolved into its directory now so that a wrong one exits 2. */
static error_t parse_cgroup(struct argp_state *state, struct env *env, const char *arg)
{
	char why[PATH_MAX + 96];

	if (env->cgroup[0]) {
		argp_error(state, "invalid --cgroup '%s': one --cgroup only (%s given before)", arg,
			   env->cgroup);
		return EINVAL;
	}
	if (cgroup_resolve(arg, env->cgroup, sizeof(env->cgroup), why, sizeof(why)) == 0)
		return 0;
	env->cgroup[0] = '\0';
	argp_error(state, "invalid --cgroup '%s': %s", arg, why);
	return EINVAL;
}

/* An option with a value (or more than a flag to set): 0, EINVAL after argp_error, or
 * ARGP_ERR_UNKNOWN when key is not one. */
static error_t parse_value(int key, char *arg, struct argp_state *state)
{
	struct parse_ctx *ctx = state->input;
	struct env *env = ctx->env;
	char why[160];
	long v;

	switch (key) {
	case OPT_HTTP_ONLY:
		env->http_only = env->http = true;
		return 0;
	case 'v':
		env->verbose++;
		return 0;
	case 'w':
		if (!arg[0]) {
			argp_error(state, "-w wants a file name, or - for stdout");
			return EINVAL;
		}
		env->pcap_path = arg;
		return 0;
	case OPT_REDACT_PATTERN:
		if (env->nredact_patterns == MAX_REDACT_PATTERNS) {
			argp_error(state, "more than %d --redact-pattern", MAX_REDACT_PATTERNS);
			return EINVAL;
		}
		if (check_pattern(state, arg))
			return EINVAL;
		env->redact_patterns[env->nredact_patterns++] = arg;
		env->redact = true;
		return 0;
	case OPT_MAX_DATA_SIZE:
		return parse_pow2(state, "--max-data-size", arg, MIN_MAX_DATA_SIZE,
				  MAX_MAX_DATA_SIZE, &env->max_data_size);
	case OPT_PERF_PAGES:
		return parse_pow2(state, "--perf-pages", arg, 1, MAX_PERF_PAGES, &env->perf_pages);
	case OPT_MAX_CALL_BYTES:
		if (parse_long(arg, 1, MAX_MAX_CALL_BYTES, &v)) {
			argp_error(state, "invalid --max-call-bytes '%s': want 1 to %d", arg,
				   MAX_MAX_CALL_BYTES);
			return EINVAL;
		}
		env->max_call_bytes = (int)v;
		ctx->call_bytes_given = true;
		return 0;
	case OPT_SAMPLE:
		if (parse_long(arg, 1, INT_MAX, &v)) {
			argp_error(state, "invalid --sample '%s': want a whole number from 1", arg);
			return EINVAL;
		}
		env->sample = (unsigned int)v;
		return 0;
	case 'c':
		if (!arg[0] || strlen(arg) >= COMM_MAX) {
			argp_error(state,
				   "invalid --comm '%s': a thread name has 1 to %d characters", arg,
				   COMM_MAX - 1);
			return EINVAL;
		}
		snprintf(env->comm, sizeof(env->comm), "%s", arg);
		return 0;
	case 'u':
		if (parse_uid(arg, &env->uid)) {
			argp_error(state, "invalid --uid '%s': no such user, and not a number",
				   arg);
			return EINVAL;
		}
		env->any_uid = false;
		return 0;
	case OPT_PLACEMENT:
		if (strcmp(arg, "internal") != 0 && strcmp(arg, "exported") != 0) {
			argp_error(state, "invalid --placement '%s': want internal or exported",
				   arg);
			return EINVAL;
		}
		env->placement_exported = strcmp(arg, "exported") == 0;
		return 0;
	case OPT_INIT_PROBES:
		if (!arg[0]) {
			argp_error(state, "--init-probes wants a directory");
			return EINVAL;
		}
		env->init_dir = arg;
		return 0;
	case 'D':
		if (env->ndefines == MAX_DEFINES) {
			argp_error(state, "more than %d -D", MAX_DEFINES);
			return EINVAL;
		}
		if (options_check_define(arg, why, sizeof(why))) {
			argp_error(state, "invalid -D '%s': %s", arg, why);
			return EINVAL;
		}
		env->defines[env->ndefines++] = arg;
		return 0;
	case OPT_HOST:
		return add_conn_filter(state, "--host", conn_filter_add_host, arg);
	case OPT_SNI:
		return add_conn_filter(state, "--sni", conn_filter_add_sni, arg);
	case OPT_PORT:
		return add_conn_filter(state, "--port", conn_filter_add_port, arg);
	case OPT_CGROUP:
		return parse_cgroup(state, env, arg);
	case OPT_BPF_SRC:
		env->bpf_src = arg;
		return 0;
	case OPT_PROBE_SPECS:
		env->probe_specs = arg;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

/* argp's callback: flags from flag_options, values from parse_value, then argp's own keys
 * (help, the PIDs, the end, where the whole is checked). */
static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct parse_ctx *ctx = state->input;
	struct env *env = ctx->env;
	error_t err;
	size_t i;
	long v;

	for (i = 0; i < sizeof(flag_options) / sizeof(flag_options[0]); i++)
		if (flag_options[i].key == key) {
			*(bool *)((char *)env + flag_options[i].at) = true;
			return 0;
		}
	err = parse_value(key, arg, state);
	if (err != ARGP_ERR_UNKNOWN)
		return err;
	switch (key) {
	case ARGP_KEY_INIT:
		state->out_stream = ctx->out;
		state->err_stream = ctx->err;
		break;
	case 'h':
		argp_state_help(state, ctx->out, ARGP_HELP_STD_HELP & ~ARGP_HELP_EXIT_OK);
		env->exit_now = true;
		break;
	case OPT_USAGE:
		argp_state_help(state, ctx->out, ARGP_HELP_USAGE);
		env->exit_now = true;
		break;
	case 'V':
		fprintf(ctx->out, "tracer %s\n", TRACER_VERSION);
		env->exit_now = true;
		break;
	case ARGP_KEY_ARG:
		if (parse_long(arg, 1, INT_MAX, &v)) {
			argp_error(state, "invalid PID '%s': want a positive integer", arg);
			return EINVAL;
		}
		if (ctx->npids < MAX_PIDS)
			env->pids[ctx->npids] = (pid_t)v;
		ctx->npids++;
		break;
	case ARGP_KEY_END:
		/* Small chunks lower the default, never an explicit --max-call-bytes. */
		if (!ctx->call_bytes_given &&
		    env->max_call_bytes > MAX_CHUNKS_LIMIT * env->max_data_size)
			env->max_call_bytes = MAX_CHUNKS_LIMIT * env->max_data_size;
		env->npids = ctx->npids < MAX_PIDS ? ctx->npids : MAX_PIDS;
		if (!env->exit_now && check_env(state, env, ctx->npids))
			return EINVAL;
		/* --cgroup without PIDs: every process, the cgroup decides */
		if (env->cgroup[0] && !env->npids && !env->list_probes)
			env->all = true;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int options_parse(int argc, char **argv, struct env *env, FILE *out)
{
	static const struct argp argp = {options, parse_opt, args_doc, doc, NULL, NULL, NULL};
	struct parse_ctx ctx = {.env = env, .out = out, .err = diag_stream()};
	int bad;

	/* ARGP_NO_EXIT: errors come back to us, so main() keeps its single exit path. */
	bad = argp_parse(&argp, argc, argv, ARGP_NO_EXIT | ARGP_NO_HELP, NULL, &ctx);
	if (env->exit_now)
		return EXIT_OK;
	return bad ? EXIT_USAGE : EXIT_OK;
}

int options_check_define(const char *def, char *why, size_t size)
{
	/* Set by the tracer from its own options, or shaping what user space reads. */
	static const char *const ours[] = {"TRACE_PID", "MAX_DATA_SIZE", "MAX_CHUNKS", "TLS_GEN"};
	size_t len = strcspn(def, "="), i;
	const char *value = def[len] ? def + len + 1 : NULL;

	if (strlen(def) >= MAX_DEFINE_LEN) {
		snprintf(why, size, "longer than %d characters", MAX_DEFINE_LEN - 1);
		return -1;
	}
	if (len == 0 || !(isalpha((unsigned char)def[0]) || def[0] == '_')) {
		snprintf(why, size, "want NAME or NAME=VALUE, NAME a C identifier");
		return -1;
	}
	for (i = 1; i < len; i++) {
		if (!isalnum((unsigned char)def[i]) && def[i] != '_') {
			snprintf(why, size, "'%c' cannot be in a macro name", def[i]);
			return -1;
		}
	}
	for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		if (strlen(ours[i]) == len && strncmp(def, ours[i], len) == 0) {
			snprintf(why, size, "%s is set by the tracer (from its options)", ours[i]);
			return -1;
		}
	}
	for (; value && *value; value++) {
		if (!isalnum((unsigned char)*value) && !strchr("_.+-", *value)) {
			snprintf(why, size,
				 "'%c' cannot be in a value: letters, digits and _ . + - only",
				 *value);
			return -1;
		}
	}
	return 0;
}

int options_max_chunks(const struct env *env)
{
	return (env->max_call_bytes + env->max_data_size - 1) / env->max_data_size;
}

void options_describe_filters(const struct env *env, char *buf, size_t size)
{
	int n = 0;

	buf[0] = '\0';
	if (env->no_read)
		n += snprintf(buf + n, size - n, "writes only");
	if (env->no_write)
		n += snprintf(buf + n, size - n, "reads only");
	if (env->sample > 1 && (size_t)n < size)
		n += snprintf(buf + n, size - n, "%s1 call in %u", n ? ", " : "", env->sample);
	if (!env->any_uid && !env->all && (size_t)n < size)
		snprintf(buf + n, size - n, "%suid %u", n ? ", " : "", env->uid);
}

int options_wakeup_events(const struct env *env, long buffer_bytes, unsigned long event_hdr_size)
{
	long n = buffer_bytes / 4 / ((long)event_hdr_size + env->max_data_size);

	return n < 1 ? 1 : n > MAX_WAKEUP_EVENTS ? MAX_WAKEUP_EVENTS : (int)n;
}

int options_perf_pages(const struct env *env, long page_size, unsigned long event_hdr_size,
		       int ncpus)
{
	unsigned long chunks = (unsigned long)options_max_chunks(env);
	unsigned long bytes = (unsigned long)env->max_call_bytes + chunks * event_hdr_size;
	unsigned long share = AUTO_PERF_TOTAL_BYTES / (unsigned long)(ncpus > 0 ? ncpus : 1);
	int pages = MIN_AUTO_PERF_PAGES;

	if (env->perf_pages)
		return env->perf_pages;
	if (share > AUTO_PERF_CPU_BYTES)
		share = AUTO_PERF_CPU_BYTES;
	while ((unsigned long)pages * (unsigned long)page_size < bytes ||
	       (unsigned long)pages * 2 * (unsigned long)page_size <= share)
		pages *= 2;
	return pages;
}
