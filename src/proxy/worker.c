/* SPDX-License-Identifier: MIT */
/*
 * Worker threads. Every listener socket is shared: each worker watches its
 * own duplicate, and whichever loop is least busy tends to win the
 * accept(). At the session cap or when accept() runs out of descriptors
 * or memory, the worker stops accepting (the kernel queues new clients)
 * and tries again when a session closes or after LIMIT_ACCEPT_RETRY_MS.
 */
#include "proxy/worker.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "proxy/dnsd.h"
#include "proxy/pool.h"
#include "proxy/session.h"
#include "proxy/session_http.h"
#include "proxy/session_socks5.h"
#include "proxy/splice.h"
#include "proxy/stats.h"
#include "util/limits.h"
#include "util/log.h"

struct worker_listener {
	struct worker *w;
	enum proxy_frontend fe;
	struct evconnlistener *l;
};

TAILQ_HEAD(worker_sessions, session);

struct worker {
	struct proxy *proxy;
	unsigned index;
	pthread_t thread;
	bool started;
	struct event_base *base;
	struct evdns_base *dns;
	struct worker_listener listeners[_PROXY_FRONTEND_MAX];
	bool paused;
	struct event *retry;
	struct event *reaper;
	struct event *trim; /* memory back to the system once idle */
	struct event *mailbox;
	struct event *grace;
	pthread_mutex_t lock; /* guards the posted_* fields and stop_begun */
	pthread_cond_t stop_cond; /* signalled when stop_begun is set */
	struct proxy_conf *posted_conf;
	bool posted_stop;
	bool stop_begun;
	struct proxy_conf *conf;
	struct worker_sessions live;
	struct worker_sessions graveyard;
	struct pool *pool;
	struct splice_pipes *pipes;
	struct dnsd *dnsd; /* paddock run's DNS server (worker 0) */
	bool stopping;
	struct stats stats; /* written here only; summed by the admin thread */
};

static const struct session_frontend *
worker_frontend(enum proxy_frontend fe)
{
	switch (fe) {
	case PROXY_FRONTEND_HTTP:
		return &session_http_frontend;
	case PROXY_FRONTEND_SOCKS5:
		return &session_socks5_frontend;
	default:
		return NULL;
	}
}

uint64_t
worker_now_ms(struct worker *w)
{
	struct timespec ts;

	(void)w;
	(void)clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct event_base *
worker_get_base(struct worker *w)
{
	return w->base;
}

struct evdns_base *
worker_get_dns(struct worker *w)
{
	return w->dns;
}

struct proxy *
worker_get_proxy(struct worker *w)
{
	return w->proxy;
}

struct pool *
worker_get_pool(struct worker *w)
{
	return w->pool;
}

struct splice_pipes *
worker_get_pipes(struct worker *w)
{
	return w->pipes;
}

struct stats *
worker_get_stats(struct worker *w)
{
	return &w->stats;
}

const struct stats *
worker_peek_stats(const struct worker *w)
{
	return &w->stats;
}

struct proxy_conf *
worker_get_conf(struct worker *w)
{
	return w->conf;
}

bool
worker_is_stopping(const struct worker *w)
{
	return w->stopping;
}

int
worker_arm(struct event *ev, uint64_t ms)
{
	struct timeval tv = {
		.tv_sec = (time_t)(ms / 1000),
		.tv_usec = (suseconds_t)((ms % 1000) * 1000),
	};

	return event_add(ev, &tv);
}

static void
worker_pause(struct worker *w, const char *why)
{
	if (w->paused)
		return;
	w->paused = true;
	for (int i = 0; i < _PROXY_FRONTEND_MAX; i++)
		if (w->listeners[i].l)
			(void)evconnlistener_disable(w->listeners[i].l);
	log_warn("worker %u: not accepting connections for now: %s", w->index,
	    why);
	(void)worker_arm(w->retry, LIMIT_ACCEPT_RETRY_MS);
}

static void
worker_resume(struct worker *w)
{
	if (!w->paused || w->stopping ||
	    proxy_session_at_cap(w->proxy, w->conf->limits.sessions))
		return;
	w->paused = false;
	(void)event_del(w->retry);
	for (int i = 0; i < _PROXY_FRONTEND_MAX; i++)
		if (w->listeners[i].l)
			(void)evconnlistener_enable(w->listeners[i].l);
	log_debug("worker %u: accepting connections again", w->index);
}

static void
worker_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	worker_resume(w);
	if (w->paused && !w->stopping)
		(void)worker_arm(w->retry, LIMIT_ACCEPT_RETRY_MS);
}

static void
worker_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int len, void *arg)
{
	struct worker_listener *wl = arg;
	struct worker *w = wl->w;
	uint64_t cap = w->conf->limits.sessions;

	(void)l;
	if (w->stopping) {
		(void)close(fd);
		return;
	}
	if (proxy_session_add(w->proxy, cap))
		worker_pause(w, "the session cap is reached");
	(void)session_new(w, fd, sa, (socklen_t)len, worker_frontend(wl->fe));
}

