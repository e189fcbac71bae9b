/* SPDX-License-Identifier: Apache-2.0 */
/* spec.h - probe specs: the UProbeSpec table read from probe_specs/ at run time */
#ifndef TRACER_SPEC_H
#define TRACER_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum probe_kind {
	PROBE_ENTRY,
	PROBE_RETURN,  /* a uretprobe: the return address is swapped for a trap */
	PROBE_RETURNS, /* a uprobe on each return instruction, found by decoding the function:
			* for Go, whose stacks move (a swapped return address would break it) */
	PROBE_SITES,   /* a uprobe on each call inside the function where its plaintext passes
			* (gosite.h): one emulated trap per call */
};

/* Spec library names that stand for no library: the program's executable; a Go program
 * (executable) whose functions are found through its .gopclntab; and an executable without
 * symbols for its TLS code, whose functions are found by what their code carries (nosym.h;
 * looked at only when its @exe specs found nothing). */
#define SPEC_EXE "@exe"
#define SPEC_GO "@go"
#define SPEC_STRIPPED "@stripped"

/* The kind as a spec names it: "entry", "return", "returns", "sites". */
static inline const char *probe_kind_name(enum probe_kind k)
{
	return k == PROBE_ENTRY	   ? "entry"
	       : k == PROBE_RETURN ? "return"
	       : k == PROBE_SITES  ? "sites"
				   : "returns";
}

/* Whether a probe of this kind runs as the function returns (attached before entries). */
static inline bool probe_kind_exits(enum probe_kind k)
{
	return k == PROBE_RETURN || k == PROBE_RETURNS;
}

/* One line of a spec file: attach `bpf_fn` at the entry or return of `symbol` in `library`. */
/* Callers a "name=caller&caller..." symbol may name (callsite.h's CALLSITE_MAX_CALLERS). */
#define SPEC_MAX_CALLERS 8

struct probe_spec {
	char library[256]; /* a name resolved in the target ("ssl" -> libssl.so.*) or a path */
	char symbol[256];  /* as the line wrote it */
	char func[256];	   /* the function: symbol, or of "name=a&b" name */
	/* "name=a&b": the functions it is found by, which all call it (a, b); else none */
	char callers[SPEC_MAX_CALLERS][256];
	int ncallers;
	enum probe_kind kind;
	char bpf_fn[128];
	bool required;		/* a library that is present must have the symbol */
	bool fallback;		/* required, and used only where the function's `sites` were
				 * not found (need `fallback`) */
	bool companion;		/* optional, and the library counts for no TLS code: its
				 * probes go only into processes that map a TLS library too
				 * (need `companion`: libcrypto's certificate parser) */
	char origin[4096 + 16]; /* "dir/file.spec:12", for messages */
	/* Set by spec_table_load for the table: whether this is the first line naming its
	 * library, and whether every line naming it is a companion's */
	bool lib_first, lib_companions;
};

struct spec_table {
	struct probe_spec *specs;
	int n;
};

/*
 * Parses one spec line. Returns 1 and fills *out (all but origin) for an entry, 0 for a
 * blank or comment line, -1 for a malformed line with the reason in err.
 */
int spec_parse_line(const char *line, struct probe_spec *out, char *err, size_t errlen);

/*
 * Reads every "*.spec" file of `dir` in name order into *t (the caller frees it with
 * spec_table_free). Each malformed line is said through diag as "file:line: message".
 * Returns 0; -EINVAL when a line was malformed or a spec repeated; -ENOENT when no entry
 * was found; -errno when the directory or a file cannot be read (reported too).
 */
int spec_table_load(const char *dir, struct spec_table *t);

void spec_table_free(struct spec_table *t);

/*
 * The name a spec's function is shown by: its symbol before any '=', with a Rust legacy
 * mangled name decoded ("_ZN55_$LT$rustls..conn..Writer$u20$as$u20$std..io..Write$GT$5write
 * 17h*" is "rustls::conn::Writer::write": the hash and the trait left out, no blanks).
 */
void spec_display_name(const char *symbol, char *out, size_t size);

#endif
