/* SPDX-License-Identifier: MIT */
/*
 * Overflow-checked size arithmetic. Every length or count that comes from
 * the network or a config file goes through these (STYLE.md §4).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

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
