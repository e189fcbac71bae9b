/* SPDX-License-Identifier: Apache-2.0 */
/* privileges.h - what the tracer may do: root or the capabilities each step needs */
#ifndef TRACER_PRIVILEGES_H
#define TRACER_PRIVILEGES_H

#include <errno.h>
#include <sys/types.h>

/* Root, or CAP_BPF + CAP_PERFMON (CAP_SYS_ADMIN covers both on older kernels). Returns 0,
 * or -EPERM after saying which are missing. */
int check_privileges(void);

/* Another user's process: its maps and libraries (/proc/PID/root) need CAP_SYS_PTRACE and
 * CAP_DAC_READ_SEARCH. Returns 0, or -EPERM after saying which are missing. */
int check_owner(pid_t pid, const char *comm);

#endif
