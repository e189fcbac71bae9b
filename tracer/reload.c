/* SPDX-License-Identifier: Apache-2.0 */
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
#include <sys/stat.h>

#include "tls_event.h"
#include "tracer_bpf.h"

void reload_init(struct reload *r, const struct reload_config *cfg)
{
	int err;

	memset(r, 0, sizeof(*r));
	r->cfg = *cfg;
	err = watch_open(&r->watch, cfg->bpf_dir, cfg->spec_dir);
	if (err)
		diag("cannot watch '%s' and '%s' for changes (%s): no reloading\n", cfg->bpf_dir,
		     cfg->spec_dir, strerror(-err));
}

bool reload_due(struct reload *r, uint64_t now_ns)
{
	return watch_ready(&r->watch, now_ns);
}

/* The maps user space reads and writes: a reload must keep them as they are. */
static int check_user_maps(const struct reload *r, const struct tracer_bpf *tb)
{
	static const char *const tables[] = {EVENTS_TABLE,     META_TABLE,    STATS_TABLE,
					     SETTINGS_TABLE,   TARGETS_TABLE, PROCS_TABLE,
					     CONN_NOTES_TABLE, PENDING_TABLE, FILES_TABLE};
	const struct tracer_bpf *cur = *r->cfg.tb;
	size_t i;

	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		bool had = tracer_bpf__has_table(cur, tables[i]);
		bool has = tracer_bpf__has_table(tb, tables[i]);

		if (had == has && (!has || tracer_bpf__table_shared(tb, tables[i])))
			continue;
		diag("%s: BPF map '%s' %s: the tracer reads it, so that takes a restart\n",
		     r->cfg.bpf_dir, tables[i],
		     !has   ? "is gone"
		     : !had ? "is new"
			    : "changed its type, key or value size, or entries");
		return -EINVAL;
	}
	return 0;
}

/* Says which of the running maps the new generation does not take over (their shape
 * changed): they start empty, and the calls in flight through them are not reported. */
static void say_fresh_maps(const struct reload *r, const struct tracer_bpf *tb)
{
	const char *names[256];
	int n = tracer_bpf__tables(tb, names, 256), i;

	for (i = 0; i < n && i < 256; i++)
		if (tracer_bpf__has_table(*r->cfg.tb, names[i]) &&
		    !tracer_bpf__table_shared(tb, names[i]) &&
		    strcmp(names[i], POINT_PROGS_TABLE) != 0)
			diag("BPF map '%s' changed its type, key or value size, or entries: it "
			     "starts empty (what was in it, such as calls in flight, is gone)\n",
			     names[i]);
}

/* Takes a generation of programs out (the replaced one, or a reload's that failed): its
 * probes, all at once (their grace periods overlap), then the rest of it; what the running
 * ones sent meanwhile is delivered. */
static void retire_module(struct reload *r, struct tracer_bpf *old)
{
	uint64_t round = events_now();

	tracer_bpf__destroy(old);
	tracer_bpf__poll(*r->cfg.tb, 0);
	events_deliver(r->cfg.ev, round);
}

/* The next generation made: compiled, checked, its kernel programs attached, its BPF
 * functions in their slots and its dispatcher on the scope (PID mode). 0 or -errno (said). */
static int make_next(struct reload *r, unsigned int gen, struct spec_table *specs,
		     struct tracer_bpf **tb, struct point_slots *slots)
{
	const struct reload_config *c = &r->cfg;
	struct tracer_scope *scope = c->targets->scope;
	char why[TRACER_BPF_ERRLEN];
	int err;

	err = spec_table_load(c->spec_dir, specs);
	if (!err)
		err = compile_bpf(c->env, c->bpf_dir, gen, *c->tb, c->kf, c->cache, tb);
	if (!err)
		err = check_functions(*tb, specs);
	if (!err)
		err = check_user_maps(r, *tb);
	if (!err)
		err = attach_kernel_programs(*tb, c->kf, c->env->verbose);
	if (!err && scope && !generation_can_scope(*tb)) {
		diag("%s: the sources no longer have what the probes of the traced processes "
		     "need (%s, %s, maps '%s', '%s'): that takes a restart\n",
		     c->bpf_dir, DISPATCH_ENTRY, DISPATCH_RETURN, POINTS_TABLE, POINT_PROGS_TABLE);
		err = -EINVAL;
	}
	if (!err && scope)
		err = generation_slots(*tb, specs, slots);
	if (!err && scope &&
	    (err = tracer_scope__attach(*tb, scope, DISPATCH_ENTRY, DISPATCH_RETURN, why,
					sizeof(why))) != 0)
		diag("%s\n", why);
	return err;
}

/*
 * The programs the running set resolved (node, a Go program, a stripped static binary)
 * that no process runs as the new set is made: found again, since tls_files still names
 * them as looked at, so their next run is probed from its start as before. A file is taken
 * at its path only while that path is still the same file.
 */
static void keep_programs(const struct probe_set *old, struct probe_set *set,
			  const struct spec_table *specs, int verbose)
{
	const struct resolved_probe *rp;
	struct stat st;
	uint64_t tls;
	int i;

	for (i = 0; i < old->nfiles; i++) {
		rp = probes_file_first(old, i);
		if (!rp || rp->spec->library[0] != '@' || stat(rp->lib_path, &st) != 0 ||
		    st.st_dev != old->files[i].dev || st.st_ino != old->files[i].ino)
			continue;
		if (probes_add_program(set, specs, rp->lib_path, &tls, verbose) == -ENOMEM)
			return;
	}
}

