/* SPDX-License-Identifier: MIT */
/*
 * The policy engine: compiling settings and judging requests.
 *
 * A compiled policy is immutable after policy_new(); only its reference
 * count changes, atomically, so judging needs no lock. policy_judge() is a
 * pure function of (policy, input): it keeps no state between the calls of
 * the judge loop and can be called again from scratch at any step.
 */
#include "policy/policy.h"

#include <sys/socket.h>

#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/hostset.h"
#include "policy/pattern.h"
#include "util/compiler.h"
#include "util/strutil.h"

struct policy_rule {
	char *pattern; /* as written */
	char *file;    /* NULL when unknown */
	uint32_t line, column;
	enum policy_list list;
};

struct policy {
	atomic_ulong refs;
	bool enabled;
	enum policy_mode mode;
	bool mitm;
	bool allow_local_binding;
	struct policy_rule *rules;
	size_t n_rules;
	struct hostset *set;
};

static const char *const policy_protocol_names[_POLICY_PROTOCOL_MAX] = {
	[POLICY_PROTOCOL_HTTP] = "http",
	[POLICY_PROTOCOL_HTTPS_CONNECT] = "https_connect",
	[POLICY_PROTOCOL_HTTPS] = "https",
	[POLICY_PROTOCOL_SOCKS5_TCP] = "socks5_tcp",
	[POLICY_PROTOCOL_SOCKS5_UDP] = "socks5_udp",
	[POLICY_PROTOCOL_DNS] = "dns",
};

static const char *const policy_mode_names[_POLICY_MODE_MAX] = {
	[POLICY_MODE_FULL] = "full",
	[POLICY_MODE_LIMITED] = "limited",
};

static const char *const policy_decision_names[_POLICY_DECISION_MAX] = {
	[POLICY_DECISION_ALLOW] = "allow",
	[POLICY_DECISION_DENY] = "deny",
	[POLICY_DECISION_ASK] = "ask",
};

static const char *const policy_reason_names[_POLICY_REASON_MAX] = {
	[POLICY_REASON_ALLOW] = "allow",
	[POLICY_REASON_DENIED] = "denied",
	[POLICY_REASON_NOT_ALLOWED] = "not_allowed",
	[POLICY_REASON_NOT_ALLOWED_LOCAL] = "not_allowed_local",
	[POLICY_REASON_METHOD_NOT_ALLOWED] = "method_not_allowed",
	[POLICY_REASON_MITM_REQUIRED] = "mitm_required",
	[POLICY_REASON_PROXY_DISABLED] = "proxy_disabled",
	[POLICY_REASON_POLICY_DENIED] = "policy_denied",
	[POLICY_REASON_UNIX_SOCKET_UNSUPPORTED] = "unix_socket_unsupported",
	[POLICY_REASON_DECIDER_TIMEOUT] = "decider_timeout",
	[POLICY_REASON_CUSTOM] = "custom",
};

/* Our own wording; the reference's text is deliberately not reused. */
static const char *const policy_reason_messages[_POLICY_REASON_MAX] = {
	[POLICY_REASON_ALLOW] = "The network policy allows this request.",
	[POLICY_REASON_DENIED] = "This host is on the network denylist.",
	[POLICY_REASON_NOT_ALLOWED] =
	    "This host is not on the network allowlist.",
	[POLICY_REASON_NOT_ALLOWED_LOCAL] =
	    "Local and private network addresses are blocked by policy.",
	[POLICY_REASON_METHOD_NOT_ALLOWED] =
	    "Limited network mode permits only GET, HEAD and OPTIONS.",
	[POLICY_REASON_MITM_REQUIRED] =
	    "Limited network mode needs HTTPS interception, which is off.",
	[POLICY_REASON_PROXY_DISABLED] = "The network proxy is turned off.",
	[POLICY_REASON_POLICY_DENIED] =
	    "The network policy blocked this request.",
	[POLICY_REASON_UNIX_SOCKET_UNSUPPORTED] =
	    "Unix socket proxying is not supported here.",
	[POLICY_REASON_DECIDER_TIMEOUT] =
	    "No policy decision arrived in time, so the request was blocked.",
	[POLICY_REASON_CUSTOM] = "The network policy blocked this request.",
};

