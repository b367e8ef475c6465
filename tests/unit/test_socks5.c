/* SPDX-License-Identifier: MIT */
/*
 * The SOCKS5 wire format (socks5.h), its reply codes in the errmap table,
 * and the SOCKS5 front end over socketpair() on a real event_base: a
 * worker is built but its thread never started; the test drives the loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "policy/policy.h"
#include "proxy/proxy.h"
#include "proxy/session.h"
#include "proxy/session_socks5.h"
#include "proxy/worker.h"
#include "wire/errmap.h"
#include "wire/socks5.h"
#include "worker_fixture.h"

/*
 * Parsers.
 */

/* Feed msg in pieces of step bytes; returns the result and the bytes
 * used in total. */
static enum parse_result
feed_request(const uint8_t *msg, size_t len, size_t step,
    struct socks5_parser *p, struct socks5_request *req, size_t *ret_used)
{
	enum parse_result r = PARSE_AGAIN;
	size_t off = 0;

	socks5_parser_init(p);
	while (r == PARSE_AGAIN && off < len) {
		size_t n = len - off < step ? len - off : step, used;

		r = socks5_request_feed(p, msg + off, n, &used, req);
		assert_true(used <= n);
		if (r == PARSE_AGAIN)
			assert_int_equal(used, n);
		off += used;
	}
	*ret_used = off;
	return r;
}

static void
test_socks5_request_split_at_every_point(void **state)
{
	static const uint8_t msg[] = { 5, 1, 0, 3, 11, 'e', 'x', 'a', 'm', 'p',
		'l', 'e', '.', 'c', 'o', 'm', 0x01, 0xbb };

	(void)state;
	for (size_t step = 1; step <= sizeof(msg); step++) {
		struct socks5_parser p;
		struct socks5_request req;
		size_t used;

		assert_int_equal(feed_request(msg, sizeof(msg), step, &p, &req,
				     &used),
		    PARSE_DONE);
		assert_int_equal(used, sizeof(msg));
		assert_int_equal(req.command, SOCKS5_CMD_CONNECT);
		assert_int_equal(req.dst.atyp, SOCKS5_ATYP_DOMAIN);
		assert_string_equal(req.dst.domain, "example.com");
		assert_int_equal(req.dst.port, 443);
	}
}

static void
test_socks5_greeting_and_request_in_one_read(void **state)
{
	static const uint8_t msg[] = { 5, 2, 0, 0xA7, 5, 1, 0, 1, 10, 0, 0, 1,
		0, 80, 'G', 'E' };
	struct socks5_parser p;
	struct socks5_greeting g;
	struct socks5_request req;
	size_t used, off;

	(void)state;
	socks5_parser_init(&p);
	assert_int_equal(socks5_greeting_feed(&p, msg, sizeof(msg), &used, &g),
	    PARSE_DONE);
	assert_int_equal(used, 4);
	assert_int_equal(g.n_methods, 2);
	assert_true(socks5_greeting_offers(&g, SOCKS5_METHOD_NO_AUTH));
	assert_true(socks5_greeting_offers(&g, SOCKS5_METHOD_PADDOCK_REASON));
	assert_false(socks5_greeting_offers(&g, SOCKS5_METHOD_USERPASS));
	off = used;
	socks5_parser_init(&p);
	assert_int_equal(socks5_request_feed(&p, msg + off, sizeof(msg) - off,
			     &used, &req),
	    PARSE_DONE);
	/* The tunnel's first bytes are not the request's. */
	assert_int_equal(used, 10);
	assert_int_equal(req.dst.atyp, SOCKS5_ATYP_IPV4);
	assert_memory_equal(req.dst.ip, ((uint8_t[]){ 10, 0, 0, 1 }), 4);
	assert_int_equal(req.dst.port, 80);
}

