/* SPDX-License-Identifier: Apache-2.0 */
/* test_procmaps.c - unit tests of /proc/PID/maps parsing and library lookup (fixtures) */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "procmaps.h"

static int load(const char *name, struct maps *m)
{
	char path[1024];
	FILE *f;
	int r;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	r = maps_read(f, m);
	fclose(f);
	return r;
}

static void test_line(void)
{
	struct map_entry e;

	CHECK(maps_parse_line("7f3a24550000-7f3a245ad000 r-xp 0001f000 fe:00 333427     "
			      "/usr/lib/x86_64-linux-gnu/libssl.so.3\n",
			      &e) == 1);
	CHECK(e.start == 0x7f3a24550000ull && e.end == 0x7f3a245ad000ull);
	CHECK(e.offset == 0x1f000 && e.inode == 333427 && !e.deleted);
	CHECK_STR(e.perms, "r-xp");
	CHECK_STR(e.path, "/usr/lib/x86_64-linux-gnu/libssl.so.3");
	free(e.path);
	CHECK(maps_parse_line("7ffd1c000000-7ffd1c021000 rw-p 00000000 00:00 0    [stack]\n", &e) ==
	      0);
	CHECK(maps_parse_line("7f10a0000000-7f10a0021000 rw-p 00000000 00:00 0 \n", &e) == 0);
	CHECK(maps_parse_line("garbage\n", &e) == -1);
	CHECK(maps_parse_line("7f10a4000000 r-xp 00000000 fe:01 2004 /x.so\n", &e) == -1);
	CHECK(maps_parse_line("2000-1000 r-xp 00000000 fe:01 2004 /x.so\n", &e) == -1);
}

static void test_library_names(void)
{
	CHECK(maps_library_matches("/usr/lib/x86_64-linux-gnu/libssl.so.3", "ssl"));
	CHECK(maps_library_matches("/usr/lib/libssl.so", "ssl"));
	CHECK(maps_library_matches("libssl.so.1.1", "ssl"));
	CHECK(!maps_library_matches("/usr/lib/x86_64-linux-gnu/libssl3.so", "ssl")); /* NSS */
	CHECK(!maps_library_matches("/usr/lib/libsslx.so.1", "ssl"));
	CHECK(!maps_library_matches("/usr/lib/libssl.sox", "ssl"));
	CHECK(!maps_library_matches("/usr/lib/ssl.so", "ssl"));
	CHECK(maps_library_matches("/usr/lib/libgnutls.so.30", "gnutls"));
}

static void test_python_fixture(void)
{
	struct maps m;
	const struct map_entry *lib;

	CHECK(load("maps_python3_ssl.txt", &m) == 0);
	CHECK(m.n == 20); /* 23 lines less [heap], [vdso], [stack] */
	lib = maps_find_library(&m, "ssl");
	CHECK(lib != NULL);
	if (lib)
		CHECK_STR(lib->path, "/usr/lib/x86_64-linux-gnu/libssl.so.3");
	CHECK(maps_find_library(&m, "/usr/lib/x86_64-linux-gnu/libssl.so.3") == lib);
	CHECK(maps_find_library(&m, "gnutls") == NULL);
	maps_free(&m);
}

static void test_stat(void)
{
	struct proc_stat st;

	/* A name with blanks and parentheses: the fields start after the last ')'. */
	CHECK(proc_parse_stat("4242 (my (odd) name) S 17 4242 4242 0 -1 4194560 120 0", &st) == 0);
	CHECK(st.state == 'S' && st.ppid == 17 && st.flags == 4194560);
	CHECK(!(st.flags & PROC_PF_KTHREAD));
	CHECK(proc_parse_stat("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0", &st) == 0);
	CHECK(st.flags & PROC_PF_KTHREAD);
	CHECK(proc_parse_stat("77 (zombie) Z 1 77 77 0 -1 4227084 0", &st) == 0 && st.state == 'Z');
	CHECK(st.start == 0); /* not given */
	/* A whole line, as Linux 6.x writes it: starttime is field 22. */
	CHECK(proc_parse_stat("8029 (cat) R 8026 8026 6146 0 -1 4194304 99 0 0 0 0 0 0 0 20 0 1 0 "
			      "4847711 3133440 397 18446744073709551615 93905860968448 0",
			      &st) == 0);
	CHECK(st.state == 'R' && st.ppid == 8026 && st.flags == 4194304 && st.start == 4847711);
	CHECK(proc_parse_stat("12 (no fields after)", &st) == -EINVAL);
	CHECK(proc_parse_stat("garbage", &st) == -EINVAL);
	CHECK(proc_read_stat(getpid(), &st) == 0 && st.state == 'R' && st.ppid == getppid());
	CHECK(st.start > 0);
	CHECK(proc_alive(getpid()));
	CHECK(proc_read_stat(0x3fffffff, &st) == -ESRCH && !proc_alive(0x3fffffff));
}

static void test_proc_list(void)
{
	struct proc_list pl;
	int i, me = -1;

	proc_list_load(&pl);
	for (i = 0; i < pl.n; i++) {
		if (pl.pid[i] == getpid())
			me = i;
		CHECK(pl.pid[i] != 2); /* kthreadd: kernel threads are left out */
	}
	CHECK(me >= 0);
	if (me >= 0)
		CHECK(pl.ppid[me] == getppid());
	proc_list_free(&pl);
}

static void test_edge_fixture(void)
{
	struct maps m;
	const struct map_entry *lib;

	CHECK(load("maps_edge_cases.txt", &m) == 0);
	CHECK(m.n == 7);
	CHECK_STR(m.e[0].path, "/usr/bin/my server"); /* spaces in paths survive */
	lib = maps_find_library(&m, "ssl");	      /* not NSS's libssl3.so, not libsslx */
	CHECK(lib != NULL);
	if (lib) {
		CHECK_STR(lib->path, "/opt/old/libssl.so.1.1");
		CHECK(lib->deleted);
	}
	maps_free(&m);
}

int main(void)
{
	test_line();
	test_library_names();
	test_python_fixture();
	test_edge_fixture();
	test_stat();
	test_proc_list();
	return check_done();
}
