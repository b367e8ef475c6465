/* SPDX-License-Identifier: MIT */
/*
 * The reporting thread. Workers copy what a report needs into an item
 * (no formatting on the hot path beyond that) and move on; the thread
 * formats and delivers in order.
 */
#include "proxy/report.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "policy/policy.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/strutil.h"

enum report_kind {
	REPORT_VERDICT,
	REPORT_ACCESS,
	_REPORT_KIND_MAX,
};

struct report_item {
	struct report_item *next;
	enum report_kind kind;
	char *line; /* REPORT_ACCESS */
	/* REPORT_VERDICT */
	int64_t ts_ms;
	enum policy_protocol protocol;
	enum policy_mode mode;
	char host[POLICY_HOST_TEXT_MAX];
	uint16_t port;
	char method[32];
	char client[64];
	bool has_method;
	bool has_client;

	struct policy_verdict_summary {
		enum policy_decision decision;
		enum policy_reason reason;
		enum policy_source source;
		char reason_text[64];
		struct policy_event events[POLICY_VERDICT_EVENTS];
		size_t n_events;
	} v;
};

struct report {
	paddock_audit_fn audit;
	void *audit_ud;
	paddock_blocked_fn blocked;
	void *blocked_ud;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct report_item *head, *tail;
	unsigned len;
	bool quit;
	atomic_uint_fast64_t dropped;
};

static int64_t
report_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
report_push(struct report *r, struct report_item *it)
{
	(void)pthread_mutex_lock(&r->lock);
	if (r->len >= LIMIT_REPORT_QUEUE) {
		(void)pthread_mutex_unlock(&r->lock);
		atomic_fetch_add(&r->dropped, 1);
		free(it->line);
		free(it);
		return;
	}
	if (r->tail)
		r->tail->next = it;
	else
		r->head = it;
	r->tail = it;
	r->len++;
	(void)pthread_cond_signal(&r->cond);
	(void)pthread_mutex_unlock(&r->lock);
}

void
report_access_log(struct report *r, char *line)
{
	struct report_item *it;

	if (!r || log_get_level() < LOG_LEVEL_INFO) {
		free(line);
		return;
	}
	it = calloc(1, sizeof(*it));
	if (!it) {
		free(line);
		return;
	}
	it->kind = REPORT_ACCESS;
	it->line = line;
	report_push(r, it);
}

void
report_verdict(struct report *r, const struct policy *p,
    const struct policy_request *req, const struct policy_verdict *v)
{
	struct report_item *it;
	bool blocked = v->decision != POLICY_DECISION_ALLOW;

	if (!r || (!r->audit && !blocked))
		return;
	it = calloc(1, sizeof(*it));
	if (!it) {
		atomic_fetch_add(&r->dropped, 1);
		return;
	}
	it->kind = REPORT_VERDICT;
	it->ts_ms = report_now_ms();
	it->protocol = req->protocol;
	it->mode = policy_get_mode(p);
	(void)strlcpy(it->host, v->host_valid ? v->host.text : req->host,
	    sizeof(it->host));
	it->port = req->port;
	if (req->method) {
		it->has_method = true;
		(void)strlcpy(it->method, req->method, sizeof(it->method));
	}
	if (req->client) {
		it->has_client = true;
		(void)strlcpy(it->client, req->client, sizeof(it->client));
	}
	it->v.decision = v->decision;
	it->v.reason = v->reason;
	it->v.source = v->source;
	(void)strlcpy(it->v.reason_text, policy_verdict_reason(v, v->reason),
	    sizeof(it->v.reason_text));
	it->v.n_events = v->n_events;
	memcpy(it->v.events, v->events, sizeof(v->events));
	report_push(r, it);
}

/* RFC 3339, UTC, milliseconds: 2026-01-01T00:00:00.000Z. */
static void
report_timestamp(int64_t ms, char *out, size_t outsz)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	char base[32];

	(void)gmtime_r(&secs, &tm);
	(void)strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	(void)snprintf(out, outsz, "%s.%03dZ", base, (int)(ms % 1000));
}

static int
report_set(json_t *o, const char *key, json_t *v)
{
	if (!v)
		return -ENOMEM;
	return json_object_set_new(o, key, v);
}

