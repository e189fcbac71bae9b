/* SPDX-License-Identifier: Apache-2.0 */
/* tlsmaps.h - the TLS files each traced process mapped when last looked at */
#ifndef TRACER_TLSMAPS_H
#define TRACER_TLSMAPS_H

#include <stdint.h>
#include <sys/types.h>

/* The TLS files each process mapped when last looked at (probes_file_bit masks of the
 * probe set's files; processes mapping none are left out): an unmapped one is told. An
 * entry names its process by PID and start time, so a later process given the same PID is
 * not taken for it; entries of processes gone are dropped before the table grows. */
struct tls_maps {
	struct proc_tls {
		pid_t pid;
		unsigned long long start; /* proc_stat.start */
		uint64_t files;
	} * v;
	int n, cap;
};

/* The entry of the process that has pid now, NULL if none; an entry of an earlier process of
 * that PID (or of one gone) is dropped. */
struct proc_tls *tls_maps_of(struct tls_maps *tm, pid_t pid);

/* Drops entry e (of tm). */
void tls_maps_drop(struct tls_maps *tm, struct proc_tls *e);

/* Records the TLS files pid maps (none: its entry goes). Out of memory, or pid gone: not
 * recorded. */
void tls_maps_set(struct tls_maps *tm, pid_t pid, uint64_t files);

/* Frees tm's entries; tm is left empty. */
void tls_maps_free(struct tls_maps *tm);

#endif
