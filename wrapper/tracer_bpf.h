/* SPDX-License-Identifier: Apache-2.0 */
/* tracer_bpf.h - a thin, owning C wrapper over libbcc's C API */
#ifndef TRACER_BPF_H
#define TRACER_BPF_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One compiled BPF module plus everything attached or opened from it. The
 * wrapper records every uprobe it attaches and every perf reader it opens, so
 * tracer_bpf__destroy() can take all of it down again. All functions return 0
 * or a negative errno unless they say otherwise.
 */
struct tracer_bpf;

/* Called for each sample a perf buffer delivers; data is valid during the call only. */
typedef void (*tracer_bpf_sample_fn)(void *ctx, int cpu, const void *data, int size);
/* Called when the kernel dropped `count` samples of CPU `cpu` because its buffer was full. */
typedef void (*tracer_bpf_lost_fn)(void *ctx, int cpu, uint64_t count);

/*
 * Compiles the C text `source` with libbcc, passing `cflags` (e.g. "-DTRACE_PID=42") to
 * clang. Compiler diagnostics are printed to stderr as clang reports them. On success *out
 * is a new module owned by the caller (free it with tracer_bpf__destroy()); on a compile
 * error returns -EINVAL.
 *
 * With `share` (an earlier module, which may be destroyed later), each map of the new module
 * that `share` has too, by name, type, key and value size, entries and flags, is `share`'s
 * map: the new programs see and extend its contents, and its perf buffers keep receiving
 * (tracer_bpf__adopt_readers). The other maps start empty.
 */
int tracer_bpf__create(const char *source, const char *const *cflags, int ncflags,
		       const struct tracer_bpf *share, struct tracer_bpf **out);

/*
 * A compiled module as plain data, to keep and to make a module from again without
 * compiling (tracer/bpfcache.c keeps them on disk). Its maps by shape, each with the fd
 * number its programs' instructions name; its functions' instructions as compiled.
 */
struct tracer_bpf_table {
	char name[64];
	uint32_t type, key_size, leaf_size, max_entries, flags;
	int32_t ref_fd;
};

struct tracer_bpf_func {
	char name[128];
	uint32_t size;	   /* bytes of insns */
	const void *insns; /* struct bpf_insn[size / 8] */
};

struct tracer_bpf_image {
	char license[64];
	uint32_t kern_version;
	int ntables, nfuncs;
	struct tracer_bpf_table *tables;
	struct tracer_bpf_func *funcs;
};

/* Describes module tb as an image; its insns point into tb (valid while tb lives). Free
 * with tracer_bpf__image_free. -ENAMETOOLONG when a name does not fit; -EOPNOTSUPP when a
 * program refers to something other than the module's maps (an image could not carry it). */
int tracer_bpf__image(const struct tracer_bpf *tb, struct tracer_bpf_image *img);
void tracer_bpf__image_free(struct tracer_bpf_image *img);

/*
 * Makes a module from an image without compiling: its maps are made anew (or shared with
 * `share`'s, as tracer_bpf__create does), its programs loaded from the image's instructions
 * when first used (the kernel's verifier checks them as ever; its messages then name no
 * source line, as the image keeps none). *out as tracer_bpf__create's.
 */
int tracer_bpf__create_from_image(const struct tracer_bpf_image *img,
				  const struct tracer_bpf *share, struct tracer_bpf **out);

/* Writes what compiles the sources (libbcc's version, and its file's path, size and time):
 * a compile cache's key must change when it does. Returns 0. */
int tracer_bpf__compiler_id(char *buf, size_t len);

/* Names directory `dir` as where the sources are: a verifier error then names the file in
 * it ("dir/file.c:12") when it is there. */
int tracer_bpf__set_source_dir(struct tracer_bpf *tb, const char *dir);

/* Whether map `table` is an earlier module's (tracer_bpf__create's `share`). */
bool tracer_bpf__table_shared(const struct tracer_bpf *tb, const char *table);

/* Writes up to `max` names of the module's BPF functions; returns how many it has. */
int tracer_bpf__functions(const struct tracer_bpf *tb, const char **names, int max);

/* Writes up to `max` names of the module's maps; returns how many it has. */
int tracer_bpf__tables(const struct tracer_bpf *tb, const char **names, int max);

/*
 * What tracer_bpf__load and the attach functions return (negated) when the kernel's verifier
 * refused the BPF function, and only then: its message says FILE:LINE and why.
 */
