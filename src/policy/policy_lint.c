/* SPDX-License-Identifier: MIT */
/*
 * Warnings for `paddock config check`: patterns that are legal but almost
 * certainly not what the author meant. Errors are policy_pattern_check()'s
 * business; a rule that fails it is skipped here.
 *
 * Codes (stable, for scripts and tests):
 *   allow-and-deny    the same pattern is in both lists (the deny wins)
 *   duplicate         the same pattern twice in one list
 *   apex-not-covered  "*.x" in a list where nothing matches x itself
 *   never-matches     a URL, a path or a host no request can carry
 *   port-ignored      a ":port" that is dropped: rules apply to every port
 *
 * Lint is best effort: should memory run out, the checks that need it are
 * skipped rather than reported.
 */
#include "policy/policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/hostset.h"
#include "policy/pattern.h"
#include "util/compiler.h"
#include "util/strutil.h"

struct policy_lint {
	const struct policy_settings *s;
	void (*warn)(void *userdata, size_t rule, const char *code,
	    const char *message);
	void *userdata;
};

/* One rule, or one "*.x" apex, under a comparable key. */
struct policy_lint_key {
	char *key;
	enum policy_list list;
	size_t rule;
};

struct policy_lint_keys {
	struct policy_lint_key *v;
	size_t n, cap;
};

static void policy_lint_warn(const struct policy_lint *l, size_t rule,
    const char *code, const char *fmt, ...) _printf_(4, 5);

static void
policy_lint_warn(const struct policy_lint *l, size_t rule, const char *code,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	l->warn(l->userdata, rule, code, msg);
}

static int
policy_lint_key_add(struct policy_lint_keys *k, const char *key, size_t len,
    enum policy_list list, size_t rule)
{
	struct policy_lint_key *v;

	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;

		v = reallocarray(k->v, cap, sizeof(*v));
		if (!v)
			return -1;
		k->v = v;
		k->cap = cap;
	}
	k->v[k->n].key = strndup(key, len);
	if (!k->v[k->n].key)
		return -1;
	k->v[k->n].list = list;
	k->v[k->n].rule = rule;
	k->n++;
	return 0;
}

static void
policy_lint_keys_done(struct policy_lint_keys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i].key);
	free(k->v);
}

