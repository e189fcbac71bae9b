/* SPDX-License-Identifier: Apache-2.0 */
/* sources.c - locate bpf_src/ and probe_specs/, and read the BPF C sources */
#include "sources.h"
#include "diag.h"
#include "regular.h"

#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int sources_find_dir(const char *name, const char *override, char *out, size_t size)
{
	char exe[PATH_MAX], cand[2][PATH_MAX + 64], *slash;
	ssize_t len;
	int i;

	if (override) {
		errno = 0; /* stays 0 for a path that exists but is no directory */
		if (!is_dir(override) || !realpath(override, exe) || strlen(exe) >= size) {
			diag("cannot use %s directory '%s': %s\n", name, override,
			     errno ? strerror(errno) : "not a directory");
			return -ENOENT;
		}
		strcpy(out, exe);
		return 0;
	}
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len < 0) {
		diag("cannot find the tracer's own executable: %s\n", strerror(errno));
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
	diag("cannot find the %s directory: looked in '%s' and '%s'; give --%s DIR\n", name,
	     cand[0], cand[1], strcmp(name, "bpf_src") == 0 ? "bpf-src" : "probe-specs");
	return -ENOENT;
}

static int c_filter(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return d->d_name[0] != '.' && len > 2 && strcmp(d->d_name + len - 2, ".c") == 0;
}

/* Whether `line` (len bytes, no newline) starts a TRACEPOINT_PROBE or RAW_TRACEPOINT_PROBE
 * (blanks before it allowed) and does not continue onto the next line (a macro's body). */
static bool starts_tracepoint_probe(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (len && line[len - 1] == '\\')
		return false;
	return (len - i >= 17 && memcmp(line + i, "TRACEPOINT_PROBE(", 17) == 0) ||
	       (len - i >= 21 && memcmp(line + i, "RAW_TRACEPOINT_PROBE(", 21) == 0);
}

const char *sources_next_kernel_function(const char *text, char *name, size_t size)
{
	static const char *const macros[] = {"KFUNC_PROBE(", "KRETFUNC_PROBE("};
	const char *p = text, *best, *hit, *start;
	size_t i, len;

	for (;;) {
		best = NULL;
		for (i = 0; i < 2; i++) {
			hit = strstr(p, macros[i]);
			if (hit && (!best || hit < best)) {
				best = hit;
				len = strlen(macros[i]);
			}
		}
		if (!best)
			return NULL;
		p = best + len;
		/* a whole word: not MY_KFUNC_PROBE( */
		if (best > text && (isalnum((unsigned char)best[-1]) || best[-1] == '_'))
			continue;
		while (*p == ' ' || *p == '\t')
			p++;
		start = p;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		if (p == start) /* the macro's own definition, or "event" */
			continue;
		len = (size_t)(p - start) < size ? (size_t)(p - start) : size - 1;
		memcpy(name, start, len);
		name[len] = '\0';
		return p;
	}
}

/* Appends `n` bytes to the growing text. */
static int append(char **text, size_t *len, size_t *cap, const char *s, size_t n)
{
	char *grown;

	if (*len + n + 2 > *cap) {
		size_t want = (*len + n + 2) * 2;

		grown = realloc(*text, want);
		if (!grown)
			return -ENOMEM;
		*text = grown;
		*cap = want;
	}
	memcpy(*text + *len, s, n);
	*len += n;
	(*text)[*len] = '\0';
	return 0;
}

/*
 * Appends the file `path` to the growing text, after a #line directive. libbcc writes the
 * struct of a TRACEPOINT_PROBE's arguments (a dozen lines) in front of it, which would push
 * every later line of the file down in the compiler's messages: a #line directive after
 * each such line sets the count right again.
 */
static int append_file(const char *path, char **text, size_t *len, size_t *cap)
{
	char header[PATH_MAX + 32];
	FILE *f = fopen_regular(path);
	char *line = NULL;
	size_t linecap = 0;
	ssize_t n;
	int lineno = 0, err;

	if (!f) {
		int e = errno;

		diag("failed to read BPF source '%s': %s\n", path, file_error(e));
		return -e;
	}
	snprintf(header, sizeof(header), "#line 1 \"%s\"\n", path);
	err = append(text, len, cap, header, strlen(header));
	while (!err && (errno = 0, n = getline(&line, &linecap, f)) > 0) {
		size_t body = (size_t)n - (line[n - 1] == '\n');

		lineno++;
		err = append(text, len, cap, line, (size_t)n);
		if (!err && line[n - 1] != '\n')
			err = append(text, len, cap, "\n", 1);
		if (!err && starts_tracepoint_probe(line, body)) {
			snprintf(header, sizeof(header), "#line %d \"%s\"\n", lineno + 1, path);
			err = append(text, len, cap, header, strlen(header));
		}
	}
	if (!err && errno) {
		err = -errno;
		diag("failed to read BPF source '%s': %s\n", path, strerror(errno));
	}
	free(line);
	fclose(f);
	if (!err)
		err = append(text, len, cap, "\n", 1);
	return err;
}

