/* SPDX-License-Identifier: Apache-2.0 */
/* privileges.c - what the tracer may do: root or the capabilities each step needs */
#include "privileges.h"
#include "diag.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define CAP_DAC_READ_SEARCH_BIT 2
#define CAP_SYS_PTRACE_BIT 19
#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39
#define HAS_CAP(caps, bit) (((caps) >> (bit)) & 1)

/* The effective capabilities (all of them for root). */
static unsigned long long effective_caps(void)
{
	unsigned long long eff = 0;
	char line[256];
	FILE *f;

	if (geteuid() == 0)
		return ~0ull;
	f = fopen("/proc/self/status", "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	if (f)
		fclose(f);
	return eff;
}

int check_privileges(void)
{
	unsigned long long eff = effective_caps();

	if (HAS_CAP(eff, CAP_SYS_ADMIN_BIT) ||
	    (HAS_CAP(eff, CAP_BPF_BIT) && HAS_CAP(eff, CAP_PERFMON_BIT)))
		return 0;
	diag("tracer needs root, or the capabilities CAP_BPF and CAP_PERFMON "
	     "(missing:%s%s); try: sudo tracer ...\n",
	     HAS_CAP(eff, CAP_BPF_BIT) ? "" : " CAP_BPF",
	     HAS_CAP(eff, CAP_PERFMON_BIT) ? "" : " CAP_PERFMON");
	return -EPERM;
}

int check_owner(pid_t pid, const char *comm)
{
	unsigned long long eff = effective_caps();
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (stat(path, &st) || st.st_uid == geteuid() ||
	    (HAS_CAP(eff, CAP_SYS_PTRACE_BIT) && HAS_CAP(eff, CAP_DAC_READ_SEARCH_BIT)))
		return 0;
	diag("PID %d (%s) belongs to uid %u: tracing another user's process needs root, or "
	     "the capabilities CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH (missing:%s%s)\n",
	     (int)pid, comm, (unsigned)st.st_uid,
	     HAS_CAP(eff, CAP_SYS_PTRACE_BIT) ? "" : " CAP_SYS_PTRACE",
	     HAS_CAP(eff, CAP_DAC_READ_SEARCH_BIT) ? "" : " CAP_DAC_READ_SEARCH");
	return -EPERM;
}
