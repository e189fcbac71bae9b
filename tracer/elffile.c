/* SPDX-License-Identifier: Apache-2.0 */
/* elffile.c - a 64-bit ELF file mapped for its tables, its code read as the file has it */
#include "elffile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int elf_file_open(const char *path, struct elf_file *f)
{
	const Elf64_Ehdr *eh;
	struct stat st;
	int r;

	memset(f, 0, sizeof(*f));
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return -errno;
	if (fstat(f->fd, &st) != 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		elf_file_close(f);
		return -ENOENT;
	}
	f->size = (size_t)st.st_size;
	f->map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, f->fd, 0);
	if (f->map == MAP_FAILED) {
		r = -errno;
		f->map = NULL;
		elf_file_close(f);
		return r;
	}
	eh = elf_file_ehdr(f);
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh->e_phoff % 8 || eh->e_phoff > f->size ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > f->size - eh->e_phoff) {
		elf_file_close(f);
		return -ENOENT;
	}
	return 0;
}

void elf_file_close(struct elf_file *f)
{
	if (f->map)
		munmap(f->map, f->size);
	if (f->fd >= 0)
		close(f->fd);
	f->map = NULL;
	f->fd = -1;
}

uint64_t elf_file_offset(const struct elf_file *f, uint64_t vaddr, bool exec)
{
	int i;

	for (i = 0; i < elf_file_ehdr(f)->e_phnum; i++) {
		const Elf64_Phdr *p = elf_file_phdr(f, i);

		if (p->p_type != PT_LOAD || (exec && !(p->p_flags & PF_X)))
			continue;
		if (vaddr >= p->p_vaddr && vaddr - p->p_vaddr < p->p_filesz &&
		    p->p_offset < f->size && vaddr - p->p_vaddr < f->size - p->p_offset)
			return p->p_offset + (vaddr - p->p_vaddr);
	}
	return UINT64_MAX;
}

const Elf64_Phdr *elf_file_segment(const struct elf_file *f, uint64_t off, bool exec)
{
	int i;

	for (i = 0; i < elf_file_ehdr(f)->e_phnum; i++) {
		const Elf64_Phdr *p = elf_file_phdr(f, i);

		if (p->p_type == PT_LOAD && (!exec || (p->p_flags & PF_X)) && off >= p->p_offset &&
		    off - p->p_offset < p->p_filesz)
			return p;
	}
	return NULL;
}

uint64_t elf_file_vaddr(const struct elf_file *f, uint64_t off, bool exec)
{
	const Elf64_Phdr *p = elf_file_segment(f, off, exec);

	return p ? p->p_vaddr + (off - p->p_offset) : UINT64_MAX;
}

const Elf64_Shdr *elf_file_section(const struct elf_file *f, const char *name, bool suffix)
{
	const Elf64_Ehdr *eh = elf_file_ehdr(f);
	const Elf64_Shdr *sh, *strtab;
	size_t len = strlen(name);
	int i;

	if (!eh->e_shoff || eh->e_shoff % 8 || eh->e_shstrndx == SHN_UNDEF ||
	    eh->e_shstrndx >= eh->e_shnum || eh->e_shentsize != sizeof(*sh) ||
	    eh->e_shoff > f->size || (uint64_t)eh->e_shnum * sizeof(*sh) > f->size - eh->e_shoff)
		return NULL;
	sh = (const Elf64_Shdr *)(f->map + eh->e_shoff);
	strtab = &sh[eh->e_shstrndx];
	if (strtab->sh_offset >= f->size)
		return NULL;
	for (i = 0; i < eh->e_shnum; i++) {
		const char *n = (const char *)f->map + strtab->sh_offset + sh[i].sh_name;
		size_t nlen;

		if (sh[i].sh_name >= f->size - strtab->sh_offset ||
		    !memchr(n, '\0', f->size - strtab->sh_offset - sh[i].sh_name))
			continue;
		nlen = strlen(n);
		if (sh[i].sh_type == SHT_NOBITS || sh[i].sh_offset > f->size ||
		    sh[i].sh_size > f->size - sh[i].sh_offset)
			continue;
		if (suffix ? nlen >= len && strcmp(n + nlen - len, name) == 0
			   : strcmp(n, name) == 0)
			return &sh[i];
	}
	return NULL;
}

