/* SPDX-License-Identifier: Apache-2.0 */
/* nosym_cfi.c - a stripped executable's function starts, read from its call frame information
 * (.eh_frame and its sorted header table) for the finders */
#include "nosymfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)nosym_le32(p) | (uint64_t)nosym_le32(p + 4) << 32;
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
	     : (enc & 0x0f) == EH_PE_SDATA4 ? (uint64_t)(int64_t)(int32_t)nosym_le32(*p)
					    : nosym_le32(*p);
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
	len = nosym_le32(f->elf.map + off);
	if (len == 0 || len == 0xffffffffu || len > f->elf.size - off - 4)
		return false; /* the end, or a 64-bit record (not written for x86-64 code) */
	r->body = f->elf.map + off + 4;
	r->end = r->body + len;
	r->vaddr = vaddr + 4;
	return true;
}

/* A CIE: what its FDEs need. */
struct cie {
	uint8_t enc; /* of an FDE's pc_begin and pc_range */
	bool z;	     /* its FDEs have augmentation data */
	int64_t data_align;
	const uint8_t *insns, *end; /* initial instructions */
};

/* The CIE whose record is at vaddr. */
static bool parse_cie(const struct nosym_file *f, uint64_t vaddr, struct cie *c)
{
	struct cfi_record r;
	const uint8_t *p, *aug;
	uint64_t code_align, ra, auglen;
	uint8_t version;

	if (!record_at(f, vaddr, &r) || r.end - r.body < 5 || nosym_le32(r.body) != 0)
		return false;
	p = r.body + 4;
	version = *p++;
	if (version != 1 && version != 3)
		return false;
	aug = p;
	p = memchr(p, '\0', (size_t)(r.end - p));
	if (!p)
		return false;
	p++;
	if (!nosym_uleb(&p, r.end, &code_align) || !sleb(&p, r.end, &c->data_align))
		return false;
	if (version == 1 && p < r.end)
		ra = *p++;
	else if (version == 1 || !nosym_uleb(&p, r.end, &ra))
		return false;
	c->enc = EH_PE_ABSPTR;
	c->z = aug[0] == 'z';
	if (ra != X86_RA || (aug[0] && !c->z))
		return false;
	if (c->z) {
		const uint8_t *data, *dend;
		const char *a;
		uint64_t ignored;

		if (!nosym_uleb(&p, r.end, &auglen) || auglen > (uint64_t)(r.end - p))
			return false;
		dend = p + auglen;
		for (data = p, a = (const char *)aug + 1; *a; a++) {
			if ((*a == 'R' || *a == 'L' || *a == 'P') && data >= dend)
				return false;
			if (*a == 'R')
				c->enc = *data++;
			else if (*a == 'L')
				data++;
			else if (*a == 'P' && !encoded(&(const uint8_t *){data + 1}, dend,
						       data[0] & 0x0f, 0, &ignored))
				return false;
			else if (*a == 'P')
				data += 1 + ((data[0] & 0x0f) == EH_PE_UDATA4 ||
							     (data[0] & 0x0f) == EH_PE_SDATA4
						     ? 4
						     : 8);
			else if (*a != 'S')
				return false;
		}
		p = dend;
	}
	c->insns = p;
	c->end = r.end;
	return true;
}

/* An FDE: the code it covers and its instructions. */
struct fde {
	uint64_t begin, range;
	const uint8_t *insns, *end;
	struct cie cie;
};

/* The FDE whose record is at vaddr; false for a CIE or what cannot be read. */
static bool parse_fde(const struct nosym_file *f, uint64_t vaddr, struct fde *d)
{
	struct cfi_record r;
	const uint8_t *p;
	uint64_t cie_ptr, auglen;

	if (!record_at(f, vaddr, &r) || r.end - r.body < 8)
		return false;
	cie_ptr = nosym_le32(r.body);
	if (cie_ptr == 0 || cie_ptr > r.vaddr || !parse_cie(f, r.vaddr - cie_ptr, &d->cie))
		return false;
	p = r.body + 4;
	if (!encoded(&p, r.end, d->cie.enc, r.vaddr + 4, &d->begin) ||
	    !encoded(&p, r.end, d->cie.enc & 0x0f, 0, &d->range))
		return false;
	if (d->cie.z) {
		if (!nosym_uleb(&p, r.end, &auglen) || auglen > (uint64_t)(r.end - p))
			return false;
		p += auglen;
	}
	d->insns = p;
	d->end = r.end;
	return true;
}

