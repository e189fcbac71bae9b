/* SPDX-License-Identifier: Apache-2.0 */
/* nosymfile.c - a stripped x86-64 executable read for the finders: its strings, the references
 * to them and its instructions (its function starts: nosym_cfi.c) */
#define _GNU_SOURCE
#include "nosymfile.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCAN_CHUNK (8u << 20) /* code scanned at a time */

int nosym_open(const char *path, struct nosym_file *f, char *err, size_t errlen)
{
	int r;

	memset(f, 0, sizeof(*f));
	r = elf_file_open(path, &f->elf);
	if (r)
		return r;
	if (elf_file_ehdr(&f->elf)->e_machine != EM_X86_64) {
		snprintf(err, errlen, "not an x86-64 program");
		nosym_close(f);
		return -ENOTSUP;
	}
	elf_file_build_id(&f->elf, f->build_id, sizeof(f->build_id));
	f->boring = -1;
	f->awslc = -1;
	return 0;
}

void nosym_close(struct nosym_file *f)
{
	if (f->rustls && f->rustls_free)
		f->rustls_free(f->rustls);
	f->rustls = NULL;
	free(f->fdes);
	f->fdes = NULL;
	f->nfde = 0;
	elf_file_close(&f->elf);
}

/* ---------------------------------------------------------------- strings and references */

uint8_t *nosym_read_code(const struct nosym_file *f, uint64_t vaddr, size_t size)
{
	uint64_t off = elf_file_offset(&f->elf, vaddr, true);

	if (!size || off == UINT64_MAX ||
	    elf_file_offset(&f->elf, vaddr + size - 1, true) != off + size - 1)
		return NULL;
	return elf_file_read(&f->elf, off, size);
}

int nosym_open_decoder(csh *cs, cs_insn **insn)
{
	if (cs_open(CS_ARCH_X86, CS_MODE_64, cs) != CS_ERR_OK)
		return -ENOMEM;
	cs_option(*cs, CS_OPT_DETAIL, CS_OPT_ON);
	*insn = cs_malloc(*cs);
	if (!*insn) {
		cs_close(cs);
		return -ENOMEM;
	}
	return 0;
}

const char *nosym_string_at(const struct nosym_file *f, uint64_t vaddr)
{
	uint64_t off = elf_file_offset(&f->elf, vaddr, false);

	if (off == UINT64_MAX || !memchr(f->elf.map + off, '\0', f->elf.size - off))
		return NULL;
	return (const char *)f->elf.map + off;
}

/* The bytes of read-only loadable segment i as the file has them ([*p, *end), at vaddr
 * *vaddr); false when segment i is none such. */
static bool rodata_segment(const struct nosym_file *f, int i, const uint8_t **p,
			   const uint8_t **end, uint64_t *vaddr)
{
	const Elf64_Phdr *ph = elf_file_phdr(&f->elf, i);

	if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W) || ph->p_offset >= f->elf.size)
		return false;
	*p = f->elf.map + ph->p_offset;
	*end = *p + (ph->p_filesz < f->elf.size - ph->p_offset ? ph->p_filesz
							       : f->elf.size - ph->p_offset);
	*vaddr = ph->p_vaddr;
	return true;
}

int nosym_find_strings(const struct nosym_file *f, const char *name, uint64_t *out, int max)
{
	size_t len = strlen(name) + 1;
	const uint8_t *start, *p, *end;
	uint64_t vaddr;
	int i, n = 0;

	for (i = 0; i < elf_file_ehdr(&f->elf)->e_phnum; i++) {
		if (!rodata_segment(f, i, &start, &end, &vaddr))
			continue;
		for (p = start; n < max && (p = memmem(p, (size_t)(end - p), name, len)) != NULL;
		     p += len)
			out[n++] = vaddr + (uint64_t)(p - start);
	}
	return n;
}

bool nosym_crate(const struct nosym_file *f, const char *crate, char *buf, size_t size)
{
	char needle[64];
	size_t len = (size_t)snprintf(needle, sizeof(needle), "/%s-", crate);
	const uint8_t *p, *end;
	uint64_t vaddr;
	int i;

	for (i = 0; i < elf_file_ehdr(&f->elf)->e_phnum && len < sizeof(needle); i++) {
		if (!rodata_segment(f, i, &p, &end, &vaddr))
			continue;
		for (; (p = memmem(p, (size_t)(end - p), needle, len)) != NULL; p += len) {
			size_t n = 0;

			while (p + len + n < end && n < 24 &&
			       (isdigit(p[len + n]) || p[len + n] == '.'))
				n++;
			/* "/rustls-0.23.40/src/...": a source path in a panic's location */
			if (n && n < 24 && p + len + n < end && p[len + n] == '/') {
				snprintf(buf, size, "%.*s", (int)(len - 1 + n),
					 (const char *)p + 1);
				return true;
			}
		}
	}
	return false;
}

