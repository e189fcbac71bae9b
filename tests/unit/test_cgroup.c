/* SPDX-License-Identifier: Apache-2.0 */
/* test_cgroup.c - the container and pod a cgroup path names, --cgroup's argument, ids to paths
 * on this machine's real hierarchy */
#include "cgroup.h"
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define POD "1b2c3d4e-5f60-4718-9a0b-1c2d3e4f5a6b"
#define POD_ "1b2c3d4e_5f60_4718_9a0b_1c2d3e4f5a6b"

/* path's runtime, container and pod as "runtime container pod" ('-' for none) */
static const char *parsed(const char *path)
{
	static char buf[256];
	struct cgroup_label l = {.path = (char *)path};

	cgroup_parse_path(&l);
	snprintf(buf, sizeof(buf), "%s %s %s", l.runtime[0] ? l.runtime : "-",
		 l.container[0] ? l.container : "-", l.pod[0] ? l.pod : "-");
	return buf;
}

static void test_parse(void)
{
	CHECK_STR(parsed("/"), "- - -");
	CHECK_STR(parsed("/user.slice/user-0.slice/session-3.scope"), "- - -");
	/* docker: systemd's driver, cgroupfs' */
	CHECK_STR(parsed("/system.slice/docker-" ID ".scope"), "docker " ID " -");
	CHECK_STR(parsed("/docker/" ID), "docker " ID " -");
	/* a cgroup the container made below its own is still the container's */
	CHECK_STR(parsed("/docker/" ID "/app"), "docker " ID " -");
	/* Kubernetes with systemd's driver: containerd and CRI-O */
	CHECK_STR(parsed("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" POD_
			 ".slice/cri-containerd-" ID ".scope"),
		  "containerd " ID " " POD);
	CHECK_STR(parsed("/kubepods.slice/kubepods-pod" POD_ ".slice/crio-" ID ".scope"),
		  "cri-o " ID " " POD);
	/* conmon's scope watches a container: it is none */
	CHECK_STR(parsed("/kubepods.slice/kubepods-pod" POD_ ".slice/crio-conmon-" ID ".scope"),
		  "- - " POD);
	/* cgroupfs' driver: the pod, then the bare id */
	CHECK_STR(parsed("/kubepods/burstable/pod" POD "/" ID), "kubernetes " ID " " POD);
	CHECK_STR(parsed("/kubepods/burstable/pod" POD), "- - " POD);
	/* podman: systemd's scope, cgroupfs' libpod_parent */
	CHECK_STR(parsed("/machine.slice/libpod-" ID ".scope"), "podman " ID " -");
	CHECK_STR(parsed("/libpod_parent/libpod-" ID), "podman " ID " -");
	CHECK_STR(parsed("/machine.slice/libpod-conmon-" ID ".scope"), "- - -");
	/* near misses: an id under no runtime's name, short, upper case; a pod UID malformed */
	CHECK_STR(parsed("/" ID), "- - -");
	CHECK_STR(parsed("/somewhere/" ID), "- - -");
	CHECK_STR(parsed("/system.slice/docker-0123.scope"), "- - -");
	CHECK_STR(parsed("/system.slice/docker-0123456789ABCDEF0123456789abcdef0123456789abcdef"
			 "0123456789abcdef.scope"),
		  "- - -");
	CHECK_STR(parsed("/kubepods/pod1b2c3d4e-5f60-4718-9a0b-1c2d3e4f5a6"), "- - -");
	CHECK_STR(parsed("/kubepods/pod1b2c3d4e-5f60-4718-9a0b_1c2d3e4f5a6b"), "- - -");
	CHECK_STR(parsed("//docker//" ID "/"), "docker " ID " -");
	CHECK_STR(parsed(""), "- - -");
}

static void test_describe(void)
{
	struct cgroup_label l = {.path = "/kubepods/burstable/pod" POD "/" ID};
	char buf[CGROUP_DESCRIBE_LEN], tiny[12];

	cgroup_parse_path(&l);
	cgroup_describe(&l, false, buf, sizeof(buf));
	CHECK_STR(buf, "container kubernetes " ID ", pod " POD);
	cgroup_describe(&l, true, buf, sizeof(buf));
	CHECK_STR(buf, "container kubernetes 0123456789ab, pod " POD);
	l = (struct cgroup_label){.path = "/user.slice/a\tb"};
	cgroup_describe(&l, true, buf, sizeof(buf));
	CHECK_STR(buf, "cgroup /user.slice/a?b");
	cgroup_describe(&l, true, tiny, sizeof(tiny));
	CHECK_STR(tiny, "cgroup /use");
	l.path = "/";
	cgroup_describe(&l, true, buf, sizeof(buf));
	CHECK_STR(buf, "");
	l.path = NULL;
	cgroup_describe(&l, true, buf, sizeof(buf));
	CHECK_STR(buf, "");
	cgroup_describe(NULL, true, buf, sizeof(buf));
	CHECK_STR(buf, "");
}

