/* SPDX-License-Identifier: MIT */
/*
 * The network policy engine: the pure core that decides every request.
 *
 * No I/O, no libevent, no config structs (STYLE.md §1): a policy is compiled
 * from plain values (struct policy_settings) and judges plain requests. The
 * engine never resolves names itself; the data plane resolves once, hands
 * the answer in, and connects only to addresses the engine judged.
 *
 * Judging is a re-entrant pure function over what is known so far. The
 * caller loops:
 *
 *	policy_judge(p, &in, &v);
 *	v.next == POLICY_NEXT_RESOLVE -> resolve in.request->host, set
 *	    in.resolved/addrs, call again;
 *	v.next == POLICY_NEXT_ASK_DECIDER -> ask the embedder's decider, set
 *	    in.answer, call again;
 *	v.next == POLICY_NEXT_DONE -> v is final.
 *
 * Thread rules: a compiled policy is immutable and may be judged from any
 * number of threads at once. policy_ref()/policy_unref() are atomic, so a
 * reload can swap policies while requests are in flight.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/limits.h"

struct policy;

enum policy_protocol {
	POLICY_PROTOCOL_HTTP,
	POLICY_PROTOCOL_HTTPS_CONNECT,
	POLICY_PROTOCOL_SOCKS5_TCP,
	POLICY_PROTOCOL_SOCKS5_UDP,
	POLICY_PROTOCOL_HTTPS, /* a request inside an intercepted tunnel */
	POLICY_PROTOCOL_DNS,   /* a name asked of paddock run's DNS server */
	_POLICY_PROTOCOL_MAX,
};

enum policy_mode {
	POLICY_MODE_FULL,
	POLICY_MODE_LIMITED,
	_POLICY_MODE_MAX,
};

enum policy_decision {
	POLICY_DECISION_ALLOW,
	POLICY_DECISION_DENY,
	POLICY_DECISION_ASK,
	_POLICY_DECISION_MAX,
};

enum policy_reason {
	POLICY_REASON_ALLOW,
	POLICY_REASON_DENIED,
	POLICY_REASON_NOT_ALLOWED,
	POLICY_REASON_NOT_ALLOWED_LOCAL,
	POLICY_REASON_METHOD_NOT_ALLOWED,
	POLICY_REASON_MITM_REQUIRED,
	POLICY_REASON_PROXY_DISABLED,
	POLICY_REASON_POLICY_DENIED,
	POLICY_REASON_UNIX_SOCKET_UNSUPPORTED,
	POLICY_REASON_DECIDER_TIMEOUT,
	POLICY_REASON_CUSTOM, /* a decider's own reason: verdict.custom_reason
			       */
	_POLICY_REASON_MAX,
};

enum policy_source {
	POLICY_SOURCE_BASELINE_POLICY,
	POLICY_SOURCE_MODE_GUARD,
	POLICY_SOURCE_PROXY_STATE,
	POLICY_SOURCE_DECIDER,
	_POLICY_SOURCE_MAX,
};

enum policy_scope {
	POLICY_SCOPE_DOMAIN,     /* a host-policy evaluation */
	POLICY_SCOPE_NON_DOMAIN, /* mode guard, proxy state */
	_POLICY_SCOPE_MAX,
};

enum policy_list {
	POLICY_LIST_ALLOW,
	POLICY_LIST_DENY,
	_POLICY_LIST_MAX,
};

enum policy_next {
	POLICY_NEXT_DONE,
	POLICY_NEXT_RESOLVE,
	POLICY_NEXT_ASK_DECIDER,
	_POLICY_NEXT_MAX,
};

/* Wire and audit names: "http", "https_connect", "socks5_tcp", ... */
const char *policy_protocol_name(enum policy_protocol p);
int policy_protocol_from_name(const char *s, enum policy_protocol *ret);
const char *policy_mode_name(enum policy_mode m); /* "full", "limited" */
const char *policy_decision_name(enum policy_decision d);
const char *policy_reason_name(enum policy_reason r);
const char *policy_source_name(enum policy_source s);
const char *policy_scope_name(enum policy_scope s);
const char *policy_list_name(enum policy_list l); /* "allow", "deny" */

/* The x-proxy-error header value for a blocking reason ("blocked-by-..."),
 * or NULL for POLICY_REASON_ALLOW. */
const char *policy_reason_x_proxy_error(enum policy_reason r);

/* A short human message in our own words, e.g. for a 403 body. */
const char *policy_reason_message(enum policy_reason r);

