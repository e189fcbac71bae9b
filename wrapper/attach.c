/* SPDX-License-Identifier: Apache-2.0 */
/* attach.c - uprobes (uprobe_multi links, or perf events), tracepoints and kernel functions
 * attached */
#define _GNU_SOURCE
#include "tracer_bpf_int.h"

#include <limits.h>
#include <linux/perf_event.h>
#include <stdatomic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <bcc/libbpf.h>

/* Reads one integer after `prefix` from a sysfs file ("8", "config:0"). */
static int read_sysfs_int(const char *path, const char *prefix, int *out)
{
	char buf[64];
	FILE *f = fopen(path, "re");
	int ok;

	if (!f)
		return -errno;
	ok = fgets(buf, sizeof(buf), f) && strncmp(buf, prefix, strlen(prefix)) == 0 &&
	     sscanf(buf + strlen(prefix), "%d", out) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static struct attached_probe *new_probe(struct tracer_bpf *tb)
{
	struct attached_probe *grown = realloc(tb->probes, (tb->nprobes + 1) * sizeof(*grown));

	if (!grown)
		return NULL;
	tb->probes = grown;
	return &tb->probes[tb->nprobes];
}

/* The uprobe PMU (perf_event_open type and return-probe bit), read once. */
static int uprobe_pmu(struct tracer_bpf *tb, char *err, size_t errlen)
{
	const char *dir = "/sys/bus/event_source/devices/uprobe";
	char path[128];
	int e;

	if (tb->uprobe_type > 0)
		return 0;
	snprintf(path, sizeof(path), "%s/type", dir);
	e = read_sysfs_int(path, "", &tb->uprobe_type);
	if (!e) {
		snprintf(path, sizeof(path), "%s/format/retprobe", dir);
		e = read_sysfs_int(path, "config:", &tb->retprobe_bit);
	}
	if (e)
		snprintf(err, errlen, "the kernel has no uprobe PMU (%s: %s)", path, strerror(-e));
	return e;
}

/*
 * A uprobe_multi link of one probe (Linux 6.6+): the kernel filters by process itself (no
 * breakpoint in another process's memory), and releasing the link waits one grace period
 * that other links' releases share, where a perf uprobe's waits under a global mutex.
 * Returns the link fd or -errno.
 */
int tb_link_uprobe_multi(int prog_fd, const char *binary, uint64_t offset, bool retprobe, int pid,
			 uint64_t cookie)
{
	struct uprobe_multi_attr attr = {
		.prog_fd = (uint32_t)prog_fd,
		.attach_type = ATTACH_UPROBE_MULTI,
		.path = (uint64_t)(uintptr_t)binary,
		.offsets = (uint64_t)(uintptr_t)&offset,
		.cookies = (uint64_t)(uintptr_t)&cookie,
		.cnt = 1,
		.multi_flags = retprobe ? UPROBE_MULTI_RETURN : 0,
		.pid = pid > 0 ? (uint32_t)pid : 0,
	};
	int fd = (int)syscall(SYS_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));

	return fd < 0 ? -errno : fd;
}

/* The older way (Linux 4.17+): a uprobe perf event (pid -1: every process, on CPU 0; the
 * program runs on all CPUs), then a BPF link that hands the program `cookie`. */
static int attach_perf_uprobe(struct tracer_bpf *tb, struct attached_probe *p, int prog_fd,
			      const char *binary, uint64_t offset, bool retprobe, int pid,
			      uint64_t cookie)
{
	struct perf_event_attr attr = {0};
	union bpf_attr link = {0};

	attr.size = sizeof(attr);
	attr.type = (uint32_t)tb->uprobe_type;
	attr.config = retprobe ? 1ULL << tb->retprobe_bit : 0;
	attr.config1 = (uint64_t)(uintptr_t)binary;
	attr.config2 = offset;
	attr.sample_period = 1;
	p->perf_fd = (int)syscall(SYS_perf_event_open, &attr, pid, pid == -1 ? 0 : -1, -1,
				  PERF_FLAG_FD_CLOEXEC);
	if (p->perf_fd < 0)
		return -errno;
	link.link_create.prog_fd = (uint32_t)prog_fd;
	link.link_create.target_fd = (uint32_t)p->perf_fd;
	link.link_create.attach_type = BPF_PERF_EVENT;
	link.link_create.perf_event.bpf_cookie = cookie;
	p->link_fd = (int)syscall(SYS_bpf, BPF_LINK_CREATE, &link, sizeof(link));
	if (p->link_fd < 0) {
		int e = errno;

		close(p->perf_fd);
		return -e;
	}
	return 0;
}

void tracer_bpf__prefer_perf_uprobes(struct tracer_bpf *tb)
{
	tb->multi = -1;
}

