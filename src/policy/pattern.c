/* SPDX-License-Identifier: MIT */
/*
 * Domain patterns: from config text to a canonical body, and the glob
 * matcher the compiled set and the linter share.
 *
 * Invariant: a body that pattern_parse() accepted has well-formed globs: a
 * '[' always has its ']', a set holds only host bytes and ranges in order,
 * '{' and '}' pair up without nesting and never occur inside a set. The
 * matcher and the expander rely on that and do not re-check it.
 */
#include "policy/pattern.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "policy/policy.h"
#include "util/compiler.h"
#include "util/strutil.h"

static int pattern_error(char *err, size_t errsz, const char *fmt, ...)
    _printf_(3, 4);

static int
pattern_error(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (errsz > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errsz, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Bytes a "[...]" set may name: those a canonical host can hold. */
static bool
pattern_is_set_byte(char c)
{
	/* Not strchr(): it would find the terminator for c == '\0'. */
	return ascii_isalpha(c) || ascii_isdigit(c) ||
	    (c != '\0' && strchr("._~:%", c));
}

bool
pattern_is_glob(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '*' || s[i] == '?' || s[i] == '[')
			return true;
	return false;
}

/* Check the set that opens at b[i] == '['; return the index of its ']'. */
static int
pattern_check_set(const char *b, size_t n, size_t i, size_t *ret_end, char *err,
    size_t errsz)
{
	size_t j = i + 1;

	if (j < n && (b[j] == '!' || b[j] == '^'))
		j++;
	if (j < n && b[j] == ']')
		return pattern_error(err, errsz, "empty '[]' set");
	for (; j < n && b[j] != ']'; j++) {
		char lo = b[j], hi = b[j];

		if (j + 2 < n && b[j + 1] == '-' && b[j + 2] != ']') {
			hi = b[j + 2];
			j += 2;
		}
		if ((lo != '-' && !pattern_is_set_byte(lo)) ||
		    (hi != '-' && !pattern_is_set_byte(hi)))
			return pattern_error(err, errsz,
			    "a '[...]' set may only hold host characters");
		if (lo > hi)
			return pattern_error(err, errsz,
			    "range '%c-%c' in a '[...]' set is reversed", lo,
			    hi);
	}
	if (j >= n)
		return pattern_error(err, errsz, "'[' is not closed");
	*ret_end = j;
	return 0;
}

static int
pattern_check_glob(const char *b, size_t n, char *err, size_t errsz)
{
	bool in_brace = false;
	int r;

	for (size_t i = 0; i < n; i++) {
		switch (b[i]) {
		case '[':
			r = pattern_check_set(b, n, i, &i, err, errsz);
			if (r < 0)
				return r;
			break;
		case ']':
			return pattern_error(err, errsz,
			    "']' without a '[' before it");
		case '{':
			if (in_brace)
				return pattern_error(err, errsz,
				    "nested '{' is not supported");
			in_brace = true;
			break;
		case '}':
			if (!in_brace)
				return pattern_error(err, errsz,
				    "'}' without a '{' before it");
			in_brace = false;
			break;
		case '\\':
			return pattern_error(err, errsz,
			    "'\\' escapes are not supported");
		default:
			break;
		}
	}
	if (in_brace)
		return pattern_error(err, errsz, "'{' is not closed");
	return 0;
}

/* Convert every non-ASCII label of body to its IDNA A-label (UTS #46
 * non-transitional processing, as browsers do), in place. */
static int
pattern_idna(struct pattern *p, char *err, size_t errsz)
{
	char out[PATTERN_BODY_MAX], label[PATTERN_BODY_MAX];
	size_t olen = 0, start = 0;

	for (size_t i = 0; i <= p->len; i++) {
		const char *src;
		char *conv = NULL;
		size_t n, clen;
		bool ascii = true;
		int r;

		if (i < p->len && p->body[i] != '.')
			continue;
		n = i - start;
		for (size_t k = start; k < i; k++)
			if ((unsigned char)p->body[k] >= 0x80)
				ascii = false;
		src = p->body + start;
		if (!ascii) {
			if (memchr(src, '*', n) || memchr(src, '?', n) ||
			    memchr(src, '[', n) || memchr(src, '{', n) ||
			    memchr(src, ',', n))
				return pattern_error(err, errsz,
				    "a label with non-ASCII characters cannot "
				    "hold glob characters; write its xn-- "
				    "form");
			memcpy(label, src, n);
			label[n] = '\0';
			r = idn2_to_ascii_8z(label, &conv,
			    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
			if (r != IDN2_OK)
				return pattern_error(err, errsz,
				    "cannot convert to IDNA: %s",
				    idn2_strerror(r));
			src = conv;
			n = strlen(conv);
		}
		clen = n + (i < p->len ? 1 : 0);
		if (olen + clen >= sizeof(out)) {
			idn2_free(conv);
			return pattern_error(err, errsz,
			    "longer than %u bytes after IDNA conversion",
			    LIMIT_POLICY_PATTERN_BYTES);
		}
		memcpy(out + olen, src, n);
		olen += n;
		if (i < p->len)
			out[olen++] = '.';
		idn2_free(conv);
		start = i + 1;
	}
	for (size_t i = 0; i < olen; i++)
		p->body[i] = ascii_tolower(out[i]);
	p->body[olen] = '\0';
	p->len = olen;
	return 0;
}

/* Drop whole-body brackets ("[::1]", "[::1]:443", also "[*]" as the
 * reference does) or a ":port" after a body with exactly one colon. A body
 * with a '/' is left alone: it is a URL, not a host, and never matches. */
static void
pattern_strip_port(const char **s, size_t *n, bool *had_port)
{
	const char *b = *s;
	const char *close;
	const char *colon;
	size_t len = *n;

	if (memchr(b, '/', len))
		return;
	if (len > 0 && b[0] == '[') {
		close = memchr(b, ']', len);
		if (close) {
			size_t after = len - (size_t)(close + 1 - b);
			bool digits = after > 0 && close[1] == ':';

			for (size_t i = 2; digits && i <= after; i++)
				digits = ascii_isdigit(close[i]);
			if (after == 0 || digits) {
				*had_port = after > 1;
				*s = b + 1;
				*n = (size_t)(close - b - 1);
				return;
			}
		}
	}
	colon = memchr(b, ':', len);
	if (colon && !memchr(colon + 1, ':', len - (size_t)(colon + 1 - b))) {
		*had_port = true;
		*n = (size_t)(colon - b);
	}
}

struct pattern_global_check {
	enum pattern_kind kind;
	bool global;
	unsigned n_alts;
};

/* Made of '*' and '?' only, with a '*': it matches every host (of at least
 * as many bytes as it has '?'), which is the global wildcard in disguise. */
static int
pattern_global_cb(void *userdata, const char *alt, size_t len)
{
	struct pattern_global_check *c = userdata;
	bool star = false;

	c->n_alts++;
	if (c->kind == PATTERN_SUBDOMAINS)
		return 0; /* "?*.alt" always needs a dot */
	for (size_t i = 0; i < len; i++) {
		if (alt[i] != '*' && alt[i] != '?')
			return 0;
		star |= alt[i] == '*';
	}
	c->global |= star;
	return 0;
}

int
pattern_parse(const char *text, struct pattern *ret, char *err, size_t errsz)
{
	struct pattern_global_check global;
	const char *s = text;
	size_t n;
	int r;

	ret->kind = PATTERN_EXACT;
	ret->glob = ret->had_port = false;
	ret->n_alts = 0;
	ret->len = 0;
	ret->body[0] = '\0';
	if (!text)
		return pattern_error(err, errsz, "no pattern");
	n = strnlen(text, LIMIT_POLICY_PATTERN_BYTES + 1);
	if (n > LIMIT_POLICY_PATTERN_BYTES)
		return pattern_error(err, errsz, "longer than %u bytes",
		    LIMIT_POLICY_PATTERN_BYTES);
	while (n > 0 && ascii_isspace(s[0])) {
		s++;
		n--;
	}
	while (n > 0 && ascii_isspace(s[n - 1]))
		n--;
	if (n == 0)
		return pattern_error(err, errsz, "empty pattern");

	if (n >= 3 && memcmp(s, "**.", 3) == 0) {
		ret->kind = PATTERN_APEX;
		s += 3;
		n -= 3;
	} else if (n >= 2 && memcmp(s, "*.", 2) == 0) {
		ret->kind = PATTERN_SUBDOMAINS;
		s += 2;
		n -= 2;
	}
	while (n > 0 && ascii_isspace(s[0])) {
		s++;
		n--;
	}
	pattern_strip_port(&s, &n, &ret->had_port);
	while (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0)
		return pattern_error(err, errsz, "no host in the pattern");

	for (size_t i = 0; i < n; i++)
		ret->body[i] = ascii_tolower(s[i]);
	ret->body[n] = '\0';
	ret->len = n;
	r = pattern_idna(ret, err, errsz);
	if (r < 0)
		return r;
	r = pattern_check_glob(ret->body, ret->len, err, errsz);
	if (r < 0)
		return r;
	ret->glob = pattern_is_glob(ret->body, ret->len) ||
	    memchr(ret->body, '{', ret->len) != NULL;

	if (ret->kind == PATTERN_EXACT && !ret->glob) {
		struct policy_host h;

		/* "127.1", "0x7f.1", "[::0:1]" name the same host as their
		 * canonical text; anything else stays as written. */
		if (policy_host_parse(ret->body, ret->len, &h) == 0 &&
		    h.kind != POLICY_HOST_NAME) {
			ret->len = strlen(h.text);
			memcpy(ret->body, h.text, ret->len + 1);
		}
	}

	global = (struct pattern_global_check){ .kind = ret->kind };
	r = pattern_expand(ret, pattern_global_cb, &global);
	if (r == -ENOMEM) {
		(void)pattern_error(err, errsz, "out of memory");
		return -ENOMEM;
	}
	if (r < 0)
		return pattern_error(err, errsz,
		    "more than %u '{...}' alternatives",
		    LIMIT_POLICY_ALTERNATIVES);
	if (global.global)
		return pattern_error(err, errsz,
		    "the global wildcard is not accepted; list the domains "
		    "instead");
	ret->n_alts = global.n_alts;
	return 0;
}

struct pattern_expander {
	int (*fn)(void *userdata, const char *alt, size_t len);
	void *userdata;
	unsigned count;
	size_t len;
	char out[PATTERN_BODY_MAX];
};

/* Expand the braces of s[0..n) after what is already in e->out. Depth is
 * the number of brace groups, at most half the body. */
static int
pattern_expand_rest(struct pattern_expander *e, const char *s, size_t n)
{
	const char *open = memchr(s, '{', n);
	const char *close;
	const char *alt;
	size_t lit, mark;
	int r;

	if (!open) {
		if (++e->count > LIMIT_POLICY_ALTERNATIVES)
			return -E2BIG;
		memcpy(e->out + e->len, s, n);
		e->out[e->len + n] = '\0';
		return e->fn(e->userdata, e->out, e->len + n);
	}
	lit = (size_t)(open - s);
	close = memchr(open, '}', n - lit);
	memcpy(e->out + e->len, s, lit);
	mark = e->len + lit;
	alt = open + 1;
	for (const char *p = alt;; p++) {
		if (p < close && *p != ',')
			continue;
		memcpy(e->out + mark, alt, (size_t)(p - alt));
		e->len = mark + (size_t)(p - alt);
		r = pattern_expand_rest(e, close + 1,
		    n - (size_t)(close + 1 - s));
		if (r < 0)
			return r;
		if (p == close)
			break;
		alt = p + 1;
	}
	e->len = mark - lit;
	return 0;
}

int
pattern_expand(const struct pattern *p,
    int (*fn)(void *userdata, const char *alt, size_t len), void *userdata)
{
	struct pattern_expander *e;
	int r;

	if (!memchr(p->body, '{', p->len))
		return fn(userdata, p->body, p->len);
	/* The expanded text never outgrows the body: braces only go away. */
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	*e = (struct pattern_expander){ .fn = fn, .userdata = userdata };
	r = pattern_expand_rest(e, p->body, p->len);
	free(e);
	return r;
}

/* Does the set opening at g[*gi] == '[' hold c? Moves *gi past its ']'. */
static bool
pattern_set_match(const char *g, size_t glen, size_t *gi, char c)
{
	size_t j = *gi + 1;
	bool negate = false, hit = false;

	if (j < glen && (g[j] == '!' || g[j] == '^')) {
		negate = true;
		j++;
	}
	for (; j < glen && g[j] != ']'; j++) {
		char lo = g[j], hi = g[j];

		if (j + 2 < glen && g[j + 1] == '-' && g[j + 2] != ']') {
			hi = g[j + 2];
			j += 2;
		}
		if (c >= lo && c <= hi)
			hit = true;
	}
	*gi = j + 1;
	return hit != negate;
}

/*
 * Iterative matching with one backtrack point: on a mismatch, retry from
 * the most recent '*' with one more byte swallowed. Earlier stars never
 * need revisiting (whatever they could absorb, the latest one can too), so
 * this is exact and costs at most glen * slen steps.
 */
bool
pattern_glob_match(const char *g, size_t glen, const char *s, size_t slen)
{
	size_t gi = 0, si = 0, star = SIZE_MAX, star_si = 0;

	while (si < slen) {
		if (gi < glen) {
			size_t next = gi;

			switch (g[gi]) {
			case '*':
				star = ++gi;
				star_si = si;
				continue;
			case '?':
				gi++;
				si++;
				continue;
			case '[':
				if (pattern_set_match(g, glen, &next, s[si])) {
					gi = next;
					si++;
					continue;
				}
				break;
			default:
				if (g[gi] == s[si]) {
					gi++;
					si++;
					continue;
				}
				break;
			}
		}
		if (star == SIZE_MAX)
			return false;
		gi = star;
		si = ++star_si;
	}
	while (gi < glen && g[gi] == '*')
		gi++;
	return gi == glen;
}
