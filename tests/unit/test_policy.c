/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/policy: host canonicalisation, patterns, address
 * classes, the decision order, mode guards, the decider rules and lint.
 * Tables first, one row per case; a failing row names itself.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy.h"
#include "util/compiler.h"
#include "util/strutil.h"

#define CHECK(cond, ...)                       \
	do {                                   \
		if (!(cond))                   \
			fail_msg(__VA_ARGS__); \
	} while (0)

#define MAX_RULES 8

/* A policy built from short lists, for the tables below. */
struct setup {
	const char *allow[MAX_RULES];
	const char *deny[MAX_RULES];
	bool local_binding;
	bool limited;
	bool mitm;
	bool disabled;
};

static struct policy *
setup_policy(const struct setup *s)
{
	struct policy_rule_spec rules[2 * MAX_RULES];
	struct policy_settings set = {
		.enabled = !s->disabled,
		.mode = s->limited ? POLICY_MODE_LIMITED : POLICY_MODE_FULL,
		.mitm = s->mitm,
		.allow_local_binding = s->local_binding,
		.rules = rules,
	};
	struct policy_error err;
	struct policy *p = NULL;
	int r;

	for (size_t i = 0; i < MAX_RULES && s->deny[i]; i++)
		rules[set.n_rules++] = (struct policy_rule_spec){
			.pattern = s->deny[i],
			.list = POLICY_LIST_DENY,
			.file = "deny.toml",
			.line = (uint32_t)i + 1,
			.column = 3,
		};
	for (size_t i = 0; i < MAX_RULES && s->allow[i]; i++)
		rules[set.n_rules++] = (struct policy_rule_spec){
			.pattern = s->allow[i],
			.list = POLICY_LIST_ALLOW,
			.file = "allow.toml",
			.line = (uint32_t)i + 1,
			.column = 5,
		};
	r = policy_new(&set, &p, &err);
	CHECK(r == 0, "policy_new: %d: %s", r, err.message);
	return p;
}

static struct policy_addr
addr(const char *text)
{
	struct policy_addr a = { .family = AF_INET };

	if (inet_pton(AF_INET, text, a.bytes) != 1) {
		a.family = AF_INET6;
		CHECK(inet_pton(AF_INET6, text, a.bytes) == 1, "bad address %s",
		    text);
	}
	return a;
}

/* Parse "a,b,c" into addrs; returns the count. */
static size_t
addr_list(const char *list, struct policy_addr *addrs, size_t max)
{
	char one[64];
	size_t n = 0;

	while (list && *list && n < max) {
		const char *comma = strchr(list, ',');
		size_t len = comma ? (size_t)(comma - list) : strlen(list);

		assert_true(len < sizeof(one));
		memcpy(one, list, len);
		one[len] = '\0';
		addrs[n++] = addr(one);
		list += len + (comma ? 1 : 0);
	}
	return n;
}

static void
judge(const struct policy *p, enum policy_protocol proto, const char *host,
    const char *method, const char *addrs, const struct policy_answer *ans,
    bool has_decider, struct policy_verdict *v)
{
	struct policy_addr a[8];
	struct policy_request req = { .protocol = proto,
		.host = host,
		.port = 443,
		.method = method,
		.client = "127.0.0.1:5555" };
	struct policy_input in = { .request = &req,
		.resolved = addrs != NULL,
		.addrs = a,
		.n_addrs = addr_list(addrs, a, ELEMENTSOF(a)),
		.has_decider = has_decider,
		.answer = ans };

	policy_judge(p, &in, v);
}

/* ---- hosts ---- */

static const struct {
	const char *in;
	enum policy_host_kind kind;
	const char *text;
	int port; /* -1: none */
} host_ok[] = {
	/* spec network §2.1 examples */
	{ "  ExAmPlE.CoM  ", POLICY_HOST_NAME, "example.com", -1 },
	{ "example.com:1234", POLICY_HOST_NAME, "example.com", 1234 },
	{ "example.com.:443", POLICY_HOST_NAME, "example.com", 443 },
	{ "[::1]:443", POLICY_HOST_IPV6, "::1", 443 },
	{ "2001:db8::1", POLICY_HOST_IPV6, "2001:db8::1", -1 },
	{ "[fe80::1%25lo0]", POLICY_HOST_IPV6, "fe80::1%lo0", -1 },
	{ "fe80::1%lo0", POLICY_HOST_IPV6, "fe80::1%lo0", -1 },
	{ "[FE80::1%LO0]:80", POLICY_HOST_IPV6, "fe80::1%lo0", 80 },
	{ "example.com...", POLICY_HOST_NAME, "example.com", -1 },
	{ "\tlocalhost\r\n", POLICY_HOST_NAME, "localhost", -1 },
	{ "LOCALHOST.", POLICY_HOST_NAME, "localhost", -1 },
	{ "example.com:", POLICY_HOST_NAME, "example.com", -1 },
	{ "a_b-c.example", POLICY_HOST_NAME, "a_b-c.example", -1 },
	{ "xn--bcher-kva.example", POLICY_HOST_NAME, "xn--bcher-kva.example",
	    -1 },
	{ "foo.0x1g", POLICY_HOST_NAME, "foo.0x1g", -1 },
	{ "1.2.3.a", POLICY_HOST_NAME, "1.2.3.a", -1 },
	/* IPv6 canonical text */
	{ "0:0:0:0:0:0:0:1", POLICY_HOST_IPV6, "::1", -1 },
	{ "[2001:DB8:0:0:1:0:0:1]", POLICY_HOST_IPV6, "2001:db8::1:0:0:1", -1 },
	/* an IPv4-mapped address is the IPv4 address it maps */
	{ "::FFFF:7F00:1", POLICY_HOST_IPV4, "127.0.0.1", -1 },
	{ "[::ffff:10.1.2.3]:80", POLICY_HOST_IPV4, "10.1.2.3", 80 },
	{ "0:0:0:0:0:ffff:a9fe:a9fe", POLICY_HOST_IPV4, "169.254.169.254", -1 },
	{ "::127.0.0.1", POLICY_HOST_IPV6, "::127.0.0.1", -1 },
	{ "::ffff:0:7f00:1", POLICY_HOST_IPV6, "::ffff:0:7f00:1", -1 },
	/* every IPv4 spelling resolvers accept */
	{ "127.0.0.1", POLICY_HOST_IPV4, "127.0.0.1", -1 },
	{ "127.1", POLICY_HOST_IPV4, "127.0.0.1", -1 },
	{ "127.0.1", POLICY_HOST_IPV4, "127.0.0.1", -1 },
	{ "0x7f.0.0.1", POLICY_HOST_IPV4, "127.0.0.1", -1 },
	{ "0X7F.1", POLICY_HOST_IPV4, "127.0.0.1", -1 },
	{ "0177.0.0.1", POLICY_HOST_IPV4, "127.0.0.1", -1 },
	{ "2130706433", POLICY_HOST_IPV4, "127.0.0.1", -1 },
	{ "0x7f000001", POLICY_HOST_IPV4, "127.0.0.1", -1 },
	{ "017700000001", POLICY_HOST_IPV4, "127.0.0.1", -1 },
	{ "0", POLICY_HOST_IPV4, "0.0.0.0", -1 },
	{ "0x", POLICY_HOST_IPV4, "0.0.0.0", -1 },
	{ "10.0x0.00.1:8080", POLICY_HOST_IPV4, "10.0.0.1", 8080 },
	{ "4294967295", POLICY_HOST_IPV4, "255.255.255.255", -1 },
	{ "1.16777215", POLICY_HOST_IPV4, "1.255.255.255", -1 },
	{ "1.2.65535", POLICY_HOST_IPV4, "1.2.255.255", -1 },
	{ "000000000000000000010.1", POLICY_HOST_IPV4, "8.0.0.1", -1 },
	{ "192.168.0.1.", POLICY_HOST_IPV4, "192.168.0.1", -1 },
};

static void
test_policy_host_canonical_forms(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(host_ok); i++) {
		struct policy_host h;
		int r =
		    policy_host_parse(host_ok[i].in, strlen(host_ok[i].in), &h);

		CHECK(r == 0, "'%s': rejected (%d)", host_ok[i].in, r);
		CHECK(h.kind == host_ok[i].kind, "'%s': kind %d", host_ok[i].in,
		    h.kind);
		CHECK(streq(h.text, host_ok[i].text), "'%s': got '%s'",
		    host_ok[i].in, h.text);
		CHECK(h.has_port == (host_ok[i].port >= 0), "'%s': has_port",
		    host_ok[i].in);
		CHECK(!h.has_port || h.port == host_ok[i].port, "'%s': port %u",
		    host_ok[i].in, h.port);
	}
}

static const char *const host_bad[] = {
	"",
	"   ",
	".",
	"...",
	":443",
	"[]",
	"[::1",
	"[::1]x",
	"[::1]:x",
	"[127.0.0.1]",
	"[example.com]",
	"example.com:abc",
	"example.com:65536",
	"example.com:-1",
	"exa mple.com",
	"a..b",
	".example.com",
	"example.com/path",
	"user@example.com",
	"ex%41mple.com",
	"ex*ample",
	"bücher.example",
	"example\xff.com",
	"a\\b.com",
	/* numeric last label: IPv4 or nothing (WHATWG) */
	"1.2.3.4.5",
	"0x1g.1",
	"256.0.0.1",
	"1.2.3.256",
	"1.2.65536",
	"1.16777216",
	"4294967296",
	"0x100000000",
	"08.1",
	"1.09",
	"example.123",
	"foo.0x",
	"1..2",
	"1.2.3.4..1",
	/* IPv6 */
	"1::2::3",
	"::ffff:1.2.3",
	"::ffff:01.2.3.4",
	"fe80::1%",
	"fe80::1%a b",
	"fe80::1%25",
	"fe80::1%2525x",
	"1.2.3.4%eth0",
	"::ffff:1.2.3.4%eth0",
	"gggg::1",
	/* lengths */
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
};