static void
test_socks5_greeting_truncated_waits(void **state)
{
	static const uint8_t msg[] = { 5, 3, 0, 1 };
	struct socks5_parser p;
	struct socks5_greeting g;
	size_t used;

	(void)state;
	socks5_parser_init(&p);
	assert_int_equal(socks5_greeting_feed(&p, msg, sizeof(msg), &used, &g),
	    PARSE_AGAIN);
	assert_int_equal(used, sizeof(msg));
	assert_int_equal(socks5_greeting_feed(&p, (const uint8_t *)"\x02", 1,
			     &used, &g),
	    PARSE_DONE);
	assert_int_equal(g.n_methods, 3);
}

static void
test_socks5_greeting_bad_version(void **state)
{
	struct socks5_parser p;
	struct socks5_greeting g;
	size_t used;

	(void)state;
	socks5_parser_init(&p);
	assert_int_equal(socks5_greeting_feed(&p, (const uint8_t *)"\x04\x01",
			     2, &used, &g),
	    PARSE_ERROR);
	assert_non_null(p.error);
}

static void
test_socks5_greeting_zero_methods_is_complete(void **state)
{
	struct socks5_parser p;
	struct socks5_greeting g;
	size_t used;

	(void)state;
	socks5_parser_init(&p);
	assert_int_equal(socks5_greeting_feed(&p, (const uint8_t *)"\x05\x00",
			     2, &used, &g),
	    PARSE_DONE);
	assert_int_equal(g.n_methods, 0);
	assert_false(socks5_greeting_offers(&g, SOCKS5_METHOD_NO_AUTH));
}