/* The reason code stays not_allowed_local (fail closed, like the
 * reference), but the words say what happened: a user whose DNS is down
 * must not be told the host is local. */
static const char policy_unresolved_message[] =
    "The name did not resolve; unresolvable names are refused.";

static const char *const policy_source_names[_POLICY_SOURCE_MAX] = {
	[POLICY_SOURCE_BASELINE_POLICY] = "baseline_policy",
	[POLICY_SOURCE_MODE_GUARD] = "mode_guard",
	[POLICY_SOURCE_PROXY_STATE] = "proxy_state",
	[POLICY_SOURCE_DECIDER] = "decider",
};

static const char *const policy_scope_names[_POLICY_SCOPE_MAX] = {
	[POLICY_SCOPE_DOMAIN] = "domain",
	[POLICY_SCOPE_NON_DOMAIN] = "non_domain",
};

static const char *const policy_list_names[_POLICY_LIST_MAX] = {
	[POLICY_LIST_ALLOW] = "allow",
	[POLICY_LIST_DENY] = "deny",
};

#define POLICY_NAME(table, v) \
	((unsigned)(v) < ELEMENTSOF(table) ? (table)[v] : "unknown")

const char *
policy_protocol_name(enum policy_protocol p)
{
	return POLICY_NAME(policy_protocol_names, p);
}

int
policy_protocol_from_name(const char *s, enum policy_protocol *ret)
{
	for (unsigned i = 0; i < _POLICY_PROTOCOL_MAX; i++)
		if (s && streq(s, policy_protocol_names[i])) {
			*ret = (enum policy_protocol)i;
			return 0;
		}
	return -EINVAL;
}

const char *
policy_mode_name(enum policy_mode m)
{
	return POLICY_NAME(policy_mode_names, m);
}

const char *
policy_decision_name(enum policy_decision d)
{
	return POLICY_NAME(policy_decision_names, d);
}

const char *
policy_reason_name(enum policy_reason r)
{
	return POLICY_NAME(policy_reason_names, r);
}

const char *
policy_source_name(enum policy_source s)
{
	return POLICY_NAME(policy_source_names, s);
}

const char *
policy_scope_name(enum policy_scope s)
{
	return POLICY_NAME(policy_scope_names, s);
}

const char *
policy_list_name(enum policy_list l)
{
	return POLICY_NAME(policy_list_names, l);
}

/* spec network §4.6 */
const char *
policy_reason_x_proxy_error(enum policy_reason r)
{
	switch (r) {
	case POLICY_REASON_ALLOW:
		return NULL;
	case POLICY_REASON_NOT_ALLOWED:
	case POLICY_REASON_NOT_ALLOWED_LOCAL:
		return "blocked-by-allowlist";
	case POLICY_REASON_DENIED:
		return "blocked-by-denylist";
	case POLICY_REASON_METHOD_NOT_ALLOWED:
		return "blocked-by-method-policy";
	case POLICY_REASON_MITM_REQUIRED:
		return "blocked-by-mitm-required";
	default:
		return "blocked-by-policy";
	}
}

const char *
policy_reason_message(enum policy_reason r)
{
	return (unsigned)r < ELEMENTSOF(policy_reason_messages) ?
	    policy_reason_messages[r] :
	    policy_reason_messages[POLICY_REASON_POLICY_DENIED];
}

const char *
policy_verdict_message(const struct policy_verdict *v, enum policy_reason r)
{
	if (r == POLICY_REASON_NOT_ALLOWED_LOCAL && v->unresolved)
		return policy_unresolved_message;
	return policy_reason_message(r);
}

