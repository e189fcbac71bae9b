/* SPDX-License-Identifier: Apache-2.0 */
/* bpfcache.c - compiled BPF kept on disk by what it was compiled from: a second start
 * compiles nothing */
#define _GNU_SOURCE
#include "bpfcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#ifndef TRACER_VERSION
#define TRACER_VERSION "0.1.0"
#endif

/* An entry: MAGIC, u32 key length, the key, SHA-256 of the payload, u32 payload length,
 * the payload: struct payload_head, the tables, then each function's struct func_head
 * followed by its instructions. Native byte order: an entry is read by the tracer that
 * wrote it (the key names its version and the machine). */
#define MAGIC "tracer-bpfcache-1\n"
#define MAX_ENTRY (64u << 20)

struct payload_head {
	char license[64];
	uint32_t kern_version, ntables, nfuncs, pad;
};

struct func_head {
	char name[128];
	uint32_t size, pad;
};

/* A growing text or byte buffer. */
struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct buf *b, const void *data, size_t n)
{
	char *grown;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t want = (b->len + n + 1) * 2;

		grown = realloc(b->p, want);
		if (!grown) {
			b->oom = true;
			return;
		}
		b->p = grown;
		b->cap = want;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void put_str(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
	put(b, "\n", 1);
}

/* Appends the headers of bpf_dir (name and contents), in name order. */
static void put_headers(struct buf *b, const char *bpf_dir)
{
	struct dirent **names = NULL;
	char path[PATH_MAX], chunk[4096];
	int n, i;

	n = scandir(bpf_dir, &names, NULL, alphasort);
	for (i = 0; i < n; i++) {
		size_t len = strlen(names[i]->d_name), got;
		FILE *f;

		if (len > 2 && strcmp(names[i]->d_name + len - 2, ".h") == 0) {
			snprintf(path, sizeof(path), "%s/%s", bpf_dir, names[i]->d_name);
			put_str(b, path);
			f = fopen(path, "re");
			while (f && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
				put(b, chunk, got);
			if (f)
				fclose(f);
		}
		free(names[i]);
	}
	free(names);
}

void bpfcache_dir(char *dir, size_t size)
{
	const char *env = getenv("TRACER_CACHE_DIR");
	struct stat st;

	snprintf(dir, size, "%s", env ? env : BPFCACHE_DIR);
	if (!dir[0])
		return;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		dir[0] = '\0';
	else if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
		 (st.st_mode & 022))
		dir[0] = '\0';
}

int bpfcache_key(struct bpfcache *c, const char *bpf_dir, const char *source,
		 const char *const *cflags, int ncflags, const char *kheaders)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char dir[PATH_MAX], line[512];
	struct buf key = {0}, headers = {0};
	struct utsname un;
	bool uses_pid;
	int i;

	bpfcache_free(c); /* a key made before, and its entry */
	put_headers(&headers, bpf_dir);
	/* -DTRACE_PID=N changes nothing in sources that never name it: left out of the key,
	 * the entry serves every PID. */
	uses_pid = strstr(source, "TRACE_PID") || (headers.p && strstr(headers.p, "TRACE_PID"));
	put_str(&key, MAGIC "tracer " TRACER_VERSION);
	tracer_bpf__compiler_id(line, sizeof(line));
	put_str(&key, line);
	uname(&un);
	snprintf(line, sizeof(line), "%s %s %s", un.release, un.version, un.machine);
	put_str(&key, line);
	put_str(&key, kheaders);
	for (i = 0; i < ncflags; i++)
		if (uses_pid || strncmp(cflags[i], "-DTRACE_PID=", 12) != 0)
			put_str(&key, cflags[i]);
	put_str(&key, "-- headers");
	put(&key, headers.p ? headers.p : "", headers.len);
	put_str(&key, "-- source");
	put_str(&key, source);
	free(headers.p);
	if (key.oom || headers.oom) {
		free(key.p);
		return -ENOMEM;
	}
	c->key = key.p;
	c->keylen = key.len;
	bpfcache_dir(dir, sizeof(dir));
	if (!dir[0])
		return 0;
	SHA256((const unsigned char *)c->key, c->keylen, md);
	i = snprintf(c->path, sizeof(c->path), "%s/", dir);
	for (size_t k = 0; k < sizeof(md) && i + 3 < (int)sizeof(c->path); k++)
		i += snprintf(c->path + i, sizeof(c->path) - i, "%02x", md[k]);
	if (i + 5 >= (int)sizeof(c->path))
		c->path[0] = '\0';
	else
		strcat(c->path, ".bpf");
	return 0;
}

