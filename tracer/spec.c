/* SPDX-License-Identifier: Apache-2.0 */
/* spec.c - probe specs: the UProbeSpec table read from probe_specs/ at run time */
#include "spec.h"
#include "diag.h"
#include "regular.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SPEC_SUFFIX ".spec"

static bool is_ident(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* ELF symbol names may carry '.', '$' and '@' (versioned, local clones) beyond C's set. A
 * final '*' makes the name a prefix that one symbol must match (Rust's names end in a hash
 * of the build: "...5write17h*"). */
static bool is_symbol_name(const char *s, size_t len)
{
	size_t i;

	if (!len || (len == 1 && s[0] == '*'))
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.$@", s[i]) &&
		    !(s[i] == '*' && i == len - 1))
			return false;
	return true;
}

/* A symbol, or "name=caller&caller...": the function named `name` that every caller calls
 * (found by decoding the callers, for functions the library does not export), put in
 * out->func and out->callers. 0, or -1 with why in err. */
static int parse_symbol(const char *s, struct probe_spec *out, char *err, size_t errlen)
{
	const char *eq = strchr(s, '='), *p, *amp;
	size_t len = eq ? (size_t)(eq - s) : strlen(s);

	if (!is_symbol_name(s, len))
		goto bad;
	snprintf(out->func, sizeof(out->func), "%.*s", (int)len, s);
	for (p = eq ? eq + 1 : NULL; p; p = amp ? amp + 1 : NULL) {
		amp = strchr(p, '&');
		len = amp ? (size_t)(amp - p) : strlen(p);
		if (!is_symbol_name(p, len))
			goto bad;
		if (out->ncallers == SPEC_MAX_CALLERS) {
			snprintf(err, errlen, "invalid symbol '%s': more than %d callers", s,
				 SPEC_MAX_CALLERS);
			return -1;
		}
		snprintf(out->callers[out->ncallers++], sizeof(out->callers[0]), "%.*s", (int)len,
			 p);
	}
	return 0;
bad:
	snprintf(err, errlen, "invalid symbol '%s': want a name, or name=caller&caller...", s);
	return -1;
}

/* A Go function's name: a package path, type and method ("crypto/tls.(*Conn).Write",
 * "pkg.F[...]"), any printable characters but spaces and the spec's own '=', '&', '#'. */
static bool is_go_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isgraph((unsigned char)*s) || strchr("=&#", *s))
			return false;
	return true;
}

/* A library is an absolute path, a bare name such as "ssl" or "gnutls", "@exe" (the
 * program's executable), "@go" (a Go program) or "@stripped" (an executable without
 * symbols). */
static bool is_library(const char *s)
{
	if (strcmp(s, SPEC_EXE) == 0 || strcmp(s, SPEC_GO) == 0 || strcmp(s, SPEC_STRIPPED) == 0)
		return true;
	if (*s == '/')
		return strstr(s, "/../") == NULL;
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_+.-", *s))
			return false;
	return true;
}

static int copy_field(char *dst, size_t size, const char *src, const char *what, char *err,
		      size_t errlen)
{
	if (strlen(src) >= size) {
		snprintf(err, errlen, "%s '%.40s...' is longer than %zu characters", what, src,
			 size - 1);
		return -1;
	}
	strcpy(dst, src);
	return 0;
}

#define SPEC_FIELDS                                                                                \
	"library symbol entry|return|returns|sites bpf_function "                                  \
	"required|optional|companion|fallback"

/* Splits line (a copy in buf, its comment cut) into its fields. Returns how many (0: none,
 * a blank or comment line), or -1 with why in err. */
