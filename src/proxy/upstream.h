/* SPDX-License-Identifier: MIT */
/*
 * Upstream (parent) proxies, spec §4.8: when allow_upstream_proxy is true,
 * traffic leaves through the HTTP proxy named by the proxy process's own
 * HTTP_PROXY / HTTPS_PROXY / ALL_PROXY (upper case first, then lower case;
 * empty values are skipped). Only http:// and scheme-less URLs are used;
 * anything else is ignored with a warning. A secure target (a CONNECT
 * tunnel) picks HTTPS, then HTTP, then ALL; a plain target HTTP, then ALL.
 *
 * Unlike the reference, NO_PROXY / no_proxy is honoured: a comma- or
 * space-separated list of "*", host names (matching the name and its
 * subdomains, a leading "." allowed), IP literals and CIDR blocks (matching
 * IP-literal targets only; names are never resolved for this).
 *
 * Pure: the environment is read through a caller-supplied function, once,
 * when the proxy is built or reloaded. An upstream is immutable afterwards
 * and may be shared by every worker thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/http_target.h"

struct upstream_proxy {
	struct http_authority authority; /* where the upstream proxy listens */
	char *authorization;  /* "Basic ..." from URL userinfo, or NULL */
	const char *variable; /* the environment variable it came from */
};

struct upstream;

/* Read the environment through get (e.g. secure_getenv). warn, when not
 * NULL, is told about each ignored setting. Returns NULL on allocation
 * failure only; an environment without proxies gives an empty upstream. */
struct upstream *upstream_new(const char *(*get)(const char *name),
    void (*warn)(void *userdata, const char *message), void *userdata);

/* Accepts NULL; returns NULL. */
struct upstream *upstream_free(struct upstream *u);

/* True when no upstream proxy is configured at all. */
bool upstream_is_empty(const struct upstream *u);

/* The upstream proxy for host (canonical form), or NULL to go direct.
 * secure is true for CONNECT tunnels. Borrowed from u. */
const struct upstream_proxy *upstream_select(const struct upstream *u,
    const char *host, bool secure);

/* True when host (canonical form) matches the NO_PROXY list. */
bool upstream_bypassed(const struct upstream *u, const char *host);

/*
 * Parse one proxy URL ("http://[user:pass@]host[:port][/]" or
 * "host:port"). Returns 0, -EINVAL (malformed) or -EPROTONOSUPPORT (a
 * scheme other than http). On success ret->authorization is heap-allocated
 * (or NULL) and owned by the caller.
 */
int upstream_parse_url(const char *url, struct upstream_proxy *ret);