/* Reads 4 bytes at *at (bounds checked). */
static int take_u32(const char *buf, size_t len, size_t *at, uint32_t *v)
{
	if (len - *at < sizeof(*v))
		return -EINVAL;
	memcpy(v, buf + *at, sizeof(*v));
	*at += sizeof(*v);
	return 0;
}

int bpfcache_parse(const void *data, size_t len, const char *key, size_t keylen,
		   struct tracer_bpf_image *img)
{
	const char *buf = data;
	unsigned char md[SHA256_DIGEST_LENGTH];
	struct payload_head head;
	size_t at = strlen(MAGIC), start;
	uint32_t klen, plen, i;

	memset(img, 0, sizeof(*img));
	if (len < at || memcmp(buf, MAGIC, at) != 0 || take_u32(buf, len, &at, &klen) ||
	    klen != keylen || len - at < klen || memcmp(buf + at, key, keylen) != 0)
		return -EINVAL;
	at += klen;
	if (len - at < sizeof(md))
		return -EINVAL;
	memcpy(md, buf + at, sizeof(md));
	at += sizeof(md);
	if (take_u32(buf, len, &at, &plen) || plen != len - at)
		return -EINVAL;
	start = at;
	{
		unsigned char got[SHA256_DIGEST_LENGTH];

		SHA256((const unsigned char *)buf + start, plen, got);
		if (memcmp(got, md, sizeof(md)) != 0)
			return -EINVAL;
	}
	if (len - at < sizeof(head))
		return -EINVAL;
	memcpy(&head, buf + at, sizeof(head));
	at += sizeof(head);
	if (head.ntables > 4096 || head.nfuncs > 4096 || !memchr(head.license, 0, 64) ||
	    (len - at) / sizeof(struct tracer_bpf_table) < head.ntables)
		return -EINVAL;
	img->tables = calloc(head.ntables + 1, sizeof(*img->tables));
	img->funcs = calloc(head.nfuncs + 1, sizeof(*img->funcs));
	if (!img->tables || !img->funcs) {
		tracer_bpf__image_free(img);
		return -ENOMEM;
	}
	memcpy(img->license, head.license, sizeof(img->license));
	img->kern_version = head.kern_version;
	for (i = 0; i < head.ntables; i++) {
		memcpy(&img->tables[i], buf + at, sizeof(img->tables[i]));
		at += sizeof(img->tables[i]);
		if (!memchr(img->tables[i].name, 0, sizeof(img->tables[i].name)))
			goto bad;
	}
	img->ntables = (int)head.ntables;
	for (i = 0; i < head.nfuncs; i++) {
		struct func_head fh;

		if (len - at < sizeof(fh))
			goto bad;
		memcpy(&fh, buf + at, sizeof(fh));
		at += sizeof(fh);
		if (!memchr(fh.name, 0, sizeof(fh.name)) || fh.size % 8 || len - at < fh.size)
			goto bad;
		memcpy(img->funcs[i].name, fh.name, sizeof(fh.name));
		img->funcs[i].size = fh.size;
		img->funcs[i].insns = buf + at;
		at += fh.size;
	}
	img->nfuncs = (int)head.nfuncs;
	if (at != len)
		goto bad;
	return 0;
bad:
	tracer_bpf__image_free(img);
	return -EINVAL;
}

int bpfcache_get(struct bpfcache *c, char *why, size_t whylen)
{
	struct stat st;
	ssize_t got;
	int fd;

	c->hit = false;
	tracer_bpf__image_free(&c->img); /* an entry read before */
	free(c->blob);
	c->blob = NULL;
	snprintf(why, whylen, "no entry");
	if (!c->path[0]) {
		snprintf(why, whylen, "the cache is off");
		return 0;
	}
	fd = open(c->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) || st.st_size <= 0 || st.st_size > MAX_ENTRY) {
		snprintf(why, whylen, "'%s' is not a file of ours with mode 0600: not used",
			 c->path);
		close(fd);
		return 0;
	}
	c->blob = malloc((size_t)st.st_size);
	got = c->blob ? read(fd, c->blob, (size_t)st.st_size) : -1;
	close(fd);
	if (got != st.st_size ||
	    bpfcache_parse(c->blob, (size_t)got, c->key, c->keylen, &c->img) != 0) {
		snprintf(why, whylen,
			 "'%s' does not match what is compiled, or is damaged: not used", c->path);
		free(c->blob);
		c->blob = NULL;
		return 0;
	}
	c->hit = true;
	return 1;
}

