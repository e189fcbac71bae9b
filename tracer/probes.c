/* SPDX-License-Identifier: Apache-2.0 */
/* probes.c - find the TLS code processes run and resolve the probe specs in it */
#include "probes.h"
#include "diag.h"
#include "probes_go.h"
#include "probes_nosym.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "callsite.h"
#include "elffile.h"
#include "emulated.h"
#include "procmaps.h"
#include "tracer_bpf.h"

/* The functions one file's specs name, looked up in one pass over its symbols. */
struct file_symbols {
	const char *names[TRACER_BPF_MAX_SYMBOLS];
	char buf[TRACER_BPF_MAX_SYMBOLS][256]; /* as struct probe_spec's symbol */
	uint64_t offsets[TRACER_BPF_MAX_SYMBOLS];
	bool found[TRACER_BPF_MAX_SYMBOLS];
	int n;
};

/* Adds `name` to the names to look up (once; silently not past the max). */
static void want_symbol(struct file_symbols *fs, const char *name)
{
	size_t len = strlen(name);
	int i;

	if (len >= sizeof(fs->buf[0]))
		return;
	for (i = 0; i < fs->n; i++)
		if (strcmp(fs->names[i], name) == 0)
			return;
	if (fs->n == TRACER_BPF_MAX_SYMBOLS)
		return;
	memcpy(fs->buf[fs->n], name, len + 1);
	fs->names[fs->n] = fs->buf[fs->n];
	fs->n++;
}

/* Every function a spec's symbol names to look up: its function, or the callers it is found
 * by. */
static void want_spec_symbols(struct file_symbols *fs, const struct probe_spec *s)
{
	int i;

	if (!s->ncallers)
		want_symbol(fs, s->func);
	for (i = 0; i < s->ncallers; i++)
		want_symbol(fs, s->callers[i]);
}

/*
 * Finds every function fs wants through the file's GNU hash table of exported symbols (no
 * walk of all of them). Returns whether all were found there; if not, the caller walks the
 * symbol tables (an internal or unexported function, a file without the hash table). A
 * prefix ("name*", Rust's) is looked for by a walk only: a file that exports every other
 * name (node, OpenSSL's) is not walked for it (Rust's functions are not exported).
 */
static bool exported_offsets(const char *path, struct file_symbols *fs)
{
	struct elf_file f;
	uint64_t vaddr;
	int i;

	if (elf_file_open(path, &f))
		return false;
	for (i = 0; i < fs->n; i++) {
		if (fs->names[i][strlen(fs->names[i]) - 1] == '*') {
			fs->found[i] = false;
			continue;
		}
		fs->found[i] = elf_file_dynsym(&f, fs->names[i], &vaddr) == 0 &&
			       (fs->offsets[i] = elf_file_offset(&f, vaddr, true)) != UINT64_MAX;
		if (!fs->found[i])
			break;
	}
	elf_file_close(&f);
	return i == fs->n;
}

/* File offset of function `symbol` among those looked up, or -ENOENT. */
static int symbol_offset(const struct file_symbols *fs, const char *symbol, uint64_t *offset)
{
	int i;

	for (i = 0; i < fs->n; i++)
		if (strcmp(fs->names[i], symbol) == 0) {
			if (!fs->found[i])
				return -ENOENT;
			*offset = fs->offsets[i];
			return 0;
		}
	return -ENOENT;
}

/* The entry for the file at `open_path` as looked at so, added (not TLS yet) when new; NULL
 * without memory or when the file cannot be looked at. */
