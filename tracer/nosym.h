/* nosym.h - functions of a stripped x86-64 executable found by what their code carries */
#ifndef TRACER_NOSYM_H
#define TRACER_NOSYM_H

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

/*
 * Finds each of names[0, n) as OpenSSL 3 records it: every error site of function F
 * (ERR_raise) passes F's own name, __func__, to ERR_set_debug(file, line, func), so F is
 * the function whose code loads the string "F" into rdx, next to a source file name ("*.c")
 * into rdi, before a direct call. A name is taken only when (1) every reference to its
 * string in the code is such a site, (2) all lie in one function of .eh_frame, (3) whose
 * first byte is an entry (the frame a call makes: CFA = rsp + 8, nothing saved; a cold
 * part split off a function is not), (4) decoding it from that byte meets each site as an
 * instruction, and (5) every site of every name found calls the same function. Fills
 * out[i] for names[i]. When no name is found so and the file holds BoringSSL's libssl, the
 * same loads are searched as nosym_find_named does (out[i].how NOSYM_BY_CALLERS), and when
 * that finds nothing either, SSL_write and SSL_read are known by the reasons of their
 * error checks (NOSYM_BY_CHECKS, nosym_checks.c). aws-lc's EVP_AEAD_CTX_seal and
 * EVP_AEAD_CTX_open are looked for by their error checks alone, and only in a program that
 * carries rustls and aws-lc's aead.c but not aws-lc's libssl (rustls on aws-lc-rs: a
 * libssl on the same AEAD is traced by its SSL_write, and would show each record twice). Returns 1
 * when the code was searched, 0 when no name's string is in the file and no BoringSSL or rustls on
 * aws-lc either (nothing searched), or -errno when the code cannot be read.
 */
int nosym_find(struct nosym_file *f, const char *const *names, int n, struct nosym_found *out);

/*
 * Finds each of names[0, n) as a program that calls BoringSSL names it: BoringSSL's error
 * sites pass a file and line only, but its callers often say what they called (WebRTC in
 * Chromium: `SSL_write` ... "SSL_write"). Function F is taken when (1) a direct call of
 * it comes within CALLER_WINDOW bytes before a load of the string "F", decoding from the
 * call meeting that load as an instruction; (2) it is a function of BoringSSL's libssl:
 * decoded from its first byte, before its first return, it makes an error check of
 * ssl_lib.cc (OPENSSL_PUT_ERROR(SSL, ...): ERR_LIB_SSL into edi, the file into rcx, a
 * direct call); (3) every such call before the name's loads is of F and no other function
 * of libssl; (4) all names found report through one function, each its own. A call target
 * is a function's entry. Looked for only when the file has BoringSSL's ssl_lib.cc name.
 * Returns as nosym_find; out[i].how is NOSYM_BY_CALLERS.
 */
int nosym_find_named(struct nosym_file *f, const char *const *names, int n,
		     struct nosym_found *out);

/*
 * Checks that function `name` is found at out->entry through out->site alone (a result
 * remembered from an earlier nosym_find on the same build, found as out->how says): facts
 * (2)-(4) of error sites, (1)-(2) of callers, or the first check where it was, for the
 * same reason. Fills the rest of *out. Returns
 * 0, or -EINVAL with why in out->why.
 */
int nosym_verify(struct nosym_file *f, const char *name, struct nosym_found *out);

/* Whether the file holds a source path of Rust crate `crate` as cargo lays them out
 * ("/rustls-0.23.40/src/conn.rs", in a panic's location): its name and version into buf. */
bool nosym_crate(const struct nosym_file *f, const char *crate, char *buf, size_t size);

#define NOSYM_BORING_FILE "ssl/ssl_lib.cc" /* BoringSSL's __FILE__ ends so, whatever the path */

/* Whether the file holds the name of BoringSSL's ssl/ssl_lib.cc (its libssl is linked in). */
bool nosym_has_boringssl(struct nosym_file *f);

/* aws-lc's __FILE__ of its AEAD interface ends so (aws-lc-sys builds it from "/aws-lc/") */
#define NOSYM_AWSLC_AEAD_FILE "/aws-lc/crypto/fipsmodule/cipher/aead.c"
/* ... and of its libssl (BoringSSL's, over the same AEAD: its records would show twice) */
#define NOSYM_AWSLC_SSL_FILE "/aws-lc/ssl/ssl_lib.cc"

/* Whether the file holds the name of aws-lc's aead.c (aws-lc's AEADs are linked in). */
bool nosym_has_awslc_aead(struct nosym_file *f);

/* The library whose error checks tell function `name` (NOSYM_BY_CHECKS): "BoringSSL" or
 * "aws-lc". */
const char *nosym_checks_library(const char *name);

/* Reads the uleb128 at *p (below end), moving *p past it; false when it runs past end. */
bool nosym_uleb(const uint8_t **p, const uint8_t *end, uint64_t *v);

/*
 * Whether an FDE's call frame instructions begin a function entry, given its CIE's initial
 * instructions: the CIE sets CFA = rsp + 8 with the return address at CFA - 8 and nothing
 * else, and the FDE changes nothing before its first advance. Exposed for the unit test.
 */
bool nosym_cfi_is_entry(const uint8_t *cie_insns, size_t cie_len, int64_t data_align,
			const uint8_t *fde_insns, size_t fde_len);

#endif
