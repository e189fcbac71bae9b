/* SPDX-License-Identifier: Apache-2.0 */
/* elffile.h - a 64-bit ELF file mapped for its tables, its code read as the file has it */
#ifndef TRACER_ELFFILE_H
#define TRACER_ELFFILE_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * An ELF file mapped read-only for its headers and data. Its code is read with pread from
 * fd (elf_file_read), never through the mapping: a uprobe that another tracer puts on the
 * file (for every process, --all) is written into every executable-capable mapping of it,
 * this one too, so the mapping can show int3 where the file has an instruction.
 */
struct elf_file {
	int fd;
	uint8_t *map;
	size_t size;
};

/* Opens and maps `path`. Returns 0; -ENOENT when it is no 64-bit ELF file (nothing kept
 * open); -errno when it cannot be read. */
int elf_file_open(const char *path, struct elf_file *f);

void elf_file_close(struct elf_file *f);

static inline const Elf64_Ehdr *elf_file_ehdr(const struct elf_file *f)
{
	return (const Elf64_Ehdr *)f->map;
}

/* Program header i (i < e_phnum; elf_file_open checked they lie in the file). */
static inline const Elf64_Phdr *elf_file_phdr(const struct elf_file *f, int i)
{
	return (const Elf64_Phdr *)(f->map + elf_file_ehdr(f)->e_phoff +
				    (size_t)i * sizeof(Elf64_Phdr));
}

/* The file offset of vaddr within a loadable segment (an executable one when `exec`);
 * UINT64_MAX when none holds it. */
uint64_t elf_file_offset(const struct elf_file *f, uint64_t vaddr, bool exec);

/* The loadable segment (an executable one when `exec`) that holds file offset off; NULL when
 * none does. */
const Elf64_Phdr *elf_file_segment(const struct elf_file *f, uint64_t off, bool exec);

/* The virtual address of file offset off within a loadable segment (an executable one when
 * `exec`); UINT64_MAX when none holds it. */
uint64_t elf_file_vaddr(const struct elf_file *f, uint64_t off, bool exec);

/* The section named `name` (or, with `suffix`, whose name ends so), with its bytes in the
 * file; NULL when none (or no section headers). */
const Elf64_Shdr *elf_file_section(const struct elf_file *f, const char *name, bool suffix);

/* size bytes of the file at off, as the file has them; malloc'd, NULL when they cannot be
 * read. */
uint8_t *elf_file_read(const struct elf_file *f, uint64_t off, size_t size);

/* The address of function `name` defined in the dynamic symbol table, found through the
 * GNU hash table (no walk of every symbol: node exports 75,000). 0, or -ENOENT when the file
 * has no such table or no such function there. */
int elf_file_dynsym(const struct elf_file *f, const char *name, uint64_t *vaddr);

/* The GNU build id (NT_GNU_BUILD_ID) as lowercase hex into buf; "" when it has none. */
void elf_file_build_id(const struct elf_file *f, char *buf, size_t size);

#endif
