/* SPDX-License-Identifier: Apache-2.0 */
/* nosymcache.c - what nosym_find found in a build, remembered by its build id */
#include "nosymcache.h"
#include "bpfcache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The first line of a cache file, with the version of its format: a file of another
 * version (an older tracer's, whose searches found less) is not read. */
#define FORMAT "# tracer nosym 3:"

/* The cache file of build_id into path; -ENOENT when there is no cache or no build id. */
static int cache_path(const char *build_id, char *path, size_t size)
{
	char dir[PATH_MAX];

	if (!build_id[0] || strspn(build_id, "0123456789abcdef") != strlen(build_id))
		return -ENOENT;
	bpfcache_dir(dir, sizeof(dir));
	if (!dir[0])
		return -ENOENT;
	if ((size_t)snprintf(path, size, "%s/nosym-%s", dir, build_id) >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* The cache file opened for reading when it is ours: a regular file of the effective user,
 * mode 0600 (as bpfcache's entries); else NULL. */
static FILE *open_ours(const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	FILE *f;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) || !(f = fdopen(fd, "r"))) {
		close(fd);
		return NULL;
	}
	return f;
}

int nosymcache_load(const char *build_id, const char *const *names, int n, struct nosym_found *out)
{
	char path[PATH_MAX], line[512], name[128], what[16];
	unsigned long long entry, site;
	int i, have = 0, used;
	FILE *f;

	if (cache_path(build_id, path, sizeof(path)) || !(f = open_ours(path)))
		return -ENOENT;
	if (!fgets(line, sizeof(line), f) || strncmp(line, FORMAT, strlen(FORMAT)) != 0) {
		fclose(f); /* another version's: what it found (or not) is searched anew */
		return -ENOENT;
	}
	for (i = 0; i < n; i++)
		out[i] = (struct nosym_found){.err = 1}; /* 1: not in the file */
	while (fgets(line, sizeof(line), f)) {
		struct nosym_found r = {.err = -EINVAL};

		used = 0;
		if (line[0] == '#' || sscanf(line, "%127s %15s %n", name, what, &used) != 2)
			continue;
		if (sscanf(line, "%*s 0x%llx 0x%llx", &entry, &site) == 2) {
			const char *checks = strstr(line, " checks 0x");

			r = (struct nosym_found){.entry = entry,
						 .site = site,
						 .how = strstr(line, " named")	  ? NOSYM_BY_CALLERS
							: strstr(line, " vtable") ? NOSYM_BY_VTABLE
							: checks		  ? NOSYM_BY_CHECKS
								 : NOSYM_BY_ERRSITES,
						 .end = checks ? strtoull(checks + 8, NULL, 16)
							       : 0};
		} else if (strcmp(what, "none") == 0) {
			r.err = -ENOENT;
		} else if (strcmp(what, "unsure") == 0) {
			snprintf(r.why, sizeof(r.why), "%.*s", (int)strcspn(line + used, "\n"),
				 line + used);
		} else {
			continue;
		}
		for (i = 0; i < n; i++)
			if (out[i].err == 1 && strcmp(names[i], name) == 0) {
				out[i] = r;
				have++;
			}
	}
	if (have == n)
		futimens(fileno(f), NULL); /* used: the last to go when the cache is pruned */
	fclose(f);
	return have == n ? 0 : -ENOENT;
}

int nosymcache_save(const char *build_id, const char *const *names, int n,
		    const struct nosym_found *out)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	int fd, i, err;
	FILE *f;

	err = cache_path(build_id, path, sizeof(path));
	if (err)
		return err;
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkstemp(tmp); /* 0600 */
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		unlink(tmp);
		return err;
	}
	fprintf(f,
		"%s functions found without symbols in build %s (verified when used; "
		"delete freely)\n",
		FORMAT, build_id);
	for (i = 0; i < n; i++) {
		if (out[i].err == 0 && out[i].how == NOSYM_BY_CHECKS)
			fprintf(f, "%s 0x%llx 0x%llx checks 0x%llx\n", names[i],
				(unsigned long long)out[i].entry, (unsigned long long)out[i].site,
				(unsigned long long)out[i].end);
		else if (out[i].err == 0)
			fprintf(f, "%s 0x%llx 0x%llx%s\n", names[i],
				(unsigned long long)out[i].entry, (unsigned long long)out[i].site,
				out[i].how == NOSYM_BY_CALLERS	? " named"
				: out[i].how == NOSYM_BY_VTABLE ? " vtable"
								: "");
		else if (out[i].err == -ENOENT)
			fprintf(f, "%s none\n", names[i]);
		else
			fprintf(f, "%s unsure %s\n", names[i], out[i].why);
	}
	err = fclose(f) != 0 ? -errno : 0;
	if (!err && rename(tmp, path) != 0)
		err = -errno;
	if (err)
		unlink(tmp);
	else
		bpfcache_prune(path, "nosym-", "", NOSYMCACHE_MAX_ENTRIES);
	return err;
}