#define TRACER_BPF_EVERIFIER EBADMSG

/*
 * The wrapper prints nothing (tracer/diag.h has the tree's convention): each function that
 * can fail returns -errno and, where it takes `char *err, size_t errlen`, the message, which
 * the caller says. TRACER_BPF_ERRLEN is room for the longest: a refused program's verifier
 * log tail (the last lines, each cut to 120 characters) ahead of the one-line reason.
 */
#define TRACER_BPF_ERRLEN 4096

/*
 * Loads BPF function `fn` into the kernel (the verifier checks it) without attaching it, as
 * its name says: "tracepoint__*" a tracepoint program, "kfunc__*"/"kretfunc__*" a fentry/
 * fexit program on the kernel function of BTF id `btf_id`, any other a uprobe (kprobe-type)
 * one. On failure returns -errno and writes the reason into `err`: for a program the
 * verifier rejected (-TRACER_BPF_EVERIFIER), "FILE:LINE: the verifier rejected BPF function
 * 'fn': WHY", FILE in the source directory when it is set and has it, else as the compiler
 * named it, after the last lines of the verifier's log.
 */
int tracer_bpf__load(struct tracer_bpf *tb, const char *fn, int btf_id, char *err, size_t errlen);

/*
 * From a verifier log: `where` the verifier stopped ("file.c:12", the last source line it
 * named) and `why` (its complaint, the line before "processed N insns"). Returns 0, or
 * -ENOENT when the log does not tell both.
 */
int tracer_bpf__verifier_summary(const char *log, char *where, size_t wherelen, char *why,
				 size_t whylen);

/* Whether the compiled module defines the BPF function `fn`. */
bool tracer_bpf__has_function(const struct tracer_bpf *tb, const char *fn);

/* Whether the compiled module defines the map `table`. */
bool tracer_bpf__has_table(const struct tracer_bpf *tb, const char *table);

/*
 * Loads BPF function `fn` into the kernel (once; later attaches reuse it) and attaches it
 * as a uprobe - a return probe when `retprobe` - at file offset `offset` of `binary`, firing
 * in every process that maps the file, now or later (`pid` -1; a PID: in that process
 * alone, the kernel keeping the others out; the tracer's PID mode uses a scope instead,
 * which follows children too). A uprobe_multi link
 * where the kernel has them (6.6+; released without a global lock), else a perf event. The program
 * reads `cookie` with bpf_get_attach_cookie(ctx). On failure returns -errno and writes the
 * reason, naming `fn`, into `err` (after a refusing verifier's last lines, if any).
 */
int tracer_bpf__attach_uprobe(struct tracer_bpf *tb, const char *fn, const char *binary,
			      uint64_t offset, bool retprobe, int pid, uint64_t cookie, char *err,
			      size_t errlen);

/* Makes tracer_bpf__attach_uprobe use perf uprobe events, as on kernels before 6.6, even
 * where uprobe_multi links work. */
void tracer_bpf__prefer_perf_uprobes(struct tracer_bpf *tb);

/* What one hit of a uprobe costs a traced program on this machine, by class (ns): at an
 * instruction the kernel emulates, at one it single-steps, and what a uretprobe adds at the
 * function's return (its trampoline) beside the breakpoint at the entry. */
struct tracer_bpf_trap_costs {
	double emulated_ns, stepped_ns, return_ns;
	int calls; /* calls timed per figure (the least of five timings) */
};

/* Measures them on functions of the tracer's own, probed in this process alone (uprobe_multi
 * links, Linux 6.6+) with a BPF program that does nothing; ~0.1 s. 0, or -errno with why in
 * err. */
int tracer_bpf__trap_costs(struct tracer_bpf_trap_costs *c, char *err, size_t errlen);

/* Loads `fn` as a tracepoint program and attaches it to `category`:`event` (e.g.
 * "sched", "sched_process_exec"). Errors as tracer_bpf__attach_uprobe. */
int tracer_bpf__attach_tracepoint(struct tracer_bpf *tb, const char *fn, const char *category,
				  const char *event, char *err, size_t errlen);

/*
 * The kernel function a BPF function named for one attaches to: "kfunc__NAME" (fentry) or
 * "kretfunc__NAME" (fexit; *exit set), also "k(ret)func__vmlinux__NAME" as newer libbcc
 * names them. Returns NAME (inside fn), or NULL for any other function.
 */
