/* SPDX-License-Identifier: Apache-2.0 */
/* perf.c - perf buffers: one reader per CPU a table, polled here or on a thread of their
 * own */
#define _GNU_SOURCE
#include "tracer_bpf_int.h"

#include <poll.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bcc/libbpf.h>
#include <bcc/perf_reader.h>

static void on_sample(void *cookie, void *raw, int size)
{
	struct reader_ctx *rc = cookie;

	rc->sample(rc->ctx, rc->cpu, raw, size);
}

static void on_lost(void *cookie, uint64_t count)
{
	struct reader_ctx *rc = cookie;

	rc->lost(rc->ctx, rc->cpu, count);
}

/* Parses a CPU list file such as /sys/devices/system/cpu/online ("0-3,5") into a bitmap of
 * up to `max` CPUs. Returns the number of CPUs listed or -errno. */
int tb_read_cpu_list(const char *path, bool *online, int max)
{
	char buf[256], *p;
	FILE *f = fopen(path, "re");
	int n = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	for (p = buf; *p && *p != '\n';) {
		char *end;
		long lo = strtol(p, &end, 10), hi = lo;

		if (end == p)
			return -EINVAL;
		if (*end == '-')
			hi = strtol(end + 1, &end, 10);
		for (; lo <= hi && lo < max; lo++, n++)
			online[lo] = true;
		p = *end == ',' ? end + 1 : end;
	}
	return n;
}

int tracer_bpf__open_perf_buffer(struct tracer_bpf *tb, const char *table, int page_cnt,
				 int wakeup_events, tracer_bpf_sample_fn sample,
				 tracer_bpf_lost_fn lost, void *ctx, char *err_msg, size_t errlen)
{
	int ncpus = (int)sysconf(_SC_NPROCESSORS_CONF);
	int map_fd = tb_table_fd(tb, table);
	struct perf_reader **readers;
	struct reader_ctx **rcs;
	bool *online;
	int cpu, err = 0;

	if (map_fd < 0) {
		snprintf(err_msg, errlen, "no perf buffer table '%s' in bpf_src", table);
		return -ENOENT;
	}
	if (!sample || !lost || ncpus <= 0) {
		snprintf(err_msg, errlen, "no callbacks or no CPUs for the perf buffer '%s'",
			 table);
		return -EINVAL;
	}
	online = calloc(ncpus, sizeof(*online));
	readers = realloc(tb->readers, (tb->nreaders + ncpus) * sizeof(*readers));
	if (readers)
		tb->readers = readers;
	rcs = realloc(tb->reader_ctxs, (tb->nreaders + ncpus) * sizeof(*rcs));
	if (rcs)
		tb->reader_ctxs = rcs;
	if (!online || !readers || !rcs) {
		err = -ENOMEM;
		snprintf(err_msg, errlen, "out of memory for the perf buffer '%s'", table);
		goto out;
	}
	err = tb_read_cpu_list("/sys/devices/system/cpu/online", online, ncpus);
	if (err < 0) {
		snprintf(err_msg, errlen, "failed to read the online CPUs: %s", strerror(-err));
		goto out;
	}
	err = 0;
	for (cpu = 0; cpu < ncpus; cpu++) {
		struct bcc_perf_buffer_opts opts = {
			.pid = -1, .cpu = cpu, .wakeup_events = wakeup_events};
		struct reader_ctx *rc;
		struct perf_reader *r;
		int fd;

		if (!online[cpu])
			continue;
		rc = calloc(1, sizeof(*rc));
		if (!rc) {
			err = -ENOMEM;
			snprintf(err_msg, errlen, "out of memory for the perf buffer '%s'", table);
			goto out;
		}
		*rc = (struct reader_ctx){.sample = sample, .lost = lost, .ctx = ctx, .cpu = cpu};
		snprintf(rc->table, sizeof(rc->table), "%s", table);
		errno = 0;
		r = bpf_open_perf_buffer_opts(on_sample, on_lost, rc, page_cnt, &opts);
		if (!r) {
			err = errno ? -errno : -EINVAL;
			free(rc);
			snprintf(err_msg, errlen,
				 "failed to open the perf buffer '%s' of CPU %d (%d pages): %s",
				 table, cpu, page_cnt, strerror(-err));
			goto out;
		}
		tb->reader_ctxs[tb->nreaders] = rc;
		tb->readers[tb->nreaders++] = r;
		fd = perf_reader_fd(r);
		if (bpf_update_elem(map_fd, &cpu, &fd, 0) < 0) {
			err = -errno;
			snprintf(err_msg, errlen,
				 "failed to register the perf buffer of CPU %d in '%s': %s", cpu,
				 table, strerror(errno));
			goto out;
		}
	}
out:
	free(online);
	return err;
}

