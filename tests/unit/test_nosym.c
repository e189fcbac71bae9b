/* SPDX-License-Identifier: Apache-2.0 */
/* test_nosym.c - functions found without symbols: call frame rules that make a function
 * entry, OpenSSL 3 found in our stripped static_tls exactly where its unstripped build's
 * symbols say, BoringSSL in Debian's chromium named by its callers, nothing in a look-alike
 * or a program without TLS, the build id cache */
#include "check.h"
#include "nosym.h"
#include "nosym_checks.h"
#include "nosym_named.h"
#include "nosymcache.h"
#include "tracer_bpf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const names[] = {"SSL_write", "SSL_read", "ssl_write_internal",
				    "ssl_read_internal"};
#define NNAMES 4

static void test_cfi(void)
{
	static const uint8_t cie[] = {0x0c, 7, 8, 0x90, 1, 0, 0}; /* CFA rsp+8, ra at CFA-8 */
	static const uint8_t cie_start[] = {0x0c, 7, 8, 0x90, 1, 0x07, 0x10}; /* ra undefined */
	static const uint8_t cie_no_ra[] = {0x0c, 7, 8};
	static const uint8_t cie_rbp[] = {0x0c, 6, 16, 0x90, 1};
	static const uint8_t fde_leaf[] = {0, 0, 0};
	static const uint8_t fde_push[] = {0x41, 0x0e, 0x10, 0x83, 0x02}; /* advance, then push */
	static const uint8_t fde_loc1[] = {0x02, 0x04, 0x0e, 0x10};
	static const uint8_t fde_cold[] = {0x0e, 0x40, 0x83, 0x03, 0x41}; /* a frame at byte 0 */
	static const uint8_t fde_saved[] = {0x83, 0x02, 0x41};		  /* rbx saved at byte 0 */

	CHECK(nosym_cfi_is_entry(cie, sizeof(cie), -8, fde_leaf, sizeof(fde_leaf)));
	CHECK(nosym_cfi_is_entry(cie, sizeof(cie), -8, fde_push, sizeof(fde_push)));
	CHECK(nosym_cfi_is_entry(cie, sizeof(cie), -8, fde_loc1, sizeof(fde_loc1)));
	CHECK(nosym_cfi_is_entry(cie, sizeof(cie), -8, NULL, 0));
	CHECK(!nosym_cfi_is_entry(cie, sizeof(cie), -8, fde_cold, sizeof(fde_cold)));
	CHECK(!nosym_cfi_is_entry(cie, sizeof(cie), -8, fde_saved, sizeof(fde_saved)));
	CHECK(!nosym_cfi_is_entry(cie, sizeof(cie), 8, fde_leaf, sizeof(fde_leaf)));
	CHECK(!nosym_cfi_is_entry(cie_start, sizeof(cie_start), -8, NULL, 0));
	CHECK(!nosym_cfi_is_entry(cie_no_ra, sizeof(cie_no_ra), -8, NULL, 0));
	CHECK(!nosym_cfi_is_entry(cie_rbp, sizeof(cie_rbp), -8, NULL, 0));
	CHECK(!nosym_cfi_is_entry(cie, 2, -8, NULL, 0)); /* cut inside DW_CFA_def_cfa */
}

static void test_uleb(void)
{
	static const uint8_t two[] = {0x80, 0x01}, cut[] = {0x80, 0x80};
	const uint8_t *p = two;
	uint64_t v;

	CHECK(nosym_uleb(&p, two + 2, &v) && v == 128 && p == two + 2);
	p = cut;
	CHECK(!nosym_uleb(&p, cut + 2, &v));
}

/* OpenSSL in the stripped program `path` is found where the symbols of its unstripped build
 * `sym` say; what the cache would hold is verified, and a wrong claim is not. */
