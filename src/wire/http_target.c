/* SPDX-License-Identifier: MIT */
/*
 * Request-target and authority syntax (RFC 3986 §3.2, RFC 9112 §3.2).
 * Locale-free, bounded, and strict: anything not plainly a host and port
 * is refused rather than guessed at.
 */
#include "wire/http_target.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/strparse.h"
#include "util/strutil.h"

static const char *const http_target_messages[_HTTP_TARGET_ERROR_MAX] = {
	[HTTP_TARGET_OK] = "ok",
	[HTTP_TARGET_INVALID] = "invalid request target",
	[HTTP_TARGET_USERINFO] = "credentials in the request target",
	[HTTP_TARGET_BAD_PORT] = "invalid port",
	[HTTP_TARGET_HTTPS] =
	    "https:// targets are not proxied; use CONNECT (e.g. curl -p)",
	[HTTP_TARGET_SCHEME] = "unsupported URL scheme",
};

const char *
http_target_error_message(enum http_target_error err)
{
	if ((unsigned)err >= _HTTP_TARGET_ERROR_MAX)
		return "invalid request target";
	return http_target_messages[err];
}

/* reg-name and IPv4 characters we accept: letters, digits, '-', '.', '_'.
 * (Percent-encoded and sub-delim hosts exist in RFC 3986 but not in DNS.) */
static bool
http_host_char_ok(char c)
{
	return ascii_isalpha(c) || ascii_isdigit(c) || c == '-' || c == '.' ||
	    c == '_';
}

/* Inside brackets: hex digits, ':', '.', and a zone after '%'. */
static bool
http_ipv6_char_ok(char c)
{
	return ascii_isdigit(c) || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F') || c == ':' || c == '.' || c == '%' ||
	    ascii_isalpha(c) || c == '-' || c == '_';
}

static enum http_target_error
http_port_parse(const char *s, size_t len, uint16_t *ret)
{
	uint16_t port;

	if (len == 0 || len > 5 || strparse_port(s, len, &port) < 0 ||
	    port == 0)
		return HTTP_TARGET_BAD_PORT;
	*ret = port;
	return HTTP_TARGET_OK;
}

enum http_target_error
http_authority_parse(const char *s, size_t len, uint16_t default_port,
    bool require_port, struct http_authority *ret)
{
	const char *host, *colon = NULL;
	size_t host_len;
	enum http_target_error r;

	*ret = (struct http_authority){ .port = default_port };
	if (len == 0)
		return HTTP_TARGET_INVALID;
	if (memchr(s, '@', len))
		return HTTP_TARGET_USERINFO;
	if (s[0] == '[') {
		const char *end = memchr(s, ']', len);

		if (!end)
			return HTTP_TARGET_INVALID;
		host = s + 1;
		host_len = (size_t)(end - host);
		for (size_t i = 0; i < host_len; i++)
			if (!http_ipv6_char_ok(host[i]))
				return HTTP_TARGET_INVALID;
		if (host_len == 0 || !memchr(host, ':', host_len))
			return HTTP_TARGET_INVALID;
		ret->ipv6 = true;
		if (end + 1 < s + len) {
			if (end[1] != ':')
				return HTTP_TARGET_INVALID;
			colon = end + 1;
		}
	} else {
		colon = memchr(s, ':', len);
		host = s;
		host_len = colon ? (size_t)(colon - s) : len;
		for (size_t i = 0; i < host_len; i++)
			if (!http_host_char_ok(host[i]))
				return HTTP_TARGET_INVALID;
	}
	if (host_len == 0 || host_len >= sizeof(ret->host))
		return HTTP_TARGET_INVALID;
	memcpy(ret->host, host, host_len);
	ret->host[host_len] = '\0';
	if (colon) {
		r = http_port_parse(colon + 1, (size_t)(s + len - colon - 1),
		    &ret->port);
		if (r != HTTP_TARGET_OK)
			return r;
		ret->has_port = true;
	} else if (require_port) {
		return HTTP_TARGET_BAD_PORT;
	}
	return HTTP_TARGET_OK;
}

static enum http_target_error
http_target_parse_absolute(const char *t, size_t len, struct http_target *ret)
{
	static const char http[] = "http://", https[] = "https://";
	const char *auth, *end, *stop, *hash;
	enum http_target_error r;

	if (len >= sizeof(http) - 1 &&
	    strncasecmp(t, http, sizeof(http) - 1) == 0) {
		auth = t + sizeof(http) - 1;
	} else if (len >= sizeof(https) - 1 &&
	    strncasecmp(t, https, sizeof(https) - 1) == 0) {
		return HTTP_TARGET_HTTPS;
	} else {
		return HTTP_TARGET_SCHEME;
	}
	end = t + len;
	stop = auth;
	while (stop < end && *stop != '/' && *stop != '?' && *stop != '#')
		stop++;
	r = http_authority_parse(auth, (size_t)(stop - auth), 80, false,
	    &ret->authority);
	if (r != HTTP_TARGET_OK)
		return r;
	ret->form = HTTP_TARGET_ABSOLUTE;
	/* The fragment is the client's own business (RFC 9110 §4.2.5). */
	hash = memchr(stop, '#', (size_t)(end - stop));
	if (hash)
		end = hash;
	/* An empty path or a bare query is sent with a leading "/" (RFC 9112
	 * §3.2.1); the caller adds it when path does not start with '/'. */
	ret->path = stop;
	ret->path_len = (size_t)(end - stop);
	return HTTP_TARGET_OK;
}

enum http_target_error
http_target_parse(const char *target, size_t len, bool connect,
    struct http_target *ret)
{
	*ret = (struct http_target){ .form = HTTP_TARGET_ORIGIN };
	if (len == 0)
		return HTTP_TARGET_INVALID;
	if (connect) {
		ret->form = HTTP_TARGET_AUTHORITY;
		return http_authority_parse(target, len, 0, true,
		    &ret->authority);
	}
	if (target[0] == '/') {
		const char *hash = memchr(target, '#', len);

		ret->path = target;
		ret->path_len = hash ? (size_t)(hash - target) : len;
		return HTTP_TARGET_OK;
	}
	if (len == 1 && target[0] == '*') {
		ret->form = HTTP_TARGET_ASTERISK;
		ret->path = target;
		ret->path_len = 1;
		return HTTP_TARGET_OK;
	}
	return http_target_parse_absolute(target, len, ret);
}

static size_t
http_host_cmp_len(const char *h)
{
	size_t n = strlen(h);

	if (n > 1 && h[n - 1] == '.')
		n--;
	return n;
}

bool
http_authority_matches(const struct http_authority *target,
    const struct http_authority *host)
{
	size_t a = http_host_cmp_len(target->host),
	       b = http_host_cmp_len(host->host);

	if (a != b || strncasecmp(target->host, host->host, a) != 0)
		return false;
	/* A Host without a port names the scheme default (80 for http). */
	return (host->has_port ? host->port : 80) == target->port;
}

int
http_authority_format(const struct http_authority *a, uint16_t default_port,
    char *out, size_t outsz)
{
	int n;

	if (a->port == default_port)
		n = snprintf(out, outsz, a->ipv6 ? "[%s]" : "%s", a->host);
	else
		n = snprintf(out, outsz, a->ipv6 ? "[%s]:%u" : "%s:%u", a->host,
		    (unsigned)a->port);
	if (n < 0 || (size_t)n >= outsz)
		return -ENOBUFS;
	return n;
}
