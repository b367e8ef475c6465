/* SPDX-License-Identifier: MIT */
/*
 * The asynchronous judge loop. policy_judge() is pure and cheap, so it is
 * simply called again from scratch after every answer; this file only
 * fetches what it asks for.
 */
#include "proxy/judge.h"

#include <sys/socket.h>

#include <errno.h>
#include <string.h>

#include "proxy/decision.h"
#include "proxy/dns.h"
#include "proxy/proxy.h"
#include "proxy/session.h"
#include "proxy/stats.h"
#include "proxy/worker.h"
#include "util/strutil.h"

void
judge_init(struct judge *j, struct session *s, enum policy_protocol proto,
    const char *host, uint16_t port, const char *method)
{
	memset(j, 0, sizeof(*j));
	j->s = s;
	(void)strlcpy(j->host, host, sizeof(j->host));
	if (method)
		(void)strlcpy(j->method, method, sizeof(j->method));
	j->req = (struct policy_request){
		.protocol = proto,
		.host = j->host,
		.port = port,
		.method = method ? j->method : NULL,
		.client = s->client_text,
	};
	j->in = (struct policy_input){
		.request = &j->req,
		.has_decider = s->conf->has_decider,
	};
}

static void judge_continue(struct judge *j);

static void
judge_dns_cb(void *arg, int err, const struct policy_addr *addrs, size_t n)
{
	struct judge *j = arg;

	j->dns = NULL;
	if (err < 0)
		slog_debug(j->s, "lookup of %s failed: %d",
		    LOG_US(j->v.host.text), err);
	j->n_addrs = err < 0 ? 0 : n;
	if (j->n_addrs)
		memcpy(j->addrs, addrs, n * sizeof(*addrs));
	j->in.resolved = true;
	j->in.addrs = j->addrs;
	j->in.n_addrs = j->n_addrs;
	judge_continue(j);
}

static void
judge_answer(struct judge *j, const struct policy_answer *a)
{
	j->answer = *a;
	if (a->reason) {
		(void)strlcpy(j->answer_reason, a->reason,
		    sizeof(j->answer_reason));
		j->answer.reason = j->answer_reason;
	}
	j->in.answer = &j->answer;
}

static void
judge_decision_cb(void *arg, const struct policy_answer *a)
{
	struct judge *j = arg;

	j->decision = NULL;
	session_timer_clear(j->s);
	judge_answer(j, a);
	judge_continue(j);
}

void
judge_decider_timeout(struct judge *j)
{
	struct policy_answer a = { .decision = POLICY_DECISION_DENY,
		.timed_out = true };

	decision_detach(j->decision);
	j->decision = NULL;
	judge_answer(j, &a);
	judge_continue(j);
}

static enum judge_result
judge_ask(struct judge *j)
{
	struct session *s = j->s;
	struct proxy *p = worker_get_proxy(s->worker);

	j->decision =
	    decision_new(worker_get_base(s->worker), judge_decision_cb, j);
	if (!j->decision) {
		/* Without a handle there is no asking: a plain deny. */
		struct policy_answer a = { .decision = POLICY_DECISION_DENY };

		judge_answer(j, &a);
		return JUDGE_DONE;
	}
	j->asked_ms = worker_now_ms(s->worker);
	/* One timer measures every open question of a session (a UDP
	 * association asks about several destinations at once). Every ask
	 * waits equally long, so a deadline already running is the earliest
	 * and stays. */
	if (s->timer_kind != SESSION_TIMER_DECIDER)
		session_timer_set(s, SESSION_TIMER_DECIDER,
		    s->conf->limits.decider_timeout_ms);
	/* The queue owns the decider's reference from here on. */
	(void)proxy_ask_decider(p, &j->req, j->decision);
	return JUDGE_PENDING;
}

/* One turn of the loop: judge, then fetch what is missing. */
static enum judge_result
judge_step(struct judge *j)
{
	struct session *s = j->s;

	for (;;) {
		policy_judge(s->conf->policy, &j->in, &j->v);
		switch (j->v.next) {
		case POLICY_NEXT_RESOLVE:
			j->dns = dns_resolve(s->worker, j->v.host.text,
			    s->conf->limits.dns_timeout_ms, judge_dns_cb, j);
			if (j->dns)
				return JUDGE_PENDING;
			/* No memory for a lookup: fail closed. */
			j->in.resolved = true;
			continue;
		case POLICY_NEXT_ASK_DECIDER:
			if (judge_ask(j) == JUDGE_PENDING)
				return JUDGE_PENDING;
			continue;
		case POLICY_NEXT_DONE:
		default:
			if (!j->reported) {
				j->reported = true;
				stats_count_verdict(worker_get_stats(s->worker),
				    &j->req, &j->v);
				proxy_report(worker_get_proxy(s->worker),
				    s->conf, &j->req, &j->v);
			}
			return JUDGE_DONE;
		}
	}
}

static void
judge_continue(struct judge *j)
{
	if (judge_step(j) == JUDGE_DONE)
		j->done(j->done_arg, j);
}

enum judge_result
judge_run(struct judge *j, judge_fn done, void *arg)
{
	j->done = done;
	j->done_arg = arg;
	return judge_step(j);
}

static void
judge_addrs_cb(void *arg, int err, const struct policy_addr *addrs, size_t n)
{
	struct judge *j = arg;

	j->dns = NULL;
	j->err = err;
	j->n_addrs = err < 0 ? 0 : n;
	if (j->n_addrs)
		memcpy(j->addrs, addrs, n * sizeof(*addrs));
	j->done(j->done_arg, j);
}

enum judge_result
judge_addrs(struct judge *j, judge_fn done, void *arg)
{
	const struct policy_host *h = &j->v.host;

	j->err = 0;
	j->done = done;
	j->done_arg = arg;
	if (j->in.resolved && j->n_addrs > 0)
		return JUDGE_DONE;
	if (h->kind != POLICY_HOST_NAME) {
		j->addrs[0] = policy_host_addr(h);
		j->n_addrs = 1;
		return JUDGE_DONE;
	}
	if (policy_host_is_localhost(h)) {
		/* RFC 6761 §6.3: loopback, whatever a resolver or
		 * /etc/hosts would say. */
		static const uint8_t v6_loopback[16] = { [15] = 1 };

		j->addrs[0] = (struct policy_addr){ .family = AF_INET6 };
		memcpy(j->addrs[0].bytes, v6_loopback, sizeof(v6_loopback));
		j->addrs[1] = (struct policy_addr){ .family = AF_INET,
			.bytes = { 127, 0, 0, 1 } };
		j->n_addrs = 2;
		return JUDGE_DONE;
	}
	j->dns = dns_resolve(j->s->worker, h->text,
	    j->s->conf->limits.dns_timeout_ms, judge_addrs_cb, j);
	if (!j->dns) {
		j->err = -ENOMEM;
		return JUDGE_DONE;
	}
	return JUDGE_PENDING;
}

void
judge_cancel(struct judge *j)
{
	j->dns = dns_cancel(j->dns);
	decision_detach(j->decision);
	j->decision = NULL;
}