static void check_static_openssl(const char *path, const char *sym)
{
	struct nosym_found out[NNAMES], v;
	uint64_t offsets[NNAMES];
	bool found[NNAMES];
	struct nosym_file f;
	char err[256] = "";
	int i;

	CHECK(tracer_bpf__symbol_offsets(sym, names, NNAMES, offsets, found) == 0);
	CHECK(nosym_open(path, &f, err, sizeof(err)) == 0);
	CHECK(strlen(f.build_id) == 40);
	CHECK(nosym_find(&f, names, NNAMES, out) == 1);
	for (i = 0; i < NNAMES; i++) {
		CHECK(found[i] && out[i].err == 0);
		if (out[i].err)
			fprintf(stderr, "%s: %s\n", names[i], out[i].why);
		CHECK(out[i].offset == offsets[i]);
		CHECK(strstr(out[i].file, "ssl/ssl_lib.c") != NULL);
		CHECK(out[i].nsites >= 1 && out[i].report == out[0].report);
		/* what the cache holds, verified anew; a wrong site or entry is not */
		v = (struct nosym_found){.entry = out[i].entry, .site = out[i].site};
		CHECK(nosym_verify(&f, names[i], &v) == 0 && v.offset == offsets[i]);
		v = (struct nosym_found){.entry = out[i].entry, .site = out[i].site + 1};
		CHECK(nosym_verify(&f, names[i], &v) == -EINVAL && v.why[0]);
		v = (struct nosym_found){.entry = out[i].entry + 1, .site = out[i].site};
		CHECK(nosym_verify(&f, names[i], &v) == -EINVAL);
		v = (struct nosym_found){.entry = out[i].entry, .site = out[i].site};
		CHECK(nosym_verify(&f, names[(i + 1) % NNAMES], &v) == -EINVAL);
	}
	nosym_close(&f);
}

/* Code linked below 4 GiB loads addresses with `mov r32, imm32`: found the same. */
static void test_absolute_addresses(void)
{
	const char *two[] = {"SSL_write", "SSL_read"};
	struct nosym_found out[2];
	uint64_t offsets[2];
	bool found[2];
	struct nosym_file f;
	char err[256] = "";

	CHECK(tracer_bpf__symbol_offsets(ERRSITES_SYM, two, 2, offsets, found) == 0);
	CHECK(found[0] && found[1]);
	CHECK(nosym_open(ERRSITES, &f, err, sizeof(err)) == 0);
	CHECK(nosym_find(&f, two, 2, out) == 1);
	CHECK(out[0].err == 0 && out[0].offset == offsets[0]);
	CHECK(out[1].err == 0 && out[1].offset == offsets[1]);
	CHECK_STR(out[0].file, "ssl/ssl_lib.c");
	nosym_close(&f);
}

/* A name ending in '*' (Rust's, whose hash changes with each build) takes the one function
 * whose name begins so; two functions so named (look-alikes) give none. */
static void test_symbol_prefixes(void)
{
	const char *names[] = {"SSL_write_ex*", "SSL_write_ex", "SSL_read*", "SSL_write_e*", "*"};
	uint64_t offsets[5];
	bool found[5];

	CHECK(tracer_bpf__symbol_offsets(STATIC_TLS_SYM, names, 5, offsets, found) == 0);
	CHECK(found[0] && found[1] && offsets[0] == offsets[1]);
	CHECK(!found[2]); /* SSL_read, SSL_read_ex, SSL_read_early_data */
	CHECK(!found[3]); /* SSL_write_ex, SSL_write_early_data */
	CHECK(!found[4]); /* '*' alone names no prefix */
}

static void test_not_openssl(void)
{
	struct nosym_found out[NNAMES];
	struct nosym_file f;
	char err[256] = "";
	int i;

	/* the look-alike: its strings are searched for, and no function is taken */
	CHECK(nosym_open(LOOKALIKE, &f, err, sizeof(err)) == 0);
	CHECK(nosym_find(&f, names, NNAMES, out) == 1);
	for (i = 0; i < NNAMES; i++) {
		CHECK(out[i].err == -EINVAL && out[i].why[0]);
		CHECK(!strstr(out[i].why, "decode")); /* refused for what it is, not for noise */
	}
	CHECK(strstr(out[1].why, "other than")); /* puts("SSL_read") */
	nosym_close(&f);
	/* a stripped program without TLS: not even a string to look for */
	CHECK(nosym_open("/bin/true", &f, err, sizeof(err)) == 0);
	CHECK(nosym_find(&f, names, NNAMES, out) == 0);
	for (i = 0; i < NNAMES; i++)
		CHECK(out[i].err == -ENOENT);
	nosym_close(&f);
	/* no ELF file */
	CHECK(nosym_open("/etc/hostname", &f, err, sizeof(err)) == -ENOENT);
}

