/* SPDX-License-Identifier: Apache-2.0 */
/* kheaders.c - find kernel headers libbcc can compile against, and tell libbcc */
#include "kheaders.h"
#include "diag.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KCONFIG_H "/include/linux/kconfig.h"
#define AUTOCONF_H "/include/generated/autoconf.h"
#define HEADERS_PREFIX "linux-headers-"

static bool has_file(const char *dir, const char *rel)
{
	char path[PATH_MAX * 2];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", dir, rel);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

unsigned kheaders_version_code(const char *release)
{
	unsigned a = 0, b = 0, c = 0;

	if (sscanf(release, "%u.%u.%u", &a, &b, &c) < 2)
		return 0;
	return (a << 16) | (b << 8) | (c > 255 ? 255 : c);
}

static const char *kernel_arch(const char *machine)
{
	if (strcmp(machine, "x86_64") == 0 || (machine[0] == 'i' && strstr(machine, "86")))
		return "x86";
	if (strcmp(machine, "aarch64") == 0)
		return "arm64";
	return machine;
}

static const char *debian_arch(const char *machine)
{
	if (strcmp(machine, "x86_64") == 0)
		return "amd64";
	if (strcmp(machine, "aarch64") == 0)
		return "arm64";
	return machine;
}

/* Debian's "-<flavour>" half names its "-common" half in its Makefile: "include DIR/Makefile". */
static bool source_of_split(const char *build, char *source, size_t size)
{
	char path[PATH_MAX + 16], line[PATH_MAX + 32], dir[PATH_MAX];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/Makefile", build);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		size_t len;

		if (sscanf(line, "include %4095s", dir) != 1)
			continue;
		len = strlen(dir);
		if (len > 9 && strcmp(dir + len - 9, "/Makefile") == 0) {
			dir[len - 9] = '\0';
			if (has_file(dir, KCONFIG_H) && strlen(dir) < size) {
				strcpy(source, dir);
				found = true;
			}
		}
	}
	fclose(f);
	return found;
}

static void add_split_cflags(struct kheaders *kh)
{
	static const char *const rel[KHEADERS_MAX_CFLAGS] = {"arch/%s/include/generated/uapi",
							     "arch/%s/include/generated", "include",
							     "include/generated/uapi"};
	int i;

	for (i = 0; i < KHEADERS_MAX_CFLAGS; i++) {
		char sub[64];

		snprintf(sub, sizeof(sub), rel[i], kh->arch);
		snprintf(kh->cflags[i], sizeof(kh->cflags[i]), "-I%s/%s", kh->build, sub);
	}
	kh->ncflags = KHEADERS_MAX_CFLAGS;
}

/* Scans usr_src for the complete or split header tree nearest to `release`. */
static bool find_installed(const char *release, const char *usr_src, struct kheaders *kh)
{
	unsigned want = kheaders_version_code(release), best_dist = ~0u, best_code = 0;
	DIR *d = opendir(usr_src);
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while ((de = readdir(d))) {
		char build[PATH_MAX], source[PATH_MAX], arch_dir[PATH_MAX + 32];
		unsigned code, dist;
		struct stat st;

		if (strncmp(de->d_name, HEADERS_PREFIX, strlen(HEADERS_PREFIX)) != 0)
			continue;
		code = kheaders_version_code(de->d_name + strlen(HEADERS_PREFIX));
		if (!code || snprintf(build, sizeof(build), "%s/%s", usr_src, de->d_name) >=
				     (int)sizeof(build))
			continue;
		/* A tree we can use has generated headers for this architecture. */
		snprintf(arch_dir, sizeof(arch_dir), "%s/arch/%s", build, kh->arch);
		if (!has_file(build, AUTOCONF_H) || stat(arch_dir, &st) != 0)
			continue;
		if (has_file(build, KCONFIG_H))
			strcpy(source, build);
		else if (!source_of_split(build, source, sizeof(source)))
			continue;
		dist = code > want ? code - want : want - code;
		if (dist > best_dist || (dist == best_dist && code < best_code))
			continue;
		best_dist = dist;
		best_code = code;
		strcpy(kh->source, source);
		strcpy(kh->build, strcmp(source, build) == 0 ? "" : build);
		found = true;
	}
	closedir(d);
	return found;
}

int kheaders_find(const char *release, const char *machine, const char *lib_modules,
		  const char *usr_src, struct kheaders *kh)
{
	const char *env = getenv("BCC_KERNEL_SOURCE");
	char dir[PATH_MAX];

	memset(kh, 0, sizeof(*kh));
	snprintf(kh->arch, sizeof(kh->arch), "%s", kernel_arch(machine));

	if (env && *env) {
		snprintf(kh->desc, sizeof(kh->desc), "%s (from BCC_KERNEL_SOURCE)", env);
		snprintf(kh->source, sizeof(kh->source), "%s", env);
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s/%s/build", lib_modules, release);
	if (has_file(dir, KCONFIG_H)) {
		snprintf(kh->desc, sizeof(kh->desc), "%s", dir);
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s/%s/source", lib_modules, release);
	if (has_file(dir, KCONFIG_H)) {
		snprintf(kh->desc, sizeof(kh->desc), "%s", dir);
		return 0;
	}
	if (access("/sys/kernel/kheaders.tar.xz", R_OK) == 0) {
		snprintf(kh->desc, sizeof(kh->desc), "/sys/kernel/kheaders.tar.xz");
		return 0;
	}
	if (find_installed(release, usr_src, kh)) {
		if (kh->build[0]) {
			snprintf(kh->desc, sizeof(kh->desc), "%s + %s (installed, for Linux %s)",
				 kh->source, kh->build, release);
			add_split_cflags(kh);
		} else {
			snprintf(kh->desc, sizeof(kh->desc), "%s (installed, for Linux %s)",
				 kh->source, release);
		}
		return 0;
	}
	diag("no kernel headers found for Linux %s: looked in %s/%s/build, "
	     "/sys/kernel/kheaders.tar.xz and %s/linux-headers-*; install linux-headers-%s "
	     "(on Debian, linux-headers-%s works too: uprobe tracing needs no exact match)\n",
	     release, lib_modules, release, usr_src, release, debian_arch(machine));
	return -ENOENT;
}

int kheaders_apply(const struct kheaders *kh)
{
	if (!kh->source[0])
		return 0;
	return setenv("BCC_KERNEL_SOURCE", kh->source, 1) == 0 ? 0 : -errno;
}