bool nosym_fde_of(const struct nosym_file *f, uint64_t vaddr, uint64_t *start, uint64_t *end,
		  bool *entry)
{
	size_t lo = 0, hi = f->nfde;
	struct fde d;

	if (!f->nfde || f->fdes[0].begin > vaddr)
		return false;
	while (hi - lo > 1) { /* the last entry starting at or before vaddr */
		size_t mid = lo + (hi - lo) / 2;

		if (f->fdes[mid].begin <= vaddr)
			lo = mid;
		else
			hi = mid;
	}
	if (!parse_fde(f, f->fdes[lo].fde, &d) || d.begin != f->fdes[lo].begin ||
	    vaddr - d.begin >= d.range)
		return false;
	*start = d.begin;
	*end = d.begin + d.range;
	*entry = nosym_cfi_is_entry(d.cie.insns, (size_t)(d.cie.end - d.cie.insns),
				    d.cie.data_align, d.insns, (size_t)(d.end - d.insns));
	return true;
}

/* ---------------------------------------------------------------- the file */

static int add_fde(struct nosym_file *f, uint64_t begin, uint64_t fde, size_t *cap)
{
	if (f->nfde == *cap) {
		size_t n = *cap ? 2 * *cap : 1024;
		struct nosym_fde *v = realloc(f->fdes, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		f->fdes = v;
		*cap = n;
	}
	f->fdes[f->nfde++] = (struct nosym_fde){.begin = begin, .fde = fde};
	return 0;
}

static int cmp_fde(const void *a, const void *b)
{
	const struct nosym_fde *x = a, *y = b;

	return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* The table of .eh_frame_hdr (version 1; count udata4; entries datarel sdata4), sorted by
 * where the code begins as the format says, or else sorted here: a lookup searches it by
 * halves, and out of order it could find one function from its start and another from
 * inside it. 0, or -ENOENT when there is none in that form. */
static int read_hdr_table(struct nosym_file *f, const uint8_t *hdr, size_t size, uint64_t vaddr)
{
	const uint8_t *p = hdr, *end = hdr + size;
	uint64_t ignored;
	bool sorted = true;
	size_t cap = 0;
	uint32_t n, i;

	if (size < 4 || p[0] != 1 || p[2] != EH_PE_UDATA4 || p[3] != (EH_PE_DATAREL | EH_PE_SDATA4))
		return -ENOENT;
	p += 4;
	if (!encoded(&p, end, p[-3], vaddr + 4, &ignored) || end - p < 4)
		return -ENOENT;
	n = nosym_le32(p);
	p += 4;
	if (n > (size_t)(end - p) / 8)
		return -ENOENT;
	for (i = 0; i < n; i++, p += 8) {
		if (add_fde(f, vaddr + (uint64_t)(int64_t)(int32_t)nosym_le32(p),
			    vaddr + (uint64_t)(int64_t)(int32_t)nosym_le32(p + 4), &cap))
			return -ENOMEM;
		sorted = sorted && (!i || f->fdes[i].begin >= f->fdes[i - 1].begin);
	}
	if (!sorted)
		qsort(f->fdes, f->nfde, sizeof(*f->fdes), cmp_fde);
	return 0;
}

/* Every FDE of the .eh_frame section, walked record by record (a static link writes no
 * .eh_frame_hdr), sorted by where its code begins. */
static int walk_eh_frame(struct nosym_file *f, const Elf64_Shdr *sh)
{
	uint64_t at = sh->sh_addr, end = sh->sh_addr + sh->sh_size;
	size_t cap = 0;
	struct fde d;

	while (at + 4 <= end) {
		struct cfi_record r;

		if (!record_at(f, at, &r))
			break; /* the terminator, or what cannot be read */
		if (r.end - r.body >= 4 && nosym_le32(r.body) != 0 && parse_fde(f, at, &d) &&
		    d.range && add_fde(f, d.begin, at, &cap))
			return -ENOMEM;
		if (r.vaddr + (uint64_t)(r.end - r.body) <= at)
			break;
		at = r.vaddr + (uint64_t)(r.end - r.body);
	}
	if (!f->nfde)
		return -ENOENT;
	qsort(f->fdes, f->nfde, sizeof(*f->fdes), cmp_fde);
	return 0;
}

/* The table of function starts, read on its first need (most programs have no name's string
 * and never need it). 0, -ENOTSUP when the file has no .eh_frame read here, -ENOMEM. */
int nosym_load_fdes(struct nosym_file *f)
{
	const Elf64_Shdr *sh;
	int i, r = -ENOENT;

	if (f->fdes_read)
		return f->fdes_err;
	f->fdes_read = true;
	for (i = 0; i < elf_file_ehdr(&f->elf)->e_phnum && r == -ENOENT; i++) {
		const Elf64_Phdr *ph = elf_file_phdr(&f->elf, i);

		if (ph->p_type == PT_GNU_EH_FRAME && ph->p_offset < f->elf.size &&
		    ph->p_filesz <= f->elf.size - ph->p_offset)
			r = read_hdr_table(f, f->elf.map + ph->p_offset, ph->p_filesz, ph->p_vaddr);
	}
	if (r == -ENOENT && (sh = elf_file_section(&f->elf, ".eh_frame", false)) != NULL)
		r = walk_eh_frame(f, sh);
	f->fdes_err = r == -ENOMEM ? r : r ? -ENOTSUP : 0;
	return f->fdes_err;
}
