/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the compiled host set against a naive matcher.
 *
 * Input: one byte of list bits, then '\n'-separated segments: the host,
 * then up to eight patterns (bit i set: pattern i is a deny rule). Bytes
 * outside a small alphabet are mapped into it, so most inputs are valid
 * and hosts share labels with patterns.
 *
 * The oracle is spec network §2.2 taken literally: every pattern expands
 * to globs (d; "?*." d; both for "**."), braces are expanded by brute
 * force, and each glob is matched by dynamic programming. The verdict of
 * policy_judge() (allow_local_binding on, so only the lists matter) must
 * agree, and the pattern it reports must itself match.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "policy/policy.h"

#define MAX_PATTERNS 8
#define MAX_TEXT     48

static const char pattern_alphabet[] = "ab.-*?[]{},!0";
static const char host_alphabet[] = "ab.-0";

static char
fuzz_map(uint8_t c, const char *alphabet)
{
	if (c && strchr(alphabet, c))
		return (char)c;
	return alphabet[c % strlen(alphabet)];
}

/* Textbook DP over (glob position, text position); sets have been checked
 * by the engine already (we only get here when it accepted them). */
static bool
naive_set(const char *g, size_t *gi, char c)
{
	size_t j = *gi + 1;
	bool neg = false, hit = false;

	if (g[j] == '!' || g[j] == '^') {
		neg = true;
		j++;
	}
	for (; g[j] != ']'; j++) {
		if (g[j + 1] == '-' && g[j + 2] != ']') {
			hit |= c >= g[j] && c <= g[j + 2];
			j += 2;
		} else {
			hit |= c == g[j];
		}
	}
	*gi = j + 1;
	return hit != neg;
}

static bool
naive_glob(const char *g, const char *s)
{
	size_t gl = strlen(g), sl = strlen(s);
	/* ok[i][j]: g[i..] matches s[j..] */
	static bool ok[2 * MAX_TEXT + 8][MAX_TEXT + 2];

	for (size_t i = gl + 1; i-- > 0;) {
		for (size_t j = sl + 1; j-- > 0;) {
			size_t next = i;

			if (i == gl)
				ok[i][j] = j == sl;
			else if (g[i] == '*')
				ok[i][j] =
				    ok[i + 1][j] || (j < sl && ok[i][j + 1]);
			else if (j == sl)
				ok[i][j] = false;
			else if (g[i] == '?')
				ok[i][j] = ok[i + 1][j + 1];
			else if (g[i] == '[')
				ok[i][j] = naive_set(g, &next, s[j]) &&
				    ok[next][j + 1];
			else
				ok[i][j] = g[i] == s[j] && ok[i + 1][j + 1];
		}
	}
	return ok[0][0];
}

/* Expand the first brace group of g by brute force, then match. */
static bool
naive_braces(const char *g, const char *s)
{
	const char *open = strchr(g, '{');
	const char *close;
	const char *alt;
	char buf[2 * MAX_TEXT + 8];

	if (!open)
		return naive_glob(g, s);
	close = strchr(open, '}');
	for (alt = open + 1;;) {
		const char *end = alt;
		size_t n;

		while (end < close && *end != ',')
			end++;
		n = (size_t)(open - g);
		memcpy(buf, g, n);
		memcpy(buf + n, alt, (size_t)(end - alt));
		n += (size_t)(end - alt);
		memcpy(buf + n, close + 1, strlen(close + 1) + 1);
		if (naive_braces(buf, s))
			return true;
		if (end == close)
			return false;
		alt = end + 1;
	}
}

static bool
naive_pattern(const char *pattern, const char *host)
{
	char body[MAX_TEXT + 1], glob[MAX_TEXT + 8];
	const char *b = pattern;
	size_t n;
	bool sub = false, apex = false;

	if (strncmp(b, "**.", 3) == 0) {
		apex = true;
		b += 3;
	} else if (strncmp(b, "*.", 2) == 0) {
		sub = true;
		b += 2;
	}
	n = strlen(b);
	memcpy(body, b, n + 1);
	/* §2.1 on the body: whole-body brackets go, trailing dots go. */
	if (body[0] == '[' && strchr(body, ']') == body + n - 1) {
		memmove(body, body + 1, n - 2);
		n -= 2;
		body[n] = '\0';
	}
	while (n > 0 && body[n - 1] == '.')
		body[--n] = '\0';
	if (!sub && !apex && !strpbrk(body, "*?[{")) {
		struct policy_host h;

		if (policy_host_parse(body, n, &h) == 0)
			return strcmp(h.text, host) == 0;
	}
	(void)snprintf(glob, sizeof(glob), "?*.%s", body);
	if (sub)
		return naive_braces(glob, host);
	if (apex)
		return naive_braces(body, host) || naive_braces(glob, host);
	return naive_braces(body, host);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char seg[MAX_PATTERNS + 1][MAX_TEXT + 1];
	struct policy_rule_spec rules[MAX_PATTERNS];
	struct policy_settings s = { .enabled = true,
		.allow_local_binding = true,
		.rules = rules };
	struct policy_request req = { .protocol = POLICY_PROTOCOL_HTTP,
		.method = "GET" };
	struct policy_input in = { .request = &req };
	struct policy_verdict v;
	struct policy_error err;
	struct policy *p;
	size_t n_seg = 0, len = 0;
	bool want_deny = false, want_allow = false;
	uint8_t bits;

	if (size < 2)
		return 0;
	bits = data[0];
	for (size_t i = 1; i <= size && n_seg <= MAX_PATTERNS; i++) {
		if (i == size || data[i] == '\n') {
			seg[n_seg++][len] = '\0';
			len = 0;
			continue;
		}
		if (len == MAX_TEXT)
			return 0;
		seg[n_seg][len++] = fuzz_map(data[i],
		    n_seg == 0 ? host_alphabet : pattern_alphabet);
	}
	for (size_t i = 1; i < n_seg; i++)
		rules[s.n_rules++] = (struct policy_rule_spec){
			.pattern = seg[i],
			.list = (bits >> (i - 1)) & 1 ? POLICY_LIST_DENY :
							POLICY_LIST_ALLOW,
		};
	if (policy_new(&s, &p, &err) < 0)
		return 0;
	req.host = seg[0];
	policy_judge(p, &in, &v);
	if (!v.host_valid) {
		policy_unref(p);
		return 0;
	}
	for (size_t i = 0; i < s.n_rules; i++) {
		if (!naive_pattern(rules[i].pattern, v.host.text))
			continue;
		if (rules[i].list == POLICY_LIST_DENY)
			want_deny = true;
		else
			want_allow = true;
	}
	if (want_deny ? v.reason != POLICY_REASON_DENIED :
			v.reason !=
		    (want_allow ? POLICY_REASON_ALLOW :
				  POLICY_REASON_NOT_ALLOWED))
		abort();
	if (v.matched != (want_deny || want_allow) ||
	    (v.matched && !naive_pattern(v.match.pattern, v.host.text)) ||
	    (v.matched &&
		v.match.list !=
		    (want_deny ? POLICY_LIST_DENY : POLICY_LIST_ALLOW)))
		abort();
	policy_unref(p);
	return 0;
}
