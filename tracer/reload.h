/* reload.h - a saved edit of bpf_src or probe_specs reloaded while tracing */
#ifndef TRACER_RELOAD_H
#define TRACER_RELOAD_H

#include "session.h"

/*
 * Reloads the BPF sources and probe specs after a saved change (s->watch says which): a new
 * generation of programs, sharing the running one's maps and perf buffers, is compiled,
 * verified and attached; then the settings make it the one that acts, and the old one is
 * taken out. On any failure the new one is taken out instead and the running probes stay.
 * Says which through diag.
 */
void session_reload(struct session *s);

#endif
