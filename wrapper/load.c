/* SPDX-License-Identifier: Apache-2.0 */
/* load.c - a BPF function into the kernel: the verifier's answer, and why it said no, at
 * FILE:LINE */
#define _GNU_SOURCE
#include "tracer_bpf_int.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <bcc/bcc_common.h>

int tracer_bpf__verifier_summary(const char *log, char *where, size_t wherelen, char *why,
				 size_t whylen)
{
	char line[512], *at, *colon;
	const char *p, *next;
	size_t len;

	where[0] = why[0] = '\0';
	for (p = log; p && *p; p = next) {
		next = strchr(p, '\n');
		len = next ? (size_t)(next++ - p) : strlen(p);
		if (len >= sizeof(line))
			continue; /* register states: not what is looked for */
		memcpy(line, p, len);
		line[len] = '\0';
		if (strncmp(line, "processed ", 10) == 0)
			break;
		if (line[0] == ';') {
			/* "; <source> @ file.c:12": where the instructions below come from (line
			 * 0: the compiler's own, no source line) */
			at = strstr(line, " @ ");
			colon = at ? strrchr(at, ':') : NULL;
			if (colon && strtoul(colon + 1, NULL, 10) > 0 && strlen(at + 3) < wherelen)
				strcpy(where, at + 3);
		} else if (len && !isdigit((unsigned char)line[0]) && len < whylen) {
			strcpy(why,
			       line); /* the complaint: the last such line before "processed" */
		}
	}
	return where[0] && why[0] ? 0 : -ENOENT;
}

#define VERIFIER_LOG_SIZE (1 << 20)

#define VERIFIER_LOG_TAIL 12  /* lines of a refusing verifier's log shown */
#define VERIFIER_LINE_MAX 120 /* characters of each */
#define ERR_REASON_ROOM 768   /* what a message keeps for its reason after the log's tail */

/* The last VERIFIER_LOG_TAIL lines of a verifier log, indented, into out (size >= 1).
 * Returns the length written; 0 for an empty log. */
static size_t log_tail(const char *fn, const char *log, char *out, size_t size)
{
	const char *p = log + strlen(log), *start;
	int lines = 0, total = 0, i, n;
	size_t used;

	out[0] = '\0';
	while (p > log && p[-1] == '\n')
		p--;
	if (p == log)
		return 0;
	for (i = 0; log + i < p; i++)
		total += log[i] == '\n';
	total++;
	for (start = p; start > log; start--)
		if (start[-1] == '\n' && ++lines == VERIFIER_LOG_TAIL)
			break;
	n = snprintf(out, size, "verifier log, last %d of %d lines, of BPF function '%s':\n",
		     total < VERIFIER_LOG_TAIL ? total : VERIFIER_LOG_TAIL, total, fn);
	used = n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
	while (start < p && used + 1 < size) {
		const char *nl = memchr(start, '\n', (size_t)(p - start));
		size_t len = nl ? (size_t)(nl - start) : (size_t)(p - start);

		n = snprintf(out + used, size - used, "  %.*s\n",
			     (int)(len < VERIFIER_LINE_MAX ? len : VERIFIER_LINE_MAX), start);
		used += n < 0 ? 0 : (size_t)n < size - used ? (size_t)n : size - used - 1;
		start += len + 1;
	}
	return used;
}

/* Says why the kernel refused `fn`: where in the source the verifier stopped, when its log
 * tells, in the source directory when the file is there. */
static void load_error(const struct tracer_bpf *tb, const char *fn, int e, const char *log,
		       char *err, size_t errlen)
{
	char where[256], why[256], path[PATH_MAX];
	const char *dir = "";
	size_t used = 0;

	/* the log's end first, leaving room for the reason */
	if (e == EACCES && log && errlen > ERR_REASON_ROOM)
		used = log_tail(fn, log, err, errlen - ERR_REASON_ROOM);
	if (e == EACCES && log &&
	    tracer_bpf__verifier_summary(log, where, sizeof(where), why, sizeof(why)) == 0) {
		snprintf(path, sizeof(path), "%s/%.*s", tb->src_dir ? tb->src_dir : "",
			 (int)strcspn(where, ":"), where);
		if (tb->src_dir && !strchr(where, '/') && access(path, F_OK) == 0)
			dir = tb->src_dir;
		snprintf(err + used, errlen - used,
			 "%s%s%s: the verifier rejected BPF function '%s': %s", dir,
			 dir[0] ? "/" : "", where, fn, why);
	} else {
		snprintf(err + used, errlen - used, "failed to load BPF function '%s': %s%s", fn,
			 strerror(e), e == EPERM ? " (needs root or CAP_BPF + CAP_PERFMON)" : "");
	}
}

/* libbcc prints a refused program's whole verifier log (thousands of lines for a big
 * function): its stderr goes to /dev/null while it loads, and the log's end is shown. */
static int mute_stderr(void)
{
	int saved, null;

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved >= 0 && null >= 0)
		dup2(null, STDERR_FILENO);
	if (null >= 0)
		close(null);
	return saved;
}

static void unmute_stderr(int saved)
{
	if (saved < 0)
		return;
	dup2(saved, STDERR_FILENO);
	close(saved);
}

