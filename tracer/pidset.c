/* pidset.c - the processes a PID-mode session has probes attached for */
#include "pidset.h"
#include "grow.h"

#include <errno.h>
#include <string.h>

bool pidset_has(const struct pidset *ps, pid_t pid)
{
	int i;

	for (i = 0; i < ps->n; i++)
		if (ps->pid[i] == pid)
			return true;
	return false;
}

int pidset_add(struct pidset *ps, pid_t pid)
{
	pid_t *grown;

	if (pidset_has(ps, pid))
		return 0;
	grown = grow_for(ps->pid, ps->n, &ps->cap, sizeof(*ps->pid), 16);
	if (!grown)
		return -ENOMEM;
	ps->pid = grown;
	ps->pid[ps->n++] = pid;
	return 1;
}

bool pidset_remove(struct pidset *ps, pid_t pid)
{
	int i;

	for (i = 0; i < ps->n; i++)
		if (ps->pid[i] == pid) {
			memmove(&ps->pid[i], &ps->pid[i + 1], (ps->n - i - 1) * sizeof(*ps->pid));
			ps->n--;
			return true;
		}
	return false;
}

void pidset_free(struct pidset *ps)
{
	free(ps->pid);
	memset(ps, 0, sizeof(*ps));
}
