/* SPDX-License-Identifier: MIT */
/*
 * Listener addresses (proxy_url, socks_url), spec network §1.3: a URL or a
 * bare host[:port], the scheme ignored, userinfo dropped, "[v6]:port" for
 * IPv6, the default port when none is written. The host resolves without
 * DNS: "localhost" is 127.0.0.1, an IP literal is itself, and any other
 * name binds 127.0.0.1 (the caller warns).
 *
 * Where the reference silently falls back (a port that is not a number, a
 * host with stray colons, an empty host), this parser refuses the address
 * so the mistake is reported at load time.
 */
#include "config/config_internal.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "util/strparse.h"
#include "util/strutil.h"

static bool
config_addr_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* "localhost" in any case, compared without the locale. */
static bool
config_addr_is_localhost(const char *host)
{
	static const char name[] = "localhost";

	for (size_t i = 0; i < sizeof(name); i++)
		if (ascii_tolower(host[i]) != name[i])
			return false;
	return true;
}

static bool
config_addr_set_ip(struct config_listen_addr *a, const char *host)
{
	unsigned char bytes[sizeof(struct in6_addr)];

	if (strlen(host) >= sizeof(a->host))
		return false;
	if (inet_pton(AF_INET, host, bytes) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, host, bytes) == 1)
		a->family = AF_INET6;
	else
		return false;
	/* Print it back so the text is canonical (e.g. IPv6 compressed). */
	return inet_ntop(a->family, bytes, a->host, sizeof(a->host)) != NULL;
}

int
config_addr_parse(const char *value, uint16_t default_port,
    struct config_listen_addr *ret, bool *ret_host_replaced, char *err,
    size_t errsz)
{
	char buf[512];
	char *s;
	char *end;
	char *host;
	char *port = NULL;
	char *p;
	size_t len = strlen(value);

	*ret = (struct config_listen_addr){ .port = default_port };
	*ret_host_replaced = false;
	while (len > 0 && config_addr_is_space(value[len - 1]))
		len--;
	while (len > 0 && config_addr_is_space(*value))
		value++, len--;
	if (len == 0) {
		(void)snprintf(err, errsz, "the address is empty");
		return -EINVAL;
	}
	if (len >= sizeof(buf)) {
		(void)snprintf(err, errsz, "the address is too long");
		return -EINVAL;
	}
	memcpy(buf, value, len);
	buf[len] = '\0';

	/* A bare IPv6 literal, e.g. "::1". */
	if (config_addr_set_ip(ret, buf) && ret->family == AF_INET6)
		return 0;

	s = strstr(buf, "://");
	s = s ? s + 3 : buf;
	end = s + strcspn(s, "/?#");
	*end = '\0';
	p = strrchr(s, '@');
	host = p ? p + 1 : s;
	if (host[0] == '[') {
		p = strchr(host, ']');
		if (!p) {
			(void)snprintf(err, errsz, "'[' without a closing ']'");
			return -EINVAL;
		}
		*p = '\0';
		host++;
		if (p[1] == ':')
			port = p + 2;
		else if (p[1] != '\0') {
			(void)snprintf(err, errsz,
			    "unexpected text after the ']'");
			return -EINVAL;
		}
		if (!config_addr_set_ip(ret, host) || ret->family != AF_INET6) {
			(void)snprintf(err, errsz,
			    "the bracketed host is not an IPv6 address");
			return -EINVAL;
		}
	} else {
		p = strchr(host, ':');
		if (p && strchr(p + 1, ':')) {
			(void)snprintf(err, errsz,
			    "more than one ':'; write an IPv6 address in "
			    "brackets, e.g. [::1]:3128");
			return -EINVAL;
		}
		if (p) {
			*p = '\0';
			port = p + 1;
		}
		if (!host[0]) {
			(void)snprintf(err, errsz, "the address has no host");
			return -EINVAL;
		}
		if (config_addr_is_localhost(host)) {
			(void)config_addr_set_ip(ret, "127.0.0.1");
		} else if (!config_addr_set_ip(ret, host) ||
		    ret->family != AF_INET) {
			/* A name: never resolved, always loopback. */
			(void)config_addr_set_ip(ret, "127.0.0.1");
			*ret_host_replaced = true;
		}
	}
	if (port && port[0] &&
	    strparse_port(port, strlen(port), &ret->port) < 0) {
		(void)snprintf(err, errsz,
		    "the port is not a number from 0 to 65535");
		return -EINVAL;
	}
	return 0;
}

bool
config_addr_is_loopback(const struct config_listen_addr *a)
{
	struct in6_addr v6;

	if (a->family == AF_INET)
		return startswith(a->host, "127.");
	return inet_pton(AF_INET6, a->host, &v6) == 1 &&
	    IN6_IS_ADDR_LOOPBACK(&v6);
}

const char *
config_listen_addr_format(const struct config_listen_addr *a, char *out,
    size_t outsz)
{
	(void)snprintf(out, outsz, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u",
	    a->host, a->port);
	return out;
}