static void
test_policy_host_invalid(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(host_bad); i++) {
		struct policy_host h;
		int r = policy_host_parse(host_bad[i], strlen(host_bad[i]), &h);

		CHECK(r == -EINVAL, "'%s': accepted as '%s'", host_bad[i],
		    h.text);
		CHECK(h.text[0] == '\0', "'%s': text left behind", host_bad[i]);
	}
}

static void
test_policy_host_length_limits(void **state)
{
	char name[400], label[70];
	struct policy_host h;
	size_t n = 0;

	(void)state;
	/* 63-byte labels pass; 253 bytes in all passes, 254 does not. */
	memset(label, 'a', 63);
	label[63] = '\0';
	while (n + 64 <= 253) {
		memcpy(name + n, label, 63);
		name[n + 63] = '.';
		n += 64;
	}
	memset(name + n, 'b', 253 - n);
	n = 253;
	name[n] = '\0';
	assert_int_equal(policy_host_parse(name, n, &h), 0);
	assert_string_equal(h.text, name);
	name[n] = '.'; /* a trailing dot does not count */
	assert_int_equal(policy_host_parse(name, n + 1, &h), 0);
	name[n] = 'b';
	assert_int_equal(policy_host_parse(name, n + 1, &h), -EINVAL);
	/* An embedded NUL is a bad byte, not an end (found by fuzz_host). */
	assert_int_equal(policy_host_parse("a\0b.com", 7, &h), -EINVAL);
	assert_int_equal(policy_host_parse("0::%\0\0\t\t", 8, &h), -EINVAL);
	assert_int_equal(policy_host_parse("fe80::1%lo\0", 11, &h), -EINVAL);
	/* inet_pton() stops at a NUL: what follows must not be dropped */
	assert_int_equal(policy_host_parse("::1\0zz", 6, &h), -EINVAL);
	assert_int_equal(policy_host_parse("[::1\0]:80", 9, &h), -EINVAL);
	assert_int_equal(policy_host_parse("::1\0", 4, &h), -EINVAL);
	assert_int_equal(policy_host_parse(NULL, 0, &h), -EINVAL);
}

/* ---- patterns ---- */

static const struct {
	const char *pattern;
	const char *host;
	bool match;
} match_cases[] = {
	/* exact */
	{ "example.com", "example.com", true },
	{ "example.com", "www.example.com", false },
	{ "Example.COM.", "example.com", true },
	{ "  example.com:443  ", "example.com", true },
	/* "*.x": subdomains at any depth, not the apex (spec §2.2) */
	{ "*.openai.com", "api.openai.com", true },
	{ "*.openai.com", "a.b.openai.com", true },
	{ "*.openai.com", "openai.com", false },
	{ "*.openai.com", "evilopenai.com", false },
	{ "*.openai.com", "openai.com.evil.net", false },
	{ "*.OpenAI.com", "API.openai.COM", true },
	/* "**.x": apex and subdomains */
	{ "**.github.com", "github.com", true },
	{ "**.github.com", "a.b.github.com", true },
	{ "**.github.com", "evilgithub.com", false },
	/* mid-label globs: anchored, and '*' crosses dots */
	{ "region*.v2.argotunnel.com", "region1.v2.argotunnel.com", true },
	{ "region*.v2.argotunnel.com", "region.v2.argotunnel.com", true },
	{ "region*.v2.argotunnel.com", "xregion1.v2.argotunnel.com", false },
	{ "region*.v2.argotunnel.com", "foo.region1.v2.argotunnel.com", false },
	{ "region*.v2.argotunnel.com", "region1.x.v2.argotunnel.com", true },
	{ "api-?.example.com", "api-1.example.com", true },
	{ "api-?.example.com", "api-12.example.com", false },
	{ "a?c.example", "a.c.example", true },
	{ "*.*", "a.b", true },
	{ "*.*", "localhost", false },
	{ "*.*", "::1", false },
	{ "*example.com", "badexample.com", true },
	{ "*example.com", "example.com", true },
	{ "foo*", "foo.example.net", true },
	{ "*.example.*", "a.example.org", true },
	{ "*.example.*", "example.org", false },
	/* sets and alternatives */
	{ "web[0-9].example.com", "web7.example.com", true },
	{ "web[0-9].example.com", "weba.example.com", false },
	{ "web[!0-9].example.com", "weba.example.com", true },
	{ "web[!0-9].example.com", "web1.example.com", false },
	{ "WEB[A-C].example.com", "webb.example.com", true },
	{ "{api,www}.example.com", "www.example.com", true },
	{ "{api,www}.example.com", "ftp.example.com", false },
	{ "**.{a,b}.test", "b.test", true },
	{ "**.{a,b}.test", "x.a.test", true },
	{ "*.{a,b*}.test", "x.bbb.test", true },
	{ "*.{a,b*}.test", "bbb.test", false },
	/* IP literals compare in canonical form */
	{ "127.1", "127.0.0.1", true },
	{ "2130706433", "127.0.0.1", true },
	{ "[::1]", "::1", true },
	{ "[0:0::1]:443", "::1", true },
	{ "fe80::1%25lo0", "fe80::1%lo0", true },
	{ "fe80::1%lo0", "fe80::1%lo1", false },
	{ "fe80::1%lo0", "fe80::1", false },
	{ "fe80::1", "fe80::1%lo0", false },
	{ "10.*", "10.1.2.3", true },
	{ "*.0.1", "10.0.0.1", true },
	/* IDNA: Unicode patterns become A-labels */
	{ "bücher.example", "xn--bcher-kva.example", true },
	{ "*.BÜCHER.example", "www.xn--bcher-kva.example", true },
	{ "**.straße.de", "xn--strae-oqa.de", true },
	/* "[x]" around a whole body is dropped, as for hosts */
	{ "[abc]", "abc", true },
};

static void
test_policy_pattern_matching(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(match_cases); i++) {
		struct setup s = { .allow = { match_cases[i].pattern },
			.local_binding = true };
		struct policy *p = setup_policy(&s);
		struct policy_verdict v;
		bool allowed;

		judge(p, POLICY_PROTOCOL_HTTP, match_cases[i].host, "GET", NULL,
		    NULL, false, &v);
		allowed = v.decision == POLICY_DECISION_ALLOW;
		CHECK(allowed == match_cases[i].match, "'%s' vs '%s': %s",
		    match_cases[i].pattern, match_cases[i].host,
		    allowed ? "matched" : "did not match");
		CHECK(!allowed ||
			streq(v.match.pattern, match_cases[i].pattern),
		    "'%s': wrong rule reported", match_cases[i].pattern);
		policy_unref(p);
	}
}

static const struct {
	const char *pattern;
	const char *error; /* a substring of the message */
} pattern_bad[] = {
	{ "*", "global wildcard" },
	{ "**", "global wildcard" },
	{ "?*", "global wildcard" },
	{ "[*]", "global wildcard" },
	{ "**.[*]", "global wildcard" },
	{ "**.*", "global wildcard" },
	{ "{*,example.com}", "global wildcard" },
	{ "  *  ", "global wildcard" },
	{ "", "empty" },
	{ "   ", "empty" },
	{ "*.", "no host" },
	{ "**.", "no host" },
	{ ".", "no host" },
	{ "ex[ample.com", "not closed" },
	{ "ex[]ample.com", "empty" },
	{ "ex]ample.com", "without a '['" },
	{ "web[9-0].example", "reversed" },
	{ "web[a/].example", "host characters" },
	{ "{a,b.example", "not closed" },
	{ "a,b}.example", "without a '{'" },
	{ "{a,{b,c}}.example", "nested" },
	{ "a\\.example", "escapes" },
	{ "bü*.example", "glob" },
	{ "xn--ab\xff.example", "IDNA" },
	{ "{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}.x", "alternatives" },
};

static void
test_policy_pattern_check_rejects(void **state)
{
	char err[256];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(pattern_bad); i++) {
		int r;

		for (int list = 0; list < _POLICY_LIST_MAX; list++) {
			err[0] = '\0';
			r = policy_pattern_check(pattern_bad[i].pattern,
			    (enum policy_list)list, NULL, err, sizeof(err));
			CHECK(r == -EINVAL, "'%s' accepted in %s",
			    pattern_bad[i].pattern,
			    policy_list_name((enum policy_list)list));
			CHECK(strstr(err, pattern_bad[i].error),
			    "'%s': message '%s'", pattern_bad[i].pattern, err);
		}
	}
	assert_int_equal(policy_pattern_check(NULL, POLICY_LIST_ALLOW, NULL,
			     NULL, 0),
	    -EINVAL);
	assert_int_equal(policy_pattern_check("a.com", _POLICY_LIST_MAX, NULL,
			     err, sizeof(err)),
	    -EINVAL);
}

static void
test_policy_pattern_check_accepts(void **state)
{
	static const char *const ok[] = { "*.*", "example.com",
		"**.example.com", "*.example.com", "a?c.example", "[abc]",
		"{a,b}.example", "{,www.}example.com", "https://example.com",
		"example.com/path", "example.com:443", "bücher.example",
		"*.[a-c]" };
	char err[256];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(ok); i++)
		CHECK(policy_pattern_check(ok[i], POLICY_LIST_DENY, NULL, err,
			  sizeof(err)) == 0,
		    "'%s' rejected: %s", ok[i], err);
}

static void
test_policy_new_reports_failing_rule(void **state)
{
	struct policy_rule_spec rules[] = {
		{ .pattern = "a.example", .list = POLICY_LIST_ALLOW },
		{ .pattern = "*", .list = POLICY_LIST_DENY },
	};
	struct policy_settings s = { .enabled = true,
		.rules = rules,
		.n_rules = 2 };
	struct policy_error e;
	struct policy *p = NULL;

	(void)state;
	assert_int_equal(policy_new(&s, &p, &e), -EINVAL);
	assert_null(p);
	assert_int_equal(e.rule, 1);
	assert_non_null(strstr(e.message, "global wildcard"));
	rules[1].pattern = "b.example";
	assert_int_equal(policy_new(&s, &p, &e), 0);
	/* refcounting: the last unref frees (ASan checks the rest) */
	assert_ptr_equal(policy_ref(p), p);
	assert_null(policy_unref(p));
	assert_true(policy_enabled(p));
	assert_null(policy_unref(p));
	assert_null(policy_unref(NULL));
}

