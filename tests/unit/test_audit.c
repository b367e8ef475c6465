/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/audit: the audit event JSON, the blocked-request
 * buffer and the background delivery (order, flush, drops, file sink).
 * Nothing sleeps: a test that needs the writer busy holds it inside a
 * callback and lets it go through a condition variable.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "audit/audit.h"
#include "audit/audit_event.h"
#include "audit/blocked.h"
#include "audit/linewriter.h"
#include "audit/otlp.h"
#include "audit/otlp.pb-c.h"
#include "audit/otlp_encode.h"
#include "policy/policy.h"
#include "util/buf.h"
#include "util/compiler.h"
#include "util/log.h"
#include "util/strutil.h"

/* Judge one request against a small policy; returns a final verdict. */
static void
verdict_for(enum policy_protocol proto, const char *host, const char *method,
    bool limited, bool enabled, struct policy_verdict *v)
{
	struct policy_rule_spec rules[] = {
		{ .pattern = "allowed.example", .list = POLICY_LIST_ALLOW },
		{ .pattern = "denied.example", .list = POLICY_LIST_DENY },
	};
	struct policy_settings s = { .enabled = enabled,
		.mode = limited ? POLICY_MODE_LIMITED : POLICY_MODE_FULL,
		.allow_local_binding = true,
		.rules = rules,
		.n_rules = ELEMENTSOF(rules) };
	struct policy_request req = { .protocol = proto,
		.host = host,
		.port = 8443,
		.method = method,
		.client = "127.0.0.1:40000" };
	struct policy_input in = { .request = &req };
	struct policy_error err;
	struct policy *p;

	assert_int_equal(policy_new(&s, &p, &err), 0);
	policy_judge(p, &in, v);
	assert_int_equal(v->next, POLICY_NEXT_DONE);
	policy_unref(p);
}

static json_t *
parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (!j)
		fail_msg("not JSON (%s): %s", e.text, text);
	return j;
}

static const char *
jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("%s is not a string", key);
	return json_string_value(v);
}

/* ---- audit events ---- */

static const char *const event_keys[] = {
	"event.name",
	"event.timestamp",
	"network.policy.scope",
	"network.policy.decision",
	"network.policy.source",
	"network.policy.reason",
	"network.transport.protocol",
	"server.address",
	"server.port",
	"http.request.method",
	"client.address",
	"network.policy.override",
	"network.policy.message",
};

static void
test_audit_event_fields(void **state)
{
	struct policy_request req = { .protocol = POLICY_PROTOCOL_HTTP,
		.host = "Allowed.Example:8443",
		.port = 8443,
		.method = "POST",
		.client = "127.0.0.1:40000" };
	struct policy_verdict v;
	struct audit_event ev;
	json_t *j;
	char *text;

	(void)state;
	verdict_for(POLICY_PROTOCOL_HTTP, req.host, "POST", true, true, &v);
	assert_int_equal(v.n_events, 2);
	audit_event_init(&ev, &req, &v, 1, 1767225600123);
	text = audit_event_json(&ev, NULL);
	assert_non_null(text);
	assert_null(strchr(text, '\n'));
	j = parse(text);
	assert_int_equal(json_object_size(j), ELEMENTSOF(event_keys));
	for (size_t i = 0; i < ELEMENTSOF(event_keys); i++)
		if (!json_object_get(j, event_keys[i]))
			fail_msg("no %s in %s", event_keys[i], text);
	assert_string_equal(jstr(j, "event.name"),
	    "codex.network_proxy.policy_decision");
	assert_string_equal(jstr(j, "event.timestamp"),
	    "2026-01-01T00:00:00.123Z");
	assert_string_equal(jstr(j, "network.policy.scope"), "non_domain");
	assert_string_equal(jstr(j, "network.policy.decision"), "deny");
	assert_string_equal(jstr(j, "network.policy.source"), "mode_guard");
	assert_string_equal(jstr(j, "network.policy.reason"),
	    "method_not_allowed");
	assert_string_equal(jstr(j, "network.transport.protocol"), "http");
	assert_string_equal(jstr(j, "server.address"), "allowed.example");
	assert_int_equal(json_integer_value(json_object_get(j, "server.port")),
	    8443);
	assert_string_equal(jstr(j, "http.request.method"), "POST");
	assert_string_equal(jstr(j, "client.address"), "127.0.0.1:40000");
	assert_true(
	    json_is_false(json_object_get(j, "network.policy.override")));
	json_decref(j);
	free(text);

	/* the first event: the domain allow */
	audit_event_init(&ev, &req, &v, 0, 0);
	text = audit_event_json(&ev, NULL);
	j = parse(text);
	assert_string_equal(jstr(j, "network.policy.scope"), "domain");
	assert_string_equal(jstr(j, "network.policy.decision"), "allow");
	assert_string_equal(jstr(j, "network.policy.reason"), "allow");
	assert_string_equal(jstr(j, "network.policy.source"),
	    "baseline_policy");
	json_decref(j);
	free(text);
}

static void
test_audit_event_absent_fields_and_metadata(void **state)
{
	struct policy_request req = { .protocol = POLICY_PROTOCOL_SOCKS5_UDP,
		.host = "denied.example",
		.port = 53 };
	struct audit_meta meta = { .conversation_id = "c-123",
		.app_version = "1.2.3",
		.user_account_id = "acct-9",
		.execution_id = "0c6f9f8e-3a4e-4c55-9d3b-7f1e2a9b8c01" };
	struct audit_meta some = { .app_version = "1.2.3" };
	struct policy_verdict v;
	struct audit_event ev;
	json_t *j;
	char *text;

	(void)state;
	verdict_for(req.protocol, req.host, NULL, false, true, &v);
	audit_event_init(&ev, &req, &v, 0, 0);
	text = audit_event_json(&ev, &meta);
	j = parse(text);
	assert_int_equal(json_object_size(j), ELEMENTSOF(event_keys) + 4);
	assert_string_equal(jstr(j, "conversation.id"), "c-123");
	assert_string_equal(jstr(j, "execution.id"),
	    "0c6f9f8e-3a4e-4c55-9d3b-7f1e2a9b8c01");
	assert_string_equal(jstr(j, "app.version"), "1.2.3");
	assert_string_equal(jstr(j, "user.account_id"), "acct-9");
	assert_string_equal(jstr(j, "http.request.method"), "none");
	assert_string_equal(jstr(j, "client.address"), "unknown");
	assert_string_equal(jstr(j, "network.transport.protocol"),
	    "socks5_udp");
	assert_string_equal(jstr(j, "network.policy.reason"), "denied");
	assert_string_equal(jstr(j, "event.timestamp"),
	    "1970-01-01T00:00:00.000Z");
	json_decref(j);
	free(text);
	text = audit_event_json(&ev, &some);
	j = parse(text);
	assert_int_equal(json_object_size(j), ELEMENTSOF(event_keys) + 1);
	assert_null(json_object_get(j, "conversation.id"));
	assert_null(json_object_get(j, "execution.id"));
	json_decref(j);
	free(text);
}

