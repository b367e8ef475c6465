/* SPDX-License-Identifier: MIT */
/*
 * Domain patterns as written in a config (spec network §2.2): parsing,
 * canonicalisation, brace expansion and the glob matcher. Internal to
 * src/policy/.
 *
 * A pattern is "body" (exact host, may hold globs), "*.body" (subdomains
 * only) or "**.body" (the apex and its subdomains). Globs are shell-style:
 * '*' any run of bytes and '?' any one byte (both cross dots), "[a-z0-9]"
 * and "[!...]" sets, and "{a,b}" alternatives, which are expanded before
 * matching. Matching is byte-wise on canonical (lower-case) text.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/limits.h"

enum pattern_kind {
	PATTERN_EXACT,      /* "body" */
	PATTERN_SUBDOMAINS, /* "*.body": a glob "?*.body" */
	PATTERN_APEX,       /* "**.body": "body" and "?*.body" */
	_PATTERN_KIND_MAX,
};

/* Room for a body after IDNA conversion, which may lengthen it. */
#define PATTERN_BODY_MAX (LIMIT_POLICY_PATTERN_BYTES + 1)

/* Embeddable (large: keep it off hot paths). */
struct pattern {
	enum pattern_kind kind;
	bool glob;     /* the body holds '*', '?', '[' or '{' */
	bool had_port; /* a ":port" was dropped from the body */
	size_t len;
	char body[PATTERN_BODY_MAX]; /* canonical, NUL-terminated */
};

/*
 * Parse and canonicalise one pattern: trim, split the prefix, then the body
 * like a request host (whole-body brackets and a ":port" dropped, ASCII
 * lower-case, trailing dots stripped, non-ASCII labels converted to IDNA
 * A-labels, an exact IP literal put in canonical form). Checks the glob
 * syntax and refuses the global wildcard (a pattern that, after expansion,
 * is made of '*' and '?' only). Returns 0, or -EINVAL with a message in err
 * (errsz may be 0).
 */
int pattern_parse(const char *text, struct pattern *ret, char *err,
    size_t errsz);

/* Call fn once per "{a,b}" alternative of p's body, in order (once with the
 * body when it has no braces). Stops at, and returns, fn's first negative
 * result; else returns 0. The text passed to fn is borrowed for the call. */
int pattern_expand(const struct pattern *p,
    int (*fn)(void *userdata, const char *alt, size_t len), void *userdata);

/* True when s[0..n) holds glob syntax ('*', '?' or '['). */
bool pattern_is_glob(const char *s, size_t n);

/* Match glob g[0..glen) (no braces, syntax already checked) against
 * s[0..slen), anchored at both ends. */
bool pattern_glob_match(const char *g, size_t glen, const char *s, size_t slen);