void bpfcache_prune(const char *path, const char *prefix, const char *suffix, int keep)
{
	char dir[PATH_MAX], file[PATH_MAX + 256], oldest[PATH_MAX + 256];
	const char *slash = strrchr(path, '/');
	struct dirent *d;
	struct stat st;
	struct timespec when = {0};
	int n;
	DIR *dp;

	if (!slash || (size_t)(slash - path) >= sizeof(dir))
		return;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	do {
		n = 0;
		oldest[0] = '\0';
		dp = opendir(dir);
		while (dp && (d = readdir(dp))) {
			size_t len = strlen(d->d_name), plen = strlen(prefix),
			       slen = strlen(suffix);

			if (len <= plen + slen || strncmp(d->d_name, prefix, plen) != 0 ||
			    strcmp(d->d_name + len - slen, suffix) != 0)
				continue;
			snprintf(file, sizeof(file), "%s/%s", dir, d->d_name);
			if (lstat(file, &st) != 0 || !S_ISREG(st.st_mode))
				continue;
			n++;
			if (!oldest[0] || st.st_mtim.tv_sec < when.tv_sec ||
			    (st.st_mtim.tv_sec == when.tv_sec &&
			     st.st_mtim.tv_nsec < when.tv_nsec)) {
				when = st.st_mtim;
				snprintf(oldest, sizeof(oldest), "%s", file);
			}
		}
		if (dp)
			closedir(dp);
	} while (n > keep && oldest[0] && unlink(oldest) == 0);
}

int bpfcache_put(const struct bpfcache *c, const struct tracer_bpf *tb)
{
	struct tracer_bpf_image img;
	int err;

	if (!c->path[0] || c->hit)
		return 0;
	err = tracer_bpf__image(tb, &img);
	if (err)
		return err;
	err = bpfcache_put_image(c, &img);
	tracer_bpf__image_free(&img);
	return err;
}

int bpfcache_put_image(const struct bpfcache *c, const struct tracer_bpf_image *img)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	struct payload_head head = {0};
	struct buf payload = {0}, entry = {0};
	char tmp[PATH_MAX + 16];
	uint32_t n;
	int fd, err, i;

	if (!c->path[0])
		return 0;
	memcpy(head.license, img->license, sizeof(head.license));
	head.license[sizeof(head.license) - 1] = '\0';
	head.kern_version = img->kern_version;
	head.ntables = (uint32_t)img->ntables;
	head.nfuncs = (uint32_t)img->nfuncs;
	put(&payload, &head, sizeof(head));
	put(&payload, img->tables, (size_t)img->ntables * sizeof(*img->tables));
	for (i = 0; i < img->nfuncs; i++) {
		struct func_head fh = {.size = img->funcs[i].size};

		memcpy(fh.name, img->funcs[i].name, sizeof(fh.name));
		put(&payload, &fh, sizeof(fh));
		put(&payload, img->funcs[i].insns, img->funcs[i].size);
	}
	put(&entry, MAGIC, strlen(MAGIC));
	n = (uint32_t)c->keylen;
	put(&entry, &n, sizeof(n));
	put(&entry, c->key, c->keylen);
	if (!payload.oom)
		SHA256((const unsigned char *)payload.p, payload.len, md);
	put(&entry, md, sizeof(md));
	n = (uint32_t)payload.len;
	put(&entry, &n, sizeof(n));
	put(&entry, payload.p, payload.len);
	free(payload.p);
	if (payload.oom || entry.oom) {
		free(entry.p);
		return -ENOMEM;
	}
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", c->path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	err = fd < 0 ? -errno : 0;
	if (!err && write(fd, entry.p, entry.len) != (ssize_t)entry.len)
		err = -EIO;
	if (fd >= 0 && close(fd) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, c->path) != 0)
		err = -errno;
	if (!err)
		bpfcache_prune(c->path, "", ".bpf", BPFCACHE_MAX_ENTRIES);
	if (err && fd >= 0)
		unlink(tmp);
	free(entry.p);
	return err;
}

void bpfcache_free(struct bpfcache *c)
{
	tracer_bpf__image_free(&c->img);
	free(c->blob);
	free(c->key);
	memset(c, 0, sizeof(*c));
}