static void
test_audit_event_timestamp_format(void **state)
{
	static const struct {
		int64_t ms;
		const char *text;
	} cases[] = {
		{ 0, "1970-01-01T00:00:00.000Z" },
		{ 1, "1970-01-01T00:00:00.001Z" },
		{ 999, "1970-01-01T00:00:00.999Z" },
		{ 1767225599999, "2025-12-31T23:59:59.999Z" },
		{ 1709164800000, "2024-02-29T00:00:00.000Z" },
		{ 4102444800000, "2100-01-01T00:00:00.000Z" },
	};

	char out[AUDIT_TIMESTAMP_BYTES];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		audit_event_timestamp(cases[i].ms, out);
		assert_string_equal(out, cases[i].text);
		assert_int_equal(strlen(out), 24);
	}
}

static void
test_audit_event_never_logs_a_path(void **state)
{
	static const char *const hosts[] = {
		"evil.example/secret?token=hunter2",
		"evil.example?token=hunter2",
		"evil.example#hunter2",
		"evil.example hunter2",
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(hosts); i++) {
		struct policy_request req = { .protocol = POLICY_PROTOCOL_HTTP,
			.host = hosts[i],
			.port = 80,
			.method = "GET\r\nX: hunter2",
			.client = "1.2.3.4:5\x01" };
		struct policy_verdict v;
		struct audit_event ev;
		struct blocked_record r;
		char *text;
		char *btext;

		verdict_for(req.protocol, req.host, req.method, false, true,
		    &v);
		assert_false(v.host_valid);
		audit_event_init(&ev, &req, &v, 0, 0);
		blocked_record_init(&r, &req, &v, POLICY_MODE_FULL, 0);
		text = audit_event_json(&ev, NULL);
		btext = blocked_record_json(&r);
		assert_non_null(text);
		assert_non_null(btext);
		assert_string_equal(ev.host, "evil.example");
		if (strstr(text, "secret") || strstr(btext, "secret") ||
		    strstr(text, "token") || strstr(btext, "token"))
			fail_msg("path leaked: %s / %s", text, btext);
		/* control bytes never reach a line */
		assert_string_equal(ev.method, "GET??X: hunter2");
		assert_string_equal(ev.client, "1.2.3.4:5?");
		free(text);
		free(btext);
	}
}

static void
test_audit_event_custom_reason_and_override(void **state)
{
	struct policy_rule_spec rule = { .pattern = "a.example",
		.list = POLICY_LIST_ALLOW };
	struct policy_settings s = { .enabled = true,
		.allow_local_binding = true,
		.rules = &rule,
		.n_rules = 1 };
	struct policy_request req = { .protocol = POLICY_PROTOCOL_HTTPS_CONNECT,
		.host = "b.example",
		.port = 443,
		.method = "CONNECT" };
	struct policy_answer ask = { .decision = POLICY_DECISION_ASK,
		.reason = "needs_approval" };
	struct policy_answer yes = { .decision = POLICY_DECISION_ALLOW };
	struct policy_input in = { .request = &req,
		.has_decider = true,
		.answer = &ask };
	struct policy_verdict v;
	struct audit_event ev;
	struct policy_error err;
	struct policy *p;
	json_t *j;
	char *text;

	(void)state;
	assert_int_equal(policy_new(&s, &p, &err), 0);
	policy_judge(p, &in, &v);
	audit_event_init(&ev, &req, &v, 0, 0);
	text = audit_event_json(&ev, NULL);
	j = parse(text);
	assert_string_equal(jstr(j, "network.policy.decision"), "ask");
	assert_string_equal(jstr(j, "network.policy.reason"), "needs_approval");
	assert_string_equal(jstr(j, "network.policy.source"), "decider");
	json_decref(j);
	free(text);

	in.answer = &yes;
	policy_judge(p, &in, &v);
	audit_event_init(&ev, &req, &v, 0, 0);
	text = audit_event_json(&ev, NULL);
	j = parse(text);
	assert_string_equal(jstr(j, "network.policy.decision"), "allow");
	assert_string_equal(jstr(j, "network.policy.reason"), "not_allowed");
	assert_string_equal(jstr(j, "network.policy.source"), "decider");
	assert_true(
	    json_is_true(json_object_get(j, "network.policy.override")));
	json_decref(j);
	free(text);
	policy_unref(p);
}

/* ---- the blocked-request buffer ---- */

static void
record(struct blocked_record *r, unsigned i)
{
	*r = (struct blocked_record){ .timestamp = i, .port = (int32_t)i };
	(void)snprintf(r->host, sizeof(r->host), "h%u.example", i);
	(void)strlcpy(r->reason, "not_allowed", sizeof(r->reason));
	(void)strlcpy(r->protocol, "http", sizeof(r->protocol));
}

