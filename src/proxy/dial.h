/* SPDX-License-Identifier: MIT */
/*
 * Connecting to a destination whose addresses are already known and judged
 * (no second lookup, so nothing can rebind the name between the check and
 * the connect). Happy Eyeballs (RFC 8305 §5): addresses are tried in
 * eyeballs_order(), a new attempt starts every LIMIT_EYEBALLS_DELAY_MS or
 * as soon as the previous one failed, the first connection wins and the
 * others are closed. The whole dial has one deadline (-ETIMEDOUT).
 *
 * An address that is one of the proxy's own listeners is never dialed
 * (-ELOOP when that leaves nothing). With public_only, an address that is
 * not public (policy_addr_class()) is never dialed either (-EACCES when
 * that leaves nothing): the connect-time check of a request judged with
 * allow_local_binding off, whatever path produced its addresses (spec
 * network §3.4).
 *
 * The callback runs exactly once, later on the worker's loop, unless the
 * dial is cancelled; it receives the connected, non-blocking, close-on-exec
 * socket (ownership passes to it) or the error of the last attempt.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct dial;
struct policy_addr;
struct proxy_conf;
struct worker;

typedef void (*dial_fn)(void *arg, int fd, int err);

/* Start dialing port on addrs[0..n) (copied). Returns NULL only on
 * allocation failure. The handle is invalid once cb has run. */
struct dial *dial_start(struct worker *w, const struct proxy_conf *conf,
    const struct policy_addr *addrs, size_t n, uint16_t port, bool public_only,
    uint64_t timeout_ms, dial_fn cb, void *arg);

/* Cancel: close every attempt; cb will not run. Accepts NULL; returns
 * NULL. */
struct dial *dial_cancel(struct dial *d);

/* Fill a sockaddr for a:port. Returns its length. */
socklen_t dial_sockaddr(const struct policy_addr *a, uint16_t port,
    struct sockaddr_storage *ret);
