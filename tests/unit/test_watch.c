/* SPDX-License-Identifier: Apache-2.0 */
/* test_watch.c - saved changes noticed (inotify), once quiet; the verifier log summarized */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "tracer_bpf.h"
#include "watch.h"

#define MS 1000000ULL

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_relevant(void)
{
	CHECK(watch_relevant("openssl.c") && watch_relevant("tls_event.h") &&
	      watch_relevant("openssl.spec"));
	CHECK(!watch_relevant(".openssl.c.swp") && !watch_relevant("openssl.c~") &&
	      !watch_relevant("4913") && !watch_relevant(".c") && !watch_relevant("notes.txt") &&
	      !watch_relevant(".spec") && !watch_relevant("#openssl.c#"));
}

static void test_changes(void)
{
	char bpf[] = "/tmp/test_watch_bpf.XXXXXX", specs[] = "/tmp/test_watch_specs.XXXXXX";
	struct watch w;
	uint64_t t = 1000 * MS;

	CHECK(mkdtemp(bpf) && mkdtemp(specs));
	CHECK(watch_open(&w, bpf, specs) == 0);
	CHECK(!watch_ready(&w, t));

	/* An editor's save: a swap file (ignored), then the file; ready once quiet
	 * (WATCH_QUIET_NS). */
	write_file(bpf, ".openssl.c.swp", "x");
	write_file(bpf, "openssl.c", "int x;\n");
	write_file(specs, "openssl.spec", "# x\n");
	write_file(bpf, "openssl.c", "int y;\n");
	CHECK(!watch_ready(&w, t));
	CHECK(!watch_ready(&w, t + WATCH_QUIET_NS - 10 * MS));
	CHECK(watch_ready(&w, t + WATCH_QUIET_NS));
	CHECK_STR(w.changed, "openssl.c, openssl.spec");
	CHECK(!watch_ready(&w, t + 900 * MS));

	/* The next change starts a new list; a file that only looks alike stays apart. */
	write_file(specs, "ssl.spec", "# y\n");
	CHECK(!watch_ready(&w, t + 1000 * MS));
	CHECK(watch_ready(&w, t + 1300 * MS));
	CHECK_STR(w.changed, "ssl.spec");
	write_file(specs, "openssl.spec", "# z\n");
	CHECK(watch_ready(&w, t + 2000 * MS) == false);
	CHECK(watch_ready(&w, t + 2300 * MS));
	CHECK_STR(w.changed, "openssl.spec");
	watch_close(&w);
	CHECK(w.fd == -1 && !watch_ready(&w, t + 9000 * MS));

	/* A directory that is not there. */
	CHECK(watch_open(&w, "/nonexistent/bpf_src", specs) == -ENOENT && w.fd == -1);

	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", bpf, specs);
		CHECK(system(cmd) == 0);
	}
}

static void test_verifier_summary(void)
{
	const char *log = "0: R1=ctx() R10=fp0\n"
			  "; { @ openssl.c:44\n"
			  "0: (bf) r9 = r1                       ; R1=ctx() R9=ctx()\n"
			  ";  @ openssl.c:0\n"
			  "6: (07) r2 += -92                     ; R2=fp-92\n"
			  "; return call->fd; @ openssl.c:136\n"
			  "7: (61) r0 = *(u32 *)(r0 +72)\n"
			  "R0 invalid mem access 'map_value_or_null'\n"
			  "processed 7 insns (limit 1000000) max_states_per_insn 0\n"
			  "\n"
			  "HINT: not this line\n";
	char where[64], why[128];

	CHECK(tracer_bpf__verifier_summary(log, where, sizeof(where), why, sizeof(why)) == 0);
	CHECK_STR(where, "openssl.c:136");
	CHECK_STR(why, "R0 invalid mem access 'map_value_or_null'");
	/* A log without line info names no place. */
	CHECK(tracer_bpf__verifier_summary("0: (85) call 7\nunknown func\nprocessed 1 insns\n",
					   where, sizeof(where), why, sizeof(why)) == -ENOENT);
	CHECK(tracer_bpf__verifier_summary("", where, sizeof(where), why, sizeof(why)) == -ENOENT);
}

int main(void)
{
	test_relevant();
	test_changes();
	test_verifier_summary();
	return check_done();
}
