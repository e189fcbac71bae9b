/* SPDX-License-Identifier: Apache-2.0 */
/* kheaders.h - find kernel headers libbcc can compile against, and tell libbcc */
#ifndef TRACER_KHEADERS_H
#define TRACER_KHEADERS_H

#include <limits.h>
#include <stdio.h>

#define KHEADERS_MAX_CFLAGS 4

struct kheaders {
	char desc[PATH_MAX + 64]; /* which headers, for -v */
	char source[PATH_MAX];	  /* BCC_KERNEL_SOURCE for libbcc; "" = its default */
	char build[PATH_MAX];	  /* arch-specific half of a split tree; "" = none */
	char arch[16];		  /* kernel arch name: "x86", "arm64" */
	char cflags[KHEADERS_MAX_CFLAGS][PATH_MAX + 4]; /* -I flags for the split half */
	int ncflags;
};

/*
 * Chooses kernel headers for kernel `release` on `machine` (uname -r, uname -m), in order:
 * $BCC_KERNEL_SOURCE; <lib_modules>/<release>/build (or source); /sys/kernel/kheaders.tar.xz;
 * the installed <usr_src>/linux-headers-* tree nearest in version, including Debian's split
 * "-common" + "-<flavour>" pairs. Returns 0, or -ENOENT after saying through diag which
 * package to install.
 */
int kheaders_find(const char *release, const char *machine, const char *lib_modules,
		  const char *usr_src, struct kheaders *kh);

/* Makes libbcc use the chosen headers (sets or leaves BCC_KERNEL_SOURCE). */
int kheaders_apply(const struct kheaders *kh);

/* "6.1.0-56-amd64" -> 0x060100; 0 when the string does not start with a version. */
unsigned kheaders_version_code(const char *release);

#endif