static void
test_socks5_request_errors_name_their_reply(void **state)
{
	static const struct {
		uint8_t msg[12];
		size_t len;
		enum socks_reply reply;
	} cases[] = {
		{ { 5, 1, 0, 9, 1, 2, 3, 4, 0, 80 }, 10,
		    SOCKS_REPLY_ADDRESS_NOT_SUPPORTED },
		{ { 4, 1, 0, 1, 1, 2, 3, 4, 0, 80 }, 10,
		    SOCKS_REPLY_GENERAL_FAILURE },
		{ { 5, 1, 0, 3, 0, 0, 80 }, 7, SOCKS_REPLY_GENERAL_FAILURE },
		{ { 5, 1, 0, 3, 3, 'a', 0, 'b', 0, 80 }, 10,
		    SOCKS_REPLY_GENERAL_FAILURE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct socks5_parser p;
		struct socks5_request req;
		size_t used;

		assert_int_equal(feed_request(cases[i].msg, cases[i].len, 1, &p,
				     &req, &used),
		    PARSE_ERROR);
		assert_int_equal(p.reply, cases[i].reply);
		assert_non_null(p.error);
	}
}

static void
test_socks5_longest_domain_and_ipv6(void **state)
{
	uint8_t msg[SOCKS5_REQUEST_MAX];
	struct socks5_addr a = { .atyp = SOCKS5_ATYP_DOMAIN, .port = 22 };
	struct socks5_parser p;
	struct socks5_request req;
	size_t n, used;

	(void)state;
	memset(a.domain, 'a', SOCKS5_DOMAIN_MAX);
	n = socks5_request_encode(SOCKS5_CMD_CONNECT, &a, msg, sizeof(msg));
	assert_int_equal(n, SOCKS5_REQUEST_MAX);
	assert_int_equal(feed_request(msg, n, 7, &p, &req, &used), PARSE_DONE);
	assert_int_equal(strlen(req.dst.domain), SOCKS5_DOMAIN_MAX);
	a = (struct socks5_addr){ .atyp = SOCKS5_ATYP_IPV6, .port = 1 };
	a.ip[15] = 1;
	n = socks5_request_encode(SOCKS5_CMD_UDP_ASSOCIATE, &a, msg,
	    sizeof(msg));
	assert_int_equal(n, 22);
	assert_int_equal(feed_request(msg, n, 3, &p, &req, &used), PARSE_DONE);
	assert_int_equal(req.command, SOCKS5_CMD_UDP_ASSOCIATE);
	assert_memory_equal(req.dst.ip, a.ip, 16);
}

static void
test_socks5_reply_and_reason_round_trip(void **state)
{
	uint8_t out[SOCKS5_REPLY_MAX + SOCKS5_REASON_MAX];
	struct socks5_addr bnd = { .atyp = SOCKS5_ATYP_IPV4,
		.ip = { 127, 0, 0, 1 },
		.port = 4242 };
	struct socks5_parser p;
	struct socks5_reply rep;
	struct socks5_reason why;
	size_t n, m, used;

	(void)state;
	n = socks5_reply_encode(SOCKS_REPLY_NOT_ALLOWED, &bnd, out,
	    sizeof(out));
	assert_int_equal(n, 10);
	m = socks5_reason_encode("blocked-by-allowlist", "not in allowlist",
	    out + n, sizeof(out) - n);
	socks5_parser_init(&p);
	assert_int_equal(socks5_reply_feed(&p, out, n + m, &used, &rep),
	    PARSE_DONE);
	assert_int_equal(used, n);
	assert_int_equal(rep.rep, SOCKS_REPLY_NOT_ALLOWED);
	assert_int_equal(rep.bnd.port, 4242);
	for (size_t k = 0; k < m; k++) {
		enum parse_result r;

		socks5_parser_init(&p);
		r = socks5_reason_feed(&p, out + n, k, &used, &why);
		assert_int_equal(r, PARSE_AGAIN);
		r = socks5_reason_feed(&p, out + n + k, m - k, &used, &why);
		assert_int_equal(r, PARSE_DONE);
		assert_string_equal(why.code, "blocked-by-allowlist");
		assert_string_equal(why.message, "not in allowlist");
	}
	assert_string_equal(socks5_reply_text(2),
	    "connection not allowed by ruleset");
	assert_string_equal(socks5_reply_text(0x42), "unassigned reply code");
}

static void
test_socks5_udp_header(void **state)
{
	uint8_t dg[64];
	struct socks5_addr a = { .atyp = SOCKS5_ATYP_DOMAIN,
		.domain = "dns.test",
		.port = 53 };
	struct socks5_udp_header h;
	const char *why = NULL;
	size_t n;

	(void)state;
	n = socks5_udp_header_encode(&a, dg, sizeof(dg));
	assert_int_equal(n, 3 + 2 + 8 + 2);
	memcpy(dg + n, "xy", 2);
	assert_int_equal(socks5_udp_parse(dg, n + 2, &h, &why), PARSE_DONE);
	assert_int_equal(h.len, n);
	assert_int_equal(h.frag, 0);
	assert_string_equal(h.dst.domain, "dns.test");
	assert_int_equal(h.dst.port, 53);
	/* Every truncation of the header is an error, never a read past. */
	for (size_t k = 0; k < n; k++)
		assert_int_equal(socks5_udp_parse(dg, k, &h, &why),
		    PARSE_ERROR);
	dg[3] = 7;
	assert_int_equal(socks5_udp_parse(dg, n, &h, &why), PARSE_ERROR);
	assert_string_equal(why, "unknown address type");
	dg[3] = SOCKS5_ATYP_DOMAIN;
	dg[2] = 1;
	assert_int_equal(socks5_udp_parse(dg, n, &h, &why), PARSE_DONE);
	assert_int_equal(h.frag, 1);
}

static void
test_socks5_errmap_reply_codes(void **state)
{
	(void)state;
	assert_int_equal(errmap_socks_reply(-EACCES), SOCKS_REPLY_NOT_ALLOWED);
	assert_int_equal(errmap_socks_reply(-ENETUNREACH),
	    SOCKS_REPLY_NETWORK_UNREACHABLE);
	assert_int_equal(errmap_socks_reply(-EHOSTUNREACH),
	    SOCKS_REPLY_HOST_UNREACHABLE);
	assert_int_equal(errmap_socks_reply(-ENXIO),
	    SOCKS_REPLY_HOST_UNREACHABLE);
	assert_int_equal(errmap_socks_reply(-ETIME),
	    SOCKS_REPLY_HOST_UNREACHABLE);
	assert_int_equal(errmap_socks_reply(-ECONNREFUSED),
	    SOCKS_REPLY_CONNECTION_REFUSED);
	assert_int_equal(errmap_socks_reply(-ETIMEDOUT),
	    SOCKS_REPLY_TTL_EXPIRED);
	assert_int_equal(errmap_socks_reply(-EOPNOTSUPP),
	    SOCKS_REPLY_COMMAND_NOT_SUPPORTED);
	assert_int_equal(errmap_socks_reply(-EAFNOSUPPORT),
	    SOCKS_REPLY_ADDRESS_NOT_SUPPORTED);
	assert_int_equal(errmap_socks_reply(-ELOOP), SOCKS_REPLY_NOT_ALLOWED);
	assert_int_equal(errmap_socks_reply(-E2BIG),
	    SOCKS_REPLY_GENERAL_FAILURE);
	assert_int_equal(errmap_http_status(-EOPNOTSUPP), 501);
}

/*
 * The front end over socketpair().
 */
static void
test_decider(const struct paddock_request *req, struct paddock_decision *d,
    void *ud)
{
	(void)req;
	(void)ud;
	paddock_decision_allow(d); /* never runs: no decider thread here */
}

static int
setup_with(void **state, const char *limit, const char *value)
{
	static const struct policy_rule_spec rules[] = {
		{ .pattern = "denied.test", .list = POLICY_LIST_DENY },
		{ .pattern = "127.0.0.1", .list = POLICY_LIST_ALLOW },
	};
	struct proxy_settings s = { .enabled = true,
		.socks5_udp = limit && strcmp(limit, "udp") == 0 };

	proxy_limits_init(&s.limits);
	if (limit && !s.socks5_udp)
		assert_int_equal(proxy_limits_set(&s.limits, limit, value), 0);
	/* The decider thread never starts: every question is answered
	 * "busy" (a deny), asynchronously, on the loop. */
	*state = worker_fixture_new(rules, 2, &s,
	    s.socks5_udp ? test_decider : NULL);
	return 0;
}

static int
setup(void **state)
{
	return setup_with(state, NULL, NULL);
}

static int
setup_short_head(void **state)
{
	return setup_with(state, "head-timeout", "50ms");
}

static int
setup_udp(void **state)
{
	return setup_with(state, "udp", NULL);
}

static int
teardown(void **state)
{
	worker_fixture_free(*state);
	return 0;
}

/* A SOCKS5 session on one end of a socketpair; returns the other end. */
static int
socks_session(struct worker_fixture *f, struct session **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX,
			     SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
	    0);
	(void)proxy_session_add(f->proxy, 1000);
	*ret = session_new(f->w, sv[1], (struct sockaddr *)&sa, sizeof(sa),
	    &session_socks5_frontend);
	assert_non_null(*ret);
	session_ref(*ret);
	return sv[0];
}