uint8_t *elf_file_read(const struct elf_file *f, uint64_t off, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);

	if (buf && pread(f->fd, buf, size, (off_t)off) != (ssize_t)size) {
		free(buf);
		return NULL;
	}
	return buf;
}

void elf_file_build_id(const struct elf_file *f, char *buf, size_t size)
{
	int i;

	buf[0] = '\0';
	for (i = 0; i < elf_file_ehdr(f)->e_phnum; i++) {
		const Elf64_Phdr *p = elf_file_phdr(f, i);
		uint64_t off = p->p_offset, end = p->p_offset + p->p_filesz;

		if (p->p_type != PT_NOTE || off % 4 || off > f->size || p->p_filesz > f->size - off)
			continue;
		while (off + sizeof(Elf64_Nhdr) <= end) {
			const Elf64_Nhdr *n = (const Elf64_Nhdr *)(f->map + off);
			uint64_t name = off + sizeof(*n), desc = name + ((n->n_namesz + 3u) & ~3u);
			uint32_t k;

			if (desc > end || n->n_descsz > end - desc)
				break;
			if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
			    memcmp(f->map + name, "GNU", 4) == 0 && n->n_descsz * 2 < size) {
				for (k = 0; k < n->n_descsz; k++)
					snprintf(buf + 2 * k, 3, "%02x", f->map[desc + k]);
				return;
			}
			off = desc + ((n->n_descsz + 3u) & ~3u);
		}
	}
}

/* The GNU hash of a symbol name. */
static uint32_t gnu_hash(const char *name)
{
	uint32_t h = 5381;

	for (; *name; name++)
		h = h * 33 + (uint8_t)*name;
	return h;
}

int elf_file_dynsym(const struct elf_file *f, const char *name, uint64_t *vaddr)
{
	const Elf64_Shdr *hs = elf_file_section(f, ".gnu.hash", false);
	const Elf64_Shdr *ds = elf_file_section(f, ".dynsym", false);
	const Elf64_Shdr *ss = elf_file_section(f, ".dynstr", false);
	const uint32_t *hdr, *buckets, *chain;
	const Elf64_Sym *syms;
	uint32_t nbuckets, symoffset, bloom, nsyms, h, idx;
	uint64_t words;

	if (!hs || !ds || !ss || hs->sh_size < 16 || hs->sh_offset % 4 || ds->sh_offset % 8)
		return -ENOENT;
	hdr = (const uint32_t *)(f->map + hs->sh_offset);
	nbuckets = hdr[0];
	symoffset = hdr[1];
	bloom = hdr[2];
	nsyms = (uint32_t)(ds->sh_size / sizeof(Elf64_Sym));
	words = 4 + (uint64_t)bloom * 2 + nbuckets; /* the header, the bloom filter, buckets */
	if (!nbuckets || symoffset > nsyms || words * 4 > hs->sh_size)
		return -ENOENT;
	buckets = hdr + 4 + (uint64_t)bloom * 2;
	chain = buckets + nbuckets;
	syms = (const Elf64_Sym *)(f->map + ds->sh_offset);
	h = gnu_hash(name);
	for (idx = buckets[h % nbuckets]; idx >= symoffset && idx < nsyms; idx++) {
		const Elf64_Sym *s = &syms[idx];
		uint64_t at = (uint64_t)(chain + (idx - symoffset)) - (uint64_t)hdr;
		uint32_t h2;

		if (at + 4 > hs->sh_size)
			return -ENOENT;
		h2 = chain[idx - symoffset];
		if ((h | 1) == (h2 | 1) && s->st_name < ss->sh_size &&
		    strncmp((const char *)f->map + ss->sh_offset + s->st_name, name,
			    ss->sh_size - s->st_name) == 0 &&
		    s->st_shndx != SHN_UNDEF &&
		    (ELF64_ST_TYPE(s->st_info) == STT_FUNC ||
		     ELF64_ST_TYPE(s->st_info) == STT_GNU_IFUNC)) {
			*vaddr = s->st_value;
			return 0;
		}
		if (h2 & 1)
			break;
	}
	return -ENOENT;
}
