/* SPDX-License-Identifier: MIT */
/* Unit tests for src/wire/dnsmsg: DNS query parsing and replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wire/dnsmsg.h"

/* A query header: id 0x1234, RD, the given counts. */
static size_t
header(uint8_t *p, unsigned flags, unsigned qd, unsigned an, unsigned ns,
    unsigned ar)
{
	const uint8_t h[12] = { 0x12, 0x34, (uint8_t)(flags >> 8),
		(uint8_t)flags, 0, (uint8_t)qd, 0, (uint8_t)an, 0, (uint8_t)ns,
		0, (uint8_t)ar };

	memcpy(p, h, sizeof(h));
	return sizeof(h);
}

static size_t
put(uint8_t *p, size_t off, const void *data, size_t n)
{
	memcpy(p + off, data, n);
	return off + n;
}

/* "\3Www\7Example\3org\0" type class. */
static size_t
question(uint8_t *p, size_t off, unsigned type)
{
	static const uint8_t name[] = "\3Www\7Example\3org";
	const uint8_t tc[4] = { 0, (uint8_t)type, 0, 1 };

	off = put(p, off, name, sizeof(name)); /* with the final 0 */
	return put(p, off, tc, 4);
}

static const uint8_t opt_rr[11] = { 0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0 };

static void
test_dnsmsg_parses_a_glibc_query_with_edns(void **state)
{
	uint8_t m[128];
	struct dnsmsg_query q;
	size_t n;

	(void)state;
	n = header(m, 0x0100, 1, 0, 0, 1);
	n = question(m, n, DNSMSG_TYPE_AAAA);
	n = put(m, n, opt_rr, sizeof(opt_rr));
	assert_int_equal(dnsmsg_parse_query(m, n, &q), DNSMSG_QUERY);
	assert_int_equal(q.id, 0x1234);
	assert_true(q.rd);
	assert_string_equal(q.name, "www.example.org");
	assert_int_equal(q.qtype, DNSMSG_TYPE_AAAA);
	assert_int_equal(q.qclass, DNSMSG_CLASS_IN);
	assert_true(q.edns);
	assert_int_equal(q.edns_size, 1232);
	assert_int_equal(q.qname_len, 17);
	assert_memory_equal(q.qname, "\3Www", 4); /* case kept on the wire */
}

static void
test_dnsmsg_reply_echoes_question_and_compresses_answers(void **state)
{
	uint8_t m[128], r[DNSMSG_REPLY_MAX];
	struct dnsmsg_query q;
	struct dnsmsg_rr rr[2] = {
		{ DNSMSG_TYPE_A, 4, { 127, 0, 0, 7 } },
		{ DNSMSG_TYPE_A, 4, { 127, 0, 0, 8 } },
	};
	size_t n, len;

	(void)state;
	n = header(m, 0x0100, 1, 0, 0, 0);
	n = question(m, n, DNSMSG_TYPE_A);
	assert_int_equal(dnsmsg_parse_query(m, n, &q), DNSMSG_QUERY);
	assert_false(q.edns);
	len = dnsmsg_reply(&q, DNSMSG_RCODE_NOERROR, rr, 2, 30, r, sizeof(r));
	assert_int_equal(len, n + 2 * 16);
	assert_int_equal(r[0], 0x12);
	assert_int_equal(r[2], 0x81); /* QR, RD */
	assert_int_equal(r[3], 0x80); /* RA, NOERROR */
	assert_int_equal(r[5], 1);
	assert_int_equal(r[7], 2);
	assert_int_equal(r[11], 0);
	assert_memory_equal(r + 12, m + 12, n - 12);
	assert_int_equal(r[n], 0xc0);
	assert_int_equal(r[n + 1], 12);
	assert_int_equal(r[n + 9], 30); /* ttl */
	assert_memory_equal(r + n + 12, rr[0].data, 4);
	assert_memory_equal(r + n + 16 + 12, rr[1].data, 4);
}