static void
test_audit_blocked_evicts_oldest(void **state)
{
	struct blocked *b = blocked_new();
	struct blocked_record r;
	struct blocked_record *out;
	size_t n;

	(void)state;
	assert_int_equal(blocked_snapshot(b, &out, &n), 0);
	assert_int_equal(n, 0);
	assert_null(out);
	for (unsigned i = 0; i < LIMIT_BLOCKED_RECORDS + 5; i++) {
		record(&r, i);
		blocked_push(b, &r);
	}
	assert_int_equal(blocked_total(b), LIMIT_BLOCKED_RECORDS + 5);
	assert_int_equal(blocked_snapshot(b, &out, &n), 0);
	assert_int_equal(n, LIMIT_BLOCKED_RECORDS);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(out[i].timestamp, i + 5); /* oldest first */
	assert_string_equal(out[0].host, "h5.example");
	free(out);
	/* a snapshot keeps, a drain takes */
	assert_int_equal(blocked_snapshot(b, &out, &n), 0);
	assert_int_equal(n, LIMIT_BLOCKED_RECORDS);
	free(out);
	assert_int_equal(blocked_drain(b, &out, &n), 0);
	assert_int_equal(n, LIMIT_BLOCKED_RECORDS);
	assert_int_equal(out[n - 1].timestamp, LIMIT_BLOCKED_RECORDS + 4);
	free(out);
	assert_int_equal(blocked_drain(b, &out, &n), 0);
	assert_int_equal(n, 0);
	/* the total survives a drain; new records start a fresh ring */
	assert_int_equal(blocked_total(b), LIMIT_BLOCKED_RECORDS + 5);
	record(&r, 1000);
	blocked_push(b, &r);
	assert_int_equal(blocked_snapshot(b, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].timestamp, 1000);
	free(out);
	blocked_free(b);
}

static void
test_audit_blocked_record_fields(void **state)
{
	static const struct {
		enum policy_protocol protocol;
		bool enabled;
		const char *label;
		const char *reason;
	} cases[] = {
		{ POLICY_PROTOCOL_HTTP, true, "http", "denied" },
		{ POLICY_PROTOCOL_HTTPS_CONNECT, true, "http-connect",
		    "denied" },
		{ POLICY_PROTOCOL_SOCKS5_TCP, true, "socks5", "denied" },
		{ POLICY_PROTOCOL_SOCKS5_UDP, true, "socks5-udp", "denied" },
		/* a disabled proxy records the policy's protocol names */
		{ POLICY_PROTOCOL_HTTP, false, "http", "proxy_disabled" },
		{ POLICY_PROTOCOL_HTTPS_CONNECT, false, "https_connect",
		    "proxy_disabled" },
		{ POLICY_PROTOCOL_SOCKS5_TCP, false, "socks5_tcp",
		    "proxy_disabled" },
		{ POLICY_PROTOCOL_SOCKS5_UDP, false, "socks5_udp",
		    "proxy_disabled" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct policy_request req = { .protocol = cases[i].protocol,
			.host = "Denied.Example.",
			.port = 8443,
			.method = "CONNECT",
			.client = "10.0.0.2:999" };
		struct policy_verdict v;
		struct blocked_record r;
		struct paddock_blocked view;
		json_t *j;
		char *text;

		verdict_for(req.protocol, req.host, req.method, false,
		    cases[i].enabled, &v);
		blocked_record_init(&r, &req, &v, POLICY_MODE_LIMITED, 1234);
		blocked_record_view(&r, &view);
		assert_string_equal(view.host, "denied.example");
		assert_string_equal(view.reason, cases[i].reason);
		assert_string_equal(view.protocol, cases[i].label);
		assert_string_equal(view.client, "10.0.0.2:999");
		assert_string_equal(view.method, "CONNECT");
		assert_string_equal(view.mode, "limited");
		assert_string_equal(view.decision, "deny");
		assert_string_equal(view.source,
		    cases[i].enabled ? "baseline_policy" : "proxy_state");
		assert_int_equal(view.port, 8443);
		assert_int_equal(view.timestamp, 1234);

		text = blocked_record_json(&r);
		j = parse(text);
		assert_int_equal(json_object_size(j), 10);
		assert_string_equal(jstr(j, "protocol"), cases[i].label);
		assert_int_equal(json_integer_value(json_object_get(j, "port")),
		    8443);
		json_decref(j);
		free(text);
	}
}

static void
test_audit_blocked_json_absent_fields(void **state)
{
	struct blocked_record r;
	struct paddock_blocked view;
	json_t *j;
	char *text;

	(void)state;
	record(&r, 7);
	r.port = -1;
	blocked_record_view(&r, &view);
	assert_null(view.client);
	assert_null(view.method);
	assert_null(view.decision);
	assert_int_equal(view.port, -1);
	text = blocked_record_json(&r);
	j = parse(text);
	/* decision, source, port: left out; client, method, mode: null */
	assert_null(json_object_get(j, "decision"));
	assert_null(json_object_get(j, "source"));
	assert_null(json_object_get(j, "port"));
	assert_true(json_is_null(json_object_get(j, "client")));
	assert_true(json_is_null(json_object_get(j, "method")));
	assert_true(json_is_null(json_object_get(j, "mode")));
	assert_int_equal(json_object_size(j), 7);
	json_decref(j);
	free(text);
}

/* ---- background delivery ---- */

struct collect {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *events[64];
	size_t n_events;
	char hosts[64][64];
	size_t n_blocked;
	bool hold;    /* the audit callback waits while set */
	bool holding; /* it is waiting now */
	struct audit *audit;
	int flush_result;
};

static void
collect_init(struct collect *c)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(pthread_mutex_init(&c->lock, NULL), 0);
	assert_int_equal(pthread_cond_init(&c->cond, NULL), 0);
}

static void
collect_done(struct collect *c)
{
	for (size_t i = 0; i < c->n_events; i++)
		free(c->events[i]);
	(void)pthread_cond_destroy(&c->cond);
	(void)pthread_mutex_destroy(&c->lock);
}

static void
collect_audit_cb(const char *json, void *userdata)
{
	struct collect *c = userdata;

	(void)pthread_mutex_lock(&c->lock);
	c->holding = true;
	(void)pthread_cond_broadcast(&c->cond);
	while (c->hold)
		(void)pthread_cond_wait(&c->cond, &c->lock);
	c->holding = false;
	if (c->n_events < ELEMENTSOF(c->events))
		c->events[c->n_events++] = strdup(json);
	(void)pthread_mutex_unlock(&c->lock);
	if (c->audit)
		c->flush_result = audit_flush(c->audit);
}

