/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup.h - cgroup v2: its mount, the directory --cgroup names, the path of a cgroup id and
 * the container and pod a path names */
#ifndef TRACER_CGROUP_H
#define TRACER_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CGROUP_RUNTIME_LEN 16
#define CGROUP_CONTAINER_LEN 65 /* 64 hex digits */
#define CGROUP_POD_LEN 37	/* a UID: 8-4-4-4-12 hex digits */
#define CGROUP_DESCRIBE_LEN 512 /* room for cgroup_describe (a longer path is cut) */

/* What the tracer says of a thread's cgroup. */
struct cgroup_label {
	uint64_t id; /* the cgroup v2 id: its directory's inode number */
	char *path;  /* in the hierarchy, "/" its root ("/a/b"); NULL: not found (removed, or
		      * no cgroup v2 mounted) */
	char runtime[CGROUP_RUNTIME_LEN];     /* "docker", "containerd", "cri-o", "podman",
					       * "kubernetes" (a CRI not named); "" none */
	char container[CGROUP_CONTAINER_LEN]; /* its id; "" when the path names none */
	char pod[CGROUP_POD_LEN];	      /* Kubernetes pod UID; "" none */
};

/* Fills l's runtime, container and pod from l->path by the names runtimes give cgroups
 * (systemd's "docker-ID.scope", "cri-containerd-ID.scope", "crio-ID.scope",
 * "libpod-ID.scope", cgroupfs' "/docker/ID", "kubepods...podUID"); conmon's scopes are no
 * container. */
void cgroup_parse_path(struct cgroup_label *l);

/* "container docker 0123456789ab, pod UID", or "cgroup /a/b" when the path names no
 * container, into buf (the id whole unless short_id: its first 12 digits; bytes of the path
 * outside printable ASCII, and blanks, as '?'); "" for the root or an unknown path. */
void cgroup_describe(const struct cgroup_label *l, bool short_id, char *buf, size_t size);

/* The directory the cgroup v2 hierarchy is mounted on (from /proc/self/mountinfo) into buf;
 * 0, or -ENOENT when none is mounted. */
int cgroup_mount(char *buf, size_t size);

/*
 * --cgroup's argument into the directory of its cgroup: a cgroup v2 directory, or a path in
 * the hierarchy as /proc/PID/cgroup shows it ("/a/b"). 0, or -errno with why (for "invalid
 * --cgroup 'ARG': WHY").
 */
int cgroup_resolve(const char *arg, char *dir, size_t size, char *why, size_t why_size);

/* The labels of the cgroup ids events named (found by walking the hierarchy on a miss) and
 * of the cgroups made while tracing (cgroups_note), in id order. */
struct cgroups {
	struct cgroup_label *v; /* sorted by id */
	int n, cap;
	int last;	 /* the index found last: events come in runs of one process */
	char root[4096]; /* the hierarchy's mount; "" before the first walk */
	int walks;	 /* how many times it was walked (a miss walks it again) */
};

/* The label of cgroup id, valid until the next call; NULL for id 0 (unknown) or out of
 * memory. An id the walk did not find gets a label with a NULL path, kept: ids are never
 * reused. */
const struct cgroup_label *cgroups_get(struct cgroups *c, uint64_t id);

/* Cgroup id was made at path (len bytes, a NUL or not): its label, kept even once it is
 * removed (BPF tells of each cgroup made, TLS_KIND_CGROUP). */
void cgroups_note(struct cgroups *c, uint64_t id, const char *path, size_t len);

void cgroups_free(struct cgroups *c);

#endif