/* Debian's chromium: BoringSSL, stripped, without .eh_frame for it; SSL_write and SSL_read
 * found because WebRTC names them after calling them (test_chromium traces them). */
static void test_named_by_callers(void)
{
	const char *two[] = {"SSL_write", "SSL_read"};
	struct nosym_found out[2], both[2], v;
	struct nosym_file f;
	char err[256] = "";
	int i;

	CHECK(nosym_open("/usr/lib/chromium/chromium", &f, err, sizeof(err)) == 0);
	CHECK(nosym_find_named(&f, two, 2, out) == 1);
	for (i = 0; i < 2; i++) {
		CHECK(out[i].err == 0 && out[i].how == NOSYM_BY_CALLERS && out[i].nsites >= 1);
		if (out[i].err)
			fprintf(stderr, "%s: %s\n", two[i], out[i].why);
		CHECK(strstr(out[i].file, "boringssl/src/ssl/ssl_lib.cc") != NULL);
		v = (struct nosym_found){
			.entry = out[i].entry, .site = out[i].site, .how = NOSYM_BY_CALLERS};
		CHECK(nosym_verify(&f, two[i], &v) == 0 && v.offset == out[i].offset);
		v = (struct nosym_found){
			.entry = out[i].entry + 16, .site = out[i].site, .how = NOSYM_BY_CALLERS};
		CHECK(nosym_verify(&f, two[i], &v) == -EINVAL);
		v = (struct nosym_found){
			.entry = out[i].entry, .site = out[i].site, .how = NOSYM_BY_CALLERS};
		CHECK(nosym_verify(&f, two[1 - i], &v) == -EINVAL); /* the other name */
	}
	CHECK(out[0].entry != out[1].entry && out[0].report == out[1].report);
	/* nosym_find (what the tracer calls) turns to the callers when no error site names them */
	CHECK(nosym_find(&f, two, 2, both) == 1);
	CHECK(both[0].err == 0 && both[0].how == NOSYM_BY_CALLERS && both[0].entry == out[0].entry);
	CHECK(both[1].err == 0 && both[1].how == NOSYM_BY_CALLERS && both[1].entry == out[1].entry);
	nosym_close(&f);
	/* OpenSSL's static build and the look-alike have no BoringSSL: nothing searched */
	CHECK(nosym_open(STATIC_TLS, &f, err, sizeof(err)) == 0);
	CHECK(nosym_find_named(&f, two, 2, out) == 0 && out[0].err == -ENOENT);
	nosym_close(&f);
	CHECK(nosym_open(LOOKALIKE, &f, err, sizeof(err)) == 0);
	CHECK(nosym_find_named(&f, two, 2, out) == 0);
	nosym_close(&f);
}

/* BoringSSL's SSL_write and SSL_read known by the reasons of their error checks in line
 * order, where no caller names them: in our fixture (PIE: the file loaded with `lea`) where
 * its symbols say, in Bun from npm (code below 4 GiB: `mov ecx, imm32`; what test_runtimes
 * traces), and in chromium where its callers say (two finders agree). */
