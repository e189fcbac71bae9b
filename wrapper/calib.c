/* SPDX-License-Identifier: Apache-2.0 */
/* calib.c - what a uprobe costs here, by class: measured on two functions of the tracer's
 * own, probed in its own process with a BPF program that does nothing */
#define _GNU_SOURCE
#include "tracer_bpf_int.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/*
 * Two functions whose first instruction is of a known class: `push rbp`, which the kernel
 * emulates at a breakpoint, and `mov rax, rdi`, which it copies out of line and
 * single-steps. Neither touches memory but the stack.
 */
__asm__(".text\n"
	".p2align 4\n"
	".type tb_calib_push, @function\n"
	"tb_calib_push:\n"
	"\tpush %rbp\n"
	"\tpop %rbp\n"
	"\tret\n"
	".size tb_calib_push, .-tb_calib_push\n"
	".p2align 4\n"
	".type tb_calib_mov, @function\n"
	"tb_calib_mov:\n"
	"\tmov %rdi, %rax\n"
	"\tret\n"
	".size tb_calib_mov, .-tb_calib_mov\n");

void tb_calib_push(void);
void tb_calib_mov(void);

#define CALLS 400 /* per timing; the least of ROUNDS timings is taken */
#define ROUNDS 5

/* ns per call of f, the least of ROUNDS runs of CALLS calls. */
static double time_calls(void (*volatile f)(void))
{
	double best = 0;
	int r, i;

	for (r = 0; r < ROUNDS; r++) {
		struct timespec a, b;
		double ns;

		clock_gettime(CLOCK_MONOTONIC, &a);
		for (i = 0; i < CALLS; i++)
			f();
		clock_gettime(CLOCK_MONOTONIC, &b);
		ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) /
		     CALLS;
		if (r == 0 || ns < best)
			best = ns;
	}
	return best;
}

/* The file and file offset of code address `addr` in this process (its /proc/self/maps). */
static int file_offset(uintptr_t addr, char *path, size_t size, uint64_t *off)
{
	char line[PATH_MAX + 128];
	FILE *f = fopen("/proc/self/maps", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (err && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, pgoff;
		int name = 0;

		if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %n", &lo, &hi, &pgoff, &name) < 3 ||
		    addr < lo || addr >= hi || !name || line[name] != '/')
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(path, size, "%s", line + name);
		*off = addr - lo + pgoff;
		err = 0;
	}
	fclose(f);
	return err;
}

/* A BPF program that returns 0, for uprobe_multi links: its fd, or -errno. */
static int load_noop(void)
{
	struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_KPROBE;
	attr.expected_attach_type = ATTACH_UPROBE_MULTI;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = sizeof(insns) / sizeof(insns[0]);
	attr.license = (uint64_t)(uintptr_t) "GPL";
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

/* ns a probe of `off` (ret: a uretprobe) in this process adds to a call of f. */
static int probe_cost(int prog, const char *path, uint64_t off, bool ret, void (*f)(void),
		      double plain, double *ns)
{
	int link = tb_link_uprobe_multi(prog, path, off, ret, getpid(), 0);

	if (link < 0)
		return link;
	*ns = time_calls(f) - plain;
	close(link);
	return 0;
}

int tracer_bpf__trap_costs(struct tracer_bpf_trap_costs *c, char *err, size_t errlen)
{
	char push_path[PATH_MAX], mov_path[PATH_MAX];
	uint64_t push_off, mov_off;
	double plain_push, plain_mov;
	int prog, e;

	memset(c, 0, sizeof(*c));
	e = file_offset((uintptr_t)tb_calib_push, push_path, sizeof(push_path), &push_off);
	if (!e)
		e = file_offset((uintptr_t)tb_calib_mov, mov_path, sizeof(mov_path), &mov_off);
	if (e) {
		snprintf(err, errlen, "the tracer's own code is not in a file it can name");
		return e;
	}
	prog = load_noop();
	if (prog < 0) {
		snprintf(err, errlen,
			 "a BPF program for uprobe_multi links (Linux 6.6+) was "
			 "refused: %s%s",
			 strerror(-prog), prog == -EPERM ? " (needs root or CAP_BPF)" : "");
		return prog;
	}
	plain_push = time_calls(tb_calib_push);
	plain_mov = time_calls(tb_calib_mov);
	e = probe_cost(prog, push_path, push_off, false, tb_calib_push, plain_push,
		       &c->emulated_ns);
	if (!e)
		e = probe_cost(prog, mov_path, mov_off, false, tb_calib_mov, plain_mov,
			       &c->stepped_ns);
	if (!e)
		e = probe_cost(prog, push_path, push_off, true, tb_calib_push, plain_push,
			       &c->return_ns);
	close(prog);
	if (e) {
		snprintf(err, errlen, "a uprobe on the tracer's own code was refused: %s%s",
			 strerror(-e),
			 e == -EINVAL || e == -EOPNOTSUPP ? " (uprobe_multi links need Linux 6.6+)"
			 : e == -EPERM			  ? " (needs root or CAP_BPF + CAP_PERFMON)"
							  : "");
		return e;
	}
	/* the uretprobe's own breakpoint is an entry's; noise may make the rest negative */
	c->return_ns = c->return_ns > c->emulated_ns ? c->return_ns - c->emulated_ns : 0;
	c->emulated_ns = c->emulated_ns > 0 ? c->emulated_ns : 0;
	c->stepped_ns = c->stepped_ns > 0 ? c->stepped_ns : 0;
	c->calls = CALLS;
	return 0;
}
