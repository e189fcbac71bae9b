/* SPDX-License-Identifier: Apache-2.0 */
/* filemarks.c - the files told to BPF as looked at (tls_files): plain, or TLS code probed */
#define _GNU_SOURCE
#include "filemarks.h"
#include "grow.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procmaps.h"
#include "tracer_bpf.h"

/* What the set found the file of (dev, ino) to be. */
static uint8_t file_kind(const struct probe_set *set, dev_t dev, ino_t ino)
{
	int i;

	for (i = 0; i < set->nfiles; i++)
		if (set->files[i].dev == dev && set->files[i].ino == ino && set->files[i].tls)
			return TLS_FILE_TLS;
	return TLS_FILE_PLAIN;
}

/* Tells BPF the file at `path` was looked at (kind TLS_FILE_*), once. */
static void mark(struct file_marks *fm, struct tracer_bpf *tb, const struct probe_set *set,
		 const char *path)
{
	struct tls_file_key key, *grown;
	struct stat st;
	uint8_t kind;
	int i;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	key.ino = (uint64_t)st.st_ino;
	key.size = (uint64_t)st.st_size;
	kind = file_kind(set, st.st_dev, st.st_ino);
	for (i = 0; i < fm->n; i++)
		if (fm->keys[i].ino == key.ino && fm->keys[i].size == key.size &&
		    kind == TLS_FILE_PLAIN)
			return; /* told (a TLS file is told again: a reload may have found it) */
	if (tracer_bpf__update_key(tb, FILES_TABLE, &key, sizeof(key), &kind, sizeof(kind)))
		return; /* no such map, or full: the process stays pending until settled */
	for (i = 0; i < fm->n; i++)
		if (fm->keys[i].ino == key.ino && fm->keys[i].size == key.size)
			return;
	grown = grow_for(fm->keys, fm->n, &fm->cap, sizeof(*fm->keys), 64);
	if (!grown)
		return;
	fm->keys = grown;
	fm->keys[fm->n++] = key;
}

/* Tells BPF every file process pid maps executable (and its program) was looked at. */
void file_marks_process(struct file_marks *fm, struct tracer_bpf *tb, const struct probe_set *set,
			pid_t pid)
{
	char path[PATH_MAX + 64];
	struct maps maps;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	mark(fm, tb, set, path);
	if (maps_load(pid, &maps))
		return;
	for (i = 0; i < maps.n; i++) {
		const struct map_entry *m = &maps.e[i];

		if (m->perms[2] != 'x' || m->path[0] != '/')
			continue;
		if (m->deleted)
			snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64,
				 (int)pid, m->start, m->end);
		else
			snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, m->path);
		mark(fm, tb, set, path);
	}
	maps_free(&maps);
}

/* Tells BPF the TLS files of the set (the ld.so cache's, a program found by its path). */
void file_marks_tls(struct file_marks *fm, struct tracer_bpf *tb, const struct probe_set *set)
{
	const struct resolved_probe *rp;
	int i;

	for (i = 0; i < set->nfiles; i++)
		if ((rp = probes_file_first(set, i)))
			mark(fm, tb, set,
			     access(rp->open_path, F_OK) == 0 ? rp->open_path : rp->lib_path);
}

void file_marks_free(struct file_marks *fm)
{
	free(fm->keys);
	memset(fm, 0, sizeof(*fm));
}
