/* SPDX-License-Identifier: MIT */
/*
 * The admin API (spec network §8.5, docs/observability.md): a small HTTP
 * server on its own thread and event loop, so that neither a scrape nor a
 * slow admin client ever delays a worker. One request per connection,
 * answered with Connection: close.
 *
 *   GET  /health    200 "ok"
 *   GET  /config    the effective config (proxy_admin_ops.config_json)
 *   GET  /patterns  {"allowed":[...],"denied":[...]} of the live policy
 *   GET  /blocked   {"blocked":[...]}, draining the buffer (?keep=1:
 *                   a copy, the buffer stays as it is)
 *   GET  /metrics   Prometheus text (proxy_metrics())
 *   POST /mode      {"mode":"full"|"limited"}, checked against the
 *                   administrator's requirements
 *   POST /reload    load the config files again
 *
 * Anything else is 404; a known path with another method 405; a request
 * that does not parse 400 (or the parser's 414/431/501/505).
 */
#pragma once

#include "proxy/proxy.h"

struct admin;

/* Serve the listening socket fd (taken over, closed by admin_free()) for
 * p. ops is copied. Returns NULL on ENOMEM (fd is then closed). */
struct admin *admin_new(struct proxy *p, int fd,
    const struct proxy_admin_ops *ops);

/* Start the thread. Returns 0 or a negative errno. */
int admin_start(struct admin *a);

/* Stop the thread (open admin connections are closed), join it and free.
 * Accepts NULL; returns NULL. */
struct admin *admin_free(struct admin *a);
