/* SPDX-License-Identifier: Apache-2.0 */
/* maps.c - the module's maps read and written from user space by name */
#define _GNU_SOURCE
#include "tracer_bpf_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <bcc/libbpf.h>

/* Number of values the kernel returns for a per-CPU map: one per possible CPU. */
int tb_possible_cpus(void)
{
	int ncpus = (int)sysconf(_SC_NPROCESSORS_CONF), nposs, cpu;
	bool *possible;

	if (ncpus <= 0)
		return -EINVAL;
	possible = calloc(ncpus, sizeof(*possible));
	if (!possible)
		return -ENOMEM;
	nposs = tb_read_cpu_list("/sys/devices/system/cpu/possible", possible, ncpus);
	for (cpu = ncpus - 1; nposs > 0 && cpu >= 0 && !possible[cpu]; cpu--)
		;
	free(possible);
	return nposs > 0 ? cpu + 1 : ncpus;
}

int tracer_bpf__sum_percpu(struct tracer_bpf *tb, const char *table, tracer_bpf_sums_fn fn,
			   void *ctx)
{
	const struct table_desc *t = tb_table(tb, table);
	int fd = t ? t->fd : -1, nposs = tb_possible_cpus(), n, cpu, i, err = 0;
	size_t leaf = t ? t->leaf_size : 0;
	uint64_t *values = NULL, *sums = NULL;
	uint32_t key, next;
	bool more;

	if (fd < 0)
		return -ENOENT;
	if (nposs < 0)
		return nposs;
	n = (int)(leaf / sizeof(uint64_t));
	if (n <= 0 || leaf % sizeof(uint64_t) || t->key_size != sizeof(key))
		return -EINVAL;
	values = calloc((size_t)nposs * n, sizeof(*values));
	sums = calloc(n, sizeof(*sums));
	if (!values || !sums) {
		err = -ENOMEM;
		goto out;
	}
	for (more = bpf_get_first_key(fd, &key, sizeof(key)) == 0; more;
	     more = bpf_get_next_key(fd, &key, &next) == 0, key = next) {
		if (bpf_lookup_elem(fd, &key, values) != 0) {
			if (errno == ENOENT) /* deleted while walking */
				continue;
			err = -errno;
			break;
		}
		memset(sums, 0, (size_t)n * sizeof(*sums));
		for (cpu = 0; cpu < nposs; cpu++)
			for (i = 0; i < n; i++)
				sums[i] += values[(size_t)cpu * n + i];
		fn(ctx, key, sums, n);
	}
out:
	free(values);
	free(sums);
	return err;
}

int tracer_bpf__update_key(struct tracer_bpf *tb, const char *table, const void *key,
			   size_t key_size, const void *value, size_t size)
{
	const struct table_desc *t = tb_table(tb, table);
	int fd = t ? t->fd : -1, type = t ? (int)t->type : -1;
	bool percpu = type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY;
	int ncopies = percpu ? tb_possible_cpus() : 1, cpu, err;
	size_t stride = percpu ? (size + 7) / 8 * 8 : size;
	char *values;

	if (fd < 0)
		return -ENOENT;
	if (ncopies < 0)
		return ncopies;
	if (t->leaf_size != size || t->key_size != key_size)
		return -EINVAL;
	/* A per-CPU map takes one value per possible CPU, each 8-byte aligned. */
	values = calloc(ncopies, stride);
	if (!values)
		return -ENOMEM;
	for (cpu = 0; cpu < ncopies; cpu++)
		memcpy(values + (size_t)cpu * stride, value, size);
	err = bpf_update_elem(fd, (void *)key, values, BPF_ANY) ? -errno : 0;
	free(values);
	return err;
}

int tracer_bpf__update(struct tracer_bpf *tb, const char *table, uint32_t key, const void *value,
		       size_t size)
{
	return tracer_bpf__update_key(tb, table, &key, sizeof(key), value, size);
}

int tracer_bpf__delete_key(struct tracer_bpf *tb, const char *table, const void *key,
			   size_t key_size)
{
	const struct table_desc *t = tb_table(tb, table);

	if (!t || t->fd < 0)
		return -ENOENT;
	if (t->key_size != key_size)
		return -EINVAL;
	return bpf_delete_elem(t->fd, (void *)key) ? -errno : 0;
}

int tracer_bpf__delete(struct tracer_bpf *tb, const char *table, uint32_t key)
{
	return tracer_bpf__delete_key(tb, table, &key, sizeof(key));
}

