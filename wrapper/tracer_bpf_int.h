/* SPDX-License-Identifier: Apache-2.0 */
/* tracer_bpf_int.h - what the files of wrapper/ share and nothing else sees: the module's
 * state, and the helpers one file gives the others */
#ifndef TRACER_BPF_INT_H
#define TRACER_BPF_INT_H

#include <linux/bpf.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "tracer_bpf.h"

/* A BPF function loaded into the kernel, for one kind of attach. */
struct loaded_prog {
	char *name;
	int attach_type; /* expected_attach_type it was loaded with: ATTACH_PERF, multi, fentry.. */
	int fd;
};

/* bookworm's linux/bpf.h (6.1) predates uprobe_multi links (Linux 6.6): their numbers from
 * the kernel's UAPI, and BPF_LINK_CREATE's attr as 6.6 lays it out. */
#define ATTACH_PERF 0		      /* loaded for a perf event (any expected type) */
#define ATTACH_UPROBE_MULTI 48	      /* BPF_TRACE_UPROBE_MULTI */
#define UPROBE_MULTI_RETURN (1U << 0) /* BPF_F_UPROBE_MULTI_RETURN */

struct uprobe_multi_attr {
	uint32_t prog_fd, target_fd, attach_type, flags;
	uint64_t path, offsets, ref_ctr_offsets, cookies;
	uint32_t cnt, multi_flags, pid;
	uint32_t pad;
};

/* A uprobe_multi link of one probe of prog_fd at `offset` of `binary` (a uretprobe when
 * retprobe), in process pid (<= 0: every process), handing the program `cookie`: its fd, or
 * -errno (attach.c). */
int tb_link_uprobe_multi(int prog_fd, const char *binary, uint64_t offset, bool retprobe, int pid,
			 uint64_t cookie);

/* A uprobe (a uprobe_multi link; or a perf event + a BPF link carrying the cookie) or a
 * tracepoint (a perf event). */
struct attached_probe {
	char what[96]; /* for messages */
	int perf_fd;   /* -1 for a uprobe_multi link */
	int link_fd;   /* -1 for tracepoints */
	int pid;       /* the process it fires in; -1: every process */
};

/* One CPU's reader of one perf buffer table, with that table's callbacks. */
struct reader_ctx {
	tracer_bpf_sample_fn sample;
	tracer_bpf_lost_fn lost;
	void *ctx;
	int cpu;
	char table[64];
};

/* Readers taken out of a module, served by tracer_bpf__poll_readers alone. */
struct tracer_bpf_readers {
	struct perf_reader **readers;
	struct reader_ctx **reader_ctxs;
	int n;
};

/*
 * A map of the module: its shape, the fd its programs' instructions name (ref_fd) and the
 * fd used for it (fd). The same for a map libbcc made; when `shared`, a dup of an earlier
 * module's map (tracer_bpf__create's `share`); for a module made from an image, a map made
 * here. `owned`: fd is closed with the module.
 */
struct table_desc {
	char *name;
	uint32_t type, key_size, leaf_size, max_entries, flags;
	int ref_fd, fd;
	bool owned, shared;
};

/* A BPF function of the module: its instructions as compiled (map references: ref_fd). */
struct func_desc {
	char *name;
	struct bpf_insn *insns;
	size_t size; /* bytes */
};

struct tracer_bpf {
	void *mod;     /* libbcc's module; NULL when made from an image */
	char *src_dir; /* where the sources are, to name them in verifier errors; NULL none */
	struct table_desc *tables;
	int ntables;
	struct func_desc *funcs;
	int nfuncs;
	char *license;
	unsigned kern_version;
	struct loaded_prog *progs;
	int nprogs;
	struct attached_probe *probes;
	int nprobes;
	struct perf_reader **readers;
	struct reader_ctx **reader_ctxs;
	int nreaders;
	int uprobe_type;  /* the uprobe PMU's perf type, read on first attach */
	int retprobe_bit; /* its config bit that makes a return probe */
	int multi;	  /* uprobe_multi links: 0 not tried yet, 1 work, -1 not here */
};

/* module.c: the map `name` of tb (NULL: none), its fd as the programs use it (-1: none), the
 * function `name` (NULL: none), and a copy of f's instructions with each map reference
 * turned to the fd used for that map (NULL when out of memory). */
struct table_desc *tb_table(const struct tracer_bpf *tb, const char *name);
int tb_table_fd(const struct tracer_bpf *tb, const char *table);
const struct func_desc *tb_func(const struct tracer_bpf *tb, const char *name);
struct bpf_insn *tb_relocated_insns(const struct tracer_bpf *tb, const struct func_desc *f);

/* load.c: the program fd of `fn` of type prog_type for attach type `attach_type` (ATTACH_*,
 * or BPF_TRACE_FENTRY/FEXIT with the kernel function's BTF id `btf_id`), loaded on first use;
 * -errno with `err` saying why. */
int tb_load_prog(struct tracer_bpf *tb, const char *fn, int prog_type, int attach_type, int btf_id,
		 char *err, size_t errlen);

/* perf.c: a CPU list file ("0-3,5") as a bitmap of up to `max` CPUs; how many it lists or
 * -errno. maps.c: how many values a per-CPU map has (one per possible CPU), or -errno. */
int tb_read_cpu_list(const char *path, bool *online, int max);
int tb_possible_cpus(void);

#endif
