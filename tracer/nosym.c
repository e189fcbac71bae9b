/* nosym.c - functions of a stripped x86-64 executable found by what their code carries */
#define _GNU_SOURCE
#include "nosym.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* DWARF call frame instructions and pointer encodings read here (DWARF 5, 6.4.2; LSB). */
enum {
	CFA_ADVANCE_LOC = 0x40, /* high two bits */
	CFA_OFFSET = 0x80,	/* high two bits */
	CFA_NOP = 0x00,
	CFA_DEF_CFA = 0x0c,
	EH_PE_ABSPTR = 0x00,
	EH_PE_UDATA4 = 0x03,
	EH_PE_SDATA4 = 0x0b,
	EH_PE_UDATA8 = 0x04,
	EH_PE_SDATA8 = 0x0c,
	EH_PE_PCREL = 0x10,
	EH_PE_DATAREL = 0x30,
};

#define X86_RSP 7
#define X86_RA 16
#define SCAN_CHUNK (8u << 20)
#define MAX_STRINGS 4 /* copies of one name's string looked at */
#define MAX_SITES 64  /* references to one name's string */
#define SITE_WINDOW 6 /* instructions after the name's load that hold the rest of the site */

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

bool nosym_uleb(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	unsigned shift = 0;

	*v = 0;
	while (*p < end && shift < 64) {
		uint8_t b = *(*p)++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
		shift += 7;
	}
	return false;
}

static bool sleb(const uint8_t **p, const uint8_t *end, int64_t *v)
{
	unsigned shift = 0;
	uint64_t r = 0;
	uint8_t b = 0x80;

	while (*p < end && shift < 64 && (b & 0x80)) {
		b = *(*p)++;
		r |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	}
	if (b & 0x80)
		return false;
	if (shift < 64 && (b & 0x40))
		r |= ~0ull << shift;
	*v = (int64_t)r;
	return true;
}

/* Reads a pointer of encoding `enc` at *p (at address `vaddr`), moving past it. */
static bool encoded(const uint8_t **p, const uint8_t *end, uint8_t enc, uint64_t vaddr, uint64_t *v)
{
	size_t size;

	switch (enc & 0x0f) {
	case EH_PE_UDATA4:
	case EH_PE_SDATA4:
		size = 4;
		break;
	case EH_PE_ABSPTR:
	case EH_PE_UDATA8:
	case EH_PE_SDATA8:
		size = 8;
		break;
	default:
		return false;
	}
	if ((size_t)(end - *p) < size)
		return false;
	*v = size == 8			    ? le64(*p)
	     : (enc & 0x0f) == EH_PE_SDATA4 ? (uint64_t)(int64_t)(int32_t)le32(*p)
					    : le32(*p);
	*p += size;
	if ((enc & 0x70) == EH_PE_PCREL)
		*v += vaddr;
	else if (enc & 0x70)
		return false;
	return true;
}

/* ---------------------------------------------------------------- call frame information */

bool nosym_cfi_is_entry(const uint8_t *cie_insns, size_t cie_len, int64_t data_align,
			const uint8_t *fde_insns, size_t fde_len)
{
	const uint8_t *p = cie_insns, *end = cie_insns + cie_len;
	uint64_t reg, off;
	bool cfa = false, ra = false;

	while (p < end) {
		uint8_t op = *p++;

		if (op == CFA_NOP)
			continue;
		if (op == CFA_DEF_CFA && nosym_uleb(&p, end, &reg) && nosym_uleb(&p, end, &off) &&
		    reg == X86_RSP && off == 8 && !cfa) {
			cfa = true;
		} else if ((op & 0xc0) == CFA_OFFSET && (op & 0x3f) == X86_RA &&
			   nosym_uleb(&p, end, &off) && (int64_t)off * data_align == -8 && !ra) {
			ra = true;
		} else {
			return false; /* a rule this check does not know: not sure */
		}
	}
	if (!cfa || !ra)
		return false;
	/* the FDE: nothing before it first moves on from the function's first byte */
	for (p = fde_insns, end = fde_insns + fde_len; p < end; p++)
		if (*p != CFA_NOP)
			return (*p & 0xc0) == CFA_ADVANCE_LOC || (*p >= 0x02 && *p <= 0x04);
	return true;
}