/*
 * Hosts. A request host is canonicalised (spec network §2.1: trim,
 * brackets, port, ASCII lower-case, trailing dots, IPv6 zone; plus every
 * IPv4 form resolvers accept: 127.1, 0x7f.0.0.1, 0177.0.0.1, 2130706433,
 * and IPv4-mapped IPv6 ::ffff:a.b.c.d, which is the IPv4 address a.b.c.d)
 * before anything is compared. Anything that is neither an IP literal nor a
 * valid DNS name is invalid.
 */
enum policy_host_kind {
	POLICY_HOST_NAME,
	POLICY_HOST_IPV4,
	POLICY_HOST_IPV6,
	_POLICY_HOST_KIND_MAX,
};

#define POLICY_HOST_NAME_MAX 253
#define POLICY_HOST_TEXT_MAX 320 /* IPv6 text with a zone fits too */

struct policy_host {
	enum policy_host_kind kind;
	char text[POLICY_HOST_TEXT_MAX]; /* canonical form, NUL-terminated */
	uint8_t addr[16];                /* IPv4 in addr[0..3] */
	bool has_port; /* a ":port" was present and stripped */
	uint16_t port;
};

/* Canonicalise in[0..len). Returns 0, or -EINVAL for an invalid host. */
int policy_host_parse(const char *in, size_t len, struct policy_host *ret);

/* localhost or a name under it (RFC 6761 §6.3): loopback by definition,
 * never a DNS question; dialed as 127.0.0.1 and ::1 only. */
bool policy_host_is_localhost(const struct policy_host *h);

/* An address a name resolved to. */
struct policy_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t bytes[16];
};

/* The address an IP-literal host denotes (h->kind is not
 * POLICY_HOST_NAME), in canonical form. */
struct policy_addr policy_host_addr(const struct policy_host *h);

/*
 * The canonical form of an address, the only form paddock judges,
 * compares or dials: an IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291
 * §2.5.5.2) is the IPv4 address it carries, since that is where a
 * connection to it goes. Anything else is unchanged. An address carries no
 * zone: a literal's zone stays in its host text and plays no part in
 * classes or comparisons.
 */
struct policy_addr policy_addr_canonical(const struct policy_addr *a);

/* Two addresses are the same destination (canonical forms compared). */
bool policy_addr_equal(const struct policy_addr *a,
    const struct policy_addr *b);

struct addrinfo;

/*
 * Append the IPv4 and IPv6 addresses of a resolver answer to addrs (n of
 * them already, room for max) in canonical form, skipping duplicates (of
 * the canonical form: ::ffff:a.b.c.d and a.b.c.d are one address) and
 * anything else. Returns the new count.
 */
size_t policy_addrs_add(struct policy_addr *addrs, size_t n, size_t max,
    const struct addrinfo *ai);

/* NULL for a public address, else the class that makes it non-public
 * ("loopback", "private", "link-local", "cgnat", "documentation", ...),
 * spec network §3.1-§3.2 plus NAT64/6to4/Teredo embedding, fec0::/10 and
 * 2001:db8::/32. */
const char *policy_addr_class(const struct policy_addr *a);

/* Patterns as written in the config, with where they were written. */
struct policy_rule_spec {
	const char *pattern; /* borrowed during policy_new() */
	enum policy_list list;
	const char *file; /* borrowed during policy_new(); may be NULL */
	uint32_t line, column;
};

struct policy_settings {
	bool enabled;
	enum policy_mode mode;
	bool mitm; /* TLS interception available */
	bool allow_local_binding;
	const struct policy_rule_spec *rules;
	size_t n_rules;
};

struct policy_error {
	size_t rule; /* index into settings.rules, or SIZE_MAX */
	char message[256];
};

/* Check one pattern the way policy_new() will (global "*", glob syntax,
 * IDNA conversion). Returns 0 with *ret_hosts (when not NULL) set to the
 * number of host patterns it expands to ("{a,b}.x" is two; a policy holds
 * at most LIMIT_POLICY_HOSTS), or -EINVAL with a message in err. */
int policy_pattern_check(const char *pattern, enum policy_list list,
    size_t *ret_hosts, char *err, size_t errsz);

/*
 * Whether an administrator's allowed pattern managed covers the pattern
 * candidate (spec network §1.6's coverage table): every host candidate can
 * match is one managed allows. False when either does not parse (or on
 * ENOMEM). Config time only.
 */