static void check_by_checks(const char *path, const char *sym, const char *const *two,
			    uint64_t *entries, int nread)
{
	struct nosym_found out[2], v;
	uint64_t offsets[2];
	bool found[2] = {true, true};
	struct nosym_file f;
	char err[256] = "";
	int i, opened;

	if (sym)
		CHECK(tracer_bpf__symbol_offsets(sym, two, 2, offsets, found) == 0);
	opened = nosym_open(path, &f, err, sizeof(err));
	CHECK(opened == 0);
	if (opened) { /* scripts/deps installs bun and chromium: a failure, said */
		fprintf(stderr, "cannot open %s: %s\n", path, strerror(-opened));
		return;
	}
	CHECK(nosym_find_checks(&f, two, 2, out) == 1);
	for (i = 0; i < 2; i++) {
		CHECK(found[i] && out[i].err == 0 && out[i].how == NOSYM_BY_CHECKS);
		if (out[i].err)
			fprintf(stderr, "%s in %s: %s\n", two[i], path, out[i].why);
		if (sym)
			CHECK(out[i].offset == offsets[i]);
		if (entries)
			CHECK(out[i].entry == entries[i]);
		CHECK(strstr(out[i].file, "ssl/ssl_lib.cc") != NULL && out[i].end > out[i].site);
		CHECK(out[i].nsites == (i == 0 ? 4 : nread) && out[i].ncallers >= 1);
		/* the cache's claim verified anew; a moved entry, end or name is refused */
		v = (struct nosym_found){.how = NOSYM_BY_CHECKS,
					 .entry = out[i].entry,
					 .site = out[i].site,
					 .end = out[i].end};
		CHECK(nosym_verify(&f, two[i], &v) == 0 && v.offset == out[i].offset);
		v = (struct nosym_found){.how = NOSYM_BY_CHECKS,
					 .entry = out[i].entry + 16,
					 .site = out[i].site,
					 .end = out[i].end};
		CHECK(nosym_verify(&f, two[i], &v) == -EINVAL && v.why[0]);
		v = (struct nosym_found){.how = NOSYM_BY_CHECKS,
					 .entry = out[i].entry,
					 .site = out[i].site,
					 .end = out[i].site + 1}; /* its checks cut off */
		CHECK(nosym_verify(&f, two[i], &v) == -EINVAL);
		v = (struct nosym_found){.how = NOSYM_BY_CHECKS,
					 .entry = out[i].entry,
					 .site = out[i].site,
					 .end = out[i].end};
		CHECK(nosym_verify(&f, two[1 - i], &v) == -EINVAL); /* the other name */
	}
	CHECK(out[0].report == out[1].report && out[0].entry != out[1].entry);
	nosym_close(&f);
}

static void test_by_checks(void)
{
	const char *two[] = {"SSL_write", "SSL_read"};
	struct nosym_found out[NNAMES], named[2];
	struct nosym_file f;
	uint64_t entries[2];
	char err[256] = "";

	check_by_checks(BORING, BORING_SYM, two, NULL, 1);
	check_by_checks(BORING_WHOLE, BORING_WHOLE_SYM, two, NULL, 3); /* ssl_read_impl inlined */
	check_by_checks(BUN, NULL, two, NULL, 1);
	CHECK(nosym_open("/usr/lib/chromium/chromium", &f, err, sizeof(err)) == 0);
	CHECK(nosym_find_named(&f, two, 2, named) == 1 && !named[0].err && !named[1].err);
	nosym_close(&f);
	entries[0] = named[0].entry;
	entries[1] = named[1].entry;
	check_by_checks("/usr/lib/chromium/chromium", NULL, two, entries, 1);
	/* nosym_find (what the tracer calls) comes to them when nothing else finds them */
	CHECK(nosym_open(BUN, &f, err, sizeof(err)) == 0);
	CHECK(nosym_find(&f, names, NNAMES, out) == 1);
	CHECK(out[0].err == 0 && out[0].how == NOSYM_BY_CHECKS);
	CHECK(out[1].err == 0 && out[1].how == NOSYM_BY_CHECKS && out[1].inlined);
	CHECK(out[2].err == -ENOENT && out[3].err == -ENOENT); /* OpenSSL's own */
	nosym_close(&f);
	/* the same checks where no finder may trust them: no place, no false claim */
	CHECK(nosym_open(BORING_LOOKALIKE, &f, err, sizeof(err)) == 0);
	CHECK(nosym_find(&f, names, NNAMES, out) == 1);
	CHECK(out[0].err == -EINVAL &&
	      strstr(out[0].why, "two functions make the checks SSL_write"));
	CHECK(out[1].err == -ENOENT); /* its one QUIC check calls no ssl_read_impl */
	CHECK(out[2].err == -ENOENT && out[3].err == -ENOENT);
	nosym_close(&f);
	/* OpenSSL's static build has no BoringSSL: no file name to look for */
	CHECK(nosym_open(STATIC_TLS, &f, err, sizeof(err)) == 0);
	CHECK(nosym_find_checks(&f, two, 2, out) == 1 && out[0].err == -ENOENT &&
	      out[1].err == -ENOENT);
	nosym_close(&f);
}

/* aws-lc's EVP_AEAD_CTX_seal, _seal_scatter and _open known by the reasons of their error
 * checks in line order, in a program that carries rustls: in our fixture (built for size,
 * packed, checks sharing their tails) where its symbols say, and in Deno from npm (what
 * test_runtimes traces); not in a look-alike, not without rustls, not in Bun. */
