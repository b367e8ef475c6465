/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the pure HTTP parts of src/proxy: head parsing and
 * framing, smuggling refusals, targets and Host, hop-by-hop filtering and
 * the proxy's own replies.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"
#include "util/limits.h"
#include "wire/http_head.h"
#include "wire/http_reply.h"
#include "wire/http_target.h"
#include "wire/http_write.h"

struct parsed {
	struct http_head head;
	struct http_parser parser;
	enum parse_result result;
	size_t consumed;
};

static void
parse_with(struct parsed *p, enum http_kind kind, const char *text, size_t len,
    size_t step)
{
	http_head_init(&p->head, kind);
	http_parser_init(&p->parser, kind, &p->head);
	p->consumed = 0;
	p->result = PARSE_AGAIN;
	while (p->result == PARSE_AGAIN && p->consumed < len) {
		size_t n = len - p->consumed < step ? len - p->consumed : step,
		       used;

		p->result = http_parser_feed_head(&p->parser,
		    text + p->consumed, n, &used);
		p->consumed += used;
	}
}

static void
parse_request(struct parsed *p, const char *text)
{
	parse_with(p, HTTP_KIND_REQUEST, text, strlen(text), SIZE_MAX);
}

static void
parsed_done(struct parsed *p)
{
	http_head_done(&p->head);
}

static const char *
field(const struct parsed *p, const char *name)
{
	ssize_t i = http_head_find(&p->head, name, 0);

	return i < 0 ? NULL : http_head_str(&p->head, p->head.fields[i].value);
}

static void
test_proxy_http_parses_absolute_get(void **state)
{
	static const char req[] = "GET http://example.com/a?b HTTP/1.1\r\n"
				  "Host: example.com\r\n"
				  "X-Trail:  padded  \r\n\r\n"
				  "NEXT";
	struct parsed p;

	(void)state;
	parse_request(&p, req);
	assert_int_equal(p.result, PARSE_DONE);
	assert_int_equal(p.consumed, strlen(req) - 4);
	assert_string_equal(http_head_method(&p.head), "GET");
	assert_string_equal(http_head_str(&p.head, p.head.target),
	    "http://example.com/a?b");
	assert_string_equal(field(&p, "HOST"), "example.com");
	assert_string_equal(field(&p, "x-trail"), "padded");
	assert_int_equal(p.head.body, HTTP_BODY_NONE);
	assert_true(p.head.keep_alive);
	parsed_done(&p);
}

static void
test_proxy_http_parses_byte_by_byte(void **state)
{
	static const char req[] = "POST http://h:8080/p HTTP/1.1\r\n"
				  "Host: h:8080\r\nContent-Length: 5\r\n"
				  "Connection: close\r\n\r\nhello";
	struct parsed p;

	(void)state;
	parse_with(&p, HTTP_KIND_REQUEST, req, strlen(req), 1);
	assert_int_equal(p.result, PARSE_DONE);
	assert_int_equal(p.consumed, strlen(req) - 5);
	assert_int_equal(p.head.body, HTTP_BODY_LENGTH);
	assert_int_equal(p.head.content_length, 5);
	assert_false(p.head.keep_alive);
	assert_string_equal(field(&p, "content-length"), "5");
	parsed_done(&p);
}

static void
test_proxy_http_connect_leaves_client_hello_buffered(void **state)
{
	static const char req[] = "CONNECT example.com:443 HTTP/1.1\r\n"
				  "Host: example.com:443\r\n\r\n\x16\x03\x01";
	struct parsed p;

	(void)state;
	parse_with(&p, HTTP_KIND_REQUEST, req, sizeof(req) - 1, SIZE_MAX);
	assert_int_equal(p.result, PARSE_DONE);
	assert_int_equal(p.consumed, sizeof(req) - 1 - 3);
	assert_int_equal(p.head.body, HTTP_BODY_TUNNEL);
	parsed_done(&p);
}

