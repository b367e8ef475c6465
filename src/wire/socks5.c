/* SPDX-License-Identifier: MIT */
/*
 * The SOCKS5 wire format. Every message is a short fixed head followed by
 * an address whose length its own first bytes tell. One generic feeder
 * copies bytes until a message-specific "measure" function knows the
 * total and the total is there; then the message is decoded in place.
 */
#include "wire/socks5.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "util/compiler.h"
#include "util/strutil.h"

/* The address in VER/RSV CMD/REP/RSV FRAG ATYP ... always starts here. */
#define SOCKS5_ADDR_OFF 3

const char *
socks5_reply_text(uint8_t rep)
{
	/* RFC 1928 §6. */
	static const char *const texts[] = {
		[SOCKS_REPLY_SUCCEEDED] = "succeeded",
		[SOCKS_REPLY_GENERAL_FAILURE] = "general SOCKS server failure",
		[SOCKS_REPLY_NOT_ALLOWED] = "connection not allowed by ruleset",
		[SOCKS_REPLY_NETWORK_UNREACHABLE] = "network unreachable",
		[SOCKS_REPLY_HOST_UNREACHABLE] = "host unreachable",
		[SOCKS_REPLY_CONNECTION_REFUSED] = "connection refused",
		[SOCKS_REPLY_TTL_EXPIRED] = "TTL expired",
		[SOCKS_REPLY_COMMAND_NOT_SUPPORTED] = "command not supported",
		[SOCKS_REPLY_ADDRESS_NOT_SUPPORTED] =
		    "address type not supported",
	};

	if (rep >= ELEMENTSOF(texts))
		return "unassigned reply code";
	return texts[rep];
}

/*
 * Addresses.
 */
const char *
socks5_addr_host(const struct socks5_addr *a, char *out, size_t outsz)
{
	switch (a->atyp) {
	case SOCKS5_ATYP_IPV4:
		if (!inet_ntop(AF_INET, a->ip, out, (socklen_t)outsz))
			out[0] = '\0';
		break;
	case SOCKS5_ATYP_IPV6:
		if (!inet_ntop(AF_INET6, a->ip, out, (socklen_t)outsz))
			out[0] = '\0';
		break;
	case SOCKS5_ATYP_DOMAIN:
	default:
		(void)strlcpy(out, a->domain, outsz);
		break;
	}
	return out;
}

int
socks5_addr_from_sockaddr(const struct sockaddr *sa, struct socks5_addr *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		ret->atyp = SOCKS5_ATYP_IPV4;
		memcpy(ret->ip, &in->sin_addr, 4);
		ret->port = ntohs(in->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		ret->port = ntohs(in6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			ret->atyp = SOCKS5_ATYP_IPV4;
			memcpy(ret->ip, in6->sin6_addr.s6_addr + 12, 4);
			return 0;
		}
		ret->atyp = SOCKS5_ATYP_IPV6;
		memcpy(ret->ip, &in6->sin6_addr, 16);
		return 0;
	}
	return -EAFNOSUPPORT;
}

bool
socks5_addr_is_unspecified(const struct socks5_addr *a)
{
	static const uint8_t zero[16];

	switch (a->atyp) {
	case SOCKS5_ATYP_IPV4:
		return memcmp(a->ip, zero, 4) == 0;
	case SOCKS5_ATYP_IPV6:
		return memcmp(a->ip, zero, 16) == 0;
	default:
		return false;
	}
}

/* How long the address at buf[0..len) is: 0 with *ret_need, or -1 with
 * *reterr and *ret_reply. Before its first bytes are in, *ret_need is
 * the count that tells. */
static int
socks5_addr_measure(const uint8_t *buf, size_t len, size_t *ret_need,
    enum socks_reply *ret_reply, const char **reterr)
{
	if (len < 1) {
		*ret_need = 1;
		return 0;
	}
	switch (buf[0]) {
	case SOCKS5_ATYP_IPV4:
		*ret_need = 1 + 4 + 2;
		return 0;
	case SOCKS5_ATYP_IPV6:
		*ret_need = 1 + 16 + 2;
		return 0;
	case SOCKS5_ATYP_DOMAIN:
		if (len < 2) {
			*ret_need = 2;
			return 0;
		}
		if (buf[1] == 0) {
			*ret_reply = SOCKS_REPLY_GENERAL_FAILURE;
			*reterr = "empty domain name";
			return -1;
		}
		*ret_need = 2 + (size_t)buf[1] + 2;
		return 0;
	default:
		*ret_reply = SOCKS_REPLY_ADDRESS_NOT_SUPPORTED;
		*reterr = "unknown address type";
		return -1;
	}
}