/* Run the loop until fd reaches EOF or n bytes were read. */
static size_t
read_all(struct worker_fixture *f, int fd, uint8_t *buf, size_t n,
    bool *ret_eof)
{
	size_t got = 0;

	*ret_eof = false;
	for (int waited = 0; got < n && waited < 5000; waited += 5) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		(void)event_base_loop(f->base, EVLOOP_NONBLOCK);
		if (poll(&p, 1, 5) <= 0)
			continue;
		r = read(fd, buf + got, n - got);
		if (r == 0) {
			*ret_eof = true;
			break;
		}
		if (r > 0)
			got += (size_t)r;
	}
	return got;
}

/* The client hangs up; the lingering session closes. */
static void
hang_up(struct worker_fixture *f, int fd, struct session *s)
{
	(void)close(fd);
	worker_fixture_run_until_closed(f, s);
}

/* Send msg byte by byte (the loop runs between bytes), then read the
 * whole answer up to the close. */
static size_t
exchange(struct worker_fixture *f, int fd, const uint8_t *msg, size_t len,
    uint8_t *out, size_t outsz)
{
	bool eof;
	size_t n;

	for (size_t i = 0; i < len; i++) {
		assert_int_equal(write(fd, msg + i, 1), 1);
		(void)event_base_loop(f->base, EVLOOP_NONBLOCK);
	}
	n = read_all(f, fd, out, outsz, &eof);
	assert_true(eof);
	return n;
}