static void
test_proxy_http_http10_is_not_keep_alive_by_default(void **state)
{
	struct parsed p;

	(void)state;
	parse_request(&p, "GET http://a/ HTTP/1.0\r\n\r\n");
	assert_int_equal(p.result, PARSE_DONE);
	assert_false(p.head.keep_alive);
	assert_int_equal(p.head.minor, 0);
	parsed_done(&p);
	parse_request(&p,
	    "GET http://a/ HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	assert_true(p.head.keep_alive);
	parsed_done(&p);
}

static void
expect_request_error(const char *req, size_t len, unsigned status)
{
	struct parsed p;

	parse_with(&p, HTTP_KIND_REQUEST, req, len, SIZE_MAX);
	if (p.result != PARSE_ERROR || p.parser.error_status != status)
		fail_msg("'%s': result %d status %u (%s), want %u", req,
		    p.result, p.parser.error_status,
		    p.parser.error ? p.parser.error : "-", status);
	assert_non_null(p.parser.error);
	parsed_done(&p);
}

#define REFUSE(text, status) \
	expect_request_error(text, sizeof(text) - 1, status)

static void
test_proxy_http_refuses_smuggling(void **state)
{
	(void)state;
	REFUSE("POST http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
	       "Transfer-Encoding: chunked\r\n\r\n",
	    400);
	REFUSE("POST http://a/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
	       "chunked\r\nContent-Length: 3\r\n\r\n",
	    400);
	REFUSE("POST http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
	       "Content-Length: 4\r\n\r\n",
	    400);
	REFUSE("POST http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4"
	       "\r\n\r\n",
	    400);
	REFUSE("POST http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length: -1"
	       "\r\n\r\n",
	    400);
	REFUSE("GET http://a/ HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\n\r\n",
	    400);
	REFUSE("GET http://a/ HTTP/1.1\r\nHost: a\r\nX-A: one\r\n\ttwo\r\n\r\n",
	    400);
	REFUSE("GET http://a/ HTTP/1.1\r\nHost: a\r\nX-A: o\0ne\r\n\r\n", 400);
	REFUSE("GET http://a/ HTTP/1.1\r\nHost: a\r\nX-A: o\rne\r\n\r\n", 400);
	REFUSE("GET http://a/ HTTP/1.1\r\nHost: a\r\nX-A: o\nne\r\n\r\n", 400);
	REFUSE("GET http://a/ HTTP/1.1\r\nHost : a\r\n\r\n", 400);
	REFUSE("GET http://a/ HTTP/1.1\nHost: a\n\n", 400);
	REFUSE("POST http://a/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
	       "chunked, gzip\r\n\r\n",
	    400);
	REFUSE("POST http://a/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip"
	       "\r\n\r\n",
	    400);
	REFUSE("POST http://a/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
	       "gzip, chunked\r\n\r\n",
	    501);
	REFUSE("POST http://a/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
	       "chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	    400);
	REFUSE("GET http://a/ HTTP/2.0\r\nHost: a\r\n\r\n", 505);
	REFUSE("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505);
	REFUSE("get http://a/ HTTP/1.1\r\n\r\n", 400);
	REFUSE("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400);
}

static void
test_proxy_http_refuses_malformed_chunks(void **state)
{
	static const char *const bodies[] = {
		"3x\r\nabc\r\n0\r\n\r\n",
		"3 \r\nabc\r\n0\r\n\r\n",
		"-3\r\nabc\r\n0\r\n\r\n",
		"3\nabc\n0\r\n\r\n",
		"ffffffffffffffffff\r\n",
		"3\r\nabcX\r\n0\r\n\r\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct parsed p;
		size_t used;

		parse_request(&p,
		    "POST http://a/ HTTP/1.1\r\nHost: a\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n");
		assert_int_equal(p.result, PARSE_DONE);
		assert_int_equal(p.head.body, HTTP_BODY_CHUNKED);
		assert_int_equal(http_parser_feed_body(&p.parser, bodies[i],
				     strlen(bodies[i]), &used, NULL, NULL),
		    PARSE_ERROR);
		assert_int_equal(p.parser.error_status, 400);
		parsed_done(&p);
	}
}

static void
collect(void *userdata, const char *data, size_t n)
{
	assert_int_equal(buf_append(userdata, data, n), 0);
}

static void
test_proxy_http_decodes_chunked_and_drops_trailers(void **state)
{
	static const char body[] = "3;ext=1\r\nabc\r\n10\r\n0123456789abcdef"
				   "\r\n0\r\nX-T: 1\r\n\r\nGET /next";
	struct parsed p;
	struct buf out;
	size_t used, total = 0;
	enum parse_result r = PARSE_AGAIN;

	(void)state;
	buf_init(&out, 0);
	parse_request(&p,
	    "POST http://a/ HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n");
	/* Fed in awkward pieces, the decoded body is the same. */
	while (r == PARSE_AGAIN) {
		size_t n =
		    sizeof(body) - 1 - total < 3 ? sizeof(body) - 1 - total : 3;

		r = http_parser_feed_body(&p.parser, body + total, n, &used,
		    collect, &out);
		total += used;
	}
	assert_int_equal(r, PARSE_DONE);
	assert_string_equal(body + total, "GET /next");
	assert_string_equal(buf_str(&out), "abc0123456789abcdef");
	assert_int_equal(p.head.n_fields, 2);
	buf_done(&out);
	parsed_done(&p);
}

static void
test_proxy_http_limits_head_fields_and_target(void **state)
{
	struct buf req;

	(void)state;
	buf_init(&req, 0);
	assert_int_equal(buf_append_str(&req, "GET http://a/ HTTP/1.1\r\n"), 0);
	for (int i = 0; i <= LIMIT_HTTP_HEADERS; i++)
		assert_int_equal(buf_printf(&req, "X-%d: v\r\n", i), 0);
	assert_int_equal(buf_append_str(&req, "\r\n"), 0);
	expect_request_error(buf_str(&req), req.len, 431);

	buf_clear(&req);
	assert_int_equal(buf_append_str(&req, "GET http://a/ HTTP/1.1\r\n"), 0);
	while (req.len < LIMIT_HTTP_HEAD_BYTES)
		assert_int_equal(buf_append_str(&req,
				     "X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"),
		    0);
	expect_request_error(buf_str(&req), req.len, 431);

	buf_clear(&req);
	assert_int_equal(buf_append_str(&req, "GET http://a/"), 0);
	for (size_t i = 0; i < LIMIT_HTTP_URL_BYTES; i++)
		assert_int_equal(buf_append_char(&req, 'x'), 0);
	assert_int_equal(buf_append_str(&req, " HTTP/1.1\r\n\r\n"), 0);
	expect_request_error(buf_str(&req), req.len, 414);
	buf_done(&req);
}

static void
test_proxy_http_too_large_head_fails_fed_in_pieces(void **state)
{
	struct parsed p;
	struct buf req;

	(void)state;
	buf_init(&req, 0);
	assert_int_equal(buf_append_str(&req, "GET http://a/ HTTP/1.1\r\n"), 0);
	while (req.len < 2 * LIMIT_HTTP_HEAD_BYTES)
		assert_int_equal(buf_append_str(&req, "X-Y: zzzzzzzz\r\n"), 0);
	parse_with(&p, HTTP_KIND_REQUEST, buf_str(&req), req.len, 1000);
	assert_int_equal(p.result, PARSE_ERROR);
	assert_int_equal(p.parser.error_status, 431);
	assert_true(p.consumed <= LIMIT_HTTP_HEAD_BYTES);
	parsed_done(&p);
	buf_done(&req);
}

static void
parse_response(struct parsed *p, const char *text, bool head, bool connect)
{
	http_head_init(&p->head, HTTP_KIND_RESPONSE);
	http_parser_init(&p->parser, HTTP_KIND_RESPONSE, &p->head);
	http_parser_set_request(&p->parser, head, connect);
	p->result =
	    http_parser_feed_head(&p->parser, text, strlen(text), &p->consumed);
}

static void
test_proxy_http_response_framing(void **state)
{
	struct parsed p;

	(void)state;
	parse_response(&p, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
	    false, false);
	assert_int_equal(p.result, PARSE_DONE);
	assert_int_equal(p.head.status, 200);
	assert_string_equal(http_head_str(&p.head, p.head.reason), "OK");
	assert_int_equal(p.head.body, HTTP_BODY_LENGTH);
	assert_int_equal(p.head.content_length, 3);
	assert_true(p.head.keep_alive);
	parsed_done(&p);

	parse_response(&p, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", true,
	    false);
	assert_int_equal(p.head.body, HTTP_BODY_NONE);
	parsed_done(&p);

	parse_response(&p,
	    "HTTP/1.1 304 Not Modified\r\nContent-Length: 9"
	    "\r\n\r\n",
	    false, false);
	assert_int_equal(p.head.body, HTTP_BODY_NONE);
	parsed_done(&p);

	parse_response(&p, "HTTP/1.1 100 Continue\r\n\r\n", false, false);
	assert_int_equal(p.head.status, 100);
	assert_int_equal(p.head.body, HTTP_BODY_NONE);
	parsed_done(&p);

	parse_response(&p, "HTTP/1.0 200 OK\r\n\r\nabc", false, false);
	assert_int_equal(p.head.body, HTTP_BODY_UNTIL_EOF);
	assert_false(p.head.keep_alive);
	parsed_done(&p);

	parse_response(&p, "HTTP/1.1 200\r\nTransfer-Encoding: chunked\r\n\r\n",
	    false, false);
	assert_int_equal(p.head.body, HTTP_BODY_CHUNKED);
	assert_string_equal(http_head_str(&p.head, p.head.reason), "");
	parsed_done(&p);

	parse_response(&p, "HTTP/1.1 200 Connection established\r\n\r\n", false,
	    true);
	assert_int_equal(p.head.body, HTTP_BODY_TUNNEL);
	parsed_done(&p);

	parse_response(&p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
	    false, false);
	assert_int_equal(p.result, PARSE_ERROR);
	assert_int_equal(p.parser.error_status, 502);
	parsed_done(&p);

	parse_response(&p,
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
	    "Content-Length: 2\r\n\r\n",
	    false, false);
	assert_int_equal(p.result, PARSE_ERROR);
	assert_int_equal(p.parser.error_status, 502);
	parsed_done(&p);
}

static void
test_proxy_http_parser_next_handles_pipelining(void **state)
{
	static const char two[] = "GET http://a/1 HTTP/1.1\r\nHost: a\r\n\r\n"
				  "GET http://a/2 HTTP/1.1\r\nHost: a\r\n\r\n";
	struct parsed p;
	size_t used;

	(void)state;
	parse_request(&p, two);
	assert_int_equal(p.result, PARSE_DONE);
	assert_string_equal(http_head_str(&p.head, p.head.target),
	    "http://a/1");
	http_parser_next(&p.parser);
	assert_int_equal(http_parser_feed_head(&p.parser, two + p.consumed,
			     strlen(two) - p.consumed, &used),
	    PARSE_DONE);
	assert_int_equal(p.consumed + used, strlen(two));
	assert_string_equal(http_head_str(&p.head, p.head.target),
	    "http://a/2");
	assert_int_equal(p.head.n_fields, 1);
	parsed_done(&p);
}

static void
test_proxy_http_target_forms(void **state)
{
	static const char abs[] = "http://Example.COM:8080/p/q?x=1#frag";
	struct http_target t;

	(void)state;
	assert_int_equal(http_target_parse(abs, strlen(abs), false, &t),
	    HTTP_TARGET_OK);
	assert_int_equal(t.form, HTTP_TARGET_ABSOLUTE);
	assert_string_equal(t.authority.host, "Example.COM");
	assert_int_equal(t.authority.port, 8080);
	assert_true(t.authority.has_port);
	assert_int_equal(t.path_len, strlen("/p/q?x=1"));
	assert_memory_equal(t.path, "/p/q?x=1", t.path_len);

	assert_int_equal(http_target_parse("http://a", 8, false, &t),
	    HTTP_TARGET_OK);
	assert_int_equal(t.authority.port, 80);
	assert_int_equal(t.path_len, 0);

	assert_int_equal(http_target_parse("/x?y", 4, false, &t),
	    HTTP_TARGET_OK);
	assert_int_equal(t.form, HTTP_TARGET_ORIGIN);

	assert_int_equal(http_target_parse("[2001:db8::1]:443", 17, true, &t),
	    HTTP_TARGET_OK);
	assert_int_equal(t.form, HTTP_TARGET_AUTHORITY);
	assert_string_equal(t.authority.host, "2001:db8::1");
	assert_true(t.authority.ipv6);
	assert_int_equal(t.authority.port, 443);

	assert_int_equal(http_target_parse("a.example", 9, true, &t),
	    HTTP_TARGET_BAD_PORT);
	assert_int_equal(http_target_parse("a.example:0", 11, true, &t),
	    HTTP_TARGET_BAD_PORT);
	assert_int_equal(http_target_parse("a.example:65536", 15, true, &t),
	    HTTP_TARGET_BAD_PORT);
	assert_int_equal(http_target_parse("http://u:p@a/", 13, false, &t),
	    HTTP_TARGET_USERINFO);
	assert_int_equal(http_target_parse("https://a/", 10, false, &t),
	    HTTP_TARGET_HTTPS);
	assert_int_equal(http_target_parse("ftp://a/", 8, false, &t),
	    HTTP_TARGET_SCHEME);
	assert_int_equal(http_target_parse("http:///x", 9, false, &t),
	    HTTP_TARGET_INVALID);
	assert_int_equal(http_target_parse("http://a%2eb/", 13, false, &t),
	    HTTP_TARGET_INVALID);
	assert_int_equal(http_target_parse("http://[::1/", 12, false, &t),
	    HTTP_TARGET_INVALID);
}

static void
test_proxy_http_host_must_match_absolute_target(void **state)
{
	struct http_target t;
	struct http_authority h;

	(void)state;
	assert_int_equal(http_target_parse("http://a.example/", 17, false, &t),
	    HTTP_TARGET_OK);
	assert_int_equal(http_authority_parse("A.Example.", 10, 80, false, &h),
	    HTTP_TARGET_OK);
	assert_true(http_authority_matches(&t.authority, &h));
	assert_int_equal(http_authority_parse("a.example:80", 12, 80, false,
			     &h),
	    HTTP_TARGET_OK);
	assert_true(http_authority_matches(&t.authority, &h));
	assert_int_equal(http_authority_parse("a.example:81", 12, 80, false,
			     &h),
	    HTTP_TARGET_OK);
	assert_false(http_authority_matches(&t.authority, &h));
	assert_int_equal(http_authority_parse("b.example", 9, 80, false, &h),
	    HTTP_TARGET_OK);
	assert_false(http_authority_matches(&t.authority, &h));

	assert_int_equal(http_target_parse("http://a.example:8080/", 22, false,
			     &t),
	    HTTP_TARGET_OK);
	assert_int_equal(http_authority_parse("a.example", 9, 80, false, &h),
	    HTTP_TARGET_OK);
	assert_false(http_authority_matches(&t.authority, &h));
}

static void
test_proxy_http_hop_by_hop_is_stripped(void **state)
{
	struct parsed p;
	struct http_target t;
	struct buf out;
	const char *s;

	(void)state;
	parse_request(&p,
	    "POST http://a.example/x HTTP/1.1\r\n"
	    "Host: a.example\r\n"
	    "Connection: keep-alive, X-Secret, Content-Length, "
	    "host\r\n"
	    "X-Secret: s\r\nKeep-Alive: 5\r\nTE: trailers\r\n"
	    "Proxy-Connection: keep-alive\r\n"
	    "Proxy-Authorization: Basic Zm9vOmJhcg==\r\n"
	    "Upgrade: websocket\r\nTrailer: X-T\r\n"
	    "X-Forwarded-For: 1.2.3.4\r\n"
	    "Content-Length: 2\r\n\r\nok");
	assert_int_equal(p.result, PARSE_DONE);
	assert_int_equal(http_target_parse(http_head_str(&p.head,
					       p.head.target),
			     p.head.target.len, false, &t),
	    HTTP_TARGET_OK);
	buf_init(&out, 0);
	assert_int_equal(http_write_request(&p.head, &t, &t.authority, false,
			     NULL, &out),
	    0);
	s = buf_str(&out);
	assert_string_equal(s,
	    "POST /x HTTP/1.1\r\n"
	    "Host: a.example\r\n"
	    "X-Forwarded-For: 1.2.3.4\r\n"
	    "Content-Length: 2\r\n\r\n");
	buf_clear(&out);
	assert_int_equal(http_write_request(&p.head, &t, &t.authority, true,
			     "Basic dTpw", &out),
	    0);
	assert_true(strncmp(buf_str(&out),
			"POST http://a.example/x HTTP/1.1\r\n", 34) == 0);
	assert_non_null(
	    strstr(buf_str(&out), "Proxy-Authorization: Basic dTpw\r\n"));
	assert_null(strstr(buf_str(&out), "Zm9v"));
	buf_done(&out);
	parsed_done(&p);
}

static void
test_proxy_http_field_ids(void **state)
{
	static const struct {
		const char *name;
		enum http_field_id id;
	} cases[] = {
		{ "Host", HTTP_FIELD_HOST },
		{ "hOsT", HTTP_FIELD_HOST },
		{ "host ", HTTP_FIELD_OTHER },
		{ "hos", HTTP_FIELD_OTHER },
		{ "gost", HTTP_FIELD_OTHER },
		{ "TE", HTTP_FIELD_TE },
		{ "Tx", HTTP_FIELD_OTHER },
		{ "Transfer-Encoding", HTTP_FIELD_TRANSFER_ENCODING },
		{ "Transfer-Encodinh", HTTP_FIELD_OTHER },
		{ "CONTENT-LENGTH", HTTP_FIELD_CONTENT_LENGTH },
		{ "Proxy-Authenticate", HTTP_FIELD_PROXY_AUTHENTICATE },
		{ "proxy-authorization", HTTP_FIELD_PROXY_AUTHORIZATION },
		{ "X-Unix-Socket", HTTP_FIELD_X_UNIX_SOCKET },
		{ "", HTTP_FIELD_OTHER },
	};
	struct parsed p;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(http_field_id_of(cases[i].name,
				     strlen(cases[i].name)),
		    cases[i].id);
	/* The parser names every field, and lookups by a known name find
	 * it in any case. */
	parse_request(&p,
	    "GET http://a.example/ HTTP/1.1\r\nhOST: a.example\r\n"
	    "X-Other: 1\r\nCONNECTION: close\r\n\r\n");
	assert_int_equal(p.result, PARSE_DONE);
	assert_int_equal(p.head.n_fields, 3);
	assert_int_equal(p.head.fields[0].id, HTTP_FIELD_HOST);
	assert_int_equal(p.head.fields[1].id, HTTP_FIELD_OTHER);
	assert_int_equal(p.head.fields[2].id, HTTP_FIELD_CONNECTION);
	assert_int_equal(http_head_find(&p.head, "Host", 0), 0);
	assert_int_equal(http_head_find(&p.head, "x-other", 0), 1);
	assert_int_equal(http_head_find(&p.head, "x-other", 2), -1);
	assert_true(http_head_has_token(&p.head, "connection", "Close"));
	parsed_done(&p);
}

static void
test_proxy_http_request_gets_host_and_chunked_framing(void **state)
{
	struct parsed p;
	struct http_target t;
	struct buf out;

	(void)state;
	parse_request(&p,
	    "PUT http://[::1]:8080?q HTTP/1.0\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n");
	assert_int_equal(p.result, PARSE_DONE);
	assert_int_equal(http_target_parse(http_head_str(&p.head,
					       p.head.target),
			     p.head.target.len, false, &t),
	    HTTP_TARGET_OK);
	buf_init(&out, 0);
	assert_int_equal(http_write_request(&p.head, &t, &t.authority, false,
			     NULL, &out),
	    0);
	assert_string_equal(buf_str(&out),
	    "PUT /?q HTTP/1.1\r\nHost: [::1]:8080\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n");
	buf_done(&out);
	parsed_done(&p);
}

static void
test_proxy_http_response_head_for_client(void **state)
{
	struct parsed p;
	struct buf out;

	(void)state;
	parse_response(&p,
	    "HTTP/1.1 200 OK\r\nConnection: close, X-Hop\r\n"
	    "X-Hop: 1\r\nProxy-Authenticate: Basic\r\n"
	    "Transfer-Encoding: chunked\r\nX-Keep: 2\r\n\r\n",
	    false, false);
	assert_int_equal(p.result, PARSE_DONE);
	buf_init(&out, 0);
	assert_int_equal(http_write_response(&p.head, false, 1, &out), 0);
	assert_string_equal(buf_str(&out),
	    "HTTP/1.1 200 OK\r\nX-Keep: 2\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n");
	buf_clear(&out);
	assert_int_equal(http_write_response(&p.head, true, 1, &out), 0);
	assert_non_null(strstr(buf_str(&out), "Connection: close\r\n"));
	buf_clear(&out);
	assert_int_equal(http_write_response(&p.head, false, 0, &out), 0);
	assert_non_null(strstr(buf_str(&out), "Connection: keep-alive\r\n"));
	buf_done(&out);
	parsed_done(&p);
}

static void
test_proxy_http_blocked_reply_is_spec_json(void **state)
{
	struct http_block b = {
		.host = "evil.example",
		.reason = "not_allowed",
		.decision = "deny",
		.source = "baseline_policy",
		.protocol = "http",
		.port = 80,
		.message = "Domain not in allowlist.",
		.x_proxy_error = "blocked-by-allowlist",
	};
	static const char body[] =
	    "{\"status\":\"blocked\",\"host\":\"evil.example\","
	    "\"reason\":\"not_allowed\",\"decision\":\"deny\","
	    "\"source\":\"baseline_policy\",\"protocol\":\"http\","
	    "\"port\":80,\"message\":\"Domain not in allowlist.\"}\n";
	struct buf out;
	char want[512];

	(void)state;
	buf_init(&out, 0);
	assert_int_equal(http_reply_blocked(&out, &b, false, false), 0);
	(void)snprintf(want, sizeof(want),
	    "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n"
	    "x-proxy-error: blocked-by-allowlist\r\n\r\n%s",
	    strlen(body), body);
	assert_string_equal(buf_str(&out), want);
	buf_done(&out);
}

static void
test_proxy_http_text_reply_and_head_only(void **state)
{
	struct buf out;

	(void)state;
	buf_init(&out, 0);
	assert_int_equal(http_reply_text(&out, 503, "network proxy is disabled",
			     NULL, true, false),
	    0);
	assert_string_equal(buf_str(&out),
	    "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 26\r\nCache-Control: no-store\r\n"
	    "Connection: close\r\n\r\nnetwork proxy is disabled\n");
	buf_clear(&out);
	assert_int_equal(http_reply_text(&out, 502, "x", NULL, false, true), 0);
	assert_non_null(strstr(buf_str(&out), "Content-Length: 2\r\n"));
	assert_int_equal(buf_str(&out)[out.len - 1], '\n');
	assert_null(strstr(buf_str(&out), "\r\n\r\nx"));
	buf_done(&out);
	assert_string_equal(http_reply_reason(431),
	    "Request Header Fields Too Large");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proxy_http_parses_absolute_get),
		cmocka_unit_test(test_proxy_http_parses_byte_by_byte),
		cmocka_unit_test(
		    test_proxy_http_connect_leaves_client_hello_buffered),
		cmocka_unit_test(
		    test_proxy_http_http10_is_not_keep_alive_by_default),
		cmocka_unit_test(test_proxy_http_refuses_smuggling),
		cmocka_unit_test(test_proxy_http_refuses_malformed_chunks),
		cmocka_unit_test(
		    test_proxy_http_decodes_chunked_and_drops_trailers),
		cmocka_unit_test(test_proxy_http_limits_head_fields_and_target),
		cmocka_unit_test(
		    test_proxy_http_too_large_head_fails_fed_in_pieces),
		cmocka_unit_test(test_proxy_http_response_framing),
		cmocka_unit_test(
		    test_proxy_http_parser_next_handles_pipelining),
		cmocka_unit_test(test_proxy_http_target_forms),
		cmocka_unit_test(
		    test_proxy_http_host_must_match_absolute_target),
		cmocka_unit_test(test_proxy_http_hop_by_hop_is_stripped),
		cmocka_unit_test(test_proxy_http_field_ids),
		cmocka_unit_test(
		    test_proxy_http_request_gets_host_and_chunked_framing),
		cmocka_unit_test(test_proxy_http_response_head_for_client),
		cmocka_unit_test(test_proxy_http_blocked_reply_is_spec_json),
		cmocka_unit_test(test_proxy_http_text_reply_and_head_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
