/* test_procmaps.c - unit tests of /proc/PID/maps parsing and library lookup (fixtures) */
#include <stdlib.h>

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
	/* SSL_write at file offset 0x35980 lies in the r-xp mapping at offset 0x1f000. */
	CHECK(maps_offset_to_addr(&m, "/usr/lib/x86_64-linux-gnu/libssl.so.3", 0x35980) ==
	      0x7f3a24550000ull + 0x35980 - 0x1f000);
	CHECK(maps_offset_to_addr(&m, "/usr/lib/x86_64-linux-gnu/libssl.so.3", 0x10000000) == 0);
	CHECK(maps_offset_to_addr(&m, "/nope.so", 0x35980) == 0);
	maps_free(&m);
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
	return check_done();
}