int tracer_bpf__attach_uprobe(struct tracer_bpf *tb, const char *fn, const char *binary,
			      uint64_t offset, bool retprobe, int pid, uint64_t cookie, char *err,
			      size_t errlen)
{
	struct attached_probe *p;
	int prog_fd, e = 0;

	p = new_probe(tb);
	if (!p) {
		snprintf(err, errlen, "out of memory attaching '%s'", fn);
		return -ENOMEM;
	}
	snprintf(p->what, sizeof(p->what), "%s at 0x%llx", fn, (unsigned long long)offset);
	p->perf_fd = p->link_fd = -1;
	p->pid = pid > 0 ? pid : -1;
	if (tb->multi >= 0) {
		prog_fd = tb_load_prog(tb, fn, BPF_PROG_TYPE_KPROBE, ATTACH_UPROBE_MULTI, 0, err,
				       errlen);
		if (prog_fd < 0)
			return prog_fd;
		e = tb_link_uprobe_multi(prog_fd, binary, offset, retprobe, pid, cookie);
		/* A kernel before 6.6 refuses the attach type: perf uprobes from now on. */
		if (tb->multi == 0 && (e == -EINVAL || e == -EOPNOTSUPP || e == -ENOSYS))
			tb->multi = -1;
		else if (e >= 0)
			tb->multi = 1;
		p->link_fd = e >= 0 ? e : -1;
	}
	if (tb->multi < 0) {
		prog_fd = tb_load_prog(tb, fn, BPF_PROG_TYPE_KPROBE, ATTACH_PERF, 0, err, errlen);
		if (prog_fd < 0)
			return prog_fd;
		e = uprobe_pmu(tb, err, errlen);
		if (e)
			return e;
		e = attach_perf_uprobe(tb, p, prog_fd, binary, offset, retprobe, pid, cookie);
	}
	if (e < 0) {
		snprintf(err, errlen, "failed to attach %s '%s' at offset 0x%llx of '%s': %s%s",
			 retprobe ? "uretprobe" : "uprobe", fn, (unsigned long long)offset, binary,
			 strerror(-e), e == -EPERM ? " (needs root or CAP_BPF + CAP_PERFMON)" : "");
		return e;
	}
	tb->nprobes++;
	return 0;
}

/* The program fd of `fn` (loaded on first use) and a new probe entry for it: 0, or -errno
 * with `err` written. */
static int load_for_probe(struct tracer_bpf *tb, const char *fn, int prog_type, int attach_type,
			  int btf_id, int *prog_fd, struct attached_probe **p, char *err,
			  size_t errlen)
{
	*prog_fd = tb_load_prog(tb, fn, prog_type, attach_type, btf_id, err, errlen);
	if (*prog_fd < 0)
		return *prog_fd;
	*p = new_probe(tb);
	if (!*p) {
		snprintf(err, errlen, "out of memory attaching '%s'", fn);
		return -ENOMEM;
	}
	return 0;
}

int tracer_bpf__attach_tracepoint(struct tracer_bpf *tb, const char *fn, const char *category,
				  const char *event, char *err, size_t errlen)
{
	struct attached_probe *p;
	int prog_fd, pfd, e;

	e = load_for_probe(tb, fn, BPF_PROG_TYPE_TRACEPOINT, ATTACH_PERF, 0, &prog_fd, &p, err,
			   errlen);
	if (e)
		return e;
	errno = 0;
	pfd = bpf_attach_tracepoint(prog_fd, category, event);
	if (pfd < 0) {
		e = errno ? errno : EINVAL;
		snprintf(err, errlen, "failed to attach '%s' to tracepoint %s:%s: %s", fn, category,
			 event, strerror(e));
		return -e;
	}
	snprintf(p->what, sizeof(p->what), "%s on %s:%s", fn, category, event);
	p->perf_fd = pfd;
	p->link_fd = -1;
	p->pid = -1;
	tb->nprobes++;
	return 0;
}

int tracer_bpf__probe_kfunc(int btf_id)
{
	const struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	union bpf_attr attr;
	int prog, link, e;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_TRACING;
	attr.expected_attach_type = BPF_TRACE_FENTRY;
	attr.attach_btf_id = (uint32_t)btf_id;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = 2;
	attr.license = (uint64_t)(uintptr_t) "GPL";
	prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (prog < 0)
		return -errno;
	memset(&attr, 0, sizeof(attr));
	attr.raw_tracepoint.prog_fd = (uint32_t)prog;
	link = (int)syscall(SYS_bpf, BPF_RAW_TRACEPOINT_OPEN, &attr, sizeof(attr));
	e = link < 0 ? -errno : 0;
	if (link >= 0)
		close(link);
	close(prog);
	return e;
}

int tracer_bpf__attach_kfunc(struct tracer_bpf *tb, const char *fn, int btf_id, char *err,
			     size_t errlen)
{
	struct attached_probe *p;
	union bpf_attr attr;
	const char *kfn;
	bool exit = false;
	int prog_fd, fd;

	kfn = tracer_bpf__kernel_function(fn, &exit);
	if (!kfn) {
		snprintf(err, errlen, "BPF function '%s' is not named kfunc__ or kretfunc__", fn);
		return -EINVAL;
	}
	fd = load_for_probe(tb, fn, BPF_PROG_TYPE_TRACING,
			    exit ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY, btf_id, &prog_fd, &p, err,
			    errlen);
	if (fd)
		return fd;
	/* The attach the program was loaded for (its BTF id): a raw tracepoint open of no
	 * name, as Linux 5.5+ takes it */
	memset(&attr, 0, sizeof(attr));
	attr.raw_tracepoint.prog_fd = (uint32_t)prog_fd;
	fd = (int)syscall(SYS_bpf, BPF_RAW_TRACEPOINT_OPEN, &attr, sizeof(attr));
	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "failed to attach '%s' to kernel function %s: %s", fn, kfn,
			 strerror(e));
		return -e;
	}
	snprintf(p->what, sizeof(p->what), "%s on %s", fn, kfn);
	p->perf_fd = -1;
	p->link_fd = fd;
	p->pid = -1;
	tb->nprobes++;
	return 0;
}
