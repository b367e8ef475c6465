/* SPDX-License-Identifier: MIT */
/*
 * The SOCKS5 wire format (RFC 1928): the method greeting, the request, the
 * reply and the UDP request header, plus paddock's private method that
 * carries the reason of a refusal. Pure: no I/O, no libevent.
 *
 * The stream parsers are incremental. socks5_*_feed() takes whatever bytes
 * arrived, consumes at most one message and says how much it used; bytes
 * after the message are never touched (a client may send its request, or
 * even tunnel bytes, right behind the greeting). A message split at any
 * point needs as many feeds as it takes. Every message is bounded by the
 * format itself (at most 512 bytes), so a parser holds it in place.
 *
 * A UDP datagram arrives whole: socks5_udp_parse() is a plain function.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "wire/parse.h"

#define SOCKS5_VERSION 0x05

/* Authentication methods (RFC 1928 §3). */
enum socks5_method {
	SOCKS5_METHOD_NO_AUTH = 0x00,
	SOCKS5_METHOD_USERPASS = 0x02,
	/*
	 * Private (X'80'-X'FE'): no authentication, and a refusal's reply
	 * is followed by its reason (socks5_reason_encode()). Only paddock
	 * connect offers it, so other clients never see the extra bytes.
	 */
	SOCKS5_METHOD_PADDOCK_REASON = 0xA7,
	SOCKS5_METHOD_NO_ACCEPTABLE = 0xFF,
};

enum socks5_command {
	SOCKS5_CMD_CONNECT = 0x01,
	SOCKS5_CMD_BIND = 0x02,
	SOCKS5_CMD_UDP_ASSOCIATE = 0x03,
};

enum socks5_atyp {
	SOCKS5_ATYP_IPV4 = 0x01,
	SOCKS5_ATYP_DOMAIN = 0x03,
	SOCKS5_ATYP_IPV6 = 0x04,
};

/* Reply codes (RFC 1928 §6). */
enum socks_reply {
	SOCKS_REPLY_SUCCEEDED = 0x00,
	SOCKS_REPLY_GENERAL_FAILURE = 0x01,
	SOCKS_REPLY_NOT_ALLOWED = 0x02,
	SOCKS_REPLY_NETWORK_UNREACHABLE = 0x03,
	SOCKS_REPLY_HOST_UNREACHABLE = 0x04,
	SOCKS_REPLY_CONNECTION_REFUSED = 0x05,
	SOCKS_REPLY_TTL_EXPIRED = 0x06,
	SOCKS_REPLY_COMMAND_NOT_SUPPORTED = 0x07,
	SOCKS_REPLY_ADDRESS_NOT_SUPPORTED = 0x08,
};

/* RFC 1928's wording of a reply code, e.g. "connection not allowed by
 * ruleset"; "unassigned reply code" for others. Static storage. */
const char *socks5_reply_text(uint8_t rep);

/* The longest messages the format allows. */
#define SOCKS5_GREETING_MAX   (2 + 255)
#define SOCKS5_DOMAIN_MAX     255
#define SOCKS5_ADDR_WIRE_MAX  (1 + 1 + SOCKS5_DOMAIN_MAX + 2)
#define SOCKS5_REQUEST_MAX    (3 + SOCKS5_ADDR_WIRE_MAX)
#define SOCKS5_REPLY_MAX      SOCKS5_REQUEST_MAX
#define SOCKS5_UDP_HEADER_MAX (3 + SOCKS5_ADDR_WIRE_MAX)
#define SOCKS5_REASON_MAX     (2 + 2 * 255)

/* An address as SOCKS5 carries it: ATYP, then 4 or 16 bytes, or a name of
 * 1-255 bytes (never containing NUL; NUL-terminated here), and a port. */
struct socks5_addr {
	enum socks5_atyp atyp;
	uint8_t ip[16];
	char domain[SOCKS5_DOMAIN_MAX + 1];
	uint16_t port;
};

/* The host as text: "1.2.3.4", "2001:db8::1" or the name. Returns out. */
const char *socks5_addr_host(const struct socks5_addr *a, char *out,
    size_t outsz);

/* From a socket address (AF_INET or AF_INET6; a v4-mapped IPv6 address
 * becomes IPv4). Returns 0 or -EAFNOSUPPORT. */