const char *
policy_verdict_reason(const struct policy_verdict *v, enum policy_reason r)
{
	if (r == POLICY_REASON_CUSTOM && v->custom_reason[0])
		return v->custom_reason;
	return policy_reason_name(r);
}

int
policy_pattern_check(const char *pattern, enum policy_list list,
    size_t *ret_hosts, char *err, size_t errsz)
{
	struct pattern p;
	int r;

	if ((unsigned)list >= _POLICY_LIST_MAX) {
		if (errsz > 0)
			(void)snprintf(err, errsz, "unknown pattern list");
		return -EINVAL;
	}
	r = pattern_parse(pattern, &p, err, errsz);
	if (r >= 0 && ret_hosts)
		*ret_hosts = p.n_alts;
	return r;
}

struct policy *
policy_ref(struct policy *p)
{
	if (p)
		atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
	return p;
}

static void
policy_free(struct policy *p)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		free(p->rules[i].pattern);
		free(p->rules[i].file);
	}
	free(p->rules);
	hostset_free(p->set);
	free(p);
}

struct policy *
policy_unref(struct policy *p)
{
	if (p &&
	    atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
		policy_free(p);
	return NULL;
}

bool
policy_enabled(const struct policy *p)
{
	return p->enabled;
}

enum policy_mode
policy_get_mode(const struct policy *p)
{
	return p->mode;
}

/* Compile rule i into p. Returns 0, -EINVAL (message in err) or -ENOMEM. */
static int
policy_add_rule(struct policy *p, const struct policy_rule_spec *rs, size_t i,
    struct pattern *pat, size_t *n_hosts, char *err, size_t errsz)
{
	struct policy_rule *rule = &p->rules[i];
	int r;

	if ((unsigned)rs->list >= _POLICY_LIST_MAX) {
		(void)snprintf(err, errsz, "unknown pattern list");
		return -EINVAL;
	}
	r = pattern_parse(rs->pattern, pat, err, errsz);
	if (r < 0)
		return r;
	/* Braces multiply: 256 alternatives a rule would let a 16 MiB
	 * config ask for gigabytes. */
	*n_hosts += pat->n_alts;
	if (*n_hosts > LIMIT_POLICY_HOSTS) {
		(void)snprintf(err, errsz,
		    "more than %u host patterns in all once '{...}' "
		    "alternatives are expanded",
		    LIMIT_POLICY_HOSTS);
		return -EINVAL;
	}
	rule->list = rs->list;
	rule->line = rs->line;
	rule->column = rs->column;
	rule->pattern = strdup(rs->pattern);
	rule->file = rs->file ? strdup(rs->file) : NULL;
	if (!rule->pattern || (rs->file && !rule->file))
		return -ENOMEM;
	/* spec network §2.4: only a literal exact entry is "explicit"; a
	 * brace alternative is a glob construct, so it is not. */
	return hostset_add_pattern(p->set, pat, rs->list, (uint32_t)i,
	    rs->list == POLICY_LIST_ALLOW && pat->kind == PATTERN_EXACT &&
		!pat->glob);
}

int
policy_new(const struct policy_settings *s, struct policy **ret,
    struct policy_error *reterr)
{
	struct policy_error e = { .rule = SIZE_MAX };
	struct pattern *pat = NULL;
	struct policy *p = NULL;
	size_t n_hosts = 0;
	int r = -EINVAL;

	if ((unsigned)s->mode >= _POLICY_MODE_MAX) {
		(void)snprintf(e.message, sizeof(e.message), "unknown mode");
		goto fail;
	}
	if (s->n_rules > LIMIT_POLICY_RULES || (s->n_rules && !s->rules)) {
		(void)snprintf(e.message, sizeof(e.message),
		    "more than %u patterns", LIMIT_POLICY_RULES);
		goto fail;
	}
	r = -ENOMEM;
	pat = malloc(sizeof(*pat));
	p = calloc(1, sizeof(*p));
	if (!pat || !p)
		goto fail;
	atomic_init(&p->refs, 1);
	p->enabled = s->enabled;
	p->mode = s->mode;
	p->mitm = s->mitm;
	p->allow_local_binding = s->allow_local_binding;
	p->set = hostset_new();
	p->rules = calloc(s->n_rules ? s->n_rules : 1, sizeof(*p->rules));
	if (!p->set || !p->rules)
		goto fail;
	for (size_t i = 0; i < s->n_rules; i++) {
		p->n_rules = i + 1;
		r = policy_add_rule(p, &s->rules[i], i, pat, &n_hosts,
		    e.message, sizeof(e.message));
		if (r < 0) {
			e.rule = i;
			goto fail;
		}
	}
	free(pat);
	*ret = p;
	return 0;
fail:
	if (r == -ENOMEM)
		(void)snprintf(e.message, sizeof(e.message), "out of memory");
	if (reterr)
		*reterr = e;
	if (p)
		policy_free(p);
	free(pat);
	return r;
}

size_t
policy_rule_count(const struct policy *p)
{
	return p->n_rules;
}

const char *
policy_rule_pattern(const struct policy *p, size_t i,
    enum policy_list *ret_list)
{
	if (i >= p->n_rules)
		return NULL;
	if (ret_list)
		*ret_list = p->rules[i].list;
	return p->rules[i].pattern;
}

int
policy_new_with_mode(const struct policy *p, enum policy_mode mode,
    struct policy **ret, struct policy_error *reterr)
{
	struct policy_rule_spec *specs;
	struct policy_settings s = {
		.enabled = p->enabled,
		.mode = mode,
		.mitm = p->mitm,
		.allow_local_binding = p->allow_local_binding,
		.n_rules = p->n_rules,
	};
	int r;

	specs = calloc(p->n_rules ? p->n_rules : 1, sizeof(*specs));
	if (!specs)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_rules; i++)
		specs[i] = (struct policy_rule_spec){
			.pattern = p->rules[i].pattern,
			.list = p->rules[i].list,
			.file = p->rules[i].file,
			.line = p->rules[i].line,
			.column = p->rules[i].column,
		};
	s.rules = specs;
	r = policy_new(&s, ret, reterr);
	free(specs);
	return r;
}