static void
test_dnsmsg_reply_fits_512_without_edns(void **state)
{
	uint8_t m[300], r[DNSMSG_REPLY_MAX];
	struct dnsmsg_query q;
	struct dnsmsg_rr rr[16];
	uint8_t label[64];
	size_t n, len;

	(void)state;
	n = header(m, 0, 1, 0, 0, 0);
	/* A 255-byte name: four labels of 63, 61, then the root. */
	memset(label, 'a', sizeof(label));
	for (int i = 0; i < 3; i++) {
		m[n++] = 63;
		n = put(m, n, label, 63);
	}
	m[n++] = 61;
	n = put(m, n, label, 61);
	m[n++] = 0;
	n = put(m, n, "\0\x1c\0\1", 4);
	assert_int_equal(dnsmsg_parse_query(m, n, &q), DNSMSG_QUERY);
	assert_int_equal(q.qname_len, 255);
	assert_int_equal(strlen(q.name), 253);
	for (size_t i = 0; i < 16; i++)
		rr[i] = (struct dnsmsg_rr){ DNSMSG_TYPE_AAAA, 16, { 0 } };
	len = dnsmsg_reply(&q, 0, rr, 16, 1, r, sizeof(r));
	assert_true(len <= DNSMSG_UDP_MIN);
	/* 12 + 259 + 8 * 28 = 495: eight whole records fit. */
	assert_int_equal(len, 495);
	assert_int_equal(r[7], 8);
	assert_int_equal(r[2] & 0x02, 0); /* no TC */
}

static void
test_dnsmsg_drops_answers_and_short_datagrams(void **state)
{
	uint8_t m[64];
	struct dnsmsg_query q;
	size_t n;

	(void)state;
	n = header(m, 0x8100, 1, 0, 0, 0);
	n = question(m, n, DNSMSG_TYPE_A);
	assert_int_equal(dnsmsg_parse_query(m, n, &q), DNSMSG_DROP);
	assert_int_equal(dnsmsg_parse_query(m, 11, &q), DNSMSG_DROP);
	assert_int_equal(dnsmsg_parse_query(m, 0, &q), DNSMSG_DROP);
}

static void
expect_reject(const uint8_t *m, size_t n, unsigned rcode, bool has_question)
{
	struct dnsmsg_query q;
	uint8_t r[DNSMSG_REPLY_MAX];
	size_t len;

	assert_int_equal(dnsmsg_parse_query(m, n, &q), DNSMSG_REJECT);
	assert_int_equal(q.rcode, rcode);
	assert_non_null(q.why);
	assert_int_equal(q.has_question, has_question);
	len = dnsmsg_reply(&q, q.rcode, NULL, 0, 0, r, sizeof(r));
	assert_true(len >= 12);
	assert_int_equal(r[3] & 0xf, rcode & 0xf);
	assert_int_equal(r[5], has_question ? 1 : 0);
	assert_int_equal(r[7], 0);
}

static void
test_dnsmsg_rejects_wrong_counts(void **state)
{
	uint8_t m[128];
	size_t n;

	(void)state;
	n = header(m, 0, 0, 0, 0, 0);
	expect_reject(m, n, DNSMSG_RCODE_FORMERR, false);
	n = header(m, 0, 2, 0, 0, 0);
	n = question(m, n, 1);
	n = question(m, n, 28);
	expect_reject(m, n, DNSMSG_RCODE_FORMERR, false);
	n = header(m, 0, 1, 1, 0, 0);
	n = question(m, n, 1);
	expect_reject(m, n, DNSMSG_RCODE_FORMERR, false);
	/* ARCOUNT 1 without the record. */
	n = header(m, 0, 1, 0, 0, 1);
	n = question(m, n, 1);
	expect_reject(m, n, DNSMSG_RCODE_FORMERR, true);
	/* QDCOUNT 1 with two questions: trailing bytes. */
	n = header(m, 0, 1, 0, 0, 0);
	n = question(m, n, 1);
	n = question(m, n, 28);
	expect_reject(m, n, DNSMSG_RCODE_FORMERR, true);
}