/* A record of .eh_frame: its bytes after the length, and where they are. */
struct cfi_record {
	const uint8_t *body, *end;
	uint64_t vaddr; /* of body */
};

/* The record at virtual address `vaddr` of the read-only data. */
static bool record_at(const struct nosym_file *f, uint64_t vaddr, struct cfi_record *r)
{
	uint64_t off = elf_file_offset(&f->elf, vaddr, false);
	uint32_t len;

	if (off == UINT64_MAX || off + 4 > f->elf.size)
		return false;
	len = le32(f->elf.map + off);
	if (len == 0 || len == 0xffffffffu || len > f->elf.size - off - 4)
		return false; /* the end, or a 64-bit record (not written for x86-64 code) */
	r->body = f->elf.map + off + 4;
	r->end = r->body + len;
	r->vaddr = vaddr + 4;
	return true;
}

/* The function .eh_frame says holds vaddr: [*start, *end), and whether its first byte is an
 * entry (see nosym_cfi_is_entry). False when none does. */
static bool fde_of(const struct nosym_file *f, uint64_t vaddr, uint64_t *start, uint64_t *end,
		   bool *entry)
{
	uint32_t lo = 0, hi = f->nfde;
	struct cfi_record fde, cie;
	const uint8_t *p, *aug, *insns;
	uint64_t cie_ptr, begin, range, code_align, ra, auglen = 0;
	int64_t loc, data_align;
	uint8_t enc = EH_PE_ABSPTR, version;

	while (hi - lo > 1) { /* the last entry starting at or before vaddr */
		uint32_t mid = lo + (hi - lo) / 2;

		loc = (int32_t)le32(f->table + (size_t)mid * 8);
		if (f->hdr_vaddr + (uint64_t)loc <= vaddr)
			lo = mid;
		else
			hi = mid;
	}
	if (!f->nfde)
		return false;
	loc = (int32_t)le32(f->table + (size_t)lo * 8);
	if (!record_at(f,
		       f->hdr_vaddr +
			       (uint64_t)(int64_t)(int32_t)le32(f->table + (size_t)lo * 8 + 4),
		       &fde) ||
	    fde.end - fde.body < 8)
		return false;
	cie_ptr = le32(fde.body);
	if (cie_ptr == 0 || cie_ptr > fde.vaddr || !record_at(f, fde.vaddr - cie_ptr, &cie) ||
	    cie.end - cie.body < 4 || le32(cie.body) != 0)
		return false;
	/* the CIE: version, augmentation, alignments, return address column, its data */
	p = cie.body + 4;
	if (p >= cie.end || (*p != 1 && *p != 3))
		return false;
	version = *p++;
	aug = p;
	p = memchr(p, '\0', (size_t)(cie.end - p));
	if (!p)
		return false;
	p++;
	if (!nosym_uleb(&p, cie.end, &code_align) || !sleb(&p, cie.end, &data_align))
		return false;
	if (version == 1 && p < cie.end)
		ra = *p++;
	else if (version == 1 || !nosym_uleb(&p, cie.end, &ra))
		return false;
	if (ra != X86_RA)
		return false;
	if (aug[0] == 'z') {
		const uint8_t *data;
		const char *a;

		if (!nosym_uleb(&p, cie.end, &auglen) || auglen > (uint64_t)(cie.end - p))
			return false;
		for (data = p, a = (const char *)aug + 1; *a; a++) {
			uint64_t ignored;

			if (*a == 'R' && data < p + auglen)
				enc = *data++;
			else if (*a == 'L' && data < p + auglen)
				data++;
			else if (*a == 'P' && data < p + auglen)
				data++, data = encoded(&data, p + auglen, data[-1] & 0x0f, 0,
						       &ignored)
						       ? data
						       : p + auglen + 1;
			else if (*a != 'S')
				return false;
			if (data > p + auglen)
				return false;
		}
		p += auglen;
	} else if (aug[0]) {
		return false;
	}
	insns = p;
	/* the FDE: its range, its augmentation data, its instructions */
	p = fde.body + 4;
	if (!encoded(&p, fde.end, enc, fde.vaddr + 4, &begin) ||
	    !encoded(&p, fde.end, enc & 0x0f, 0, &range))
		return false;
	if (aug[0] == 'z' &&
	    (!nosym_uleb(&p, fde.end, &auglen) || auglen > (uint64_t)(fde.end - p)))
		return false;
	p += aug[0] == 'z' ? auglen : 0;
	if (begin != f->hdr_vaddr + (uint64_t)loc || vaddr < begin || vaddr - begin >= range)
		return false;
	*start = begin;
	*end = begin + range;
	*entry = nosym_cfi_is_entry(insns, (size_t)(cie.end - insns), data_align, p,
				    (size_t)(fde.end - p));
	return true;
}