static void
test_socks5_session_denied_host_gets_0x02_and_the_reason(void **state)
{
	struct worker_fixture *f = *state;
	static const uint8_t msg[] = { 5, 1, 0xA7, 5, 1, 0, 3, 11, 'd', 'e',
		'n', 'i', 'e', 'd', '.', 't', 'e', 's', 't', 0, 22 };
	uint8_t out[600];
	struct socks5_parser p;
	struct socks5_reply rep;
	struct socks5_reason why;
	struct session *s;
	int fd = socks_session(f, &s);
	size_t n = exchange(f, fd, msg, sizeof(msg), out, sizeof(out)), used;

	assert_true(n > 12);
	assert_memory_equal(out, ((uint8_t[]){ 5, 0xA7 }), 2);
	socks5_parser_init(&p);
	assert_int_equal(socks5_reply_feed(&p, out + 2, n - 2, &used, &rep),
	    PARSE_DONE);
	assert_int_equal(rep.rep, SOCKS_REPLY_NOT_ALLOWED);
	socks5_parser_init(&p);
	assert_int_equal(socks5_reason_feed(&p, out + 2 + used, n - 2 - used,
			     &used, &why),
	    PARSE_DONE);
	assert_string_equal(why.code, "blocked-by-denylist");
	assert_string_equal(why.message, "denied by rule 'denied.test'");
	hang_up(f, fd, s);
	assert_string_equal(s->close_reason, "blocked by policy");
	assert_string_equal(s->verdict, "deny");
	session_unref(s);
}

static void
test_socks5_session_plain_client_gets_no_reason(void **state)
{
	struct worker_fixture *f = *state;
	static const uint8_t msg[] = { 5, 1, 0, 5, 1, 0, 3, 11, 'd', 'e', 'n',
		'i', 'e', 'd', '.', 't', 'e', 's', 't', 0, 22 };
	uint8_t out[600];
	struct session *s;
	int fd = socks_session(f, &s);
	size_t n = exchange(f, fd, msg, sizeof(msg), out, sizeof(out));

	assert_int_equal(n, 2 + 10);
	assert_memory_equal(out,
	    ((uint8_t[]){ 5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0 }), 12);
	hang_up(f, fd, s);
	session_unref(s);
}

static void
test_socks5_session_no_acceptable_method(void **state)
{
	struct worker_fixture *f = *state;
	static const uint8_t msg[] = { 5, 2, 1, 2 };
	uint8_t out[16];
	struct session *s;
	int fd = socks_session(f, &s);
	size_t n = exchange(f, fd, msg, sizeof(msg), out, sizeof(out));

	assert_int_equal(n, 2);
	assert_memory_equal(out, ((uint8_t[]){ 5, 0xFF }), 2);
	hang_up(f, fd, s);
	assert_string_equal(s->close_reason,
	    "no acceptable authentication method");
	session_unref(s);
}