/* Braces multiply: the alternatives of all rules count against one limit
 * (4097 rules of 256 alternatives are just past it). */
static void
test_policy_new_limits_expanded_hosts(void **state)
{
	static const char body[] = "{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}";
	size_t n = LIMIT_POLICY_HOSTS / 256 + 1;
	struct policy_rule_spec *rules = calloc(n, sizeof(*rules));
	char(*text)[64] = calloc(n, sizeof(*text));
	struct policy_settings s = { .enabled = true, .rules = rules };
	struct policy_error e;
	struct policy *p = NULL;
	size_t hosts = 0;

	(void)state;
	assert_non_null(rules);
	assert_non_null(text);
	for (size_t i = 0; i < n; i++) {
		(void)snprintf(text[i], sizeof(text[i]), "%zu%s.example", i,
		    body);
		rules[i] = (struct policy_rule_spec){ .pattern = text[i] };
	}
	assert_int_equal(policy_pattern_check(text[0], POLICY_LIST_ALLOW,
			     &hosts, NULL, 0),
	    0);
	assert_int_equal(hosts, 256);
	s.n_rules = n - 1;
	assert_int_equal(policy_new(&s, &p, &e), 0);
	p = policy_unref(p);
	s.n_rules = n;
	assert_int_equal(policy_new(&s, &p, &e), -EINVAL);
	assert_null(p);
	assert_int_equal(e.rule, n - 1);
	assert_non_null(strstr(e.message, "host patterns in all"));
	free(rules);
	free(text);
}

static void
test_policy_match_reports_origin(void **state)
{
	struct setup s = { .allow = { "*.example.com", "www.example.com",
			       "**.example.com" },
		.deny = { "bad.example.com" },
		.local_binding = true };
	struct policy *p = setup_policy(&s);
	struct policy_verdict v;

	(void)state;
	/* most specific wins: exact, then longest suffix */
	judge(p, POLICY_PROTOCOL_HTTP, "www.example.com", "GET", NULL, NULL,
	    false, &v);
	assert_true(v.matched);
	assert_int_equal(v.match.list, POLICY_LIST_ALLOW);
	assert_string_equal(v.match.pattern, "www.example.com");
	assert_string_equal(v.match.file, "allow.toml");
	assert_int_equal(v.match.line, 2);
	assert_int_equal(v.match.column, 5);
	judge(p, POLICY_PROTOCOL_HTTP, "a.example.com", "GET", NULL, NULL,
	    false, &v);
	assert_string_equal(v.match.pattern, "*.example.com");
	judge(p, POLICY_PROTOCOL_HTTP, "example.com", "GET", NULL, NULL, false,
	    &v);
	assert_string_equal(v.match.pattern, "**.example.com");
	judge(p, POLICY_PROTOCOL_HTTP, "bad.example.com", "GET", NULL, NULL,
	    false, &v);
	assert_int_equal(v.reason, POLICY_REASON_DENIED);
	assert_int_equal(v.match.list, POLICY_LIST_DENY);
	assert_string_equal(v.match.file, "deny.toml");
	assert_int_equal(v.match.line, 1);
	judge(p, POLICY_PROTOCOL_HTTP, "other.net", "GET", NULL, NULL, false,
	    &v);
	assert_false(v.matched);
	policy_unref(p);
}

/* ---- address classes ---- */

