/* SPDX-License-Identifier: Apache-2.0 */
/* grow.h - room for one more element in the tracer's growable arrays */
#ifndef TRACER_GROW_H
#define TRACER_GROW_H

#include <stddef.h>
#include <stdlib.h>

/*
 * Returns array `v` (n elements of `elem` bytes, room for *cap) with room for one more:
 * itself when it has it, else grown to twice *cap (`first` when empty) and *cap updated.
 * NULL when out of memory; v and *cap are then as they were.
 */
static inline void *grow_for(void *v, int n, int *cap, size_t elem, int first)
{
	int want = *cap ? 2 * *cap : first;
	void *grown;

	if (n < *cap)
		return v;
	grown = realloc(v, (size_t)want * elem);
	if (grown)
		*cap = want;
	return grown;
}

#endif
