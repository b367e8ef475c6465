/* SPDX-License-Identifier: MIT */
/*
 * Coverage of one domain pattern by another (spec network §1.6): may a
 * user allow candidate when an administrator allows only managed? Both
 * are canonicalised as the policy engine does (trim, lower-case, trailing
 * dot, IDNA), then:
 *
 *	managed \ candidate   exact c        *.c             **.c
 *	exact d               c == d         no              no
 *	*.d                   c below d      c == d or below c below d
 *	**.d                  c == d or below (all three)
 *
 * "below" means a strict subdomain. A candidate body may hold globs: the
 * hosts "x*.d" matches are all below d, so the rule holds as written. A
 * managed body with globs covers only the identical pattern.
 */
#include "policy/policy.h"

#include <stdlib.h>
#include <string.h>

#include "policy/pattern.h"

/* c is d or (strict) a subdomain of d. */
static bool
policy_covers_below(const char *c, size_t clen, const char *d, size_t dlen,
    bool strict)
{
	if (clen == dlen)
		return !strict && memcmp(c, d, dlen) == 0;
	return clen > dlen && c[clen - dlen - 1] == '.' &&
	    memcmp(c + clen - dlen, d, dlen) == 0;
}

static bool
policy_covers_parsed(const struct pattern *m, const struct pattern *c)
{
	if (m->glob)
		return m->kind == c->kind && m->len == c->len &&
		    memcmp(m->body, c->body, m->len) == 0;
	switch (m->kind) {
	case PATTERN_EXACT:
		return c->kind == PATTERN_EXACT && !c->glob &&
		    c->len == m->len && memcmp(c->body, m->body, m->len) == 0;
	case PATTERN_SUBDOMAINS:
		/* *.d covers *.d itself, but not d or **.d (which adds d). */
		return policy_covers_below(c->body, c->len, m->body, m->len,
		    c->kind != PATTERN_SUBDOMAINS);
	case PATTERN_APEX:
		return policy_covers_below(c->body, c->len, m->body, m->len,
		    false);
	default:
		return false;
	}
}

bool
policy_covers(const char *managed, const char *candidate)
{
	/* Two patterns are a few KiB: off the stack, config-time only. */
	struct pattern *p = calloc(2, sizeof(*p));
	bool ok;

	if (!p)
		return false;
	ok = pattern_parse(managed, &p[0], NULL, 0) == 0 &&
	    pattern_parse(candidate, &p[1], NULL, 0) == 0 &&
	    policy_covers_parsed(&p[0], &p[1]);
	free(p);
	return ok;
}