static void test_resolve(void)
{
	char root[4096], dir[4096], why[4096 + 96], want[8192];
	int err;

	/* this machine has a cgroup v2 hierarchy (the tests need it) */
	CHECK(cgroup_mount(root, sizeof(root)) == 0);
	CHECK(cgroup_resolve(root, dir, sizeof(dir), why, sizeof(why)) == 0);
	CHECK_STR(dir, root);
	/* "/" is the hierarchy's root, as /proc/PID/cgroup shows it */
	CHECK(cgroup_resolve("/", dir, sizeof(dir), why, sizeof(why)) == 0);
	CHECK_STR(dir, root);
	err = cgroup_resolve("/no-such-cgroup-here", dir, sizeof(dir), why, sizeof(why));
	CHECK(err == -ENOENT);
	snprintf(want, sizeof(want),
		 "no such cgroup (neither it nor %s/no-such-cgroup-here is a directory)", root);
	CHECK_STR(why, want);
	CHECK(cgroup_resolve("/tmp", dir, sizeof(dir), why, sizeof(why)) == -ENOENT);
	snprintf(want, sizeof(want), "not a cgroup v2 directory (cgroup v2 is mounted on %s)",
		 root);
	CHECK_STR(why, want);
	CHECK(cgroup_resolve("", dir, sizeof(dir), why, sizeof(why)) == -EINVAL);
	CHECK_STR(why, "empty path");
}

/* A cgroup made here: its id (the directory's inode) gives its path and what it names. */
static void test_ids(void)
{
	struct cgroups c = {0};
	const struct cgroup_label *l;
	char root[4096], top[4096 + 64], sub[8192], rel[256];
	struct stat st;

	CHECK(cgroup_mount(root, sizeof(root)) == 0);
	snprintf(rel, sizeof(rel), "/tracer-unit-%d", (int)getpid());
	snprintf(top, sizeof(top), "%s%s", root, rel);
	snprintf(sub, sizeof(sub), "%s/docker-%s.scope", top, ID);
	CHECK(mkdir(top, 0755) == 0 && mkdir(sub, 0755) == 0);
	CHECK(cgroups_get(&c, 0) == NULL);
	CHECK(stat(sub, &st) == 0);
	l = cgroups_get(&c, st.st_ino);
	CHECK(l && l->id == st.st_ino && l->path);
	if (l && l->path) {
		CHECK(!strncmp(l->path, rel, strlen(rel)));
		CHECK_STR(l->path + strlen(rel), "/docker-" ID ".scope");
		CHECK_STR(l->runtime, "docker");
		CHECK_STR(l->container, ID);
	}
	CHECK(c.walks == 1);
	/* found again without a walk; the root is "/" */
	CHECK(cgroups_get(&c, st.st_ino) == l && c.walks == 1);
	CHECK(stat(root, &st) == 0);
	l = cgroups_get(&c, st.st_ino);
	CHECK(l && l->path && !strcmp(l->path, "/") && c.walks == 1);
	/* an id no cgroup has: a label without a path, kept (walked once) */
	l = cgroups_get(&c, 0xfffffffffffull);
	CHECK(l && !l->path && c.walks == 2);
	CHECK(cgroups_get(&c, 0xfffffffffffull) == l && c.walks == 2);
	rmdir(sub);
	rmdir(top);
	cgroups_free(&c);
}

/* Cgroups told of as they were made, in any order: found by id without a walk, the path's
 * container read; a path cut by no NUL taken to its length. */
static void test_notes(void)
{
	struct cgroups c = {0};
	const struct cgroup_label *l;
	uint64_t ids[] = {50, 10, 30, 70, 20};
	char path[64];
	int i;

	for (i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "/made/%d", (int)ids[i]);
		cgroups_note(&c, ids[i], path, strlen(path));
	}
	cgroups_note(&c, 90, "/docker/" ID "garbage", strlen("/docker/" ID));
	cgroups_note(&c, 0, "/zero", 5); /* no id: left out */
	for (i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "/made/%d", (int)ids[i]);
		l = cgroups_get(&c, ids[i]);
		CHECK(l && l->id == ids[i] && l->path && !strcmp(l->path, path));
	}
	l = cgroups_get(&c, 90);
	CHECK(l && l->path && !strcmp(l->path, "/docker/" ID) && !strcmp(l->runtime, "docker"));
	CHECK(c.walks == 0 && c.n == 6);
	for (i = 1; i < c.n; i++)
		CHECK(c.v[i - 1].id < c.v[i].id);
	cgroups_free(&c);
}

int main(void)
{
	test_parse();
	test_describe();
	test_resolve();
	test_ids();
	test_notes();
	return check_done();
}