static void test_aead(void)
{
	const char *all[] = {"SSL_write", "SSL_read", "EVP_AEAD_CTX_seal",
			     "EVP_AEAD_CTX_seal_scatter", "EVP_AEAD_CTX_open"};
	const char *const *three = all + 2;
	struct nosym_found out[5], v;
	uint64_t offsets[3];
	bool found[3];
	struct nosym_file f;
	char err[256] = "";
	int i;

	CHECK(tracer_bpf__symbol_offsets(AEAD_SYM, three, 3, offsets, found) == 0);
	CHECK(nosym_open(AEAD, &f, err, sizeof(err)) == 0);
	CHECK(nosym_find(&f, all, 5, out) == 1);
	CHECK(out[0].err == -ENOENT && out[1].err == -ENOENT); /* no libssl */
	for (i = 0; i < 3; i++) {
		const struct nosym_found *o = &out[2 + i];

		CHECK(found[i] && o->err == 0 && o->how == NOSYM_BY_CHECKS);
		if (o->err)
			fprintf(stderr, "%s in %s: %s\n", three[i], AEAD, o->why);
		CHECK(o->offset == offsets[i]);
		CHECK(strcmp(o->file, "/aws-lc/crypto/fipsmodule/cipher/aead.c") == 0);
		CHECK(o->nsites == (i == 1 ? 2 : 3) && o->ncallers >= 1);
		/* the cache's claim verified anew; a moved entry or another name is refused */
		v = (struct nosym_found){
			.how = NOSYM_BY_CHECKS, .entry = o->entry, .site = o->site, .end = o->end};
		CHECK(nosym_verify(&f, three[i], &v) == 0 && v.offset == o->offset);
		v = (struct nosym_found){.how = NOSYM_BY_CHECKS,
					 .entry = o->entry + 1,
					 .site = o->site,
					 .end = o->end};
		CHECK(nosym_verify(&f, three[i], &v) == -EINVAL && v.why[0]);
		v = (struct nosym_found){
			.how = NOSYM_BY_CHECKS, .entry = o->entry, .site = o->site, .end = o->end};
		CHECK(nosym_verify(&f, three[(i + 1) % 3], &v) == -EINVAL);
	}
	CHECK(!strcmp(nosym_checks_library("EVP_AEAD_CTX_open"), "aws-lc") &&
	      !strcmp(nosym_checks_library("SSL_read"), "BoringSSL"));
	nosym_close(&f);

	CHECK(nosym_open(DENO, &f, err, sizeof(err)) == 0); /* scripts/deps installs it */
	CHECK(nosym_find(&f, all, 5, out) == 1);
	CHECK(out[0].err == -ENOENT && out[1].err == -ENOENT);
	CHECK(!out[2].err && !out[3].err && !out[4].err);
	CHECK(out[2].entry < out[3].entry && out[3].entry < out[4].entry); /* aead.c's order */
	CHECK(out[2].report == out[3].report && out[3].report == out[4].report);
	nosym_close(&f);

	/* seal's checks in two functions: no place, the reason said */
	CHECK(nosym_open(AEAD_LOOKALIKE, &f, err, sizeof(err)) == 0);
	CHECK(nosym_find(&f, all, 5, out) == 1);
	for (i = 2; i < 5; i++)
		CHECK(out[i].err == -EINVAL &&
		      strstr(out[i].why, "two functions make the checks EVP_AEAD_CTX_seal"));
	nosym_close(&f);
	/* seal reached through a pointer only: not found, and never the function before it */
	{
		const char *cleanup = "EVP_AEAD_CTX_cleanup";
		uint64_t at;
		bool has;

		CHECK(tracer_bpf__symbol_offsets(AEAD_INDIRECT_SYM, &cleanup, 1, &at, &has) == 0 &&
		      has);
		CHECK(nosym_open(AEAD_INDIRECT, &f, err, sizeof(err)) == 0);
		CHECK(nosym_find(&f, all, 5, out) == 1);
		CHECK(out[2].err != 0 || out[2].offset != at);
		CHECK(out[2].err == -ENOENT || out[2].err == -EINVAL);
		CHECK(out[4].err == 0); /* open is called directly */
		nosym_close(&f);
	}
	/* clang's shape, as codex (npm) has it: open with open_gather's checks inlined, every
	 * call of the three through the global offset table: found where the symbols say */
	CHECK(tracer_bpf__symbol_offsets(AEAD_GOT_SYM, three, 3, offsets, found) == 0);
	CHECK(nosym_open(AEAD_GOT, &f, err, sizeof(err)) == 0);
	CHECK(nosym_find(&f, all, 5, out) == 1);
	for (i = 0; i < 3; i++) {
		CHECK(found[i] && out[2 + i].err == 0 && out[2 + i].offset == offsets[i]);
		v = (struct nosym_found){.how = NOSYM_BY_CHECKS,
					 .entry = out[2 + i].entry,
					 .site = out[2 + i].site,
					 .end = out[2 + i].end};
		CHECK(nosym_verify(&f, three[i], &v) == 0);
	}
	nosym_close(&f);
	/* without rustls (aws-lc's libssl, or none): not looked for */
	CHECK(nosym_open(AEAD_NORUSTLS, &f, err, sizeof(err)) == 0);
	CHECK(nosym_has_awslc_aead(&f));
	CHECK(nosym_find(&f, all, 5, out) == 0);
	for (i = 0; i < 5; i++)
		CHECK(out[i].err == -ENOENT);
	nosym_close(&f);
	/* Bun: BoringSSL's libssl is found, no AEAD of aws-lc looked for */
	CHECK(nosym_open(BUN, &f, err, sizeof(err)) == 0);
	CHECK(nosym_find(&f, all, 5, out) == 1);
	CHECK(!out[0].err && !out[1].err);
	for (i = 2; i < 5; i++)
		CHECK(out[i].err == -ENOENT);
	nosym_close(&f);
}

