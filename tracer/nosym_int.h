/* nosym_int.h - what nosym.c (OpenSSL's error sites) shares with nosym_named.c (functions
 * named by their callers): the strings, their loads in the code, instructions read */
#ifndef TRACER_NOSYM_INT_H
#define TRACER_NOSYM_INT_H

#include <capstone/capstone.h>

#include "nosym.h"

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

/* The addresses of the strings ending in suffix, a source file's path (their starts), up to
 * max. */
int nosym_source_files(const struct nosym_file *f, const char *suffix, uint64_t *out, int max);

/* nosym_find for BoringSSL's SSL_write and SSL_read by the checks their code makes (the
 * other names stay -ENOENT): see nosym_checks.c. Returns 1 or -errno. */
int nosym_find_checks(struct nosym_file *f, const char *const *names, int n,
		      struct nosym_found *out);

/* nosym_find for aws-lc's EVP_AEAD_CTX_seal and EVP_AEAD_CTX_open by the checks their code
 * makes (fills only those names' out[i]): see nosym_checks.c. Returns 1 or -errno. */
int nosym_find_aead(struct nosym_file *f, const char *const *names, int n, struct nosym_found *out);

/* nosym_verify of a result of nosym_find_checks or nosym_find_aead. */
int nosym_verify_checks(struct nosym_file *f, const char *name, struct nosym_found *out);

/* nosym_find_named's search over the loads of the names' strings r already found (the scan
 * nosym_find made). Fills out; returns 1 or -errno. */
int nosym_named_from(struct nosym_file *f, const char *const *names, int n,
		     const struct nosym_refs *r, struct nosym_found *out);

/* nosym_verify of a result of nosym_find_named. */
int nosym_verify_named(struct nosym_file *f, const char *name, struct nosym_found *out);

/* Whether name is one of the functions nosym_rustls.c finds ("rustls_tls13_encrypt", ...). */
bool nosym_is_rustls_name(const char *name);

/* nosym_find for rustls 0.20's encrypters and decrypters on ring (the names
 * nosym_is_rustls_name takes; fills only theirs): see nosym_rustls.c. The search is made
 * once per file. Returns 1 when the code was searched, 0 when the file carries no rustls
 * 0.20 on ring, or -errno. */
int nosym_find_rustls(struct nosym_file *f, const char *const *names, int n,
		      struct nosym_found *out);

/* nosym_verify of a result of nosym_find_rustls: its own facts checked anew (its entry a
 * function and a vtable's method, its literal's first piece or its vtable's load at the
 * cached site), not the search whole. */
int nosym_verify_rustls(struct nosym_file *f, const char *name, struct nosym_found *out);

/* Frees what nosym_rustls.c keeps of a file (nosym_close calls it); NULL is nothing. */
void nosym_rustls_free(struct nosym_rustls *r);

#endif
