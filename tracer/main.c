/* SPDX-License-Identifier: Apache-2.0 */
/* main.c - tracer: show a process's TLS plaintext, captured by uprobes on its TLS library */
#include <signal.h>
#include <stdio.h>

#include "options.h"
#include "selftest.h"
#include "session.h"
#include "sources.h"

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

static int install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL)) {
		perror("failed to install signal handlers");
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int main(int argc, char **argv)
{
	struct env env = ENV_DEFAULTS;
	struct session s = {0};
	int err, free_err;

	/* 1. Options: bad usage exits 2. */
	err = options_parse(argc, argv, &env, stdout);
	if (err || env.exit_now)
		return err;
	if (install_signals())
		return EXIT_RUNTIME;

	/* --selftest: the same machinery on a TLS client and server of our own. */
	if (env.selftest)
		return selftest_run(&env, &exiting);

	/* --list-probes: where the probes go and what each costs; nothing attached. */
	if (env.list_probes)
		return session_list_probes(&env);

	/* --check: compile, verify and parse the probes; --init-probes: a copy to edit. */
	if (env.check)
		return session_check(&env);
	if (env.init_dir)
		return sources_init_probes(env.init_dir, stdout) ? EXIT_RUNTIME : EXIT_OK;

	/* 2. Target, probe specs, compiled BPF, perf buffers, attached probes. */
	err = session_open(&s, &env);
	if (err)
		goto cleanup;

	/* 3. Ready: one line scripts wait for, then the column header. */
	session_announce(&s);

	/* 4. Poll until Ctrl-C/SIGTERM, the target's exit or stdout's end. */
	session_run(&s, &exiting);

	/* 5. Detach, drain, account for every byte. */
	err = session_finish(&s);

cleanup:
	/* 6. Detach what is still attached (error paths), free the rest. */
	free_err = session_free(&s);
	return err ? err : free_err;
}