static struct seen_file *seen(struct probe_set *set, const char *open_path, enum probe_look look,
			      bool *is_new)
{
	struct seen_file *grown;
	struct stat st;
	int i;

	*is_new = false;
	if (stat(open_path, &st) != 0)
		return NULL;
	for (i = 0; i < set->nfiles; i++)
		if (set->files[i].dev == st.st_dev && set->files[i].ino == st.st_ino &&
		    set->files[i].look == look)
			return &set->files[i];
	grown = realloc(set->files, (set->nfiles + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	set->files = grown;
	set->files[set->nfiles] =
		(struct seen_file){.dev = st.st_dev, .ino = st.st_ino, .look = look};
	*is_new = true;
	return &set->files[set->nfiles++];
}

/*
 * File offset of spec s's function: an exported function by name, or for "name=a&b" the
 * function that a and b both call (callsite.h), with how each reaches it in rp->callers.
 * -ENOENT when it cannot be found.
 */
static int spec_offset(const char *path, const struct file_symbols *fs, const struct probe_spec *s,
		       struct resolved_probe *rp)
{
	int i;

	if (!s->ncallers)
		return symbol_offset(fs, s->func, &rp->offset);
	for (i = 0; i < s->ncallers; i++)
		if (symbol_offset(fs, s->callers[i], &rp->callers[i].offset) != 0)
			return -ENOENT;
	rp->ncallers = s->ncallers;
	return callsite_common_target(path, rp->callers, rp->ncallers, &rp->offset) == 0 ? 0
											 : -ENOENT;
}

/* Takes probe i out of [first, n) (not attached yet): the later ones move up and are
 * renumbered. */
static void drop_probe(struct probe_set *set, int i)
{
	int n = set->n - 1;

	for (; i < n; i++) {
		*probes_at(set, i) = *probes_at(set, i + 1);
		probes_at(set, i)->id = set->id_base + (uint64_t)i + 1;
	}
	__atomic_store_n(&set->n, n, __ATOMIC_RELEASE);
}

/*
 * Where the probes of one file's internal functions go (p[first, n)). One whose callers do
 * not all pass the arguments its BPF function reads is dropped, with a note. Otherwise it
 * stands in for its callers (they are not attached; their calls are named by return
 * address) unless placement is exported or a caller reaches it by a jump, which leaves no
 * return address to tell callers apart: then both are probed and the outer call wins.
 */
static void place_internal(struct probe_set *set, int first, int verbose)
{
	int i, j, k;
	bool all_call;

	for (i = first; i < set->n; i++) {
		struct resolved_probe *in = probes_at(set, i);

		if (!in->ncallers)
			continue;
		for (k = 0; k < in->ncallers && in->callers[k].args_kept; k++)
			;
		if (k < in->ncallers) {
			if (in->spec->kind == PROBE_ENTRY)
				diag("note: not probing '%s' in '%s': its callers do not pass "
				     "the arguments %s reads (another OpenSSL version?); the "
				     "exported functions are probed, an SSL BIO's calls are "
				     "not\n",
				     in->func, in->lib_path, in->spec->bpf_fn);
			drop_probe(set, i--);
			continue;
		}
		for (k = 0, all_call = true; k < in->ncallers; k++)
			all_call = all_call && in->callers[k].by_call;
		if (set->exported_only || !all_call) {
			if (!all_call && verbose && in->spec->kind == PROBE_ENTRY)
				diag("'%s' in '%s' is reached by a jump: its callers keep "
				     "their own probes\n",
				     in->func, in->lib_path);
			continue;
		}
		for (j = first; j < set->n; j++)
			for (k = 0; k < in->ncallers; k++) {
				struct resolved_probe *out = probes_at(set, j);

				if (!out->ncallers && out->spec->kind == in->spec->kind &&
				    strcmp(in->spec->callers[k], out->spec->func) == 0) {
					out->via = probe_ref(i);
					in->caller_probe[k] = probe_ref(j);
				}
			}
	}
}

/* Whether the file has every required function that s's spec file names for library lib:
 * an executable is taken for one spec file's TLS code (OpenSSL's, rustls's) when it has
 * all of that file's. */
static bool has_spec_files_all(const struct spec_table *t, const char *lib,
			       const struct file_symbols *fs, const struct probe_spec *s,
			       const char *lib_path, const char *open_path)
{
	struct resolved_probe rp;
	int j;

	for (j = 0; j < t->n; j++) {
		const struct probe_spec *o = &t->specs[j];

		if (!o->required || strcmp(o->library, lib) != 0 || !probes_same_spec_file(o, s))
			continue;
		probes_init_one(&rp, o, lib_path, open_path);
		if (spec_offset(open_path, fs, o, &rp) != 0)
			return false;
	}
	return true;
}

/*
 * The specs of library `lib` looked up in the file's symbols (one pass), each added as a
 * probe where found. Returns 0, -EINVAL when a required symbol is missing (said, but for
 * an executable, which is only taken for the TLS code of a spec file whose required
 * functions it has all, and is -EINVAL when it has no such spec file), -ENOMEM.
 */
static int add_symbol_specs(struct probe_set *set, const struct spec_table *t, const char *lib,
			    const char *lib_path, const char *open_path, int verbose)
{
	bool exe = strcmp(lib, PROBES_EXE) == 0;
	struct file_symbols *fs = calloc(1, sizeof(*fs));
	int i, err = 0, added = 0;

	if (!fs)
		return -ENOMEM;
	for (i = 0; i < t->n; i++)
		if (strcmp(t->specs[i].library, lib) == 0)
			want_spec_symbols(fs, &t->specs[i]);
	if (!exported_offsets(open_path, fs) &&
	    tracer_bpf__symbol_offsets(open_path, fs->names, fs->n, fs->offsets, fs->found) &&
	    verbose)
		diag("cannot read the symbols of '%s'\n", lib_path);
	for (i = 0; i < t->n && err != -ENOMEM; i++) {
		const struct probe_spec *s = &t->specs[i];
		struct resolved_probe rp;

		if (strcmp(s->library, lib) != 0 ||
		    (exe && !has_spec_files_all(t, lib, fs, s, lib_path, open_path)))
			continue;
		probes_init_one(&rp, s, lib_path, open_path);
		if (spec_offset(open_path, fs, s, &rp) == 0) {
			err = probes_add_one(set, &rp) ? -ENOMEM : err;
			added++;
		} else if (s->required) {
			if (!exe)
				diag("%s: required symbol '%s' not found in '%s'\n", s->origin,
				     s->symbol, lib_path);
			err = err ? err : -EINVAL;
		} else if (verbose && !exe) {
			diag("skipping optional '%s': not in '%s' (%s)\n", s->symbol, lib_path,
			     s->origin);
		}
	}
	free(fs);
	return exe && !added && !err ? -EINVAL : err;
}

/* Probes [first, n) of a C library or executable moved past a single-stepped first
 * instruction onto an emulated one where that is proven (emulated.h); an entry probe and its
 * uretprobe keep one offset, so one breakpoint. */
static void place_emulated(struct probe_set *set, int first, const char *open_path)
{
	struct nosym_file f;
	char why[128];
	int i;

	for (i = first; i < set->n; i++)
		if (probes_at(set, i)->via == PROBE_NONE &&
		    (probes_at(set, i)->spec->kind == PROBE_ENTRY ||
		     probes_at(set, i)->spec->kind == PROBE_RETURN))
			break;
	if (i == set->n || nosym_open(open_path, &f, why, sizeof(why)))
		return; /* nothing to move, or the file not read again */
	for (i = first; i < set->n; i++) {
		struct resolved_probe *rp = probes_at(set, i);
		uint64_t moved;

		if (rp->via != PROBE_NONE ||
		    (rp->spec->kind != PROBE_ENTRY && rp->spec->kind != PROBE_RETURN))
			continue;
		moved = emulated_entry(&f, rp->offset);
		rp->shift = (uint32_t)(moved - rp->offset);
		rp->offset = moved;
	}
	nosym_close(&f);
}

/* The executable segment each of probes [first, set->n) of file path is in (their
 * code_start, code_end), read while the file is at hand: the path may not open later. */
static void code_ranges(struct probe_set *set, int first, const char *path)
{
	struct elf_file f;
	int i;

	if (first == set->n || elf_file_open(path, &f))
		return;
	for (i = first; i < set->n; i++) {
		struct resolved_probe *rp = probes_at(set, i);
		const Elf64_Phdr *p = elf_file_segment(&f, rp->offset, true);

		if (p) {
			rp->code_start = p->p_offset;
			rp->code_end = p->p_offset + p->p_filesz;
		}
	}
	elf_file_close(&f);
}

/*
 * Resolves the specs of library `lib` in one file. A library must have every required
 * symbol (else none of its probes are added and -EINVAL is returned); an executable is
 * taken for a spec file's TLS code when it has every required symbol of that file's lines.
 * Returns the number of probes added.
 */
static int add_file(struct probe_set *set, const struct spec_table *t, const char *lib,
		    const char *lib_path, const char *open_path, uint64_t *tls, int verbose)
{
	enum probe_look look = strcmp(lib, SPEC_GO) == 0	 ? LOOK_GO
			       : strcmp(lib, SPEC_STRIPPED) == 0 ? LOOK_STRIPPED
								 : LOOK_SYMBOLS;
	bool exe = look != LOOK_SYMBOLS || strcmp(lib, PROBES_EXE) == 0, is_new;
	struct seen_file *sf = seen(set, open_path, look, &is_new);
	int first = set->n, i, err;

	if (sf && sf->tls)
		*tls |= probes_file_bit(sf - set->files);
	if (!sf || !is_new)
		return 0; /* seen before, or gone already */
	if (look == LOOK_STRIPPED) {
		for (i = 0; i < set->nfiles; i++)
			if (set->files[i].dev == sf->dev && set->files[i].ino == sf->ino &&
			    set->files[i].look != LOOK_STRIPPED && set->files[i].tls)
				return 0; /* its symbols (or its Go code) told already */
	}
	err = look == LOOK_GO ? probes_add_go_specs(set, t, lib_path, open_path, verbose)
	      : look == LOOK_STRIPPED
		      ? probes_add_stripped_specs(set, t, lib_path, open_path, verbose)
		      : add_symbol_specs(set, t, lib, lib_path, open_path, verbose);
	if (err) {
		set->n = first; /* all of a library's probes or none */
		return exe && err == -EINVAL ? 0 : err;
	}
	place_internal(set, first, verbose);
	if (look != LOOK_GO)
		place_emulated(set, first, open_path);
	for (i = first; i < set->n; i++)
		probes_at(set, i)->file = (int)(sf - set->files);
	code_ranges(set, first, open_path);
	sf->first_probe = first;
	sf->tls = false; /* a library of companion lines only counts for no TLS code */
	for (i = first; i < set->n && !sf->tls; i++)
		sf->tls = !probes_at(set, i)->spec->companion;
	if (sf->tls)
		*tls |= probes_file_bit(sf - set->files);
	if (verbose && set->n > first)
		diag("found %s code in '%s': %d probes\n", lib, lib_path, set->n - first);
	if (sf->tls && strstr(lib_path, " (deleted)"))
		diag("'%s' was deleted or replaced on disk after it was mapped; probing the "
		     "mapped file through '%s'\n",
		     lib_path, open_path);
	return set->n - first;
}

/* Whether path opens for reading; errno says why not. */
static bool can_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int probes_add_process(struct probe_set *set, pid_t pid, const struct spec_table *t,
		       uint64_t *maps_tls, int verbose)
{
	char lib_path[PATH_MAX], open_path[PATH_MAX + 32];
	int i, added = 0, err = 0, r;
	struct maps maps;

	*maps_tls = 0;
	if (pid == getpid())
		return 0; /* the tracer (--all): no TLS, and it carries what the searches look for */
	r = maps_load(pid, &maps);
	if (r)
		return r == -ENOENT ? -ESRCH : r;
	/* every library name once, @stripped after the others: it is for what they did not
	 * find; companions last, and only into a process that maps TLS code */
	for (i = 0; i < 3 * t->n && err != -ENOMEM; i++) {
		const char *lib = t->specs[i % t->n].library;
		const struct map_entry *m = NULL;
		int pass = strcmp(lib, SPEC_STRIPPED) == 0     ? 1
			   : t->specs[i % t->n].lib_companions ? 2
							       : 0;
		ssize_t len;

		if (!t->specs[i % t->n].lib_first || pass != i / t->n || (pass == 2 && !*maps_tls))
			continue;
		if (lib[0] == '@') { /* @exe, @go, @stripped: the executable */
			snprintf(open_path, sizeof(open_path), "/proc/%d/exe", (int)pid);
			len = readlink(open_path, lib_path, sizeof(lib_path) - 1);
			if (len <= 0)
				continue; /* a kernel thread, or gone */
			lib_path[len] = '\0';
			if (lib_path[0] != '/' || strncmp(lib_path, "/memfd:", 7) == 0)
				continue; /* a memfd: no file to probe */
		} else {
			m = maps_find_library(&maps, lib);
			if (!m)
				continue; /* this library is not in use: its specs do not apply */
			snprintf(lib_path, sizeof(lib_path), "%s%s", m->path,
				 m->deleted ? " (deleted)" : "");
			if (m->deleted) /* the file mapped, which no path names any more */
				snprintf(open_path, sizeof(open_path),
					 "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid,
					 m->start, m->end);
			else
				snprintf(open_path, sizeof(open_path), "/proc/%d/root%s", (int)pid,
					 m->path);
		}
		/* A file deleted or replaced on disk since it was mapped (an upgrade while the
		 * process runs) is probed through the link to what the process maps. Following
		 * it takes CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE: opened with the effective
		 * ones (access(2) would judge by the real uid). */
		if (strstr(lib_path, " (deleted)") && !can_open(open_path)) {
			if (errno != ENOENT)
				diag("PID %d maps '%s', which was deleted or replaced on disk, "
				     "and '%s' cannot be opened (%s); skipping it\n",
				     (int)pid, lib_path, open_path, strerror(errno));
			continue;
		}
		r = add_file(set, t, lib, lib_path, open_path, maps_tls, verbose);
		if (r < 0)
			err = err ? err : r;
		else
			added += r;
	}
	maps_free(&maps);
	return err ? err : added;
}

int probes_add_program(struct probe_set *set, const struct spec_table *t, const char *path,
		       uint64_t *maps_tls, int verbose)
{
	int i, added = 0, err = 0, r;

	*maps_tls = 0;
	if (path[0] != '/' || access(path, R_OK) != 0)
		return -ENOENT;
	for (i = 0; i < 2 * t->n && err != -ENOMEM; i++) {
		const char *lib = t->specs[i % t->n].library;

		if (!t->specs[i % t->n].lib_first || lib[0] != '@' ||
		    (strcmp(lib, SPEC_STRIPPED) == 0) != (i >= t->n))
			continue;
		r = add_file(set, t, lib, path, path, maps_tls, verbose);
		if (r < 0)
			err = err ? err : r;
		else
			added += r;
	}
	return err ? err : added;
}

int probes_add_cached(struct probe_set *set, const struct spec_table *t, int verbose)
{
	uint64_t tls = 0;
	int i, added = 0, err = 0, r;

	/* the TLS libraries, then their companions (ready before a process loads them: their
	 * certificate parses come within milliseconds of the libraries' mapping) */
	for (i = 0; i < 2 * t->n && err != -ENOMEM; i++) {
		const char *lib = t->specs[i % t->n].library;
		char *path;

		if (!t->specs[i % t->n].lib_first || lib[0] == '@' ||
		    t->specs[i % t->n].lib_companions != (i >= t->n) || (i >= t->n && !tls))
			continue;
		path = lib[0] == '/' ? strdup(lib) : tracer_bpf__which_so(lib);
		if (!path)
			continue;
		r = access(path, R_OK) == 0 ? add_file(set, t, lib, path, path, &tls, verbose) : 0;
		free(path);
		if (r < 0)
			err = err ? err : r;
		else
			added += r;
	}
	return err ? err : added;
}