static int split_fields(const char *line, char *buf, size_t size, char **fields, char *err,
			size_t errlen)
{
	char *save = NULL, *hash, *tok;
	int n = 0;

	if (strlen(line) >= size) {
		snprintf(err, errlen, "line is longer than %zu characters", size - 1);
		return -1;
	}
	strcpy(buf, line);
	hash = strchr(buf, '#');
	if (hash)
		*hash = '\0';
	for (tok = strtok_r(buf, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == 5) {
			snprintf(err, errlen, "unexpected field '%s': want 5 fields: " SPEC_FIELDS,
				 tok);
			return -1;
		}
		fields[n++] = tok;
	}
	if (n > 0 && n < 5) {
		snprintf(err, errlen, "%d field%s, want 5: " SPEC_FIELDS, n, n == 1 ? "" : "s");
		return -1;
	}
	return n;
}

/* out->kind from field `kind` of the line of `library` and `symbol` (go: library @go), the
 * kinds a library can take checked. 0, or -1 with why in err. */
static int parse_kind(const char *kind, const char *library, const char *symbol, bool go,
		      struct probe_spec *out, char *err, size_t errlen)
{
	if (strcmp(kind, "entry") == 0) {
		out->kind = PROBE_ENTRY;
	} else if (strcmp(kind, "return") == 0) {
		out->kind = PROBE_RETURN;
	} else if (strcmp(kind, "returns") == 0) {
		out->kind = PROBE_RETURNS;
	} else if (strcmp(kind, "sites") == 0) {
		out->kind = PROBE_SITES;
	} else {
		snprintf(err, errlen,
			 "invalid kind '%s': want 'entry', 'return', 'returns' or 'sites'", kind);
		return -1;
	}
	if (!go && out->kind == PROBE_SITES) {
		snprintf(err, errlen,
			 "kind 'sites' on '%s' in '%s': call sites are found in Go's "
			 "crypto/tls.(*Conn).Write and Read only (library @go)",
			 symbol, library);
		return -1;
	}
	if (!go && out->kind == PROBE_RETURNS) {
		snprintf(err, errlen,
			 "kind 'returns' on '%s' in '%s': return instructions are found in Go "
			 "functions only (library @go); use 'return'",
			 symbol, library);
		return -1;
	}
	if (go && out->kind == PROBE_RETURN) {
		snprintf(err, errlen,
			 "kind 'return' on Go function '%s': a uretprobe breaks a Go program "
			 "whose stack moves; use 'returns' (each return instruction)",
			 symbol);
		return -1;
	}
	return 0;
}

/* out's need from field `need` of the line of `library` and `symbol` (its kind parsed), the
 * needs a library and kind can take checked. 0, or -1 with why in err. */
static int parse_need(const char *need, const char *library, const char *symbol, bool go,
		      struct probe_spec *out, char *err, size_t errlen)
{
	if (strcmp(need, "required") == 0) {
		out->required = true;
	} else if (strcmp(need, "fallback") == 0) {
		out->required = out->fallback = true;
	} else if (strcmp(need, "companion") == 0) {
		out->companion = true;
	} else if (strcmp(need, "optional") != 0) {
		snprintf(
			err, errlen,
			"invalid need '%s': want 'required', 'optional', 'companion' or 'fallback'",
			need);
		return -1;
	}
	if (out->companion && library[0] == '@') {
		snprintf(err, errlen,
			 "need 'companion' on '%s' in '%s': a companion is a library's line (its "
			 "probes go only into processes that map a TLS library too)",
			 symbol, library);
		return -1;
	}
	if (out->fallback && (!go || out->kind == PROBE_SITES)) {
		snprintf(err, errlen,
			 "need 'fallback' on '%s' in '%s': a fallback stands in for a Go "
			 "function's 'sites' (library @go, kind entry or returns)",
			 symbol, library);
		return -1;
	}
	return 0;
}

