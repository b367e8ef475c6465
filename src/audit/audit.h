/* SPDX-License-Identifier: MIT */
/*
 * The audit runtime: where a proxy hands every final verdict.
 *
 * audit_submit() runs on proxy worker threads and never waits for I/O or
 * for an embedder's callback: it records blocked requests in the buffer,
 * copies the verdict's audit events and blocked records into a bounded
 * queue, and returns. One background thread turns them into JSON lines for
 * the sink and calls the blocked-request observer, in submission order.
 * When the queue is full, items are dropped and counted, never waited for;
 * the count is logged by the background thread and readable any time.
 *
 * Callbacks (the audit sink, the observer) run on that background thread,
 * one at a time. They may call audit_submit() but not audit_flush() or
 * audit_free().
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "audit/audit_event.h"
#include "audit/blocked.h"
#include "audit/otlp.h"
#include "paddock.h"
#include "policy/policy.h"

enum audit_sink {
	AUDIT_SINK_NONE,     /* no audit events (blocked records still kept) */
	AUDIT_SINK_STDERR,   /* one JSON object per line on fd 2 */
	AUDIT_SINK_FILE,     /* appended to path, created 0600 */
	AUDIT_SINK_CALLBACK, /* audit_fn(json, audit_userdata) */
	_AUDIT_SINK_MAX,
};

struct audit_settings {
	enum audit_sink sink;
	const char *path; /* AUDIT_SINK_FILE; copied */
	paddock_audit_fn audit_fn;
	void *audit_userdata;
	paddock_blocked_fn blocked_fn; /* optional observer */
	void *blocked_userdata;
	struct audit_meta meta; /* optional metadata; copied */
	size_t queue;           /* queue length; 0 means LIMIT_AUDIT_QUEUE */
	/* Optional OTLP exporter (audit/otlp.h) that gets a copy of every
	 * audit event, whatever the sink. Borrowed: it must outlive the
	 * audit runtime. */
	struct otlp *otlp;
};

/* The sink for `paddock proxy --audit ARG`: "-" is stderr, anything else
 * a file path (borrowed into s->path). Returns 0 or -EINVAL for "". */
int audit_sink_from_arg(const char *arg, struct audit_settings *s);

struct audit;

/*
 * Open the sink (a file is opened here, so a bad path fails at start-up)
 * and start the background thread. Returns 0 with *ret, -EINVAL (bad
 * settings, metadata that is not UTF-8 or too long), or another -errno.
 */
int audit_new(const struct audit_settings *s, struct audit **ret);

/* Deliver everything queued, stop the thread, close the sink. Accepts
 * NULL; returns NULL. Not from a callback. */
struct audit *audit_free(struct audit *a);

/*
 * Record a final verdict (v->next == POLICY_NEXT_DONE) for req, judged in
 * mode: its audit events go to the sink, and a verdict that is not an
 * allow goes to the blocked buffer and the observer. Any thread; never
 * blocks on I/O. req and v are borrowed for the call.
 */
void audit_submit(struct audit *a, const struct policy_request *req,
    const struct policy_verdict *v, enum policy_mode mode);

/* Wait until everything submitted before the call has been delivered.
 * Returns 0, or -EDEADLK on the background thread. */
int audit_flush(struct audit *a);

/* Replace the blocked-request observer (NULL: none). Records already
 * queued go to the observer current at delivery. Any thread. */
void audit_set_blocked_observer(struct audit *a, paddock_blocked_fn fn,
    void *userdata);

/* Items dropped because the queue was full, since audit_new(). */
uint64_t audit_get_dropped(struct audit *a);

/* The blocked-request buffer (borrowed; lives as long as a). */
struct blocked *audit_get_blocked(struct audit *a);
