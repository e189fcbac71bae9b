/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup.c - cgroup v2: its mount, the directory --cgroup names, the path of a cgroup id and
 * the container and pod a path names */
#define _GNU_SOURCE
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "grow.h"
#include "sorted.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CONTAINER_ID_LEN 64
#define POD_UID_LEN 36
#define WALK_MAX_DEPTH 64

/* ------------------------------------------------------------- names in a path */

static bool all_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* A systemd scope of a runtime: PREFIX + 64 hex digits + ".scope" (len: the name's). */
static bool scope_of(const char *name, size_t len, const char *prefix, const char **id)
{
	size_t p = strlen(prefix);

	if (len != p + CONTAINER_ID_LEN + strlen(".scope") || strncmp(name, prefix, p) ||
	    strncmp(name + p + CONTAINER_ID_LEN, ".scope", strlen(".scope")) ||
	    !all_hex(name + p, CONTAINER_ID_LEN))
		return false;
	*id = name + p;
	return true;
}

/* A pod's cgroup: cgroupfs' "pod" + UID, systemd's "kubepods[-QOS]-pod" + UID with '_'
 * for '-' + ".slice". Its UID into pod. */
static bool pod_of(const char *name, size_t len, char *pod)
{
	const char *at = NULL;
	char sep = '-', uid[POD_UID_LEN + 1]; /* sep: systemd's slice names write '_' */
	size_t i;

	if (len == 3 + POD_UID_LEN && !strncmp(name, "pod", 3)) {
		at = name + 3;
	} else if (len > 4 + POD_UID_LEN + 6 && !strncmp(name, "kubepods", 8) &&
		   !strncmp(name + len - 6, ".slice", 6) &&
		   !strncmp(name + len - 6 - POD_UID_LEN - 4, "-pod", 4)) {
		at = name + len - 6 - POD_UID_LEN;
		sep = '_';
	}
	if (!at)
		return false;
	for (i = 0; i < POD_UID_LEN; i++) {
		char ch = at[i] == sep ? '-' : at[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? ch != '-' : !all_hex(&ch, 1))
			return false;
		uid[i] = ch;
	}
	uid[POD_UID_LEN] = '\0';
	memcpy(pod, uid, sizeof(uid));
	return true;
}

static void set_container(struct cgroup_label *l, const char *runtime, const char *id)
{
	snprintf(l->runtime, sizeof(l->runtime), "%s", runtime);
	memcpy(l->container, id, CONTAINER_ID_LEN);
	l->container[CONTAINER_ID_LEN] = '\0';
}

void cgroup_parse_path(struct cgroup_label *l)
{
	static const struct {
		const char *prefix, *runtime;
	} scopes[] = {
		{"docker-", "docker"},
		{"cri-containerd-", "containerd"},
		{"crio-", "cri-o"},
		{"libpod-", "podman"},
	};
	const char *p = l->path, *end, *id, *parent = NULL;
	size_t len, parent_len = 0, i;

	l->runtime[0] = l->container[0] = l->pod[0] = '\0';
	while (p && *p) {
		while (*p == '/')
			p++;
		end = strchrnul(p, '/');
		len = (size_t)(end - p);
		pod_of(p, len, l->pod);
		for (i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++)
			if (scope_of(p, len, scopes[i].prefix, &id))
				set_container(l, scopes[i].runtime, id);
		/* cgroupfs: the bare id, below "docker" or a pod ("libpod-ID" above too) */
		if (len == CONTAINER_ID_LEN && all_hex(p, len) && parent)
			set_container(l,
				      parent_len == 6 && !strncmp(parent, "docker", 6) ? "docker"
				      : l->pod[0] ? "kubernetes"
						  : "",
				      p);
		if (len == 7 + CONTAINER_ID_LEN && !strncmp(p, "libpod-", 7) &&
		    all_hex(p + 7, CONTAINER_ID_LEN))
			set_container(l, "podman", p + 7);
		if (len) {
			parent = p;
			parent_len = len;
		}
		p = end;
	}
	if (l->container[0] && !l->runtime[0])
		l->container[0] = '\0'; /* 64 hex digits under no runtime's name: not told */
}

void cgroup_describe(const struct cgroup_label *l, bool short_id, char *buf, size_t size)
{
	size_t n = 0, i;

	buf[0] = '\0';
	if (!l || !l->path || !strcmp(l->path, "/"))
		return;
	if (l->container[0]) {
		n = (size_t)snprintf(buf, size, "container %s %.*s", l->runtime,
				     short_id ? 12 : CONTAINER_ID_LEN, l->container);
	} else {
		n = (size_t)snprintf(buf, size, "cgroup ");
		for (i = 0; l->path[i] && n + 1 < size; i++)
			buf[n++] = l->path[i] > ' ' && l->path[i] < 0x7f ? l->path[i] : '?';
		buf[n < size ? n : size - 1] = '\0';
	}
	if (l->pod[0] && n < size)
		snprintf(buf + n, size - n, ", pod %s", l->pod);
}

/* ------------------------------------------------------------- the hierarchy */

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

int cgroup_mount(char *buf, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, *sep, point[4096];
	size_t cap = 0;
	int err = -ENOENT;

	if (!f)
		return -errno;
	/* "36 35 0:30 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw" */
	while (err && getline(&line, &cap, f) > 0) {
		sep = strstr(line, " - cgroup2 ");
		if (sep && sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1) {
			unescape(point);
			if ((size_t)snprintf(buf, size, "%s", point) < size)
				err = 0;
		}
	}
	free(line);
	fclose(f);
	return err;
}

static bool is_cgroup2_dir(const char *path)
{
	struct statfs fs;
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode) && !statfs(path, &fs) &&
	       fs.f_type == CGROUP2_SUPER_MAGIC;
}

