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
#include <unistd.h>

#include "events.h"
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
#define PERF_RECORD_OVERHEAD 16 /* perf_event_header + raw size, 8-byte aligned */
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39
#define CAP_SYS_ADMIN_BIT 21

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
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
	fprintf(stderr,
		"tracer needs root, or the capabilities CAP_BPF and CAP_PERFMON "
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
	snprintf(chunks_flag, sizeof(chunks_flag), "-DMAX_CHUNKS=%d",
		 env->max_call_bytes / env->max_data_size);
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

/* Flushes stdout; a reader that went away (EPIPE) ends tracing quietly, other errors say so. */
static int flush_output(void)
{
	if (fflush(stdout) == 0)
		return 0;
	if (errno != EPIPE)
		fprintf(stderr, "failed to write events to stdout: %s\n", strerror(errno));
	return -errno;
}

/* Reads the BPF counters, reconciles them with what arrived, prints the summary. */
static void finish(struct tracer_bpf *tb, struct events *ev, bool target_exited)
{
	uint64_t stats[TLS_STAT_MAX] = {0};
	int err;

	events_finish(ev);
	err = tracer_bpf__sum_percpu(tb, STATS_TABLE, 0, stats, TLS_STAT_MAX);
	if (err)
		fprintf(stderr, "failed to read the BPF counters in '%s': %s\n", STATS_TABLE,
			strerror(-err));
	events_summary(ev, err ? NULL : stats, target_exited ? "target exited" : "stopped", stderr);
}

int main(int argc, char **argv)
{
	struct env env = ENV_DEFAULTS;
	struct spec_table specs = {0};
	struct probe_set probes = {0};
	struct tracer_bpf *tb = NULL;
	struct events *ev = NULL;
	char bpf_dir[PATH_MAX], spec_dir[PATH_MAX], comm[64], libs[1024];
	bool target_exited = false;
	int pidfd = -1, err;

	/* 1. Options: bad usage exits 2. */
	err = options_parse(argc, argv, &env, stdout, stderr);
	if (err || env.exit_now)
		return err;

	/* 2. Privileges, data directories and the probe spec table. */
	err = EXIT_RUNTIME;
	if (check_privileges() ||
	    sources_find_dir("bpf_src", env.bpf_src, bpf_dir, sizeof(bpf_dir), stderr) ||
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
	ev = malloc(sizeof(*ev));
	if (!ev || install_signals())
		goto cleanup;
	events_init(ev, &probes, stdout, env.json, env.hexdump, (uint32_t)env.max_data_size);
	if (tracer_bpf__open_perf_buffer(
		    tb, EVENTS_TABLE,
		    options_perf_pages(&env, sysconf(_SC_PAGESIZE),
				       TLS_EVENT_HDR_SIZE + PERF_RECORD_OVERHEAD),
		    WAKEUP_EVENTS, events_on_sample, events_on_lost, ev) ||
	    probes_attach(tb, &probes, env.pid, env.verbose, stderr))
		goto cleanup;

	/* 6. Ready: one line scripts wait for, then the column header. */
	probes_libraries(&probes, libs, sizeof(libs));
	fprintf(stderr, "Tracing PID %d (%s): %d probes on %s. Ctrl-C to end.\n", (int)env.pid,
		comm, tracer_bpf__attached(tb), libs);
	if (!env.json)
		output_header(stdout);
	fflush(stdout);

	/* 7. Poll until Ctrl-C/SIGTERM or the target exits. */
	while (!exiting && !target_exited) {
		tracer_bpf__poll(tb, POLL_TIMEOUT_MS);
		if (flush_output())
			break;
		target_exited = target_gone(pidfd, env.pid);
	}
	/* 8. Detach first, so nothing new arrives; then drain and account for every byte. */
	err = tracer_bpf__detach_all(tb) ? EXIT_RUNTIME : EXIT_OK;
	tracer_bpf__poll(tb, 0);
	finish(tb, ev, target_exited);
	flush_output();

cleanup:
	/* 9. Detach what is still attached (error paths), free the rest. */
	if (tracer_bpf__destroy(tb) && err == EXIT_OK)
		err = EXIT_RUNTIME;
	if (pidfd >= 0)
		close(pidfd);
	free(ev);
	probes_free(&probes);
	spec_table_free(&specs);
	return err;
}