/* Decode a measured, complete address. Returns its wire length, or 0 for
 * a name with a NUL byte (it could never be judged as what it says). */
static size_t
socks5_addr_decode(const uint8_t *buf, struct socks5_addr *ret)
{
	size_t n;

	memset(ret, 0, sizeof(*ret));
	ret->atyp = buf[0];
	switch (buf[0]) {
	case SOCKS5_ATYP_IPV4:
		memcpy(ret->ip, buf + 1, 4);
		n = 1 + 4;
		break;
	case SOCKS5_ATYP_IPV6:
		memcpy(ret->ip, buf + 1, 16);
		n = 1 + 16;
		break;
	default:
		if (memchr(buf + 2, '\0', buf[1]))
			return 0;
		memcpy(ret->domain, buf + 2, buf[1]);
		ret->domain[buf[1]] = '\0';
		n = 2 + (size_t)buf[1];
		break;
	}
	ret->port = (uint16_t)(buf[n] << 8 | buf[n + 1]);
	return n + 2;
}

static size_t
socks5_addr_encode(const struct socks5_addr *a, uint8_t *out, size_t outsz)
{
	size_t n, dlen = 0;

	switch (a->atyp) {
	case SOCKS5_ATYP_IPV4:
		n = 1 + 4;
		break;
	case SOCKS5_ATYP_IPV6:
		n = 1 + 16;
		break;
	case SOCKS5_ATYP_DOMAIN:
		dlen = strnlen(a->domain, SOCKS5_DOMAIN_MAX);
		if (dlen == 0)
			return 0;
		n = 2 + dlen;
		break;
	default:
		return 0;
	}
	if (outsz < n + 2)
		return 0;
	out[0] = (uint8_t)a->atyp;
	if (a->atyp == SOCKS5_ATYP_DOMAIN) {
		out[1] = (uint8_t)dlen;
		memcpy(out + 2, a->domain, dlen);
	} else {
		memcpy(out + 1, a->ip, n - 1);
	}
	out[n] = (uint8_t)(a->port >> 8);
	out[n + 1] = (uint8_t)(a->port & 0xff);
	return n + 2;
}

/*
 * The incremental feeder.
 */

/* Set *ret_need to the message's total length, or to the bytes needed to
 * learn it. Returns -1 (p->error, p->reply set) for a malformed message. */
typedef int (*socks5_measure_fn)(struct socks5_parser *p, size_t *ret_need);

void
socks5_parser_init(struct socks5_parser *p)
{
	p->len = 0;
	p->reply = SOCKS_REPLY_GENERAL_FAILURE;
	p->error = NULL;
}

static enum parse_result
socks5_feed(struct socks5_parser *p, const uint8_t *data, size_t len,
    size_t *ret_used, socks5_measure_fn measure)
{
	size_t used = 0;

	for (;;) {
		size_t need, n;

		if (measure(p, &need) < 0) {
			*ret_used = used;
			return PARSE_ERROR;
		}
		/* Measures never ask for more than a buffer holds. */
		if (need > sizeof(p->buf)) {
			p->error = "message too long";
			*ret_used = used;
			return PARSE_ERROR;
		}
		if (p->len == need) {
			*ret_used = used;
			return PARSE_DONE;
		}
		if (used == len) {
			*ret_used = used;
			return PARSE_AGAIN;
		}
		n = need - p->len < len - used ? need - p->len : len - used;
		memcpy(p->buf + p->len, data + used, n);
		p->len += n;
		used += n;
	}
}

static int
socks5_fail(struct socks5_parser *p, enum socks_reply reply, const char *why)
{
	p->reply = reply;
	p->error = why;
	return -1;
}