/* ---------------------------------------------------------------- the file */

int nosym_open(const char *path, struct nosym_file *f, char *err, size_t errlen)
{
	const uint8_t *p, *end;
	uint64_t ignored;
	int i, r;

	memset(f, 0, sizeof(*f));
	r = elf_file_open(path, &f->elf);
	if (r)
		return r;
	if (elf_file_ehdr(&f->elf)->e_machine != EM_X86_64) {
		snprintf(err, errlen, "not an x86-64 program");
		nosym_close(f);
		return -ENOTSUP;
	}
	for (i = 0; i < elf_file_ehdr(&f->elf)->e_phnum; i++) {
		const Elf64_Phdr *ph = elf_file_phdr(&f->elf, i);

		if (ph->p_type == PT_GNU_EH_FRAME && ph->p_offset < f->elf.size &&
		    ph->p_filesz <= f->elf.size - ph->p_offset) {
			f->hdr = f->elf.map + ph->p_offset;
			f->hdr_vaddr = ph->p_vaddr;
			f->hdr_size = ph->p_filesz;
		}
	}
	p = f->hdr;
	end = p + f->hdr_size;
	/* version 1; eh_frame_ptr (any encoding read here); count udata4; table datarel sdata4 */
	if (!p || f->hdr_size < 4 || p[0] != 1 || p[2] != EH_PE_UDATA4 ||
	    p[3] != (EH_PE_DATAREL | EH_PE_SDATA4) ||
	    !encoded(&(const uint8_t *){p + 4}, end, p[1], f->hdr_vaddr + 4, &ignored)) {
		snprintf(err, errlen, "no .eh_frame_hdr table of its functions");
		nosym_close(f);
		return -ENOTSUP;
	}
	p += 4 + ((p[1] & 0x0f) == EH_PE_UDATA4 || (p[1] & 0x0f) == EH_PE_SDATA4 ? 4 : 8);
	if (end - p < 4 || le32(p) > (size_t)(end - p - 4) / 8) {
		snprintf(err, errlen, "its .eh_frame_hdr table is malformed");
		nosym_close(f);
		return -ENOTSUP;
	}
	f->nfde = le32(p);
	f->table = p + 4;
	elf_file_build_id(&f->elf, f->build_id, sizeof(f->build_id));
	return 0;
}

void nosym_close(struct nosym_file *f)
{
	elf_file_close(&f->elf);
}

/* ---------------------------------------------------------------- strings and references */

/* The NUL-terminated string at vaddr in the read-only data, or NULL. */
static const char *string_at(const struct nosym_file *f, uint64_t vaddr)
{
	uint64_t off = elf_file_offset(&f->elf, vaddr, false);

	if (off == UINT64_MAX || !memchr(f->elf.map + off, '\0', f->elf.size - off))
		return NULL;
	return (const char *)f->elf.map + off;
}

/* Up to max addresses of "name\0" in segments that are not writable. */
static int find_strings(const struct nosym_file *f, const char *name, uint64_t *out, int max)
{
	size_t len = strlen(name) + 1;
	int i, n = 0;

	for (i = 0; i < elf_file_ehdr(&f->elf)->e_phnum; i++) {
		const Elf64_Phdr *ph = elf_file_phdr(&f->elf, i);
		const uint8_t *p, *end;

		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W) || ph->p_offset >= f->elf.size)
			continue;
		p = f->elf.map + ph->p_offset;
		end = p + (ph->p_filesz < f->elf.size - ph->p_offset ? ph->p_filesz
								     : f->elf.size - ph->p_offset);
		while (n < max && (p = memmem(p, (size_t)(end - p), name, len)) != NULL) {
			out[n++] = ph->p_vaddr + (uint64_t)(p - (f->elf.map + ph->p_offset));
			p += len;
		}
	}
	return n;
}

