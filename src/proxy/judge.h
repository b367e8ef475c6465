/* SPDX-License-Identifier: MIT */
/*
 * The judge loop of policy.h, asynchronously: judge what is known, resolve
 * the name when the policy asks (once, with the DNS deadline, failing
 * closed), ask the embedder's decider when it asks (on the decider thread,
 * with the decider deadline), judge again, until the verdict is final.
 * The final verdict is reported (audit events, blocked record) exactly
 * once.
 *
 * For an allowed request the judge then provides the addresses to dial:
 * the ones it judged, the IP literal itself, loopback for localhost and
 * names under it (never a lookup, RFC 6761 §6.3), or (only when the
 * policy had no reason to look, e.g. allow_local_binding) a fresh lookup.
 * Whatever produced them, the dial checks them against the verdict's
 * class (v.public_only) once more at connect time.
 *
 * A judge belongs to one session and one request; the session's timer
 * measures the decider deadline (SESSION_TIMER_DECIDER). The judge owns
 * the lookup and the decider handle it stores: nothing else sets or
 * cancels them. Its callback receives the caller's own argument and the
 * judge, so a front end with several judges at once (SOCKS5 UDP, one per
 * destination) knows which one finished.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"
#include "util/limits.h"

struct dns_lookup;
struct judge;
struct paddock_decision;
struct session;

#define JUDGE_HOST_MAX 320

enum judge_result {
	JUDGE_DONE,    /* the result is there now; no callback follows */
	JUDGE_PENDING, /* the callback follows on the loop */
};

/* The judge j finished after JUDGE_PENDING; arg is the caller's. */
typedef void (*judge_fn)(void *arg, struct judge *j);

/* Embeddable layout: the front end reads the verdict and addresses. */
struct judge {
	struct session *s;
	struct policy_request req;
	char host[JUDGE_HOST_MAX];
	char method[32];
	struct policy_input in;
	struct policy_verdict v;
	struct policy_addr addrs[LIMIT_DNS_ADDRS];
	size_t n_addrs;
	struct policy_answer answer;
	char answer_reason[128];
	struct dns_lookup *dns;            /* owned; NULL when idle */
	struct paddock_decision *decision; /* owned; NULL when idle */
	judge_fn done;
	void *done_arg;
	int err;           /* judge_addrs(): the lookup's error */
	uint64_t asked_ms; /* when the decider was asked (its deadline runs
			    * from here; SOCKS5 UDP has several at once) */
	bool reported;
};

/* Prepare j for one request of s. host is as the client sent it; method
 * may be NULL. Strings are copied. */
void judge_init(struct judge *j, struct session *s, enum policy_protocol proto,
    const char *host, uint16_t port, const char *method);

/* Run the loop. JUDGE_DONE: j->v is final (done is not called).
 * JUDGE_PENDING: done(arg, j) runs later on the loop, once, unless
 * judge_cancel() comes first. */
enum judge_result judge_run(struct judge *j, judge_fn done, void *arg);

/* The decider deadline passed (from the front end's timeout handler).
 * The judge finishes: its done(arg, j) runs before this returns. */
void judge_decider_timeout(struct judge *j);

/* After an allow: make j->addrs/j->n_addrs the addresses to dial. Returns
 * JUDGE_DONE (then j->err says whether it worked) or JUDGE_PENDING (then
 * done(arg, j) follows, with j->err set). */
enum judge_result judge_addrs(struct judge *j, judge_fn done, void *arg);

/* Stop everything in flight (no callback follows). */
void judge_cancel(struct judge *j);

/* True when the final verdict lets the request through. */
static inline bool
judge_allowed(const struct judge *j)
{
	return j->v.decision == POLICY_DECISION_ALLOW;
}
