/* SPDX-License-Identifier: MIT */
/* Upstream proxy selection from the environment, with NO_PROXY. */
#include "proxy/upstream.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "util/buf.h"
#include "util/compiler.h"
#include "util/limits.h"
#include "util/strparse.h"
#include "util/strutil.h"

enum upstream_rule_kind {
	UPSTREAM_RULE_ALL,
	UPSTREAM_RULE_NAME,
	UPSTREAM_RULE_CIDR,
	_UPSTREAM_RULE_KIND_MAX,
};

struct upstream_rule {
	enum upstream_rule_kind kind;
	char name[HTTP_HOST_MAX]; /* lower case, no leading/trailing dot */
	int family;
	uint8_t addr[16];
	unsigned prefix;
};

enum {
	UPSTREAM_HTTP,
	UPSTREAM_HTTPS,
	UPSTREAM_ALL,
	_UPSTREAM_KIND_MAX,
};

struct upstream {
	struct upstream_proxy proxies[_UPSTREAM_KIND_MAX]; /* set: variable */
	struct upstream_rule *rules;
	size_t n_rules;
};

static const char *const upstream_vars[_UPSTREAM_KIND_MAX][2] = {
	[UPSTREAM_HTTP] = { "HTTP_PROXY", "http_proxy" },
	[UPSTREAM_HTTPS] = { "HTTPS_PROXY", "https_proxy" },
	[UPSTREAM_ALL] = { "ALL_PROXY", "all_proxy" },
};

static int
upstream_hexval(char c)
{
	if (ascii_isdigit(c))
		return c - '0';
	c = ascii_tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode s[0..len) into out; refuses bad escapes and NUL. */
static int
upstream_unescape(const char *s, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			if (len - i < 3)
				return -EINVAL;
			hi = upstream_hexval(s[i + 1]);
			lo = upstream_hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -EINVAL;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (buf_append_char(out, c) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* "Basic base64(user:pass)" for RFC 7617 proxy credentials. */
static char *
upstream_basic_auth(const char *userinfo, size_t len)
{
	struct buf plain, text;
	unsigned char *b64;
	size_t b64len;
	char *r = NULL;

	buf_init(&plain, LIMIT_PROXY_ENV_URL_BYTES);
	buf_init(&text, 0);
	if (upstream_unescape(userinfo, len, &plain) < 0)
		goto out;
	b64len = 4 * ((plain.len + 2) / 3) + 1;
	b64 = malloc(b64len);
	if (!b64)
		goto out;
	(void)EVP_EncodeBlock(b64, (const unsigned char *)buf_str(&plain),
	    (int)plain.len);
	if (buf_printf(&text, "Basic %s", (const char *)b64) >= 0)
		r = buf_take(&text);
	free(b64);
out:
	if (plain.data)
		memset(plain.data, 0, plain.len);
	buf_done(&plain);
	buf_done(&text);
	return r;
}

int
upstream_parse_url(const char *url, struct upstream_proxy *ret)
{
	const char *p = url, *end, *at;
	size_t len = strlen(url);

	*ret = (struct upstream_proxy){ 0 };
	if (len == 0 || len > LIMIT_PROXY_ENV_URL_BYTES)
		return -EINVAL;
	if (strstr(url, "://")) {
		if (strncasecmp(url, "http://", 7) != 0)
			return -EPROTONOSUPPORT;
		p = url + 7;
	}
	end = p + strcspn(p, "/?#");
	if (*end && strcmp(end, "/") != 0)
		return -EINVAL;
	at = memrchr(p, '@', (size_t)(end - p));
	if (http_authority_parse(at ? at + 1 : p,
		(size_t)(end - (at ? at + 1 : p)), 80, false,
		&ret->authority) != HTTP_TARGET_OK)
		return -EINVAL;
	if (at) {
		ret->authorization = upstream_basic_auth(p, (size_t)(at - p));
		if (!ret->authorization)
			return -EINVAL;
	}
	return 0;
}

static int
upstream_parse_cidr(const char *s, struct upstream_rule *rule)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t prefix;

	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, rule->addr) == 1)
		rule->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, rule->addr) == 1)
		rule->family = AF_INET6;
	else
		return -EINVAL;
	prefix = rule->family == AF_INET ? 32 : 128;
	if (slash && strparse_u64_str(slash + 1, prefix, &prefix) < 0)
		return -EINVAL;
	rule->prefix = (unsigned)prefix;
	rule->kind = UPSTREAM_RULE_CIDR;
	return 0;
}

