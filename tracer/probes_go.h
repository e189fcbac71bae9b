/* SPDX-License-Identifier: Apache-2.0 */
/* probes_go.h - the @go specs resolved in a Go program, through its .gopclntab */
#ifndef TRACER_PROBES_GO_H
#define TRACER_PROBES_GO_H

#include "probeset.h"

/*
 * The @go specs in the file at open_path (lib_path as the process sees it): found through
 * its .gopclntab when it is a Go program built with the register ABI (Go 1.17+). A file that
 * is no Go program, or lacks a required function (a Go program without crypto/tls), gets no
 * probes and no word (-EINVAL, as an executable without the symbols); one whose table
 * cannot be read, or built with the stack ABI, is named. Returns 0, -EINVAL or -ENOMEM.
 */
int probes_add_go_specs(struct probe_set *set, const struct spec_table *t, const char *lib_path,
			const char *open_path, int verbose);

#endif