static void
policy_judge_set(struct policy_verdict *v, enum policy_decision d,
    enum policy_reason r, enum policy_source s)
{
	v->decision = d;
	v->reason = r;
	v->source = s;
}

static void
policy_judge_event(struct policy_verdict *v, enum policy_scope scope,
    bool override)
{
	assert(v->n_events < POLICY_VERDICT_EVENTS);
	v->events[v->n_events++] = (struct policy_event){
		.scope = scope,
		.decision = v->decision,
		/* spec network §9: an override is logged as the miss it was */
		.reason = override ? POLICY_REASON_NOT_ALLOWED : v->reason,
		.source = v->source,
		.override = override,
	};
}

static void
policy_judge_match(const struct policy *p, uint32_t rule,
    struct policy_verdict *v)
{
	const struct policy_rule *r = &p->rules[rule];

	v->matched = true;
	v->match = (struct policy_match){ .list = r->list,
		.pattern = r->pattern,
		.file = r->file,
		.line = r->line,
		.column = r->column };
}

/* A decider's reason: one of our names maps to its enum (never "allow",
 * which would contradict a deny), anything else is kept as printable ASCII,
 * truncated to fit. */
static void
policy_judge_reason(const char *reason, struct policy_verdict *v)
{
	size_t n = 0;

	v->reason = POLICY_REASON_POLICY_DENIED;
	if (!reason || !reason[0] || streq(reason, "allow"))
		return;
	for (unsigned i = 0; i < _POLICY_REASON_MAX; i++)
		if (i != POLICY_REASON_CUSTOM &&
		    streq(reason, policy_reason_names[i])) {
			v->reason = (enum policy_reason)i;
			return;
		}
	for (; reason[n] && n + 1 < sizeof(v->custom_reason); n++)
		v->custom_reason[n] =
		    reason[n] >= 0x20 && reason[n] < 0x7f ? reason[n] : '?';
	v->custom_reason[n] = '\0';
	v->reason = POLICY_REASON_CUSTOM;
}