bool policy_covers(const char *managed, const char *candidate);

/*
 * Lint warnings for config check: a pattern both allowed and denied,
 * duplicates, "*.x" whose apex is not covered (once per apex), patterns
 * that can never match (a '/', a port, a scheme). warn() is called once per
 * warning with a stable code and a message.
 */
void policy_lint(const struct policy_settings *s,
    void (*warn)(void *userdata, size_t rule, const char *code,
	const char *message),
    void *userdata);

/* Compile settings. Returns 0 with *ret (refcount 1), or -EINVAL with
 * *reterr (a bad pattern, more than LIMIT_POLICY_RULES rules or more than
 * LIMIT_POLICY_HOSTS host patterns after "{...}" expansion), or -ENOMEM.
 * Strings are copied. */
int policy_new(const struct policy_settings *s, struct policy **ret,
    struct policy_error *reterr);

struct policy *policy_ref(struct policy *p);

/* Drop a reference; frees at zero. Accepts NULL; returns NULL. */
struct policy *policy_unref(struct policy *p);

/* The rules of p in written order: the pattern as written and its list
 * (when ret_list is not NULL); NULL past the end. Borrowed from p. */
size_t policy_rule_count(const struct policy *p);
const char *policy_rule_pattern(const struct policy *p, size_t i,
    enum policy_list *ret_list);

/* A copy of p's settings and rules compiled again with another mode (a
 * runtime mode change). Returns what policy_new() returns. */
int policy_new_with_mode(const struct policy *p, enum policy_mode mode,
    struct policy **ret, struct policy_error *reterr);

bool policy_enabled(const struct policy *p);
enum policy_mode policy_get_mode(const struct policy *p);

/* One request. Strings are borrowed. */
struct policy_request {
	enum policy_protocol protocol;
	const char *host; /* as the client sent it */
	uint16_t port;
	const char *method; /* NULL for SOCKS */
	const char *client; /* "ip:port" or NULL */
};

struct policy_answer {
	enum policy_decision decision;
	const char *reason; /* NULL or "" = policy_denied */
	bool timed_out;     /* deny with reason decider_timeout */
};

struct policy_input {
	const struct policy_request *request;
	bool resolved; /* the lookup finished (n_addrs == 0: it failed) */
	const struct policy_addr *addrs;
	size_t n_addrs;
	bool has_decider;                   /* an embedder installed one */
	const struct policy_answer *answer; /* NULL until it answered */
};

/* Where the deciding pattern came from (pointers into the policy). */
struct policy_match {
	enum policy_list list;
	const char *pattern;
	const char *file; /* may be NULL (e.g. -c overrides) */
	uint32_t line, column;
};

/* One audit-worthy decision (spec network §9). */
struct policy_event {
	enum policy_scope scope;
	enum policy_decision decision;
	enum policy_reason reason;
	enum policy_source source;
	bool override; /* a decider allow overrode not_allowed */
};

#define POLICY_VERDICT_EVENTS 2

struct policy_verdict {
	enum policy_next next;
	enum policy_decision decision;
	enum policy_reason reason;
	enum policy_source source;
	char custom_reason[64]; /* for POLICY_REASON_CUSTOM */
	struct policy_host host;
	bool host_valid;
	bool matched;
	struct policy_match match;
	/* The address that made the host local/private, when that decided. */
	bool has_local_addr;
	struct policy_addr local_addr;
	/* not_allowed_local because the name did not resolve (fail closed). */
	bool unresolved;
	/* Allowed with allow_local_binding off, and not as an explicitly
	 * allowlisted local literal: every address dialed for the request
	 * must be public, whatever produced it (checked at connect time). */
	bool public_only;
	/* Audit events this judgement produced, in order. */
	struct policy_event events[POLICY_VERDICT_EVENTS];
	size_t n_events;
};

/* The name of reason r as verdict v reports it: v's custom_reason for
 * POLICY_REASON_CUSTOM, else policy_reason_name(r). Borrowed from v or
 * static. */
const char *policy_verdict_reason(const struct policy_verdict *v,
    enum policy_reason r);

/* The human message for reason r as verdict v reports it: what happened,
 * e.g. that the name did not resolve (v->unresolved), else
 * policy_reason_message(r). Static. */
const char *policy_verdict_message(const struct policy_verdict *v,
    enum policy_reason r);

/* Judge what is known so far; see the top of this file. */
void policy_judge(const struct policy *p, const struct policy_input *in,
    struct policy_verdict *ret);
