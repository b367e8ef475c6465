/* SPDX-License-Identifier: MIT */
/*
 * The blocked-request buffer: a fixed ring of records under one mutex.
 * Invariant: the n records start at ring[head] and wrap around. The ring
 * (about 115 KiB) is allocated by the first push: most runs block
 * nothing, and zeroing it costs a short `paddock run` 0.4 ms of page
 * faults.
 */
#include "audit/blocked.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit/audit_event.h"
#include "util/strutil.h"

struct blocked {
	pthread_mutex_t lock;
	size_t head, n;
	uint64_t total;
	uint64_t evicted; /* pushed out unread by a newer record, or lost
			   * because the ring could not be allocated */
	struct blocked_record *ring; /* LIMIT_BLOCKED_RECORDS, or NULL */
};

static const char *
blocked_protocol_label(enum policy_protocol p)
{
	switch (p) {
	case POLICY_PROTOCOL_HTTP:
		return "http";
	case POLICY_PROTOCOL_HTTPS_CONNECT:
		return "http-connect";
	case POLICY_PROTOCOL_SOCKS5_TCP:
		return "socks5";
	case POLICY_PROTOCOL_SOCKS5_UDP:
		return "socks5-udp";
	case POLICY_PROTOCOL_HTTPS:
		return "https";
	case POLICY_PROTOCOL_DNS:
		return "dns";
	default:
		return "unknown";
	}
}

void
blocked_record_init(struct blocked_record *r, const struct policy_request *req,
    const struct policy_verdict *v, enum policy_mode mode, int64_t timestamp)
{
	*r = (struct blocked_record){ .timestamp = timestamp,
		.port = req->port };
	audit_event_host(req, v, r->host, sizeof(r->host));
	(void)strlcpy(r->reason, policy_verdict_reason(v, v->reason),
	    sizeof(r->reason));
	audit_event_text(req->client, r->client, sizeof(r->client));
	audit_event_text(req->method, r->method, sizeof(r->method));
	(void)strlcpy(r->mode, policy_mode_name(mode), sizeof(r->mode));
	(void)strlcpy(r->protocol,
	    v->reason == POLICY_REASON_PROXY_DISABLED ?
		policy_protocol_name(req->protocol) :
		blocked_protocol_label(req->protocol),
	    sizeof(r->protocol));
	(void)strlcpy(r->decision, policy_decision_name(v->decision),
	    sizeof(r->decision));
	(void)strlcpy(r->source, policy_source_name(v->source),
	    sizeof(r->source));
}

static const char *
blocked_opt(const char *s)
{
	return s[0] ? s : NULL;
}

void
blocked_record_view(const struct blocked_record *r, struct paddock_blocked *ret)
{
	*ret = (struct paddock_blocked){
		.host = r->host,
		.reason = r->reason,
		.client = blocked_opt(r->client),
		.method = blocked_opt(r->method),
		.mode = blocked_opt(r->mode),
		.protocol = r->protocol,
		.decision = blocked_opt(r->decision),
		.source = blocked_opt(r->source),
		.port = r->port,
		.timestamp = r->timestamp,
	};
}

void
blocked_record_from_view(const struct paddock_blocked *b,
    struct blocked_record *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->timestamp = b->timestamp;
	ret->port = b->port;
	audit_event_text(b->host, ret->host, sizeof(ret->host));
	audit_event_text(b->reason, ret->reason, sizeof(ret->reason));
	audit_event_text(b->client, ret->client, sizeof(ret->client));
	audit_event_text(b->method, ret->method, sizeof(ret->method));
	audit_event_text(b->mode, ret->mode, sizeof(ret->mode));
	audit_event_text(b->protocol, ret->protocol, sizeof(ret->protocol));
	audit_event_text(b->decision, ret->decision, sizeof(ret->decision));
	audit_event_text(b->source, ret->source, sizeof(ret->source));
}

static bool
blocked_json_set(json_t *o, const char *key, json_t *value)
{
	return value && json_object_set_new(o, key, value) == 0;
}

