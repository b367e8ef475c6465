/* SPDX-License-Identifier: MIT */
/*
 * The blocked-request buffer (spec network §8.3): the last
 * LIMIT_BLOCKED_RECORDS denials, oldest evicted first, and a running total
 * that saturates instead of wrapping. Thread-safe. It belongs to the proxy,
 * not to a policy, so a policy reload leaves it alone.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "paddock.h"
#include "policy/policy.h"
#include "util/limits.h"

/* Embeddable and copyable. Empty strings are absent fields. */
struct blocked_record {
	int64_t timestamp; /* Unix seconds */
	int32_t port;      /* -1 when absent */
	char host[POLICY_HOST_TEXT_MAX];
	char reason[64];
	char client[LIMIT_AUDIT_CLIENT_BYTES];
	char method[LIMIT_AUDIT_METHOD_BYTES];
	char mode[8];      /* "full", "limited" */
	char protocol[16]; /* "http", "http-connect", "socks5", "socks5-udp" */
	char decision[8];  /* "deny", "ask" */
	char source[16];
};

/*
 * Fill r from a final verdict that is not an allow. The protocol label is
 * the buffer's own ("http-connect", "socks5", ...) except for a disabled
 * proxy, whose records carry the policy names ("https_connect", ...), as
 * the reference does.
 */
void blocked_record_init(struct blocked_record *r,
    const struct policy_request *req, const struct policy_verdict *v,
    enum policy_mode mode, int64_t timestamp);

/* The public view of r; its strings are borrowed from r. */
void blocked_record_view(const struct blocked_record *r,
    struct paddock_blocked *ret);

/* The record a view describes (the inverse of blocked_record_view()):
 * every string copied as printable ASCII, cut to fit. */
void blocked_record_from_view(const struct paddock_blocked *b,
    struct blocked_record *ret);

/* One JSON object (spec §8.3: "decision", "source" and "port" left out
 * when absent, other absent fields null); caller frees; NULL on ENOMEM. */
char *blocked_record_json(const struct blocked_record *r);

struct blocked;

struct blocked *blocked_new(void);

/* Accepts NULL; returns NULL. */
struct blocked *blocked_free(struct blocked *b);

/* Append a copy of r, evicting the oldest record when full. */
void blocked_push(struct blocked *b, const struct blocked_record *r);

/* Copies of the buffered records, oldest first, into a new array (caller
 * frees; NULL when empty). snapshot keeps them, drain removes them.
 * Returns 0 or -ENOMEM (the buffer is then unchanged). */
int blocked_snapshot(struct blocked *b, struct blocked_record **ret,
    size_t *ret_n);
int blocked_drain(struct blocked *b, struct blocked_record **ret,
    size_t *ret_n);

/* The records buffered now, and those evicted unread because the buffer
 * was full or could not be allocated (saturating). */
void blocked_counts(struct blocked *b, size_t *ret_size, uint64_t *ret_evicted);

/* Records ever pushed, saturating at UINT64_MAX. */
uint64_t blocked_total(struct blocked *b);