static void
test_dnsmsg_rejects_truncation_anywhere(void **state)
{
	uint8_t m[128];
	struct dnsmsg_query q;
	size_t n;

	(void)state;
	n = header(m, 0x0100, 1, 0, 0, 1);
	n = question(m, n, DNSMSG_TYPE_A);
	n = put(m, n, opt_rr, sizeof(opt_rr));
	assert_int_equal(dnsmsg_parse_query(m, n, &q), DNSMSG_QUERY);
	for (size_t cut = 12; cut < n; cut++) {
		enum dnsmsg_result r = dnsmsg_parse_query(m, cut, &q);

		assert_int_equal(r, DNSMSG_REJECT);
		assert_int_equal(q.rcode, DNSMSG_RCODE_FORMERR);
	}
}

static void
test_dnsmsg_rejects_compression_loops_and_forward_pointers(void **state)
{
	uint8_t m[64];
	size_t n;

	(void)state;
	/* A pointer to itself. */
	n = header(m, 0, 1, 0, 0, 0);
	n = put(m, n, "\xc0\x0c\0\1\0\1", 6);
	expect_reject(m, n, DNSMSG_RCODE_FORMERR, false);
	/* A pointer forwards, to a pointer back to the first. */
	n = header(m, 0, 1, 0, 0, 0);
	n = put(m, n, "\xc0\x0e\xc0\x0c\0\1\0\1", 8);
	expect_reject(m, n, DNSMSG_RCODE_FORMERR, false);
	/* A label, then a pointer back into that label. */
	n = header(m, 0, 1, 0, 0, 0);
	n = put(m, n, "\1a\xc0\x0c\0\1\0\1", 8);
	expect_reject(m, n, DNSMSG_RCODE_FORMERR, false);
	/* Reserved label types 0x40 and 0x80. */
	n = header(m, 0, 1, 0, 0, 0);
	n = put(m, n,
	    "\x41"
	    "a\0\0\1\0\1",
	    7);
	expect_reject(m, n, DNSMSG_RCODE_FORMERR, false);
	/* A truncated pointer. */
	n = header(m, 0, 1, 0, 0, 0);
	n = put(m, n, "\xc0", 1);
	expect_reject(m, n, DNSMSG_RCODE_FORMERR, false);
}

static void
test_dnsmsg_follows_a_backward_pointer(void **state)
{
	uint8_t m[64];
	struct dnsmsg_query q;
	size_t n;

	(void)state;
	/* Point back at a name planted in the header: "\1q" in the ID,
	 * ended by the flags' high byte, 0. */
	n = header(m, 0, 1, 0, 0, 0);
	m[0] = 1;
	m[1] = 'q';
	m[2] = 0;
	n = put(m, n, "\1x\xc0\x00\0\1\0\1", 8);
	assert_int_equal(dnsmsg_parse_query(m, n, &q), DNSMSG_QUERY);
	assert_string_equal(q.name, "x.q");
	assert_int_equal(q.qname_len, 5);
	assert_memory_equal(q.qname, "\1x\1q\0", 5);
}

static void
test_dnsmsg_refuses_names_that_are_not_host_names(void **state)
{
	uint8_t m[64];
	size_t n;

	(void)state;
	n = header(m, 0, 1, 0, 0, 0);
	n = put(m, n, "\3a.b\3com\0\0\1\0\1", 13);
	expect_reject(m, n, DNSMSG_RCODE_REFUSED, false);
	n = header(m, 0, 1, 0, 0, 0);
	n = put(m, n, "\3a\0b\0\0\1\0\1", 9);
	expect_reject(m, n, DNSMSG_RCODE_REFUSED, false);
}

static void
test_dnsmsg_notimp_for_opcodes_classes_and_transfers(void **state)
{
	uint8_t m[64];
	size_t n;

	(void)state;
	n = header(m, 0x2800, 1, 0, 0, 0); /* opcode 5, UPDATE */
	n = question(m, n, 1);
	expect_reject(m, n, DNSMSG_RCODE_NOTIMP, false);
	n = header(m, 0, 1, 0, 0, 0);
	n = put(m, n, "\7version\4bind\0\0\x10\0\3", 18); /* CH TXT */
	expect_reject(m, n, DNSMSG_RCODE_NOTIMP, true);
	n = header(m, 0, 1, 0, 0, 0);
	n = question(m, n, DNSMSG_TYPE_AXFR);
	expect_reject(m, n, DNSMSG_RCODE_NOTIMP, true);
}

