/* sources.c - locate bpf_src/ and probe_specs/, and read the BPF C sources */
#include "sources.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int sources_find_dir(const char *name, const char *override, char *out, size_t size, FILE *errs)
{
	char exe[PATH_MAX], cand[2][PATH_MAX + 64], *slash;
	ssize_t len;
	int i;

	if (override) {
		if (!is_dir(override) || !realpath(override, exe) || strlen(exe) >= size) {
			fprintf(errs, "cannot use %s directory '%s': %s\n", name, override,
				errno ? strerror(errno) : "not a directory");
			return -ENOENT;
		}
		strcpy(out, exe);
		return 0;
	}
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len < 0) {
		fprintf(errs, "cannot find the tracer's own executable: %s\n", strerror(errno));
		return -errno;
	}
	exe[len] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	snprintf(cand[0], sizeof(cand[0]), "%s/%s", exe, name);
	snprintf(cand[1], sizeof(cand[1]), "%s/../share/tracer/%s", exe, name);
	for (i = 0; i < 2; i++) {
		if (is_dir(cand[i]) && realpath(cand[i], exe) && strlen(exe) < size) {
			strcpy(out, exe);
			return 0;
		}
	}
	fprintf(errs, "cannot find the %s directory: looked in '%s' and '%s'; give --%s DIR\n",
		name, cand[0], cand[1], strcmp(name, "bpf_src") == 0 ? "bpf-src" : "probe-specs");
	return -ENOENT;
}

static int c_filter(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return d->d_name[0] != '.' && len > 2 && strcmp(d->d_name + len - 2, ".c") == 0;
}

/* Appends the file `path` to the growing text, after a #line directive. */
static int append_file(const char *path, char **text, size_t *len, FILE *errs)
{
	char header[PATH_MAX + 32];
	FILE *f = fopen(path, "re");
	size_t hlen;
	long size;
	char *grown;

	if (!f) {
		fprintf(errs, "failed to read BPF source '%s': %s\n", path, strerror(errno));
		return -errno;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		int e = errno;

		fprintf(errs, "failed to read BPF source '%s': %s\n", path, strerror(e));
		fclose(f);
		return -e;
	}
	hlen = (size_t)snprintf(header, sizeof(header), "#line 1 \"%s\"\n", path);
	grown = realloc(*text, *len + hlen + (size_t)size + 2);
	if (!grown) {
		fclose(f);
		return -ENOMEM;
	}
	*text = grown;
	memcpy(*text + *len, header, hlen);
	*len += hlen;
	if (fread(*text + *len, 1, (size_t)size, f) != (size_t)size) {
		fprintf(errs, "failed to read BPF source '%s': short read\n", path);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*len += (size_t)size;
	(*text)[(*len)++] = '\n';
	(*text)[*len] = '\0';
	return 0;
}

int sources_read_bpf(const char *dir, char **out, FILE *errs)
{
	struct dirent **names = NULL;
	char *text = NULL;
	size_t len = 0;
	int n, i, err = 0;

	n = scandir(dir, &names, c_filter, alphasort);
	if (n < 0) {
		err = -errno;
		fprintf(errs, "failed to read BPF source directory '%s': %s\n", dir,
			strerror(-err));
		return err;
	}
	if (n == 0) {
		fprintf(errs, "no BPF sources in '%s': want at least one *.c file\n", dir);
		err = -ENOENT;
	}
	for (i = 0; i < n; i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (!err && strchr(path, '"')) {
			fprintf(errs, "BPF source path '%s' contains a '\"'\n", path);
			err = -EINVAL;
		}
		if (!err)
			err = append_file(path, &text, &len, errs);
		free(names[i]);
	}
	free(names);
	if (err) {
		free(text);
		return err;
	}
	*out = text;
	return 0;
}
