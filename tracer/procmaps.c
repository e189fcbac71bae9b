/* SPDX-License-Identifier: Apache-2.0 */
/* procmaps.c - what /proc says of processes: file mappings, names, parents */
#include "procmaps.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define DELETED_SUFFIX " (deleted)"

int maps_parse_line(const char *line, struct map_entry *out)
{
	unsigned long long start, end, offset, inode;
	char perms[5], dev[16];
	int consumed = 0;
	const char *path;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (sscanf(line, "%llx-%llx %4s %llx %15s %llu %n", &start, &end, perms, &offset, dev,
		   &inode, &consumed) < 6 ||
	    consumed == 0 || start >= end)
		return -1;
	path = line + consumed;
	len = strcspn(path, "\n");
	if (len == 0 || path[0] != '/')
		return 0;
	out->start = start;
	out->end = end;
	out->offset = offset;
	out->inode = inode;
	memcpy(out->perms, perms, sizeof(out->perms));
	if (len > strlen(DELETED_SUFFIX) && strncmp(path + len - strlen(DELETED_SUFFIX),
						    DELETED_SUFFIX, strlen(DELETED_SUFFIX)) == 0) {
		out->deleted = true;
		len -= strlen(DELETED_SUFFIX);
	}
	out->path = strndup(path, len);
	return out->path ? 1 : -1;
}

int maps_read(FILE *f, struct maps *m)
{
	char *line = NULL;
	size_t cap = 0;
	int err = 0;

	m->e = NULL;
	m->n = 0;
	while (getline(&line, &cap, f) > 0) {
		struct map_entry e, *grown;

		if (maps_parse_line(line, &e) != 1)
			continue;
		grown = realloc(m->e, (m->n + 1) * sizeof(*grown));
		if (!grown) {
			free(e.path);
			err = -ENOMEM;
			break;
		}
		m->e = grown;
		m->e[m->n++] = e;
	}
	free(line);
	if (err)
		maps_free(m);
	return err;
}

int maps_load(pid_t pid, struct maps *m)
{
	char path[64];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	err = maps_read(f, m);
	fclose(f);
	return err;
}

void maps_free(struct maps *m)
{
	int i;

	for (i = 0; i < m->n; i++)
		free(m->e[i].path);
	free(m->e);
	m->e = NULL;
	m->n = 0;
}

bool maps_library_matches(const char *path, const char *name)
{
	const char *base = strrchr(path, '/');
	size_t nlen = strlen(name);

	base = base ? base + 1 : path;
	if (strncmp(base, "lib", 3) != 0 || strncmp(base + 3, name, nlen) != 0)
		return false;
	base += 3 + nlen;
	return strncmp(base, ".so", 3) == 0 && (base[3] == '\0' || base[3] == '.');
}

const struct map_entry *maps_find_library(const struct maps *m, const char *lib)
{
	int i;

	for (i = 0; i < m->n; i++) {
		const char *p = m->e[i].path;

		if (lib[0] == '/' ? strcmp(p, lib) == 0 : maps_library_matches(p, lib))
			return &m->e[i];
	}
	return NULL;
}

int proc_parse_stat(const char *text, struct proc_stat *out)
{
	const char *close = strrchr(text, ')');
	int ppid, n;

	/* "pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
	 * utime stime cutime cstime priority nice num_threads itrealvalue starttime ..." */
	out->start = 0;
	if (!close)
		return -EINVAL;
	n = sscanf(close + 1,
		   " %c %d %*d %*d %*d %*d %u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d"
		   " %*d %llu",
		   &out->state, &ppid, &out->flags, &out->start);
	if (n < 3)
		return -EINVAL;
	out->ppid = (pid_t)ppid;
	return 0;
}

int proc_read_stat(pid_t pid, struct proc_stat *out)
{
	char path[64], text[1024];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -ESRCH;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return n ? proc_parse_stat(text, out) : -ESRCH;
}

bool proc_alive(pid_t pid)
{
	struct proc_stat st;

	return proc_read_stat(pid, &st) == 0 && st.state != 'Z' && st.state != 'X';
}

bool proc_exiting(pid_t pid)
{
	struct proc_stat st;

	return proc_read_stat(pid, &st) != 0 || (st.flags & PROC_PF_EXITING);
}

unsigned long long proc_read_start(pid_t pid)
{
	struct proc_stat st;

	return proc_read_stat(pid, &st) == 0 ? st.start : 0;
}

pid_t proc_read_tgid(pid_t pid)
{
	char path[64], line[128];
	pid_t tgid = -ESRCH;
	int v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &v) == 1) {
			tgid = v;
			break;
		}
	if (f)
		fclose(f);
	return tgid;
}

int proc_read_comm(pid_t pid, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, (int)size, f)) {
		if (f)
			fclose(f);
		snprintf(buf, size, "?");
		return -ESRCH;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

void proc_list_load(struct proc_list *pl)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	pl->pid = pl->ppid = NULL;
	pl->n = 0;
	while (d && (de = readdir(d))) {
		struct proc_stat st;
		pid_t *a, *b;
		pid_t pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atoi(de->d_name);
		if (proc_read_stat(pid, &st) || (st.flags & PROC_PF_KTHREAD))
			continue;
		a = realloc(pl->pid, (pl->n + 1) * sizeof(*a));
		if (a)
			pl->pid = a;
		b = realloc(pl->ppid, (pl->n + 1) * sizeof(*b));
		if (b)
			pl->ppid = b;
		if (!a || !b)
			break;
		pl->pid[pl->n] = pid;
		pl->ppid[pl->n++] = st.ppid;
	}
	if (d)
		closedir(d);
}

void proc_list_free(struct proc_list *pl)
{
	free(pl->pid);
	free(pl->ppid);
}
