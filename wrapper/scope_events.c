/* SPDX-License-Identifier: Apache-2.0 */
/* scope_events.c - the scope's trace events and the perf events on them, at their lowest: a
 * point appended to an event, a perf event of one opened for a thread, our own code's offset */
#define _GNU_SOURCE
#include "scope_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

const char *const tb_scope_event_names[SCOPE_EVENTS] = {"entry", "return"};

/* Writes `cmd` to uprobe_events; 0 or -errno. */
int tb_scope_ctl_write(int fd, const char *cmd)
{
	ssize_t n = write(fd, cmd, strlen(cmd));

	return n < 0 ? -errno : n == (ssize_t)strlen(cmd) ? 0 : -EIO;
}

/* The last line of tracefs's error_log (why a probe definition was refused), or "". */
static void last_error(const char *dir, char *buf, size_t size)
{
	char path[PATH_MAX + 16], line[512];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/error_log", dir);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "error:"))
			snprintf(buf, size, "%s", strstr(line, "error:") + 7);
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/* The file offset, in our executable, of our code at addr. 0 or -ENOENT. */
int tb_scope_self_offset(uintptr_t addr, uint64_t *offset)
{
	unsigned long long start, end, pgoff;
	char line[PATH_MAX + 128], perms[8];
	FILE *f = fopen("/proc/self/maps", "re");
	int err = -ENOENT;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx-%llx %7s %llx", &start, &end, perms, &pgoff) == 4 &&
		    addr >= start && addr < end && perms[2] == 'x') {
			*offset = addr - start + pgoff;
			err = 0;
			break;
		}
	if (f)
		fclose(f);
	return err;
}

/* The path the kernel is given for `binary`: itself, or /proc/self/fd/N of an fd opened on
 * it when it has blanks (uprobe_events splits on them). *fd: that fd, or -1. */
static int probe_path(const char *binary, char *buf, size_t size, int *fd)
{
	*fd = -1;
	if (!strpbrk(binary, " \t\n")) {
		snprintf(buf, size, "%s", binary);
		return 0;
	}
	*fd = open(binary, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	snprintf(buf, size, "/proc/self/fd/%d", *fd);
	return 0;
}

/* Appends point (binary, offset) to event `ev`. 0 or -errno, with why in err. */
int tb_scope_append(struct tracer_scope *sc, int ev, const char *binary, uint64_t offset, char *err,
		    size_t errlen)
{
	char cmd[PATH_MAX + 128], path[PATH_MAX], why[256];
	int fd, e;

	e = probe_path(binary, path, sizeof(path), &fd);
	if (!e) {
		snprintf(cmd, sizeof(cmd), "%c:%s/%s %s:0x%" PRIx64 "\n", ev ? 'r' : 'p', sc->group,
			 tb_scope_event_names[ev], path, offset);
		e = tb_scope_ctl_write(sc->ctl_fd, cmd);
	}
	if (fd >= 0)
		close(fd);
	if (e) {
		last_error(sc->dir, why, sizeof(why));
		snprintf(err, errlen,
			 "failed to add a %s probe at offset 0x%" PRIx64 " of '%s': %s%s%s",
			 ev ? "return" : "entry", offset, binary, strerror(-e), why[0] ? ": " : "",
			 why);
	}
	return e;
}

/* A perf event of trace event `id` (or, id -1, a dummy software event) for thread tid:
 * disabled (it only names the thread's memory to the kernel's filter), inherited by what it
 * forks when `inherit`, then sampling its reads unless `swappable` (so that the kernel never
 * swaps its context with another task's). */
int tb_scope_open_event(int id, int tid, bool inherit, bool swappable, bool anchor)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = id < 0 ? PERF_TYPE_SOFTWARE : PERF_TYPE_TRACEPOINT;
	attr.config = id < 0 ? PERF_COUNT_SW_DUMMY : (uint64_t)id;
	attr.sample_period = 1;
	attr.disabled = 1;
	attr.inherit = inherit;
	if (inherit && !swappable)
		attr.sample_type = PERF_SAMPLE_READ | PERF_SAMPLE_TID;
	/* an anchor's thread puts no breakpoint anywhere, however briefly it lives: with
	 * enable_on_exec the kernel leaves it to exec and mmap, which it never does */
	attr.enable_on_exec = anchor;
	return (int)syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

/* Waits until thread tid of ours is gone: its memory is then no anchor's. */
void tb_scope_wait_gone(pid_t tid)
{
	struct timespec pause = {0, 100 * 1000};
	char path[64];
	int i;

	snprintf(path, sizeof(path), "/proc/self/task/%d", (int)tid);
	for (i = 0; i < 20000 && access(path, F_OK) == 0; i++)
		nanosleep(&pause, NULL);
}
