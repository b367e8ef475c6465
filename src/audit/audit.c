/* SPDX-License-Identifier: MIT */
/*
 * The audit runtime: a bounded ring of captured items and one background
 * thread that delivers them in order.
 *
 * Invariants (under a->lock): the n queued items start at ring[head];
 * submitted counts items ever queued and delivered those handed to the
 * sink or observer, so audit_flush() waits for delivered to reach the
 * submitted count it saw. The sink fields are written before the thread
 * starts and never change, so the thread reads them without the lock.
 *
 * This thread turns events into JSON and calls the embedder's callbacks;
 * it writes no bytes itself: JSON lines go to the line writer (a file
 * sink) or the process log (stderr, which a running proxy routes through
 * its own line writer), so a slow disk delays neither it nor a worker.
 */
#include "audit/audit.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/linewriter.h"
#include "util/log.h"

enum audit_item_kind {
	AUDIT_ITEM_EVENT,
	AUDIT_ITEM_BLOCKED,
};

struct audit_item {
	enum audit_item_kind kind;

	union {
		struct audit_event event;
		struct blocked_record blocked;
	};
};

struct audit {
	/* Fixed once the thread runs. */
	enum audit_sink sink;
	int fd;
	struct linewriter *out; /* AUDIT_SINK_FILE */
	paddock_audit_fn audit_fn;
	void *audit_userdata;
	struct audit_event_meta meta;
	struct blocked *blocked;
	struct otlp *otlp; /* borrowed */
	pthread_t thread;
	bool thread_started;
	struct audit_item delivering; /* the thread's own */

	pthread_mutex_t lock;
	pthread_cond_t work; /* an item is queued, or stopping */
	pthread_cond_t idle; /* delivered moved */
	struct audit_item *ring;
	size_t cap, head, n;
	uint64_t submitted, delivered;
	uint64_t dropped, dropped_logged;
	paddock_blocked_fn blocked_fn;
	void *blocked_userdata;
	bool stopping;
};

int
audit_sink_from_arg(const char *arg, struct audit_settings *s)
{
	if (!arg || !arg[0])
		return -EINVAL;
	if (strcmp(arg, "-") == 0) {
		s->sink = AUDIT_SINK_STDERR;
		s->path = NULL;
	} else {
		s->sink = AUDIT_SINK_FILE;
		s->path = arg;
	}
	return 0;
}

static void
audit_write_line(struct audit *a, const char *json)
{
	if (a->out)
		(void)linewriter_push(a->out, json, strlen(json));
	else
		log_write_line(json, strlen(json));
}

static void
audit_deliver(struct audit *a, const struct audit_item *item,
    paddock_blocked_fn fn, void *userdata)
{
	struct paddock_blocked view;
	char *json;

	if (item->kind == AUDIT_ITEM_EVENT) {
		json = audit_event_json(&item->event, &a->meta.meta);
		if (!json) {
			log_warn("audit: out of memory, an event is lost");
			return;
		}
		if (a->sink == AUDIT_SINK_CALLBACK)
			a->audit_fn(json, a->audit_userdata);
		else
			audit_write_line(a, json);
		free(json);
		return;
	}
	if (log_get_level() >= LOG_LEVEL_DEBUG) {
		json = blocked_record_json(&item->blocked);
		log_debug("blocked request: %s", json ? json : "(no memory)");
		free(json);
	}
	if (fn) {
		blocked_record_view(&item->blocked, &view);
		fn(&view, userdata);
	}
}

