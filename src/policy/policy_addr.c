/* SPDX-License-Identifier: MIT */
/*
 * Address classes: which destinations count as local or private.
 *
 * The IPv4 list is spec network §3.1 (RFC 6890 special-purpose blocks that
 * are not globally reachable). IPv6 follows §3.2 and goes further: an IPv6
 * address that carries an IPv4 address is judged by that IPv4 address
 * wherever the carrier is well known, because a NAT64 gateway or a 6to4 or
 * Teredo relay would deliver the packet there. Anything we cannot classify
 * (an unknown family) is non-public: the check fails closed.
 */
#include "policy/policy.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string.h>

#include "util/compiler.h"

struct policy_addr_range {
	uint32_t net;
	unsigned bits;
	const char *class;
};

/* First match wins, so the narrow blocks come before the wide ones. */
static const struct policy_addr_range policy_addr_v4_ranges[] = {
	{ 0x00000000, 32, "unspecified" },   /* 0.0.0.0 */
	{ 0x00000000, 8, "this-network" },   /* 0.0.0.0/8 */
	{ 0x0a000000, 8, "private" },        /* 10.0.0.0/8 */
	{ 0x64400000, 10, "cgnat" },         /* 100.64.0.0/10 */
	{ 0x7f000000, 8, "loopback" },       /* 127.0.0.0/8 */
	{ 0xa9fe0000, 16, "link-local" },    /* 169.254.0.0/16 */
	{ 0xac100000, 12, "private" },       /* 172.16.0.0/12 */
	{ 0xc0000000, 24, "ietf-protocol" }, /* 192.0.0.0/24 */
	{ 0xc0000200, 24, "documentation" }, /* 192.0.2.0/24 */
	{ 0xc0a80000, 16, "private" },       /* 192.168.0.0/16 */
	{ 0xc6120000, 15, "benchmarking" },  /* 198.18.0.0/15 */
	{ 0xc6336400, 24, "documentation" }, /* 198.51.100.0/24 */
	{ 0xcb007100, 24, "documentation" }, /* 203.0.113.0/24 */
	{ 0xe0000000, 4, "multicast" },      /* 224.0.0.0/4 */
	{ 0xffffffff, 32, "broadcast" },     /* 255.255.255.255 */
	{ 0xf0000000, 4, "reserved" },       /* 240.0.0.0/4 */
};

static uint32_t
policy_addr_be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

static const char *
policy_addr_v4_class(uint32_t a)
{
	for (size_t i = 0; i < ELEMENTSOF(policy_addr_v4_ranges); i++) {
		const struct policy_addr_range *r = &policy_addr_v4_ranges[i];
		uint32_t mask = r->bits == 0 ? 0 : UINT32_MAX << (32 - r->bits);

		if ((a & mask) == r->net)
			return r->class;
	}
	return NULL;
}

static bool
policy_addr_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static const char *
policy_addr_v6_class(const uint8_t *b)
{
	static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b };

	if (policy_addr_zero(b, 16))
		return "unspecified"; /* :: */
	if (policy_addr_zero(b, 15) && b[15] == 1)
		return "loopback"; /* ::1, before the compatible form */
	/* IPv4-mapped ::ffff:0:0/96 (RFC 4291 §2.5.5.2). */
	if (policy_addr_zero(b, 10) && b[10] == 0xff && b[11] == 0xff)
		return policy_addr_v4_class(policy_addr_be32(b + 12));
	/* The deprecated IPv4-compatible ::/96 (RFC 4291 §2.5.5.1). */
	if (policy_addr_zero(b, 12))
		return policy_addr_v4_class(policy_addr_be32(b + 12));
	/* NAT64 well-known prefix 64:ff9b::/96 (RFC 6052 §2.1). */
	if (memcmp(b, nat64, sizeof(nat64)) == 0)
		return policy_addr_v4_class(policy_addr_be32(b + 12));
	/* 6to4 2002::/16: the IPv4 address follows the prefix (RFC 3056 §2). */
	if (b[0] == 0x20 && b[1] == 0x02)
		return policy_addr_v4_class(policy_addr_be32(b + 2));
	/* Teredo 2001::/32: the client's IPv4 address is stored inverted in
	 * the last 32 bits (RFC 4380 §4). */
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0)
		return policy_addr_v4_class(~policy_addr_be32(b + 12));
	if (b[0] == 0xff)
		return "multicast"; /* ff00::/8 */
	if ((b[0] & 0xfe) == 0xfc)
		return "unique-local"; /* fc00::/7 */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "link-local"; /* fe80::/10 */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return "site-local"; /* fec0::/10, deprecated by RFC 3879 */
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
		return "documentation"; /* 2001:db8::/32 (RFC 3849) */
	return NULL;
}

const char *
policy_addr_class(const struct policy_addr *a)
{
	if (a->family == AF_INET)
		return policy_addr_v4_class(policy_addr_be32(a->bytes));
	if (a->family == AF_INET6)
		return policy_addr_v6_class(a->bytes);
	return "unknown-family";
}

struct policy_addr
policy_addr_canonical(const struct policy_addr *a)
{
	struct policy_addr c = { .family = a->family };

	if (a->family == AF_INET6 && policy_addr_zero(a->bytes, 10) &&
	    a->bytes[10] == 0xff && a->bytes[11] == 0xff) {
		c.family = AF_INET;
		memcpy(c.bytes, a->bytes + 12, 4);
	} else if (a->family == AF_INET) {
		memcpy(c.bytes, a->bytes, 4);
	} else {
		memcpy(c.bytes, a->bytes, sizeof(c.bytes));
	}
	return c;
}

bool
policy_addr_equal(const struct policy_addr *a, const struct policy_addr *b)
{
	struct policy_addr ca = policy_addr_canonical(a);
	struct policy_addr cb = policy_addr_canonical(b);

	return ca.family == cb.family &&
	    memcmp(ca.bytes, cb.bytes, ca.family == AF_INET ? 4 : 16) == 0;
}

struct policy_addr
policy_host_addr(const struct policy_host *h)
{
	struct policy_addr a = {
		.family = h->kind == POLICY_HOST_IPV4 ? AF_INET : AF_INET6,
	};

	memcpy(a.bytes, h->addr, sizeof(a.bytes));
	return policy_addr_canonical(&a);
}

size_t
policy_addrs_add(struct policy_addr *addrs, size_t n, size_t max,
    const struct addrinfo *ai)
{
	for (; ai && n < max; ai = ai->ai_next) {
		struct policy_addr a = { .family = ai->ai_family };
		bool dup = false;

		if (ai->ai_family == AF_INET &&
		    ai->ai_addrlen >= sizeof(struct sockaddr_in))
			memcpy(a.bytes,
			    &((const struct sockaddr_in *)(const void *)
				    ai->ai_addr)
				 ->sin_addr,
			    4);
		else if (ai->ai_family == AF_INET6 &&
		    ai->ai_addrlen >= sizeof(struct sockaddr_in6))
			memcpy(a.bytes,
			    &((const struct sockaddr_in6 *)(const void *)
				    ai->ai_addr)
				 ->sin6_addr,
			    16);
		else
			continue;
		/* The one point where resolver answers enter: from here on
		 * every address is canonical. */
		a = policy_addr_canonical(&a);
		for (size_t i = 0; i < n && !dup; i++)
			dup = policy_addr_equal(&addrs[i], &a);
		if (!dup)
			addrs[n++] = a;
	}
	return n;
}