static void
collect_blocked_cb(const struct paddock_blocked *b, void *userdata)
{
	struct collect *c = userdata;

	(void)pthread_mutex_lock(&c->lock);
	if (c->n_blocked < ELEMENTSOF(c->hosts))
		(void)strlcpy(c->hosts[c->n_blocked++], b->host,
		    sizeof(c->hosts[0]));
	(void)pthread_mutex_unlock(&c->lock);
}

static void
submit(struct audit *a, const char *host, const char *method)
{
	struct policy_request req = { .protocol = POLICY_PROTOCOL_HTTP,
		.host = host,
		.port = 80,
		.method = method };
	struct policy_verdict v;

	verdict_for(req.protocol, host, method, true, true, &v);
	audit_submit(a, &req, &v, POLICY_MODE_LIMITED);
}

static void
test_audit_delivers_in_order(void **state)
{
	struct collect c;
	struct audit_settings s = { .sink = AUDIT_SINK_CALLBACK,
		.audit_fn = collect_audit_cb,
		.audit_userdata = &c,
		.blocked_fn = collect_blocked_cb,
		.blocked_userdata = &c };
	static const char *const want[] = { "allowed.example", "denied.example",
		"allowed.example", "allowed.example", "other.example" };
	struct blocked_record *out;
	struct audit *a;
	size_t n;

	(void)state;
	collect_init(&c);
	assert_int_equal(audit_new(&s, &a), 0);
	submit(a, "allowed.example", "GET");  /* 1 event */
	submit(a, "denied.example", "GET");   /* 1 event, blocked */
	submit(a, "allowed.example", "POST"); /* 2 events, blocked */
	submit(a, "other.example", "GET");    /* 1 event, blocked */
	assert_int_equal(audit_flush(a), 0);
	assert_int_equal(c.n_events, ELEMENTSOF(want));
	for (size_t i = 0; i < ELEMENTSOF(want); i++) {
		json_t *j = parse(c.events[i]);

		assert_string_equal(jstr(j, "server.address"), want[i]);
		json_decref(j);
	}
	assert_non_null(strstr(c.events[3], "\"non_domain\""));
	/* the observer saw the denials, in order */
	assert_int_equal(c.n_blocked, 3);
	assert_string_equal(c.hosts[0], "denied.example");
	assert_string_equal(c.hosts[1], "allowed.example");
	assert_string_equal(c.hosts[2], "other.example");
	/* and the buffer holds them, whatever the observer did */
	assert_int_equal(blocked_snapshot(audit_get_blocked(a), &out, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(out[1].reason, "method_not_allowed");
	free(out);
	assert_int_equal(audit_get_dropped(a), 0);

	/* the observer can be replaced at run time */
	audit_set_blocked_observer(a, NULL, NULL);
	submit(a, "denied.example", "GET");
	assert_int_equal(audit_flush(a), 0);
	assert_int_equal(c.n_blocked, 3);
	assert_int_equal(blocked_total(audit_get_blocked(a)), 4);
	audit_free(a);
	collect_done(&c);
}

static void
test_audit_full_queue_drops_and_counts(void **state)
{
	struct collect c;
	struct audit_settings s = { .sink = AUDIT_SINK_CALLBACK,
		.audit_fn = collect_audit_cb,
		.audit_userdata = &c,
		.queue = 2 };
	struct audit *a;

	(void)state;
	collect_init(&c);
	c.hold = true;
	assert_int_equal(audit_new(&s, &a), 0);
	submit(a, "allowed.example", "GET");
	/* wait until the writer is stuck inside the callback */
	(void)pthread_mutex_lock(&c.lock);
	while (!c.holding)
		(void)pthread_cond_wait(&c.cond, &c.lock);
	(void)pthread_mutex_unlock(&c.lock);
	/* two fit in the queue; the next two are dropped, not waited for */
	submit(a, "other.example", "GET");
	submit(a, "denied.example", "GET");
	submit(a, "x1.example", "GET");
	submit(a, "x2.example", "GET");
	assert_int_equal(audit_get_dropped(a), 2);
	/* the blocked buffer does not depend on the queue */
	assert_int_equal(blocked_total(audit_get_blocked(a)), 4);
	(void)pthread_mutex_lock(&c.lock);
	c.hold = false;
	(void)pthread_cond_broadcast(&c.cond);
	(void)pthread_mutex_unlock(&c.lock);
	assert_int_equal(audit_flush(a), 0);
	assert_int_equal(c.n_events, 3);
	assert_non_null(strstr(c.events[2], "denied.example"));
	audit_free(a);
	collect_done(&c);
}

static void
test_audit_flush_from_callback_is_refused(void **state)
{
	struct collect c;
	struct audit_settings s = { .sink = AUDIT_SINK_CALLBACK,
		.audit_fn = collect_audit_cb,
		.audit_userdata = &c };
	struct audit *a;

	(void)state;
	collect_init(&c);
	assert_int_equal(audit_new(&s, &a), 0);
	c.audit = a;
	submit(a, "allowed.example", "GET");
	assert_int_equal(audit_flush(a), 0);
	assert_int_equal(c.flush_result, -EDEADLK);
	audit_free(a);
	collect_done(&c);
}

static void
test_audit_file_sink_flushes_on_free(void **state)
{
	char dir[] = "/tmp/paddock-test-audit-XXXXXX";
	char path[sizeof(dir) + 16], line[2048];
	struct audit_settings s = { 0 };
	struct audit_meta meta = { .conversation_id = "conv-1" };
	struct audit *a;
	struct stat st;
	FILE *f;
	size_t lines = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/audit.log", dir);
	assert_int_equal(audit_sink_from_arg(path, &s), 0);
	assert_int_equal(s.sink, AUDIT_SINK_FILE);
	s.meta = meta;
	assert_int_equal(audit_new(&s, &a), 0);
	for (int i = 0; i < 50; i++)
		submit(a, i % 2 ? "denied.example" : "allowed.example", "POST");
	audit_free(a); /* clean shutdown writes everything */

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		json_t *j;

		assert_non_null(strchr(line, '\n'));
		j = parse(line);
		assert_string_equal(jstr(j, "conversation.id"), "conv-1");
		json_decref(j);
		lines++;
	}
	(void)fclose(f);
	/* allowed + POST: 2 events; denied: 1 */
	assert_int_equal(lines, 25 * 2 + 25);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_audit_rejects_bad_settings(void **state)
{
	struct audit_settings s = { .sink = AUDIT_SINK_FILE,
		.path = "/nonexistent-dir/audit.log" };
	struct audit *a = NULL;

	(void)state;
	assert_int_equal(audit_new(&s, &a), -ENOENT);
	s = (struct audit_settings){ .sink = AUDIT_SINK_CALLBACK };
	assert_int_equal(audit_new(&s, &a), -EINVAL);
	s = (struct audit_settings){ .sink = AUDIT_SINK_NONE,
		.meta = { .app_version = "\xff" } };
	assert_int_equal(audit_new(&s, &a), -EINVAL);
	s = (struct audit_settings){ .queue = LIMIT_AUDIT_QUEUE + 1 };
	assert_int_equal(audit_new(&s, &a), -EINVAL);
	assert_null(a);
	assert_int_equal(audit_sink_from_arg("", &s), -EINVAL);
	assert_int_equal(audit_sink_from_arg("-", &s), 0);
	assert_int_equal(s.sink, AUDIT_SINK_STDERR);
	assert_null(audit_free(NULL));
}

static void
test_audit_none_sink_still_keeps_blocked(void **state)
{
	struct audit_settings s = { .sink = AUDIT_SINK_NONE };
	struct audit *a;

	struct policy_request req = { .protocol = POLICY_PROTOCOL_HTTP,
		.host = "x.example" };
	struct policy_verdict pending = { .next = POLICY_NEXT_RESOLVE,
		.decision = POLICY_DECISION_DENY,
		.reason = POLICY_REASON_NOT_ALLOWED_LOCAL };

	(void)state;
	assert_int_equal(audit_new(&s, &a), 0);
	submit(a, "denied.example", "GET");
	submit(a, "allowed.example", "GET");
	audit_submit(a, &req, &pending, POLICY_MODE_FULL); /* not final */
	assert_int_equal(audit_flush(a), 0);
	assert_int_equal(blocked_total(audit_get_blocked(a)), 1);
	audit_free(a);
}

/* Read from fd until want appears in what was read (or EOF). */
static void
linewriter_read_until(int fd, char *all, size_t allsz, const char *want)
{
	size_t n = strlen(all);

	while (!strstr(all, want) && n + 1 < allsz) {
		ssize_t k = read(fd, all + n, allsz - 1 - n);

		assert_true(k > 0);
		n += (size_t)k;
		all[n] = '\0';
	}
	assert_non_null(strstr(all, want));
}

static void
test_audit_linewriter_writes_lines_in_order(void **state)
{
	struct linewriter *w = NULL;
	int fds[2];
	char all[256] = "";

	(void)state;
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(linewriter_new(&(struct linewriter_settings){ .fd = fds
									   [1],
					    .what = "test" },
			     &w),
	    0);
	assert_true(linewriter_push(w, "one", 3));
	assert_true(linewriter_push(w, "two\n", 4));
	assert_true(linewriter_push(w, "", 0));
	assert_int_equal(linewriter_flush(w), 0);
	w = linewriter_free(w);
	(void)close(fds[1]);
	linewriter_read_until(fds[0], all, sizeof(all), "one\ntwo\n\n");
	assert_string_equal(all, "one\ntwo\n\n");
	assert_int_equal(read(fds[0], all, sizeof(all)), 0);
	(void)close(fds[0]);
}

/*
 * Nobody reads the pipe: pushing never waits, what does not fit is
 * dropped and counted, and once the reader drains the pipe the writer
 * catches up and reports the drops in its own output.
 */
static void
test_audit_linewriter_full_pipe_drops_and_reports(void **state)
{
	struct linewriter *w = NULL;
	char line[200], all[1 << 16] = "";
	unsigned accepted = 0;
	int fds[2];

	(void)state;
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_true(fcntl(fds[1], F_SETPIPE_SZ, 4096) > 0);
	assert_int_equal(linewriter_new(&(struct linewriter_settings){ .fd = fds
									   [1],
					    .queue = 8,
					    .what = "test",
					    .report_inline = true },
			     &w),
	    0);
	memset(line, 'x', sizeof(line));
	for (int i = 0; i < 200; i++)
		accepted += linewriter_push(w, line, sizeof(line));
	assert_true(accepted < 200);
	assert_true(linewriter_get_dropped(w) == 200 - accepted);
	linewriter_read_until(fds[0], all, sizeof(all), " log lines dropped\n");
	assert_non_null(strstr(all, "\npaddock: warning: "));
	w = linewriter_free(w);
	(void)close(fds[0]);
	(void)close(fds[1]);
}

/* At exit, a writer whose fd takes nothing gives up after the drain
 * deadline instead of hanging the process. */
static void
test_audit_linewriter_free_gives_up_on_a_stuck_fd(void **state)
{
	struct linewriter *w = NULL;
	struct timespec t0, t1;
	char line[1000];
	int fds[2];
	long ms;

	(void)state;
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_true(fcntl(fds[1], F_SETPIPE_SZ, 4096) > 0);
	assert_int_equal(linewriter_new(&(struct linewriter_settings){ .fd = fds
									   [1],
					    .what = "test" },
			     &w),
	    0);
	memset(line, 'y', sizeof(line));
	for (int i = 0; i < 50; i++)
		(void)linewriter_push(w, line, sizeof(line));
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	w = linewriter_free(w);
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms < LIMIT_LOG_DRAIN_MS + 1000);
	(void)close(fds[0]);
	(void)close(fds[1]);
}

/* ---- OTLP encoders ---- */

/* A denied CONNECT to denied.example:8443, at 2026-01-01T00:00:00.123Z. */
static void
otlp_event(struct audit_event *ev)
{
	struct policy_request req = { .protocol = POLICY_PROTOCOL_HTTPS_CONNECT,
		.host = "denied.example",
		.port = 8443,
		.method = "CONNECT",
		.client = "127.0.0.1:40000" };
	struct policy_verdict v;

	verdict_for(POLICY_PROTOCOL_HTTPS_CONNECT, req.host, "CONNECT", false,
	    true, &v);
	audit_event_init(ev, &req, &v, 0, 1767225600123);
}

static const struct otlp_resource otlp_res = { .service_name = "paddock",
	.service_version = "9.8.7",
	.environment = "prod" };

static json_t *
otlp_attr_value(json_t *attrs, const char *key)
{
	size_t i;
	json_t *kv;

	json_array_foreach(attrs, i, kv) {
		if (strcmp(json_string_value(json_object_get(kv, "key")),
			key) == 0)
			return json_object_get(kv, "value");
	}
	fail_msg("no attribute %s", key);
	return NULL;
}

static void
test_audit_otlp_json_fields_and_types(void **state)
{
	struct audit_event ev[2];
	struct buf b;
	json_t *j, *rl, *rec, *attrs, *v;

	(void)state;
	otlp_event(&ev[0]);
	otlp_event(&ev[1]);
	buf_init(&b, 0);
	assert_int_equal(otlp_encode_json(ev, 2, &otlp_res,
			     1767225601000000042ull, &b),
	    0);
	j = parse(buf_str(&b));
	rl = json_array_get(json_object_get(j, "resourceLogs"), 0);
	attrs = json_object_get(json_object_get(rl, "resource"), "attributes");
	assert_string_equal(jstr(otlp_attr_value(attrs, "service.name"),
				"stringValue"),
	    "paddock");
	assert_string_equal(jstr(otlp_attr_value(attrs, "service.version"),
				"stringValue"),
	    "9.8.7");
	assert_string_equal(jstr(otlp_attr_value(attrs, "env"), "stringValue"),
	    "prod");
	v = json_array_get(json_object_get(rl, "scopeLogs"), 0);
	assert_string_equal(jstr(json_object_get(v, "scope"), "name"),
	    OTLP_SCOPE_NAME);
	assert_int_equal(json_array_size(json_object_get(v, "logRecords")), 2);
	rec = json_array_get(json_object_get(v, "logRecords"), 1);
	/* OTLP/JSON: 64-bit integers are strings. */
	assert_string_equal(jstr(rec, "timeUnixNano"), "1767225600123000000");
	assert_string_equal(jstr(rec, "observedTimeUnixNano"),
	    "1767225601000000042");
	assert_int_equal(json_integer_value(
			     json_object_get(rec, "severityNumber")),
	    9);
	assert_string_equal(jstr(rec, "severityText"), "INFO");
	assert_string_equal(jstr(json_object_get(rec, "body"), "stringValue"),
	    AUDIT_EVENT_NAME);
	attrs = json_object_get(rec, "attributes");
	assert_string_equal(jstr(otlp_attr_value(attrs, "server.port"),
				"intValue"),
	    "8443");
	assert_true(json_is_false(
	    json_object_get(otlp_attr_value(attrs, "network.policy.override"),
		"boolValue")));
	assert_string_equal(jstr(otlp_attr_value(attrs, "server.address"),
				"stringValue"),
	    "denied.example");
	assert_string_equal(jstr(otlp_attr_value(attrs,
				     "network.transport.protocol"),
				"stringValue"),
	    "https_connect");
	assert_string_equal(jstr(otlp_attr_value(attrs, "event.timestamp"),
				"stringValue"),
	    "2026-01-01T00:00:00.123Z");
	assert_int_equal(json_array_size(attrs), 13);
	json_decref(j);
	buf_done(&b);
}

/* A minimal protobuf wire reader, independent of the generated code, so
 * the field numbers are checked against the OTLP spec, not against our
 * own .proto. */
struct pbf {
	uint32_t num, wt;
	uint64_t v;       /* varint, fixed64 */
	const uint8_t *p; /* length-delimited */
	size_t n;
};

static uint64_t
pb_varint(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;

	for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t c = *(*p)++;

		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
	}
	fail_msg("bad varint");
	return 0;
}

