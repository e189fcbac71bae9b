/* SPDX-License-Identifier: Apache-2.0 */
/* tracefs.h - the tracepoint formats libbcc reads: tracefs mounted for the tracer if missing */
#ifndef TRACER_TRACEFS_H
#define TRACER_TRACEFS_H

#include <stdio.h>

/* Where tracefs is mounted, or where we mount it; where debugfs shows it. */
#define TRACEFS_DIR "/sys/kernel/tracing"
#define TRACEFS_DEBUGFS_DIR "/sys/kernel/debug/tracing"

/*
 * Makes the tracepoint formats readable (libbcc reads TRACEFS_DIR/events/CAT/NAME/format to
 * compile TRACEPOINT_PROBE, and the event ids to attach). A freshly booted machine mounts
 * neither tracefs nor debugfs: then the tracer moves into a mount namespace of its own
 * (private, so the system's mounts stay as they are) and mounts tracefs there. Must run
 * before the process starts a thread. Says what it did when `verbose`. Returns 0, or -errno
 * after saying through diag in one sentence why it could not.
 */
int tracefs_ensure(int verbose);

/* Where tracefs is readable (after tracefs_ensure): TRACEFS_DIR, or debugfs's view of it. */
const char *tracefs_dir(void);

#endif