int tracer_bpf__poll(struct tracer_bpf *tb, int timeout_ms)
{
	return tracer_bpf__poll_with(tb, timeout_ms, -1);
}

int tracer_bpf__poll_with(struct tracer_bpf *tb, int timeout_ms, int fd)
{
	struct pollfd *pfds;
	int i, n = 0;

	if (!tb->nreaders)
		return -EINVAL;
	pfds = calloc(tb->nreaders + 1, sizeof(*pfds));
	if (!pfds) { /* no room for the extra fd: the readers alone */
		perf_reader_poll(tb->nreaders, tb->readers, timeout_ms);
	} else {
		for (i = 0; i < tb->nreaders; i++)
			pfds[n++] = (struct pollfd){.fd = perf_reader_fd(tb->readers[i]),
						    .events = POLLIN};
		if (fd >= 0)
			pfds[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
		poll(pfds, n, timeout_ms);
		free(pfds);
	}
	perf_reader_consume(tb->nreaders, tb->readers);
	return 0;
}

struct tracer_bpf_readers *tracer_bpf__take_readers(struct tracer_bpf *tb, const char *table)
{
	struct tracer_bpf_readers *set = calloc(1, sizeof(*set));
	int i, kept = 0;

	if (set) {
		set->readers = calloc(tb->nreaders + 1, sizeof(*set->readers));
		set->reader_ctxs = calloc(tb->nreaders + 1, sizeof(*set->reader_ctxs));
	}
	if (!set || !set->readers || !set->reader_ctxs) {
		tracer_bpf__free_readers(set);
		return NULL;
	}
	for (i = 0; i < tb->nreaders; i++) {
		if (strcmp(tb->reader_ctxs[i]->table, table) == 0) {
			set->readers[set->n] = tb->readers[i];
			set->reader_ctxs[set->n++] = tb->reader_ctxs[i];
			continue;
		}
		tb->readers[kept] = tb->readers[i];
		tb->reader_ctxs[kept++] = tb->reader_ctxs[i];
	}
	tb->nreaders = kept;
	return set;
}

int tracer_bpf__poll_readers(struct tracer_bpf_readers *set, int timeout_ms)
{
	if (!set || !set->n)
		return -EINVAL;
	perf_reader_poll(set->n, set->readers, timeout_ms);
	perf_reader_consume(set->n, set->readers);
	return 0;
}

void tracer_bpf__free_readers(struct tracer_bpf_readers *set)
{
	int i;

	if (!set)
		return;
	for (i = 0; i < set->n; i++) {
		perf_reader_free(set->readers[i]);
		free(set->reader_ctxs[i]);
	}
	free(set->readers);
	free(set->reader_ctxs);
	free(set);
}

int tracer_bpf__adopt_readers(struct tracer_bpf *tb, struct tracer_bpf *from)
{
	if (tb->nreaders)
		return -EBUSY;
	tb->readers = from->readers;
	tb->reader_ctxs = from->reader_ctxs;
	tb->nreaders = from->nreaders;
	from->readers = NULL;
	from->reader_ctxs = NULL;
	from->nreaders = 0;
	return 0;
}
