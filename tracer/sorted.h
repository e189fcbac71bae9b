/* SPDX-License-Identifier: Apache-2.0 */
/* sorted.h - arrays kept in order of a uint64_t key (connections, cgroups by id) */
#ifndef TRACER_SORTED_H
#define TRACER_SORTED_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The index of the first of the n elements of `elem` bytes at v (in order of the uint64_t
 * at `key_at` in each) whose key is not below key: n when none. */
static inline int sorted_lower_bound(const void *v, int n, size_t elem, size_t key_at, uint64_t key)
{
	int lo = 0, hi = n;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		uint64_t k;

		memcpy(&k, (const char *)v + (size_t)mid * elem + key_at, sizeof(k));
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

#endif
