/* reload.c - a saved edit of bpf_src or probe_specs reloaded while tracing: the next
 * generation compiled, verified and attached beside the running one, then made the one that
 * acts; on any failure the running one stays */
#define _GNU_SOURCE
#include "reload.h"
#include "diag.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "targets.h"
#include "tls_event.h"
#include "tracer_bpf.h"

/* The maps user space reads and writes: a reload must keep them as they are. */
static int check_user_maps(const struct session *s, const struct tracer_bpf *tb)
{
	static const char *const tables[] = {EVENTS_TABLE,    META_TABLE,    STATS_TABLE,
					     SETTINGS_TABLE,  TARGETS_TABLE, PROCS_TABLE,
					     CONN_NOTES_TABLE};
	size_t i;

	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		bool had = tracer_bpf__has_table(s->tb, tables[i]);
		bool has = tracer_bpf__has_table(tb, tables[i]);

		if (had == has && (!has || tracer_bpf__table_shared(tb, tables[i])))
			continue;
		diag("%s: BPF map '%s' %s: the tracer reads it, so that takes a restart\n",
		     s->bpf_dir, tables[i],
		     !has   ? "is gone"
		     : !had ? "is new"
			    : "changed its type, key or value size, or entries");
		return -EINVAL;
	}
	return 0;
}

/* Says which of the running maps the new generation does not take over (their shape
 * changed): they start empty, and the calls in flight through them are not reported. */
static void say_fresh_maps(const struct session *s, const struct tracer_bpf *tb)
{
	const char *names[256];
	int n = tracer_bpf__tables(tb, names, 256), i;

	for (i = 0; i < n && i < 256; i++)
		if (tracer_bpf__has_table(s->tb, names[i]) &&
		    !tracer_bpf__table_shared(tb, names[i]))
			diag("BPF map '%s' changed its type, key or value size, or entries: it "
			     "starts empty (what was in it, such as calls in flight, is gone)\n",
			     names[i]);
}

/* Takes a generation of programs out (the replaced one, or a reload's that failed): its
 * probes, all at once (their grace periods overlap), then the rest of it; what the running
 * ones sent meanwhile is delivered. */
static void retire_module(struct session *s, struct tracer_bpf *old)
{
	uint64_t round = events_now();

	tracer_bpf__destroy(old);
	tracer_bpf__poll(s->tb, 0);
	events_deliver(s->ev, round);
}

/*
 * Reloads the BPF sources and probe specs after a saved change: a new generation of
 * programs, sharing the running one's maps and perf buffers, is compiled, verified and
 * attached; then the settings make it the one that acts (no call is missed or reported
 * twice: a call the old programs began, the new ones end), and the old one is taken out.
 * On any failure the new one is taken out instead and the running probes stay.
 */
void session_reload(struct session *s)
{
	const struct env *env = s->env;
	struct probe_set set = {.exported_only = env->placement_exported,
				.id_base = s->probes.id_base + (uint64_t)s->probes.n};
	struct retired *r = calloc(1, sizeof(*r));
	char added[1024], removed[1024], libs[2048];
	struct spec_table specs = {0};
	struct tracer_bpf *tb = NULL, *old;
	struct tls_maps tm = {0};
	int err;

	if (env->verbose)
		diag("reloading: %s changed\n", s->watch.changed);
	err = r ? spec_table_load(s->spec_dir, &specs) : -ENOMEM;
	if (!err)
		err = compile_bpf(env, s->bpf_dir, s->gen + 1, s->tb, &s->kf, &s->cache, &tb);
	if (!err)
		err = check_functions(tb, &specs);
	if (!err)
		err = check_user_maps(s, tb);
	if (!err)
		err = attach_kernel_programs(tb, &s->kf, env->verbose);
	if (!err)
		err = targets_find_tls_code_now(s, &set, &specs, &tm);
	/* A child forked from here on gets the new probes as well as the old: the notes thread
	 * waits until the new set has replaced the old. */
	pthread_mutex_lock(&s->attach_mu);
	if (!err)
		err = targets_attach_new(s, tb, &set);
	if (!err) { /* from here the new programs act, the old ones stand by */
		say_fresh_maps(s, tb);
		err = write_settings(tb, env, s->gen + 1);
	}
	if (err) {
		pthread_mutex_unlock(&s->attach_mu);
		retire_module(s, tb); /* the running probes' events are drained meanwhile */
		probes_free(&set);
		tls_maps_free(&tm);
		spec_table_free(&specs);
		free(r);
		s->reload_failures++;
		diag("reload failed (changed: %s): keeping previous probes\n", s->watch.changed);
		return;
	}
	tracer_bpf__adopt_readers(tb, s->tb);
	old = s->tb;
	s->tb = tb;
	keep_compiled(s);
	s->gen++;
	s->reloads++;
	r->specs = s->specs;
	r->probes = s->probes;
	r->next = s->retired;
	s->retired = r;
	set.older = &r->probes;
	s->specs = specs;
	s->probes = set;
	pthread_mutex_unlock(&s->attach_mu);
	tls_maps_free(&s->tls_maps);
	s->tls_maps = tm;
	retire_module(s, old);
	probes_diff(&r->probes, &s->probes, added, sizeof(added), removed, sizeof(removed));
	probes_libraries(&s->probes, libs, sizeof(libs));
	diag("Reloaded (changed: %s): %d probes on %s; added: %s; removed: %s\n", s->watch.changed,
	     s->probes.nuprobes, libs[0] ? libs : "no TLS library yet", added[0] ? added : "none",
	     removed[0] ? removed : "none");
}