static void
test_socks5_session_bind_and_unknown_atyp(void **state)
{
	struct worker_fixture *f = *state;
	static const uint8_t bind[] = { 5, 1, 0, 5, 2, 0, 1, 1, 2, 3, 4, 0, 1 };
	static const uint8_t atyp[] = { 5, 1, 0, 5, 1, 0, 2, 1, 2, 3, 4 };
	uint8_t out[64];
	struct session *s;
	int fd = socks_session(f, &s);
	size_t n = exchange(f, fd, bind, sizeof(bind), out, sizeof(out));

	assert_int_equal(n, 12);
	assert_int_equal(out[3], SOCKS_REPLY_COMMAND_NOT_SUPPORTED);
	hang_up(f, fd, s);
	session_unref(s);
	fd = socks_session(f, &s);
	n = exchange(f, fd, atyp, sizeof(atyp), out, sizeof(out));
	assert_int_equal(n, 12);
	assert_int_equal(out[3], SOCKS_REPLY_ADDRESS_NOT_SUPPORTED);
	hang_up(f, fd, s);
	assert_string_equal(s->close_reason, "unknown address type");
	session_unref(s);
}

static void
test_socks5_session_udp_off_is_0x07(void **state)
{
	struct worker_fixture *f = *state;
	static const uint8_t msg[] = { 5, 1, 0, 5, 3, 0, 1, 0, 0, 0, 0, 0, 0 };
	uint8_t out[64];
	struct session *s;
	int fd = socks_session(f, &s);
	size_t n = exchange(f, fd, msg, sizeof(msg), out, sizeof(out));

	assert_int_equal(n, 12);
	assert_int_equal(out[3], SOCKS_REPLY_COMMAND_NOT_SUPPORTED);
	hang_up(f, fd, s);
	assert_string_equal(s->close_reason, "command not supported");
	session_unref(s);
}

static void
test_socks5_session_handshake_deadline(void **state)
{
	struct worker_fixture *f = *state;
	uint8_t out[16];
	struct session *s;
	int fd = socks_session(f, &s);
	bool eof;

	assert_int_equal(write(fd, "\x05\x01", 2), 2);
	assert_int_equal(read_all(f, fd, out, sizeof(out), &eof), 0);
	assert_true(eof);
	assert_string_equal(s->close_reason, "SOCKS5 greeting timeout");
	session_unref(s);
	(void)close(fd);
}

/* A SOCKS5 session on an accepted loopback TCP connection (UDP ASSOCIATE
 * binds next to it); returns the client's end. */
static int
socks_tcp_session(struct worker_fixture *f, struct session **ret)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct sockaddr_in peer;
	socklen_t len = sizeof(a), plen = sizeof(peer);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &len), 0);
	assert_int_equal(connect(c, (struct sockaddr *)&a, len), 0);
	fd = accept4(l, (struct sockaddr *)&peer, &plen,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	assert_true(fd >= 0);
	(void)close(l);
	(void)proxy_session_add(f->proxy, 1000);
	*ret = session_new(f->w, fd, (struct sockaddr *)&peer, plen,
	    &session_socks5_frontend);
	assert_non_null(*ret);
	session_ref(*ret);
	return c;
}

static int
udp_socket(uint16_t *ret_port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*ret_port = ntohs(a.sin_port);
	return fd;
}

/* Run the loop until fd has a datagram; returns its length. */
static size_t
pump_recv(struct worker_fixture *f, int fd, uint8_t *buf, size_t n,
    struct sockaddr_in *ret_src)
{
	socklen_t len = sizeof(*ret_src);

	for (int waited = 0; waited < 5000; waited++) {
		ssize_t r;

		(void)event_base_loop(f->base, EVLOOP_NONBLOCK);
		r = recvfrom(fd, buf, n, 0, (struct sockaddr *)ret_src, &len);
		if (r >= 0)
			return (size_t)r;
		(void)poll(NULL, 0, 1);
	}
	fail_msg("no datagram");
	return 0;
}

static void
send_via(int fd, uint16_t relay, const struct socks5_addr *dst,
    const char *payload)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
		.sin_port = htons(relay) };
	uint8_t dg[SOCKS5_UDP_HEADER_MAX + 64];
	size_t n = socks5_udp_header_encode(dst, dg, sizeof(dg));

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memcpy(dg + n, payload, strlen(payload));
	n += strlen(payload);
	assert_int_equal(sendto(fd, dg, n, 0, (struct sockaddr *)&to,
			     sizeof(to)),
	    (ssize_t)n);
}

