/* SPDX-License-Identifier: Apache-2.0 */
/* janitor.c - the process that removes the scope's trace events should the tracer die
 * without doing so */
#define _GNU_SOURCE
#include "scope_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * The janitor: a process of its own that waits for the tracer to end (its pipe's other end
 * closes however the tracer ends, SIGKILL too) and then removes the events. It holds nothing
 * else (every other fd closed), ignores the terminal's signals, and calls only what is
 * async-signal-safe: system calls, strlen, sigfillset, nanosleep (it is forked from a
 * process with threads, whose locks it may hold half-taken).
 */
static void janitor_main(int rfd, int ctl_fd, const char *const *cmds, int ncmds)
{
	struct timespec pause = {0, 10 * 1000 * 1000};
	sigset_t all;
	char c;
	int i, tries;

	int lo = rfd < ctl_fd ? rfd : ctl_fd, hi = rfd < ctl_fd ? ctl_fd : rfd;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	if (lo > 0)
		syscall(SYS_close_range, 0, lo - 1, 0);
	if (hi > lo + 1)
		syscall(SYS_close_range, lo + 1, hi - 1, 0);
	syscall(SYS_close_range, hi + 1, ~0U, 0);
	/* until the tracer's end closes the pipe's other end */
	while (read(rfd, &c, 1) < 0 && errno == EINTR)
		;
	for (i = 0; i < ncmds; i++)
		for (tries = 0; tries < SCOPE_BUSY_WAIT_MS / 10; tries++) {
			ssize_t n = write(ctl_fd, cmds[i], strlen(cmds[i]));

			if (n >= 0 || errno != EBUSY)
				break;
			nanosleep(&pause, NULL);
		}
	_exit(0);
}

/* Forks the janitor, with the commands that remove sc's events written out beforehand. */
int tb_janitor_start(struct tracer_scope *sc)
{
	char cmd[SCOPE_EVENTS][96];
	const char *cmds[SCOPE_EVENTS];
	int p[2], i;
	pid_t pid;

	for (i = 0; i < SCOPE_EVENTS; i++) {
		snprintf(cmd[i], sizeof(cmd[i]), "-:%s/%s\n", sc->group, tb_scope_event_names[i]);
		cmds[i] = cmd[i];
	}
	if (pipe2(p, O_CLOEXEC) != 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		close(p[1]);
		janitor_main(p[0], sc->ctl_fd, cmds, SCOPE_EVENTS);
	}
	close(p[0]);
	sc->janitor = pid;
	sc->janitor_fd = p[1];
	return 0;
}

/* Tells the janitor to do its work (its pipe closed) and waits for it to end. */
void tb_janitor_stop(struct tracer_scope *sc)
{
	if (sc->janitor_fd >= 0)
		close(sc->janitor_fd);
	sc->janitor_fd = -1;
	if (sc->janitor > 0)
		while (waitpid(sc->janitor, NULL, 0) < 0 && errno == EINTR)
			;
	sc->janitor = 0;
}
