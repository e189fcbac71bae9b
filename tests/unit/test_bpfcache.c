/* SPDX-License-Identifier: Apache-2.0 */
/* test_bpfcache.c - the compile cache: an entry written is read back as it was; another key,
 * a changed byte, a cut file, a file others may write or the cache turned off all miss */
#define _GNU_SOURCE
#include "bpfcache.h"
#include "check.h"

#include <errno.h>
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const flags[] = {"-DMAX_DATA_SIZE=16384", "-DTRACE_PID=42"};

/* A small image: two maps, two functions. */
static void make_image(struct tracer_bpf_image *img, struct tracer_bpf_table *t,
		       struct tracer_bpf_func *f, const uint64_t *insns)
{
	memset(img, 0, sizeof(*img));
	memset(t, 0, 2 * sizeof(*t));
	memset(f, 0, 2 * sizeof(*f));
	snprintf(img->license, sizeof(img->license), "GPL");
	img->kern_version = 0x60100;
	t[0] = (struct tracer_bpf_table){.name = "tls_events",
					 .type = 4,
					 .key_size = 4,
					 .leaf_size = 4,
					 .max_entries = 2,
					 .ref_fd = 7};
	t[1] = (struct tracer_bpf_table){.name = "tls_calls",
					 .type = 1,
					 .key_size = 4,
					 .leaf_size = 64,
					 .max_entries = 1024,
					 .flags = 1,
					 .ref_fd = 8};
	f[0] = (struct tracer_bpf_func){.name = "probe_entry", .size = 16, .insns = insns};
	f[1] = (struct tracer_bpf_func){
		.name = "tracepoint__sched__x", .size = 8, .insns = insns + 2};
	img->tables = t;
	img->funcs = f;
	img->ntables = img->nfuncs = 2;
}

static int key(struct bpfcache *c, const char *dir, const char *source)
{
	return bpfcache_key(c, dir, source, flags, 2, "headers 6.1");
}