static const struct {
	const char *addr;
	const char *class; /* NULL: public */
} addr_cases[] = {
	{ "0.0.0.0", "unspecified" },
	{ "0.0.0.1", "this-network" },
	{ "0.255.255.255", "this-network" },
	{ "1.0.0.0", NULL },
	{ "8.8.8.8", NULL },
	{ "9.255.255.255", NULL },
	{ "10.0.0.0", "private" },
	{ "10.255.255.255", "private" },
	{ "11.0.0.0", NULL },
	{ "100.63.255.255", NULL },
	{ "100.64.0.0", "cgnat" },
	{ "100.127.255.255", "cgnat" },
	{ "100.128.0.0", NULL },
	{ "126.255.255.255", NULL },
	{ "127.0.0.0", "loopback" },
	{ "127.255.255.255", "loopback" },
	{ "128.0.0.0", NULL },
	{ "169.253.255.255", NULL },
	{ "169.254.0.0", "link-local" },
	{ "169.254.255.255", "link-local" },
	{ "169.255.0.0", NULL },
	{ "172.15.255.255", NULL },
	{ "172.16.0.0", "private" },
	{ "172.31.255.255", "private" },
	{ "172.32.0.0", NULL },
	{ "191.255.255.255", NULL },
	{ "192.0.0.0", "ietf-protocol" },
	{ "192.0.0.255", "ietf-protocol" },
	{ "192.0.1.0", NULL },
	{ "192.0.2.0", "documentation" },
	{ "192.0.2.255", "documentation" },
	{ "192.0.3.0", NULL },
	{ "192.167.255.255", NULL },
	{ "192.168.0.0", "private" },
	{ "192.168.255.255", "private" },
	{ "192.169.0.0", NULL },
	{ "198.17.255.255", NULL },
	{ "198.18.0.0", "benchmarking" },
	{ "198.19.255.255", "benchmarking" },
	{ "198.20.0.0", NULL },
	{ "198.51.99.255", NULL },
	{ "198.51.100.0", "documentation" },
	{ "198.51.100.255", "documentation" },
	{ "198.51.101.0", NULL },
	{ "203.0.112.255", NULL },
	{ "203.0.113.0", "documentation" },
	{ "203.0.113.255", "documentation" },
	{ "203.0.114.0", NULL },
	{ "223.255.255.255", NULL },
	{ "224.0.0.0", "multicast" },
	{ "239.255.255.255", "multicast" },
	{ "240.0.0.0", "reserved" },
	{ "255.255.255.254", "reserved" },
	{ "255.255.255.255", "broadcast" },
	/* IPv6 */
	{ "::", "unspecified" },
	{ "::1", "loopback" },
	{ "::2", "this-network" }, /* compatible form of 0.0.0.2 */
	{ "2606:4700::1111", NULL },
	{ "::ffff:127.0.0.1", "loopback" },
	{ "::ffff:10.1.2.3", "private" },
	{ "::ffff:8.8.8.8", NULL },
	{ "::127.0.0.1", "loopback" },
	{ "::8.8.8.8", NULL },
	{ "::1:0:0:0", NULL },
	{ "64:ff9b::7f00:1", "loopback" },
	{ "64:ff9b::a9fe:a9fe", "link-local" },
	{ "64:ff9b::808:808", NULL },
	{ "64:ff9b:0:0:0:1::1", NULL }, /* outside the /96 */
	{ "2002:7f00:1::", "loopback" },
	{ "2002:c0a8:101::1", "private" },
	{ "2002:808:808::", NULL },
	{ "2001:0:4136:e378:8000:63bf:3fff:fdd2", "documentation" },
	{ "2001:0:1:2:3:4:80ff:fffe", "loopback" }, /* ~7f000001 */
	{ "2001::f7f7:f7f7", NULL },                /* ~08080808 */
	{ "2001:1::1", NULL },
	{ "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", NULL },
	{ "2001:db8::", "documentation" },
	{ "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "documentation" },
	{ "2001:db9::", NULL },
	{ "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL },
	{ "fc00::", "unique-local" },
	{ "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "unique-local" },
	{ "fe00::", NULL },
	{ "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL },
	{ "fe80::", "link-local" },
	{ "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "link-local" },
	{ "fec0::", "site-local" },
	{ "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "site-local" },
	{ "ff00::", "multicast" },
	{ "ff02::1", "multicast" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "multicast" },
};

static void
test_policy_addr_classes(void **state)
{
	struct policy_addr odd = { .family = AF_UNIX };

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(addr_cases); i++) {
		struct policy_addr a = addr(addr_cases[i].addr);
		const char *c = policy_addr_class(&a);

		if (!addr_cases[i].class)
			CHECK(!c, "%s: '%s', expected public",
			    addr_cases[i].addr, c);
		else
			CHECK(c && streq(c, addr_cases[i].class),
			    "%s: '%s', expected '%s'", addr_cases[i].addr,
			    c ? c : "public", addr_cases[i].class);
	}
	/* an unknown family fails closed */
	assert_non_null(policy_addr_class(&odd));
}

/* Resolver answers enter in canonical form (issue 11, defect 1): every
 * form a resolver may hand out, one addrinfo each, as getaddrinfo() or
 * evdns would. */
static const struct {
	const char *answer;
	int family; /* of the canonical form */
	const char *canonical;
} canon_cases[] = {
	{ "127.0.0.1", AF_INET, "127.0.0.1" },
	{ "::1", AF_INET6, "::1" },
	{ "::ffff:127.0.0.1", AF_INET, "127.0.0.1" },
	{ "::ffff:0.0.0.0", AF_INET, "0.0.0.0" },
	{ "::ffff:93.184.215.10", AF_INET, "93.184.215.10" },
	{ "0.0.0.0", AF_INET, "0.0.0.0" },
	{ "::", AF_INET6, "::" },
	/* the deprecated compatible form goes nowhere as IPv4: kept */
	{ "::127.0.0.1", AF_INET6, "::127.0.0.1" },
	{ "2606:4700:90::10", AF_INET6, "2606:4700:90::10" },
};

static struct addrinfo *
answer_ai(const char *text, struct sockaddr_storage *ss, struct addrinfo *ai)
{
	struct policy_addr a = addr(text);

	memset(ss, 0, sizeof(*ss));
	memset(ai, 0, sizeof(*ai));
	ai->ai_family = a.family;
	ai->ai_addr = (struct sockaddr *)ss;
	if (a.family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, a.bytes, 4);
		ai->ai_addrlen = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, a.bytes, 16);
		ai->ai_addrlen = sizeof(*in6);
	}
	return ai;
}

static void
test_policy_addrs_add_canonicalises_answers(void **state)
{
	struct sockaddr_storage ss[2];
	struct addrinfo ai[2];
	struct policy_addr out[4];
	char text[INET6_ADDRSTRLEN];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(canon_cases); i++) {
		size_t n = policy_addrs_add(out, 0, ELEMENTSOF(out),
		    answer_ai(canon_cases[i].answer, &ss[0], &ai[0]));

		assert_int_equal(n, 1);
		CHECK(out[0].family == canon_cases[i].family, "%s: family %d",
		    canon_cases[i].answer, out[0].family);
		assert_non_null(
		    inet_ntop(out[0].family, out[0].bytes, text, sizeof(text)));
		CHECK(streq(text, canon_cases[i].canonical), "%s: got %s",
		    canon_cases[i].answer, text);
	}
	/* A and mapped AAAA for one address are one destination. */
	answer_ai("::ffff:127.0.0.1", &ss[0], &ai[0]);
	ai[0].ai_next = answer_ai("127.0.0.1", &ss[1], &ai[1]);
	assert_int_equal(policy_addrs_add(out, 0, ELEMENTSOF(out), &ai[0]), 1);
	assert_int_equal(out[0].family, AF_INET);
	/* The classes of the canonical forms are those of the IPv4 address. */
	answer_ai("::ffff:0.0.0.0", &ss[0], &ai[0]);
	assert_int_equal(policy_addrs_add(out, 0, ELEMENTSOF(out), &ai[0]), 1);
	assert_string_equal(policy_addr_class(&out[0]), "unspecified");
	/* A mapped literal is the IPv4 address too. */
	{
		struct policy_host h;
		struct policy_addr a;

		assert_int_equal(policy_host_parse("[::ffff:127.0.0.1]", 18,
				     &h),
		    0);
		a = policy_host_addr(&h);
		assert_int_equal(a.family, AF_INET);
		assert_true(policy_addr_equal(&a, &out[0]) == false);
		out[1] = addr("::ffff:127.0.0.1");
		assert_true(policy_addr_equal(&a, &out[1]));
	}
}

/* ---- decision order (spec network §2.4) ---- */

struct judge_case {
	const char *name;
	struct setup setup;
	const char *host;
	const char *addrs; /* NULL: not resolved yet; "": lookup failed */
	enum policy_next next;
	enum policy_decision decision;
	enum policy_reason reason;
	const char *match; /* the reported pattern, or NULL */
};

static const struct judge_case order_cases[] = {
	{ "empty host", { .allow = { "a.com" } }, "", "", POLICY_NEXT_DONE,
	    POLICY_DECISION_DENY, POLICY_REASON_NOT_ALLOWED, NULL },
	{ "invalid host", { .allow = { "a.com" } }, "a..com", "",
	    POLICY_NEXT_DONE, POLICY_DECISION_DENY, POLICY_REASON_NOT_ALLOWED,
	    NULL },
	{ "deny beats an exact allow",
	    { .allow = { "a.com" }, .deny = { "a.com" } }, "a.com", "8.8.8.8",
	    POLICY_NEXT_DONE, POLICY_DECISION_DENY, POLICY_REASON_DENIED,
	    "a.com" },
	{ "deny beats a wider allow",
	    { .allow = { "**.a.com" }, .deny = { "*.a.com" } }, "x.a.com", NULL,
	    POLICY_NEXT_DONE, POLICY_DECISION_DENY, POLICY_REASON_DENIED,
	    "*.a.com" },
	{ "deny before local check", { .deny = { "127.0.0.1" } }, "127.1", NULL,
	    POLICY_NEXT_DONE, POLICY_DECISION_DENY, POLICY_REASON_DENIED,
	    "127.0.0.1" },
	{ "deny needs no lookup", { .deny = { "*.evil.com" } }, "x.evil.com",
	    NULL, POLICY_NEXT_DONE, POLICY_DECISION_DENY, POLICY_REASON_DENIED,
	    "*.evil.com" },
	{ "name: resolve first", { .allow = { "a.com" } }, "a.com", NULL,
	    POLICY_NEXT_RESOLVE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED_LOCAL, NULL },
	/* issue 11, defect 8: a name refused anyway is never looked up */
	{ "name: not listed, no lookup", { .allow = { "a.com" } }, "b.com",
	    NULL, POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED, NULL },
	{ "name: empty allowlist, no lookup", { .deny = { "x.com" } }, "a.com",
	    NULL, POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED, NULL },
	{ "name: public addresses", { .allow = { "a.com" } }, "a.com",
	    "8.8.8.8,2606:4700::1111", POLICY_NEXT_DONE, POLICY_DECISION_ALLOW,
	    POLICY_REASON_ALLOW, "a.com" },
	{ "name: one private address", { .allow = { "a.com" } }, "a.com",
	    "8.8.8.8,10.0.0.1", POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED_LOCAL, NULL },
	{ "name: failed lookup fails closed", { .allow = { "a.com" } }, "a.com",
	    "", POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED_LOCAL, NULL },
	{ "name: not listed and unresolvable is not_allowed",
	    { .allow = { "a.com" } }, "b.com", "", POLICY_NEXT_DONE,
	    POLICY_DECISION_DENY, POLICY_REASON_NOT_ALLOWED, NULL },
	{ "name: glob allow resolves too", { .allow = { "*.a.com" } },
	    "x.a.com", NULL, POLICY_NEXT_RESOLVE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED_LOCAL, NULL },
	{ "name: explicit allow does not excuse a private address",
	    { .allow = { "intranet.corp" } }, "intranet.corp", "10.1.1.1",
	    POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED_LOCAL, NULL },
	{ "name: NAT64 of loopback", { .allow = { "a.com" } }, "a.com",
	    "64:ff9b::7f00:1", POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED_LOCAL, NULL },
	{ "name: public but not listed", { .allow = { "a.com" } }, "b.com",
	    "8.8.8.8", POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED, NULL },
	/* RFC 6761 §6.3: names under localhost are loopback, never DNS */
	{ "foo.localhost is localhost: glob allow is not explicit",
	    { .allow = { "**.localhost" } }, "foo.localhost", NULL,
	    POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED_LOCAL, NULL },
	{ "foo.localhost is localhost: explicit allow",
	    { .allow = { "foo.localhost" } }, "foo.localhost", NULL,
	    POLICY_NEXT_DONE, POLICY_DECISION_ALLOW, POLICY_REASON_ALLOW,
	    "foo.localhost" },
	{ "notlocalhost is a name", { .allow = { "notlocalhost" } },
	    "notlocalhost", NULL, POLICY_NEXT_RESOLVE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED_LOCAL, NULL },
	{ "local literal: not listed", { .allow = { "a.com" } }, "127.0.0.1",
	    NULL, POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED_LOCAL, NULL },
	{ "local literal: explicit allow", { .allow = { "127.0.0.1" } },
	    "127.0.0.1", NULL, POLICY_NEXT_DONE, POLICY_DECISION_ALLOW,
	    POLICY_REASON_ALLOW, "127.0.0.1" },
	{ "local literal: other spelling, explicit allow",
	    { .allow = { "0x7f.1" } }, "2130706433", NULL, POLICY_NEXT_DONE,
	    POLICY_DECISION_ALLOW, POLICY_REASON_ALLOW, "0x7f.1" },
	{ "local literal: octal spelling is still local",
	    { .allow = { "**.0.0.1" } }, "0177.0.0.1", NULL, POLICY_NEXT_DONE,
	    POLICY_DECISION_DENY, POLICY_REASON_NOT_ALLOWED_LOCAL, NULL },
	{ "local literal: glob allow is not explicit", { .allow = { "127.*" } },
	    "127.0.0.1", NULL, POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED_LOCAL, NULL },
	{ "local literal: brace allow is not explicit",
	    { .allow = { "{127.0.0.1,a.com}" } }, "127.0.0.1", NULL,
	    POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED_LOCAL, NULL },
	{ "local literal: **. apex is not explicit",
	    { .allow = { "**.localhost" } }, "localhost", NULL,
	    POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED_LOCAL, NULL },
	{ "local literal: *.* is not explicit", { .allow = { "*.*" } },
	    "10.0.0.1", NULL, POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED_LOCAL, NULL },
	{ "localhost: explicit", { .allow = { "LOCALHOST." } },
	    "localhost:8080", NULL, POLICY_NEXT_DONE, POLICY_DECISION_ALLOW,
	    POLICY_REASON_ALLOW, "LOCALHOST." },
	{ "localhost: not listed", { .allow = { "a.com" } }, "localhost", NULL,
	    POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED_LOCAL, NULL },
	{ "IPv6 loopback", { .allow = { "a.com" } }, "[::1]", NULL,
	    POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED_LOCAL, NULL },
	{ "IPv6 zone ignored for the class", { .allow = { "a.com" } },
	    "[fe80::1%25eth0]", NULL, POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED_LOCAL, NULL },
	{ "IPv6 zone kept for the match", { .allow = { "fe80::1%eth0" } },
	    "[fe80::1%25eth0]", NULL, POLICY_NEXT_DONE, POLICY_DECISION_ALLOW,
	    POLICY_REASON_ALLOW, "fe80::1%eth0" },
	{ "mapped loopback", { .allow = { "a.com" } }, "::ffff:7f00:1", NULL,
	    POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED_LOCAL, NULL },
	{ "public literal: no lookup, allowlist", { .allow = { "8.8.8.8" } },
	    "8.8.8.8", NULL, POLICY_NEXT_DONE, POLICY_DECISION_ALLOW,
	    POLICY_REASON_ALLOW, "8.8.8.8" },
	{ "public literal: not listed", { .allow = { "a.com" } }, "1.1.1.1",
	    NULL, POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED, NULL },
	{ "empty allowlist blocks everything", { .deny = { "x.com" } }, "a.com",
	    "8.8.8.8", POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_NOT_ALLOWED, NULL },
	{ "local binding: no lookup",
	    { .allow = { "a.com" }, .local_binding = true }, "a.com", NULL,
	    POLICY_NEXT_DONE, POLICY_DECISION_ALLOW, POLICY_REASON_ALLOW,
	    "a.com" },
	{ "local binding: private addresses ignored",
	    { .allow = { "a.com" }, .local_binding = true }, "a.com",
	    "10.0.0.1", POLICY_NEXT_DONE, POLICY_DECISION_ALLOW,
	    POLICY_REASON_ALLOW, "a.com" },
	{ "local binding: loopback still needs the allowlist",
	    { .allow = { "a.com" }, .local_binding = true }, "127.0.0.1", NULL,
	    POLICY_NEXT_DONE, POLICY_DECISION_DENY, POLICY_REASON_NOT_ALLOWED,
	    NULL },
	{ "local binding: glob may allow loopback",
	    { .allow = { "127.*" }, .local_binding = true }, "127.0.0.1", NULL,
	    POLICY_NEXT_DONE, POLICY_DECISION_ALLOW, POLICY_REASON_ALLOW,
	    "127.*" },
	/* Another spelling of a denied address is denied too. */
	{ "local binding: mapped IPv6 of a denied IPv4",
	    { .allow = { "*::*", "*.*" },
		.deny = { "169.254.169.254" },
		.local_binding = true },
	    "[::ffff:a9fe:a9fe]", NULL, POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_DENIED, "169.254.169.254" },
	{ "local binding: mapped IPv6 under a denied glob",
	    { .allow = { "*::*", "*.*" },
		.deny = { "10.*" },
		.local_binding = true },
	    "::ffff:10.0.0.1", NULL, POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_DENIED, "10.*" },
	{ "local binding: NAT64 of a denied IPv4",
	    { .allow = { "*::*" },
		.deny = { "169.254.169.254" },
		.local_binding = true },
	    "[64:ff9b::a9fe:a9fe]", NULL, POLICY_NEXT_DONE,
	    POLICY_DECISION_DENY, POLICY_REASON_DENIED, "169.254.169.254" },
	{ "local binding: NAT64 under a denied glob",
	    { .allow = { "*::*" }, .deny = { "10.*" }, .local_binding = true },
	    "64:ff9b::10.0.0.1", NULL, POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_DENIED, "10.*" },
	{ "local binding: a zone does not dodge a zoneless deny",
	    { .allow = { "fe80::*" },
		.deny = { "fe80::1" },
		.local_binding = true },
	    "[fe80::1%25eth0]", NULL, POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_DENIED, "fe80::1" },
	{ "local binding: a zoned deny names its zone only",
	    { .allow = { "fe80::*" },
		.deny = { "fe80::1%eth1" },
		.local_binding = true },
	    "[fe80::1%25eth0]", NULL, POLICY_NEXT_DONE, POLICY_DECISION_ALLOW,
	    POLICY_REASON_ALLOW, "fe80::*" },
	{ "mapped loopback: the IPv4 explicit allow covers it",
	    { .allow = { "127.0.0.1" } }, "[::ffff:127.0.0.1]", NULL,
	    POLICY_NEXT_DONE, POLICY_DECISION_ALLOW, POLICY_REASON_ALLOW,
	    "127.0.0.1" },
	{ "local binding: deny still wins",
	    { .allow = { "**.a.com" },
		.deny = { "b.a.com" },
		.local_binding = true },
	    "b.a.com", NULL, POLICY_NEXT_DONE, POLICY_DECISION_DENY,
	    POLICY_REASON_DENIED, "b.a.com" },
};

static void
test_policy_judge_decision_order(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(order_cases); i++) {
		const struct judge_case *c = &order_cases[i];
		struct policy *p = setup_policy(&c->setup);
		struct policy_verdict v;

		judge(p, POLICY_PROTOCOL_HTTP, c->host, "GET", c->addrs, NULL,
		    false, &v);
		CHECK(v.next == c->next, "%s: next %d", c->name, v.next);
		CHECK(v.decision == c->decision, "%s: decision %s", c->name,
		    policy_decision_name(v.decision));
		CHECK(v.reason == c->reason, "%s: reason %s", c->name,
		    policy_reason_name(v.reason));
		CHECK(v.source == POLICY_SOURCE_BASELINE_POLICY,
		    "%s: source %s", c->name, policy_source_name(v.source));
		CHECK(v.matched == (c->match != NULL), "%s: matched %d",
		    c->name, v.matched);
		CHECK(!c->match || streq(v.match.pattern, c->match),
		    "%s: match '%s'", c->name, v.match.pattern);
		/* only a final verdict carries its audit event */
		CHECK(v.n_events == (v.next == POLICY_NEXT_DONE ? 1u : 0u),
		    "%s: %zu events", c->name, v.n_events);
		CHECK(v.next != POLICY_NEXT_DONE ||
			(v.events[0].scope == POLICY_SCOPE_DOMAIN &&
			    v.events[0].decision == v.decision &&
			    v.events[0].reason == v.reason &&
			    !v.events[0].override),
		    "%s: event", c->name);
		policy_unref(p);
	}
}

static void
test_policy_judge_reports_local_addr(void **state)
{
	struct setup s = { .allow = { "a.com" } };
	struct policy *p = setup_policy(&s);
	struct policy_addr want = addr("192.168.1.9");
	struct policy_verdict v;

	(void)state;
	judge(p, POLICY_PROTOCOL_HTTPS_CONNECT, "a.com", "CONNECT",
	    "8.8.8.8,192.168.1.9", NULL, false, &v);
	assert_int_equal(v.reason, POLICY_REASON_NOT_ALLOWED_LOCAL);
	assert_true(v.has_local_addr);
	assert_memory_equal(&v.local_addr, &want, sizeof(want));
	judge(p, POLICY_PROTOCOL_HTTP, "0x7f.1", "GET", NULL, NULL, false, &v);
	assert_true(v.host_valid);
	assert_string_equal(v.host.text, "127.0.0.1");
	assert_true(v.has_local_addr);
	assert_int_equal(v.local_addr.family, AF_INET);
	assert_false(v.unresolved);
	assert_string_equal(policy_verdict_message(&v, v.reason),
	    policy_reason_message(POLICY_REASON_NOT_ALLOWED_LOCAL));
	judge(p, POLICY_PROTOCOL_HTTP, "a.com", "GET", "", NULL, false, &v);
	assert_false(v.has_local_addr); /* a failed lookup has none */
	/* ... and says so, with the reason code kept (issue 11) */
	assert_int_equal(v.reason, POLICY_REASON_NOT_ALLOWED_LOCAL);
	assert_true(v.unresolved);
	assert_non_null(
	    strstr(policy_verdict_message(&v, v.reason), "did not resolve"));
	judge(p, POLICY_PROTOCOL_HTTP, "a.com", "GET", "8.8.8.8", NULL, false,
	    &v);
	assert_false(v.has_local_addr);
	assert_false(v.unresolved);
	assert_true(v.public_only);
	policy_unref(p);
}

/* ---- mode guards ---- */

struct guard_case {
	const char *name;
	struct setup setup;
	enum policy_protocol protocol;
	const char *host;
	const char *method;
	enum policy_reason reason;
	enum policy_source source;
	size_t n_events; /* the last one is checked against the verdict */
	enum policy_scope last_scope;
};

#define ALLOWED "a.com"

static const struct guard_case guard_cases[] = {
	{ "http limited GET", { .allow = { ALLOWED }, .limited = true },
	    POLICY_PROTOCOL_HTTP, ALLOWED, "GET", POLICY_REASON_ALLOW,
	    POLICY_SOURCE_BASELINE_POLICY, 1, POLICY_SCOPE_DOMAIN },
	{ "http limited HEAD", { .allow = { ALLOWED }, .limited = true },
	    POLICY_PROTOCOL_HTTP, ALLOWED, "HEAD", POLICY_REASON_ALLOW,
	    POLICY_SOURCE_BASELINE_POLICY, 1, POLICY_SCOPE_DOMAIN },
	{ "http limited OPTIONS", { .allow = { ALLOWED }, .limited = true },
	    POLICY_PROTOCOL_HTTP, ALLOWED, "OPTIONS", POLICY_REASON_ALLOW,
	    POLICY_SOURCE_BASELINE_POLICY, 1, POLICY_SCOPE_DOMAIN },
	{ "http limited POST", { .allow = { ALLOWED }, .limited = true },
	    POLICY_PROTOCOL_HTTP, ALLOWED, "POST",
	    POLICY_REASON_METHOD_NOT_ALLOWED, POLICY_SOURCE_MODE_GUARD, 2,
	    POLICY_SCOPE_NON_DOMAIN },
	{ "http limited lower-case get",
	    { .allow = { ALLOWED }, .limited = true }, POLICY_PROTOCOL_HTTP,
	    ALLOWED, "get", POLICY_REASON_METHOD_NOT_ALLOWED,
	    POLICY_SOURCE_MODE_GUARD, 2, POLICY_SCOPE_NON_DOMAIN },
	{ "http limited no method", { .allow = { ALLOWED }, .limited = true },
	    POLICY_PROTOCOL_HTTP, ALLOWED, NULL,
	    POLICY_REASON_METHOD_NOT_ALLOWED, POLICY_SOURCE_MODE_GUARD, 2,
	    POLICY_SCOPE_NON_DOMAIN },
	{ "http limited: host policy first",
	    { .allow = { ALLOWED }, .limited = true }, POLICY_PROTOCOL_HTTP,
	    "b.com", "POST", POLICY_REASON_NOT_ALLOWED,
	    POLICY_SOURCE_BASELINE_POLICY, 1, POLICY_SCOPE_DOMAIN },
	{ "http full POST", { .allow = { ALLOWED } }, POLICY_PROTOCOL_HTTP,
	    ALLOWED, "POST", POLICY_REASON_ALLOW, POLICY_SOURCE_BASELINE_POLICY,
	    1, POLICY_SCOPE_DOMAIN },
	{ "connect limited without mitm",
	    { .allow = { ALLOWED }, .limited = true },
	    POLICY_PROTOCOL_HTTPS_CONNECT, ALLOWED, "CONNECT",
	    POLICY_REASON_MITM_REQUIRED, POLICY_SOURCE_MODE_GUARD, 2,
	    POLICY_SCOPE_NON_DOMAIN },
	{ "connect limited with mitm",
	    { .allow = { ALLOWED }, .limited = true, .mitm = true },
	    POLICY_PROTOCOL_HTTPS_CONNECT, ALLOWED, "CONNECT",
	    POLICY_REASON_ALLOW, POLICY_SOURCE_BASELINE_POLICY, 1,
	    POLICY_SCOPE_DOMAIN },
	{ "connect limited: host policy first",
	    { .allow = { ALLOWED }, .limited = true, .deny = { "b.com" } },
	    POLICY_PROTOCOL_HTTPS_CONNECT, "b.com", "CONNECT",
	    POLICY_REASON_DENIED, POLICY_SOURCE_BASELINE_POLICY, 1,
	    POLICY_SCOPE_DOMAIN },
	{ "connect full", { .allow = { ALLOWED } },
	    POLICY_PROTOCOL_HTTPS_CONNECT, ALLOWED, "CONNECT",
	    POLICY_REASON_ALLOW, POLICY_SOURCE_BASELINE_POLICY, 1,
	    POLICY_SCOPE_DOMAIN },
	{ "socks tcp limited: before host policy",
	    { .allow = { ALLOWED }, .limited = true, .deny = { "b.com" } },
	    POLICY_PROTOCOL_SOCKS5_TCP, "b.com", NULL,
	    POLICY_REASON_METHOD_NOT_ALLOWED, POLICY_SOURCE_MODE_GUARD, 1,
	    POLICY_SCOPE_NON_DOMAIN },
	{ "socks tcp limited allowed host",
	    { .allow = { ALLOWED }, .limited = true },
	    POLICY_PROTOCOL_SOCKS5_TCP, ALLOWED, NULL,
	    POLICY_REASON_METHOD_NOT_ALLOWED, POLICY_SOURCE_MODE_GUARD, 1,
	    POLICY_SCOPE_NON_DOMAIN },
	{ "socks udp limited", { .allow = { "8.8.8.8" }, .limited = true },
	    POLICY_PROTOCOL_SOCKS5_UDP, "8.8.8.8", NULL,
	    POLICY_REASON_METHOD_NOT_ALLOWED, POLICY_SOURCE_MODE_GUARD, 1,
	    POLICY_SCOPE_NON_DOMAIN },
	{ "socks tcp full", { .allow = { ALLOWED } },
	    POLICY_PROTOCOL_SOCKS5_TCP, ALLOWED, NULL, POLICY_REASON_ALLOW,
	    POLICY_SOURCE_BASELINE_POLICY, 1, POLICY_SCOPE_DOMAIN },
	{ "socks udp full: IP literal", { .allow = { "8.8.8.8" } },
	    POLICY_PROTOCOL_SOCKS5_UDP, "8.8.8.8", NULL, POLICY_REASON_ALLOW,
	    POLICY_SOURCE_BASELINE_POLICY, 1, POLICY_SCOPE_DOMAIN },
	{ "disabled http", { .allow = { ALLOWED }, .disabled = true },
	    POLICY_PROTOCOL_HTTP, ALLOWED, "GET", POLICY_REASON_PROXY_DISABLED,
	    POLICY_SOURCE_PROXY_STATE, 1, POLICY_SCOPE_NON_DOMAIN },
	{ "disabled connect", { .allow = { ALLOWED }, .disabled = true },
	    POLICY_PROTOCOL_HTTPS_CONNECT, ALLOWED, "CONNECT",
	    POLICY_REASON_PROXY_DISABLED, POLICY_SOURCE_PROXY_STATE, 1,
	    POLICY_SCOPE_NON_DOMAIN },
	{ "disabled socks tcp, limited",
	    { .allow = { ALLOWED }, .disabled = true, .limited = true },
	    POLICY_PROTOCOL_SOCKS5_TCP, ALLOWED, NULL,
	    POLICY_REASON_PROXY_DISABLED, POLICY_SOURCE_PROXY_STATE, 1,
	    POLICY_SCOPE_NON_DOMAIN },
	{ "disabled socks udp, bad host", { .disabled = true },
	    POLICY_PROTOCOL_SOCKS5_UDP, "", NULL, POLICY_REASON_PROXY_DISABLED,
	    POLICY_SOURCE_PROXY_STATE, 1, POLICY_SCOPE_NON_DOMAIN },
};

static void
test_policy_judge_mode_guards(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(guard_cases); i++) {
		const struct guard_case *c = &guard_cases[i];
		struct setup s = c->setup;
		struct policy *p;
		struct policy_verdict v;
		const struct policy_event *last;

		s.local_binding = true;
		p = setup_policy(&s);
		/* A decider must never be asked about a guard denial. */
		judge(p, c->protocol, c->host, c->method, NULL, NULL, true, &v);
		CHECK(v.next == POLICY_NEXT_DONE ||
			c->reason == POLICY_REASON_NOT_ALLOWED,
		    "%s: next %d", c->name, v.next);
		if (v.next == POLICY_NEXT_ASK_DECIDER)
			judge(p, c->protocol, c->host, c->method, NULL,
			    &(struct policy_answer){ .decision =
							 POLICY_DECISION_DENY,
				.reason = "not_allowed" },
			    true, &v);
		CHECK(v.reason == c->reason, "%s: reason %s", c->name,
		    policy_reason_name(v.reason));
		CHECK(v.decision ==
			(c->reason == POLICY_REASON_ALLOW ?
				POLICY_DECISION_ALLOW :
				POLICY_DECISION_DENY),
		    "%s: decision", c->name);
		CHECK(c->reason == POLICY_REASON_NOT_ALLOWED ||
			v.source == c->source,
		    "%s: source %s", c->name, policy_source_name(v.source));
		CHECK(v.n_events == c->n_events, "%s: %zu events", c->name,
		    v.n_events);
		last = &v.events[v.n_events - 1];
		CHECK(last->scope == c->last_scope, "%s: scope", c->name);
		CHECK(last->reason == v.reason && last->decision == v.decision,
		    "%s: last event", c->name);
		CHECK(v.n_events < 2 ||
			(v.events[0].scope == POLICY_SCOPE_DOMAIN &&
			    v.events[0].decision == POLICY_DECISION_ALLOW &&
			    v.events[0].reason == POLICY_REASON_ALLOW),
		    "%s: first event", c->name);
		policy_unref(p);
	}
}

