/* SPDX-License-Identifier: Apache-2.0 */
/* nosymfile.h - a stripped x86-64 executable as the finders read it: its call frame
 * information (function starts: nosym_cfi.c), strings and the instructions that load them,
 * calls (nosymfile.c); and what a finder reports of a function */
#ifndef TRACER_NOSYMFILE_H
#define TRACER_NOSYMFILE_H

#include <capstone/capstone.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elffile.h"

/* Names looked for in one call, at most. */
#define NOSYM_MAX_NAMES 24

/* Where a function's FDE is: the first address it covers, and the FDE record's address. */
struct nosym_fde {
	uint64_t begin, fde;
};

/*
 * A stripped executable: its function starts come from .eh_frame, which compilers write for
 * the unwinder and strip keeps: through the sorted table of .eh_frame_hdr, or, in a static
 * link that has none, by walking .eh_frame itself.
 */
struct nosym_file {
	struct elf_file elf;
	struct nosym_fde *fdes; /* sorted by begin; read on their first need */
	size_t nfde;
	bool fdes_read;
	int fdes_err;
	char build_id[41];
	int boring; /* whether it names BoringSSL's ssl_lib.cc (-1: not looked for yet) */
	int awslc;  /* whether it names aws-lc's aead.c (-1: not looked for yet) */
	struct nosym_rustls *rustls; /* what nosym_rustls.c read and found, once (NULL: not yet) */
	void (*rustls_free)(struct nosym_rustls *); /* how nosym_close frees it */
};

/*
 * Opens `path` for nosym_find. Returns 0; -ENOENT when it is no ELF file; -ENOTSUP when it
 * is not x86-64 (said in err). Its table of functions is read when first needed.
 */
int nosym_open(const char *path, struct nosym_file *f, char *err, size_t errlen);

void nosym_close(struct nosym_file *f);

/* How a function was found. */
enum nosym_how {
	NOSYM_BY_ERRSITES, /* OpenSSL 3: its error sites pass its name (nosym_find) */
	NOSYM_BY_CALLERS,  /* BoringSSL: its callers name it (nosym_find_named) */
	NOSYM_BY_CHECKS,   /* BoringSSL: the reasons of its error checks, in line order */
	NOSYM_BY_VTABLE,   /* rustls: the literal it copies, the vtable that calls it */
};

/* One function found (or not) by its error sites. */
struct nosym_found {
	int err;	 /* 0, or -ENOENT (not there) / -EINVAL (not sure: why says) */
	char why[160];	 /* with err: why it was not taken */
	uint64_t entry;	 /* virtual address of its first instruction */
	uint64_t offset; /* ... as a file offset (where a uprobe goes) */
	uint64_t site;	 /* an instruction passing the name to an error site (named: the
			  * load of the name after a call of the function) */
	uint64_t report; /* the function those error sites call */
	char file[64];	 /* the source file the error sites name ("ssl/ssl_lib.c") */
	int nsites;	 /* error sites (named: loads of the name after a call of it) */
	enum nosym_how how;
	uint64_t end;	/* by checks: where its code ends (the next function begins) */
	int ncallers;	/* by checks: direct calls of it */
	bool inlined;	/* by checks, SSL_read: SSL_peek is inlined into it (it stores) */
	char lines[24]; /* by checks: the source lines of its checks (" (lines 953-979)") */
	char says[120]; /* by vtable: what was seen of it, for --list-probes */
};

/* Whether the file holds a source path of Rust crate `crate` as cargo lays them out
 * ("/rustls-0.23.40/src/conn.rs", in a panic's location): its name and version into buf. */
bool nosym_crate(const struct nosym_file *f, const char *crate, char *buf, size_t size);

/* Reads the uleb128 at *p (below end), moving *p past it; false when it runs past end. */
bool nosym_uleb(const uint8_t **p, const uint8_t *end, uint64_t *v);

/*
 * Whether an FDE's call frame instructions begin a function entry, given its CIE's initial
 * instructions: the CIE sets CFA = rsp + 8 with the return address at CFA - 8 and nothing
 * else, and the FDE changes nothing before its first advance. Exposed for the unit test.
 */
