/* SPDX-License-Identifier: MIT */
/*
 * Decider completion handles. The mutex orders completion (any thread)
 * against detaching (the session's thread): an event is activated only
 * while a session is attached, and a detached handle's event is gone.
 */
#include "proxy/decision.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "paddock.h"
#include "policy/policy.h"
#include "util/strutil.h"

struct paddock_decision {
	pthread_mutex_t lock;
	atomic_uint refs;
	bool attached;  /* a session still waits for the answer */
	bool completed; /* an answer was stored */
	struct event *ev;
	decision_fn cb;
	void *arg;
	int decision;
	char reason[128];
};

static void
decision_unref(struct paddock_decision *d)
{
	if (atomic_fetch_sub(&d->refs, 1) != 1)
		return;
	(void)pthread_mutex_destroy(&d->lock);
	free(d);
}

static void
decision_ready_cb(evutil_socket_t fd, short what, void *arg)
{
	struct paddock_decision *d = arg;
	struct policy_answer answer = { 0 };
	char reason[sizeof(d->reason)];

	(void)fd;
	(void)what;
	(void)pthread_mutex_lock(&d->lock);
	if (!d->attached) {
		(void)pthread_mutex_unlock(&d->lock);
		return;
	}
	d->attached = false;
	answer.decision = (enum policy_decision)d->decision;
	memcpy(reason, d->reason, sizeof(reason));
	(void)pthread_mutex_unlock(&d->lock);
	answer.reason = reason;
	event_free(d->ev);
	d->ev = NULL;
	d->cb(d->arg, &answer);
	decision_unref(d);
}

struct paddock_decision *
decision_new(struct event_base *base, decision_fn cb, void *arg)
{
	struct paddock_decision *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	if (pthread_mutex_init(&d->lock, NULL) != 0) {
		free(d);
		return NULL;
	}
	atomic_init(&d->refs, 2);
	d->attached = true;
	d->cb = cb;
	d->arg = arg;
	d->ev = event_new(base, -1, 0, decision_ready_cb, d);
	if (!d->ev) {
		(void)pthread_mutex_destroy(&d->lock);
		free(d);
		return NULL;
	}
	return d;
}

void
decision_detach(struct paddock_decision *d)
{
	bool was;

	if (!d)
		return;
	(void)pthread_mutex_lock(&d->lock);
	was = d->attached;
	d->attached = false;
	(void)pthread_mutex_unlock(&d->lock);
	if (!was)
		return;
	event_free(d->ev);
	d->ev = NULL;
	decision_unref(d);
}

void
decision_complete(struct paddock_decision *d, int decision, const char *reason)
{
	if (!d)
		return;
	(void)pthread_mutex_lock(&d->lock);
	if (!d->completed) {
		d->completed = true;
		d->decision = decision;
		(void)strlcpy(d->reason, reason ? reason : "",
		    sizeof(d->reason));
		if (d->attached)
			event_active(d->ev, EV_TIMEOUT, 0);
	}
	(void)pthread_mutex_unlock(&d->lock);
	decision_unref(d);
}