const char *tracer_bpf__kernel_function(const char *fn, bool *exit);

/* Whether this kernel runs fentry programs: an empty one loaded and attached for a moment
 * on the kernel function of BTF id `btf_id`. 0, or the kernel's -errno (some kernels refuse
 * BPF trampolines: -EPERM). */
int tracer_bpf__probe_kfunc(int btf_id);

/*
 * Loads `fn` as a fentry or fexit program (as tracer_bpf__kernel_function tells) on the
 * kernel function whose BTF type id is `btf_id` and attaches it: it runs as that function
 * is entered (or returns, with its return value), in every process, with no trap and
 * without slowing the process's other system calls as syscall tracepoints do. Needs a
 * kernel with BTF and BPF trampolines (5.5+ on x86-64). Errors as tracer_bpf__attach_uprobe.
 */
int tracer_bpf__attach_kfunc(struct tracer_bpf *tb, const char *fn, int btf_id, char *err,
			     size_t errlen);

/*
 * The file offsets of functions names[0..n) (n at most TRACER_BPF_MAX_SYMBOLS) in the ELF
 * file `path`, from its static and dynamic symbol tables, in one pass (a lookup each costs
 * a pass each: ~7 ms in node's 75,000 symbols). found[i] says whether names[i] was found
 * (the first symbol of that name, as bcc_resolve_symname takes it; a name ending in '*', the
 * one function whose name begins so, not found when two do); then offsets[i] is its offset. Returns
 * 0, -EINVAL for too many names, -ENOEXEC when the file cannot be read as ELF.
 */
#define TRACER_BPF_MAX_SYMBOLS 128
int tracer_bpf__symbol_offsets(const char *path, const char *const *names, int n, uint64_t *offsets,
			       bool *found);

/* The path the ld.so cache gives library `lib` ("ssl", "libssl.so.3"), malloc'd (the caller
 * frees it); NULL when the cache has none. */
char *tracer_bpf__which_so(const char *lib);

/*
 * A scope: the processes a PID-mode session traces, kept by the kernel itself. Its probe
 * points are two uprobe trace events of tracefs (group "tracer_<pid>"): one holding every
 * entry point, one every return point, each point appended as it is found. Every traced
 * thread holds a perf event of each, which the kernel copies into each child and thread it
 * starts, inside fork(), before that child runs (when the scope inherits): the kernel writes
 * the breakpoints into the memory of these processes only, a child is covered from its first
 * instruction, and a point added later goes into every process of the scope at once. The
 * BPF programs run through one function per event (tracer_scope__attach), which finds the
 * point hit itself. A process of its own removes the trace events should the tracer be
 * killed. Its functions may be called from several threads.
 */
struct tracer_scope;

/*
 * Makes the scope's trace events under tracefs directory `tracefs` (removing those of
 * tracers that died without doing so). `inherit`: children and threads started later are in
 * the scope. `guards`: give each process guard events (tracer_scope__guard) even where the
 * kernel does not need them (Linux 6.12+ keeps the inherited events' contexts apart; older
 * kernels need them). *out freed with tracer_scope__destroy. 0, or -errno with why in err.
 */
int tracer_scope__open(const char *tracefs, bool inherit, bool guards, struct tracer_scope **out,
		       char *err, size_t errlen);

/* Whether each process of the scope needs guard events of its own: each new child is to be
 * given them (tracer_scope__guard) as soon as it is known. */
bool tracer_scope__guards(const struct tracer_scope *sc);

/* The trace event group's name ("tracer_<pid>"). */
const char *tracer_scope__group(const struct tracer_scope *sc);

/*
 * Adds a probe point at file offset `offset` of `binary` (a return probe when `retprobe`):
 * from now on it fires in every process of the scope that maps the file. Returns 0, 1 when
 * that point is there already (the same file by identity), or -errno with why in err.
 */
int tracer_scope__add_probe(struct tracer_scope *sc, const char *binary, uint64_t offset,
			    bool retprobe, char *err, size_t errlen);

/* Puts thread tid of process tgid in the scope (with what it starts later, when the scope
 * inherits), guarded. 0, -ESRCH when it is gone, or -errno. */
int tracer_scope__add_thread(struct tracer_scope *sc, int tid, int tgid);

/* Puts every thread of process pid in the scope: 0, -ESRCH when it is gone, or -errno. */
int tracer_scope__add_process(struct tracer_scope *sc, int pid);