int sources_read_bpf(const char *dir, char **out)
{
	struct dirent **names = NULL;
	char *text = NULL;
	size_t len = 0, cap = 0;
	int n, i, err = 0;

	n = scandir(dir, &names, c_filter, alphasort);
	if (n < 0) {
		err = -errno;
		diag("failed to read BPF source directory '%s': %s\n", dir, strerror(-err));
		return err;
	}
	if (n == 0) {
		diag("no BPF sources in '%s': want at least one *.c file\n", dir);
		err = -ENOENT;
	}
	for (i = 0; i < n; i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (!err && strchr(path, '"')) {
			diag("BPF source path '%s' contains a '\"'\n", path);
			err = -EINVAL;
		}
		if (!err)
			err = append_file(path, &text, &len, &cap);
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

/* *.c and *.h (bpf_src) or *.spec (probe_specs): what the tracer reads there. */
static int source_filter(const struct dirent *d)
{
	size_t len = strlen(d->d_name);
	const char *ext = strrchr(d->d_name, '.');

	return d->d_name[0] != '.' && ext && len > strlen(ext) &&
	       (strcmp(ext, ".c") == 0 || strcmp(ext, ".h") == 0 || strcmp(ext, ".spec") == 0);
}

/* Copies file `from` to `to`, which must not exist, as mode 0644. */
static int copy_file(const char *from, const char *to)
{
	char buf[8192];
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, err = 0;
	ssize_t n;

	if (in >= 0)
		out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 || write(out, buf, (size_t)n) != n) {
			err = errno ? -errno : -EIO;
			break;
		}
	}
	if (in < 0 || out < 0)
		err = -errno;
	if (out >= 0 && close(out) != 0 && !err)
		err = -errno;
	if (in >= 0)
		close(in);
	if (err)
		diag("failed to copy '%s' to '%s': %s\n", from, to, strerror(-err));
	return err;
}

/* Copies the files of shipped directory `name` into dir/name; returns how many, or -errno. */
static int copy_dir(const char *name, const char *dir, char *dest, size_t size)
{
	char src[PATH_MAX], from[PATH_MAX + 256], to[PATH_MAX + 256];
	struct dirent **names = NULL;
	int n, i, err;

	err = sources_find_dir(name, NULL, src, sizeof(src));
	if (err)
		return err;
	snprintf(dest, size, "%s/%s", dir, name);
	if (mkdir(dest, 0755) != 0) {
		err = -errno;
		diag("cannot create '%s': %s%s\n", dest, strerror(errno),
		     errno == EEXIST ? " (it is never overwritten: choose another DIR)" : "");
		return err;
	}
	n = scandir(src, &names, source_filter, alphasort);
	if (n < 0) {
		err = -errno;
		diag("failed to read '%s': %s\n", src, strerror(errno));
		return err;
	}
	for (i = 0; i < n; i++) {
		snprintf(from, sizeof(from), "%s/%s", src, names[i]->d_name);
		snprintf(to, sizeof(to), "%s/%s", dest, names[i]->d_name);
		if (!err)
			err = copy_file(from, to);
		free(names[i]);
	}
	free(names);
	return err ? err : n;
}

int sources_init_probes(const char *dir, FILE *out)
{
	char bpf[PATH_MAX + 16], specs[PATH_MAX + 16];
	int nbpf, nspecs;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		diag("cannot create '%s': %s\n", dir, strerror(errno));
		return -errno;
	}
	nbpf = copy_dir("bpf_src", dir, bpf, sizeof(bpf));
	if (nbpf < 0)
		return nbpf;
	nspecs = copy_dir("probe_specs", dir, specs, sizeof(specs));
	if (nspecs < 0)
		return nspecs;
	fprintf(out,
		"Copied %d BPF sources to '%s' and %d probe specs to '%s'.\n"
		"Check them with:  tracer --check --bpf-src %s --probe-specs %s\n"
		"Trace with them:  tracer --bpf-src %s --probe-specs %s PID\n"
		"(saved edits are reloaded while tracing; see docs/TUTORIAL.md)\n",
		nbpf, bpf, nspecs, specs, bpf, specs, bpf, specs);
	return 0;
}