/* ---- the decider ---- */

static void
test_policy_decider_asked_only_for_not_allowed(void **state)
{
	static const struct {
		const char *host;
		const char *addrs;
		bool asked;
	} cases[] = {
		{ "b.com", "8.8.8.8", true },  /* not_allowed */
		{ "a.com", "8.8.8.8", false }, /* allowed */
		{ "evil.com", NULL, false },   /* denied */
		/* the decider comes before any lookup (defect 8) */
		{ "b.com", "10.0.0.1", true }, { "b.com", "", true },
		{ "a.com", "10.0.0.1", false }, /* not_allowed_local */
		{ "a.com", "", false },         /* failed lookup */
		{ "127.0.0.1", NULL, false },   /* local literal */
		{ "", NULL, false },            /* invalid */
		{ "1.2.3.4.5", NULL, false },   /* invalid */
		{ "9.9.9.9", NULL, true },      /* public literal, unlisted */
	};
	struct setup s = { .allow = { "a.com" }, .deny = { "evil.com" } };
	struct policy *p = setup_policy(&s);
	struct policy_verdict v;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		judge(p, POLICY_PROTOCOL_HTTPS_CONNECT, cases[i].host,
		    "CONNECT", cases[i].addrs, NULL, true, &v);
		CHECK((v.next == POLICY_NEXT_ASK_DECIDER) == cases[i].asked,
		    "'%s': next %d", cases[i].host, v.next);
		if (cases[i].asked) {
			/* fails closed should the caller ignore next */
			assert_int_equal(v.decision, POLICY_DECISION_DENY);
			assert_int_equal(v.n_events, 0);
			assert_string_equal(v.host.text, cases[i].host);
		}
		/* without a decider, the baseline answer is final */
		judge(p, POLICY_PROTOCOL_HTTPS_CONNECT, cases[i].host,
		    "CONNECT", cases[i].addrs, NULL, false, &v);
		CHECK(v.next == POLICY_NEXT_DONE, "'%s': no decider",
		    cases[i].host);
	}
	policy_unref(p);

	/* an empty allowlist asks for everything public */
	s = (struct setup){ .local_binding = true };
	p = setup_policy(&s);
	judge(p, POLICY_PROTOCOL_SOCKS5_TCP, "x.org", NULL, NULL, NULL, true,
	    &v);
	assert_int_equal(v.next, POLICY_NEXT_ASK_DECIDER);
	policy_unref(p);
}

