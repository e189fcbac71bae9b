/* SPDX-License-Identifier: Apache-2.0 */
/* sink.c - what the outputs share: output held until its event is shown, freeing */
#define _GNU_SOURCE
#include "sink.h"

#include <stdlib.h>

FILE *sink_hold(struct sink *s)
{
	if (!s->held.f)
		s->held.f = open_memstream(&s->held.buf, &s->held.size);
	return s->held.f ? s->held.f : s->out;
}

/* Closes what s held; its bytes stay in buf. */
static void close_held(struct sink *s)
{
	if (s->held.f)
		fclose(s->held.f);
	s->held.f = NULL;
}

void sink_release(struct sink *s)
{
	if (s->ops->release)
		s->ops->release(s);
	if (!s->held.f)
		return;
	close_held(s);
	fwrite(s->held.buf, 1, s->held.size, s->out);
	free(s->held.buf);
	s->held.buf = NULL;
	s->held.size = 0;
}

void sink_free(struct sink *s)
{
	if (!s)
		return;
	close_held(s);
	free(s->held.buf);
	if (s->ops->free)
		s->ops->free(s);
}