/* spec network §8.2: the decider's answer, labelled source "decider".
 * Returns true for an allow that overrode the miss. */
static bool
policy_judge_answer(const struct policy_answer *a, struct policy_verdict *v)
{
	v->source = POLICY_SOURCE_DECIDER;
	if (a->timed_out) {
		v->decision = POLICY_DECISION_DENY;
		v->reason = POLICY_REASON_DECIDER_TIMEOUT;
		return false;
	}
	if (a->decision == POLICY_DECISION_ALLOW) {
		v->decision = POLICY_DECISION_ALLOW;
		v->reason = POLICY_REASON_ALLOW;
		return true;
	}
	v->decision = a->decision == POLICY_DECISION_ASK ? POLICY_DECISION_ASK :
							   POLICY_DECISION_DENY;
	policy_judge_reason(a->reason, v);
	return false;
}

enum policy_local {
	POLICY_LOCAL_PUBLIC,
	POLICY_LOCAL_BLOCKED,
	POLICY_LOCAL_RESOLVE,
};

/* Classifying h needs no lookup: an IP literal or a localhost name. */
static bool
policy_host_is_literal(const struct policy_host *h)
{
	return h->kind != POLICY_HOST_NAME || policy_host_is_localhost(h);
}

/* spec network §2.4 step 4, §3.3: a literal (IP or localhost) is
 * classified as it stands; the zone plays no part. Non-public, it passes
 * only when allow-listed by exactly this name. */
static enum policy_local
policy_judge_local_literal(const struct hostset_result *m,
    struct policy_verdict *v)
{
	const struct policy_host *h = &v->host;

	if (m->explicit_allow != HOSTSET_NONE)
		return POLICY_LOCAL_PUBLIC;
	if (h->kind != POLICY_HOST_NAME) {
		struct policy_addr a = policy_host_addr(h);

		if (!policy_addr_class(&a))
			return POLICY_LOCAL_PUBLIC;
		v->has_local_addr = true;
		v->local_addr = a;
	}
	return POLICY_LOCAL_BLOCKED;
}

/* spec network §3: a name is local when any address it resolves to is,
 * or when it does not resolve at all (fail closed). */
static enum policy_local
policy_judge_local_name(const struct policy_input *in, struct policy_verdict *v)
{
	if (!in->resolved)
		return POLICY_LOCAL_RESOLVE;
	if (in->n_addrs == 0 || !in->addrs) {
		v->unresolved = true;
		return POLICY_LOCAL_BLOCKED; /* lookup failed: closed */
	}
	for (size_t i = 0; i < in->n_addrs; i++)
		if (policy_addr_class(&in->addrs[i])) {
			v->has_local_addr = true;
			v->local_addr = in->addrs[i];
			return POLICY_LOCAL_BLOCKED;
		}
	return POLICY_LOCAL_PUBLIC;
}

/* Apply a local/private classification. Returns false when the caller
 * must resolve first (v->next says so). */
static bool
policy_judge_apply_local(enum policy_local l, struct policy_verdict *v)
{
	switch (l) {
	case POLICY_LOCAL_RESOLVE:
		/* Fail closed should a caller ignore v->next. */
		policy_judge_set(v, POLICY_DECISION_DENY,
		    POLICY_REASON_NOT_ALLOWED_LOCAL,
		    POLICY_SOURCE_BASELINE_POLICY);
		v->next = POLICY_NEXT_RESOLVE;
		v->matched = false;
		return false;
	case POLICY_LOCAL_BLOCKED:
		policy_judge_set(v, POLICY_DECISION_DENY,
		    POLICY_REASON_NOT_ALLOWED_LOCAL,
		    POLICY_SOURCE_BASELINE_POLICY);
		v->matched = false;
		return true;
	case POLICY_LOCAL_PUBLIC:
	default:
		return true;
	}
}

