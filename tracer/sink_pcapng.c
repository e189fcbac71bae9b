/* SPDX-License-Identifier: Apache-2.0 */
/* sink_pcapng.c - -w: the plaintext as a pcapng capture, a TCP stream per connection, each
 * packet commented with who moved it (pcapng.c writes the file) */
#include "sink.h"
#include "diag.h"

#include <stdlib.h>
#include <string.h>

#include "flows.h"

struct pcapng_sink {
	struct sink base;
	struct pcapng *w;
};

static struct pcapng *writer_of(struct sink *s)
{
	return ((struct pcapng_sink *)s)->w;
}

/* "pid 7 tid 8 comm curl SSL_write call 12 ... sni api.test container docker ID": a
 * packet's comment (cgroup_describe's words). */
static void packet_comment(const struct out_event *ev, char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "pid %u tid %u comm %s %s call %llu (%u bytes) %s",
				    ev->pid, ev->tid, ev->comm, ev->func,
				    (unsigned long long)ev->call_id, ev->len, ev->lib);

	if (ev->hello && ev->hello[HELLO_CLIENT - 1].sni[0] && n < size)
		n += (size_t)snprintf(buf + n, size - n, " sni %s",
				      ev->hello[HELLO_CLIENT - 1].sni);
	if (n < size) {
		buf[n] = ' ';
		cgroup_describe(ev->cgroup, false, buf + n + 1, size - n - 1);
		if (!buf[n + 1])
			buf[n] = '\0';
	}
}

static void pcapng_sink_data(struct sink *s, const struct out_event *ev)
{
	char comment[512];

	packet_comment(ev, comment, sizeof(comment));
	pcapng_data(writer_of(s), flows_key(ev->conn, ev->pid), ev->addr, ev->write, ev->call_id,
		    ev->len, ev->offset, ev->data, ev->data_len, ev->unix_ns, comment);
}

static void pcapng_sink_flow_end(struct sink *s, uint64_t key, uint64_t unix_ns)
{
	pcapng_close(writer_of(s), key, unix_ns);
}

static void pcapng_sink_summary(struct sink *s, const struct out_summary *sum)
{
	const struct pcapng *w = writer_of(s);

	(void)sum;
	diag("pcapng: %llu packets written to %s\n", (unsigned long long)w->packets,
	     strcmp(w->path, "-") ? w->path : "stdout");
}

static void pcapng_sink_free(struct sink *s)
{
	free(s);
}

static const struct sink_ops pcapng_ops = {
	.data = pcapng_sink_data,
	.flow_end = pcapng_sink_flow_end,
	.summary = pcapng_sink_summary,
	.free = pcapng_sink_free,
};

struct sink *sink_pcapng_new(struct pcapng *w)
{
	struct pcapng_sink *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->base.ops = &pcapng_ops;
	p->w = w; /* its file's errors are its own (pcapng_flush) */
	return &p->base;
}
