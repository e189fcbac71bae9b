/* SPDX-License-Identifier: Apache-2.0 */
/* check.c - --check: bpf_src compiled and verified, the probe specs parsed, nothing traced */
#define _GNU_SOURCE
#include "session.h"
#include "diag.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "compile.h"
#include "privileges.h"
#include "sources.h"
#include "tracer_bpf.h"

#define CHECK_MAX_FUNCTIONS 1024

int session_check(const struct env *env)
{
	const char *names[CHECK_MAX_FUNCTIONS];
	char bpf_dir[PATH_MAX], spec_dir[PATH_MAX], msg[TRACER_BPF_ERRLEN];
	struct spec_table specs = {0};
	struct tracer_bpf *tb = NULL;
	struct kernel_facts kf = {0};
	struct bpfcache cache = {0};
	int nerr = 0, n = 0, i;

	if (check_privileges() ||
	    sources_find_dir("bpf_src", env->bpf_src, bpf_dir, sizeof(bpf_dir)) ||
	    sources_find_dir("probe_specs", env->probe_specs, spec_dir, sizeof(spec_dir)))
		return EXIT_RUNTIME;
	/* Every step runs, so one pass shows every error of the specs and of the sources. */
	if (spec_table_load(spec_dir, &specs))
		nerr++;
	if (compile_bpf(env, bpf_dir, 1, NULL, &kf, &cache, &tb)) {
		nerr++;
		goto out;
	}
	if (check_functions(tb, &specs))
		nerr++;
	n = tracer_bpf__functions(tb, names, CHECK_MAX_FUNCTIONS);
	for (i = 0; i < n && i < CHECK_MAX_FUNCTIONS; i++) {
		int id = kfunc_btf_id(&kf, names[i], msg, sizeof(msg));

		if (id < 0) {
			diag("%s\n", msg);
			nerr++;
		} else if (tracer_bpf__load(tb, names[i], id, msg, sizeof(msg))) {
			diag("%s\n", msg);
			nerr++;
		}
	}
	if (!nerr) /* every function verified: the next start need not compile */
		bpfcache_put(&cache, tb);
out:
	bpfcache_free(&cache);
	kernel_facts_free(&kf);
	if (nerr)
		diag("check failed: %d error%s in '%s' and '%s'\n", nerr, nerr == 1 ? "" : "s",
		     bpf_dir, spec_dir);
	else
		printf("ok: %d BPF functions in '%s' compiled and verified; %d probe specs in "
		       "'%s' parsed\n",
		       n, bpf_dir, specs.n, spec_dir);
	tracer_bpf__destroy(tb);
	spec_table_free(&specs);
	return nerr ? EXIT_RUNTIME : EXIT_OK;
}
