/* SPDX-License-Identifier: MIT */
/* errno -> HTTP status, SOCKS5 reply, reason text. */
#include "wire/errmap.h"

#include <errno.h>
#include <stddef.h>

#include "util/compiler.h"
#include "wire/socks5.h"

struct errmap_entry {
	int err;
	unsigned http;
	uint8_t socks;
	const char *text;
};

/* SOCKS5 replies (RFC 1928 §6). A connect that ran out of time is "TTL
 * expired", the nearest code RFC 1928 has; a failed or timed-out lookup is
 * "host unreachable"; a refusal of any kind is "not allowed by ruleset". */
static const struct errmap_entry errmap_table[] = {
	{ ECONNREFUSED, 502, SOCKS_REPLY_CONNECTION_REFUSED,
	    "connection refused by upstream" },
	{ ETIMEDOUT, 504, SOCKS_REPLY_TTL_EXPIRED,
	    "connect to upstream timed out" },
	{ EHOSTUNREACH, 502, SOCKS_REPLY_HOST_UNREACHABLE,
	    "upstream host unreachable" },
	{ ENETUNREACH, 502, SOCKS_REPLY_NETWORK_UNREACHABLE,
	    "upstream network unreachable" },
	{ ENETDOWN, 502, SOCKS_REPLY_NETWORK_UNREACHABLE,
	    "upstream network down" },
	{ EHOSTDOWN, 502, SOCKS_REPLY_HOST_UNREACHABLE, "upstream host down" },
	{ ECONNRESET, 502, SOCKS_REPLY_CONNECTION_REFUSED,
	    "connection reset by upstream" },
	{ ECONNABORTED, 502, SOCKS_REPLY_CONNECTION_REFUSED,
	    "upstream proxy refused the tunnel" },
	{ EPIPE, 502, SOCKS_REPLY_GENERAL_FAILURE,
	    "upstream closed the connection" },
	{ EADDRNOTAVAIL, 502, SOCKS_REPLY_GENERAL_FAILURE,
	    "no local address to reach upstream" },
	{ EAFNOSUPPORT, 502, SOCKS_REPLY_ADDRESS_NOT_SUPPORTED,
	    "address family not supported" },
	{ EACCES, 502, SOCKS_REPLY_NOT_ALLOWED, "connection not permitted" },
	{ EPERM, 502, SOCKS_REPLY_NOT_ALLOWED, "connection not permitted" },
	{ ENXIO, 502, SOCKS_REPLY_HOST_UNREACHABLE,
	    "DNS lookup failed: no such host" },
	{ ETIME, 504, SOCKS_REPLY_HOST_UNREACHABLE, "DNS lookup timed out" },
	{ EREMOTEIO, 502, SOCKS_REPLY_HOST_UNREACHABLE, "DNS lookup failed" },
	{ EOPNOTSUPP, 501, SOCKS_REPLY_COMMAND_NOT_SUPPORTED,
	    "command not supported" },
	{ EPROTO, 502, SOCKS_REPLY_GENERAL_FAILURE,
	    "invalid response from upstream" },
	{ ELOOP, 508, SOCKS_REPLY_NOT_ALLOWED,
	    "the request loops back into the proxy" },
	{ EMFILE, 503, SOCKS_REPLY_GENERAL_FAILURE,
	    "proxy is out of file descriptors" },
	{ ENFILE, 503, SOCKS_REPLY_GENERAL_FAILURE,
	    "proxy is out of file descriptors" },
	{ ENOBUFS, 503, SOCKS_REPLY_GENERAL_FAILURE, "proxy is out of memory" },
	{ ENOMEM, 503, SOCKS_REPLY_GENERAL_FAILURE, "proxy is out of memory" },
};

static const struct errmap_entry *
errmap_find(int err)
{
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < ELEMENTSOF(errmap_table); i++)
		if (errmap_table[i].err == err)
			return &errmap_table[i];
	return NULL;
}

unsigned
errmap_http_status(int err)
{
	const struct errmap_entry *e = errmap_find(err);

	return e ? e->http : 502;
}

uint8_t
errmap_socks_reply(int err)
{
	const struct errmap_entry *e = errmap_find(err);

	return e ? e->socks : SOCKS_REPLY_GENERAL_FAILURE;
}

const char *
errmap_text(int err)
{
	const struct errmap_entry *e = errmap_find(err);

	return e ? e->text : "upstream connection failed";
}
