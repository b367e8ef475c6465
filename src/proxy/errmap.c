/* SPDX-License-Identifier: MIT */
/* errno -> HTTP status, SOCKS5 reply, reason text. */
#include "proxy/errmap.h"

#include <errno.h>
#include <stddef.h>

#include "util/compiler.h"

struct errmap_entry {
	int err;
	unsigned http;
	uint8_t socks;
	const char *text;
};

/* SOCKS5 replies (RFC 1928 §6): 1 general failure, 2 not allowed by
 * ruleset, 3 network unreachable, 4 host unreachable, 5 connection
 * refused, 6 TTL expired (used for timeouts). */
static const struct errmap_entry errmap_table[] = {
	{ ECONNREFUSED, 502, 0x05, "connection refused by upstream" },
	{ ETIMEDOUT, 504, 0x06, "connect to upstream timed out" },
	{ EHOSTUNREACH, 502, 0x04, "upstream host unreachable" },
	{ ENETUNREACH, 502, 0x03, "upstream network unreachable" },
	{ ENETDOWN, 502, 0x03, "upstream network down" },
	{ EHOSTDOWN, 502, 0x04, "upstream host down" },
	{ ECONNRESET, 502, 0x05, "connection reset by upstream" },
	{ ECONNABORTED, 502, 0x05, "upstream proxy refused the tunnel" },
	{ EPIPE, 502, 0x01, "upstream closed the connection" },
	{ EADDRNOTAVAIL, 502, 0x01, "no local address to reach upstream" },
	{ EAFNOSUPPORT, 502, 0x08, "address family not supported" },
	{ EACCES, 502, 0x02, "connection not permitted" },
	{ EPERM, 502, 0x02, "connection not permitted" },
	{ ENXIO, 502, 0x04, "DNS lookup failed: no such host" },
	{ ETIME, 504, 0x04, "DNS lookup timed out" },
	{ EREMOTEIO, 502, 0x04, "DNS lookup failed" },
	{ EPROTO, 502, 0x01, "invalid response from upstream" },
	{ ELOOP, 508, 0x02, "the request loops back into the proxy" },
	{ EMFILE, 503, 0x01, "proxy is out of file descriptors" },
	{ ENFILE, 503, 0x01, "proxy is out of file descriptors" },
	{ ENOBUFS, 503, 0x01, "proxy is out of memory" },
	{ ENOMEM, 503, 0x01, "proxy is out of memory" },
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

	return e ? e->socks : 0x01;
}

const char *
errmap_text(int err)
{
	const struct errmap_entry *e = errmap_find(err);

	return e ? e->text : "upstream connection failed";
}
