/* SPDX-License-Identifier: MIT */
/*
 * Request host canonicalisation: spec network §2.1, made strict.
 *
 * The steps of the reference (trim, brackets, port, ASCII lower-case,
 * trailing dots, IPv6 zone) are kept, and then the result must be one of
 * three things or the host is invalid:
 *  - an IPv6 literal (bracketed, or bare with two or more colons), printed
 *    in the form inet_ntop() gives, with an optional zone "%id";
 *  - an IPv4 literal in any form the WHATWG URL host parser and the BSD
 *    resolvers accept (127.1, 0x7f.0.0.1, 0177.0.0.1, 2130706433), or an
 *    IPv4-mapped IPv6 literal, printed as a dotted quad, so no spelling of
 *    an IPv4 address can pass for a name or for another address;
 *  - a DNS name: labels of letters, digits, '-' and '_', 1 to 63 bytes
 *    each, at most 253 bytes in all, ASCII only (clients send punycode).
 * A name whose last label looks like a number must parse as IPv4 (the
 * WHATWG "ends in a number" rule), so "1.2.3.4.5" and "0x1g.1" are invalid
 * rather than names.
 */
#include "policy/policy.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/compiler.h"
#include "util/strparse.h"
#include "util/strutil.h"

static bool
policy_host_is_hex(char c)
{
	return ascii_isdigit(c) || (c >= 'a' && c <= 'f');
}

/* One part of an IPv4 literal (WHATWG URL "IPv4 number parser"): "0x" then
 * hex digits (possibly none), a leading "0" then octal, else decimal. The
 * input is already lower-case. Values above 2^32 - 1 are refused early, so
 * any number of leading zeros is fine. */
static int
policy_host_ipv4_number(const char *s, size_t len, uint32_t *ret)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (len == 0)
		return -EINVAL;
	if (len >= 2 && s[0] == '0' && s[1] == 'x') {
		s += 2;
		len -= 2;
		base = 16;
	} else if (len >= 2 && s[0] == '0') {
		s++;
		len--;
		base = 8;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (ascii_isdigit(s[i]))
			d = (unsigned)(s[i] - '0');
		else if (base == 16 && policy_host_is_hex(s[i]))
			d = (unsigned)(s[i] - 'a' + 10);
		else
			return -EINVAL;
		if (d >= base)
			return -EINVAL;
		v = v * base + d;
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	*ret = (uint32_t)v;
	return 0;
}

/* True when the last label would be read as a number by a URL parser:
 * all decimal digits, or "0x" and hex digits. Such a host is IPv4 or
 * nothing. */
static bool
policy_host_ends_in_number(const char *s, size_t len)
{
	const char *dot = memrchr(s, '.', len);
	const char *last = dot ? dot + 1 : s;
	size_t n = len - (size_t)(last - s);
	size_t i = 0;

	if (n == 0)
		return false;
	if (n >= 2 && last[0] == '0' && last[1] == 'x') {
		for (i = 2; i < n; i++)
			if (!policy_host_is_hex(last[i]))
				return false;
		return true;
	}
	for (i = 0; i < n; i++)
		if (!ascii_isdigit(last[i]))
			return false;
	return true;
}

static void
policy_host_set_ipv4(struct policy_host *ret, const uint8_t a[4])
{
	memset(ret->addr, 0, sizeof(ret->addr));
	memcpy(ret->addr, a, 4);
	ret->kind = POLICY_HOST_IPV4;
	(void)snprintf(ret->text, sizeof(ret->text), "%u.%u.%u.%u", a[0], a[1],
	    a[2], a[3]);
}

/* WHATWG URL "IPv4 parser": one to four parts; every part but the last is
 * a byte, the last fills the remaining bytes. */
static int
policy_host_parse_ipv4(const char *s, size_t len, struct policy_host *ret)
{
	uint32_t parts[4], addr = 0;
	uint8_t bytes[4];
	size_t n = 0, start = 0;
	int r;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (n == ELEMENTSOF(parts))
			return -EINVAL;
		r = policy_host_ipv4_number(s + start, i - start, &parts[n]);
		if (r < 0)
			return -EINVAL;
		n++;
		start = i + 1;
	}
	for (size_t i = 0; i + 1 < n; i++) {
		if (parts[i] > 255)
			return -EINVAL;
		addr |= parts[i] << (8 * (3 - i));
	}
	/* The last part covers 5 - n bytes: below 2^(8 * (5 - n)). */
	if (n > 1 && parts[n - 1] >> (8 * (5 - n)) != 0)
		return -EINVAL;
	addr |= parts[n - 1];

	bytes[0] = (uint8_t)(addr >> 24);
	bytes[1] = (uint8_t)(addr >> 16);
	bytes[2] = (uint8_t)(addr >> 8);
	bytes[3] = (uint8_t)addr;
	policy_host_set_ipv4(ret, bytes);
	return 0;
}

/* An IPv6 zone id after the '%' (RFC 6874 §2): a leading "25" is the
 * URL-encoded '%', decoded as the reference does, so "%25" alone is an
 * empty zone. A zone that still starts with "25" is ambiguous (its text
 * would read back as another zone) and refused. Only unreserved characters
 * are allowed. */
static int
policy_host_zone(const char *z, size_t n, const char **ret, size_t *ret_len)
{
	if (n >= 2 && z[0] == '2' && z[1] == '5') {
		z += 2;
		n -= 2;
	}
	if (n == 0 || n > LIMIT_POLICY_ZONE_BYTES)
		return -EINVAL;
	if (n >= 2 && z[0] == '2' && z[1] == '5')
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!ascii_isalpha(z[i]) && !ascii_isdigit(z[i]) &&
		    z[i] != '-' && z[i] != '.' && z[i] != '_' && z[i] != '~')
			return -EINVAL;
	*ret = z;
	*ret_len = n;
	return 0;
}