int spec_parse_line(const char *line, struct probe_spec *out, char *err, size_t errlen)
{
	char buf[1024], *fields[6];
	int n = split_fields(line, buf, sizeof(buf), fields, err, errlen);
	bool go;

	if (n <= 0)
		return n;
	memset(out, 0, sizeof(*out));
	if (!is_library(fields[0])) {
		snprintf(err, errlen,
			 "invalid library '%s': want a name such as 'ssl', an "
			 "absolute path, @exe, @go or @stripped",
			 fields[0]);
		return -1;
	}
	go = strcmp(fields[0], SPEC_GO) == 0;
	if (go && !is_go_name(fields[1])) {
		snprintf(err, errlen,
			 "invalid symbol '%s': want a Go function name such as "
			 "crypto/tls.(*Conn).Write",
			 fields[1]);
		return -1;
	}
	if (go ? copy_field(out->func, sizeof(out->func), fields[1], "symbol", err, errlen)
	       : parse_symbol(fields[1], out, err, errlen))
		return -1;
	if (parse_kind(fields[2], fields[0], fields[1], go, out, err, errlen))
		return -1;
	if (!is_ident(fields[3])) {
		snprintf(err, errlen, "invalid BPF function name '%s': want a C identifier",
			 fields[3]);
		return -1;
	}
	if (parse_need(fields[4], fields[0], fields[1], go, out, err, errlen) ||
	    copy_field(out->library, sizeof(out->library), fields[0], "library", err, errlen) ||
	    copy_field(out->symbol, sizeof(out->symbol), fields[1], "symbol", err, errlen) ||
	    copy_field(out->bpf_fn, sizeof(out->bpf_fn), fields[3], "BPF function", err, errlen))
		return -1;
	return 1;
}

static const struct probe_spec *find_duplicate(const struct spec_table *t,
					       const struct probe_spec *s)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->specs[i].library, s->library) == 0 &&
		    strcmp(t->specs[i].symbol, s->symbol) == 0 && t->specs[i].kind == s->kind &&
		    strcmp(t->specs[i].bpf_fn, s->bpf_fn) == 0)
			return &t->specs[i];
	return NULL;
}

static int spec_filter(const struct dirent *d)
{
	size_t len = strlen(d->d_name), sl = strlen(SPEC_SUFFIX);

	return d->d_name[0] != '.' && len > sl && strcmp(d->d_name + len - sl, SPEC_SUFFIX) == 0;
}

static int load_file(const char *path, struct spec_table *t)
{
	char line[1100], err[256];
	FILE *f = fopen_regular(path);
	int lineno = 0, bad = 0;

	if (!f) {
		int e = errno;

		diag("failed to read probe spec file '%s': %s\n", path, file_error(e));
		return -e;
	}
	while (fgets(line, sizeof(line), f)) {
		struct probe_spec spec, *grown;
		const struct probe_spec *dup;
		int r;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			int c;

			diag("%s:%d: line is longer than %zu characters\n", path, lineno,
			     sizeof(line) - 2);
			bad = 1;
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		r = spec_parse_line(line, &spec, err, sizeof(err));
		if (r < 0) {
			diag("%s:%d: %s\n", path, lineno, err);
			bad = 1;
			continue;
		}
		if (r == 0)
			continue;
		snprintf(spec.origin, sizeof(spec.origin), "%s:%d", path, lineno);
		dup = find_duplicate(t, &spec);
		if (dup) {
			diag("%s:%d: duplicate of %s\n", path, lineno, dup->origin);
			bad = 1;
			continue;
		}
		grown = realloc(t->specs, (t->n + 1) * sizeof(*grown));
		if (!grown) {
			fclose(f);
			return -ENOMEM;
		}
		t->specs = grown;
		t->specs[t->n++] = spec;
	}
	fclose(f);
	return bad ? -EINVAL : 0;
}

/* Each line's lib_first and lib_companions, decided once for the whole table. */
static void group_libraries(struct spec_table *t)
{
	int i, j;

	for (i = 0; i < t->n; i++) {
		struct probe_spec *s = &t->specs[i];

		s->lib_first = s->lib_companions = true;
		for (j = 0; j < t->n; j++) {
			if (j == i || strcmp(t->specs[j].library, s->library) != 0)
				continue;
			s->lib_first &= j > i;
			s->lib_companions &= t->specs[j].companion;
		}
		s->lib_companions &= s->companion;
	}
}

