/* session.c - one tracing session: target, probes, compiled BPF, perf buffers, accounting */
#define _GNU_SOURCE
#include "session.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "kheaders.h"
#include "output.h"
#include "procmaps.h"
#include "sources.h"
#include "tls_event.h"
#include "tracer_bpf.h"

#define POLL_TIMEOUT_MS 100
#define WAKEUP_EVENTS 1
#define EVENTS_TABLE "tls_events"
#define STATS_TABLE "tls_stats"
#define SETTINGS_TABLE "tls_settings"
#define PERF_RECORD_OVERHEAD 16 /* perf_event_header + raw size, 8-byte aligned */
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39
#define CAP_SYS_ADMIN_BIT 21

/* Root, or CAP_BPF + CAP_PERFMON (CAP_SYS_ADMIN covers both on older kernels). */
static int check_privileges(void)
{
	unsigned long long eff = 0;
	char line[256];
	FILE *f;

	if (geteuid() == 0)
		return 0;
	f = fopen("/proc/self/status", "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	if (f)
		fclose(f);
	if ((eff >> CAP_SYS_ADMIN_BIT) & 1 ||
	    (((eff >> CAP_BPF_BIT) & 1) && ((eff >> CAP_PERFMON_BIT) & 1)))
		return 0;
	fprintf(stderr,
		"tracer needs root, or the capabilities CAP_BPF and CAP_PERFMON "
		"(missing:%s%s); try: sudo tracer ...\n",
		(eff >> CAP_BPF_BIT) & 1 ? "" : " CAP_BPF",
		(eff >> CAP_PERFMON_BIT) & 1 ? "" : " CAP_PERFMON");
	return -EPERM;
}

/* Compiles bpf_src with the settings as -D macros; says which headers with -v. */
static int compile_bpf(const struct env *env, const char *bpf_dir, struct tracer_bpf **tb)
{
	struct kheaders kh;
	struct utsname un;
	char pid_flag[32], size_flag[32], chunks_flag[32], inc_flag[PATH_MAX + 4], *source = NULL;
	const char *cflags[4 + KHEADERS_MAX_CFLAGS];
	int ncflags = 0, i, err;

	uname(&un);
	err = kheaders_find(un.release, un.machine, "/lib/modules", "/usr/src", &kh, stderr);
	if (err)
		return err;
	kheaders_apply(&kh);
	if (env->verbose)
		fprintf(stderr, "kernel headers: %s\n", kh.desc);
	err = sources_read_bpf(bpf_dir, &source, stderr);
	if (err)
		return err;
	/* Only validated numbers and our own paths reach the compiler's command line. */
	snprintf(pid_flag, sizeof(pid_flag), "-DTRACE_PID=%d", (int)env->pid);
	snprintf(size_flag, sizeof(size_flag), "-DMAX_DATA_SIZE=%d", env->max_data_size);
	snprintf(chunks_flag, sizeof(chunks_flag), "-DMAX_CHUNKS=%d", options_max_chunks(env));
	snprintf(inc_flag, sizeof(inc_flag), "-I%s", bpf_dir);
	cflags[ncflags++] = pid_flag;
	cflags[ncflags++] = size_flag;
	cflags[ncflags++] = chunks_flag;
	cflags[ncflags++] = inc_flag;
	for (i = 0; i < kh.ncflags; i++)
		cflags[ncflags++] = kh.cflags[i];
	if (env->verbose) {
		fprintf(stderr, "compiling %s with", bpf_dir);
		for (i = 0; i < ncflags; i++)
			fprintf(stderr, " %s", cflags[i]);
		fputc('\n', stderr);
	}
	err = tracer_bpf__create(source, cflags, ncflags, tb);
	free(source);
	if (err)
		fprintf(stderr,
			"failed to compile the BPF sources in '%s' (clang's messages above)\n",
			bpf_dir);
	return err;
}

/* Every BPF function the resolved specs name must exist in the module. */
static int check_functions(struct tracer_bpf *tb, const struct probe_set *set)
{
	int i, err = 0;

	for (i = 0; i < set->n; i++) {
		if (!tracer_bpf__has_function(tb, set->p[i].spec->bpf_fn)) {
			fprintf(stderr, "%s: BPF function '%s' is not defined in bpf_src\n",
				set->p[i].spec->origin, set->p[i].spec->bpf_fn);
			err = -EINVAL;
		}
	}
	return err;
}

/*
 * The settings that change nothing in the program's shape go to the tls_settings map. A
 * user's bpf_src without that map gets none of them: that is only fine without filters
 * and with a per-call limit the compiled bound already gives.
 */
static int write_settings(struct tracer_bpf *tb, const struct env *env)
{
	struct tls_settings set = {
		.dirs = (env->no_read ? 0 : 1u << TLS_DIR_READ) |
			(env->no_write ? 0 : 1u << TLS_DIR_WRITE),
		.sample = env->sample,
		.uid = env->any_uid ? TLS_ANY_UID : env->uid,
		.max_call_bytes = (uint64_t)env->max_call_bytes,
	};
	struct tls_stats zero = {0};
	char filters[128];
	int err;

	err = tracer_bpf__update(tb, SETTINGS_TABLE, 0, &set, sizeof(set));
	options_describe_filters(env, filters, sizeof(filters));
	/* Without the map the compiled bound, MAX_CHUNKS whole chunks, is the limit: fine
	 * when no filter is asked for and the limit is a whole number of chunks. */
	if (err == -ENOENT && !filters[0] && env->max_call_bytes % env->max_data_size == 0)
		err = 0;
	if (err) {
		fprintf(stderr, "failed to write the settings to BPF map '%s': %s\n",
			SETTINGS_TABLE,
			err == -ENOENT ? "bpf_src defines no such map" : strerror(-err));
		return err;
	}
	/* Processes that find the per-process counters full share this entry. */
	err = tracer_bpf__update(tb, STATS_TABLE, TLS_STATS_OTHER_KEY, &zero, sizeof(zero));
	if (err && err != -ENOENT) {
		fprintf(stderr, "failed to set up BPF map '%s': %s\n", STATS_TABLE, strerror(-err));
		return err;
	}
	return 0;
}

int session_open(struct session *s, const struct env *env)
{
	char bpf_dir[PATH_MAX], spec_dir[PATH_MAX];
	int err;

	s->env = env;
	s->pidfd = -1;

	/* Privileges, data directories and the probe spec table. */
	if (check_privileges() ||
	    sources_find_dir("bpf_src", env->bpf_src, bpf_dir, sizeof(bpf_dir), stderr) ||
	    sources_find_dir("probe_specs", env->probe_specs, spec_dir, sizeof(spec_dir), stderr))
		return EXIT_RUNTIME;
	err = spec_table_load(spec_dir, &s->specs, stderr);
	if (err)
		return err == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;

	/* The target: its libraries and the symbols to probe in them. */
	s->pidfd = (int)syscall(SYS_pidfd_open, env->pid, 0);
	if ((s->pidfd < 0 && errno == ESRCH) ||
	    proc_read_comm(env->pid, s->comm, sizeof(s->comm))) {
		fprintf(stderr, "no process with PID %d\n", (int)env->pid);
		return EXIT_RUNTIME;
	}
	if (probes_resolve(env->pid, &s->specs, &s->probes, env->verbose, stderr))
		return EXIT_RUNTIME;

	/* Compile bpf_src for this target; every spec's BPF function must exist. */
	if (compile_bpf(env, bpf_dir, &s->tb))
		return EXIT_RUNTIME;
	if (check_functions(s->tb, &s->probes))
		return EXIT_USAGE;
	if (write_settings(s->tb, env))
		return EXIT_RUNTIME;

	/* Perf buffers first, then the probes, so no event finds the buffer missing. */
	s->ev = malloc(sizeof(*s->ev));
	if (!s->ev)
		return EXIT_RUNTIME;
	events_init(s->ev, &s->probes, stdout, env->json, env->hexdump,
		    (uint32_t)env->max_data_size);
	s->ev->sink = s->sink;
	s->ev->sink_ctx = s->sink_ctx;
	if (tracer_bpf__open_perf_buffer(
		    s->tb, EVENTS_TABLE,
		    options_perf_pages(env, sysconf(_SC_PAGESIZE),
				       TLS_EVENT_HDR_SIZE + PERF_RECORD_OVERHEAD),
		    WAKEUP_EVENTS, events_on_sample, events_on_lost, s->ev) ||
	    probes_attach(s->tb, &s->probes, env->pid, env->verbose, stderr))
		return EXIT_RUNTIME;
	return EXIT_OK;
}

void session_announce(const struct session *s)
{
	char libs[1024], filters[128];

	probes_libraries(&s->probes, libs, sizeof(libs));
	options_describe_filters(s->env, filters, sizeof(filters));
	fprintf(stderr, "Tracing PID %d (%s): %d probes on %s%s%s. Ctrl-C to end.\n",
		(int)s->env->pid, s->comm, tracer_bpf__attached(s->tb), libs,
		filters[0] ? "; capturing " : "", filters);
}

/* Whether the target has exited (a pidfd turns readable; without one, kill(0) fails). */
static bool target_gone(int pidfd, pid_t pid)
{
	struct pollfd pfd = {.fd = pidfd, .events = POLLIN};

	if (pidfd >= 0)
		return poll(&pfd, 1, 0) > 0;
	return kill(pid, 0) != 0 && errno == ESRCH;
}

/* Flushes stdout; a reader that went away (EPIPE) ends tracing quietly, other errors say so. */
static int flush_output(void)
{
	if (fflush(stdout) == 0)
		return 0;
	if (errno != EPIPE)
		fprintf(stderr, "failed to write events to stdout: %s\n", strerror(errno));
	return -errno;
}

void session_run(struct session *s, volatile sig_atomic_t *stop)
{
	uint64_t round;

	while (!*stop && !s->target_exited) {
		round = events_now();
		tracer_bpf__poll(s->tb, POLL_TIMEOUT_MS);
		events_deliver(s->ev, round);
		if (flush_output())
			break;
		s->target_exited = target_gone(s->pidfd, s->env->pid);
	}
}

int session_finish(struct session *s)
{
	int err, read_err;

	/* Detach first, so nothing new arrives; then drain and account for every byte. */
	err = tracer_bpf__detach_all(s->tb) ? EXIT_RUNTIME : EXIT_OK;
	tracer_bpf__poll(s->tb, 0);
	events_finish(s->ev);
	read_err = tracer_bpf__sum_percpu(s->tb, STATS_TABLE, events_on_counters, s->ev);
	if (read_err)
		fprintf(stderr, "failed to read the BPF counters in '%s': %s\n", STATS_TABLE,
			strerror(-read_err));
	events_summary(s->ev, read_err == 0, s->target_exited ? "target exited" : "stopped",
		       stderr);
	flush_output();
	return err;
}

int session_free(struct session *s)
{
	int err = tracer_bpf__destroy(s->tb) ? EXIT_RUNTIME : EXIT_OK;

	s->tb = NULL;
	if (s->pidfd >= 0)
		close(s->pidfd);
	s->pidfd = -1;
	if (s->ev)
		events_free(s->ev);
	free(s->ev);
	s->ev = NULL;
	probes_free(&s->probes);
	spec_table_free(&s->specs);
	return err;
}