/*
 * The deny rule for host h, whose own text matched as m. A deny names an
 * address, so it also covers the forms that reach that address: every
 * zone of a pattern without one ("fe80::1" denies "[fe80::1%25eth0]"),
 * and the IPv4 address a NAT64 address (64:ff9b::/96, RFC 6052 §2.1)
 * is translated to.
 */
static uint32_t
policy_judge_deny(const struct policy *p, const struct policy_host *h,
    const struct hostset_result *m)
{
	static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	const char *zone = strchr(h->text, '%');
	struct hostset_result alt;
	char v4[16];

	if (m->rule[POLICY_LIST_DENY] != HOSTSET_NONE ||
	    h->kind != POLICY_HOST_IPV6)
		return m->rule[POLICY_LIST_DENY];
	if (zone) {
		hostset_match(p->set, h->text, (size_t)(zone - h->text), &alt);
		if (alt.rule[POLICY_LIST_DENY] != HOSTSET_NONE)
			return alt.rule[POLICY_LIST_DENY];
	}
	if (memcmp(h->addr, nat64, sizeof(nat64)) != 0)
		return HOSTSET_NONE;
	(void)snprintf(v4, sizeof(v4), "%u.%u.%u.%u", h->addr[12], h->addr[13],
	    h->addr[14], h->addr[15]);
	hostset_match(p->set, v4, strlen(v4), &alt);
	return alt.rule[POLICY_LIST_DENY];
}

/*
 * spec network §2.4 plus the decider (§8.2), in paddock's order (issue 11,
 * defect 8): deny list; for a literal (IP or localhost) the local check
 * (the reference's place and reason); the allowlist, and the decider for
 * a name on no list; only then, for a name that is still allowed, the
 * local check by resolution. A name that would be refused anyway is never
 * looked up, so a refused request sends nothing to a name server. Returns
 * false when the caller must resolve or ask first (v->next says which).
 */
static bool
policy_judge_host(const struct policy *p, const struct policy_input *in,
    struct policy_verdict *v, bool *ret_override)
{
	struct hostset_result m;
	uint32_t deny;

	*ret_override = false;
	if (!v->host_valid) {
		/* Empty or invalid: the reference's empty-host answer. No
		 * decider: approval cannot make a host well-formed. */
		policy_judge_set(v, POLICY_DECISION_DENY,
		    POLICY_REASON_NOT_ALLOWED, POLICY_SOURCE_BASELINE_POLICY);
		return true;
	}
	hostset_match(p->set, v->host.text, strlen(v->host.text), &m);
	deny = policy_judge_deny(p, &v->host, &m);
	if (deny != HOSTSET_NONE) {
		policy_judge_set(v, POLICY_DECISION_DENY, POLICY_REASON_DENIED,
		    POLICY_SOURCE_BASELINE_POLICY);
		policy_judge_match(p, deny, v);
		return true;
	}
	if (!p->allow_local_binding && policy_host_is_literal(&v->host)) {
		policy_judge_apply_local(policy_judge_local_literal(&m, v), v);
		if (v->decision == POLICY_DECISION_DENY)
			return true;
	}
	if (m.rule[POLICY_LIST_ALLOW] != HOSTSET_NONE) {
		policy_judge_set(v, POLICY_DECISION_ALLOW, POLICY_REASON_ALLOW,
		    POLICY_SOURCE_BASELINE_POLICY);
		policy_judge_match(p, m.rule[POLICY_LIST_ALLOW], v);
	} else {
		policy_judge_set(v, POLICY_DECISION_DENY,
		    POLICY_REASON_NOT_ALLOWED, POLICY_SOURCE_BASELINE_POLICY);
		if (!in->has_decider)
			return true;
		if (!in->answer) {
			v->next = POLICY_NEXT_ASK_DECIDER;
			return false;
		}
		*ret_override = policy_judge_answer(in->answer, v);
		if (v->decision != POLICY_DECISION_ALLOW)
			return true;
	}
	/* Allowed so far: a name must not lead somewhere local. */
	if (p->allow_local_binding)
		return true;
	if (policy_host_is_literal(&v->host)) {
		struct policy_addr a;

		if (v->host.kind == POLICY_HOST_NAME)
			return true; /* localhost: loopback by definition */
		a = policy_host_addr(&v->host);
		v->public_only = !policy_addr_class(&a);
		return true;
	}
	if (!policy_judge_apply_local(policy_judge_local_name(in, v), v))
		return false;
	if (v->decision != POLICY_DECISION_ALLOW)
		*ret_override = false;
	else
		v->public_only = true;
	return true;
}