/*
 * Gives process pid, a child that is in the scope by inheritance, guard events of its own
 * (its main thread's) when the scope needs them (tracer_scope__guards): its memory stays in
 * the kernel's filter whatever perf does with the inherited events, and its children's perf
 * contexts are no clones (which perf would swap between tasks). 0 (also when none are
 * needed), -ESRCH when it is gone, or -errno.
 */
int tracer_scope__guard(struct tracer_scope *sc, int pid);

/* Whether the scope holds events of its own for a thread of process pid (one put in by
 * tracer_scope__add_* or guarded, not one that only inherited them). */
bool tracer_scope__has_process(struct tracer_scope *sc, int pid);

/* Closes the events the scope holds for the threads of process pid (the kernel dropped
 * them, or they were opened for a process that ended meanwhile). */
void tracer_scope__drop_process(struct tracer_scope *sc, int pid);

/* Process pid exited: its guards are closed; its inherited events are kept until the scope
 * goes, since closing one frees the copies its running descendants hold. */
void tracer_scope__process_exited(struct tracer_scope *sc, int pid);

/* Probe points added (the placeholders that make the events exist not counted). */
int tracer_scope__points(struct tracer_scope *sc);

/*
 * Runs BPF functions `entry_fn` and `return_fn` of module tb (loaded here) on every hit of
 * the scope's entry and return points, through anchor perf events that are tb's probes:
 * tracer_bpf__detach_all and destroy take them off. 0, or -errno with why in err.
 */
int tracer_scope__attach(struct tracer_bpf *tb, struct tracer_scope *sc, const char *entry_fn,
			 const char *return_fn, char *err, size_t errlen);

/* Closes the perf events the scope holds for its processes: they leave it, and the kernel
 * takes its breakpoints out of their memory (children started from now on are not in it);
 * no process is put in again. The points and trace events stay. NULL is a no-op. */
void tracer_scope__release(struct tracer_scope *sc);

/* Closes the scope's perf events and removes its trace events (once no module's programs
 * hang on them). Returns 0 or -errno with why in err (may be NULL). NULL is a no-op. */
int tracer_scope__destroy(struct tracer_scope *sc, char *err, size_t errlen);

/*
 * Loads BPF function `fn` (for a perf event, as the scope's functions are) and puts it in
 * slot `slot` of program array `table`: a tail call to that slot runs it. 0, or -errno
 * with why in err. Program arrays are never shared with a later module (a reload's): they
 * hold this module's programs.
 */
int tracer_bpf__set_tail_call(struct tracer_bpf *tb, const char *table, uint32_t slot,
			      const char *fn, char *err, size_t errlen);

/* Number of uprobes, tracepoints and kernel-function programs attached so far. */
int tracer_bpf__attached(const struct tracer_bpf *tb);

/*
 * Opens one perf reader per online CPU for the BPF_PERF_OUTPUT table `table`, each with
 * `page_cnt` data pages (a power of two) and waking the reader every `wakeup_events`
 * samples. `sample` and `lost` (both required) get `ctx` and the CPU. Several tables may
 * be opened, each with its own callbacks; tracer_bpf__poll serves them all. Returns 0, or
 * -errno with what failed in err.
 */
int tracer_bpf__open_perf_buffer(struct tracer_bpf *tb, const char *table, int page_cnt,
				 int wakeup_events, tracer_bpf_sample_fn sample,
				 tracer_bpf_lost_fn lost, void *ctx, char *err, size_t errlen);

/* Called once per entry of a per-CPU table: its u32 key and its n counters summed over CPUs. */
typedef void (*tracer_bpf_sums_fn)(void *ctx, uint32_t key, const uint64_t *sums, int n);

/*
 * Walks the per-CPU table `table` (array or hash, u32 keys, values of u64 counters) and
 * calls `fn` with each entry's counters summed over all CPUs. One lookup per entry.
 */
int tracer_bpf__sum_percpu(struct tracer_bpf *tb, const char *table, tracer_bpf_sums_fn fn,
			   void *ctx);

/*
 * Writes entry `key` of table `table`; `size` must be the table's value size. A per-CPU
 * table gets the same value on every possible CPU.
 */
int tracer_bpf__update(struct tracer_bpf *tb, const char *table, uint32_t key, const void *value,
		       size_t size);