static int
socks5_greeting_measure(struct socks5_parser *p, size_t *ret_need)
{
	if (p->len < 1) {
		*ret_need = 1;
		return 0;
	}
	if (p->buf[0] != SOCKS5_VERSION)
		return socks5_fail(p, SOCKS_REPLY_GENERAL_FAILURE,
		    "not SOCKS version 5");
	*ret_need = p->len < 2 ? 2 : 2 + (size_t)p->buf[1];
	return 0;
}

enum parse_result
socks5_greeting_feed(struct socks5_parser *p, const uint8_t *data, size_t len,
    size_t *ret_used, struct socks5_greeting *ret)
{
	enum parse_result r =
	    socks5_feed(p, data, len, ret_used, socks5_greeting_measure);

	if (r != PARSE_DONE)
		return r;
	ret->n_methods = p->buf[1];
	memcpy(ret->methods, p->buf + 2, ret->n_methods);
	return PARSE_DONE;
}

bool
socks5_greeting_offers(const struct socks5_greeting *g, uint8_t m)
{
	return memchr(g->methods, m, g->n_methods) != NULL;
}

/* VER CMD|REP RSV, then an address: requests and replies alike. */
static int
socks5_message_measure(struct socks5_parser *p, size_t *ret_need)
{
	const char *why = NULL;
	size_t addr;

	if (p->len < 1) {
		*ret_need = 1;
		return 0;
	}
	if (p->buf[0] != SOCKS5_VERSION)
		return socks5_fail(p, SOCKS_REPLY_GENERAL_FAILURE,
		    "not SOCKS version 5");
	if (p->len < SOCKS5_ADDR_OFF) {
		*ret_need = SOCKS5_ADDR_OFF;
		return 0;
	}
	if (socks5_addr_measure(p->buf + SOCKS5_ADDR_OFF,
		p->len - SOCKS5_ADDR_OFF, &addr, &p->reply, &why) < 0)
		return socks5_fail(p, p->reply, why);
	*ret_need = SOCKS5_ADDR_OFF + addr;
	return 0;
}

static enum parse_result
socks5_message_feed(struct socks5_parser *p, const uint8_t *data, size_t len,
    size_t *ret_used, uint8_t *ret_code, struct socks5_addr *ret_addr)
{
	enum parse_result r =
	    socks5_feed(p, data, len, ret_used, socks5_message_measure);

	if (r != PARSE_DONE)
		return r;
	if (socks5_addr_decode(p->buf + SOCKS5_ADDR_OFF, ret_addr) == 0) {
		socks5_fail(p, SOCKS_REPLY_GENERAL_FAILURE,
		    "NUL byte in the domain name");
		return PARSE_ERROR;
	}
	*ret_code = p->buf[1];
	return PARSE_DONE;
}

enum parse_result
socks5_request_feed(struct socks5_parser *p, const uint8_t *data, size_t len,
    size_t *ret_used, struct socks5_request *ret)
{
	return socks5_message_feed(p, data, len, ret_used, &ret->command,
	    &ret->dst);
}

enum parse_result
socks5_reply_feed(struct socks5_parser *p, const uint8_t *data, size_t len,
    size_t *ret_used, struct socks5_reply *ret)
{
	return socks5_message_feed(p, data, len, ret_used, &ret->rep,
	    &ret->bnd);
}

static int
socks5_reason_measure(struct socks5_parser *p, size_t *ret_need)
{
	size_t code;

	if (p->len < 1) {
		*ret_need = 1;
		return 0;
	}
	code = 1 + (size_t)p->buf[0];
	if (p->len < code + 1) {
		*ret_need = code + 1;
		return 0;
	}
	*ret_need = code + 1 + (size_t)p->buf[code];
	return 0;
}

enum parse_result
socks5_reason_feed(struct socks5_parser *p, const uint8_t *data, size_t len,
    size_t *ret_used, struct socks5_reason *ret)
{
	enum parse_result r =
	    socks5_feed(p, data, len, ret_used, socks5_reason_measure);
	size_t code;

	if (r != PARSE_DONE)
		return r;
	code = p->buf[0];
	memcpy(ret->code, p->buf + 1, code);
	ret->code[code] = '\0';
	memcpy(ret->message, p->buf + 2 + code, p->buf[1 + code]);
	ret->message[p->buf[1 + code]] = '\0';
	return PARSE_DONE;
}

