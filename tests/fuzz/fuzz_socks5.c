/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the SOCKS5 parsers. The first input byte picks the message (its low
 * three bits: greeting, request, reply, reason, UDP header) and the size
 * of the feeds (the rest), so every split point is exercised. Checks, for
 * any input:
 *  - a parser never takes more than it was given, takes everything while
 *    it needs more, and stops exactly at the end of its message;
 *  - one feed or many give the same result, length and message;
 *  - an error names a reason; a parsed request, reply or UDP header
 *    encodes back to the very bytes it came from (no NUL in a name, no
 *    length past the format's maximum).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "wire/socks5.h"

enum kind {
	KIND_GREETING,
	KIND_REQUEST,
	KIND_REPLY,
	KIND_REASON,
	KIND_UDP,
	_KIND_MAX,
};

union message {
	struct socks5_greeting greeting;
	struct socks5_request request;
	struct socks5_reply reply;
	struct socks5_reason reason;
};

struct outcome {
	enum parse_result r;
	size_t used;
};

static enum parse_result
feed(enum kind k, struct socks5_parser *p, const uint8_t *d, size_t n,
    size_t *used, union message *m)
{
	switch (k) {
	case KIND_GREETING:
		return socks5_greeting_feed(p, d, n, used, &m->greeting);
	case KIND_REQUEST:
		return socks5_request_feed(p, d, n, used, &m->request);
	case KIND_REPLY:
		return socks5_reply_feed(p, d, n, used, &m->reply);
	default:
		return socks5_reason_feed(p, d, n, used, &m->reason);
	}
}

static struct outcome
parse(enum kind k, const uint8_t *data, size_t size, size_t step,
    union message *m)
{
	struct outcome o = { .r = PARSE_AGAIN };
	struct socks5_parser p;

	socks5_parser_init(&p);
	memset(m, 0, sizeof(*m));
	do {
		size_t n = size - o.used < step ? size - o.used : step, used;

		o.r = feed(k, &p, data + o.used, n, &used, m);
		if (used > n || (o.r == PARSE_AGAIN && used != n))
			abort();
		o.used += used;
	} while (o.r == PARSE_AGAIN && o.used < size);
	if (o.r == PARSE_ERROR && !p.error)
		abort();
	return o;
}

/* A parsed request or reply must encode to the bytes it came from. */
static void
check_round_trip(enum kind k, const uint8_t *data, size_t used,
    const union message *m)
{
	uint8_t out[SOCKS5_REQUEST_MAX];
	size_t n;

	if (k == KIND_REQUEST)
		n = socks5_request_encode(m->request.command, &m->request.dst,
		    out, sizeof(out));
	else if (k == KIND_REPLY)
		n = socks5_reply_encode(m->reply.rep, &m->reply.bnd, out,
		    sizeof(out));
	else
		return;
	/* Byte 2 is RSV, which a parser ignores and an encoder zeroes. */
	if (n != used || out[0] != data[0] || out[1] != data[1] ||
	    memcmp(out + 3, data + 3, n - 3) != 0)
		abort();
}

static void
check_udp(const uint8_t *data, size_t size)
{
	struct socks5_udp_header h;
	const char *why = NULL;
	uint8_t out[SOCKS5_UDP_HEADER_MAX];
	size_t n;

	if (socks5_udp_parse(data, size, &h, &why) != PARSE_DONE) {
		if (!why)
			abort();
		return;
	}
	if (h.len > size || h.len > SOCKS5_UDP_HEADER_MAX)
		abort();
	n = socks5_udp_header_encode(&h.dst, out, sizeof(out));
	if (n != h.len || memcmp(out + 3, data + 3, n - 3) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union message a, b;
	struct outcome one, many;
	enum kind k;
	size_t step;

	if (size < 1)
		return 0;
	k = (enum kind)((data[0] & 7) % _KIND_MAX);
	step = (size_t)(data[0] >> 3) + 1;
	data++;
	size--;
	if (k == KIND_UDP) {
		check_udp(data, size);
		return 0;
	}
	one = parse(k, data, size, size ? size : 1, &a);
	many = parse(k, data, size, step, &b);
	if (one.r != many.r || one.used != many.used)
		abort();
	if (one.r == PARSE_DONE) {
		if (memcmp(&a, &b, sizeof(a)) != 0)
			abort();
		check_round_trip(k, data, one.used, &a);
	}
	return 0;
}
