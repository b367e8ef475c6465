/* SPDX-License-Identifier: MIT */
/*
 * libpaddock: the public C API for embedders.
 *
 * This is the only installed header. Types are opaque; every function
 * documents who owns what and which threads may call it. The API grows with
 * the proxy (policy decider hook, blocked-request observer, audit sink).
 */
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PADDOCK_VERSION_MAJOR 0
#define PADDOCK_VERSION_MINOR 1
#define PADDOCK_VERSION_PATCH 0

#if defined(__GNUC__)
#define PADDOCK_API __attribute__((visibility("default")))
#else
#define PADDOCK_API
#endif

/* The library's version as "MAJOR.MINOR.PATCH" (static storage). Compare
 * with the PADDOCK_VERSION_* macros to detect a header/library mismatch. */
PADDOCK_API const char *paddock_version(void);

/*
 * Requests, as the policy decider and the observers see them.
 */
enum paddock_protocol {
	PADDOCK_PROTOCOL_HTTP,          /* plain HTTP through the HTTP proxy */
	PADDOCK_PROTOCOL_HTTPS_CONNECT, /* a CONNECT tunnel */
	PADDOCK_PROTOCOL_SOCKS5_TCP,
	PADDOCK_PROTOCOL_SOCKS5_UDP,
};

/* Borrowed by the callee; valid only for the duration of the call. */
struct paddock_request {
	enum paddock_protocol protocol;
	const char *host; /* canonical: lower-case name or IP literal */
	uint16_t port;
	const char *client;  /* "ip:port" of the client, or NULL */
	const char *method;  /* "CONNECT", the HTTP method, or NULL (SOCKS) */
	const char *command; /* attached by the embedder, or NULL */
	const char *exec_policy_hint; /* attached by the embedder, or NULL */
};

/*
 * The policy decider. It is consulted only when the baseline policy says
 * "not in the allowlist" (never for a denylist match, a local/private
 * address, a mode guard or a disabled proxy). It receives a completion
 * handle and answers through it, immediately or later, from any thread:
 * a UI prompt never blocks the proxy.
 *
 * Thread and ownership rules:
 *  - The decider is called on a paddock thread and must not block for long;
 *    hand slow work (a prompt) to another thread and complete later.
 *  - Every handle must be completed exactly once with one of the
 *    paddock_decision_*() functions. Completing it releases it; the handle
 *    must not be used afterwards.
 *  - An answer that does not come within the decider timeout (default 30 s)
 *    is a deny with reason "decider_timeout". A late completion is still
 *    required (it frees the handle) and is then ignored. The same holds after
 *    the proxy was stopped or freed.
 *  - reason is copied; an empty or NULL reason becomes "policy_denied".
 */
struct paddock_decision;

typedef void (*paddock_decider_fn)(const struct paddock_request *request,
    struct paddock_decision *decision, void *userdata);

PADDOCK_API void paddock_decision_allow(struct paddock_decision *decision);
PADDOCK_API void paddock_decision_deny(struct paddock_decision *decision,
    const char *reason);
PADDOCK_API void paddock_decision_ask(struct paddock_decision *decision,
    const char *reason);

/*
 * A blocked request (spec: the blocked-request buffer). Strings are
 * borrowed for the duration of the call; absent fields are NULL, an absent
 * port is -1. timestamp is Unix seconds.
 */
struct paddock_blocked {
	const char *host;
	const char *reason;
	const char *client;
	const char *method;
	const char *mode;     /* "full" or "limited" */
	const char *protocol; /* "http", "http-connect", "socks5", ... */
	const char *decision; /* "deny" or "ask" */
	const char *source;   /* "baseline_policy", "mode_guard", ... */
	int32_t port;
	int64_t timestamp;
};

/* Called once per blocked request, in order, on a paddock thread that is
 * not a proxy worker (so a slow observer never stalls traffic). */
typedef void (
    *paddock_blocked_fn)(const struct paddock_blocked *blocked, void *userdata);

/* Called once per audit event with one JSON object (no newline), in order,
 * on a paddock thread that is not a proxy worker. json is borrowed. */
typedef void (*paddock_audit_fn)(const char *json, void *userdata);

#ifdef __cplusplus
}
#endif
