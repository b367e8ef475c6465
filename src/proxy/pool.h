/* SPDX-License-Identifier: MIT */
/*
 * Idle upstream connections kept alive for reuse by plain-HTTP requests,
 * one pool per worker. A connection is parked under a key naming where it
 * leads (the destination, or the upstream proxy), its transport (a raw
 * socket, or wrapped in TLS: never handed out as the other) and the config
 * snapshot generation it was judged under; a reload makes older ones
 * unusable.
 * Bounded per key and in total (oldest evicted first); an idle connection
 * that the server closes, that sends anything, or that stays unused for
 * LIMIT_POOL_IDLE_MS is dropped.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct bufferevent;
struct pool;
struct worker;

struct pool *pool_new(struct worker *w);

/* Close every idle connection and free. Accepts NULL; returns NULL. */
struct pool *pool_free(struct pool *p);

/* Close every idle connection. */
void pool_flush(struct pool *p);

/*
 * An idle connection for key made under generation gen, wrapped in TLS
 * when tls is true and a raw socket otherwise, or NULL. The caller owns
 * it; *ret_fd is set to its raw socket (-1 for TLS: struct half's fd).
 * Callbacks and timeouts are cleared, reading is still enabled (nothing to
 * write is queued).
 */
struct bufferevent *pool_take(struct pool *p, const char *key, uint64_t gen,
    bool tls, int *ret_fd);

/* Park bev (nothing buffered, no response pending) under key. fd is the
 * raw socket under it, or -1 when bev is wrapped in TLS (struct half's
 * fd); the transport is part of the key. Takes ownership; it may be closed
 * at once when the pool is full. */
void pool_put(struct pool *p, const char *key, uint64_t gen,
    struct bufferevent *bev, int fd);
