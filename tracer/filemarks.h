/* SPDX-License-Identifier: Apache-2.0 */
/* filemarks.h - the files told to BPF as looked at (tls_files) */
#ifndef TRACER_FILEMARKS_H
#define TRACER_FILEMARKS_H

#include <sys/types.h>

#include "probeset.h"
#include "tls_event.h"

struct tracer_bpf;

/* The files told to BPF (tls_files): looked at, each TLS_FILE_PLAIN or TLS_FILE_TLS. */
struct file_marks {
	struct tls_file_key *keys;
	int n, cap;
};

/* Tells BPF (tls_files of tb) every file process pid maps executable, and its program, was
 * looked at: TLS code if set found it so, else plain. A file told once is not told again
 * unless it is TLS code (a reload may have found it since). */
void file_marks_process(struct file_marks *fm, struct tracer_bpf *tb, const struct probe_set *set,
			pid_t pid);

/* Tells BPF the TLS files of set (the ld.so cache's, a program found by its path). */
void file_marks_tls(struct file_marks *fm, struct tracer_bpf *tb, const struct probe_set *set);

/* Frees what fm remembers; fm is left empty. */
void file_marks_free(struct file_marks *fm);

#endif
