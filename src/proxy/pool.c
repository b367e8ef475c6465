/* SPDX-License-Identifier: MIT */
/*
 * The upstream keep-alive pool: a list ordered oldest first. Pools are
 * small (LIMIT_POOL_TOTAL), so a linear search by key is cheaper than any
 * index to maintain.
 */
#include "proxy/pool.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "proxy/session.h"
#include "proxy/worker.h"
#include "util/limits.h"
#include "util/strutil.h"

struct pool_conn {
	TAILQ_ENTRY(pool_conn) link;
	struct pool *pool;
	struct bufferevent *bev;
	int fd;   /* the raw socket under bev, -1 when bev is TLS */
	bool tls; /* part of the key */
	uint64_t gen;
	char *key;
};

struct pool {
	struct worker *w;
	TAILQ_HEAD(pool_conns_head, pool_conn) conns;
	unsigned n;
};

struct pool *
pool_new(struct worker *w)
{
	struct pool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->w = w;
	TAILQ_INIT(&p->conns);
	return p;
}

static void
pool_drop(struct pool *p, struct pool_conn *c)
{
	TAILQ_REMOVE(&p->conns, c, link);
	p->n--;
	session_bev_free(c->bev, c->fd);
	free(c->key);
	free(c);
}

void
pool_flush(struct pool *p)
{
	struct pool_conn *c;

	if (!p)
		return;
	while ((c = TAILQ_FIRST(&p->conns)))
		pool_drop(p, c);
}

struct pool *
pool_free(struct pool *p)
{
	if (!p)
		return NULL;
	pool_flush(p);
	free(p);
	return NULL;
}

/* An idle connection has nothing to say: any byte, EOF, error or the idle
 * timeout ends it. */
static void
pool_idle_read_cb(struct bufferevent *bev, void *arg)
{
	struct pool_conn *c = arg;

	(void)bev;
	pool_drop(c->pool, c);
}

static void
pool_idle_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct pool_conn *c = arg;

	(void)bev;
	(void)what;
	pool_drop(c->pool, c);
}

static bool
pool_conn_matches(const struct pool_conn *c, const char *key, bool tls)
{
	return c->tls == tls && streq(c->key, key);
}

struct bufferevent *
pool_take(struct pool *p, const char *key, uint64_t gen, bool tls, int *ret_fd)
{
	struct pool_conn *c;

	/* Newest first: the most recently used connection is the least
	 * likely to have been closed by the server meanwhile. */
	TAILQ_FOREACH_REVERSE(c, &p->conns, pool_conns_head, link)
	{
		struct bufferevent *bev;

		if (c->gen != gen || !pool_conn_matches(c, key, tls))
			continue;
		bev = c->bev;
		*ret_fd = c->fd;
		c->bev = NULL;
		c->fd = -1;
		pool_drop(p, c);
		/* Reading stays on: the new owner reads from it at once, and
		 * turning it off and on costs two system calls. */
		bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
		(void)bufferevent_set_timeouts(bev, NULL, NULL);
		return bev;
	}
	*ret_fd = -1;
	return NULL;
}

void
pool_put(struct pool *p, const char *key, uint64_t gen, struct bufferevent *bev,
    int fd)
{
	struct timeval idle = { .tv_sec = LIMIT_POOL_IDLE_MS / 1000,
		.tv_usec = (LIMIT_POOL_IDLE_MS % 1000) * 1000 };
	struct pool_conn *c, *old;
	unsigned same = 0;
	bool tls = fd < 0;

	TAILQ_FOREACH(old, &p->conns, link)
		if (pool_conn_matches(old, key, tls))
			same++;
	if (same >= LIMIT_POOL_PER_DEST) {
		TAILQ_FOREACH(old, &p->conns, link)
			if (pool_conn_matches(old, key, tls))
				break;
		pool_drop(p, old);
	} else if (p->n >= LIMIT_POOL_TOTAL) {
		pool_drop(p, TAILQ_FIRST(&p->conns));
	}
	c = calloc(1, sizeof(*c));
	if (c)
		c->key = strdup(key);
	if (!c || !c->key) {
		free(c);
		session_bev_free(bev, fd);
		return;
	}
	c->pool = p;
	c->bev = bev;
	c->fd = fd;
	c->tls = tls;
	c->gen = gen;
	TAILQ_INSERT_TAIL(&p->conns, c, link);
	p->n++;
	bufferevent_setcb(bev, pool_idle_read_cb, NULL, pool_idle_event_cb, c);
	(void)bufferevent_set_timeouts(bev, &idle, NULL);
	bufferevent_setwatermark(bev, EV_READ, 0, 0);
	(void)bufferevent_enable(bev, EV_READ);
	(void)bufferevent_disable(bev, EV_WRITE);
}
