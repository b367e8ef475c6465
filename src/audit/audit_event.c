/* SPDX-License-Identifier: MIT */
/*
 * Audit events: capture and JSON serialisation (spec network §9).
 *
 * The field set is exactly the spec's, with our own event name; optional
 * metadata keys appear only when the embedder set them. Key order follows
 * the spec's list so lines read the same from one event to the next.
 */
#include "audit/audit_event.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "util/compiler.h"
#include "util/limits.h"
#include "util/strutil.h"

void
audit_event_text(const char *in, char *out, size_t outsz)
{
	size_t n = 0;

	if (outsz == 0)
		return;
	for (; in && in[n] && n + 1 < outsz; n++)
		out[n] = in[n] >= 0x20 && in[n] < 0x7f ? in[n] : '?';
	out[n] = '\0';
}

void
audit_event_host(const struct policy_request *req,
    const struct policy_verdict *v, char *out, size_t outsz)
{
	size_t n;

	if (v->host_valid) {
		(void)strlcpy(out, v->host.text, outsz);
		return;
	}
	audit_event_text(req->host, out, outsz);
	/* Whatever the client sent, no path or query reaches the log. */
	n = strcspn(out, "/?# ");
	out[n] = '\0';
}

void
audit_event_init(struct audit_event *ev, const struct policy_request *req,
    const struct policy_verdict *v, size_t i, int64_t timestamp_ms)
{
	const struct policy_event *e = &v->events[i];

	*ev = (struct audit_event){
		.timestamp_ms = timestamp_ms,
		.scope = e->scope,
		.decision = e->decision,
		.source = e->source,
		.protocol = req->protocol,
		.override = e->override,
		.port = req->port,
	};
	(void)strlcpy(ev->reason, policy_verdict_reason(v, e->reason),
	    sizeof(ev->reason));
	ev->message = policy_verdict_message(v, e->reason);
	audit_event_host(req, v, ev->host, sizeof(ev->host));
	audit_event_text(req->method, ev->method, sizeof(ev->method));
	audit_event_text(req->client, ev->client, sizeof(ev->client));
}

void
audit_event_timestamp(int64_t timestamp_ms, char *out)
{
	int64_t ms = timestamp_ms % 1000, s = timestamp_ms / 1000;
	time_t t;
	struct tm tm;

	if (ms < 0) {
		ms += 1000;
		s--;
	}
	t = (time_t)s;
	if (!gmtime_r(&t, &tm) ||
	    strftime(out, AUDIT_TIMESTAMP_BYTES, "%Y-%m-%dT%H:%M:%S", &tm) !=
		19) {
		(void)strlcpy(out, "1970-01-01T00:00:00.000Z",
		    AUDIT_TIMESTAMP_BYTES);
		return;
	}
	(void)snprintf(out + 19, AUDIT_TIMESTAMP_BYTES - 19, ".%03dZ", (int)ms);
}

/* Add key: value, taking the value's reference; false on failure. */
static bool
audit_event_set(json_t *o, const char *key, json_t *value)
{
	return value && json_object_set_new(o, key, value) == 0;
}

static bool
audit_event_set_str(json_t *o, const char *key, const char *value)
{
	return audit_event_set(o, key, json_string(value));
}

static bool
audit_event_set_meta(json_t *o, const char *key, const char *value)
{
	return !value || audit_event_set_str(o, key, value);
}

char *
audit_event_json(const struct audit_event *ev, const struct audit_meta *meta)
{
	char ts[AUDIT_TIMESTAMP_BYTES];
	json_t *o = json_object();
	char *out = NULL;
	bool ok;

	if (!o)
		return NULL;
	audit_event_timestamp(ev->timestamp_ms, ts);
	ok = audit_event_set_str(o, "event.name", AUDIT_EVENT_NAME) &&
	    audit_event_set_str(o, "event.timestamp", ts) &&
	    (!meta ||
		(audit_event_set_meta(o, "conversation.id",
		     meta->conversation_id) &&
		    audit_event_set_meta(o, "app.version", meta->app_version) &&
		    audit_event_set_meta(o, "user.account_id",
			meta->user_account_id) &&
		    audit_event_set_meta(o, "execution.id",
			meta->execution_id))) &&
	    audit_event_set_str(o, "network.policy.scope",
		policy_scope_name(ev->scope)) &&
	    audit_event_set_str(o, "network.policy.decision",
		policy_decision_name(ev->decision)) &&
	    audit_event_set_str(o, "network.policy.source",
		policy_source_name(ev->source)) &&
	    audit_event_set_str(o, "network.policy.reason", ev->reason) &&
	    audit_event_set_str(o, "network.policy.message",
		ev->message ? ev->message : "") &&
	    audit_event_set_str(o, "network.transport.protocol",
		policy_protocol_name(ev->protocol)) &&
	    audit_event_set_str(o, "server.address", ev->host) &&
	    audit_event_set(o, "server.port", json_integer(ev->port)) &&
	    audit_event_set_str(o, "http.request.method",
		ev->method[0] ? ev->method : "none") &&
	    audit_event_set_str(o, "client.address",
		ev->client[0] ? ev->client : "unknown") &&
	    audit_event_set(o, "network.policy.override",
		json_boolean(ev->override));
	if (ok)
		out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return out;
}

/* Copy one metadata string: at most LIMIT_AUDIT_META_BYTES of UTF-8. */
static int
audit_event_meta_copy(const char *in, char **ret)
{
	json_t *probe;

	*ret = NULL;
	if (!in)
		return 0;
	if (strnlen(in, LIMIT_AUDIT_META_BYTES + 1) > LIMIT_AUDIT_META_BYTES)
		return -EINVAL;
	probe = json_string(in); /* NULL for invalid UTF-8 */
	if (!probe)
		return -EINVAL;
	json_decref(probe);
	*ret = strdup(in);
	return *ret ? 0 : -ENOMEM;
}

int
audit_event_meta_set(struct audit_event_meta *m, const struct audit_meta *in)
{
	const char *from[4] = { in->conversation_id, in->app_version,
		in->user_account_id, in->execution_id };
	struct audit_event_meta copy = { 0 };

	for (size_t i = 0; i < ELEMENTSOF(from); i++) {
		int r = audit_event_meta_copy(from[i], &copy.text[i]);

		if (r < 0) {
			audit_event_meta_done(&copy);
			return r;
		}
	}
	copy.meta = (struct audit_meta){ .conversation_id = copy.text[0],
		.app_version = copy.text[1],
		.user_account_id = copy.text[2],
		.execution_id = copy.text[3] };
	audit_event_meta_done(m);
	*m = copy;
	return 0;
}

void
audit_event_meta_done(struct audit_event_meta *m)
{
	for (size_t i = 0; i < ELEMENTSOF(m->text); i++)
		free(m->text[i]);
	*m = (struct audit_event_meta){ 0 };
}
