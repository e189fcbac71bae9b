/* main.c - tracer: show a process's TLS plaintext, captured by uprobes on its TLS library */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "kheaders.h"
#include "options.h"
#include "output.h"
#include "probes.h"
#include "sources.h"
#include "spec.h"
#include "tls_event.h"
#include "tracer_bpf.h"

#define POLL_TIMEOUT_MS 100
#define WAKEUP_EVENTS 1
#define EVENTS_TABLE "tls_events"
#define STATS_TABLE "tls_stats"
#define MAX_CPUS 1024
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39
#define CAP_SYS_ADMIN_BIT 21

static volatile sig_atomic_t exiting;

/* What the event callbacks need, and what the summary reports. */
struct session {
	const struct env *env;
	const struct probe_set *probes;
	uint64_t start_ns;
	uint64_t events, bytes_moved, bytes_captured, bytes_truncated, malformed;
	uint64_t lost_total, lost[MAX_CPUS], lost_unreported;
};

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void on_event(void *ctx, int cpu, const void *data, int size)
{
	struct session *s = ctx;
	const struct tls_event *ev = data;
	const struct resolved_probe *rp;
	struct out_event out;
	char comm[TLS_COMM_LEN + 1];

	(void)cpu;
	if (size < (int)TLS_EVENT_HDR_SIZE || ev->data_len > ev->len ||
	    ev->data_len > (uint32_t)(size - (int)TLS_EVENT_HDR_SIZE)) {
		s->malformed++;
		return;
	}
	rp = probes_by_addr(s->probes, ev->func_addr);
	memcpy(comm, ev->comm, TLS_COMM_LEN);
	comm[TLS_COMM_LEN] = '\0';
	out = (struct out_event){
		.func = rp ? rp->spec->symbol : "?",
		.time_ns = ev->time_ns > s->start_ns ? ev->time_ns - s->start_ns : 0,
		.comm = comm,
		.pid = ev->pid,
		.tid = ev->tid,
		.len = ev->len,
		.data = (const unsigned char *)ev->data,
		.data_len = ev->data_len,
	};
	output_event(stdout, &out, s->env->hexdump);
	s->events++;
	s->bytes_moved += ev->len;
	s->bytes_captured += ev->data_len;
	s->bytes_truncated += ev->len - ev->data_len;
}

static void on_lost(void *ctx, int cpu, uint64_t count)
{
	struct session *s = ctx;

	if (cpu >= 0 && cpu < MAX_CPUS)
		s->lost[cpu] += count;
	s->lost_total += count;
	fprintf(stderr, "lost %llu events on CPU %d\n", (unsigned long long)count, cpu);
}

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
	fprintf(stderr, "tracer needs root, or the capabilities CAP_BPF and CAP_PERFMON "
			"(missing:%s%s); try: sudo tracer ...\n",
		(eff >> CAP_BPF_BIT) & 1 ? "" : " CAP_BPF",
		(eff >> CAP_PERFMON_BIT) & 1 ? "" : " CAP_PERFMON");
	return -EPERM;
}