static void
worker_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct worker_listener *wl = arg;
	int err = EVUTIL_SOCKET_ERROR();

	(void)l;
	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		char why[128];

		(void)snprintf(why, sizeof(why), "accept: %s", strerror(err));
		worker_pause(wl->w, why);
		return;
	}
	log_debug("worker %u: accept: %s", wl->w->index, strerror(err));
}

/* The front end of a session, for the connection counters. */
static enum proxy_frontend
worker_session_frontend(const struct session *s)
{
	for (int i = 0; i < _PROXY_FRONTEND_MAX; i++)
		if (worker_frontend((enum proxy_frontend)i) == s->fe)
			return (enum proxy_frontend)i;
	return _PROXY_FRONTEND_MAX;
}

void
worker_add_session(struct worker *w, struct session *s)
{
	TAILQ_INSERT_TAIL(&w->live, s, link);
	stats_count_open(&w->stats, worker_session_frontend(s));
}

void
worker_remove_session(struct worker *w, struct session *s)
{
	TAILQ_REMOVE(&w->live, s, link);
	stats_count_close(&w->stats, worker_session_frontend(s),
	    s->client.bytes, s->upstream.bytes);
	proxy_session_release(w->proxy);
	if (w->paused)
		worker_resume(w);
}

void
worker_bury_session(struct worker *w, struct session *s)
{
	TAILQ_INSERT_TAIL(&w->graveyard, s, link);
}

void
worker_wake_reaper(struct worker *w)
{
	event_active(w->reaper, EV_TIMEOUT, 0);
}

static void
worker_check_done(struct worker *w)
{
	if (w->stopping && TAILQ_EMPTY(&w->live) && TAILQ_EMPTY(&w->graveyard))
		(void)event_base_loopbreak(w->base);
}

/* A burst of sessions leaves glibc holding freed memory for reuse: once a
 * worker has had nothing to do for a while, give it back, so a proxy that
 * served a peak returns to its idle size. malloc_trim() is process-wide
 * and thread-safe; it runs at most once per idle period per worker. */
static void
worker_trim_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	if (TAILQ_EMPTY(&w->live) && TAILQ_EMPTY(&w->graveyard))
		(void)malloc_trim(0);
}

static void
worker_reaper_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct session *s, *next;

	(void)fd;
	(void)what;
	for (s = TAILQ_FIRST(&w->graveyard); s; s = next) {
		next = TAILQ_NEXT(s, link);
		if (s->refs > 0)
			continue;
		TAILQ_REMOVE(&w->graveyard, s, link);
		session_reap(s);
	}
	if (!w->stopping && TAILQ_EMPTY(&w->live) && TAILQ_EMPTY(&w->graveyard))
		(void)worker_arm(w->trim, LIMIT_IDLE_TRIM_MS);
	worker_check_done(w);
}

static void
worker_close_listeners(struct worker *w)
{
	for (int i = 0; i < _PROXY_FRONTEND_MAX; i++)
		if (w->listeners[i].l) {
			evconnlistener_free(w->listeners[i].l);
			w->listeners[i].l = NULL;
		}
}

static void
worker_grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct session *s;

	(void)fd;
	(void)what;
	while ((s = TAILQ_FIRST(&w->live)))
		session_close(s, "shutdown");
	worker_wake_reaper(w);
}

static void
worker_begin_stop(struct worker *w)
{
	struct session *s, *next;

	if (w->stopping)
		return;
	w->stopping = true;
	(void)event_del(w->retry);
	worker_close_listeners(w);
	w->dnsd = dnsd_free(w->dnsd);
	pool_flush(w->pool);
	for (s = TAILQ_FIRST(&w->live); s; s = next) {
		next = TAILQ_NEXT(s, link);
		/* May close s (and only s). */
		if (s->fe->shutdown)
			s->fe->shutdown(s);
		else
			session_close(s, "shutdown");
	}
	(void)worker_arm(w->grace, w->conf->limits.shutdown_grace_ms);
	worker_wake_reaper(w);
	(void)pthread_mutex_lock(&w->lock);
	w->stop_begun = true;
	(void)pthread_cond_broadcast(&w->stop_cond);
	(void)pthread_mutex_unlock(&w->lock);
}

static void
worker_mailbox_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct proxy_conf *conf;
	bool stop;

	(void)fd;
	(void)what;
	(void)pthread_mutex_lock(&w->lock);
	conf = w->posted_conf;
	w->posted_conf = NULL;
	stop = w->posted_stop;
	(void)pthread_mutex_unlock(&w->lock);
	if (conf) {
		proxy_conf_unref(w->conf);
		w->conf = conf;
		/* Connections judged under the old policy are not reused. */
		pool_flush(w->pool);
	}
	if (stop)
		worker_begin_stop(w);
}