static const struct {
	const char *name;
	struct policy_answer answer;
	enum policy_decision decision;
	enum policy_reason reason;
	const char *custom;
	const char *x_proxy_error;
} answer_cases[] = {
	{ "allow", { .decision = POLICY_DECISION_ALLOW, .reason = "ignored" },
	    POLICY_DECISION_ALLOW, POLICY_REASON_ALLOW, NULL, NULL },
	{ "deny, NULL reason", { .decision = POLICY_DECISION_DENY },
	    POLICY_DECISION_DENY, POLICY_REASON_POLICY_DENIED, NULL,
	    "blocked-by-policy" },
	{ "deny, empty reason",
	    { .decision = POLICY_DECISION_DENY, .reason = "" },
	    POLICY_DECISION_DENY, POLICY_REASON_POLICY_DENIED, NULL,
	    "blocked-by-policy" },
	{ "ask, empty reason",
	    { .decision = POLICY_DECISION_ASK, .reason = "" },
	    POLICY_DECISION_ASK, POLICY_REASON_POLICY_DENIED, NULL,
	    "blocked-by-policy" },
	{ "ask, known reason",
	    { .decision = POLICY_DECISION_ASK, .reason = "not_allowed" },
	    POLICY_DECISION_ASK, POLICY_REASON_NOT_ALLOWED, NULL,
	    "blocked-by-allowlist" },
	{ "deny, known reason",
	    { .decision = POLICY_DECISION_DENY, .reason = "denied" },
	    POLICY_DECISION_DENY, POLICY_REASON_DENIED, NULL,
	    "blocked-by-denylist" },
	{ "deny, reason allow",
	    { .decision = POLICY_DECISION_DENY, .reason = "allow" },
	    POLICY_DECISION_DENY, POLICY_REASON_POLICY_DENIED, NULL,
	    "blocked-by-policy" },
	{ "deny, custom reason",
	    { .decision = POLICY_DECISION_DENY, .reason = "user_declined" },
	    POLICY_DECISION_DENY, POLICY_REASON_CUSTOM, "user_declined",
	    "blocked-by-policy" },
	{ "ask, unprintable reason",
	    { .decision = POLICY_DECISION_ASK, .reason = "a\nb\x7f\xc3\xa9" },
	    POLICY_DECISION_ASK, POLICY_REASON_CUSTOM, "a?b???",
	    "blocked-by-policy" },
	{ "deny, long reason",
	    { .decision = POLICY_DECISION_DENY,
		.reason = "0123456789012345678901234567890123456789"
			  "0123456789012345678901234567890123456789" },
	    POLICY_DECISION_DENY, POLICY_REASON_CUSTOM,
	    "0123456789012345678901234567890123456789"
	    "01234567890123456789012",
	    "blocked-by-policy" },
	{ "timeout",
	    { .decision = POLICY_DECISION_ALLOW,
		.reason = "x",
		.timed_out = true },
	    POLICY_DECISION_DENY, POLICY_REASON_DECIDER_TIMEOUT, NULL,
	    "blocked-by-policy" },
};

