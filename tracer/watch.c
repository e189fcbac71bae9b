/* SPDX-License-Identifier: Apache-2.0 */
/* watch.c - notice saved changes to the BPF sources and probe specs (inotify) */
#include "watch.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define WATCH_EVENTS (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)

int watch_open(struct watch *w, const char *bpf_dir, const char *spec_dir)
{
	int e;

	w->last_ns = 0;
	w->changed[0] = '\0';
	w->taken = false;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0)
		return -errno;
	if (inotify_add_watch(w->fd, bpf_dir, WATCH_EVENTS) < 0 ||
	    inotify_add_watch(w->fd, spec_dir, WATCH_EVENTS) < 0) {
		e = errno;
		watch_close(w);
		return -e;
	}
	return 0;
}

bool watch_relevant(const char *name)
{
	size_t len = strlen(name);

	if (name[0] == '.' || len < 3)
		return false;
	if (strcmp(name + len - 2, ".c") == 0 || strcmp(name + len - 2, ".h") == 0)
		return true;
	return len > 5 && strcmp(name + len - 5, ".spec") == 0;
}

/* Adds `name` to the list of changed files, once. */
static void note_change(struct watch *w, const char *name)
{
	size_t used, len = strlen(name);
	const char *p;

	if (w->taken)
		w->changed[0] = '\0';
	w->taken = false;
	used = strlen(w->changed);
	for (p = strstr(w->changed, name); p; p = strstr(p + 1, name))
		if ((p == w->changed || p[-1] == ' ') && (p[len] == ',' || p[len] == '\0'))
			return;
	if (used + len + 3 < sizeof(w->changed))
		snprintf(w->changed + used, sizeof(w->changed) - used, "%s%s", used ? ", " : "",
			 name);
}

bool watch_ready(struct watch *w, uint64_t now_ns)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;

	if (w->fd < 0)
		return false;
	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->len && watch_relevant(ev->name)) {
				note_change(w, ev->name);
				w->last_ns = now_ns;
			}
		}
	}
	if (!w->last_ns || now_ns - w->last_ns < WATCH_QUIET_NS)
		return false;
	w->last_ns = 0;
	w->taken = true;
	return true;
}

void watch_close(struct watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}