/* The idx-th field numbered num in [p, p+n). */
static bool
pb_find(const uint8_t *p, size_t n, uint32_t num, size_t idx, struct pbf *f)
{
	const uint8_t *end = p + n;

	while (p < end) {
		uint64_t key = pb_varint(&p, end);

		*f = (struct pbf){ .num = (uint32_t)(key >> 3),
			.wt = (uint32_t)(key & 7) };
		if (f->wt == 0) {
			f->v = pb_varint(&p, end);
		} else if (f->wt == 1) {
			assert_true(end - p >= 8);
			memcpy(&f->v, p, 8); /* little-endian host */
			p += 8;
		} else if (f->wt == 2) {
			f->n = (size_t)pb_varint(&p, end);
			assert_true((size_t)(end - p) >= f->n);
			f->p = p;
			p += f->n;
		} else {
			fail_msg("unexpected wire type %u", f->wt);
		}
		if (f->num == num && idx-- == 0)
			return true;
	}
	return false;
}

/* The AnyValue of the attribute key in a message whose field num holds
 * KeyValues. */
static struct pbf
pb_attr(const uint8_t *p, size_t n, uint32_t num, const char *key)
{
	struct pbf kv, k, v;

	for (size_t i = 0; pb_find(p, n, num, i, &kv); i++) {
		assert_true(pb_find(kv.p, kv.n, 1, 0, &k));
		if (k.n == strlen(key) && memcmp(k.p, key, k.n) == 0) {
			assert_true(pb_find(kv.p, kv.n, 2, 0, &v));
			return v;
		}
	}
	fail_msg("no attribute %s", key);
	return (struct pbf){ 0 };
}