static void
test_dnsmsg_edns_version_and_options(void **state)
{
	uint8_t m[128], r[DNSMSG_REPLY_MAX];
	uint8_t opt[11];
	struct dnsmsg_query q;
	size_t n, len;

	(void)state;
	memcpy(opt, opt_rr, sizeof(opt));
	opt[6] = 1; /* version 1 */
	n = header(m, 0, 1, 0, 0, 1);
	n = question(m, n, 1);
	n = put(m, n, opt, sizeof(opt));
	assert_int_equal(dnsmsg_parse_query(m, n, &q), DNSMSG_REJECT);
	assert_int_equal(q.rcode, DNSMSG_RCODE_BADVERS);
	len = dnsmsg_reply(&q, q.rcode, NULL, 0, 0, r, sizeof(r));
	/* BADVERS = 16: 0 in the header, 1 in the OPT's extended RCODE. */
	assert_int_equal(r[3] & 0xf, 0);
	assert_int_equal(r[11], 1);
	assert_int_equal(r[len - 11 + 5], 1);
	assert_int_equal(r[len - 11 + 2], 41);
	/* A well-formed option (cookie, 8 bytes) is fine. */
	memcpy(opt, opt_rr, sizeof(opt));
	opt[10] = 12;
	n = header(m, 0, 1, 0, 0, 1);
	n = question(m, n, 1);
	n = put(m, n, opt, sizeof(opt));
	n = put(m, n,
	    "\0\x0a\0\x08"
	    "abcdefgh",
	    12);
	assert_int_equal(dnsmsg_parse_query(m, n, &q), DNSMSG_QUERY);
	/* An option longer than the data is not. */
	m[n - 9] = 9;
	assert_int_equal(dnsmsg_parse_query(m, n, &q), DNSMSG_REJECT);
	/* Nor is an additional record other than OPT. */
	memcpy(opt, opt_rr, sizeof(opt));
	opt[2] = 250; /* TSIG */
	n = header(m, 0, 1, 0, 0, 1);
	n = question(m, n, 1);
	n = put(m, n, opt, sizeof(opt));
	expect_reject(m, n, DNSMSG_RCODE_FORMERR, true);
}

static void
test_dnsmsg_reply_too_small_buffer(void **state)
{
	uint8_t m[64], r[20];
	struct dnsmsg_query q;
	size_t n;

	(void)state;
	n = header(m, 0, 1, 0, 0, 0);
	n = question(m, n, 1);
	assert_int_equal(dnsmsg_parse_query(m, n, &q), DNSMSG_QUERY);
	assert_int_equal(dnsmsg_reply(&q, 0, NULL, 0, 0, r, sizeof(r)), 0);
	assert_string_equal(dnsmsg_rcode_name(5), "REFUSED");
	assert_string_equal(dnsmsg_rcode_name(16), "BADVERS");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dnsmsg_parses_a_glibc_query_with_edns),
		cmocka_unit_test(
		    test_dnsmsg_reply_echoes_question_and_compresses_answers),
		cmocka_unit_test(test_dnsmsg_reply_fits_512_without_edns),
		cmocka_unit_test(test_dnsmsg_drops_answers_and_short_datagrams),
		cmocka_unit_test(test_dnsmsg_rejects_wrong_counts),
		cmocka_unit_test(test_dnsmsg_rejects_truncation_anywhere),
		cmocka_unit_test(
		    test_dnsmsg_rejects_compression_loops_and_forward_pointers),
		cmocka_unit_test(test_dnsmsg_follows_a_backward_pointer),
		cmocka_unit_test(
		    test_dnsmsg_refuses_names_that_are_not_host_names),
		cmocka_unit_test(
		    test_dnsmsg_notimp_for_opcodes_classes_and_transfers),
		cmocka_unit_test(test_dnsmsg_edns_version_and_options),
		cmocka_unit_test(test_dnsmsg_reply_too_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