/* spec network §9: one event per judgement step that decided. */
static char *
report_audit_json(const struct report_item *it, const struct policy_event *e)
{
	char ts[40];
	json_t *o = json_object();
	char *text = NULL;
	int r = o ? 0 : -ENOMEM;
	bool non_domain = e->scope == POLICY_SCOPE_NON_DOMAIN;
	const char *reason = e->reason == POLICY_REASON_CUSTOM ?
	    it->v.reason_text :
	    policy_reason_name(e->reason);

	report_timestamp(it->ts_ms, ts, sizeof(ts));
	if (r == 0)
		r = report_set(o, "event.name",
		    json_string("paddock.network_proxy.policy_decision"));
	if (r == 0)
		r = report_set(o, "event.timestamp", json_string(ts));
	if (r == 0)
		r = report_set(o, "network.policy.scope",
		    json_string(policy_scope_name(e->scope)));
	if (r == 0)
		r = report_set(o, "network.policy.decision",
		    json_string(policy_decision_name(e->decision)));
	if (r == 0)
		r = report_set(o, "network.policy.source",
		    json_string(policy_source_name(e->source)));
	if (r == 0)
		r = report_set(o, "network.policy.reason", json_string(reason));
	if (r == 0)
		r = report_set(o, "network.transport.protocol",
		    json_string(policy_protocol_name(it->protocol)));
	if (r == 0)
		r = report_set(o, "server.address", json_string(it->host));
	if (r == 0)
		r = report_set(o, "server.port",
		    json_integer(non_domain && streq(it->host, "unix-socket") ?
			    0 :
			    it->port));
	if (r == 0)
		r = report_set(o, "http.request.method",
		    json_string(it->has_method ? it->method : "none"));
	if (r == 0)
		r = report_set(o, "client.address",
		    json_string(it->has_client ? it->client : "unknown"));
	if (r == 0)
		r = report_set(o, "network.policy.override",
		    json_boolean(e->override));
	if (r == 0)
		text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

/* spec network §8.3: the blocked buffer's protocol labels. */
static const char *
report_blocked_protocol(const struct report_item *it)
{
	if (it->v.reason == POLICY_REASON_PROXY_DISABLED)
		return policy_protocol_name(it->protocol);
	switch (it->protocol) {
	case POLICY_PROTOCOL_HTTPS_CONNECT:
		return "http-connect";
	case POLICY_PROTOCOL_SOCKS5_TCP:
		return "socks5";
	case POLICY_PROTOCOL_SOCKS5_UDP:
		return "socks5-udp";
	case POLICY_PROTOCOL_HTTP:
	default:
		return "http";
	}
}

static void
report_deliver_verdict(struct report *r, const struct report_item *it)
{
	if (r->audit)
		for (size_t i = 0; i < it->v.n_events; i++) {
			char *json = report_audit_json(it, &it->v.events[i]);

			if (json)
				r->audit(json, r->audit_ud);
			free(json);
		}
	if (it->v.decision == POLICY_DECISION_ALLOW)
		return;
	struct paddock_blocked b = {
		.host = it->host,
		.reason = it->v.reason_text,
		.client = it->has_client ? it->client : NULL,
		.method = it->has_method ? it->method : NULL,
		.mode = policy_mode_name(it->mode),
		.protocol = report_blocked_protocol(it),
		.decision = policy_decision_name(it->v.decision),
		.source = policy_source_name(it->v.source),
		.port = it->port,
		.timestamp = it->ts_ms / 1000,
	};

	log_debug("blocked %s %s:%u from %s: %s", b.protocol, b.host,
	    (unsigned)it->port, b.client ? b.client : "unknown", b.reason);
	if (r->blocked)
		r->blocked(&b, r->blocked_ud);
}

static void
report_deliver(struct report *r, struct report_item *it)
{
	switch (it->kind) {
	case REPORT_ACCESS:
		log_info("access %s", it->line);
		break;
	case REPORT_VERDICT:
		report_deliver_verdict(r, it);
		break;
	default:
		break;
	}
}

static void *
report_main(void *arg)
{
	struct report *r = arg;

	(void)pthread_setname_np(pthread_self(), "paddock-report");
	(void)pthread_mutex_lock(&r->lock);
	for (;;) {
		struct report_item *batch;
		uint_fast64_t dropped;

		while (!r->head && !r->quit)
			(void)pthread_cond_wait(&r->cond, &r->lock);
		batch = r->head;
		r->head = r->tail = NULL;
		r->len = 0;
		if (!batch && r->quit)
			break;
		(void)pthread_mutex_unlock(&r->lock);
		while (batch) {
			struct report_item *next = batch->next;

			report_deliver(r, batch);
			free(batch->line);
			free(batch);
			batch = next;
		}
		dropped = atomic_exchange(&r->dropped, 0);
		if (dropped)
			log_warn("reporting fell behind: %" PRIuFAST64
				 " records dropped",
			    dropped);
		(void)pthread_mutex_lock(&r->lock);
	}
	(void)pthread_mutex_unlock(&r->lock);
	return NULL;
}

struct report *
report_new(paddock_audit_fn audit, void *audit_ud, paddock_blocked_fn blocked,
    void *blocked_ud)
{
	struct report *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->audit = audit;
	r->audit_ud = audit_ud;
	r->blocked = blocked;
	r->blocked_ud = blocked_ud;
	atomic_init(&r->dropped, 0);
	(void)pthread_mutex_init(&r->lock, NULL);
	(void)pthread_cond_init(&r->cond, NULL);
	if (pthread_create(&r->thread, NULL, report_main, r) != 0) {
		(void)pthread_cond_destroy(&r->cond);
		(void)pthread_mutex_destroy(&r->lock);
		free(r);
		return NULL;
	}
	return r;
}

struct report *
report_free(struct report *r)
{
	if (!r)
		return NULL;
	(void)pthread_mutex_lock(&r->lock);
	r->quit = true;
	(void)pthread_cond_signal(&r->cond);
	(void)pthread_mutex_unlock(&r->lock);
	(void)pthread_join(r->thread, NULL);
	(void)pthread_cond_destroy(&r->cond);
	(void)pthread_mutex_destroy(&r->lock);
	free(r);
	return NULL;
}