/* A reference to a name's string: a `lea reg, [rip + disp32]` in the code. */
struct ref {
	int name;
	uint64_t vaddr;
	unsigned reg; /* 0-15, rax..r15 */
};

struct refs {
	struct ref *v;
	int n, cap;
	const uint64_t *targets; /* string addresses, sorted */
	const int *target_name;
	int ntargets;
};

static int add_ref(struct refs *r, int name, uint64_t vaddr, unsigned reg)
{
	if (r->n == r->cap) {
		int cap = r->cap ? 2 * r->cap : 64;
		struct ref *v = realloc(r->v, (size_t)cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = (struct ref){.name = name, .vaddr = vaddr, .reg = reg};
	return 0;
}

/* The rip-relative leas of buf (code at vaddr) that load one of the targets. */
static int scan_chunk(struct refs *r, const uint8_t *buf, size_t len, uint64_t vaddr)
{
	uint64_t lo = r->targets[0], span = r->targets[r->ntargets - 1] - lo;
	size_t i;
	int k;

	for (i = 0; i + 7 <= len; i++) {
		uint64_t target;

		if (buf[i + 1] != 0x8d || (buf[i] & 0xfb) != 0x48 || (buf[i + 2] & 0xc7) != 0x05)
			continue;
		target = vaddr + i + 7 + (uint64_t)(int64_t)(int32_t)le32(buf + i + 3);
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

/* Every reference in the executable segments to the targets (read with pread, in chunks
 * that overlap by an instruction). */
static int scan_code(const struct nosym_file *f, struct refs *r)
{
	uint8_t *buf = malloc(SCAN_CHUNK + 8);
	int i, err = 0;

	if (!buf)
		return -ENOMEM;
	for (i = 0; i < elf_file_ehdr(&f->elf)->e_phnum && !err; i++) {
		const Elf64_Phdr *ph = elf_file_phdr(&f->elf, i);
		uint64_t done;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		for (done = 0; done < ph->p_filesz && !err;) {
			size_t len = ph->p_filesz - done > SCAN_CHUNK + 6 ? SCAN_CHUNK + 6
									  : ph->p_filesz - done;
			ssize_t got = pread(f->elf.fd, buf, len, (off_t)(ph->p_offset + done));

			if (got != (ssize_t)len) {
				err = -EIO;
				break;
			}
			err = scan_chunk(r, buf, len, ph->p_vaddr + done);
			done += len > SCAN_CHUNK ? SCAN_CHUNK : len;
		}
	}
	free(buf);
	return err;
}

/* ---------------------------------------------------------------- error sites */

/* Whether op is the register whose number (0-15) is reg. */
static bool is_reg64(const cs_x86_op *op, x86_reg reg)
{
	return op->type == X86_OP_REG && op->reg == reg;
}

/* The target of `lea reg, [rip + disp]` when insn is one loading reg; else UINT64_MAX. */
static uint64_t lea_target(const cs_insn *insn, x86_reg reg)
{
	const cs_x86 *x = &insn->detail->x86;

	if (insn->id != X86_INS_LEA || x->op_count != 2 || !is_reg64(&x->operands[0], reg) ||
	    x->operands[1].type != X86_OP_MEM || x->operands[1].mem.base != X86_REG_RIP ||
	    x->operands[1].mem.index != X86_REG_INVALID)
		return UINT64_MAX;
	return insn->address + insn->size + (uint64_t)x->operands[1].mem.disp;
}

/* Whether s names a C source file, as OpenSSL's OPENSSL_FILE does. */
static bool is_source_file(const char *s)
{
	size_t len = s ? strlen(s) : 0;

	return len > 2 && len < 200 && strcmp(s + len - 2, ".c") == 0;
}

/*
 * The function [start, end) decoded from its first byte: each site (sorted addresses) must
 * be an instruction loading the name into rdx, followed within SITE_WINDOW instructions by
 * a source file name loaded into rdi and then a direct call, whose target goes to *report
 * (one for all). Returns 0, or -EINVAL with why.
 */
static int check_sites(const struct nosym_file *f, uint64_t start, uint64_t end,
		       const uint64_t *sites, int nsites, struct nosym_found *out)
{
	uint64_t off = elf_file_offset(&f->elf, start, true), addr = start,
		 last = sites[nsites - 1];
	size_t size, left;
	const uint8_t *code;
	uint8_t *buf;
	cs_insn *insn;
	csh cs;
	int k = 0, window = -1, err = 0;
	bool file_seen = false;

	if (off == UINT64_MAX || last >= end ||
	    elf_file_offset(&f->elf, last, true) != off + (last - start))
		return snprintf(out->why, sizeof(out->why), "its code is not in one segment"),
		       -EINVAL;
	/* up to the end of the last site: its window of instructions, 15 bytes at most each */
	size = (size_t)((end - last > 15 * (SITE_WINDOW + 1) ? last + 15 * (SITE_WINDOW + 1)
							     : end) -
			start);
	if (elf_file_offset(&f->elf, start + size - 1, true) != off + size - 1 ||
	    !(buf = elf_file_read(&f->elf, off, size)))
		return snprintf(out->why, sizeof(out->why), "its code cannot be read"), -EINVAL;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		free(buf);
		return -ENOMEM;
	}
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(cs);
	code = buf;
	left = size;
	while (!err && insn && (k < nsites || window >= 0)) {
		if (!cs_disasm_iter(cs, &code, &left, &addr, insn)) {
			if (k < nsites)
				snprintf(out->why, sizeof(out->why),
					 "its code does not decode from 0x%llx to 0x%llx",
					 (unsigned long long)start, (unsigned long long)sites[k]);
			else
				snprintf(out->why, sizeof(out->why),
					 "the load at 0x%llx is not followed by a source file "
					 "name and a call",
					 (unsigned long long)sites[k - 1]);
			err = -EINVAL;
			break;
		}
		if (k < nsites && insn->address > sites[k]) {
			snprintf(out->why, sizeof(out->why),
				 "0x%llx is not an instruction of the function decoded from 0x%llx",
				 (unsigned long long)sites[k], (unsigned long long)start);
			err = -EINVAL;
		} else if (k < nsites && insn->address == sites[k]) {
			if (lea_target(insn, X86_REG_RDX) == UINT64_MAX) {
				snprintf(out->why, sizeof(out->why),
					 "its name is loaded at 0x%llx other than as an error "
					 "site's function name",
					 (unsigned long long)sites[k]);
				err = -EINVAL;
			}
			if (window >= 0) {
				snprintf(out->why, sizeof(out->why),
					 "the error site at 0x%llx makes no call",
					 (unsigned long long)sites[k - 1]);
				err = -EINVAL;
			}
			k++;
			window = SITE_WINDOW;
			file_seen = false;
		} else if (window >= 0) {
			const char *file = string_at(f, lea_target(insn, X86_REG_RDI));

			if (lea_target(insn, X86_REG_RDI) != UINT64_MAX && is_source_file(file)) {
				file_seen = true;
				snprintf(out->file, sizeof(out->file), "%s", file);
			} else if (insn->id == X86_INS_CALL && file_seen &&
				   insn->detail->x86.op_count == 1 &&
				   insn->detail->x86.operands[0].type == X86_OP_IMM) {
				uint64_t target = (uint64_t)insn->detail->x86.operands[0].imm;

				if (out->report && out->report != target) {
					snprintf(out->why, sizeof(out->why),
						 "its error sites call different functions");
					err = -EINVAL;
				}
				out->report = target;
				window = -1;
				continue;
			}
			if (--window < 0) {
				snprintf(out->why, sizeof(out->why),
					 "the load at 0x%llx is not followed by a source file name "
					 "and a call",
					 (unsigned long long)sites[k - 1]);
				err = -EINVAL;
			}
		}
	}
	if (!insn)
		err = -ENOMEM;
	cs_free(insn, 1);
	cs_close(&cs);
	free(buf);
	return err;
}

/* Facts (2)-(4) and the sites' shape for a name whose sites (sorted) are known. */
static int take_function(const struct nosym_file *f, const uint64_t *sites, int nsites,
			 struct nosym_found *out)
{
	uint64_t start = 0, end = 0, s, e;
	bool entry = false, is_entry;
	int i;

	for (i = 0; i < nsites; i++) {
		if (!fde_of(f, sites[i], &s, &e, &is_entry)) {
			snprintf(out->why, sizeof(out->why),
				 "no function of .eh_frame holds its error site at 0x%llx",
				 (unsigned long long)sites[i]);
			return -EINVAL;
		}
		if (i && s != start) {
			snprintf(out->why, sizeof(out->why),
				 "its name is passed by two functions (0x%llx and 0x%llx)",
				 (unsigned long long)start, (unsigned long long)s);
			return -EINVAL;
		}
		start = s;
		end = e;
		entry = is_entry;
	}
	if (!entry) {
		snprintf(out->why, sizeof(out->why),
			 "the code at 0x%llx holding its error sites is not entered by a call (a "
			 "part split off a function?)",
			 (unsigned long long)start);
		return -EINVAL;
	}
	out->entry = start;
	out->offset = elf_file_offset(&f->elf, start, true);
	out->site = sites[0];
	out->nsites = nsites;
	return check_sites(f, start, end, sites, nsites, out);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int nosym_find(const struct nosym_file *f, const char *const *names, int n, struct nosym_found *out)
{
	uint64_t targets[NOSYM_MAX_NAMES * MAX_STRINGS], sites[MAX_SITES], report = 0;
	int target_name[NOSYM_MAX_NAMES * MAX_STRINGS], ntargets = 0, i, j, k, err;
	struct refs r = {0};

	if (n > NOSYM_MAX_NAMES)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		uint64_t found[MAX_STRINGS];
		int m = find_strings(f, names[i], found, MAX_STRINGS);

		out[i] = (struct nosym_found){.err = -ENOENT};
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
	if (!ntargets)
		return 0; /* no name's string: nothing searched */
	r.targets = targets;
	r.target_name = target_name;
	r.ntargets = ntargets;
	err = scan_code(f, &r);
	for (i = 0; i < n && !err; i++) {
		int nsites = 0;

		for (j = 0; j < r.n; j++)
			if (r.v[j].name == i && nsites < MAX_SITES)
				sites[nsites++] = r.v[j].vaddr;
		if (!nsites)
			continue;
		qsort(sites, (size_t)nsites, sizeof(sites[0]), cmp_u64);
		out[i].err = take_function(f, sites, nsites, &out[i]);
		if (out[i].err == -ENOMEM)
			err = -ENOMEM;
	}
	free(r.v);
	/* fact (5): one reporting function for all */
	for (i = 0; i < n && !err; i++) {
		if (out[i].err)
			continue;
		if (report && out[i].report != report) {
			for (j = 0; j < n; j++)
				if (!out[j].err) {
					out[j].err = -EINVAL;
					snprintf(out[j].why, sizeof(out[j].why),
						 "the error sites of the names looked for call "
						 "different functions");
				}
			break;
		}
		report = out[i].report;
	}
	return err ? err : 1;
}

int nosym_verify(const struct nosym_file *f, const char *name, struct nosym_found *out)
{
	uint64_t site = out->site, entry = out->entry;
	const char *s;
	cs_insn *insn;
	uint8_t code[16];
	uint64_t off = elf_file_offset(&f->elf, site, true);
	size_t count = 0;
	csh cs;
	int err;

	*out = (struct nosym_found){.err = -EINVAL};
	if (off != UINT64_MAX && pread(f->elf.fd, code, sizeof(code), (off_t)off) == sizeof(code) &&
	    cs_open(CS_ARCH_X86, CS_MODE_64, &cs) == CS_ERR_OK) {
		cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
		count = cs_disasm(cs, code, sizeof(code), site, 1, &insn);
		s = count ? string_at(f, lea_target(insn, X86_REG_RDX)) : NULL;
		if (!s || strcmp(s, name) != 0)
			count = 0;
		if (insn && count)
			cs_free(insn, count);
		cs_close(&cs);
	}
	if (!count) {
		snprintf(out->why, sizeof(out->why), "0x%llx does not load \"%s\"",
			 (unsigned long long)site, name);
		return -EINVAL;
	}
	err = take_function(f, &site, 1, out);
	if (!err && out->entry != entry) {
		snprintf(out->why, sizeof(out->why), "its function now starts at 0x%llx",
			 (unsigned long long)out->entry);
		err = -EINVAL;
	}
	out->err = err;
	return err;
}
