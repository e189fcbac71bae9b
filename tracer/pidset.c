/* pidset.c - the processes a PID-mode session has probes attached for */
#include "pidset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int find(const struct pidset *ps, pid_t pid)
{
	int i;

	for (i = 0; i < ps->n; i++)
		if (ps->pid[i] == pid)
			return i;
	return -1;
}

bool pidset_has(const struct pidset *ps, pid_t pid)
{
	return find(ps, pid) >= 0;
}

int pidset_add(struct pidset *ps, pid_t pid, unsigned long long start)
{
	int i = find(ps, pid), cap;
	unsigned long long *starts;
	pid_t *pids;

	if (i >= 0)
		return start && ps->start[i] && ps->start[i] != start ? -EEXIST : 0;
	if (ps->n == ps->cap) {
		cap = ps->cap ? ps->cap * 2 : 16;
		pids = realloc(ps->pid, (size_t)cap * sizeof(*pids));
		if (pids)
			ps->pid = pids;
		starts = pids ? realloc(ps->start, (size_t)cap * sizeof(*starts)) : NULL;
		if (!starts)
			return -ENOMEM;
		ps->start = starts;
		ps->cap = cap;
	}
	ps->pid[ps->n] = pid;
	ps->start[ps->n++] = start;
	return 1;
}

bool pidset_remove(struct pidset *ps, pid_t pid)
{
	int i = find(ps, pid);

	if (i < 0)
		return false;
	memmove(&ps->pid[i], &ps->pid[i + 1], (size_t)(ps->n - i - 1) * sizeof(*ps->pid));
	memmove(&ps->start[i], &ps->start[i + 1], (size_t)(ps->n - i - 1) * sizeof(*ps->start));
	ps->n--;
	return true;
}

void pidset_free(struct pidset *ps)
{
	free(ps->pid);
	free(ps->start);
	memset(ps, 0, sizeof(*ps));
}