/* spec network §4.3 step 7, §4.4 step 4: guards after an allowed host. */
static void
policy_judge_mode_guard(const struct policy *p,
    const struct policy_request *req, struct policy_verdict *v)
{
	const char *m = req->method;
	enum policy_reason r;

	if (p->mode != POLICY_MODE_LIMITED)
		return;
	if (req->protocol == POLICY_PROTOCOL_HTTP ||
	    req->protocol == POLICY_PROTOCOL_HTTPS) {
		if (m &&
		    (streq(m, "GET") || streq(m, "HEAD") ||
			streq(m, "OPTIONS")))
			return;
		r = POLICY_REASON_METHOD_NOT_ALLOWED;
	} else if (req->protocol == POLICY_PROTOCOL_HTTPS_CONNECT) {
		/* With interception on, the tunnel passes the guard and each
		 * request inside it is judged on its own (protocol https). */
		if (p->mitm)
			return;
		r = POLICY_REASON_MITM_REQUIRED;
	} else {
		return;
	}
	policy_judge_set(v, POLICY_DECISION_DENY, r, POLICY_SOURCE_MODE_GUARD);
	policy_judge_event(v, POLICY_SCOPE_NON_DOMAIN, false);
}

void
policy_judge(const struct policy *p, const struct policy_input *in,
    struct policy_verdict *ret)
{
	const struct policy_request *req = in->request;
	bool socks = req->protocol == POLICY_PROTOCOL_SOCKS5_TCP ||
	    req->protocol == POLICY_PROTOCOL_SOCKS5_UDP;
	bool override;

	memset(ret, 0, sizeof(*ret));
	ret->next = POLICY_NEXT_DONE;
	ret->host_valid = req->host &&
	    policy_host_parse(req->host,
		strnlen(req->host, LIMIT_POLICY_HOST_INPUT_BYTES + 1),
		&ret->host) == 0;

	if (!p->enabled) {
		policy_judge_set(ret, POLICY_DECISION_DENY,
		    POLICY_REASON_PROXY_DISABLED, POLICY_SOURCE_PROXY_STATE);
		policy_judge_event(ret, POLICY_SCOPE_NON_DOMAIN, false);
		return;
	}
	/* SOCKS in limited mode is refused before the host is looked at,
	 * except a CONNECT to 443 when interception can hold the method clamp
	 * inside its TLS (spec network §4.7). */
	if (socks && p->mode == POLICY_MODE_LIMITED &&
	    !(p->mitm && req->protocol == POLICY_PROTOCOL_SOCKS5_TCP &&
		req->port == 443)) {
		policy_judge_set(ret, POLICY_DECISION_DENY,
		    POLICY_REASON_METHOD_NOT_ALLOWED, POLICY_SOURCE_MODE_GUARD);
		policy_judge_event(ret, POLICY_SCOPE_NON_DOMAIN, false);
		return;
	}
	if (!policy_judge_host(p, in, ret, &override))
		return;
	policy_judge_event(ret, POLICY_SCOPE_DOMAIN, override);
	if (ret->decision == POLICY_DECISION_ALLOW)
		policy_judge_mode_guard(p, req, ret);
}