/*
 * Loads instructions without libbcc (a module made from an image): BPF_PROG_LOAD, and on
 * failure again with a log to tell why. Returns the fd, or -1 with errno set.
 */
static int load_raw(const struct tracer_bpf *tb, int prog_type, const char *fn,
		    const struct bpf_insn *insns, size_t size, int attach_type, int btf_id,
		    char *log, size_t loglen)
{
	union bpf_attr attr;
	int fd, e;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = (uint32_t)prog_type;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)(size / sizeof(*insns));
	attr.license = (uint64_t)(uintptr_t)tb->license;
	attr.kern_version = tb->kern_version;
	attr.expected_attach_type = (uint32_t)attach_type;
	attr.attach_btf_id = (uint32_t)btf_id; /* fentry/fexit: the kernel function */
	snprintf(attr.prog_name, sizeof(attr.prog_name), "%s", fn); /* as libbcc names it */
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (fd >= 0 || (errno != EACCES && errno != EINVAL))
		return fd;
	e = errno;
	attr.log_level = 1;
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = (uint32_t)loglen;
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (fd < 0 && errno == ENOSPC) /* a log too long for the buffer: the first answer */
		errno = e;
	return fd;
}

const char *tracer_bpf__kernel_function(const char *fn, bool *exit)
{
	const char *name = NULL;

	if (strncmp(fn, "kfunc__", 7) == 0)
		name = fn + 7, *exit = false;
	else if (strncmp(fn, "kretfunc__", 10) == 0)
		name = fn + 10, *exit = true;
	if (name && strncmp(name, "vmlinux__", 9) == 0) /* libbcc 0.27+ names the module */
		name += 9;
	return name && name[0] ? name : NULL;
}

/* Returns the program fd of `fn` for attach type `attach_type`, loading it on first use. */
int tb_load_prog(struct tracer_bpf *tb, const char *fn, int prog_type, int attach_type, int btf_id,
		 char *err, size_t errlen)
{
	const struct func_desc *f = tb_func(tb, fn);
	struct loaded_prog *grown;
	struct bpf_insn *insns;
	char *log;
	int fd, i, e, saved;

	for (i = 0; i < tb->nprogs; i++)
		if (strcmp(tb->progs[i].name, fn) == 0 && tb->progs[i].attach_type == attach_type)
			return tb->progs[i].fd;

	if (!f) {
		snprintf(err, errlen, "BPF function '%s' is not defined in bpf_src", fn);
		return -ENOENT;
	}
	insns = tb_relocated_insns(tb, f);
	log = malloc(VERIFIER_LOG_SIZE); /* filled only on failure */
	if (!insns || !log) {
		free(insns);
		free(log);
		snprintf(err, errlen, "out of memory loading '%s'", fn);
		return -ENOMEM;
	}
	log[0] = '\0';
	saved = mute_stderr();
	errno = 0;
	/* libbcc adds the sources' line info (BTF), for the verifier's messages; but for a
	 * fentry/fexit program it would also parse the kernel's BTF for its id (~60 ms a
	 * program): that comes from the caller. */
	if (tb->mod && prog_type != BPF_PROG_TYPE_TRACING)
		fd = bcc_func_load(tb->mod, prog_type, fn, insns, (int)f->size, tb->license,
				   tb->kern_version, 0, log, VERIFIER_LOG_SIZE, NULL, attach_type);
	else
		fd = load_raw(tb, prog_type, fn, insns, f->size, attach_type, btf_id, log,
			      VERIFIER_LOG_SIZE);
	e = errno ? errno : EINVAL;
	unmute_stderr(saved);
	if (fd < 0) {
		load_error(tb, fn, e, log, err, errlen);
		free(insns);
		free(log);
		return e == EACCES ? -TRACER_BPF_EVERIFIER : -e; /* EACCES: the verifier said no */
	}
	free(insns);
	free(log);
	grown = realloc(tb->progs, (tb->nprogs + 1) * sizeof(*grown));
	if (!grown || !(grown[tb->nprogs].name = strdup(fn))) {
		tb->progs = grown ? grown : tb->progs;
		close(fd);
		snprintf(err, errlen, "out of memory loading '%s'", fn);
		return -ENOMEM;
	}
	tb->progs = grown;
	tb->progs[tb->nprogs].attach_type = attach_type;
	tb->progs[tb->nprogs++].fd = fd;
	return fd;
}

int tracer_bpf__load(struct tracer_bpf *tb, const char *fn, int btf_id, char *err, size_t errlen)
{
	bool exit;
	int fd;

	if (tracer_bpf__kernel_function(fn, &exit))
		fd = tb_load_prog(tb, fn, BPF_PROG_TYPE_TRACING,
				  exit ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY, btf_id, err, errlen);
	else
		fd = tb_load_prog(tb, fn,
				  strncmp(fn, "tracepoint__", 12) == 0 ? BPF_PROG_TYPE_TRACEPOINT
								       : BPF_PROG_TYPE_KPROBE,
				  ATTACH_PERF, 0, err, errlen);
	return fd < 0 ? fd : 0;
}