static int add_ref(struct nosym_refs *r, int name, uint64_t vaddr, unsigned reg)
{
	if (r->n == r->cap) {
		int cap = r->cap ? 2 * r->cap : 64;
		struct nosym_ref *v = realloc(r->v, (size_t)cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = (struct nosym_ref){.name = name, .vaddr = vaddr, .reg = reg};
	return 0;
}

/* The instructions of buf (code at vaddr) that load one of the targets: `lea r64, [rip +
 * disp32]`, or `mov r32, imm32` (the way to an address in code linked below 4 GiB). */
static int scan_chunk(struct nosym_refs *r, const uint8_t *buf, size_t len, uint64_t vaddr)
{
	uint64_t lo = r->targets[0], span = r->targets[r->ntargets - 1] - lo;
	bool low = r->targets[r->ntargets - 1] <= UINT32_MAX;
	size_t i;
	int k;

	for (i = 0; i + 7 <= len; i++) {
		uint64_t target;

		if (low && (buf[i] & 0xf8) == 0xb8 && nosym_le32(buf + i + 1) - lo <= span) {
			for (k = 0; k < r->ntargets; k++) /* mov r32, imm32: rax..rdi */
				if (r->targets[k] == nosym_le32(buf + i + 1) &&
				    add_ref(r, r->target_name[k], vaddr + i, buf[i] & 7u))
					return -ENOMEM;
			continue;
		}
		if (buf[i + 1] != 0x8d || (buf[i] & 0xfb) != 0x48 || (buf[i + 2] & 0xc7) != 0x05)
			continue;
		target = vaddr + i + 7 + (uint64_t)(int64_t)(int32_t)nosym_le32(buf + i + 3);
		if (target - lo > span)
			continue;
		for (k = 0; k < r->ntargets; k++)
			if (r->targets[k] == target &&
			    add_ref(r, r->target_name[k], vaddr + i,
				    ((buf[i] & 4u) << 1) | ((buf[i + 2] >> 3) & 7u)))
				return -ENOMEM;
	}
	return 0;
}

int nosym_each_code_chunk(const struct nosym_file *f, size_t overlap,
			  int (*fn)(const uint8_t *buf, size_t len, uint64_t vaddr, void *arg),
			  void *arg)
{
	uint8_t *buf = malloc(SCAN_CHUNK + overlap);
	int i, err = 0;

	if (!buf)
		return -ENOMEM;
	for (i = 0; i < elf_file_ehdr(&f->elf)->e_phnum && !err; i++) {
		const Elf64_Phdr *ph = elf_file_phdr(&f->elf, i);
		uint64_t done;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		for (done = 0; done < ph->p_filesz && !err;) {
			size_t len = ph->p_filesz - done > SCAN_CHUNK + overlap
					     ? SCAN_CHUNK + overlap
					     : ph->p_filesz - done;
			ssize_t got = pread(f->elf.fd, buf, len, (off_t)(ph->p_offset + done));

			if (got != (ssize_t)len) {
				err = -EIO;
				break;
			}
			err = fn(buf, len, ph->p_vaddr + done, arg);
			done += len > SCAN_CHUNK ? SCAN_CHUNK : len;
		}
	}
	free(buf);
	return err;
}

static int scan_refs(const uint8_t *buf, size_t len, uint64_t vaddr, void *r)
{
	return scan_chunk(r, buf, len, vaddr);
}

int nosym_scan_code(const struct nosym_file *f, struct nosym_refs *r)
{
	return nosym_each_code_chunk(f, 6, scan_refs, r); /* a lea is 7 bytes */
}

/* ---------------------------------------------------------------- instructions */

/* Whether op is the register whose number (0-15) is reg. */
static bool is_reg64(const cs_x86_op *op, x86_reg reg)
{
	return op->type == X86_OP_REG && op->reg == reg;
}

uint64_t nosym_loads(const cs_insn *insn, x86_reg reg)
{
	const cs_x86 *x = &insn->detail->x86;
	x86_reg reg32 = reg == X86_REG_RDX   ? X86_REG_EDX
			: reg == X86_REG_RDI ? X86_REG_EDI
			: reg == X86_REG_RCX ? X86_REG_ECX
					     : X86_REG_INVALID;

	if (x->op_count != 2)
		return UINT64_MAX;
	if (insn->id == X86_INS_MOV && is_reg64(&x->operands[0], reg32) &&
	    x->operands[1].type == X86_OP_IMM)
		return (uint64_t)(uint32_t)x->operands[1].imm;
	if (insn->id != X86_INS_LEA || !is_reg64(&x->operands[0], reg) ||
	    x->operands[1].type != X86_OP_MEM || x->operands[1].mem.base != X86_REG_RIP ||
	    x->operands[1].mem.index != X86_REG_INVALID)
		return UINT64_MAX;
	return insn->address + insn->size + (uint64_t)x->operands[1].mem.disp;
}

bool nosym_direct_call(const cs_insn *insn, uint64_t *target)
{
	const cs_x86 *x = &insn->detail->x86;

	if (insn->id != X86_INS_CALL || x->op_count != 1 || x->operands[0].type != X86_OP_IMM)
		return false;
	*target = (uint64_t)x->operands[0].imm;
	return true;
}

int nosym_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

bool nosym_ends_with(const char *s, const char *suffix)
{
	size_t n = s ? strlen(s) : 0, m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int nosym_name_strings(const struct nosym_file *f, const char *const *names, int n,
		       uint64_t *targets, int *target_name)
{
	int i, j, k, ntargets = 0;

	for (i = 0; i < n; i++) {
		uint64_t found[NOSYM_MAX_STRINGS];
		int m = nosym_find_strings(f, names[i], found, NOSYM_MAX_STRINGS);

		for (j = 0; j < m; j++) { /* insertion keeps them sorted */
			for (k = ntargets; k > 0 && targets[k - 1] > found[j]; k--) {
				targets[k] = targets[k - 1];
				target_name[k] = target_name[k - 1];
			}
			targets[k] = found[j];
			target_name[k] = i;
			ntargets++;
		}
	}
	return ntargets;
}
