/* SPDX-License-Identifier: MIT */
/*
 * evdns_getaddrinfo() behind a deadline. A lookup owns itself: it is freed
 * when evdns has called back, whether the caller still wants the answer
 * (delivered) or cancelled it (dropped). evdns may call back from inside
 * evdns_getaddrinfo() (then it returns NULL) and delivers a cancel later
 * with EVUTIL_EAI_CANCEL; both are handled here.
 */
#include "proxy/dns.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "policy/policy.h"
#include "proxy/stats.h"
#include "proxy/worker.h"
#include "util/limits.h"

struct dns_lookup {
	struct evdns_getaddrinfo_request *req; /* NULL once evdns answered */
	struct event *timer; /* deadline, then the delivery of the answer */
	dns_fn cb;
	void *arg;
	struct stats *stats; /* the worker's, for the lookup-time histogram */
	uint64_t started_ns;
	bool cancelled; /* the caller lost interest */
	bool answered;  /* evdns called back */
	bool delivered; /* cb ran (or never will) */
	int err;
	struct policy_addr addrs[LIMIT_DNS_ADDRS];
	size_t n;
};

static void
dns_lookup_free(struct dns_lookup *l)
{
	if (l->timer)
		event_free(l->timer);
	free(l);
}

static int
dns_map_error(int eai)
{
	switch (eai) {
	case EVUTIL_EAI_NONAME:
	case EVUTIL_EAI_NODATA:
	case EVUTIL_EAI_ADDRFAMILY:
		return -ENXIO;
	case EVUTIL_EAI_MEMORY:
		return -ENOMEM;
	default:
		return -EREMOTEIO;
	}
}

static void
dns_collect(struct dns_lookup *l, const struct evutil_addrinfo *ai)
{
	l->n = policy_addrs_add(l->addrs, l->n, LIMIT_DNS_ADDRS, ai);
}

static void
dns_deliver(struct dns_lookup *l)
{
	l->delivered = true;
	stats_observe(l->stats, STATS_HIST_DNS, stats_now_ns() - l->started_ns);
	l->cb(l->arg, l->err, l->addrs, l->n);
}

/* The deadline passed, or (after an immediate answer) delivery time. */
static void
dns_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_lookup *l = arg;

	(void)fd;
	(void)what;
	if (l->delivered)
		return;
	if (!l->answered) {
		/* Give up: the caller hears -ETIME now. evdns's cancel
		 * notification frees the lookup, perhaps at once. */
		l->err = -ETIME;
		l->n = 0;
		dns_deliver(l);
		l->cancelled = true;
		evdns_getaddrinfo_cancel(l->req);
		return;
	}
	dns_deliver(l);
	dns_lookup_free(l);
}

static void
dns_answer_cb(int eai, struct evutil_addrinfo *ai, void *arg)
{
	struct dns_lookup *l = arg;

	l->req = NULL;
	l->answered = true;
	if (eai == 0) {
		dns_collect(l, ai);
		l->err = l->n > 0 ? 0 : -ENXIO;
	} else {
		l->err = dns_map_error(eai);
	}
	if (ai)
		evutil_freeaddrinfo(ai);
	if (l->cancelled) {
		dns_lookup_free(l);
		return;
	}
	/* Deliver from the loop, never from inside dns_resolve(). */
	event_active(l->timer, EV_TIMEOUT, 0);
}

struct dns_lookup *
dns_resolve(struct worker *w, const char *name, uint64_t timeout_ms, dns_fn cb,
    void *arg)
{
	struct evutil_addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_protocol = IPPROTO_TCP,
	};
	struct dns_lookup *l = calloc(1, sizeof(*l));
	struct evdns_getaddrinfo_request *req;

	if (!l)
		return NULL;
	l->cb = cb;
	l->arg = arg;
	l->stats = worker_get_stats(w);
	l->started_ns = stats_now_ns();
	l->timer = event_new(worker_get_base(w), -1, 0, dns_timer_cb, l);
	if (!l->timer || worker_arm(l->timer, timeout_ms) < 0) {
		dns_lookup_free(l);
		return NULL;
	}
	req = evdns_getaddrinfo(worker_get_dns(w), name, NULL, &hints,
	    dns_answer_cb, l);
	/* NULL: it already answered (and activated the timer). */
	if (!l->answered && !req) {
		l->answered = true;
		l->err = -EREMOTEIO;
		event_active(l->timer, EV_TIMEOUT, 0);
	} else if (!l->answered) {
		l->req = req;
	}
	return l;
}

struct dns_lookup *
dns_cancel(struct dns_lookup *l)
{
	if (!l || l->delivered)
		return NULL;
	if (l->answered) {
		/* The answer is in, waiting to be delivered: drop it. */
		dns_lookup_free(l);
		return NULL;
	}
	l->cancelled = true;
	l->delivered = true;
	(void)event_del(l->timer);
	evdns_getaddrinfo_cancel(l->req);
	return NULL;
}