int spec_table_load(const char *dir, struct spec_table *t)
{
	struct dirent **names = NULL;
	int n, i, err = 0;

	t->specs = NULL;
	t->n = 0;
	n = scandir(dir, &names, spec_filter, alphasort);
	if (n < 0) {
		int e = errno;

		diag("failed to read probe spec directory '%s': %s\n", dir, strerror(e));
		return -e;
	}
	for (i = 0; i < n; i++) {
		char path[4096];
		int r;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		r = load_file(path, t);
		if (r < 0 && (err == 0 || err == -EINVAL))
			err = r;
		free(names[i]);
	}
	free(names);
	if (!err && t->n == 0) {
		diag("no probe specs in '%s': want *%s files with at least one entry\n", dir,
		     SPEC_SUFFIX);
		err = -ENOENT;
	}
	group_libraries(t);
	return err;
}

void spec_table_free(struct spec_table *t)
{
	free(t->specs);
	t->specs = NULL;
	t->n = 0;
}

/* One path component of a Rust legacy mangled name, decoded into out (at most size - 1). */
static size_t rust_component(const char *s, size_t len, char *out, size_t size)
{
	static const struct {
		const char *from, *to;
	} esc[] = {{"$LT$", "<"}, {"$GT$", ">"},  {"$u20$", " "}, {"$RF$", "&"}, {"$BP$", "*"},
		   {"$C$", ","},  {"$u7b$", "{"}, {"$u7d$", "}"}, {"..", "::"}};
	size_t i = 0, n = 0, k;

	if (len >= 2 && s[0] == '_' && s[1] == '$')
		i = 1;
	while (i < len && n + 1 < size) {
		for (k = 0; k < sizeof(esc) / sizeof(esc[0]); k++)
			if (strncmp(s + i, esc[k].from, strlen(esc[k].from)) == 0 &&
			    i + strlen(esc[k].from) <= len)
				break;
		if (k < sizeof(esc) / sizeof(esc[0])) {
			n += (size_t)snprintf(out + n, size - n, "%s", esc[k].to);
			i += strlen(esc[k].from);
		} else {
			out[n++] = s[i++];
		}
	}
	out[n < size ? n : size - 1] = '\0';
	return n < size ? n : size - 1;
}

/* "<T as Trait>::f" made "T::f": a name without blanks, for columns and awk. */
static void drop_trait(char *name)
{
	char *as = strstr(name, " as "), *close = as ? strstr(as, ">::") : NULL;

	if (name[0] != '<' || !close)
		return;
	memmove(name, name + 1, (size_t)(as - name - 1));
	memmove(as - 1, close + 1, strlen(close + 1) + 1);
}

void spec_display_name(const char *symbol, char *out, size_t size)
{
	size_t len = strcspn(symbol, "="), n = 0;
	const char *p = symbol + 3, *end = symbol + len;

	snprintf(out, size, "%.*s", (int)len, symbol);
	if (len < 4 || strncmp(symbol, "_ZN", 3) != 0)
		return;
	while (p < end && isdigit((unsigned char)*p) && n + 1 < size) {
		char *next;
		unsigned long clen = strtoul(p, &next, 10);

		if (clen == 0 || clen > (unsigned long)(end - next))
			break;
		if (next[0] == 'h' && (next[clen - 1] == '*' || clen == 17))
			break; /* the hash */
		if (n)
			n += (size_t)snprintf(out + n, size - n, "::");
		if (n + 1 < size)
			n += rust_component(next, clen, out + n, size - n);
		p = next + clen;
	}
	if (!n)
		snprintf(out, size, "%.*s", (int)len, symbol);
	drop_trait(out);
}
