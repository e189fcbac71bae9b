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
	EXIT_USAGE = 2,   /* bad arguments or malformed probe specs */
};

#define DEFAULT_MAX_DATA_SIZE 16384
#define MIN_MAX_DATA_SIZE 16
#define MAX_MAX_DATA_SIZE 16384 /* a per-CPU map value must stay under 32 KiB */
#define DEFAULT_PERF_PAGES 64
#define MAX_PERF_PAGES 65536

/* Every option the user can set, with its default. */
struct env {
	pid_t pid;
	int max_data_size;   /* power of two */
	int perf_pages;      /* per CPU, power of two */
	bool hexdump;
	int verbose;
	const char *bpf_src;     /* NULL: found next to the executable */
	const char *probe_specs; /* NULL: found next to the executable */
	bool exit_now;           /* --help, --usage or --version was answered */
};

#define ENV_DEFAULTS                                                                       \
	{                                                                                  \
		.pid = 0, .max_data_size = DEFAULT_MAX_DATA_SIZE,                          \
		.perf_pages = DEFAULT_PERF_PAGES,                                          \
	}

/*
 * Parses argv into env. Messages go to `err` (help and version to `out`). Returns EXIT_OK,
 * or EXIT_USAGE after printing what was wrong; sets env->exit_now after --help/--version.
 */
int options_parse(int argc, char **argv, struct env *env, FILE *out, FILE *err);

#endif