static void
assert_pb_string(struct pbf any, const char *want)
{
	struct pbf s;

	assert_true(pb_find(any.p, any.n, 1, 0, &s)); /* string_value */
	assert_int_equal(s.wt, 2);
	assert_int_equal(s.n, strlen(want));
	assert_memory_equal(s.p, want, s.n);
}

static void
test_audit_otlp_proto_field_numbers(void **state)
{
	struct audit_event ev;
	struct buf b;
	struct pbf rl, res, sl, scope, rec, f, any;
	const uint8_t *p;

	(void)state;
	otlp_event(&ev);
	buf_init(&b, 0);
	assert_int_equal(otlp_encode_proto(&ev, 1, &otlp_res,
			     1767225601000000042ull, &b),
	    0);
	p = (const uint8_t *)b.data;
	/* ExportLogsServiceRequest.resource_logs = 1 */
	assert_true(pb_find(p, b.len, 1, 0, &rl));
	/* ResourceLogs.resource = 1, Resource.attributes = 1 */
	assert_true(pb_find(rl.p, rl.n, 1, 0, &res));
	assert_pb_string(pb_attr(res.p, res.n, 1, "service.name"), "paddock");
	assert_pb_string(pb_attr(res.p, res.n, 1, "env"), "prod");
	/* ResourceLogs.scope_logs = 2, ScopeLogs.scope = 1, .name = 1 */
	assert_true(pb_find(rl.p, rl.n, 2, 0, &sl));
	assert_true(pb_find(sl.p, sl.n, 1, 0, &scope));
	assert_true(pb_find(scope.p, scope.n, 1, 0, &f));
	assert_memory_equal(f.p, OTLP_SCOPE_NAME, f.n);
	/* ScopeLogs.log_records = 2 */
	assert_true(pb_find(sl.p, sl.n, 2, 0, &rec));
	assert_false(pb_find(sl.p, sl.n, 2, 1, &f));
	/* LogRecord.time_unix_nano = 1 (fixed64) */
	assert_true(pb_find(rec.p, rec.n, 1, 0, &f));
	assert_int_equal(f.wt, 1);
	assert_true(f.v == 1767225600123000000ull);
	/* observed_time_unix_nano = 11 (fixed64) */
	assert_true(pb_find(rec.p, rec.n, 11, 0, &f));
	assert_int_equal(f.wt, 1);
	assert_true(f.v == 1767225601000000042ull);
	/* severity_number = 2, severity_text = 3, body = 5 */
	assert_true(pb_find(rec.p, rec.n, 2, 0, &f));
	assert_int_equal(f.wt, 0);
	assert_int_equal(f.v, 9);
	assert_true(pb_find(rec.p, rec.n, 3, 0, &f));
	assert_memory_equal(f.p, "INFO", 4);
	assert_true(pb_find(rec.p, rec.n, 5, 0, &any));
	assert_pb_string(any, AUDIT_EVENT_NAME);
	/* attributes = 6; AnyValue.int_value = 3, bool_value = 2 */
	any = pb_attr(rec.p, rec.n, 6, "server.port");
	assert_true(pb_find(any.p, any.n, 3, 0, &f));
	assert_int_equal(f.wt, 0);
	assert_int_equal(f.v, 8443);
	any = pb_attr(rec.p, rec.n, 6, "network.policy.override");
	assert_true(pb_find(any.p, any.n, 2, 0, &f));
	assert_int_equal(f.wt, 0);
	assert_int_equal(f.v, 0);
	assert_pb_string(pb_attr(rec.p, rec.n, 6, "network.policy.decision"),
	    "deny");
	buf_done(&b);
}