int tracer_bpf__keys_of(struct tracer_bpf *tb, const char *table, void *keys, size_t key_size,
			int max)
{
	const struct table_desc *t = tb_table(tb, table);
	int fd = t ? t->fd : -1, n = 0;
	char key[256], next[256];
	bool more;

	if (fd < 0)
		return -ENOENT;
	if (t->key_size != key_size || key_size > sizeof(key))
		return -EINVAL;
	for (more = bpf_get_first_key(fd, key, key_size) == 0; more && n < max;
	     more = bpf_get_next_key(fd, key, next) == 0, memcpy(key, next, key_size))
		memcpy((char *)keys + (size_t)n++ * key_size, key, key_size);
	return n;
}

int tracer_bpf__keys(struct tracer_bpf *tb, const char *table, uint32_t *keys, int max)
{
	return tracer_bpf__keys_of(tb, table, keys, sizeof(*keys), max);
}

int tracer_bpf__read_all(struct tracer_bpf *tb, const char *table, void **keys, void **values,
			 size_t *key_size, size_t *leaf_size)
{
	const struct table_desc *t = tb_table(tb, table);
	uint64_t in = 0, out = 0; /* the batch tokens: a key or a bucket, 8 bytes at most */
	uint32_t n = 0, count;
	char *k, *v;
	int r = 0, i;

	*keys = *values = NULL;
	if (!t || t->fd < 0)
		return -ENOENT;
	if (t->type == BPF_MAP_TYPE_PERCPU_ARRAY || t->type == BPF_MAP_TYPE_PERCPU_HASH ||
	    t->type == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	    t->type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE || t->key_size > sizeof(in) ||
	    !t->max_entries)
		return -EINVAL;
	k = calloc(t->max_entries, t->key_size);
	v = calloc(t->max_entries, t->leaf_size);
	if (!k || !v) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	while (n < t->max_entries) {
		count = t->max_entries - n;
		r = bpf_lookup_batch(t->fd, n ? (uint32_t *)&in : NULL, (uint32_t *)&out,
				     k + (size_t)n * t->key_size, v + (size_t)n * t->leaf_size,
				     &count);
		n += r == 0 || errno == ENOENT ? count : 0;
		if (r != 0)
			break;
		in = out;
	}
	if (r != 0 && errno != ENOENT) { /* no batches here: the keys, then each value */
		r = tracer_bpf__keys_of(tb, table, k, t->key_size, (int)t->max_entries);
		for (n = 0, i = 0; i < r; i++) /* an entry deleted meanwhile is left out */
			if (bpf_lookup_elem(t->fd, k + (size_t)i * t->key_size,
					    v + (size_t)n * t->leaf_size) == 0)
				memmove(k + (size_t)n++ * t->key_size, k + (size_t)i * t->key_size,
					t->key_size);
		r = r < 0 ? r : (int)n;
	} else {
		r = (int)n;
	}
	if (r < 0) {
		free(k);
		free(v);
		return r;
	}
	*keys = k;
	*values = v;
	*key_size = t->key_size;
	*leaf_size = t->leaf_size;
	return r;
}

int tracer_bpf__lookup_key(struct tracer_bpf *tb, const char *table, const void *key,
			   size_t key_size, void *value, size_t size)
{
	const struct table_desc *t = tb_table(tb, table);

	if (!t || t->fd < 0)
		return -ENOENT;
	if (t->key_size != key_size || t->leaf_size != size)
		return -EINVAL;
	return bpf_lookup_elem(t->fd, (void *)key, value) ? -errno : 0;
}

int tracer_bpf__set_tail_call(struct tracer_bpf *tb, const char *table, uint32_t slot,
			      const char *fn, char *err, size_t errlen)
{
	const struct table_desc *t = tb_table(tb, table);
	int prog_fd;

	if (!t || t->fd < 0 || t->type != BPF_MAP_TYPE_PROG_ARRAY) {
		snprintf(err, errlen, "BPF map '%s' is no program array", table);
		return -ENOENT;
	}
	if (slot >= t->max_entries) {
		snprintf(err, errlen, "BPF map '%s' has no slot %u (%u slots)", table, slot,
			 t->max_entries);
		return -E2BIG;
	}
	prog_fd = tb_load_prog(tb, fn, BPF_PROG_TYPE_KPROBE, ATTACH_PERF, 0, err, errlen);
	if (prog_fd < 0)
		return prog_fd;
	if (bpf_update_elem(t->fd, &slot, &prog_fd, 0) != 0) {
		int e = errno;

		snprintf(err, errlen, "failed to put '%s' in slot %u of '%s': %s", fn, slot, table,
			 strerror(e));
		return -e;
	}
	return 0;
}

int tracer_bpf__table_dup(const struct tracer_bpf *tb, const char *table)
{
	const struct table_desc *t = tb_table(tb, table);
	int fd;

	if (!t || t->fd < 0)
		return -ENOENT;
	fd = fcntl(t->fd, F_DUPFD_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

int tracer_bpf__fd_lookup(int fd, const void *key, void *value)
{
	return bpf_lookup_elem(fd, (void *)key, value) ? -errno : 0;
}
