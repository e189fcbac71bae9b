/* SPDX-License-Identifier: Apache-2.0 */
/* audit.c - a syslog line (LOG_AUTHPRIV) when tracing starts and stops: who, what, where to */
#include "audit.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

void audit_outputs(const struct env *env, char *buf, size_t size)
{
	char path[256] = "";
	ssize_t n = readlink("/proc/self/fd/1", path, sizeof(path) - 1);

	path[n > 0 ? n : 0] = '\0';
	if (env->pcap_path && strcmp(env->pcap_path, "-") == 0)
		snprintf(buf, size, "pcapng to stdout (%s)", path[0] ? path : "closed");
	else if (env->pcap_path)
		snprintf(buf, size, "stdout (%s), pcapng file '%s'", path[0] ? path : "closed",
			 env->pcap_path);
	else
		snprintf(buf, size, "stdout (%s)", path[0] ? path : "closed");
}

/* Who: the real and effective uid, and the login uid (the user behind sudo). */
static void who(char *buf, size_t size)
{
	unsigned int login = (unsigned int)-1;
	FILE *f = fopen("/proc/self/loginuid", "re");

	if (f) {
		if (fscanf(f, "%u", &login) != 1)
			login = (unsigned int)-1;
		fclose(f);
	}
	if (login != (unsigned int)-1 && login != getuid())
		snprintf(buf, size, "uid %u (login uid %u)", (unsigned)getuid(), login);
	else
		snprintf(buf, size, "uid %u", (unsigned)getuid());
	if (geteuid() != getuid())
		snprintf(buf + strlen(buf), size - strlen(buf), " as euid %u", (unsigned)geteuid());
}

void audit_start(const char *targets, const char *outputs)
{
	char by[96];

	who(by, sizeof(by));
	openlog("tracer", LOG_PID, LOG_AUTHPRIV);
	syslog(LOG_NOTICE, "tracing started by %s: %s; outputs: %s", by, targets, outputs);
}

void audit_stop(const char *targets, const char *how)
{
	char by[96];

	who(by, sizeof(by));
	syslog(LOG_NOTICE, "tracing stopped by %s: %s; %s", by, targets, how);
	closelog();
}