static int count_files(const char *dir, const char *prefix)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	while (dp && (d = readdir(dp)))
		n += strncmp(d->d_name, prefix, strlen(prefix)) == 0;
	if (dp)
		closedir(dp);
	return n;
}

static void test_cache(void)
{
	char dir[] = "/tmp/test_nosym.XXXXXX", path[256];
	const char *id = "00112233445566778899aabbccddeeff00112233";
	struct nosym_found put[3] =
		{{.err = 0, .entry = 0x1000, .site = 0x1010, .how = NOSYM_BY_CHECKS, .end = 0x1234},
		 {.err = -ENOENT},
		 {.err = -EINVAL, .why = "its name is passed by two functions"}},
			   got[3];
	const char *three[] = {"SSL_write", "SSL_read", "SSL_peek"}, *other[] = {"SSL_accept"};
	struct stat st;

	CHECK(mkdtemp(dir) != NULL);
	setenv("TRACER_CACHE_DIR", dir, 1);
	CHECK(nosymcache_load(id, three, 3, got) == -ENOENT);
	CHECK(nosymcache_save(id, three, 3, put) == 0);
	snprintf(path, sizeof(path), "%s/nosym-%s", dir, id);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(nosymcache_load(id, three, 3, got) == 0);
	CHECK(got[0].err == 0 && got[0].entry == 0x1000 && got[0].site == 0x1010);
	CHECK(got[0].how == NOSYM_BY_CHECKS && got[0].end == 0x1234);
	CHECK(got[1].err == -ENOENT);
	CHECK(got[2].err == -EINVAL);
	CHECK_STR(got[2].why, "its name is passed by two functions");
	CHECK(nosymcache_load(id, other, 1, got) == -ENOENT); /* a name it does not have */
	CHECK(nosymcache_load("../x", three, 3, got) == -ENOENT);
	CHECK(nosymcache_save("", three, 3, put) == -ENOENT); /* no build id: no cache */
	chmod(path, 0644); /* not as the tracer writes it: not read */
	CHECK(nosymcache_load(id, three, 3, got) == -ENOENT);
	unlink(path);
	{ /* an older tracer's file (no format line): its "none" may be found now */
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);

		CHECK(fd >= 0 && dprintf(fd, "# tracer: functions found\nSSL_write none\n"
					     "SSL_read none\nSSL_peek none\n") > 0);
		close(fd);
		CHECK(nosymcache_load(id, three, 3, got) == -ENOENT);
		unlink(path);
	}
	setenv("TRACER_CACHE_DIR", "", 1); /* the cache off */
	CHECK(nosymcache_save(id, three, 3, put) == -ENOENT);
	CHECK(nosymcache_load(id, three, 3, got) == -ENOENT);
	/* the least recently used files go past NOSYMCACHE_MAX_ENTRIES: a file read whole is
	 * used, and stays */
	setenv("TRACER_CACHE_DIR", dir, 1);
	for (int k = 0; k < NOSYMCACHE_MAX_ENTRIES + 3; k++) {
		char other[41];

		snprintf(other, sizeof(other), "%040x", k + 1);
		CHECK(nosymcache_save(other, three, 3, put) == 0);
		if (k == 1)
			sleep(1);		     /* 0...1 and 0...2 are older than the rest */
		if (k == NOSYMCACHE_MAX_ENTRIES - 1) /* all are there: 0...1 used, the newest */
			CHECK(nosymcache_load("0000000000000000000000000000000000000001", three, 3,
					      got) == 0);
	}
	CHECK(count_files(dir, "nosym-") == NOSYMCACHE_MAX_ENTRIES);
	CHECK(nosymcache_load("0000000000000000000000000000000000000001", three, 3, got) == 0);
	CHECK(nosymcache_load("0000000000000000000000000000000000000002", three, 3, got) ==
	      -ENOENT);
	for (int k = 0; k < NOSYMCACHE_MAX_ENTRIES + 3; k++) {
		snprintf(path, sizeof(path), "%s/nosym-%040x", dir, k + 1);
		unlink(path);
	}
	unsetenv("TRACER_CACHE_DIR");
	rmdir(dir);
}

