/* SPDX-License-Identifier: MIT */
/*
 * A worker: one thread running one event loop with its own DNS resolver,
 * its share of the listeners, its sessions, its pool of idle upstream
 * connections and its spare splice pipes. Nothing a worker owns is touched
 * by another thread; the controlling thread talks to it only through the
 * mailbox (reload, stop), and decisions arrive through their own events.
 *
 * No worker ever blocks: sockets are non-blocking, names are resolved with
 * evdns, files are read by the controlling thread, and the decider and
 * every observer run on their own threads.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "proxy/proxy.h"

struct event;
struct event_base;
struct evdns_base;
struct splice_pipes;
struct pool;
struct session;
struct stats;

/*
 * Create a worker for proxy p. listen_fds[fe] is a listening socket shared
 * by all workers, or -1 (borrowed: the worker duplicates it). conf is the
 * initial snapshot (a new reference is taken). Returns NULL on failure.
 */
struct worker *worker_new(struct proxy *p, unsigned index,
    const int listen_fds[_PROXY_FRONTEND_MAX], struct proxy_conf *conf);

/* Start the thread. Returns 0 or a negative errno. */
int worker_start(struct worker *w);

/* From the controlling thread: pick up a new snapshot (a reference is
 * taken). */
void worker_post_conf(struct worker *w, struct proxy_conf *conf);

/* From the controlling thread: stop accepting, finish open exchanges for
 * up to the shutdown grace, then end the loop. */
void worker_post_stop(struct worker *w);

/* After worker_post_stop(): wait until the worker no longer accepts and
 * every exchange it still serves knows it is the last (Connection:
 * close). Returns at once for a worker that never started. */
void worker_wait_stop_begun(struct worker *w);

/* Add timer event ev to fire in ms milliseconds. Returns event_add()'s
 * answer. */
int worker_arm(struct event *ev, uint64_t ms);

/* Wait for the thread to end. */
void worker_join(struct worker *w);

/* Free a joined (or never started) worker. Accepts NULL; returns NULL. */
struct worker *worker_free(struct worker *w);

/*
 * On the worker's own thread.
 */
struct event_base *worker_get_base(struct worker *w);
struct evdns_base *worker_get_dns(struct worker *w);
struct proxy *worker_get_proxy(struct worker *w);
struct pool *worker_get_pool(struct worker *w);
struct splice_pipes *worker_get_pipes(struct worker *w);

/* The worker's counters (proxy/stats.h), borrowed: written only on the
 * worker's thread. worker_peek_stats() is for readers on any thread. */
struct stats *worker_get_stats(struct worker *w);
const struct stats *worker_peek_stats(const struct worker *w);

/* The current snapshot, borrowed (take a reference to keep it). */
struct proxy_conf *worker_get_conf(struct worker *w);

/* True once a stop was requested: sessions finish their exchange and
 * close instead of waiting for the next request. */
bool worker_is_stopping(const struct worker *w);

/* Monotonic milliseconds, cached per loop iteration. */
uint64_t worker_now_ms(struct worker *w);

/* Session bookkeeping (session.c). */
void worker_add_session(struct worker *w, struct session *s);
void worker_remove_session(struct worker *w, struct session *s);
void worker_bury_session(struct worker *w, struct session *s);
void worker_wake_reaper(struct worker *w);