/* What we write parses with the code protoc-c generates from
 * src/audit/otlp.proto, to the same values, for many records. */
static void
test_audit_otlp_proto_parses_with_generated_code(void **state)
{
	struct audit_event ev[300];
	Paddock__Otlp__ExportLogsServiceRequest *req;
	Paddock__Otlp__ResourceLogs *rl;
	Paddock__Otlp__ScopeLogs *sl;
	struct buf b;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(ev); i++) {
		otlp_event(&ev[i]);
		ev[i].port = (uint16_t)(i * 997);
		ev[i].override = i % 2;
	}
	buf_init(&b, 0);
	assert_int_equal(otlp_encode_proto(ev, ELEMENTSOF(ev), &otlp_res,
			     1767225601000000042ull, &b),
	    0);
	req = paddock__otlp__export_logs_service_request__unpack(NULL, b.len,
	    (const uint8_t *)b.data);
	assert_non_null(req);
	assert_int_equal(req->n_resource_logs, 1);
	rl = req->resource_logs[0];
	assert_int_equal(rl->resource->n_attributes, 3);
	assert_string_equal(rl->resource->attributes[2]->key, "env");
	assert_string_equal(rl->resource->attributes[2]->value->string_value,
	    "prod");
	assert_int_equal(rl->n_scope_logs, 1);
	sl = rl->scope_logs[0];
	assert_string_equal(sl->scope->name, OTLP_SCOPE_NAME);
	assert_string_equal(sl->scope->version, "9.8.7");
	assert_int_equal(sl->n_log_records, ELEMENTSOF(ev));
	for (size_t i = 0; i < ELEMENTSOF(ev); i++) {
		Paddock__Otlp__LogRecord *lr = sl->log_records[i];
		struct otlp_attr attrs[OTLP_ATTRS_MAX];
		char ts[AUDIT_TIMESTAMP_BYTES];
		size_t n = otlp_encode_attrs(&ev[i], NULL, ts, attrs);

		assert_true(lr->time_unix_nano == 1767225600123000000ull);
		assert_true(
		    lr->observed_time_unix_nano == 1767225601000000042ull);
		assert_int_equal(lr->severity_number, 9);
		assert_string_equal(lr->severity_text, "INFO");
		assert_string_equal(lr->body->string_value, AUDIT_EVENT_NAME);
		assert_int_equal(lr->n_attributes, n);
		for (size_t j = 0; j < n; j++) {
			Paddock__Otlp__AnyValue *v = lr->attributes[j]->value;

			assert_string_equal(lr->attributes[j]->key,
			    attrs[j].key);
			if (attrs[j].type == OTLP_ATTR_INT) {
				assert_int_equal(v->value_case,
				    PADDOCK__OTLP__ANY_VALUE__VALUE_INT_VALUE);
				assert_int_equal(v->int_value, attrs[j].i);
			} else if (attrs[j].type == OTLP_ATTR_BOOL) {
				assert_int_equal(v->value_case,
				    PADDOCK__OTLP__ANY_VALUE__VALUE_BOOL_VALUE);
				assert_int_equal(!!v->bool_value, attrs[j].b);
			} else {
				assert_string_equal(v->string_value,
				    attrs[j].s);
			}
		}
	}
	paddock__otlp__export_logs_service_request__free_unpacked(req, NULL);
	buf_done(&b);
}

