/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_nosym.c - an executable from untrusted bytes searched for functions without symbols:
 * nosym_open reads its .eh_frame_hdr or walks its .eh_frame, nosym_find looks for OpenSSL's
 * error sites, aws-lc's AEAD checks and rustls's literals and vtables, nosym_verify checks a
 * claim the cache could hold. Input: the file's bytes. A stripped program's tables are whatever
 * the file says, so no byte of it is trusted. */
#define _GNU_SOURCE
#include "fuzz.h"
#include "nosym.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *const names[] = {"SSL_write",
				    "SSL_read",
				    "ssl_write_internal",
				    "EVP_AEAD_CTX_seal",
				    "EVP_AEAD_CTX_open",
				    "rustls_tls13_encrypt",
				    "rustls_tls13_decrypt",
				    "rustls_tls12_decrypt_1"};
#define NNAMES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nosym_found out[NNAMES], v;
	struct nosym_file f;
	char path[64], err[256];
	int fd = memfd_create("fuzz_nosym", MFD_CLOEXEC), i, r;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (nosym_open(path, &f, err, sizeof(err)) == 0) {
		r = nosym_find(&f, names, NNAMES, out);
		FUZZ_CHECK(r == 0 || r == 1 || r == -ENOMEM || r == -EIO);
		for (i = 0; i < NNAMES && r == 1; i++) {
			if (out[i].err)
				continue;
			FUZZ_CHECK(out[i].offset != UINT64_MAX && out[i].nsites > 0);
			v = (struct nosym_found){.how = out[i].how,
						 .entry = out[i].entry,
						 .site = out[i].site,
						 .end = out[i].end};
			FUZZ_CHECK(nosym_verify(&f, names[i], &v) == 0 &&
				   v.offset == out[i].offset);
		}
		v = (struct nosym_found){.entry = size, .site = size / 2};
		nosym_verify(&f, names[0], &v);
		nosym_close(&f);
	}
	close(fd);
	return 0;
}
