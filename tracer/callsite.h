/* callsite.h - find a library-internal function through the exported functions calling it */
#ifndef TRACER_CALLSITE_H
#define TRACER_CALLSITE_H

#include <stdint.h>

/* Bytes of each caller decoded, from its entry: the call must come early. */
#define CALLSITE_SCAN_BYTES 256

/*
 * The one function that every caller (given by file offset in the x86-64 ELF file `path`)
 * calls or jumps to directly within its first CALLSITE_SCAN_BYTES, PLT stubs left out.
 * OpenSSL 3's SSL_write and SSL_write_ex both call the internal ssl_write_internal, which
 * is also what an SSL BIO calls. Writes its file offset to *out. Returns 0; -ENOENT when no
 * single such function exists; -errno when the file cannot be read; -ENOTSUP for another
 * architecture.
 */
int callsite_common_target(const char *path, const uint64_t *callers, int ncallers, uint64_t *out);

#endif