int main(void)
{
	char dir[] = "/tmp/tracer-bpfcache-XXXXXX", src[PATH_MAX], why[256];
	const uint64_t insns[3] = {0x1122334455667788ull, 0x95, 0x95};
	struct tracer_bpf_table t[2];
	struct tracer_bpf_func f[2];
	struct tracer_bpf_image img;
	struct bpfcache c = {0}, d = {0};
	struct stat st;
	FILE *fp;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(src, sizeof(src), "%s/src", dir);
	CHECK(mkdir(src, 0700) == 0);
	setenv("TRACER_CACHE_DIR", dir, 1);
	chmod(dir, 0700);
	make_image(&img, t, f, insns);

	/* Written, then read back whole; the file is 0600. */
	CHECK(key(&c, src, "int a;") == 0);
	CHECK(c.path[0] != '\0');
	CHECK(bpfcache_get(&c, why, sizeof(why)) == 0);
	CHECK(bpfcache_put_image(&c, &img) == 0);
	CHECK(stat(c.path, &st) == 0 && (st.st_mode & 0777) == 0600);
	bpfcache_free(&c);
	CHECK(key(&c, src, "int a;") == 0);
	CHECK(bpfcache_get(&c, why, sizeof(why)) == 1 && c.hit);
	CHECK_STR(c.img.license, "GPL");
	CHECK(c.img.kern_version == 0x60100);
	CHECK(c.img.ntables == 2 && c.img.nfuncs == 2);
	CHECK_STR(c.img.tables[1].name, "tls_calls");
	CHECK(c.img.tables[1].leaf_size == 64 && c.img.tables[1].flags == 1 &&
	      c.img.tables[1].ref_fd == 8);
	CHECK_STR(c.img.funcs[1].name, "tracepoint__sched__x");
	CHECK(c.img.funcs[0].size == 16 && memcmp(c.img.funcs[0].insns, insns, 16) == 0);

	/* Another source, another entry; a PID the source never names is not part of it. */
	CHECK(key(&d, src, "int b;") == 0);
	CHECK(strcmp(c.path, d.path) != 0);
	CHECK(bpfcache_get(&d, why, sizeof(why)) == 0);
	bpfcache_free(&d);
	CHECK(bpfcache_key(&d, src, "int a;", (const char *const[]){flags[0], "-DTRACE_PID=7"}, 2,
			   "headers 6.1") == 0);
	CHECK_STR(d.path, c.path);
	bpfcache_free(&d);
	CHECK(bpfcache_key(&d, src, "int a = TRACE_PID;", flags, 2, "headers 6.1") == 0);
	CHECK(bpfcache_key(&c, src, "int a = TRACE_PID;",
			   (const char *const[]){flags[0], "-DTRACE_PID=7"}, 2,
			   "headers 6.1") == 0);
	CHECK(strcmp(c.path, d.path) != 0);
	bpfcache_free(&d);
	bpfcache_free(&c);

	/* A header of bpf_src is part of the key. */
	CHECK(key(&c, src, "int a;") == 0);
	snprintf(why, sizeof(why), "%s/tls_event.h", src);
	fp = fopen(why, "w");
	CHECK(fp && fputs("#define X 1\n", fp) >= 0 && fclose(fp) == 0);
	CHECK(key(&d, src, "int a;") == 0);
	CHECK(strcmp(c.path, d.path) != 0);
	bpfcache_free(&d);

	/* A changed byte of the payload, a cut file, a file others may write: not used. */
	CHECK(stat(c.path, &st) == 0);
	fp = fopen(c.path, "r+");
	CHECK(fp && fseek(fp, st.st_size - 3, SEEK_SET) == 0 && fputc(0x42, fp) != EOF &&
	      fclose(fp) == 0);
	CHECK(bpfcache_get(&c, why, sizeof(why)) == 0);
	CHECK(strstr(why, "damaged") != NULL);
	CHECK(bpfcache_put_image(&c, &img) == 0);
	CHECK(bpfcache_get(&c, why, sizeof(why)) == 1);
	bpfcache_free(&c);
	CHECK(key(&c, src, "int a;") == 0);
	CHECK(bpfcache_put_image(&c, &img) == 0 && stat(c.path, &st) == 0);
	CHECK(bpfcache_get(&c, why, sizeof(why)) == 1);
	bpfcache_free(&c);
	CHECK(key(&c, src, "int a;") == 0);
	CHECK(truncate(c.path, st.st_size - 1) == 0);
	CHECK(bpfcache_get(&c, why, sizeof(why)) == 0);
	CHECK(bpfcache_put_image(&c, &img) == 0);
	CHECK(chmod(c.path, 0644) == 0);
	CHECK(bpfcache_get(&c, why, sizeof(why)) == 0);
	CHECK(strstr(why, "0600") != NULL);
	unlink(c.path);
	bpfcache_free(&c);

	/* Empty $TRACER_CACHE_DIR: off; a directory others can write to: off. */
	setenv("TRACER_CACHE_DIR", "", 1);
	CHECK(key(&c, src, "int a;") == 0 && c.path[0] == '\0');
	CHECK(bpfcache_get(&c, why, sizeof(why)) == 0);
	bpfcache_free(&c);
	setenv("TRACER_CACHE_DIR", dir, 1);
	CHECK(chmod(dir, 0777) == 0);
	CHECK(key(&c, src, "int a;") == 0 && c.path[0] == '\0');
	bpfcache_free(&c);

	/* The newest BPFCACHE_MAX_ENTRIES entries are kept. */
	CHECK(chmod(dir, 0700) == 0);
	for (int i = 0; i < BPFCACHE_MAX_ENTRIES + 5; i++) {
		char text[32];

		snprintf(text, sizeof(text), "int v%d;", i);
		CHECK(key(&c, src, text) == 0 && bpfcache_put_image(&c, &img) == 0);
	}
	{
		struct dirent **names = NULL;
		int n = scandir(dir, &names, NULL, NULL), bpf = 0;

		for (int i = 0; i < n; i++) {
			bpf += strstr(names[i]->d_name, ".bpf") != NULL;
			free(names[i]);
		}
		free(names);
		CHECK(bpf == BPFCACHE_MAX_ENTRIES);
	}
	CHECK(key(&c, src, "int v68;") == 0 && bpfcache_get(&c, why, sizeof(why)) == 1);
	bpfcache_free(&c);

	/* Malformed bytes never parse. */
	CHECK(bpfcache_parse("tracer", 6, "k", 1, &img) == -EINVAL);
	CHECK(bpfcache_parse("", 0, "k", 1, &img) == -EINVAL);

	snprintf(why, sizeof(why), "rm -rf '%s'", dir);
	CHECK(system(why) == 0);
	return check_done();
}
