/* SPDX-License-Identifier: MIT */
/*
 * Overflow-checked size arithmetic. Every length or count that comes from
 * the network or a config file goes through these (STYLE.md §4).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Store a + b in *ret and return true, or return false on overflow. */
static inline bool
size_add(size_t a, size_t b, size_t *ret)
{
	return !__builtin_add_overflow(a, b, ret);
}

/* Store a * b in *ret and return true, or return false on overflow. */
static inline bool
size_mul(size_t a, size_t b, size_t *ret)
{
	return !__builtin_mul_overflow(a, b, ret);
}

/*
 * For arrays that do not store their capacity: the room implied by n
 * elements, the next power of two (at least 8), or SIZE_MAX on overflow.
 * Reallocating to size_room(n + 1) whenever n + 1 > size_room(n) (or the
 * array is NULL) doubles the array, so n appends cost O(n) in all. The
 * array must be built from NULL by such appends only; shrinking n is fine.
 */
static inline size_t
size_room(size_t n)
{
	size_t c = 8;

	while (c < n)
		if (!size_mul(c, 2, &c))
			return SIZE_MAX;
	return c;
}
