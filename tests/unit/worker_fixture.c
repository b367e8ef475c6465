/* SPDX-License-Identifier: MIT */
#include "worker_fixture.h"

#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <event2/event.h>

#include "proxy/session.h"
#include "proxy/worker.h"

struct worker_fixture *
worker_fixture_new(const struct policy_rule_spec *rules, size_t n_rules,
    struct proxy_settings *s, paddock_decider_fn decider)
{
	struct policy_settings ps = { .enabled = true,
		.allow_local_binding = true,
		.rules = rules,
		.n_rules = n_rules };
	const int fds[_PROXY_FRONTEND_MAX] = { -1, -1 };
	struct worker_fixture *f = calloc(1, sizeof(*f));
	struct policy_error err;
	struct proxy_conf *c;

	assert_non_null(f);
	assert_int_equal(policy_new(&ps, &f->policy, &err), 0);
	s->policy = f->policy;
	assert_int_equal(proxy_new(s, &f->proxy, NULL, 0), 0);
	if (decider)
		proxy_set_decider(f->proxy, decider, NULL);
	c = proxy_get_conf(f->proxy);
	f->w = worker_new(f->proxy, 0, fds, c);
	proxy_conf_unref(c);
	assert_non_null(f->w);
	f->base = worker_get_base(f->w);
	return f;
}

void
worker_fixture_run_until_closed(struct worker_fixture *f, struct session *s)
{
	for (int i = 0; i < 5000 && !session_is_closed(s); i++) {
		(void)event_base_loop(f->base, EVLOOP_NONBLOCK);
		if (!session_is_closed(s))
			(void)poll(NULL, 0, 1);
	}
	assert_true(session_is_closed(s));
}

void
worker_fixture_free(struct worker_fixture *f)
{
	for (int i = 0; i < 5; i++)
		(void)event_base_loop(f->base, EVLOOP_NONBLOCK);
	worker_free(f->w);
	proxy_free(f->proxy);
	policy_unref(f->policy);
	free(f);
}
