/* SPDX-License-Identifier: MIT */
/*
 * DNS messages (RFC 1035 §4), the little a stub resolver's server needs:
 * parse one query, build its reply. Pure: no I/O, no libevent.
 *
 * The parser is strict and bounded. A query has exactly one question, no
 * answer or authority records and at most one additional record, which
 * must be an EDNS OPT pseudo-record (RFC 6891) on the root name. Names
 * may use compression pointers (RFC 1035 §4.1.4), but only pointers to
 * strictly earlier bytes, so a pointer loop cannot exist; a name is at
 * most 255 bytes on the wire and its labels may hold only letters,
 * digits, '-' and '_' (so that the dotted text is the name, nothing
 * less). Trailing bytes are an error.
 *
 * What stub resolvers send is covered: glibc and musl ask A and AAAA in
 * parallel (two queries, the same name), glibc with "options edns0" adds
 * an OPT record, and some set the 0x20 case bits, which the reply echoes
 * as sent (RFC 4343: names compare case-insensitively; the text form is
 * lower-cased).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNSMSG_HEADER_LEN    12
#define DNSMSG_WIRE_NAME_MAX 255  /* RFC 1035 §2.3.4 */
#define DNSMSG_NAME_MAX      253  /* the text form, without a final dot */
#define DNSMSG_UDP_MIN       512  /* RFC 1035 §4.2.1: without EDNS */
#define DNSMSG_EDNS_SIZE     1232 /* what we advertise and answer up to */
#define DNSMSG_REPLY_MAX     DNSMSG_EDNS_SIZE

enum dnsmsg_type {
	DNSMSG_TYPE_A = 1,
	DNSMSG_TYPE_AAAA = 28,
	DNSMSG_TYPE_OPT = 41,
	DNSMSG_TYPE_IXFR = 251,
	DNSMSG_TYPE_AXFR = 252,
	DNSMSG_TYPE_MAILB = 253,
	DNSMSG_TYPE_MAILA = 254,
	DNSMSG_TYPE_ANY = 255,
};

#define DNSMSG_CLASS_IN 1

enum dnsmsg_rcode {
	DNSMSG_RCODE_NOERROR = 0,
	DNSMSG_RCODE_FORMERR = 1,
	DNSMSG_RCODE_SERVFAIL = 2,
	DNSMSG_RCODE_NXDOMAIN = 3,
	DNSMSG_RCODE_NOTIMP = 4,
	DNSMSG_RCODE_REFUSED = 5,
	DNSMSG_RCODE_BADVERS = 16, /* extended (RFC 6891 §9): needs OPT */
};

/* "NOERROR", "FORMERR", ...; "RCODE?" for others. */
const char *dnsmsg_rcode_name(unsigned rcode);

enum dnsmsg_result {
	DNSMSG_QUERY,  /* a query to answer: the question is complete */
	DNSMSG_REJECT, /* answer q->rcode with what parsed (q->why says why) */
	DNSMSG_DROP,   /* no reply at all: not a query, or no header */
};

struct dnsmsg_query {
	uint16_t id;
	uint8_t opcode;
	bool rd; /* recursion desired: echoed */
	bool cd; /* checking disabled: echoed */
	/* The question parsed: the reply echoes it. */
	bool has_question;
	uint8_t qname[DNSMSG_WIRE_NAME_MAX]; /* as sent, uncompressed */
	size_t qname_len;
	char name[DNSMSG_NAME_MAX + 1]; /* lower-case text, "" = the root */
	uint16_t qtype, qclass;
	/* An OPT record came (the reply carries one too). */
	bool edns;
	uint16_t edns_size; /* the client's UDP payload size */
	/* DNSMSG_REJECT: the reply's code, and a reason for the log. */
	unsigned rcode;
	const char *why;
};

/* Parse the datagram p[0..len). Never reads past len. */
enum dnsmsg_result dnsmsg_parse_query(const uint8_t *p, size_t len,
    struct dnsmsg_query *ret);

/* One answer record for q's name: A (4 bytes) or AAAA (16 bytes). */
struct dnsmsg_rr {
	uint16_t type;
	uint8_t len;
	uint8_t data[16];
};

/*
 * Build the reply to q (parsed, or rejected: the question is echoed when
 * q->has_question) with rcode (0..4095; above 15 only with EDNS) and the
 * answer records an[0..n_an) with ttl. The reply fits the client's limit
 * (512 bytes, or its EDNS size, at most DNSMSG_EDNS_SIZE) and outsz:
 * records that do not fit are left out (whole ones), never cut. Answer
 * names point at the question (compression). Returns the length, or 0
 * when not even the header and question fit.
 */
size_t dnsmsg_reply(const struct dnsmsg_query *q, unsigned rcode,
    const struct dnsmsg_rr *an, size_t n_an, uint32_t ttl, uint8_t *out,
    size_t outsz);
