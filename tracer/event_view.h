/* SPDX-License-Identifier: Apache-2.0 */
/* event_view.h - what the sinks are shown of an event, and whether its connection is shown */
#ifndef TRACER_EVENT_VIEW_H
#define TRACER_EVENT_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "events_state.h"

/* The sinks' view of event ev: its probe's function and library, its process (comm: the
 * caller's TLS_COMM_LEN + 1 bytes, which the view points to), times, connection and its
 * addresses and hellos. Data and lengths are the caller's to fill. */
struct out_event event_view(struct events *e, const struct tls_event *ev, char *comm);

/* ev's view, on connection c (NULL: none) whatever ev names. */
struct out_event event_view_on(struct events *e, const struct tls_event *ev, const struct conn *c,
			       char *comm);

/* Whether --host/--port/--sni show connection `id`, asked as ev is delivered; `final`: ev is
 * a data chunk, and decides for good (more below, at the definition). */
bool event_kept(struct events *e, const struct tls_event *ev, uint64_t id, bool final);

#endif