static void
test_policy_decider_answers(void **state)
{
	struct setup s = { .allow = { "a.com" }, .local_binding = true };
	struct policy *p = setup_policy(&s);

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(answer_cases); i++) {
		const char *x;
		struct policy_verdict v;
		bool allow = answer_cases[i].decision == POLICY_DECISION_ALLOW;

		judge(p, POLICY_PROTOCOL_HTTP, "b.com", "GET", NULL,
		    &answer_cases[i].answer, true, &v);
		CHECK(v.next == POLICY_NEXT_DONE, "%s: next",
		    answer_cases[i].name);
		CHECK(v.decision == answer_cases[i].decision, "%s: decision %s",
		    answer_cases[i].name, policy_decision_name(v.decision));
		CHECK(v.reason == answer_cases[i].reason, "%s: reason %s",
		    answer_cases[i].name, policy_reason_name(v.reason));
		CHECK(v.source == POLICY_SOURCE_DECIDER, "%s: source",
		    answer_cases[i].name);
		CHECK(!answer_cases[i].custom ||
			streq(v.custom_reason, answer_cases[i].custom),
		    "%s: custom '%s'", answer_cases[i].name, v.custom_reason);
		CHECK(streq(policy_verdict_reason(&v, v.reason),
			  answer_cases[i].custom ?
			      answer_cases[i].custom :
			      policy_reason_name(answer_cases[i].reason)),
		    "%s: reported reason", answer_cases[i].name);
		x = policy_reason_x_proxy_error(v.reason);
		CHECK(answer_cases[i].x_proxy_error ?
			x && streq(x, answer_cases[i].x_proxy_error) :
			!x,
		    "%s: x-proxy-error %s", answer_cases[i].name, x);
		/* spec network §9: one domain event, an allow logged as the
		 * overridden miss */
		CHECK(v.n_events == 1, "%s: events", answer_cases[i].name);
		CHECK(v.events[0].scope == POLICY_SCOPE_DOMAIN &&
			v.events[0].source == POLICY_SOURCE_DECIDER &&
			v.events[0].decision == v.decision &&
			v.events[0].override == allow &&
			v.events[0].reason ==
			    (allow ? POLICY_REASON_NOT_ALLOWED : v.reason),
		    "%s: event", answer_cases[i].name);
	}
	policy_unref(p);
}

static void
test_policy_decider_allow_then_mode_guard(void **state)
{
	struct setup s = { .allow = { "a.com" }, .limited = true };
	struct policy *p = setup_policy(&s);
	struct policy_answer yes = { .decision = POLICY_DECISION_ALLOW };
	struct policy_verdict v;

	(void)state;
	judge(p, POLICY_PROTOCOL_HTTP, "b.com", "POST", "8.8.8.8", &yes, true,
	    &v);
	assert_int_equal(v.decision, POLICY_DECISION_DENY);
	assert_int_equal(v.reason, POLICY_REASON_METHOD_NOT_ALLOWED);
	assert_int_equal(v.source, POLICY_SOURCE_MODE_GUARD);
	assert_int_equal(v.n_events, 2);
	assert_int_equal(v.events[0].scope, POLICY_SCOPE_DOMAIN);
	assert_int_equal(v.events[0].decision, POLICY_DECISION_ALLOW);
	assert_int_equal(v.events[0].reason, POLICY_REASON_NOT_ALLOWED);
	assert_int_equal(v.events[0].source, POLICY_SOURCE_DECIDER);
	assert_true(v.events[0].override);
	assert_int_equal(v.events[1].scope, POLICY_SCOPE_NON_DOMAIN);
	assert_int_equal(v.events[1].reason, POLICY_REASON_METHOD_NOT_ALLOWED);
	assert_false(v.events[1].override);
	policy_unref(p);
}

/* An unlisted name: the decider first, and only a name it allows is
 * resolved for the local check (issue 11, defect 8). */
static void
test_policy_judge_loop_ask_then_resolve(void **state)
{
	struct setup s = { .allow = { "a.com" } };
	struct policy *p = setup_policy(&s);
	struct policy_addr pub = addr("8.8.4.4");
	struct policy_addr priv = addr("10.1.2.3");
	struct policy_answer yes = { .decision = POLICY_DECISION_ALLOW };
	struct policy_answer no = { .decision = POLICY_DECISION_DENY };
	struct policy_request req = { .protocol = POLICY_PROTOCOL_HTTP,
		.host = "B.com.",
		.port = 80,
		.method = "GET" };
	struct policy_input in = { .request = &req, .has_decider = true };
	struct policy_verdict v;

	(void)state;
	policy_judge(p, &in, &v);
	assert_int_equal(v.next, POLICY_NEXT_ASK_DECIDER);
	assert_string_equal(v.host.text, "b.com");
	in.answer = &yes;
	policy_judge(p, &in, &v);
	assert_int_equal(v.next, POLICY_NEXT_RESOLVE);
	assert_int_equal(v.decision, POLICY_DECISION_DENY);
	in.resolved = true;
	in.addrs = &pub;
	in.n_addrs = 1;
	policy_judge(p, &in, &v);
	assert_int_equal(v.next, POLICY_NEXT_DONE);
	assert_int_equal(v.decision, POLICY_DECISION_ALLOW);
	assert_int_equal(v.source, POLICY_SOURCE_DECIDER);
	assert_true(v.events[0].override);
	assert_true(v.public_only);
	assert_false(v.matched);
	/* allowed by the decider, but local: the local check still holds */
	in.addrs = &priv;
	policy_judge(p, &in, &v);
	assert_int_equal(v.next, POLICY_NEXT_DONE);
	assert_int_equal(v.decision, POLICY_DECISION_DENY);
	assert_int_equal(v.reason, POLICY_REASON_NOT_ALLOWED_LOCAL);
	assert_int_equal(v.n_events, 1);
	assert_false(v.events[0].override);
	assert_int_equal(v.events[0].reason, POLICY_REASON_NOT_ALLOWED_LOCAL);
	/* a no from the decider needs no lookup */
	in.resolved = false;
	in.addrs = NULL;
	in.n_addrs = 0;
	in.answer = &no;
	policy_judge(p, &in, &v);
	assert_int_equal(v.next, POLICY_NEXT_DONE);
	assert_int_equal(v.decision, POLICY_DECISION_DENY);
	assert_int_equal(v.source, POLICY_SOURCE_DECIDER);
	policy_unref(p);
}

/* ---- names, headers, messages ---- */