static int
worker_listen(struct worker *w, enum proxy_frontend fe, int shared_fd)
{
	struct worker_listener *wl = &w->listeners[fe];
	int fd;

	wl->w = w;
	wl->fe = fe;
	if (shared_fd < 0 || !worker_frontend(fe))
		return 0;
	fd = fcntl(shared_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -errno;
	wl->l = evconnlistener_new(w->base, worker_accept_cb, wl,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (!wl->l) {
		(void)close(fd);
		return -ENOMEM;
	}
	evconnlistener_set_error_cb(wl->l, worker_accept_error_cb);
	return 0;
}

struct worker *
worker_new(struct proxy *p, unsigned index,
    const int listen_fds[_PROXY_FRONTEND_MAX], struct proxy_conf *conf)
{
	struct worker *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->proxy = p;
	w->index = index;
	TAILQ_INIT(&w->live);
	TAILQ_INIT(&w->graveyard);
	if (pthread_mutex_init(&w->lock, NULL) != 0) {
		free(w);
		return NULL;
	}
	if (pthread_cond_init(&w->stop_cond, NULL) != 0) {
		(void)pthread_mutex_destroy(&w->lock);
		free(w);
		return NULL;
	}
	w->conf = proxy_conf_ref(conf);
	w->base = event_base_new();
	if (!w->base)
		return worker_free(w);
	/* Reads /etc/resolv.conf and /etc/hosts now, before the loop runs. */
	w->dns = evdns_base_new(w->base,
	    EVDNS_BASE_INITIALIZE_NAMESERVERS |
		EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	w->retry = event_new(w->base, -1, 0, worker_retry_cb, w);
	w->reaper = event_new(w->base, -1, 0, worker_reaper_cb, w);
	w->trim = event_new(w->base, -1, 0, worker_trim_cb, w);
	w->mailbox = event_new(w->base, -1, 0, worker_mailbox_cb, w);
	w->grace = event_new(w->base, -1, 0, worker_grace_cb, w);
	w->pool = pool_new(w);
	w->pipes = splice_pipes_new();
	if (!w->dns || !w->retry || !w->reaper || !w->trim || !w->mailbox ||
	    !w->grace || !w->pool || !w->pipes)
		return worker_free(w);
	for (int i = 0; i < _PROXY_FRONTEND_MAX; i++)
		if (worker_listen(w, (enum proxy_frontend)i, listen_fds[i]) < 0)
			return worker_free(w);
	/* One loop answers DNS: questions are few and cheap. */
	if (index == 0 && proxy_get_dns_fd(p) >= 0) {
		w->dnsd = dnsd_new(w, proxy_get_dns_fd(p));
		if (!w->dnsd)
			return worker_free(w);
	}
	return w;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	char name[16];

	(void)snprintf(name, sizeof(name), "paddock-w%u", w->index);
	(void)pthread_setname_np(pthread_self(), name);
	(void)event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

int
worker_start(struct worker *w)
{
	int r = pthread_create(&w->thread, NULL, worker_main, w);

	if (r != 0)
		return -r;
	w->started = true;
	return 0;
}

void
worker_post_conf(struct worker *w, struct proxy_conf *conf)
{
	struct proxy_conf *old;

	(void)pthread_mutex_lock(&w->lock);
	old = w->posted_conf;
	w->posted_conf = proxy_conf_ref(conf);
	(void)pthread_mutex_unlock(&w->lock);
	proxy_conf_unref(old);
	event_active(w->mailbox, EV_TIMEOUT, 0);
}

void
worker_post_stop(struct worker *w)
{
	(void)pthread_mutex_lock(&w->lock);
	w->posted_stop = true;
	(void)pthread_mutex_unlock(&w->lock);
	event_active(w->mailbox, EV_TIMEOUT, 0);
}

void
worker_wait_stop_begun(struct worker *w)
{
	if (!w->started)
		return;
	(void)pthread_mutex_lock(&w->lock);
	while (!w->stop_begun)
		(void)pthread_cond_wait(&w->stop_cond, &w->lock);
	(void)pthread_mutex_unlock(&w->lock);
}

void
worker_join(struct worker *w)
{
	if (w->started) {
		(void)pthread_join(w->thread, NULL);
		w->started = false;
	}
}

struct worker *
worker_free(struct worker *w)
{
	if (!w)
		return NULL;
	worker_close_listeners(w);
	w->dnsd = dnsd_free(w->dnsd);
	w->pool = pool_free(w->pool);
	w->pipes = splice_pipes_free(w->pipes);
	if (w->dns)
		evdns_base_free(w->dns, 1);
	if (w->retry)
		event_free(w->retry);
	if (w->reaper)
		event_free(w->reaper);
	if (w->trim)
		event_free(w->trim);
	if (w->mailbox)
		event_free(w->mailbox);
	if (w->grace)
		event_free(w->grace);
	if (w->base)
		event_base_free(w->base);
	proxy_conf_unref(w->conf);
	proxy_conf_unref(w->posted_conf);
	(void)pthread_cond_destroy(&w->stop_cond);
	(void)pthread_mutex_destroy(&w->lock);
	free(w);
	return NULL;
}
