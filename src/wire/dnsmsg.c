/* SPDX-License-Identifier: MIT */
/*
 * DNS query parsing and reply building; see dnsmsg.h. Every read is
 * checked against the datagram's length before it happens, and every
 * write against the reply's limit.
 */
#include "wire/dnsmsg.h"

#include <string.h>

#include "util/strutil.h"

/* Header flags (RFC 1035 §4.1.1). */
#define DNSMSG_QR 0x8000
#define DNSMSG_RD 0x0100
#define DNSMSG_RA 0x0080
#define DNSMSG_CD 0x0010

#define DNSMSG_OPT_LEN 11 /* root name, type, class, ttl, rdlength */

const char *
dnsmsg_rcode_name(unsigned rcode)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL",
		"NXDOMAIN", "NOTIMP", "REFUSED" };

	if (rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	if (rcode == DNSMSG_RCODE_BADVERS)
		return "BADVERS";
	return "RCODE?";
}

static uint16_t
dnsmsg_get16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static void
dnsmsg_put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
dnsmsg_put32(uint8_t *p, uint32_t v)
{
	dnsmsg_put16(p, v >> 16);
	dnsmsg_put16(p + 2, v & 0xffff);
}

static bool
dnsmsg_label_char_ok(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * Read the name at p[off]: its uncompressed wire form into q->qname and
 * its text into q->name. *ret_end is where the bytes after the name start
 * (after the first pointer, when there is one). A pointer must lead to a
 * byte before the label run it interrupts, so each jump goes strictly
 * backwards and the walk ends. Returns 0, or -1 with q->why and q->rcode.
 */
static int
dnsmsg_name(const uint8_t *p, size_t len, size_t off, struct dnsmsg_query *q,
    size_t *ret_end)
{
	size_t pos = off, run = off, wl = 0, tl = 0, end = 0;
	bool jumped = false;

	q->rcode = DNSMSG_RCODE_FORMERR;
	for (;;) {
		uint8_t c;

		if (pos >= len) {
			q->why = "the name runs past the end";
			return -1;
		}
		c = p[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t to;

			if (pos + 1 >= len) {
				q->why = "a truncated compression pointer";
				return -1;
			}
			to = (size_t)(c & 0x3f) << 8 | p[pos + 1];
			if (to >= run) {
				q->why = "a compression pointer that does not "
					 "point backwards";
				return -1;
			}
			if (!jumped)
				end = pos + 2;
			jumped = true;
			pos = run = to;
			continue;
		}
		if (c & 0xc0) {
			q->why = "an unknown label type";
			return -1;
		}
		if (wl + 1 + (size_t)c > DNSMSG_WIRE_NAME_MAX) {
			q->why = "the name is longer than 255 bytes";
			return -1;
		}
		if (c == 0) {
			q->qname[wl++] = 0;
			if (!jumped)
				end = pos + 1;
			break;
		}
		if (c > len - pos - 1) {
			q->why = "a label runs past the end";
			return -1;
		}
		memcpy(q->qname + wl, p + pos, 1 + (size_t)c);
		wl += 1 + (size_t)c;
		if (tl > 0)
			q->name[tl++] = '.';
		for (size_t i = 0; i < c; i++) {
			uint8_t b = p[pos + 1 + i];

			if (!dnsmsg_label_char_ok(b)) {
				/* Well-formed, but no host name: a '.' or a
				 * control byte would change what the text
				 * names. */
				q->rcode = DNSMSG_RCODE_REFUSED;
				q->why = "a label with bytes other than "
					 "letters, digits, '-' and '_'";
				return -1;
			}
			q->name[tl++] = ascii_tolower((char)b);
		}
		pos += 1 + (size_t)c;
	}
	q->name[tl] = '\0';
	q->qname_len = wl;
	*ret_end = end;
	return 0;
}

/* The OPT record (RFC 6891 §6.1.2) at p[off], the last thing there is.
 * Returns 0, or -1 with q->rcode and q->why. */
static int
dnsmsg_opt(const uint8_t *p, size_t len, size_t off, struct dnsmsg_query *q)
{
	size_t rdlen;

	q->rcode = DNSMSG_RCODE_FORMERR;
	if (len - off < DNSMSG_OPT_LEN) {
		q->why = "a truncated additional record";
		return -1;
	}
	if (p[off] != 0 || dnsmsg_get16(p + off + 1) != DNSMSG_TYPE_OPT) {
		q->why = "an additional record that is not EDNS OPT";
		return -1;
	}
	rdlen = dnsmsg_get16(p + off + 9);
	if (rdlen != len - off - DNSMSG_OPT_LEN) {
		q->why = "OPT data does not end with the message";
		return -1;
	}
	/* Options are TLVs; none is used, but they must be well-formed. */
	for (size_t o = off + DNSMSG_OPT_LEN; o < len;) {
		if (len - o < 4 || dnsmsg_get16(p + o + 2) > len - o - 4) {
			q->why = "a malformed EDNS option";
			return -1;
		}
		o += 4 + dnsmsg_get16(p + o + 2);
	}
	q->edns = true;
	q->edns_size = dnsmsg_get16(p + off + 3);
	if (p[off + 6] != 0) {
		/* RFC 6891 §6.1.3: only version 0 exists. */
		q->rcode = DNSMSG_RCODE_BADVERS;
		q->why = "an EDNS version other than 0";
		return -1;
	}
	return 0;
}

enum dnsmsg_result
dnsmsg_parse_query(const uint8_t *p, size_t len, struct dnsmsg_query *q)
{
	uint16_t flags, qd, an, ns, ar;
	size_t off;

	memset(q, 0, sizeof(*q));
	if (len < DNSMSG_HEADER_LEN)
		return DNSMSG_DROP;
	q->id = dnsmsg_get16(p);
	flags = dnsmsg_get16(p + 2);
	/* Never answer an answer: two servers would ping-pong. */
	if (flags & DNSMSG_QR)
		return DNSMSG_DROP;
	q->opcode = (uint8_t)((flags >> 11) & 0xf);
	q->rd = flags & DNSMSG_RD;
	q->cd = flags & DNSMSG_CD;
	qd = dnsmsg_get16(p + 4);
	an = dnsmsg_get16(p + 6);
	ns = dnsmsg_get16(p + 8);
	ar = dnsmsg_get16(p + 10);
	if (q->opcode != 0) {
		q->rcode = DNSMSG_RCODE_NOTIMP;
		q->why = "an opcode other than QUERY";
		return DNSMSG_REJECT;
	}
	q->rcode = DNSMSG_RCODE_FORMERR;
	if (qd != 1) {
		q->why = "a question count other than 1";
		return DNSMSG_REJECT;
	}
	if (an != 0 || ns != 0 || ar > 1) {
		q->why = "records in a query beyond one EDNS OPT";
		return DNSMSG_REJECT;
	}
	if (dnsmsg_name(p, len, DNSMSG_HEADER_LEN, q, &off) < 0)
		return DNSMSG_REJECT;
	if (len - off < 4) {
		q->rcode = DNSMSG_RCODE_FORMERR;
		q->why = "a truncated question";
		return DNSMSG_REJECT;
	}
	q->qtype = dnsmsg_get16(p + off);
	q->qclass = dnsmsg_get16(p + off + 2);
	q->has_question = true;
	off += 4;
	if (ar == 1 && dnsmsg_opt(p, len, off, q) < 0)
		return DNSMSG_REJECT;
	if (ar == 0 && off != len) {
		q->rcode = DNSMSG_RCODE_FORMERR;
		q->why = "bytes after the question";
		return DNSMSG_REJECT;
	}
	if (q->qtype == DNSMSG_TYPE_OPT) {
		q->rcode = DNSMSG_RCODE_FORMERR;
		q->why = "a question for OPT";
		return DNSMSG_REJECT;
	}
	if (q->qclass != DNSMSG_CLASS_IN ||
	    (q->qtype >= DNSMSG_TYPE_IXFR && q->qtype <= DNSMSG_TYPE_MAILA)) {
		q->rcode = DNSMSG_RCODE_NOTIMP;
		q->why = "a class other than IN, or a zone transfer";
		return DNSMSG_REJECT;
	}
	q->rcode = DNSMSG_RCODE_NOERROR;
	return DNSMSG_QUERY;
}

size_t
dnsmsg_reply(const struct dnsmsg_query *q, unsigned rcode,
    const struct dnsmsg_rr *an, size_t n_an, uint32_t ttl, uint8_t *out,
    size_t outsz)
{
	size_t limit = DNSMSG_UDP_MIN, len, opt = q->edns ? DNSMSG_OPT_LEN : 0;
	size_t n = 0;
	unsigned flags;

	if (q->edns && q->edns_size > limit)
		limit = q->edns_size > DNSMSG_EDNS_SIZE ? DNSMSG_EDNS_SIZE :
							  q->edns_size;
	if (limit > outsz)
		limit = outsz;
	len = DNSMSG_HEADER_LEN + (q->has_question ? q->qname_len + 4 : 0);
	if (len + opt > limit)
		return 0;
	flags =
	    DNSMSG_QR | (unsigned)q->opcode << 11 | DNSMSG_RA | (rcode & 0xf);
	if (q->rd)
		flags |= DNSMSG_RD;
	if (q->cd)
		flags |= DNSMSG_CD;
	dnsmsg_put16(out, q->id);
	dnsmsg_put16(out + 2, flags);
	dnsmsg_put16(out + 4, q->has_question ? 1 : 0);
	dnsmsg_put16(out + 8, 0);
	dnsmsg_put16(out + 10, q->edns ? 1 : 0);
	if (q->has_question) {
		memcpy(out + DNSMSG_HEADER_LEN, q->qname, q->qname_len);
		dnsmsg_put16(out + DNSMSG_HEADER_LEN + q->qname_len, q->qtype);
		dnsmsg_put16(out + DNSMSG_HEADER_LEN + q->qname_len + 2,
		    q->qclass);
		/* XXX: records that do not fit are left out rather than
		 * truncating (TC): there is no TCP listener to retry on,
		 * and a few addresses fewer still answer the question. */
		for (size_t i = 0; i < n_an; i++) {
			size_t rr = 12 + (size_t)an[i].len;

			if (an[i].len > sizeof(an[i].data) ||
			    len + rr + opt > limit)
				break;
			/* The name: a pointer to the question's. */
			dnsmsg_put16(out + len, 0xc000 | DNSMSG_HEADER_LEN);
			dnsmsg_put16(out + len + 2, an[i].type);
			dnsmsg_put16(out + len + 4, DNSMSG_CLASS_IN);
			dnsmsg_put32(out + len + 6, ttl);
			dnsmsg_put16(out + len + 10, an[i].len);
			memcpy(out + len + 12, an[i].data, an[i].len);
			len += rr;
			n++;
		}
	}
	dnsmsg_put16(out + 6, (unsigned)n);
	if (q->edns) {
		out[len] = 0;
		dnsmsg_put16(out + len + 1, DNSMSG_TYPE_OPT);
		dnsmsg_put16(out + len + 3, DNSMSG_EDNS_SIZE);
		/* Extended RCODE (upper 8 bits), version 0, no DO. */
		dnsmsg_put32(out + len + 5,
		    (uint32_t)((rcode >> 4) & 0xff) << 24);
		dnsmsg_put16(out + len + 9, 0);
		len += DNSMSG_OPT_LEN;
	}
	return len;
}
