/* SPDX-License-Identifier: MIT */
/*
 * Audit events (spec network §9): one per policy_event of a verdict,
 * captured on the proxy thread into a fixed-size record (no heap, so
 * capturing cannot fail) and turned into one line of JSON later, off the
 * proxy thread.
 *
 * Only what the spec lists is recorded: the host, never a URL path or
 * query. Untrusted text (a host that failed to parse, the method, the
 * client) is kept as printable ASCII, cut short to fit.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"
#include "util/limits.h"

#define AUDIT_EVENT_NAME "codex.network_proxy.policy_decision"

/* "2026-01-01T00:00:00.000Z" and its terminator. */
#define AUDIT_TIMESTAMP_BYTES 25

/* Embeddable. Empty strings mean absent. */
struct audit_event {
	int64_t timestamp_ms; /* Unix time in milliseconds */
	enum policy_scope scope;
	enum policy_decision decision;
	enum policy_source source;
	enum policy_protocol protocol;
	bool override;
	uint16_t port;
	char reason[64];
	const char *message; /* static: policy_verdict_message() */
	char host[POLICY_HOST_TEXT_MAX];
	char method[LIMIT_AUDIT_METHOD_BYTES];
	char client[LIMIT_AUDIT_CLIENT_BYTES];
};

/* Optional metadata the embedder set (spec §9); NULL fields are absent.
 * execution_id is ours: the id of the `paddock run` (or spawn) whose
 * proxy judged the request, so every event names its run. Borrowed. */
struct audit_meta {
	const char *conversation_id;
	const char *app_version;
	const char *user_account_id;
	const char *execution_id;
};

/* An owned copy of a struct audit_meta: meta points into text. Zeroed, it
 * is empty (every field absent). */
struct audit_event_meta {
	char *text[4];
	struct audit_meta meta;
};

/* Replace m's contents by a copy of in. Each string is at most
 * LIMIT_AUDIT_META_BYTES of valid UTF-8. Returns 0, or -EINVAL or -ENOMEM
 * with m unchanged. */
int audit_event_meta_set(struct audit_event_meta *m,
    const struct audit_meta *in);

/* Free m's strings and empty it. */
void audit_event_meta_done(struct audit_event_meta *m);

/* Fill ev from event i of verdict v, judged for request req. */
void audit_event_init(struct audit_event *ev, const struct policy_request *req,
    const struct policy_verdict *v, size_t i, int64_t timestamp_ms);

/* The host to record: the canonical text when the host parsed, else the
 * bytes as sent up to the first '/', '?', '#' or space, as printable
 * ASCII. Used for blocked records too. */
void audit_event_host(const struct policy_request *req,
    const struct policy_verdict *v, char *out, size_t outsz);

/* Copy untrusted text as printable ASCII ('?' for anything else), cut to
 * fit outsz; NULL becomes "". */
void audit_event_text(const char *in, char *out, size_t outsz);

/* RFC 3339 UTC with milliseconds and 'Z' into out (AUDIT_TIMESTAMP_BYTES). */
void audit_event_timestamp(int64_t timestamp_ms, char *out);

/* One JSON object, no newline; caller frees. NULL on allocation failure
 * or when meta holds invalid UTF-8. */
char *audit_event_json(const struct audit_event *ev,
    const struct audit_meta *meta);
