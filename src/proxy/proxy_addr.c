/* SPDX-License-Identifier: MIT */
/*
 * Whether an address reaches one of the proxy's own listeners, so that a
 * request cannot loop back into the proxy.
 */
#include "proxy/proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static bool
proxy_addr_is_unspecified(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)sa)
			   ->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(
	    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
}

static bool
proxy_addr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)sa)
				  ->sin_addr.s_addr) >>
			   24) == 127;
	return IN6_IS_ADDR_LOOPBACK(
	    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
}

uint16_t
proxy_addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(
		    ((const struct sockaddr_in *)(const void *)sa)->sin_port);
	return ntohs(
	    ((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
}

static bool
proxy_addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)a)
			   ->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)(const void *)b)
			->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)(const void *)a)
			   ->sin6_addr,
		   &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr,
		   16) == 0;
}

/* The canonical form of sa (policy_addr_canonical(): an IPv4-mapped IPv6
 * address is its IPv4 address), port kept, in ret. */
static const struct sockaddr *
proxy_addr_canonical(const struct sockaddr *sa, struct sockaddr_storage *ret)
{
	const struct sockaddr_in6 *in6 = (const void *)sa;
	struct sockaddr_in *in = (struct sockaddr_in *)(void *)ret;

	if (sa->sa_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
		return sa;
	memset(ret, 0, sizeof(*ret));
	in->sin_family = AF_INET;
	in->sin_port = in6->sin6_port;
	memcpy(&in->sin_addr, &in6->sin6_addr.s6_addr[12], 4);
	return (const struct sockaddr *)ret;
}

/* A packet to sa would reach a socket bound to local: the same address,
 * "any" (which the kernel routes to the local host), or any loopback
 * address when local is a wildcard; ports equal. Both sides are compared
 * in canonical form, so ::ffff:127.0.0.1 is 127.0.0.1 and ::ffff:0.0.0.0
 * is "any". */
bool
proxy_addr_reaches(const struct sockaddr *local, const struct sockaddr *sa_in)
{
	struct sockaddr_storage sa_buf, l_buf;
	const struct sockaddr *sa = proxy_addr_canonical(sa_in, &sa_buf);
	const struct sockaddr *l = proxy_addr_canonical(local, &l_buf);

	if (proxy_addr_port(l) != proxy_addr_port(sa))
		return false;
	if (proxy_addr_is_unspecified(sa) || proxy_addr_equal(l, sa))
		return true;
	return proxy_addr_is_unspecified(l) && proxy_addr_is_loopback(sa);
}
