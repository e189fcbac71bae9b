/* SPDX-License-Identifier: Apache-2.0 */
/* tracefs.c - the tracepoint formats libbcc reads: tracefs mounted for the tracer if missing */
#define _GNU_SOURCE
#include "tracefs.h"
#include "diag.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

/* Whether tracefs's events are readable at `dir`. */
static int has_events(const char *dir)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/events", dir);
	return access(path, F_OK) == 0;
}

const char *tracefs_dir(void)
{
	return has_events(TRACEFS_DIR) || !has_events(TRACEFS_DEBUGFS_DIR) ? TRACEFS_DIR
									   : TRACEFS_DEBUGFS_DIR;
}

int tracefs_ensure(int verbose)
{
	const char *step;
	int e;

	if (has_events(TRACEFS_DIR) || has_events(TRACEFS_DEBUGFS_DIR))
		return 0;
	/* Our own mount namespace, its mounts private: nothing we mount reaches the system's
	 * (nor does it stay after we exit). */
	step = "enter a mount namespace of its own";
	if (unshare(CLONE_NEWNS) != 0)
		goto fail;
	step = "make its mounts private";
	/* (source and type are ignored for a propagation change; "none", not NULL, keeps
	 * valgrind from taking them for strings to read) */
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0)
		goto fail;
	step = "mount tracefs at " TRACEFS_DIR;
	if (mount("tracefs", TRACEFS_DIR, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
		goto fail;
	if (!has_events(TRACEFS_DIR)) {
		errno = ENOENT;
		goto fail;
	}
	if (verbose)
		diag("tracefs was not mounted: mounted it at %s for the tracer alone (a "
		     "private mount namespace; the system's mounts are unchanged)\n",
		     TRACEFS_DIR);
	return 0;
fail:
	e = errno;
	diag("tracefs is not mounted (neither %s nor %s has events/), and the tracer could not "
	     "%s: %s; libbcc reads the tracepoint formats there: mount it with 'mount -t "
	     "tracefs nodev %s' (needs CAP_SYS_ADMIN)\n",
	     TRACEFS_DIR, TRACEFS_DEBUGFS_DIR, step, strerror(e), TRACEFS_DIR);
	return -e;
}