static void
test_policy_names_and_headers(void **state)
{
	static const struct {
		enum policy_reason reason;
		const char *name;
		const char *header;
	} reasons[] = {
		{ POLICY_REASON_ALLOW, "allow", NULL },
		{ POLICY_REASON_DENIED, "denied", "blocked-by-denylist" },
		{ POLICY_REASON_NOT_ALLOWED, "not_allowed",
		    "blocked-by-allowlist" },
		{ POLICY_REASON_NOT_ALLOWED_LOCAL, "not_allowed_local",
		    "blocked-by-allowlist" },
		{ POLICY_REASON_METHOD_NOT_ALLOWED, "method_not_allowed",
		    "blocked-by-method-policy" },
		{ POLICY_REASON_MITM_REQUIRED, "mitm_required",
		    "blocked-by-mitm-required" },
		{ POLICY_REASON_PROXY_DISABLED, "proxy_disabled",
		    "blocked-by-policy" },
		{ POLICY_REASON_POLICY_DENIED, "policy_denied",
		    "blocked-by-policy" },
		{ POLICY_REASON_UNIX_SOCKET_UNSUPPORTED,
		    "unix_socket_unsupported", "blocked-by-policy" },
		{ POLICY_REASON_DECIDER_TIMEOUT, "decider_timeout",
		    "blocked-by-policy" },
		{ POLICY_REASON_CUSTOM, "custom", "blocked-by-policy" },
	};

	static const char *const protocols[] = { "http", "https_connect",
		"socks5_tcp", "socks5_udp" };
	enum policy_protocol proto;

	(void)state;
	assert_int_equal(ELEMENTSOF(reasons), _POLICY_REASON_MAX);
	for (size_t i = 0; i < ELEMENTSOF(reasons); i++) {
		const char *h = policy_reason_x_proxy_error(reasons[i].reason);
		const char *m = policy_reason_message(reasons[i].reason);

		assert_string_equal(policy_reason_name(reasons[i].reason),
		    reasons[i].name);
		CHECK(reasons[i].header ? h && streq(h, reasons[i].header) : !h,
		    "%s: header %s", reasons[i].name, h);
		CHECK(m && m[0] && m[strlen(m) - 1] == '.', "%s: message",
		    reasons[i].name);
	}
	for (size_t i = 0; i < ELEMENTSOF(protocols); i++) {
		assert_int_equal(policy_protocol_from_name(protocols[i],
				     &proto),
		    0);
		assert_int_equal(proto, i);
		assert_string_equal(policy_protocol_name(proto), protocols[i]);
	}
	assert_int_equal(policy_protocol_from_name("socks5", &proto), -EINVAL);
	assert_int_equal(policy_protocol_from_name(NULL, &proto), -EINVAL);
	assert_string_equal(policy_mode_name(POLICY_MODE_LIMITED), "limited");
	assert_string_equal(policy_decision_name(POLICY_DECISION_ASK), "ask");
	assert_string_equal(policy_source_name(POLICY_SOURCE_MODE_GUARD),
	    "mode_guard");
	assert_string_equal(policy_scope_name(POLICY_SCOPE_NON_DOMAIN),
	    "non_domain");
	assert_string_equal(policy_list_name(POLICY_LIST_DENY), "deny");
	assert_string_equal(policy_reason_name(_POLICY_REASON_MAX), "unknown");
}

/* ---- lint ---- */

struct lint_seen {
	size_t n;
	size_t rule[16];
	char code[16][32];
};

static void
lint_cb(void *userdata, size_t rule, const char *code, const char *message)
{
	struct lint_seen *s = userdata;

	assert_non_null(message);
	assert_true(message[0] != '\0');
	assert_true(s->n < ELEMENTSOF(s->rule));
	s->rule[s->n] = rule;
	(void)snprintf(s->code[s->n], sizeof(s->code[0]), "%s", code);
	s->n++;
}

static void
test_policy_lint_warnings(void **state)
{
	static const struct {
		const char *pattern;
		enum policy_list list;
	} rules[] = {
		/* 0 */ { "a.com", POLICY_LIST_ALLOW },
		/* 1 */ { "A.com.", POLICY_LIST_ALLOW },  /* duplicate of 0 */
		/* 2 */ { "a.com", POLICY_LIST_DENY },    /* allow-and-deny */
		/* 3 */ { "*.b.com", POLICY_LIST_ALLOW }, /* apex-not-covered */
		/* 4 */ { "*.b.com", POLICY_LIST_ALLOW }, /* duplicate only */
		/* 5 */ { "*.c.com", POLICY_LIST_ALLOW }, /* apex covered by 6
							   */
		/* 6 */ { "c.com", POLICY_LIST_ALLOW },
		/* 7 */ { "*.d.com", POLICY_LIST_DENY }, /* deny apex uncovered
							  */
		/* 8 */ { "https://e.com", POLICY_LIST_ALLOW }, /* never */
		/* 9 */ { "e.com/x", POLICY_LIST_ALLOW },       /* never */
		/* 10 */ { "e.com:443", POLICY_LIST_ALLOW },    /* port */
		/* 11 */ { "1.2.3.4.5", POLICY_LIST_ALLOW },    /* never */
		/* 12 */ { "*", POLICY_LIST_ALLOW },        /* error: skip */
		/* 13 */ { "**.f.com", POLICY_LIST_ALLOW }, /* fine */
		/* 14 */ { "*.f.com", POLICY_LIST_ALLOW },  /* covered */
		/* 15 */ { "e x.com", POLICY_LIST_DENY },   /* never */
	};

	static const struct {
		size_t rule;
		const char *code;
	} want[] = {
		{ 1, "duplicate" },
		{ 2, "allow-and-deny" },
		{ 3, "apex-not-covered" },
		{ 4, "duplicate" },
		{ 7, "apex-not-covered" },
		{ 8, "never-matches" },
		{ 9, "never-matches" },
		{ 10, "port-ignored" },
		{ 11, "never-matches" },
		{ 15, "never-matches" },
	};
	struct policy_rule_spec specs[ELEMENTSOF(rules)];
	struct policy_settings s = { .enabled = true,
		.rules = specs,
		.n_rules = ELEMENTSOF(rules) };
	struct lint_seen seen = { 0 };

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(rules); i++)
		specs[i] =
		    (struct policy_rule_spec){ .pattern = rules[i].pattern,
			    .list = rules[i].list };
	policy_lint(&s, lint_cb, &seen);
	for (size_t i = 0; i < ELEMENTSOF(want); i++) {
		bool found = false;

		for (size_t k = 0; k < seen.n; k++)
			found |= seen.rule[k] == want[i].rule &&
			    streq(seen.code[k], want[i].code);
		CHECK(found, "rule %zu: no '%s' warning", want[i].rule,
		    want[i].code);
	}
	CHECK(seen.n == ELEMENTSOF(want), "%zu warnings, expected %zu", seen.n,
	    ELEMENTSOF(want));
}

/* No rules, or no "*.x" rules: nothing to warn about and nothing to sort
 * (qsort() on the NULL of an empty list is undefined; UBSan aborts). */
static void
test_policy_lint_empty_lists(void **state)
{
	struct policy_rule_spec exact = { .pattern = "a.com",
		.list = POLICY_LIST_ALLOW };
	struct policy_settings s = { .enabled = true };
	struct lint_seen seen = { 0 };

	(void)state;
	policy_lint(&s, lint_cb, &seen);
	assert_int_equal(seen.n, 0);
	s.rules = &exact;
	s.n_rules = 1;
	policy_lint(&s, lint_cb, &seen);
	assert_int_equal(seen.n, 0);
}

/* Spec network §1.6's coverage table, row by row, plus canonicalisation
 * (case, trailing dot, IDNA) and globs on either side. */
static void
test_policy_covers_table(void **state)
{
	static const struct {
		const char *managed, *candidate;
		bool covered;
	} cases[] = {
		{ "example.com", "example.com", true },
		{ "example.com", "a.example.com", false },
		{ "example.com", "*.example.com", false },
		{ "example.com", "**.example.com", false },
		{ "*.example.com", "example.com", false },
		{ "*.example.com", "a.example.com", true },
		{ "*.example.com", "a.b.example.com", true },
		{ "*.example.com", "*.example.com", true },
		{ "*.example.com", "*.a.example.com", true },
		{ "*.example.com", "**.example.com", false },
		{ "*.example.com", "**.a.example.com", true },
		{ "**.example.com", "example.com", true },
		{ "**.example.com", "a.example.com", true },
		{ "**.example.com", "*.example.com", true },
		{ "**.example.com", "**.example.com", true },
		{ "**.example.com", "**.a.example.com", true },
		{ "**.example.com", "badexample.com", false },
		{ "**.example.com", "example.org", false },
		{ "Example.COM.", "example.com", true },
		{ "**.bücher.example", "www.xn--bcher-kva.example", true },
		{ "**.example.com", "api-*.example.com", true },
		{ "api-*.example.com", "api-1.example.com", false },
		{ "api-*.example.com", "api-*.example.com", true },
		{ "**.example.com", "*", false },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		if (policy_covers(cases[i].managed, cases[i].candidate) !=
		    cases[i].covered)
			fail_msg("%s covers %s: expected %s", cases[i].managed,
			    cases[i].candidate,
			    cases[i].covered ? "yes" : "no");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_host_canonical_forms),
		cmocka_unit_test(test_policy_host_invalid),
		cmocka_unit_test(test_policy_host_length_limits),
		cmocka_unit_test(test_policy_pattern_matching),
		cmocka_unit_test(test_policy_pattern_check_rejects),
		cmocka_unit_test(test_policy_pattern_check_accepts),
		cmocka_unit_test(test_policy_new_reports_failing_rule),
		cmocka_unit_test(test_policy_new_limits_expanded_hosts),
		cmocka_unit_test(test_policy_match_reports_origin),
		cmocka_unit_test(test_policy_addr_classes),
		cmocka_unit_test(test_policy_addrs_add_canonicalises_answers),
		cmocka_unit_test(test_policy_judge_decision_order),
		cmocka_unit_test(test_policy_judge_reports_local_addr),
		cmocka_unit_test(test_policy_judge_mode_guards),
		cmocka_unit_test(
		    test_policy_decider_asked_only_for_not_allowed),
		cmocka_unit_test(test_policy_decider_answers),
		cmocka_unit_test(test_policy_decider_allow_then_mode_guard),
		cmocka_unit_test(test_policy_judge_loop_ask_then_resolve),
		cmocka_unit_test(test_policy_names_and_headers),
		cmocka_unit_test(test_policy_lint_warnings),
		cmocka_unit_test(test_policy_lint_empty_lists),
		cmocka_unit_test(test_policy_covers_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
