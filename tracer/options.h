/* options.h - command-line options of the tracer */
#ifndef TRACER_OPTIONS_H
#define TRACER_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

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
#define MAX_MAX_CALL_BYTES (16 << 20) /* MAX_CHUNKS iterations the verifier walks */
#define MIN_AUTO_PERF_PAGES 64
#define MAX_PERF_PAGES 65536

/* Every option the user can set, with its default. */
struct env {
	pid_t pid;
	int max_data_size;  /* power of two: bytes per chunk */
	int max_call_bytes; /* power of two >= max_data_size: bytes captured per call */
	bool json;
	int perf_pages; /* per CPU, power of two; 0: room for one whole call */
	bool hexdump;
	int verbose;
	const char *bpf_src;	 /* NULL: found next to the executable */
	const char *probe_specs; /* NULL: found next to the executable */
	bool exit_now;		 /* --help, --usage or --version was answered */
};

#define ENV_DEFAULTS                                                                               \
	{                                                                                          \
		.pid = 0, .max_data_size = DEFAULT_MAX_DATA_SIZE,                                  \
		.max_call_bytes = DEFAULT_MAX_CALL_BYTES,                                          \
	}

/*
 * Parses argv into env. Messages go to `err` (help and version to `out`). Returns EXIT_OK,
 * or EXIT_USAGE after printing what was wrong; sets env->exit_now after --help/--version.
 */
int options_parse(int argc, char **argv, struct env *env, FILE *out, FILE *err);

/*
 * Perf buffer pages per CPU: --perf-pages, or by default the smallest power of two (at least
 * 64) that holds one call of --max-call-bytes with its chunk headers, since one BPF run
 * submits a whole call before anyone can drain it.
 */
int options_perf_pages(const struct env *env, long page_size, unsigned long event_hdr_size);

#endif
