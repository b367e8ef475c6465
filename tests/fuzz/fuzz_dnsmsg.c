/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the DNS query parser and the reply builder. Checks, for any input:
 *  - a query or a rejection that parsed its question holds a name whose
 *    wire form is at most 255 bytes, ends with the root label and spells
 *    the text form; a rejection gives a code and a reason;
 *  - the reply to anything that is not dropped fits the client's limit,
 *    starts with the query's ID and echoes the question byte for byte.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "wire/dnsmsg.h"

/* The text form of a wire name, lower-cased, as the parser builds it. */
static void
check_name(const struct dnsmsg_query *q)
{
	char text[DNSMSG_NAME_MAX + 1];
	size_t tl = 0, i = 0;

	if (q->qname_len == 0 || q->qname_len > DNSMSG_WIRE_NAME_MAX ||
	    q->qname[q->qname_len - 1] != 0)
		abort();
	while (q->qname[i] != 0) {
		size_t n = q->qname[i];

		if (n > 63 || i + 1 + n >= q->qname_len)
			abort();
		if (tl > 0)
			text[tl++] = '.';
		for (size_t k = 0; k < n; k++) {
			char c = (char)q->qname[i + 1 + k];

			text[tl++] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
		}
		i += 1 + n;
	}
	text[tl] = '\0';
	if (i + 1 != q->qname_len || strcmp(text, q->name) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct dnsmsg_rr an[3] = {
		{ DNSMSG_TYPE_A, 4, { 127, 0, 0, 1 } },
		{ DNSMSG_TYPE_AAAA, 16, { [15] = 1 } },
		{ DNSMSG_TYPE_A, 4, { 10, 0, 0, 1 } },
	};
	uint8_t out[DNSMSG_REPLY_MAX];
	struct dnsmsg_query q;
	enum dnsmsg_result r = dnsmsg_parse_query(data, size, &q);
	size_t limit, len;

	if (r == DNSMSG_DROP)
		return 0;
	if (r == DNSMSG_REJECT && (!q.why || q.rcode == 0))
		abort();
	if (q.has_question)
		check_name(&q);
	limit = DNSMSG_UDP_MIN;
	if (q.edns && q.edns_size > limit)
		limit = q.edns_size < DNSMSG_EDNS_SIZE ? q.edns_size :
							 DNSMSG_EDNS_SIZE;
	len = dnsmsg_reply(&q, r == DNSMSG_QUERY ? 0 : q.rcode, an, 3, 60, out,
	    sizeof(out));
	if (len == 0 || len > limit || out[0] != data[0] || out[1] != data[1] ||
	    !(out[2] & 0x80))
		abort();
	if (q.has_question &&
	    memcmp(out + DNSMSG_HEADER_LEN, q.qname, q.qname_len) != 0)
		abort();
	return 0;
}
