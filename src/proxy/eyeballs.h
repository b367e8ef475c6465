/* SPDX-License-Identifier: MIT */
/*
 * Happy Eyeballs ordering (RFC 8305 §4): the resolved addresses are
 * interleaved by family, starting with IPv6 when there is any (RFC 6724
 * prefers it), one address of each family in turn ("First Address Family
 * Count" of 1). Within a family the resolver's order is kept. Pure.
 */
#pragma once

#include <stddef.h>

struct policy_addr;

/* Reorder addrs[0..n) in place. Duplicates are removed; returns the new
 * count. */
size_t eyeballs_order(struct policy_addr *addrs, size_t n);