bool nosym_cfi_is_entry(const uint8_t *cie_insns, size_t cie_len, int64_t data_align,
			const uint8_t *fde_insns, size_t fde_len);

#define NOSYM_MAX_STRINGS 4 /* copies of one name's string looked at */
#define NOSYM_SITE_WINDOW 6 /* instructions around a load that hold the rest of a site */

/* The table of function starts, read on its first need (most programs have no name's string
 * and never need it). 0, -ENOTSUP when the file has no .eh_frame read here, -ENOMEM. */
int nosym_load_fdes(struct nosym_file *f);

/* The function .eh_frame says holds vaddr: [*start, *end), and whether its first byte is an
 * entry (see nosym_cfi_is_entry). False when none does (or the table is not loaded). */
bool nosym_fde_of(const struct nosym_file *f, uint64_t vaddr, uint64_t *start, uint64_t *end,
		  bool *entry);

/* qsort's order of uint64_t. */
int nosym_cmp_u64(const void *a, const void *b);

/* Whether string s (NULL: no) ends with suffix. */
bool nosym_ends_with(const char *s, const char *suffix);

/* The little-endian 32-bit number at p. */
static inline uint32_t nosym_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Code at vaddr, size bytes, as the file has it (malloc'd), or NULL. */
uint8_t *nosym_read_code(const struct nosym_file *f, uint64_t vaddr, size_t size);

/* A capstone x86-64 decoder with details, and an instruction for it (cs_free, cs_close).
 * Returns 0 or -ENOMEM. */
int nosym_open_decoder(csh *cs, cs_insn **insn);

/* The NUL-terminated string at vaddr in the file's loaded data, or NULL. */
const char *nosym_string_at(const struct nosym_file *f, uint64_t vaddr);

/* Up to max addresses of "name\0" in segments that are not writable. */
int nosym_find_strings(const struct nosym_file *f, const char *name, uint64_t *out, int max);

/* The addresses of the names' strings (up to NOSYM_MAX_STRINGS copies each), sorted into
 * targets, with the index of each one's name in target_name (room for n *
 * NOSYM_MAX_STRINGS). Returns how many. */
int nosym_name_strings(const struct nosym_file *f, const char *const *names, int n,
		       uint64_t *targets, int *target_name);

/* A load of a name's string in the code: `lea r64, [rip + disp32]` or `mov r32, imm32`. */
struct nosym_ref {
	int name;
	uint64_t vaddr;
	unsigned reg; /* 0-15, rax..r15 */
};

struct nosym_refs {
	struct nosym_ref *v; /* found (the caller frees it) */
	int n, cap;
	const uint64_t *targets; /* string addresses, sorted */
	const int *target_name;	 /* the name of each */
	int ntargets;
};

/* Calls fn on the executable segments' bytes as the file has them, read with pread in
 * chunks: each chunk's last `overlap` bytes (at most 8) begin the next one, so whatever is
 * overlap + 1 bytes long is seen whole in one chunk. Stops at fn's first nonzero return
 * and returns it, or -errno. */
int nosym_each_code_chunk(const struct nosym_file *f, size_t overlap,
			  int (*fn)(const uint8_t *buf, size_t len, uint64_t vaddr, void *arg),
			  void *arg);

/* Every load of the targets in the executable segments (read with pread, in chunks that
 * overlap by an instruction). Returns 0 or -errno. */
int nosym_scan_code(const struct nosym_file *f, struct nosym_refs *r);

/* The address insn loads into reg (rdx, rdi or rcx): `lea reg, [rip + disp]` (position
 * independent code) or `mov reg32, imm32` (code linked below 4 GiB); else UINT64_MAX. */
uint64_t nosym_loads(const cs_insn *insn, x86_reg reg);

/* Whether insn is a direct call; its target in *target. */
bool nosym_direct_call(const cs_insn *insn, uint64_t *target);

#endif