/* A string, or null when absent. */
static bool
blocked_json_opt(json_t *o, const char *key, const char *value)
{
	return blocked_json_set(o, key,
	    value[0] ? json_string(value) : json_null());
}

char *
blocked_record_json(const struct blocked_record *r)
{
	json_t *o = json_object();
	char *out = NULL;
	bool ok;

	if (!o)
		return NULL;
	ok = blocked_json_set(o, "host", json_string(r->host)) &&
	    blocked_json_set(o, "reason", json_string(r->reason)) &&
	    blocked_json_opt(o, "client", r->client) &&
	    blocked_json_opt(o, "method", r->method) &&
	    blocked_json_opt(o, "mode", r->mode) &&
	    blocked_json_set(o, "protocol", json_string(r->protocol)) &&
	    (!r->decision[0] ||
		blocked_json_set(o, "decision", json_string(r->decision))) &&
	    (!r->source[0] ||
		blocked_json_set(o, "source", json_string(r->source))) &&
	    (r->port < 0 ||
		blocked_json_set(o, "port", json_integer(r->port))) &&
	    blocked_json_set(o, "timestamp", json_integer(r->timestamp));
	if (ok)
		out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return out;
}

struct blocked *
blocked_new(void)
{
	struct blocked *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	if (pthread_mutex_init(&b->lock, NULL) != 0) {
		free(b);
		return NULL;
	}
	return b;
}

struct blocked *
blocked_free(struct blocked *b)
{
	if (!b)
		return NULL;
	(void)pthread_mutex_destroy(&b->lock);
	free(b->ring);
	free(b);
	return NULL;
}

void
blocked_push(struct blocked *b, const struct blocked_record *r)
{
	(void)pthread_mutex_lock(&b->lock);
	if (b->total < UINT64_MAX)
		b->total++;
	if (!b->ring)
		b->ring =
		    reallocarray(NULL, LIMIT_BLOCKED_RECORDS, sizeof(*b->ring));
	if (!b->ring) {
		if (b->evicted < UINT64_MAX)
			b->evicted++;
		(void)pthread_mutex_unlock(&b->lock);
		return;
	}
	if (b->n == LIMIT_BLOCKED_RECORDS) {
		b->head = (b->head + 1) % LIMIT_BLOCKED_RECORDS;
		b->n--;
		if (b->evicted < UINT64_MAX)
			b->evicted++;
	}
	b->ring[(b->head + b->n) % LIMIT_BLOCKED_RECORDS] = *r;
	b->n++;
	(void)pthread_mutex_unlock(&b->lock);
}

static int
blocked_copy(struct blocked *b, bool drain, struct blocked_record **ret,
    size_t *ret_n)
{
	struct blocked_record *out = NULL;
	size_t n;

	(void)pthread_mutex_lock(&b->lock);
	n = b->n;
	if (n > 0) {
		out = calloc(n, sizeof(*out));
		if (!out) {
			(void)pthread_mutex_unlock(&b->lock);
			return -ENOMEM;
		}
		for (size_t i = 0; i < n; i++)
			out[i] = b->ring[(b->head + i) % LIMIT_BLOCKED_RECORDS];
	}
	if (drain)
		b->head = b->n = 0;
	(void)pthread_mutex_unlock(&b->lock);
	*ret = out;
	*ret_n = n;
	return 0;
}

int
blocked_snapshot(struct blocked *b, struct blocked_record **ret, size_t *ret_n)
{
	return blocked_copy(b, false, ret, ret_n);
}

int
blocked_drain(struct blocked *b, struct blocked_record **ret, size_t *ret_n)
{
	return blocked_copy(b, true, ret, ret_n);
}

void
blocked_counts(struct blocked *b, size_t *ret_size, uint64_t *ret_evicted)
{
	(void)pthread_mutex_lock(&b->lock);
	*ret_size = b->n;
	*ret_evicted = b->evicted;
	(void)pthread_mutex_unlock(&b->lock);
}

uint64_t
blocked_total(struct blocked *b)
{
	uint64_t t;

	(void)pthread_mutex_lock(&b->lock);
	t = b->total;
	(void)pthread_mutex_unlock(&b->lock);
	return t;
}