static const uint8_t policy_host_v4_mapped[12] = { [10] = 0xff, [11] = 0xff };

static int
policy_host_parse_ipv6(const char *s, size_t len, struct policy_host *ret)
{
	char addr[INET6_ADDRSTRLEN];
	const char *pct = memchr(s, '%', len);
	size_t alen = pct ? (size_t)(pct - s) : len;
	const char *zone = NULL;
	size_t zlen = 0, tlen;

	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET6, addr, ret->addr) != 1)
		return -EINVAL;
	/* An IPv4-mapped address (RFC 4291 §2.5.5.2) reaches the IPv4
	 * address it maps, so it is that address: "[::ffff:10.0.0.1]" must
	 * meet the rules written for 10.0.0.1. A zone has no place there. */
	if (memcmp(ret->addr, policy_host_v4_mapped,
		sizeof(policy_host_v4_mapped)) == 0) {
		uint8_t v4[4];

		if (pct)
			return -EINVAL;
		memcpy(v4, ret->addr + 12, sizeof(v4));
		policy_host_set_ipv4(ret, v4);
		return 0;
	}
	if (pct && policy_host_zone(pct + 1, len - alen - 1, &zone, &zlen) < 0)
		return -EINVAL;
	if (!inet_ntop(AF_INET6, ret->addr, ret->text, sizeof(ret->text)))
		return -EINVAL;
	if (zone) {
		tlen = strlen(ret->text);
		if (tlen + 1 + zlen >= sizeof(ret->text))
			return -EINVAL;
		ret->text[tlen] = '%';
		memcpy(ret->text + tlen + 1, zone, zlen);
		ret->text[tlen + 1 + zlen] = '\0';
	}
	ret->kind = POLICY_HOST_IPV6;
	return 0;
}

static int
policy_host_parse_name(const char *s, size_t len, struct policy_host *ret)
{
	size_t label = 0;

	if (policy_host_ends_in_number(s, len))
		return policy_host_parse_ipv4(s, len, ret);
	if (len > POLICY_HOST_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (label == 0 || label > LIMIT_POLICY_LABEL_BYTES)
				return -EINVAL;
			label = 0;
			continue;
		}
		if (!ascii_isalpha(s[i]) && !ascii_isdigit(s[i]) &&
		    s[i] != '-' && s[i] != '_')
			return -EINVAL;
		label++;
	}
	memcpy(ret->text, s, len);
	ret->text[len] = '\0';
	ret->kind = POLICY_HOST_NAME;
	return 0;
}

/* Split off a ":port" suffix. An empty port means none; anything else must
 * be a decimal port (the reference ignores junk there, we refuse it). */
static int
policy_host_port(const char *p, size_t n, struct policy_host *ret)
{
	if (n == 0)
		return 0;
	if (strparse_port(p, n, &ret->port) < 0)
		return -EINVAL;
	ret->has_port = true;
	return 0;
}

int
policy_host_parse(const char *in, size_t len, struct policy_host *ret)
{
	char text[POLICY_HOST_TEXT_MAX];
	const char *s = in;
	size_t n = len;
	bool ipv6 = false;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!in || len > LIMIT_POLICY_HOST_INPUT_BYTES)
		return -EINVAL;
	while (n > 0 && ascii_isspace(s[0])) {
		s++;
		n--;
	}
	while (n > 0 && ascii_isspace(s[n - 1]))
		n--;
	/* No host holds a NUL; inet_pton() would stop at one and judge
	 * only the text before it. */
	if (memchr(s, '\0', n))
		return -EINVAL;

	if (n > 0 && s[0] == '[') {
		/* "[v6]" or "[v6]:port"; brackets hold IPv6 and nothing else.
		 */
		const char *close = memchr(s, ']', n);
		size_t after;

		if (!close)
			return -EINVAL;
		after = n - (size_t)(close + 1 - s);
		if (after > 0 && close[1] != ':')
			return -EINVAL;
		if (after > 0 &&
		    policy_host_port(close + 2, after - 1, ret) < 0)
			return -EINVAL;
		s++;
		n = (size_t)(close - s);
		ipv6 = true;
	} else {
		const char *colon = memchr(s, ':', n);

		if (colon &&
		    !memchr(colon + 1, ':', n - (size_t)(colon + 1 - s))) {
			r = policy_host_port(colon + 1,
			    n - (size_t)(colon + 1 - s), ret);
			if (r < 0)
				return r;
			n = (size_t)(colon - s);
		} else if (colon) {
			ipv6 = true; /* two or more colons: a bare IPv6 */
		}
	}

	if (n >= sizeof(text))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		text[i] = ascii_tolower(s[i]);
	while (n > 0 && text[n - 1] == '.')
		n--;
	if (n == 0)
		return -EINVAL;

	r = ipv6 ? policy_host_parse_ipv6(text, n, ret) :
		   policy_host_parse_name(text, n, ret);
	if (r < 0) {
		/* Leave nothing half-filled behind for a careless caller. */
		memset(ret, 0, sizeof(*ret));
		return -EINVAL;
	}
	return 0;
}

bool
policy_host_is_localhost(const struct policy_host *h)
{
	size_t n = strlen(h->text);

	return h->kind == POLICY_HOST_NAME &&
	    (streq(h->text, "localhost") ||
		(n > 10 && streq(h->text + n - 10, ".localhost")));
}