/* A generation being made: what replaces the running one's parts once it is attached. */
struct next_gen {
	unsigned int gen;
	struct spec_table specs;
	struct point_slots slots;
	struct tracer_bpf *tb;
	struct probe_set set;
	struct tls_maps tm;
	struct probe_sink sink;
};

/* The next generation (compiled: make_next) has its probes found and attached and its
 * settings written, the follow thread held by the caller; 0, or -errno with what was made
 * kept in n for drop_next. */
static int attach_next(struct reload *r, struct next_gen *n)
{
	const struct reload_config *c = &r->cfg;
	int err;

	n->set.id_base = c->probes->id_base + (uint64_t)c->probes->n;
	n->sink = (struct probe_sink){.tb = n->tb,
				      .scope = c->targets->scope,
				      .gen = n->gen,
				      .slots = n->slots.names,
				      .nslots = n->slots.n};
	err = follow_find_tls_code_now(c->follow, n->tb, &n->set, &n->specs, &n->tm);
	if (!err)
		keep_programs(c->probes, &n->set, &n->specs, c->env->verbose);
	if (!err)
		err = probes_attach_new(&n->sink, &n->set, c->env->verbose);
	if (!err) { /* from here the new programs act, the old ones stand by */
		say_fresh_maps(r, n->tb);
		err = generation_settings(n->tb, c->env, n->gen, c->targets->scope);
	}
	return err;
}

/* A generation that failed is taken down; the running one stays. */
static void drop_next(struct reload *r, struct next_gen *n)
{
	const struct reload_config *c = &r->cfg;

	if (n->tb)
		retire_module(r, n->tb); /* the running probes' events are drained meanwhile */
	/* the scope's points went into the map it shares */
	if (c->targets->scope)
		generation_forget_points(*c->tb, n->gen);
	probes_free(&n->set);
	tls_maps_free(&n->tm);
	spec_table_free(&n->specs);
	generation_slots_free(&n->slots);
	r->failed++;
	diag("reload failed (changed: %s): keeping previous probes\n", r->watch.changed);
}

/* The next generation made the running one (the follow thread held); the one it replaces
 * kept in old_gen, retired. */
static void adopt_next(struct reload *r, struct next_gen *n, struct retired *old_gen)
{
	const struct reload_config *c = &r->cfg;

	tracer_bpf__adopt_readers(n->tb, *c->tb);
	*c->tb = n->tb;
	generation_keep(c->cache, n->tb, c->env->verbose);
	*c->gen = n->gen;
	r->done++;
	old_gen->specs = *c->specs;
	old_gen->probes = *c->probes;
	old_gen->slots = *c->slots;
	old_gen->next = r->retired;
	r->retired = old_gen;
	n->set.older = &old_gen->probes;
	*c->specs = n->specs;
	*c->probes = n->set;
	*c->slots = n->slots;
	n->sink.slots = c->slots->names;
	follow_replace(c->follow, n->tb, &n->sink, &n->tm);
}

void reload_apply(struct reload *r)
{
	const struct reload_config *c = &r->cfg;
	struct next_gen n = {.gen = *c->gen + 1,
			     .set = {.exported_only = c->env->placement_exported}};
	struct retired *old_gen = calloc(1, sizeof(*old_gen));
	char added[1024], removed[1024], libs[2048];
	struct tracer_bpf *old;
	int err, nuprobes;

	if (c->env->verbose)
		diag("reloading: %s changed\n", r->watch.changed);
	err = old_gen ? make_next(r, n.gen, &n.specs, &n.tb, &n.slots) : -ENOMEM;
	/* The follow thread adds nothing to the running set from here until the new one has
	 * replaced it: the new set's probes are numbered after the running set's last. */
	follow_lock(c->follow);
	if (!err)
		err = attach_next(r, &n);
	if (err) {
		follow_unlock(c->follow);
		drop_next(r, &n);
		free(old_gen);
		return;
	}
	old = *c->tb;
	adopt_next(r, &n, old_gen);
	/* read while the follow thread adds nothing */
	probes_diff(&old_gen->probes, c->probes, added, sizeof(added), removed, sizeof(removed));
	probes_libraries(c->probes, libs, sizeof(libs));
	nuprobes = c->probes->nuprobes;
	follow_unlock(c->follow);
	retire_module(r, old);
	if (c->targets->scope)
		generation_forget_points(n.tb, n.gen - 1);
	diag("Reloaded (changed: %s): %d probes on %s; added: %s; removed: %s\n", r->watch.changed,
	     nuprobes, libs[0] ? libs : "no TLS library yet", added[0] ? added : "none",
	     removed[0] ? removed : "none");
}

void reload_summary(const struct reload *r)
{
	if (r->done || r->failed)
		diag("reloads: %d done, %d failed (the probes before them kept)\n", r->done,
		     r->failed);
}

void reload_free(struct reload *r)
{
	while (r->retired) {
		struct retired *old = r->retired;

		r->retired = old->next;
		probes_free(&old->probes);
		spec_table_free(&old->specs);
		generation_slots_free(&old->slots);
		free(old);
	}
	watch_close(&r->watch);
}
