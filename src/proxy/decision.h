/* SPDX-License-Identifier: MIT */
/*
 * The decider's completion handle (struct paddock_decision in the public
 * API). Reference-counted: one reference belongs to whoever must complete
 * it (the decider, or the queue on its way there), one to the waiting
 * session. Completing it from any thread stores the answer and wakes the
 * session's own loop through an event; the session detaches when it no
 * longer waits (answered, timed out, or closed). A late completion is
 * stored nowhere and only frees the handle, which needs nothing from the
 * proxy, so a handle may outlive the proxy that made it.
 */
#pragma once

#include <stdbool.h>

struct event_base;
struct policy_answer;

/* The public handle type (include/paddock.h) is defined here. */
struct paddock_decision;

typedef void (*decision_fn)(void *arg, const struct policy_answer *answer);

/* A handle whose answer is delivered to cb(arg, ...) on base's loop.
 * Returns NULL on allocation failure. */
struct paddock_decision *decision_new(struct event_base *base, decision_fn cb,
    void *arg);

/* The waiting side gives up: cb will not run. Drops that reference. */
void decision_detach(struct paddock_decision *d);

/* Complete (any thread): decision is POLICY_DECISION_*, reason is copied.
 * A second completion is ignored. Drops the completer's reference. */
void decision_complete(struct paddock_decision *d, int decision,
    const char *reason);