int socks5_addr_from_sockaddr(const struct sockaddr *sa,
    struct socks5_addr *ret);

/* True when a is the unspecified address ("0.0.0.0" or "::"). */
bool socks5_addr_is_unspecified(const struct socks5_addr *a);

/*
 * Incremental parsing. One struct socks5_parser reads one message; clear
 * it with socks5_parser_init() before the next. After PARSE_ERROR, reply
 * is the code to answer with (SOCKS_REPLY_GENERAL_FAILURE for a bad
 * version, SOCKS_REPLY_ADDRESS_NOT_SUPPORTED for an unknown ATYP, ...) and
 * error says why, in our words.
 */
struct socks5_parser {
	uint8_t buf[SOCKS5_REASON_MAX];
	size_t len; /* bytes held in buf */
	enum socks_reply reply;
	const char *error;
};

struct socks5_greeting {
	uint8_t n_methods;
	uint8_t methods[255];
};

struct socks5_request {
	uint8_t command; /* enum socks5_command, or any other value */
	struct socks5_addr dst;
};

void socks5_parser_init(struct socks5_parser *p);

/* Feed data[0..len) (len may be 0). *ret_used is set to the bytes taken.
 * PARSE_DONE fills *ret; PARSE_AGAIN means every byte was taken and more
 * are needed. */
enum parse_result socks5_greeting_feed(struct socks5_parser *p,
    const uint8_t *data, size_t len, size_t *ret_used,
    struct socks5_greeting *ret);

enum parse_result socks5_request_feed(struct socks5_parser *p,
    const uint8_t *data, size_t len, size_t *ret_used,
    struct socks5_request *ret);

/* The reply to a request, for clients (paddock connect, tests). */
struct socks5_reply {
	uint8_t rep;
	struct socks5_addr bnd;
};

enum parse_result socks5_reply_feed(struct socks5_parser *p,
    const uint8_t *data, size_t len, size_t *ret_used,
    struct socks5_reply *ret);

/* True when the greeting offers method m. */
bool socks5_greeting_offers(const struct socks5_greeting *g, uint8_t m);

/*
 * Encoding. Each returns the bytes written to out, or 0 when outsz is too
 * small (never for a buffer of the matching _MAX size).
 */

/* A method selection message: 05 method. */
size_t socks5_method_encode(uint8_t method, uint8_t *out, size_t outsz);

/* A greeting offering methods[0..n) (1 <= n <= 255). */
size_t socks5_greeting_encode(const uint8_t *methods, size_t n, uint8_t *out,
    size_t outsz);

/* A request for cmd to dst. */
size_t socks5_request_encode(uint8_t cmd, const struct socks5_addr *dst,
    uint8_t *out, size_t outsz);

/* A reply: rep and the bound address (NULL: 0.0.0.0:0). */
size_t socks5_reply_encode(uint8_t rep, const struct socks5_addr *bnd,
    uint8_t *out, size_t outsz);

/*
 * The reason behind a refusal, sent after the reply when the private
 * method was chosen: a length-prefixed code ("blocked-by-allowlist", or
 * empty for a network failure) and a length-prefixed message ("not in
 * allowlist"). Each is cut at 255 bytes. socks5_reason_feed() reads it back.
 */
size_t socks5_reason_encode(const char *code, const char *message, uint8_t *out,
    size_t outsz);

struct socks5_reason {
	char code[256];
	char message[256];
};

enum parse_result socks5_reason_feed(struct socks5_parser *p,
    const uint8_t *data, size_t len, size_t *ret_used,
    struct socks5_reason *ret);

/*
 * UDP (RFC 1928 §7): RSV RSV FRAG ATYP DST.ADDR DST.PORT DATA.
 */
struct socks5_udp_header {
	uint8_t frag;
	struct socks5_addr dst;
	size_t len; /* header bytes; the payload follows */
};

/* Parse the header of a datagram. Returns PARSE_DONE, or PARSE_ERROR for
 * a truncated header, a bad ATYP or malformed name (error says which). */
enum parse_result socks5_udp_parse(const uint8_t *dgram, size_t len,
    struct socks5_udp_header *ret, const char **reterr);

/* The header for a datagram from (or to) a. */
size_t socks5_udp_header_encode(const struct socks5_addr *a, uint8_t *out,
    size_t outsz);