/*
 * Encoders.
 */
size_t
socks5_method_encode(uint8_t method, uint8_t *out, size_t outsz)
{
	if (outsz < 2)
		return 0;
	out[0] = SOCKS5_VERSION;
	out[1] = method;
	return 2;
}

size_t
socks5_greeting_encode(const uint8_t *methods, size_t n, uint8_t *out,
    size_t outsz)
{
	if (n < 1 || n > 255 || outsz < 2 + n)
		return 0;
	out[0] = SOCKS5_VERSION;
	out[1] = (uint8_t)n;
	memcpy(out + 2, methods, n);
	return 2 + n;
}

static size_t
socks5_message_encode(uint8_t code, const struct socks5_addr *a, uint8_t *out,
    size_t outsz)
{
	size_t n;

	if (outsz < SOCKS5_ADDR_OFF)
		return 0;
	out[0] = SOCKS5_VERSION;
	out[1] = code;
	out[2] = 0x00;
	n = socks5_addr_encode(a, out + SOCKS5_ADDR_OFF,
	    outsz - SOCKS5_ADDR_OFF);
	return n ? SOCKS5_ADDR_OFF + n : 0;
}

size_t
socks5_request_encode(uint8_t cmd, const struct socks5_addr *dst, uint8_t *out,
    size_t outsz)
{
	return socks5_message_encode(cmd, dst, out, outsz);
}

size_t
socks5_reply_encode(uint8_t rep, const struct socks5_addr *bnd, uint8_t *out,
    size_t outsz)
{
	static const struct socks5_addr none = { .atyp = SOCKS5_ATYP_IPV4 };

	return socks5_message_encode(rep, bnd ? bnd : &none, out, outsz);
}

size_t
socks5_reason_encode(const char *code, const char *message, uint8_t *out,
    size_t outsz)
{
	size_t c = strnlen(code, 255), m = strnlen(message, 255);

	if (outsz < 2 + c + m)
		return 0;
	out[0] = (uint8_t)c;
	memcpy(out + 1, code, c);
	out[1 + c] = (uint8_t)m;
	memcpy(out + 2 + c, message, m);
	return 2 + c + m;
}

/*
 * UDP.
 */
enum parse_result
socks5_udp_parse(const uint8_t *dgram, size_t len,
    struct socks5_udp_header *ret, const char **reterr)
{
	enum socks_reply reply;
	size_t need;
	size_t n;

	if (len < SOCKS5_ADDR_OFF) {
		*reterr = "truncated header";
		return PARSE_ERROR;
	}
	if (socks5_addr_measure(dgram + SOCKS5_ADDR_OFF, len - SOCKS5_ADDR_OFF,
		&need, &reply, reterr) < 0)
		return PARSE_ERROR;
	/* A measure is final once it fits in what is there; one that asks
	 * for more means the datagram ended inside the header. */
	if (need > len - SOCKS5_ADDR_OFF) {
		*reterr = "truncated header";
		return PARSE_ERROR;
	}
	n = socks5_addr_decode(dgram + SOCKS5_ADDR_OFF, &ret->dst);
	if (n == 0) {
		*reterr = "NUL byte in the domain name";
		return PARSE_ERROR;
	}
	ret->frag = dgram[2];
	ret->len = SOCKS5_ADDR_OFF + n;
	return PARSE_DONE;
}

size_t
socks5_udp_header_encode(const struct socks5_addr *a, uint8_t *out,
    size_t outsz)
{
	size_t n;

	if (outsz < SOCKS5_ADDR_OFF)
		return 0;
	out[0] = 0x00;
	out[1] = 0x00;
	out[2] = 0x00; /* FRAG: we never fragment */
	n = socks5_addr_encode(a, out + SOCKS5_ADDR_OFF,
	    outsz - SOCKS5_ADDR_OFF);
	return n ? SOCKS5_ADDR_OFF + n : 0;
}