/* rustls 0.20 on ring, stripped: each encrypter and decrypter where its symbol says (the
 * unstripped twin's), TLS 1.2's in pairs of one suite; a claim verified anew, a moved one
 * refused; the look-alike gets nothing. */
static void test_rustls(void)
{
	const char *roles[] = {"rustls_tls13_encrypt",	 "rustls_tls13_decrypt",
			       "rustls_tls12_encrypt_1", "rustls_tls12_decrypt_1",
			       "rustls_tls12_encrypt_2", "rustls_tls12_decrypt_2"};
	const char *syms[] = {"_ZN89_$LT$rustls..tls13..Tls13MessageEncrypter$u20$as$u20$rustls.."
			      "cipher..MessageEncrypter$GT$7encrypt17h*",
			      "_ZN89_$LT$rustls..tls13..Tls13MessageDecrypter$u20$as$u20$rustls.."
			      "cipher..MessageDecrypter$GT$7decrypt17h*",
			      "_ZN95_$LT$rustls..tls12..cipher..GcmMessageEncrypter$u20$as$u20$"
			      "rustls..cipher..MessageEncrypter$GT$7encrypt17h*",
			      "_ZN95_$LT$rustls..tls12..cipher..GcmMessageDecrypter$u20$as$u20$"
			      "rustls..cipher..MessageDecrypter$GT$7decrypt17h*",
			      "_ZN108_$LT$rustls..tls12..cipher..ChaCha20Poly1305MessageEncrypter$"
			      "u20$as$u20$rustls..cipher..MessageEncrypter$GT$7encrypt17h*",
			      "_ZN108_$LT$rustls..tls12..cipher..ChaCha20Poly1305MessageDecrypter$"
			      "u20$as$u20$rustls..cipher..MessageDecrypter$GT$7decrypt17h*"};
	struct nosym_found out[6], v;
	uint64_t offsets[6];
	bool found[6];
	struct nosym_file f;
	char err[256] = "";
	int i, j;

	CHECK(tracer_bpf__symbol_offsets(RUSTLS_SYM, syms, 6, offsets, found) == 0);
	CHECK(nosym_open(RUSTLS_STRIPPED, &f, err, sizeof(err)) == 0);
	CHECK(nosym_find(&f, roles, 6, out) == 1);
	for (i = 0; i < 6; i++) {
		CHECK(found[i] && out[i].err == 0 && out[i].how == NOSYM_BY_VTABLE);
		if (out[i].err)
			fprintf(stderr, "%s: %s\n", roles[i], out[i].why);
		CHECK(strcmp(out[i].file, "rustls-0.20.8") == 0 && out[i].says[0]);
	}
	/* TLS 1.3's where their symbols are; each TLS 1.2 pair one suite's, whichever first */
	CHECK(out[0].offset == offsets[0] && out[1].offset == offsets[1]);
	j = out[2].offset == offsets[2] ? 2 : 4;
	CHECK(out[2].offset == offsets[j] && out[3].offset == offsets[j + 1]);
	CHECK(out[4].offset == offsets[6 - j] && out[5].offset == offsets[7 - j]);
	/* a claim checked by its facts alone: a byte off, another place, another role refused */
	for (i = 0; i < 6; i++) {
		v = (struct nosym_found){
			.how = NOSYM_BY_VTABLE, .entry = out[i].entry, .site = out[i].site};
		CHECK(nosym_verify(&f, roles[i], &v) == 0 && v.offset == out[i].offset &&
		      v.says[0] && strcmp(v.file, "rustls-0.20.8") == 0);
		v = (struct nosym_found){
			.how = NOSYM_BY_VTABLE, .entry = out[i].entry + 1, .site = out[i].site};
		CHECK(nosym_verify(&f, roles[i], &v) == -EINVAL && v.why[0]);
		v = (struct nosym_found){
			.how = NOSYM_BY_VTABLE, .entry = out[i].entry, .site = out[i].site + 1};
		CHECK(nosym_verify(&f, roles[i], &v) == -EINVAL && v.why[0]);
	}
	v = (struct nosym_found){
		.how = NOSYM_BY_VTABLE, .entry = out[3].entry, .site = out[3].site};
	CHECK(nosym_verify(&f, roles[0], &v) ==
	      -EINVAL); /* a decrypter copies no "encrypt failed" */
	nosym_close(&f);

	/* literals, a vtable and the crates' paths, no fact whole: nothing claimed */
	CHECK(nosym_open(RUSTLS_LOOKALIKE, &f, err, sizeof(err)) == 0);
	CHECK(nosym_find(&f, roles, 6, out) == 1);
	for (i = 0; i < 6; i++)
		CHECK(out[i].err == -ENOENT);
	nosym_close(&f);
	/* ... and with the encrypter's literal copied whole, that method alone is taken (the
	 * decrypter's copier is in no vtable): the spec's required pair is not there */
	{
		const char *method = "encrypt_short";
		uint64_t at;
		bool has;

		const char *const wholes[][2] = {{RUSTLS_WHOLE, RUSTLS_WHOLE_SYM},
						 {RUSTLS_FIXED, RUSTLS_FIXED_SYM}};

		for (j = 0; j < 2; j++) { /* read from its address; as immediates, non-PIE */
			CHECK(tracer_bpf__symbol_offsets(wholes[j][1], &method, 1, &at, &has) ==
				      0 &&
			      has);
			CHECK(nosym_open(wholes[j][0], &f, err, sizeof(err)) == 0);
			CHECK(nosym_find(&f, roles, 6, out) == 1);
			CHECK(out[0].err == 0 && out[0].offset == at);
			for (i = 1; i < 6; i++)
				CHECK(out[i].err == -ENOENT);
			v = (struct nosym_found){
				.how = NOSYM_BY_VTABLE, .entry = out[0].entry, .site = out[0].site};
			CHECK(nosym_verify(&f, roles[0], &v) == 0);
			nosym_close(&f);
		}
	}
	/* Deno (rustls 0.23 on aws-lc): not looked for */
	CHECK(nosym_open(DENO, &f, err, sizeof(err)) == 0);
	CHECK(nosym_find(&f, roles, 6, out) == 0);
	for (i = 0; i < 6; i++)
		CHECK(out[i].err == -ENOENT);
	nosym_close(&f);
}

int main(void)
{
	test_cfi();
	test_uleb();
	check_static_openssl(STATIC_TLS, STATIC_TLS_SYM);	    /* .eh_frame_hdr */
	check_static_openssl(STATIC_TLS_FULL, STATIC_TLS_FULL_SYM); /* -static: .eh_frame walked */
	test_absolute_addresses();
	test_symbol_prefixes();
	test_not_openssl();
	test_named_by_callers();
	test_by_checks();
	test_aead();
	test_rustls();
	test_cache();
	return check_done();
}