/* The same for a table whose key is not a u32: `key_size` must be its key size. */
int tracer_bpf__update_key(struct tracer_bpf *tb, const char *table, const void *key,
			   size_t key_size, const void *value, size_t size);

/* Deletes entry `key` of table `table` (u32 keys). Returns 0 or -errno (-ENOENT: none). */
int tracer_bpf__delete(struct tracer_bpf *tb, const char *table, uint32_t key);

/* The same for a table whose key is not a u32: `key_size` must be its key size. */
int tracer_bpf__delete_key(struct tracer_bpf *tb, const char *table, const void *key,
			   size_t key_size);

/* Writes up to `max` u32 keys of table `table` into keys. Returns how many, or -errno. */
int tracer_bpf__keys(struct tracer_bpf *tb, const char *table, uint32_t *keys, int max);

/* The same for keys of key_size bytes (the table's), written one after another. */
int tracer_bpf__keys_of(struct tracer_bpf *tb, const char *table, void *keys, size_t key_size,
			int max);

/* Every entry of table `table`, by batches where the kernel has them: *keys and *values,
 * allocated (the caller frees both), hold them one after another in the table's key and
 * value sizes (*key_size, *leaf_size). Returns how many, or -ENOENT (no such table), -EINVAL
 * (a per-CPU table, keys over 8 bytes, no entries), -ENOMEM, -errno. */
int tracer_bpf__read_all(struct tracer_bpf *tb, const char *table, void **keys, void **values,
			 size_t *key_size, size_t *leaf_size);

/* Reads entry `key` of table `table` into value (size: the table's value size). 0, or
 * -ENOENT when there is none (or no such table), -EINVAL for wrong sizes. */
int tracer_bpf__lookup_key(struct tracer_bpf *tb, const char *table, const void *key,
			   size_t key_size, void *value, size_t size);

/* A file descriptor of map `table` of its own (a dup), which outlives tb (a map shared with a
 * reload's module stays the same map): the caller closes it. -ENOENT when tb has none. */
int tracer_bpf__table_dup(const struct tracer_bpf *tb, const char *table);

/* Reads entry `key` of the map behind fd into value (as the map's sizes). 0 or -errno. */
int tracer_bpf__fd_lookup(int fd, const void *key, void *value);

/*
 * Waits up to `timeout_ms` for a reader to wake, then delivers every sample buffered on
 * every CPU (so samples below the wake-up batch are not held back).
 */
int tracer_bpf__poll(struct tracer_bpf *tb, int timeout_ms);

/* The same, woken too when `fd` (-1: none) turns readable (an inotify instance). */
int tracer_bpf__poll_with(struct tracer_bpf *tb, int timeout_ms, int fd);

/*
 * Takes the readers of perf buffer `table` out of tb into a set of their own, which
 * tracer_bpf__poll no longer serves: another thread serves it with tracer_bpf__poll_readers
 * (as tracer_bpf__poll does). The set outlives tb; tracer_bpf__free_readers frees it. NULL
 * when out of memory.
 */
struct tracer_bpf_readers *tracer_bpf__take_readers(struct tracer_bpf *tb, const char *table);
int tracer_bpf__poll_readers(struct tracer_bpf_readers *set, int timeout_ms);
void tracer_bpf__free_readers(struct tracer_bpf_readers *set);

/*
 * Moves the perf readers of `from` (whose perf buffer maps tb shares) to tb, which must have
 * none: tracer_bpf__poll(tb) serves them from now on. Returns 0 or -EBUSY.
 */
int tracer_bpf__adopt_readers(struct tracer_bpf *tb, struct tracer_bpf *from);

/*
 * Detaches every uprobe and tracepoint, from several threads at once (the kernel waits a grace
 * period in each release; in parallel they overlap); the perf readers stay open so what is
 * buffered can still be drained. Returns 0, or the first -errno with what failed in err (how
 * many probes, the first of them). Calling it again does nothing.
 */
int tracer_bpf__detach_all(struct tracer_bpf *tb, char *err, size_t errlen);

/*
 * Detaches every uprobe still attached (as tracer_bpf__detach_all), closes the perf
 * readers and frees the module. Returns 0 or the first -errno; says nothing (the owner calls
 * tracer_bpf__detach_all first to learn what failed).
 * NULL is a no-op.
 */
int tracer_bpf__destroy(struct tracer_bpf *tb);

#endif