static void
test_audit_otlp_json_escapes_strings(void **state)
{
	struct audit_meta meta = { .conversation_id = "a\"b\\c\n\x01",
		.app_version = "1.0" };
	struct otlp_resource res = otlp_res;
	struct audit_event ev;
	struct buf b;
	json_t *j, *attrs;

	(void)state;
	res.meta = &meta;
	otlp_event(&ev);
	buf_init(&b, 0);
	assert_int_equal(otlp_encode_json(&ev, 1, &res, 1, &b), 0);
	j = parse(buf_str(&b));
	attrs = json_object_get(
	    json_array_get(
		json_object_get(
		    json_array_get(
			json_object_get(json_array_get(json_object_get(j,
							   "resourceLogs"),
					    0),
			    "scopeLogs"),
			0),
		    "logRecords"),
		0),
	    "attributes");
	assert_string_equal(jstr(otlp_attr_value(attrs, "conversation.id"),
				"stringValue"),
	    "a\"b\\c\n\x01");
	json_decref(j);
	buf_done(&b);
}

/* Every metadata field set: the most attributes a record can have, the
 * run's execution.id among them, in the order of the JSON-lines stream. */
static void
test_audit_otlp_attrs_with_all_metadata(void **state)
{
	struct audit_meta meta = { .conversation_id = "c-1",
		.app_version = "2.0",
		.user_account_id = "u-1",
		.execution_id = "0c6f9f8e-3a4e-4c55-9d3b-7f1e2a9b8c01" };
	struct otlp_resource res = otlp_res;
	struct otlp_attr attrs[OTLP_ATTRS_MAX];
	char ts[AUDIT_TIMESTAMP_BYTES];
	struct audit_event ev;
	struct buf b;
	json_t *line;
	char *text;
	size_t n;

	(void)state;
	otlp_event(&ev);
	n = otlp_encode_attrs(&ev, &meta, ts, attrs);
	assert_int_equal(n, OTLP_ATTRS_MAX);
	assert_string_equal(attrs[5].key, "execution.id");
	assert_string_equal(attrs[5].s, meta.execution_id);
	text = audit_event_json(&ev, &meta);
	assert_non_null(text);
	line = parse(text);
	free(text);
	assert_int_equal(json_object_size(line), n);
	for (size_t i = 0; i < n; i++)
		assert_non_null(json_object_get(line, attrs[i].key));
	json_decref(line);
	res.meta = &meta;
	buf_init(&b, 0);
	assert_int_equal(otlp_encode_proto(&ev, 1, &res, 1, &b), 0);
	assert_non_null(memmem(b.data, b.len, meta.execution_id,
	    strlen(meta.execution_id)));
	buf_done(&b);
}

static void
test_audit_otlp_queue_drops_oldest_and_counts(void **state)
{
	struct otlp_settings *s =
	    otlp_settings_new("http://127.0.0.1:9/v1/logs", "dev");
	struct otlp_stats st;
	struct audit_event ev;
	struct otlp *o;

	(void)state;
	assert_non_null(s);
	s->queue = 3;
	assert_int_equal(otlp_new(s, &o, NULL, 0), 0);
	otlp_event(&ev);
	/* Not started: nothing is taken off the ring. */
	for (int i = 0; i < 10; i++)
		otlp_push(o, &ev);
	otlp_stats(o, &st);
	assert_int_equal(st.queued, 3);
	assert_int_equal(st.dropped, 7);
	assert_int_equal(st.sent, 0);
	o = otlp_free(o);
	s = otlp_settings_free(s);
}

static void
test_audit_otlp_settings_copy_and_compare(void **state)
{
	struct otlp_settings *a = otlp_settings_new("https://c/v1/logs", NULL);
	struct otlp_settings *b;

	(void)state;
	assert_non_null(a);
	assert_string_equal(a->environment, "dev");
	assert_int_equal(otlp_settings_add_header(a, "x-k", "v"), 0);
	assert_int_equal(otlp_settings_add_header(a, "x-empty", ""), 0);
	assert_string_equal(a->headers[0], "x-k: v");
	/* curl sends an empty header only in the "Name;" form. */
	assert_string_equal(a->headers[1], "x-empty;");
	b = otlp_settings_dup(a);
	assert_non_null(b);
	assert_true(otlp_settings_equal(a, b));
	b->json = true;
	assert_false(otlp_settings_equal(a, b));
	assert_false(otlp_settings_equal(a, NULL));
	assert_true(otlp_settings_equal(NULL, NULL));
	otlp_settings_free(a);
	otlp_settings_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit_event_fields),
		cmocka_unit_test(test_audit_event_absent_fields_and_metadata),
		cmocka_unit_test(test_audit_event_timestamp_format),
		cmocka_unit_test(test_audit_event_never_logs_a_path),
		cmocka_unit_test(test_audit_event_custom_reason_and_override),
		cmocka_unit_test(test_audit_blocked_evicts_oldest),
		cmocka_unit_test(test_audit_blocked_record_fields),
		cmocka_unit_test(test_audit_blocked_json_absent_fields),
		cmocka_unit_test(test_audit_delivers_in_order),
		cmocka_unit_test(test_audit_full_queue_drops_and_counts),
		cmocka_unit_test(test_audit_flush_from_callback_is_refused),
		cmocka_unit_test(test_audit_file_sink_flushes_on_free),
		cmocka_unit_test(test_audit_rejects_bad_settings),
		cmocka_unit_test(test_audit_none_sink_still_keeps_blocked),
		cmocka_unit_test(test_audit_linewriter_writes_lines_in_order),
		cmocka_unit_test(
		    test_audit_linewriter_full_pipe_drops_and_reports),
		cmocka_unit_test(
		    test_audit_linewriter_free_gives_up_on_a_stuck_fd),
		cmocka_unit_test(test_audit_otlp_json_fields_and_types),
		cmocka_unit_test(test_audit_otlp_proto_field_numbers),
		cmocka_unit_test(
		    test_audit_otlp_proto_parses_with_generated_code),
		cmocka_unit_test(test_audit_otlp_json_escapes_strings),
		cmocka_unit_test(test_audit_otlp_attrs_with_all_metadata),
		cmocka_unit_test(test_audit_otlp_queue_drops_oldest_and_counts),
		cmocka_unit_test(test_audit_otlp_settings_copy_and_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
