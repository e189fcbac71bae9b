/* SPDX-License-Identifier: Apache-2.0 */
/* regular.h - opening a user's source or spec file: a regular file, or a clear refusal */
#ifndef TRACER_REGULAR_H
#define TRACER_REGULAR_H
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens path for reading if it is a regular file; a FIFO (which would block the tracer), a
 * device or a directory named like one gives NULL with errno ENXIO (see file_error). */
static inline FILE *fopen_regular(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	FILE *f;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = ENXIO;
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f)
		close(fd);
	return f;
}

/* What went wrong opening a file with fopen_regular. */
static inline const char *file_error(int err)
{
	return err == ENXIO ? "not a regular file" : strerror(err);
}
#endif