static void
test_socks5_session_udp_association(void **state)
{
	struct worker_fixture *f = *state;
	static const uint8_t assoc[] = { 5, 1, 0, 5, 3, 0, 1, 0, 0, 0, 0, 0,
		0 };
	struct socks5_addr echo = { .atyp = SOCKS5_ATYP_IPV4,
		.ip = { 127, 0, 0, 1 } };
	struct socks5_addr elsewhere = { .atyp = SOCKS5_ATYP_DOMAIN,
		.domain = "elsewhere.test",
		.port = 53 };
	struct socks5_udp_header h;
	struct sockaddr_in src;
	struct session *s;
	uint8_t buf[256];
	const char *why;
	uint16_t relay, cport, eport, sport;
	int c = socks_tcp_session(f, &s);
	int u = udp_socket(&cport), e = udp_socket(&eport);
	int stranger = udp_socket(&sport);
	bool eof;
	size_t n;

	assert_int_equal(write(c, assoc, sizeof(assoc)), sizeof(assoc));
	assert_int_equal(read_all(f, c, buf, 12, &eof), 12);
	assert_int_equal(buf[3], SOCKS_REPLY_SUCCEEDED);
	assert_memory_equal(buf + 6, ((uint8_t[]){ 127, 0, 0, 1 }), 4);
	relay = (uint16_t)(buf[10] << 8 | buf[11]);
	echo.port = eport;

	/* There and back: the reply carries its source's header. */
	send_via(u, relay, &echo, "ping");
	n = pump_recv(f, e, buf, sizeof(buf), &src);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(sendto(e, "pong", 4, 0, (struct sockaddr *)&src,
			     sizeof(src)),
	    4);
	n = pump_recv(f, u, buf, sizeof(buf), &src);
	assert_int_equal(socks5_udp_parse(buf, n, &h, &why), PARSE_DONE);
	assert_int_equal(h.dst.port, eport);
	assert_memory_equal(buf + h.len, "pong", 4);

	/* The decider is asked, answers (a deny) later on the loop; the
	 * association goes on. A stranger's datagram goes nowhere. */
	send_via(u, relay, &elsewhere, "to the decider");
	send_via(stranger, relay, &echo, "stranger");
	send_via(u, relay, &echo, "again");
	n = pump_recv(f, e, buf, sizeof(buf), &src);
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "again", 5);
	for (int i = 0; i < 20; i++)
		(void)event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_true(recv(e, buf, sizeof(buf), 0) < 0);

	hang_up(f, c, s);
	assert_string_equal(s->close_reason, "done");
	assert_true(s->client.bytes > 0 && s->upstream.bytes == 4);
	session_unref(s);
	(void)close(u);
	(void)close(e);
	(void)close(stranger);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socks5_request_split_at_every_point),
		cmocka_unit_test(test_socks5_greeting_and_request_in_one_read),
		cmocka_unit_test(test_socks5_greeting_truncated_waits),
		cmocka_unit_test(test_socks5_greeting_bad_version),
		cmocka_unit_test(test_socks5_greeting_zero_methods_is_complete),
		cmocka_unit_test(test_socks5_request_errors_name_their_reply),
		cmocka_unit_test(test_socks5_longest_domain_and_ipv6),
		cmocka_unit_test(test_socks5_reply_and_reason_round_trip),
		cmocka_unit_test(test_socks5_udp_header),
		cmocka_unit_test(test_socks5_errmap_reply_codes),
		cmocka_unit_test_setup_teardown(
		    test_socks5_session_denied_host_gets_0x02_and_the_reason,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_socks5_session_plain_client_gets_no_reason, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_socks5_session_no_acceptable_method, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_socks5_session_bind_and_unknown_atyp, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_socks5_session_udp_off_is_0x07, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_socks5_session_handshake_deadline, setup_short_head,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_socks5_session_udp_association, setup_udp, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
