/* SPDX-License-Identifier: Apache-2.0 */
/* syms.c - functions of an ELF file found by name, many in one pass over its symbols; a
 * library found in the ld.so cache */
#include "tracer_bpf.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#include <bcc/bcc_elf.h>
#include <bcc/bcc_proc.h>
#include <bcc/bcc_syms.h>

struct sym_lookup {
	const char *const *names;
	uint64_t *addr;	    /* virtual address of names[i]; 0: not found yet; AMBIGUOUS */
	size_t *prefix_len; /* names[i] "name*": the length of "name"; 0: an exact name */
	int n, left;	    /* left: exact names not found yet */
	bool prefixes;	    /* some name is a prefix: every symbol is looked at */
};

#define AMBIGUOUS UINT64_MAX /* a prefix that two functions match */

/* libbcc's callback for each function symbol: the first of each wanted name is kept (as
 * bcc_resolve_symname keeps the first); a prefix must match one function only. */
static int on_symbol(const char *name, uint64_t addr, uint64_t size, void *payload)
{
	struct sym_lookup *l = payload;
	int i;

	(void)size;
	for (i = 0; i < l->n; i++) {
		if (name[0] != l->names[i][0])
			continue;
		if (l->prefix_len[i]) {
			if (strncmp(name, l->names[i], l->prefix_len[i]) == 0 && l->addr[i] != addr)
				l->addr[i] = l->addr[i] ? AMBIGUOUS : addr;
		} else if (!l->addr[i] && strcmp(name, l->names[i]) == 0) {
			l->addr[i] = addr;
			l->left--;
		}
	}
	return l->left > 0 || l->prefixes ? 0 : -1; /* all found: stop */
}

struct sym_segments {
	struct sym_lookup *l;
	uint64_t *offsets;
	bool *found;
};

/* For each executable load segment: the wanted addresses inside it become file offsets. */
static int on_segment(uint64_t vaddr, uint64_t memsz, uint64_t offset, void *payload)
{
	struct sym_segments *s = payload;
	int i;

	for (i = 0; i < s->l->n; i++)
		if (!s->found[i] && s->l->addr[i] != AMBIGUOUS && s->l->addr[i] >= vaddr &&
		    s->l->addr[i] < vaddr + memsz) {
			s->offsets[i] = s->l->addr[i] - vaddr + offset;
			s->found[i] = true;
		}
	return 0;
}

int tracer_bpf__symbol_offsets(const char *path, const char *const *names, int n, uint64_t *offsets,
			       bool *found)
{
	struct bcc_symbol_option opt = {
		.use_debug_file = 0,
		.check_debug_file_crc = 0,
		.lazy_symbolize = 1,
		.use_symbol_type = (1 << STT_FUNC) | (1 << STT_GNU_IFUNC),
	};
	uint64_t addr[TRACER_BPF_MAX_SYMBOLS] = {0};
	size_t prefix_len[TRACER_BPF_MAX_SYMBOLS] = {0};
	struct sym_lookup l = {.names = names, .addr = addr, .prefix_len = prefix_len, .n = n};
	struct sym_segments seg = {.l = &l, .offsets = offsets, .found = found};
	int i;

	if (n < 0 || n > TRACER_BPF_MAX_SYMBOLS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		size_t len = strlen(names[i]);

		found[i] = false;
		if (len > 1 && names[i][len - 1] == '*') /* a prefix, once for the whole walk */
			prefix_len[i] = len - 1;
		l.prefixes |= prefix_len[i] > 0;
		l.left += !prefix_len[i];
	}
	if (n == 0)
		return 0;
	if (bcc_elf_foreach_sym(path, on_symbol, &opt, &l) < 0)
		return -ENOEXEC;
	for (i = 0; i < n && (!addr[i] || addr[i] == AMBIGUOUS); i++)
		;
	if (i == n)
		return 0; /* none found */
	/* an ET_EXEC or ET_DYN file: addresses are made file offsets, as libbcc does */
	if (bcc_elf_foreach_load_section(path, on_segment, &seg) < 0)
		return -ENOEXEC;
	return 0;
}

char *tracer_bpf__which_so(const char *lib)
{
	return bcc_procutils_which_so(lib, 0);
}