static int read_comm(pid_t pid, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, (int)size, f)) {
		if (f)
			fclose(f);
		snprintf(buf, size, "?");
		return -ESRCH;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Compiles bpf_src with the settings as -D macros; says which headers with -v. */
static int compile_bpf(const struct env *env, const char *bpf_dir, struct tracer_bpf **tb)
{
	struct kheaders kh;
	struct utsname un;
	char pid_flag[32], size_flag[32], inc_flag[PATH_MAX + 4], *source = NULL;
	const char *cflags[3 + KHEADERS_MAX_CFLAGS];
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
	snprintf(inc_flag, sizeof(inc_flag), "-I%s", bpf_dir);
	cflags[ncflags++] = pid_flag;
	cflags[ncflags++] = size_flag;
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
		fprintf(stderr, "failed to compile the BPF sources in '%s' (clang's messages above)\n",
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

static int install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* Whether the target has exited (a pidfd turns readable; without one, kill(0) fails). */
static bool target_gone(int pidfd, pid_t pid)
{
	struct pollfd pfd = {.fd = pidfd, .events = POLLIN};

	if (pidfd >= 0)
		return poll(&pfd, 1, 0) > 0;
	return kill(pid, 0) != 0 && errno == ESRCH;
}

/* Losses the kernel had no later event to report through the loss callback. */
static void reconcile_lost(struct tracer_bpf *tb, struct session *s)
{
	uint64_t failed = 0;

	if (tracer_bpf__sum_percpu(tb, STATS_TABLE, TLS_STAT_SUBMIT_FAILED, &failed) != 0) {
		fprintf(stderr, "failed to read the BPF loss counters of '%s'\n", STATS_TABLE);
		return;
	}
	if (failed > s->lost_total) {
		fprintf(stderr, "lost %llu events the kernel had not reported yet\n",
			(unsigned long long)(failed - s->lost_total));
		s->lost_unreported = failed - s->lost_total;
		s->lost_total = failed;
	}
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

static void print_summary(const struct session *s, bool target_exited)
{
	int cpu;

	fprintf(stderr, "%s: %llu events, %llu bytes moved, %llu captured, %llu truncated, "
			"%llu events lost",
		target_exited ? "target exited" : "stopped", (unsigned long long)s->events,
		(unsigned long long)s->bytes_moved, (unsigned long long)s->bytes_captured,
		(unsigned long long)s->bytes_truncated, (unsigned long long)s->lost_total);
	for (cpu = 0; cpu < MAX_CPUS; cpu++)
		if (s->lost[cpu])
			fprintf(stderr, " (CPU %d: %llu)", cpu, (unsigned long long)s->lost[cpu]);
	if (s->lost_unreported)
		fprintf(stderr, " (unreported by the kernel: %llu)",
			(unsigned long long)s->lost_unreported);
	if (s->malformed)
		fprintf(stderr, ", %llu malformed events ignored", (unsigned long long)s->malformed);
	fputc('\n', stderr);
}

int main(int argc, char **argv)
{
	struct env env = ENV_DEFAULTS;
	struct spec_table specs = {0};
	struct probe_set probes = {0};
	struct tracer_bpf *tb = NULL;
	struct session *s = NULL;
	char bpf_dir[PATH_MAX], spec_dir[PATH_MAX], comm[64], libs[1024];
	bool target_exited = false;
	int pidfd = -1, err;

	/* 1. Options: bad usage exits 2. */
	err = options_parse(argc, argv, &env, stdout, stderr);
	if (err || env.exit_now)
		return err;

	/* 2. Privileges, data directories and the probe spec table. */
	err = EXIT_RUNTIME;
	if (check_privileges() || sources_find_dir("bpf_src", env.bpf_src, bpf_dir,
						   sizeof(bpf_dir), stderr) ||
	    sources_find_dir("probe_specs", env.probe_specs, spec_dir, sizeof(spec_dir), stderr))
		goto cleanup;
	switch (spec_table_load(spec_dir, &specs, stderr)) {
	case 0:
		break;
	case -EINVAL:
		err = EXIT_USAGE;
		goto cleanup;
	default:
		goto cleanup;
	}

	/* 3. The target: its libraries and the symbols to probe in them. */
	pidfd = (int)syscall(SYS_pidfd_open, env.pid, 0);
	if ((pidfd < 0 && errno == ESRCH) || read_comm(env.pid, comm, sizeof(comm))) {
		fprintf(stderr, "no process with PID %d\n", (int)env.pid);
		goto cleanup;
	}
	if (probes_resolve(env.pid, &specs, &probes, env.verbose, stderr))
		goto cleanup;

	/* 4. Compile bpf_src for this target; every spec's BPF function must exist. */
	if (compile_bpf(&env, bpf_dir, &tb))
		goto cleanup;
	if (check_functions(tb, &probes)) {
		err = EXIT_USAGE;
		goto cleanup;
	}

	/* 5. Perf buffers first, then the probes, so no event finds the buffer missing. */
	s = calloc(1, sizeof(*s));
	if (!s || install_signals())
		goto cleanup;
	s->env = &env;
	s->probes = &probes;
	if (tracer_bpf__open_perf_buffer(tb, EVENTS_TABLE, env.perf_pages, WAKEUP_EVENTS,
					 on_event, on_lost, s) ||
	    probes_attach(tb, &probes, env.pid, env.verbose, stderr))
		goto cleanup;

	/* 6. Ready: one line scripts wait for, then the column header. */
	probes_libraries(&probes, libs, sizeof(libs));
	s->start_ns = monotonic_ns();
	fprintf(stderr, "Tracing PID %d (%s): %d probes on %s. Ctrl-C to end.\n", (int)env.pid,
		comm, tracer_bpf__attached(tb), libs);
	output_header(stdout);
	fflush(stdout);

	/* 7. Poll until Ctrl-C/SIGTERM or the target exits, then drain once more. */
	while (!exiting && !target_exited) {
		tracer_bpf__poll(tb, POLL_TIMEOUT_MS);
		if (flush_output())
			break;
		target_exited = target_gone(pidfd, env.pid);
	}
	tracer_bpf__poll(tb, 0);
	fflush(stdout);
	reconcile_lost(tb, s);
	print_summary(s, target_exited);
	err = EXIT_OK;

cleanup:
	/* 8. Detach everything in reverse, free the rest. */
	if (tracer_bpf__destroy(tb) && err == EXIT_OK)
		err = EXIT_RUNTIME;
	if (pidfd >= 0)
		close(pidfd);
	free(s);
	probes_free(&probes);
	spec_table_free(&specs);
	return err;
}