/* By key, then list, then rule: a group's first entry is its earliest. */
static int
policy_lint_key_cmp(const void *a, const void *b)
{
	const struct policy_lint_key *x = a;
	const struct policy_lint_key *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	if (x->list != y->list)
		return x->list < y->list ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* Bytes that can appear in a canonical host, plus glob syntax. */
static bool
policy_lint_byte_ok(char c)
{
	return ascii_isalpha(c) || ascii_isdigit(c) ||
	    (c != '\0' && strchr("-_.:%~*?[]!^{},", c));
}

struct policy_lint_alt {
	const struct policy_lint *l;
	const struct pattern *p;
	size_t rule;
	enum policy_list list;
	struct policy_lint_keys *apexes;
	bool warned;
};

static int
policy_lint_alt_cb(void *userdata, const char *alt, size_t len)
{
	struct policy_lint_alt *a = userdata;
	const char *pattern = a->l->s->rules[a->rule].pattern;
	struct policy_host h;
	bool glob = pattern_is_glob(alt, len);

	if (!a->warned && !glob && a->p->kind == PATTERN_EXACT &&
	    (policy_host_parse(alt, len, &h) < 0 || strlen(h.text) != len ||
		memcmp(h.text, alt, len) != 0)) {
		policy_lint_warn(a->l, a->rule, "never-matches",
		    "'%s' is not a valid host name or IP address, so it never "
		    "matches",
		    pattern);
		a->warned = true;
	}
	if (a->p->kind == PATTERN_SUBDOMAINS && !glob)
		(void)policy_lint_key_add(a->apexes, alt, len, a->list,
		    a->rule);
	return 0;
}

/* Per-rule checks; collects the rule's key and its "*.x" apexes. */
static void
policy_lint_rule(const struct policy_lint *l, size_t i, struct pattern *p,
    struct policy_lint_keys *rules, struct policy_lint_keys *apexes)
{
	const struct policy_rule_spec *rs = &l->s->rules[i];
	struct policy_lint_alt alt = { .l = l,
		.p = p,
		.rule = i,
		.list = rs->list,
		.apexes = apexes };
	char key[PATTERN_BODY_MAX + 1];

	if (strstr(rs->pattern, "://")) {
		policy_lint_warn(l, i, "never-matches",
		    "'%s' is a URL; a pattern names a host only, so this "
		    "never matches",
		    rs->pattern);
		return;
	}
	if (strchr(rs->pattern, '/')) {
		policy_lint_warn(l, i, "never-matches",
		    "'%s' holds a '/'; a pattern names a host only, so this "
		    "never matches",
		    rs->pattern);
		return;
	}
	for (size_t k = 0; k < p->len; k++)
		if (!policy_lint_byte_ok(p->body[k])) {
			policy_lint_warn(l, i, "never-matches",
			    "'%s' holds a character no host name has, so it "
			    "never matches",
			    rs->pattern);
			return;
		}
	if (p->had_port)
		policy_lint_warn(l, i, "port-ignored",
		    "the port in '%s' is ignored: a rule applies to every "
		    "port of its hosts",
		    rs->pattern);
	(void)pattern_expand(p, policy_lint_alt_cb, &alt);

	key[0] = "esa"[p->kind];
	memcpy(key + 1, p->body, p->len);
	(void)policy_lint_key_add(rules, key, p->len + 1, rs->list, i);
}

static void
policy_lint_groups(const struct policy_lint *l, struct policy_lint_keys *k)
{
	if (k->n == 0)
		return; /* qsort() must not see the NULL of an empty list */
	qsort(k->v, k->n, sizeof(*k->v), policy_lint_key_cmp);
	for (size_t i = 0; i < k->n; i++) {
		const struct policy_lint_key *x = &k->v[i];

		if (i > 0 && streq(x->key, k->v[i - 1].key) &&
		    x->list == k->v[i - 1].list)
			policy_lint_warn(l, x->rule, "duplicate",
			    "'%s' repeats an earlier %s pattern",
			    l->s->rules[x->rule].pattern,
			    policy_list_name(x->list));
		else if (i > 0 && streq(x->key, k->v[i - 1].key))
			/* The first deny entry after the allow group. */
			policy_lint_warn(l, x->rule, "allow-and-deny",
			    "'%s' is both allowed and denied; the deny wins",
			    l->s->rules[x->rule].pattern);
	}
}

static void
policy_lint_apexes(const struct policy_lint *l, const struct hostset *set,
    struct policy_lint_keys *k)
{
	if (k->n == 0)
		return; /* qsort() must not see the NULL of an empty list */
	qsort(k->v, k->n, sizeof(*k->v), policy_lint_key_cmp);
	for (size_t i = 0; i < k->n; i++) {
		const struct policy_lint_key *x = &k->v[i];
		struct hostset_result m;

		if (i > 0 && streq(x->key, k->v[i - 1].key) &&
		    x->list == k->v[i - 1].list)
			continue; /* once per apex */
		hostset_match(set, x->key, strlen(x->key), &m);
		if (m.rule[x->list] == HOSTSET_NONE)
			policy_lint_warn(l, x->rule, "apex-not-covered",
			    "'%s' does not match '%s' itself; add it or write "
			    "'**.%s'",
			    l->s->rules[x->rule].pattern, x->key, x->key);
	}
}

void
policy_lint(const struct policy_settings *s,
    void (*warn)(void *userdata, size_t rule, const char *code,
	const char *message),
    void *userdata)
{
	struct policy_lint l = { .s = s, .warn = warn, .userdata = userdata };
	struct policy_lint_keys rules = { 0 }, apexes = { 0 };
	struct hostset *set = hostset_new();
	struct pattern *p = malloc(sizeof(*p));
	bool set_ok = set != NULL;
	size_t n_hosts = 0;

	if (!p || s->n_rules > LIMIT_POLICY_RULES)
		goto out;
	for (size_t i = 0; i < s->n_rules; i++) {
		const struct policy_rule_spec *rs = &s->rules[i];

		if ((unsigned)rs->list >= _POLICY_LIST_MAX ||
		    pattern_parse(rs->pattern, p, NULL, 0) < 0)
			continue;
		policy_lint_rule(&l, i, p, &rules, &apexes);
		/* Past the limit policy_new() refuses the set, and building
		 * it here would only cost memory. */
		n_hosts += p->n_alts;
		if (n_hosts > LIMIT_POLICY_HOSTS)
			set_ok = false;
		if (set_ok &&
		    hostset_add_pattern(set, p, rs->list, (uint32_t)i, false) <
			0)
			set_ok = false;
	}
	policy_lint_groups(&l, &rules);
	if (set_ok)
		policy_lint_apexes(&l, set, &apexes);
out:
	policy_lint_keys_done(&rules);
	policy_lint_keys_done(&apexes);
	hostset_free(set);
	free(p);
}
