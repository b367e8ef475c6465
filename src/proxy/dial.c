/* SPDX-License-Identifier: MIT */
/*
 * Happy Eyeballs connecting (RFC 8305 §5). One timer serves three
 * purposes in turn: the next attempt's start, the overall deadline, and
 * the deferred delivery of a result that was known at once.
 */
#include "proxy/dial.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "policy/policy.h"
#include "proxy/eyeballs.h"
#include "proxy/proxy.h"
#include "proxy/stats.h"
#include "proxy/worker.h"
#include "util/limits.h"

struct dial_attempt {
	struct dial *dial;
	int fd;
	struct event *ev;
};

struct dial {
	struct worker *w;
	struct policy_addr addrs[LIMIT_DNS_ADDRS];
	size_t n;
	size_t next; /* the next address to try */
	uint16_t port;
	struct dial_attempt attempts[LIMIT_DNS_ADDRS];
	size_t running;
	struct event *timer;
	uint64_t deadline_ms;
	uint64_t started_ns; /* for the dial-time histogram */
	int err;             /* the last attempt's error */
	int won_fd;          /* set when a connection is ready to hand over */
	bool finished;
	dial_fn cb;
	void *arg;
};

socklen_t
dial_sockaddr(const struct policy_addr *a, uint16_t port,
    struct sockaddr_storage *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (a->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)(void *)ret;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, a->bytes, 4);
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)ret;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	memcpy(&in6->sin6_addr, a->bytes, 16);
	return sizeof(*in6);
}

static void
dial_attempt_close(struct dial_attempt *a)
{
	if (a->ev) {
		event_free(a->ev);
		a->ev = NULL;
	}
	if (a->fd >= 0) {
		(void)close(a->fd);
		a->fd = -1;
	}
}

/* Record the outcome; it is delivered from the timer callback. */
static void
dial_finish(struct dial *d, int fd, int err)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->attempts[i].fd != fd)
			dial_attempt_close(&d->attempts[i]);
	d->running = 0;
	d->finished = true;
	d->won_fd = fd;
	d->err = err;
	(void)event_del(d->timer);
	event_active(d->timer, EV_TIMEOUT, 0);
}

static void dial_attempt_cb(evutil_socket_t fd, short what, void *arg);

/* Start the next address. Returns true when an attempt is in flight. */
static bool
dial_start_next(struct dial *d)
{
	while (d->next < d->n) {
		size_t i = d->next++;
		struct dial_attempt *a = &d->attempts[i];
		struct sockaddr_storage ss;
		socklen_t len = dial_sockaddr(&d->addrs[i], d->port, &ss);
		int one = 1;

		a->dial = d;
		a->fd = socket(ss.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (a->fd < 0) {
			d->err = -errno;
			continue;
		}
		(void)setsockopt(a->fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		if (connect(a->fd, (struct sockaddr *)&ss, len) == 0) {
			dial_finish(d, a->fd, 0);
			return true;
		}
		if (errno != EINPROGRESS) {
			d->err = -errno;
			dial_attempt_close(a);
			continue;
		}
		a->ev = event_new(worker_get_base(d->w), a->fd, EV_WRITE,
		    dial_attempt_cb, a);
		if (!a->ev || event_add(a->ev, NULL) < 0) {
			d->err = -ENOMEM;
			dial_attempt_close(a);
			continue;
		}
		d->running++;
		return true;
	}
	return false;
}

/* After a start or a failure: arm the timer for the next attempt or the
 * deadline, or give up when nothing is left. */
static void
dial_schedule(struct dial *d)
{
	uint64_t now = worker_now_ms(d->w), left;

	if (d->finished)
		return;
	if (d->running == 0 && !dial_start_next(d)) {
		dial_finish(d, -1, d->err ? d->err : -EHOSTUNREACH);
		return;
	}
	if (d->finished)
		return;
	left = d->deadline_ms > now ? d->deadline_ms - now : 0;
	if (d->next < d->n && left > LIMIT_EYEBALLS_DELAY_MS)
		left = LIMIT_EYEBALLS_DELAY_MS;
	(void)worker_arm(d->timer, left);
}

static void
dial_attempt_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dial_attempt *a = arg;
	struct dial *d = a->dial;
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	(void)what;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	d->running--;
	if (soerr == 0) {
		event_free(a->ev);
		a->ev = NULL;
		dial_finish(d, a->fd, 0);
		return;
	}
	d->err = -soerr;
	dial_attempt_close(a);
	dial_schedule(d);
}

static void
dial_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dial *d = arg;

	(void)fd;
	(void)what;
	if (d->finished) {
		dial_fn cb = d->cb;
		void *cbarg = d->arg;
		int won = d->won_fd, err = d->err;

		/* The handle dies before the callback hears the result. */
		for (size_t i = 0; i < d->n; i++)
			if (d->attempts[i].fd == won)
				d->attempts[i].fd = -1;
		stats_observe(worker_get_stats(d->w), STATS_HIST_DIAL,
		    stats_now_ns() - d->started_ns);
		(void)dial_cancel(d);
		cb(cbarg, won, err);
		return;
	}
	if (worker_now_ms(d->w) >= d->deadline_ms) {
		dial_finish(d, -1, -ETIMEDOUT);
		return;
	}
	/* RFC 8305 §5: the attempt delay passed; start one more. */
	(void)dial_start_next(d);
	dial_schedule(d);
}

struct dial *
dial_start(struct worker *w, const struct proxy_conf *conf,
    const struct policy_addr *addrs, size_t n, uint16_t port, bool public_only,
    uint64_t timeout_ms, dial_fn cb, void *arg)
{
	struct dial *d = calloc(1, sizeof(*d));
	size_t n_local = 0, n_self = 0;

	if (!d)
		return NULL;
	d->w = w;
	d->port = port;
	d->cb = cb;
	d->arg = arg;
	d->won_fd = -1;
	d->started_ns = stats_now_ns();
	d->deadline_ms = worker_now_ms(w) + timeout_ms;
	for (size_t i = 0; i < LIMIT_DNS_ADDRS; i++)
		d->attempts[i].fd = -1;
	d->timer = event_new(worker_get_base(w), -1, 0, dial_timer_cb, d);
	if (!d->timer) {
		free(d);
		return NULL;
	}
	for (size_t i = 0; i < n && d->n < LIMIT_DNS_ADDRS; i++) {
		/* Canonical already (policy_addrs_add); made sure of here,
		 * since what is dialed must be what the self-check saw. */
		struct policy_addr a = policy_addr_canonical(&addrs[i]);
		struct sockaddr_storage ss;

		if (public_only && policy_addr_class(&a)) {
			n_local++;
			continue;
		}
		(void)dial_sockaddr(&a, port, &ss);
		if (conf && proxy_conf_is_self(conf, (struct sockaddr *)&ss)) {
			n_self++;
			continue;
		}
		d->addrs[d->n++] = a;
	}
	d->n = eyeballs_order(d->addrs, d->n);
	if (d->n == 0) {
		dial_finish(d, -1,
		    n_local    ? -EACCES :
			n_self ? -ELOOP :
				 -EHOSTUNREACH);
		return d;
	}
	dial_schedule(d);
	return d;
}

struct dial *
dial_cancel(struct dial *d)
{
	if (!d)
		return NULL;
	for (size_t i = 0; i < LIMIT_DNS_ADDRS; i++)
		dial_attempt_close(&d->attempts[i]);
	if (d->timer)
		event_free(d->timer);
	free(d);
	return NULL;
}
