/* SPDX-License-Identifier: Apache-2.0 */
/* test_options.c - unit tests of command-line parsing and validation */
#include "check.h"
#include "diag.h"
#include "options.h"

static int parse(struct env *env, char *errs, int argc, char **argv)
{
	char out[8192];
	int r;

	*env = (struct env)ENV_DEFAULTS;
	CAPTURE(errs, 4096, e, {
		diag_to(e);
		CAPTURE(out, sizeof(out), o, r = options_parse(argc, argv, env, o));
		diag_to(NULL);
	});
	return r;
}

#define ARGV(...)                                                                                  \
	(char *[])                                                                                 \
	{                                                                                          \
		"tracer", __VA_ARGS__, NULL                                                        \
	}
#define ARGC(...) ((int)(sizeof((char *[]){"tracer", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(env, errs, ...) parse(env, errs, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

int main(void)
{
	struct env env;
	char errs[4096];

	CHECK(PARSE(&env, errs, "4242") == EXIT_OK);
	CHECK(env.npids == 1 && env.pids[0] == 4242 && env.max_data_size == 16384 &&
	      env.perf_pages == 0);
	CHECK(env.max_call_bytes == 2 << 20 && !env.json);
	/* 2 CPUs: 32 MiB each (the most for one); 16: 8 MiB, their share of 128 MiB. */
	CHECK(options_perf_pages(&env, 4096, 96, 2) == 8192);
	CHECK(options_perf_pages(&env, 4096, 96, 16) == 2048);
	CHECK(options_perf_pages(&env, 4096, 96, 24) == 1024); /* 5.3 MiB: 4 MiB */
	/* 2 MiB in 128 chunks of 16 KiB + headers: just over 512 pages, so 1024 at least. */
	CHECK(options_perf_pages(&env, 4096, 96, 256) == 1024);
	env.max_call_bytes = 16384;
	CHECK(options_perf_pages(&env, 4096, 96, 4096) == 64);
	CHECK(options_perf_pages(&env, 4096, 96, 0) == 8192);
	/* a wake-up per quarter of the buffer in 16 KiB chunks: 32 MiB ~500, 64 MiB 512 (the
	 * most), 4 MiB 63, one page 1 */
	CHECK(options_wakeup_events(&env, 32l << 20, 96) == 509);
	CHECK(options_wakeup_events(&env, 64l << 20, 96) == 512);
	CHECK(options_wakeup_events(&env, 4l << 20, 96) == 63);
	CHECK(options_wakeup_events(&env, 4096, 96) == 1);
	CHECK(!env.hexdump && env.verbose == 0 && !env.exit_now);
	CHECK(!env.latency && !env.handshakes);

	CHECK(PARSE(&env, errs, "-l", "--handshake", "42") == EXIT_OK);
	CHECK(env.latency && env.handshakes && env.npids == 1);
	CHECK(PARSE(&env, errs, "--latency", "42") == EXIT_OK);
	CHECK(env.latency && !env.handshakes);

	/* Outputs: pcapng, HTTP records, redaction. */
	CHECK(!env.pcap_path && !env.force && !env.http && !env.http_only && !env.redact);
	CHECK(PARSE(&env, errs, "-w", "/tmp/x.pcapng", "--force", "--http", "42") == EXIT_OK);
	CHECK_STR(env.pcap_path, "/tmp/x.pcapng");
	CHECK(env.force && env.http && !env.http_only);
	CHECK(PARSE(&env, errs, "--http-only", "--redact-pattern", "k=([^&]*)", "--redact-pattern",
		    "x", "42") == EXIT_OK);
	CHECK(env.http && env.http_only && env.redact && env.nredact_patterns == 2);
	CHECK_STR(env.redact_patterns[0], "k=([^&]*)");
	CHECK(PARSE(&env, errs, "--redact", "42") == EXIT_OK);
	CHECK(env.redact && env.nredact_patterns == 0);
	CHECK(PARSE(&env, errs, "--redact-pattern", "a(b", "42") == EXIT_USAGE);
	CHECK(strstr(errs, "invalid --redact-pattern 'a(b': ") != NULL);
	CHECK(PARSE(&env, errs, "-w", "-", "--json", "42") == EXIT_USAGE);
	CHECK(strstr(errs, "-w - writes the capture to stdout") != NULL);
	CHECK(PARSE(&env, errs, "-w", "-", "42") == EXIT_OK);
	CHECK(PARSE(&env, errs, "-w", "", "42") == EXIT_USAGE);
	/* --count: a table instead of the rows, with a capture file or alone. */
	CHECK(PARSE(&env, errs, "--count", "-w", "/tmp/x.pcapng", "42") == EXIT_OK);
	CHECK(env.count && !env.json);
	CHECK(PARSE(&env, errs, "--count", "--json", "42") == EXIT_USAGE);
	CHECK(strstr(errs, "--count shows a table instead of the rows: no --json") != NULL);
	CHECK(PARSE(&env, errs, "--count", "--handshake", "42") == EXIT_USAGE);
	CHECK(PARSE(&env, errs, "-w", "-", "--count", "42") == EXIT_USAGE);
	CHECK(strstr(errs, "-w - writes the capture to stdout") != NULL);
	CHECK(PARSE(&env, errs, "--selftest", "--count") == EXIT_USAGE);
	CHECK(PARSE(&env, errs, "42") == EXIT_OK && !env.count);
	/* Connections kept: --host, --port; refused with their subject named. */
	CHECK(PARSE(&env, errs, "--host", "::1", "--port", "443", "--host", "10.0.0.0/8", "42") ==
	      EXIT_OK);
	CHECK(env.conns.nhosts == 2 && env.conns.nports == 1 && env.conns.ports[0] == 443);
	CHECK(PARSE(&env, errs, "--host", "10.0.0.0/33", "42") == EXIT_USAGE);
	CHECK(strstr(errs, "invalid --host '10.0.0.0/33': prefix '33' is not 0 to 32") != NULL);
	CHECK(PARSE(&env, errs, "--port", "http", "42") == EXIT_USAGE);
	CHECK(strstr(errs, "invalid --port 'http': want a port number from 1 to 65535") != NULL);
	CHECK(PARSE(&env, errs, "--selftest", "--port", "1") == EXIT_USAGE);
	CHECK(strstr(errs, "--selftest checks every byte: no filters with it") != NULL);
	CHECK(PARSE(&env, errs, "--check", "--host", "::1") == EXIT_USAGE);
	CHECK(strstr(errs, "--host, --port, --sni or output option with it") != NULL);
	CHECK(PARSE(&env, errs, "--selftest", "--http") == EXIT_USAGE);
	CHECK(strstr(errs, "not with --selftest or --list-probes") != NULL);

	CHECK(PARSE(&env, errs, "-x", "-v", "-v", "--max-data-size", "1024", "--perf-pages", "8",
		    "--bpf-src", "/b", "--probe-specs", "/p", "7") == EXIT_OK);
	CHECK(env.hexdump && env.verbose == 2 && env.max_data_size == 1024);
	CHECK(env.max_call_bytes == 1024 * 1024); /* 1024 chunks: the default shrinks */
	CHECK(env.perf_pages == 8 && env.npids == 1 && env.pids[0] == 7);
	CHECK_STR(env.bpf_src, "/b");
	CHECK_STR(env.probe_specs, "/p");

	CHECK(PARSE(&env, errs, "abc") == EXIT_USAGE);
	CHECK(strstr(errs, "invalid PID 'abc': want a positive integer") != NULL);
	CHECK(PARSE(&env, errs, "0") == EXIT_USAGE);
	CHECK(PARSE(&env, errs, "--", "-5") == EXIT_USAGE);
	CHECK(PARSE(&env, errs, "4294967297") == EXIT_USAGE);
	CHECK(PARSE(&env, errs, " 12") == EXIT_USAGE);
	CHECK(parse(&env, errs, 1, (char *[]){"tracer", NULL}) == EXIT_USAGE);
	CHECK(strstr(errs, "no PID given (or --all for every process, --cgroup PATH for "
			   "those of a cgroup)") != NULL);

	/* Several PIDs, children, every process. */
	CHECK(PARSE(&env, errs, "1", "2", "30") == EXIT_OK);
	CHECK(env.npids == 3 && env.pids[2] == 30 && !env.no_children && !env.all);
	CHECK(PARSE(&env, errs, "--no-children", "5") == EXIT_OK && env.no_children);
	CHECK(PARSE(&env, errs, "--all") == EXIT_OK && env.all && env.npids == 0);
	CHECK(PARSE(&env, errs, "--all", "-u", "0", "-c", "curl") == EXIT_OK);
	CHECK(env.uid == 0 && !env.any_uid);
	CHECK_STR(env.comm, "curl");
	CHECK(PARSE(&env, errs, "--all", "7") == EXIT_USAGE);
	CHECK(strstr(errs, "--all traces every process: give no PID with it") != NULL);
	CHECK(PARSE(&env, errs, "-c", "a-name-of-16-ch", "1") == EXIT_OK);
	CHECK(PARSE(&env, errs, "-c", "a-name-of-16-chr", "1") == EXIT_USAGE);
	CHECK(strstr(errs, "invalid --comm 'a-name-of-16-chr': a thread name has 1 to 15 "
			   "characters") != NULL);
	CHECK(PARSE(&env, errs, "--comm", "", "1") == EXIT_USAGE);
	CHECK(PARSE(&env, errs, "--max-data-size", "1000", "1") == EXIT_USAGE);
	CHECK(strstr(errs, "invalid --max-data-size '1000': want a power of two from 16 to 16384"));
	CHECK(PARSE(&env, errs, "--max-data-size", "32768", "1") == EXIT_USAGE);
	CHECK(PARSE(&env, errs, "--max-data-size", "16", "1") == EXIT_OK);
	CHECK(PARSE(&env, errs, "--perf-pages", "0", "1") == EXIT_USAGE);
	CHECK(PARSE(&env, errs, "--perf-pages", "131072", "1") == EXIT_USAGE);
	CHECK(PARSE(&env, errs, "--nope", "1") == EXIT_USAGE);

	CHECK(PARSE(&env, errs, "--json", "--max-call-bytes", "65536", "1") == EXIT_OK);
	CHECK(env.json && env.max_call_bytes == 65536);
	CHECK(options_perf_pages(&env, 4096, 96, 4096) == 64);
	CHECK(PARSE(&env, errs, "--perf-pages", "8", "1") == EXIT_OK);
	CHECK(options_perf_pages(&env, 4096, 96, 2) == 8);
	/* Any size up to 16 MiB, in at most 1024 chunks; the last chunk may be partial. */
	CHECK(PARSE(&env, errs, "--max-call-bytes", "1000", "1") == EXIT_OK);
	CHECK(env.max_call_bytes == 1000 && options_max_chunks(&env) == 1);
	CHECK(PARSE(&env, errs, "--max-call-bytes", "16385", "1") == EXIT_OK);
	CHECK(options_max_chunks(&env) == 2);
	CHECK(PARSE(&env, errs, "--max-call-bytes", "33554432", "1") == EXIT_USAGE);
	CHECK(strstr(errs, "invalid --max-call-bytes '33554432': want 1 to 16777216") != NULL);
	CHECK(PARSE(&env, errs, "--max-call-bytes", "0", "1") == EXIT_USAGE);
	CHECK(PARSE(&env, errs, "--max-data-size", "1024", "--max-call-bytes", "2097152", "1") ==
	      EXIT_USAGE);
	CHECK(strstr(errs, "--max-call-bytes 2097152 needs 2048 chunks of --max-data-size 1024; "
			   "at most 1024: raise --max-data-size") != NULL);

	/* Filters: they go to the settings map and are described on the ready line. */
	char desc[128];
	CHECK(PARSE(&env, errs, "1") == EXIT_OK);
	options_describe_filters(&env, desc, sizeof(desc));
	CHECK_STR(desc, "");
	CHECK(env.sample == 1 && env.any_uid && !env.no_read && !env.no_write);
	CHECK(PARSE(&env, errs, "--no-read", "--sample", "10", "--uid", "33", "1") == EXIT_OK);
	CHECK(env.no_read && env.sample == 10 && !env.any_uid && env.uid == 33);
	options_describe_filters(&env, desc, sizeof(desc));
	CHECK_STR(desc, "writes only, 1 call in 10, uid 33");
	CHECK(PARSE(&env, errs, "--no-write", "--uid", "root", "1") == EXIT_OK);
	CHECK(env.uid == 0 && !env.any_uid);
	options_describe_filters(&env, desc, sizeof(desc));
	CHECK_STR(desc, "reads only, uid 0");
	/* With --all the uid picks processes: it is not a filter of their calls. */
	CHECK(PARSE(&env, errs, "--all", "--uid", "0", "--sample", "2") == EXIT_OK);
	options_describe_filters(&env, desc, sizeof(desc));
	CHECK_STR(desc, "1 call in 2");
	CHECK(PARSE(&env, errs, "--no-read", "--no-write", "1") == EXIT_USAGE);
	CHECK(strstr(errs, "--no-read with --no-write leaves nothing to capture") != NULL);
	CHECK(PARSE(&env, errs, "--sample", "0", "1") == EXIT_USAGE);
	CHECK(strstr(errs, "invalid --sample '0': want a whole number from 1") != NULL);
	CHECK(PARSE(&env, errs, "--sample", "-3", "1") == EXIT_USAGE);
	CHECK(PARSE(&env, errs, "--uid", "no-such-user-here", "1") == EXIT_USAGE);
	CHECK(strstr(errs, "invalid --uid 'no-such-user-here': no such user, and not a number"));
	CHECK(PARSE(&env, errs, "--uid", "4294967295", "1") == EXIT_USAGE);

	/* --selftest takes no PID and no filters. */
	CHECK(PARSE(&env, errs, "--selftest") == EXIT_OK && env.selftest);
	CHECK(PARSE(&env, errs, "--selftest", "1") == EXIT_USAGE);
	CHECK(strstr(errs, "--selftest takes no PID") != NULL);
	CHECK(PARSE(&env, errs, "--selftest", "--no-read") == EXIT_USAGE);
	CHECK(strstr(errs, "--selftest checks every byte: no filters with it") != NULL);
	CHECK(PARSE(&env, errs, "--selftest", "--all") == EXIT_USAGE);
	CHECK(strstr(errs, "--selftest traces its own processes") != NULL);
	CHECK(PARSE(&env, errs, "--selftest", "--list-probes") == EXIT_USAGE);
	CHECK(strstr(errs, "--list-probes lists the probes of the given PIDs") != NULL);

	CHECK(PARSE(&env, errs, "--help") == EXIT_OK && env.exit_now);
	CHECK(PARSE(&env, errs, "--version") == EXIT_OK && env.exit_now);
	/* -D: a C identifier the tracer does not set, a value without blanks or specials. */
	CHECK(PARSE(&env, errs, "-D", "TLS_SLOTS=4096", "-DDEBUG", "-D", "V=-1.5e+3", "42") ==
	      EXIT_OK);
	CHECK(env.ndefines == 3 && strcmp(env.defines[0], "TLS_SLOTS=4096") == 0 &&
	      strcmp(env.defines[1], "DEBUG") == 0 && strcmp(env.defines[2], "V=-1.5e+3") == 0);
	CHECK(PARSE(&env, errs, "-D", "X=1 -fplugin=p", "42") == EXIT_USAGE);
	CHECK(strstr(errs, "invalid -D 'X=1 -fplugin=p': ' ' cannot be in a value") != NULL);
	CHECK(PARSE(&env, errs, "-D", "-fplugin=p", "42") == EXIT_USAGE);
	CHECK(strstr(errs, "NAME a C identifier") != NULL);
	CHECK(PARSE(&env, errs, "-D", "1X", "42") == EXIT_USAGE);
	CHECK(PARSE(&env, errs, "-D", "X-Y=1", "42") == EXIT_USAGE);
	CHECK(strstr(errs, "'-' cannot be in a macro name") != NULL);
	CHECK(PARSE(&env, errs, "-D", "X=$(id)", "42") == EXIT_USAGE);
	CHECK(PARSE(&env, errs, "-D", "X=a\nb", "42") == EXIT_USAGE);
	CHECK(PARSE(&env, errs, "-D", "X='a'", "42") == EXIT_USAGE);
	CHECK(PARSE(&env, errs, "-D", "MAX_DATA_SIZE=8", "42") == EXIT_USAGE);
	CHECK(strstr(errs, "MAX_DATA_SIZE is set by the tracer") != NULL);
	CHECK(PARSE(&env, errs, "-D", "TLS_GEN", "42") == EXIT_USAGE);
	{
		char why[160], def[MAX_DEFINE_LEN + 8];

		memset(def, 'A', sizeof(def) - 1);
		def[sizeof(def) - 1] = '\0';
		CHECK(options_check_define(def, why, sizeof(why)) == -1);
		CHECK(strstr(why, "longer than") != NULL);
		CHECK(options_check_define("TRACE_PIDX=1", why, sizeof(why)) == 0);
	}

	/* --check and --init-probes trace nothing. */
	CHECK(PARSE(&env, errs, "--check", "--bpf-src", "d", "-D", "X") == EXIT_OK && env.check);
	CHECK(PARSE(&env, errs, "--check", "42") == EXIT_USAGE);
	CHECK(strstr(errs, "--check traces nothing") != NULL);
	CHECK(PARSE(&env, errs, "--check", "--json") == EXIT_USAGE);
	CHECK(PARSE(&env, errs, "--init-probes", "dir") == EXIT_OK &&
	      strcmp(env.init_dir, "dir") == 0);
	CHECK(PARSE(&env, errs, "--init-probes", "dir", "--bpf-src", "d") == EXIT_USAGE);
	CHECK(PARSE(&env, errs, "--init-probes", "dir", "--check") == EXIT_USAGE);
	CHECK(PARSE(&env, errs, "--init-probes", "") == EXIT_USAGE);

	/* --list-probes of every process. */
	CHECK(PARSE(&env, errs, "--list-probes", "--all") == EXIT_OK && env.list_probes && env.all);
	CHECK(PARSE(&env, errs, "--list-probes", "--all", "42") == EXIT_USAGE);

	return check_done();
}