static void *
audit_thread(void *arg)
{
	struct audit *a = arg;

	for (;;) {
		paddock_blocked_fn fn;
		void *userdata;
		uint64_t dropped;

		(void)pthread_mutex_lock(&a->lock);
		while (a->n == 0 && !a->stopping)
			(void)pthread_cond_wait(&a->work, &a->lock);
		if (a->n == 0) {
			(void)pthread_mutex_unlock(&a->lock);
			return NULL;
		}
		a->delivering = a->ring[a->head];
		a->head = (a->head + 1) % a->cap;
		a->n--;
		fn = a->blocked_fn;
		userdata = a->blocked_userdata;
		dropped = a->dropped - a->dropped_logged;
		a->dropped_logged = a->dropped;
		(void)pthread_mutex_unlock(&a->lock);

		if (dropped > 0)
			log_warn("audit: queue full, %" PRIu64
				 " records dropped",
			    dropped);
		audit_deliver(a, &a->delivering, fn, userdata);

		(void)pthread_mutex_lock(&a->lock);
		a->delivered++;
		(void)pthread_cond_broadcast(&a->idle);
		(void)pthread_mutex_unlock(&a->lock);
	}
}

/* Queue a copy of item. A blocked record is queued only when someone will
 * look at it (an observer, or debug logging). Never waits for room. */
static void
audit_enqueue(struct audit *a, const struct audit_item *item)
{
	(void)pthread_mutex_lock(&a->lock);
	if (item->kind == AUDIT_ITEM_BLOCKED && !a->blocked_fn &&
	    log_get_level() < LOG_LEVEL_DEBUG) {
		(void)pthread_mutex_unlock(&a->lock);
		return;
	}
	if (a->n == a->cap) {
		if (a->dropped < UINT64_MAX)
			a->dropped++;
	} else {
		a->ring[(a->head + a->n) % a->cap] = *item;
		a->n++;
		a->submitted++;
		(void)pthread_cond_signal(&a->work);
	}
	(void)pthread_mutex_unlock(&a->lock);
}

void
audit_submit(struct audit *a, const struct policy_request *req,
    const struct policy_verdict *v, enum policy_mode mode)
{
	struct audit_item item;
	struct timespec now;
	int64_t ms;

	/* A verdict that still waits for a lookup or a decider is not a
	 * decision: nothing to record. */
	if (v->next != POLICY_NEXT_DONE)
		return;
	(void)clock_gettime(CLOCK_REALTIME, &now);
	ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	if (a->sink != AUDIT_SINK_NONE || a->otlp) {
		for (size_t i = 0; i < v->n_events; i++) {
			item.kind = AUDIT_ITEM_EVENT;
			audit_event_init(&item.event, req, v, i, ms);
			/* The exporter has its own ring: it never waits
			 * behind the JSON lines, nor they behind it. */
			if (a->otlp)
				otlp_push(a->otlp, &item.event);
			if (a->sink != AUDIT_SINK_NONE)
				audit_enqueue(a, &item);
		}
	}
	if (v->decision == POLICY_DECISION_ALLOW)
		return;
	item.kind = AUDIT_ITEM_BLOCKED;
	blocked_record_init(&item.blocked, req, v, mode, now.tv_sec);
	blocked_push(a->blocked, &item.blocked);
	audit_enqueue(a, &item);
}

int
audit_flush(struct audit *a)
{
	uint64_t target;

	if (a->thread_started && pthread_equal(pthread_self(), a->thread))
		return -EDEADLK;
	(void)pthread_mutex_lock(&a->lock);
	target = a->submitted;
	while (a->delivered < target)
		(void)pthread_cond_wait(&a->idle, &a->lock);
	(void)pthread_mutex_unlock(&a->lock);
	/* Delivered lines are queued for writing: wait for those too. */
	if (a->out)
		return linewriter_flush(a->out);
	if (a->sink == AUDIT_SINK_STDERR)
		log_flush();
	return 0;
}

void
audit_set_blocked_observer(struct audit *a, paddock_blocked_fn fn,
    void *userdata)
{
	(void)pthread_mutex_lock(&a->lock);
	a->blocked_fn = fn;
	a->blocked_userdata = userdata;
	(void)pthread_mutex_unlock(&a->lock);
}