int cgroup_resolve(const char *arg, char *dir, size_t size, char *why, size_t why_size)
{
	char root[4096], joined[8192], resolved[PATH_MAX];
	bool have_root = !cgroup_mount(root, sizeof(root));

	if (!arg[0]) {
		snprintf(why, why_size, "empty path");
		return -EINVAL;
	}
	if (!have_root) {
		snprintf(why, why_size, "no cgroup v2 hierarchy is mounted (mount -t cgroup2)");
		return -ENOENT;
	}
	snprintf(joined, sizeof(joined), "%s/%s", root, arg);
	if (is_cgroup2_dir(arg) && realpath(arg, resolved)) {
		/* a directory on the hierarchy */
	} else if (arg[0] == '/' && is_cgroup2_dir(joined) && realpath(joined, resolved)) {
		/* a path in the hierarchy, as /proc/PID/cgroup shows it */
	} else {
		if (access(arg, F_OK) == 0)
			snprintf(why, why_size,
				 "not a cgroup v2 directory (cgroup v2 is mounted on %s)", root);
		else
			snprintf(why, why_size,
				 "no such cgroup (neither it nor %s/%s is a directory)", root,
				 arg[0] == '/' ? arg + 1 : arg);
		return -ENOENT;
	}
	if ((size_t)snprintf(dir, size, "%s", resolved) >= size) {
		snprintf(why, why_size, "path too long");
		return -ENAMETOOLONG;
	}
	return 0;
}

/* ------------------------------------------------------------- ids to labels */

/* The index of the first label whose id is not below id (c->v is sorted by id). */
static int lower_bound(const struct cgroups *c, uint64_t id)
{
	_Static_assert(sizeof(c->v->id) == sizeof(uint64_t), "a uint64_t key");
	return sorted_lower_bound(c->v, c->n, sizeof(*c->v), offsetof(__typeof__(*c->v), id), id);
}

static struct cgroup_label *find(struct cgroups *c, uint64_t id)
{
	int i;

	if (c->last < c->n && c->v[c->last].id == id)
		return &c->v[c->last];
	i = lower_bound(c, id);
	if (i == c->n || c->v[i].id != id)
		return NULL;
	c->last = i;
	return &c->v[i];
}

/* Adds (or completes) the label of id at path, len bytes (NULL: not found), in id order (ids
 * grow as cgroups are made, so a new one mostly goes last); NULL when out of memory. */
static struct cgroup_label *add(struct cgroups *c, uint64_t id, const char *path, size_t len)
{
	int at = lower_bound(c, id);
	struct cgroup_label *l = at < c->n && c->v[at].id == id ? &c->v[at] : NULL;
	char *copy = path && (!l || !l->path) ? strndup(path, len) : NULL;

	if (path && (!l || !l->path) && !copy)
		return NULL; /* no label without its path: it is looked for again */
	if (!l) {
		struct cgroup_label *grown = grow_for(c->v, c->n, &c->cap, sizeof(*grown), 16);

		if (!grown) {
			free(copy);
			return NULL;
		}
		c->v = grown;
		memmove(&c->v[at + 1], &c->v[at], (size_t)(c->n - at) * sizeof(*l));
		c->n++;
		l = &c->v[at];
		memset(l, 0, sizeof(*l));
		l->id = id;
	}
	c->last = at;
	if (copy) {
		l->path = copy;
		cgroup_parse_path(l);
	}
	return l;
}

/* Adds every cgroup below directory fd (rel: its path in the hierarchy; fd is closed). */
static void walk(struct cgroups *c, int fd, const char *rel, int depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	char sub[8192];
	int subfd;

	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", rel[1] ? rel : "", de->d_name) >=
		    sizeof(sub))
			continue;
		add(c, de->d_ino, sub,
		    strlen(sub)); /* cgroupfs' d_ino is the inode number: the id */
		if (depth < WALK_MAX_DEPTH &&
		    (subfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
			walk(c, subfd, sub, depth + 1);
	}
	closedir(d);
}

static void walk_all(struct cgroups *c)
{
	struct stat st;
	int fd;

	if (!c->root[0] && cgroup_mount(c->root, sizeof(c->root)))
		return;
	c->walks++;
	fd = open(c->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (!fstat(fd, &st))
		add(c, st.st_ino, "/", 1);
	walk(c, fd, "/", 0);
}

const struct cgroup_label *cgroups_get(struct cgroups *c, uint64_t id)
{
	struct cgroup_label *l;

	if (!id)
		return NULL;
	if ((l = find(c, id)))
		return l;
	walk_all(c);
	if ((l = find(c, id)))
		return l;
	return add(c, id, NULL, 0);
}

void cgroups_note(struct cgroups *c, uint64_t id, const char *path, size_t len)
{
	if (id && len)
		add(c, id, path, strnlen(path, len));
}

void cgroups_free(struct cgroups *c)
{
	int i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].path);
	free(c->v);
	memset(c, 0, sizeof(*c));
}
