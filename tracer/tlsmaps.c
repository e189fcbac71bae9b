/* SPDX-License-Identifier: Apache-2.0 */
/* tlsmaps.c - the TLS files each traced process mapped when last looked at, by PID and start
 * time */
#include "tlsmaps.h"
#include "grow.h"

#include <stdlib.h>
#include <string.h>

#include "procmaps.h"

/* The entry of pid, NULL if it maps no TLS file (as far as we know). */
static struct proc_tls *tls_maps_find(struct tls_maps *tm, pid_t pid)
{
	int i;

	for (i = 0; i < tm->n; i++)
		if (tm->v[i].pid == pid)
			return &tm->v[i];
	return NULL;
}

/* Whether the process an entry was made for is still there (not one that took its PID). */
static bool tls_maps_current(const struct proc_tls *e)
{
	struct proc_stat st;

	return proc_read_stat(e->pid, &st) == 0 && st.start == e->start;
}

/* Drops the entry e (of tm). */
void tls_maps_drop(struct tls_maps *tm, struct proc_tls *e)
{
	*e = tm->v[--tm->n];
}

/* The entry of the process that has pid now; an entry of an earlier one of that PID (or of
 * one gone) is dropped. */
struct proc_tls *tls_maps_of(struct tls_maps *tm, pid_t pid)
{
	struct proc_tls *e = tls_maps_find(tm, pid);

	if (e && !tls_maps_current(e)) {
		tls_maps_drop(tm, e);
		e = NULL;
	}
	return e;
}

/* Records the TLS files pid maps (none: its entry goes). Out of memory, or pid gone: not
 * recorded. A full table first drops the entries of processes gone. */
void tls_maps_set(struct tls_maps *tm, pid_t pid, uint64_t files)
{
	struct proc_tls *e = tls_maps_find(tm, pid), *grown;
	struct proc_stat st;
	int i;

	if (e && files) {
		e->files = files;
		return;
	}
	if (e)
		tls_maps_drop(tm, e);
	if (!files || proc_read_stat(pid, &st) != 0)
		return;
	if (tm->n == tm->cap) /* full: the processes gone make room first */
		for (i = tm->n - 1; i >= 0; i--)
			if (!tls_maps_current(&tm->v[i]))
				tls_maps_drop(tm, &tm->v[i]);
	if (tm->n == tm->cap) {
		grown = grow_for(tm->v, tm->n, &tm->cap, sizeof(*tm->v), 16);
		if (!grown)
			return;
		tm->v = grown;
	}
	tm->v[tm->n++] = (struct proc_tls){pid, st.start, files};
}

void tls_maps_free(struct tls_maps *tm)
{
	free(tm->v);
	memset(tm, 0, sizeof(*tm));
}
