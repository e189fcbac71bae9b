/* probes.c - resolve the probe spec table in a target process and attach it */
#include "probes.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bcc/bcc_syms.h>

#include "procmaps.h"
#include "tracer_bpf.h"

/* File offset of function `symbol` in the ELF file `path`, or -ENOENT. */
static int symbol_offset(const char *path, const char *symbol, uint64_t *offset)
{
	struct bcc_symbol_option opt = {
		.use_debug_file = 0,
		.check_debug_file_crc = 0,
		.lazy_symbolize = 1,
		.use_symbol_type = (1 << STT_FUNC) | (1 << STT_GNU_IFUNC),
	};
	struct bcc_symbol sym = {0};

	if (bcc_resolve_symname(path, symbol, 0, -1, &opt, &sym) != 0)
		return -ENOENT;
	free((void *)sym.module);
	*offset = sym.offset;
	return 0;
}

static int add_probe(struct probe_set *set, const struct resolved_probe *rp)
{
	struct resolved_probe *grown = realloc(set->p, (set->n + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	set->p = grown;
	set->p[set->n++] = *rp;
	return 0;
}

/* Library names of the table, for "looked for" messages. */
static void spec_libraries(const struct spec_table *t, char *buf, size_t size)
{
	size_t used = 0;
	int i, j;

	buf[0] = '\0';
	for (i = 0; i < t->n; i++) {
		const char *lib = t->specs[i].library;

		for (j = 0; j < i && strcmp(t->specs[j].library, lib) != 0; j++)
			;
		if (j < i)
			continue;
		used += snprintf(buf + used, used < size ? size - used : 0, "%s%s%s%s",
				 used ? ", " : "", lib[0] == '/' ? "" : "lib", lib,
				 lib[0] == '/' ? "" : ".so*");
	}
}

int probes_resolve(pid_t pid, const struct spec_table *t, struct probe_set *set, int verbose,
		   FILE *errs)
{
	struct maps maps;
	int i, err = 0;

	set->p = NULL;
	set->n = 0;
	err = maps_load(pid, &maps);
	if (err) {
		if (err == -ENOENT)
			fprintf(errs, "no process with PID %d\n", (int)pid);
		else
			fprintf(errs, "failed to read the memory map of PID %d: %s\n", (int)pid,
				strerror(-err));
		return err == -ENOENT ? -ESRCH : err;
	}
	for (i = 0; i < t->n && err != -ENOMEM; i++) {
		const struct probe_spec *s = &t->specs[i];
		const struct map_entry *lib = maps_find_library(&maps, s->library);
		struct resolved_probe rp = {.spec = s};

		if (!lib)
			continue; /* this library is not in use: its specs do not apply */
		if (lib->deleted) {
			fprintf(errs,
				"PID %d maps '%s', which was deleted or replaced on disk; "
				"skipping %s\n",
				(int)pid, lib->path, s->origin);
			continue;
		}
		snprintf(rp.lib_path, sizeof(rp.lib_path), "%s", lib->path);
		snprintf(rp.open_path, sizeof(rp.open_path), "/proc/%d/root%s", (int)pid,
			 lib->path);
		if (symbol_offset(rp.open_path, s->symbol, &rp.offset) != 0) {
			if (s->required) {
				fprintf(errs, "%s: required symbol '%s' not found in '%s'\n",
					s->origin, s->symbol, rp.lib_path);
				err = -EINVAL;
			} else if (verbose) {
				fprintf(errs, "skipping optional '%s': not in '%s' (%s)\n",
					s->symbol, rp.lib_path, s->origin);
			}
			continue;
		}
		rp.addr = maps_offset_to_addr(&maps, lib->path, rp.offset);
		if (add_probe(set, &rp))
			err = -ENOMEM;
	}
	maps_free(&maps);
	if (!err && set->n == 0) {
		char libs[512];

		spec_libraries(t, libs, sizeof(libs));
		fprintf(errs, "PID %d maps no supported TLS library (looked for %s)\n", (int)pid,
			libs);
		err = -ENOENT;
	}
	if (err)
		probes_free(set);
	return err;
}

/*
 * Return probes go in before entry probes, and (the wrapper detaching in reverse) entry
 * probes come out first: an entry probe's stash is then always taken by its own return
 * probe, never left behind for another function's return to misread.
 */
int probes_attach(struct tracer_bpf *tb, const struct probe_set *set, pid_t pid, int verbose,
		  FILE *errs)
{
	int pass, i;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < set->n; i++) {
			const struct resolved_probe *rp = &set->p[i];
			bool ret = rp->spec->kind == PROBE_RETURN;
			char why[512];
			int err;

			if (ret != (pass == 0))
				continue;
			err = tracer_bpf__attach_uprobe(tb, rp->spec->bpf_fn, rp->open_path,
							rp->offset, ret, pid, why, sizeof(why));
			if (err) {
				fprintf(errs, "%s: %s\n", rp->spec->origin, why);
				return err;
			}
			if (verbose)
				fprintf(errs, "attached %s to %s %s in '%s' (offset 0x%llx)\n",
					rp->spec->bpf_fn, ret ? "return of" : "entry of",
					rp->spec->symbol, rp->lib_path,
					(unsigned long long)rp->offset);
		}
	}
	return 0;
}

const struct resolved_probe *probes_by_addr(const struct probe_set *set, uint64_t addr)
{
	int i;

	for (i = 0; i < set->n; i++)
		if (set->p[i].spec->kind == PROBE_ENTRY && set->p[i].addr == addr)
			return &set->p[i];
	return NULL;
}

void probes_libraries(const struct probe_set *set, char *buf, size_t size)
{
	size_t used = 0;
	int i, j;

	buf[0] = '\0';
	for (i = 0; i < set->n; i++) {
		for (j = 0; j < i && strcmp(set->p[j].lib_path, set->p[i].lib_path) != 0; j++)
			;
		if (j == i)
			used += snprintf(buf + used, used < size ? size - used : 0, "%s%s",
					 used ? ", " : "", set->p[i].lib_path);
	}
}

void probes_free(struct probe_set *set)
{
	free(set->p);
	set->p = NULL;
	set->n = 0;
}
