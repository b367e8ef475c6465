/* SPDX-License-Identifier: MIT */
/*
 * Asynchronous name resolution with a hard deadline, on a worker's evdns
 * resolver (which reads /etc/resolv.conf and /etc/hosts when the worker
 * starts). A lookup asks for A and AAAA at once and reports every address,
 * deduplicated, in the resolver's order, at most LIMIT_DNS_ADDRS.
 *
 * The callback always runs later on the worker's loop, never inside
 * dns_resolve(), and runs exactly once unless the lookup is cancelled.
 * After dns_cancel() it never runs; the module itself absorbs evdns's
 * delayed cancel notification (STYLE.md §6), so callers need no reference
 * games.
 *
 * Failures: -ENXIO (no such name, or no address), -ETIME (the deadline
 * passed) and -EREMOTEIO (the resolver failed). Fails closed: there is no
 * fallback to another resolver.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct dns_lookup;
struct policy_addr;
struct worker;

typedef void (
    *dns_fn)(void *arg, int err, const struct policy_addr *addrs, size_t n);

/* Resolve name (a canonical host name, not an IP literal). Returns NULL
 * only on allocation failure. The handle is invalid once cb has run:
 * forget it first thing in the callback. */
struct dns_lookup *dns_resolve(struct worker *w, const char *name,
    uint64_t timeout_ms, dns_fn cb, void *arg);

/* Cancel; cb will not run. Accepts NULL; returns NULL. */
struct dns_lookup *dns_cancel(struct dns_lookup *l);