static int
upstream_add_rule(struct upstream *u, const char *tok, size_t len)
{
	struct upstream_rule rule = { 0 }, *rules;
	char text[HTTP_HOST_MAX];

	if (len >= 2 && tok[0] == '[' && tok[len - 1] == ']') {
		tok++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(text))
		return 0;
	memcpy(text, tok, len);
	text[len] = '\0';
	if (streq(text, "*")) {
		rule.kind = UPSTREAM_RULE_ALL;
	} else if (upstream_parse_cidr(text, &rule) < 0) {
		const char *name = text;
		size_t n;

		/* Not an address: a name. "*.x", ".x" and "x" all mean x
		 * and its subdomains (curl's reading). */
		if (startswith(name, "*."))
			name += 2;
		while (*name == '.')
			name++;
		n = strlen(name);
		while (n > 0 && name[n - 1] == '.')
			n--;
		if (n == 0)
			return 0;
		for (size_t i = 0; i < n; i++)
			rule.name[i] = ascii_tolower(name[i]);
		rule.name[n] = '\0';
		rule.kind = UPSTREAM_RULE_NAME;
	}
	if (u->n_rules >= LIMIT_NO_PROXY_ENTRIES)
		return 0;
	rules = reallocarray(u->rules, u->n_rules + 1, sizeof(*rules));
	if (!rules)
		return -ENOMEM;
	u->rules = rules;
	u->rules[u->n_rules++] = rule;
	return 0;
}

static int
upstream_parse_no_proxy(struct upstream *u, const char *list)
{
	while (*list) {
		size_t n;
		int r;

		list += strspn(list, ", \t");
		n = strcspn(list, ", \t");
		r = upstream_add_rule(u, list, n);
		if (r < 0)
			return r;
		list += n;
	}
	return 0;
}

static const char *
upstream_getenv_pair(const char *(*get)(const char *),
    const char *const names[2], const char **ret_name)
{
	for (size_t i = 0; i < 2; i++) {
		const char *v = get(names[i]);

		if (v && *v) {
			*ret_name = names[i];
			return v;
		}
	}
	return NULL;
}

struct upstream *
upstream_new(const char *(*get)(const char *name),
    void (*warn)(void *userdata, const char *message), void *userdata)
{
	static const char *const no_proxy[2] = { "NO_PROXY", "no_proxy" };
	struct upstream *u = calloc(1, sizeof(*u));
	const char *v, *name;

	if (!u)
		return NULL;
	for (size_t k = 0; k < _UPSTREAM_KIND_MAX; k++) {
		char msg[256];
		int r;

		v = upstream_getenv_pair(get, upstream_vars[k], &name);
		if (!v)
			continue;
		r = upstream_parse_url(v, &u->proxies[k]);
		if (r == 0) {
			u->proxies[k].variable = name;
			continue;
		}
		if (warn) {
			(void)snprintf(msg, sizeof(msg), "ignoring %s: %s",
			    name,
			    r == -EPROTONOSUPPORT ?
				"only http:// upstream proxies are supported" :
				"not a valid proxy URL");
			warn(userdata, msg);
		}
	}
	v = upstream_getenv_pair(get, no_proxy, &name);
	if (v && upstream_parse_no_proxy(u, v) < 0)
		return upstream_free(u);
	return u;
}

struct upstream *
upstream_free(struct upstream *u)
{
	if (!u)
		return NULL;
	for (size_t k = 0; k < _UPSTREAM_KIND_MAX; k++) {
		char *a = u->proxies[k].authorization;

		if (a) {
			memset(a, 0, strlen(a));
			free(a);
		}
	}
	free(u->rules);
	free(u);
	return NULL;
}

bool
upstream_is_empty(const struct upstream *u)
{
	for (size_t k = 0; k < _UPSTREAM_KIND_MAX; k++)
		if (u->proxies[k].variable)
			return false;
	return true;
}

static bool
upstream_prefix_match(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static bool
upstream_rule_matches(const struct upstream_rule *rule, const char *host,
    int family, const uint8_t *addr)
{
	size_t hl, nl;

	switch (rule->kind) {
	case UPSTREAM_RULE_ALL:
		return true;
	case UPSTREAM_RULE_CIDR:
		return family == rule->family &&
		    upstream_prefix_match(addr, rule->addr, rule->prefix);
	case UPSTREAM_RULE_NAME:
		hl = strlen(host);
		nl = strlen(rule->name);
		if (hl == nl)
			return strcasecmp(host, rule->name) == 0;
		return hl > nl && host[hl - nl - 1] == '.' &&
		    strcasecmp(host + hl - nl, rule->name) == 0;
	default:
		return false;
	}
}

bool
upstream_bypassed(const struct upstream *u, const char *host)
{
	uint8_t addr[16];
	int family = 0;

	if (inet_pton(AF_INET, host, addr) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, host, addr) == 1)
		family = AF_INET6;
	for (size_t i = 0; i < u->n_rules; i++)
		if (upstream_rule_matches(&u->rules[i], host, family, addr))
			return true;
	return false;
}

const struct upstream_proxy *
upstream_select(const struct upstream *u, const char *host, bool secure)
{
	static const int secure_order[] = { UPSTREAM_HTTPS, UPSTREAM_HTTP,
		UPSTREAM_ALL };
	static const int plain_order[] = { UPSTREAM_HTTP, UPSTREAM_ALL };
	const int *order = secure ? secure_order : plain_order;
	size_t n = secure ? ELEMENTSOF(secure_order) : ELEMENTSOF(plain_order);

	if (!u || upstream_is_empty(u) || upstream_bypassed(u, host))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (u->proxies[order[i]].variable)
			return &u->proxies[order[i]];
	return NULL;
}