uint64_t
audit_get_dropped(struct audit *a)
{
	uint64_t d;

	(void)pthread_mutex_lock(&a->lock);
	d = a->dropped;
	(void)pthread_mutex_unlock(&a->lock);
	return d;
}

struct blocked *
audit_get_blocked(struct audit *a)
{
	return a->blocked;
}

static int
audit_check(const struct audit_settings *s)
{
	if ((unsigned)s->sink >= _AUDIT_SINK_MAX)
		return -EINVAL;
	if (s->sink == AUDIT_SINK_FILE && (!s->path || !s->path[0]))
		return -EINVAL;
	if (s->sink == AUDIT_SINK_CALLBACK && !s->audit_fn)
		return -EINVAL;
	if (s->queue > LIMIT_AUDIT_QUEUE)
		return -EINVAL;
	return 0;
}

/* The background thread takes no process signals: they belong to the
 * proxy's event loop. */
static int
audit_start(struct audit *a)
{
	sigset_t all, old;
	int r;

	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&a->thread, NULL, audit_thread, a);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return -r;
	a->thread_started = true;
	return 0;
}

int
audit_new(const struct audit_settings *s, struct audit **ret)
{
	struct audit *a;
	int r;

	r = audit_check(s);
	if (r < 0)
		return r;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->fd = -1;
	if (pthread_mutex_init(&a->lock, NULL) != 0) {
		free(a);
		return -ENOMEM;
	}
	if (pthread_cond_init(&a->work, NULL) != 0 ||
	    pthread_cond_init(&a->idle, NULL) != 0) {
		/* XXX: a failed cond init on Linux means no memory; the one
		 * that may have succeeded holds nothing to release. */
		(void)pthread_mutex_destroy(&a->lock);
		free(a);
		return -ENOMEM;
	}
	a->sink = s->sink;
	a->otlp = s->otlp;
	a->audit_fn = s->audit_fn;
	a->audit_userdata = s->audit_userdata;
	a->blocked_fn = s->blocked_fn;
	a->blocked_userdata = s->blocked_userdata;
	a->cap = s->queue ? s->queue : LIMIT_AUDIT_QUEUE;

	r = audit_event_meta_set(&a->meta, &s->meta);
	if (r < 0)
		goto fail;
	r = -ENOMEM;
	a->ring = calloc(a->cap, sizeof(*a->ring));
	a->blocked = blocked_new();
	if (!a->ring || !a->blocked)
		goto fail;
	if (s->sink == AUDIT_SINK_FILE) {
		a->fd = open(s->path,
		    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
		if (a->fd < 0) {
			r = -errno;
			goto fail;
		}
		r = linewriter_new(&(struct linewriter_settings){ .fd = a->fd,
				       .what = "audit" },
		    &a->out);
		if (r < 0)
			goto fail;
	}
	r = audit_start(a);
	if (r < 0)
		goto fail;
	*ret = a;
	return 0;
fail:
	audit_free(a);
	return r;
}

struct audit *
audit_free(struct audit *a)
{
	if (!a)
		return NULL;
	if (a->thread_started) {
		assert(!pthread_equal(pthread_self(), a->thread));
		(void)pthread_mutex_lock(&a->lock);
		a->stopping = true;
		(void)pthread_cond_signal(&a->work);
		(void)pthread_mutex_unlock(&a->lock);
		(void)pthread_join(a->thread, NULL);
	}
	if (a->dropped > a->dropped_logged)
		log_warn("audit: queue full, %" PRIu64 " records dropped",
		    a->dropped - a->dropped_logged);
	a->out = linewriter_free(a->out); /* writes what is queued */
	if (a->fd >= 0)
		(void)close(a->fd);
	audit_event_meta_done(&a->meta);
	free(a->ring);
	a->blocked = blocked_free(a->blocked);
	(void)pthread_cond_destroy(&a->work);
	(void)pthread_cond_destroy(&a->idle);
	(void)pthread_mutex_destroy(&a->lock);
	free(a);
	return NULL;
}
