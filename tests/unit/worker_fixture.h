/* SPDX-License-Identifier: MIT */
/*
 * A worker for front-end tests over socketpair() (STYLE.md §11): built
 * on a real event_base, its thread never started; the test drives the
 * loop. Shared by test_proxy_session.c and test_socks5.c.
 */
#pragma once

#include <stddef.h>

#include "paddock.h"
#include "policy/policy.h"
#include "proxy/proxy.h"

struct worker_fixture {
	struct policy *policy;
	struct proxy *proxy;
	struct worker *w;
	struct event_base *base;
};

/*
 * A proxy from s (its policy compiled from the rules, allow_local_binding
 * on) with decider installed when not NULL, and one worker without
 * listeners. Fails the test on any error.
 */
struct worker_fixture *worker_fixture_new(const struct policy_rule_spec *rules,
    size_t n_rules, struct proxy_settings *s, paddock_decider_fn decider);

struct session;

/* Run the loop until s is closed; fails the test when that takes more than
 * about five seconds. */
void worker_fixture_run_until_closed(struct worker_fixture *f,
    struct session *s);

/* Let the reaper free what was closed, then free everything. */
void worker_fixture_free(struct worker_fixture *f);
