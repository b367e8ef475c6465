/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the pure parts of src/proxy: the child environment and
 * its quoting, upstream proxy selection with NO_PROXY, Happy Eyeballs
 * ordering, the errno table and the limit overrides.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "api/childenv.h"
#include "policy/policy.h"
#include "proxy/decision.h"
#include "proxy/eyeballs.h"
#include "proxy/proxy.h"
#include "proxy/udprelay.h"
#include "proxy/upstream.h"
#include "util/buf.h"
#include "wire/errmap.h"

static void
test_proxy_parts_env_has_every_variable(void **state)
{
	static const char *const http[] = { "HTTP_PROXY", "https_proxy",
		"WSS_PROXY", "npm_config_proxy", "NPM_CONFIG_HTTPS_PROXY",
		"YARN_HTTP_PROXY", "BUNDLE_HTTP_PROXY", "PIP_PROXY",
		"DOCKER_HTTPS_PROXY", "CARGO_HTTP_PROXY" };
	struct childenv e;

	(void)state;
	assert_int_equal(childenv_build(&e, "127.0.0.1:3128", NULL, false), 0);
	for (size_t i = 0; i < sizeof(http) / sizeof(http[0]); i++)
		assert_string_equal(childenv_get(&e, http[i]),
		    "http://127.0.0.1:3128");
	assert_string_equal(childenv_get(&e, "ALL_PROXY"),
	    "http://127.0.0.1:3128");
	assert_string_equal(childenv_get(&e, "NO_PROXY"), CHILDENV_NO_PROXY);
	assert_string_equal(childenv_get(&e, "no_proxy"), CHILDENV_NO_PROXY);
	assert_string_equal(childenv_get(&e, "PADDOCK_NETWORK_PROXY_ACTIVE"),
	    "1");
	assert_string_equal(childenv_get(&e,
				"PADDOCK_NETWORK_ALLOW_LOCAL_BINDING"),
	    "0");
	assert_string_equal(childenv_get(&e, "NODE_USE_ENV_PROXY"), "1");
	assert_string_equal(childenv_get(&e, "ELECTRON_GET_USE_PROXY"), "true");
	assert_null(childenv_get(&e, "YARN_NO_PROXY"));
	assert_null(childenv_get(&e, "CODEX_NETWORK_PROXY_ACTIVE"));
}

static void
test_proxy_parts_env_socks_takes_all_proxy(void **state)
{
	struct childenv e;

	(void)state;
	assert_int_equal(childenv_build(&e, "[::1]:3128", "127.0.0.1:8081",
			     true),
	    0);
	assert_string_equal(childenv_get(&e, "HTTP_PROXY"),
	    "http://[::1]:3128");
	assert_string_equal(childenv_get(&e, "all_proxy"),
	    "socks5h://127.0.0.1:8081");
	assert_string_equal(childenv_get(&e, "FTP_PROXY"),
	    "socks5h://127.0.0.1:8081");
	assert_string_equal(childenv_get(&e,
				"PADDOCK_NETWORK_ALLOW_LOCAL_BINDING"),
	    "1");
}

static void
test_proxy_parts_env_quotes_for_each_shell(void **state)
{
	struct childenv e = { 0 };
	struct buf out;

	(void)state;
	e.vars[0] = (struct childenv_var){ "A", "it's $HOME \\n", false };
	e.n_vars = 1;
	buf_init(&out, 0);
	assert_int_equal(childenv_format(&e, CHILDENV_FORMAT_SH, &out), 0);
	assert_string_equal(buf_str(&out), "export A='it'\\''s $HOME \\n';\n");
	buf_clear(&out);
	assert_int_equal(childenv_format(&e, CHILDENV_FORMAT_FISH, &out), 0);
	assert_string_equal(buf_str(&out), "set -gx A 'it\\'s $HOME \\\\n';\n");
	buf_clear(&out);
	assert_int_equal(childenv_format(&e, CHILDENV_FORMAT_JSON, &out), 0);
	assert_string_equal(buf_str(&out),
	    "{\n  \"A\": \"it's $HOME \\\\n\"\n}\n");
	buf_done(&out);
}

static void
test_proxy_parts_env_apply_replaces_and_keeps(void **state)
{
	char *in[] = { "PATH=/bin", "HTTP_PROXY=http://old:1", "http_proxyx=1",
		NULL };
	struct childenv e;
	char **out;
	size_t n = 0, http = 0;

	(void)state;
	assert_int_equal(childenv_build(&e, "127.0.0.1:9", NULL, false), 0);
	out = childenv_apply(&e, in);
	assert_non_null(out);
	for (; out[n]; n++)
		if (strncmp(out[n], "HTTP_PROXY=", 11) == 0) {
			http++;
			assert_string_equal(out[n],
			    "HTTP_PROXY=http://127.0.0.1:9");
		}
	assert_int_equal(http, 1);
	assert_int_equal(n, 2 + e.n_vars);
	assert_string_equal(out[0], "PATH=/bin");
	assert_string_equal(out[1], "http_proxyx=1");
	childenv_strv_free(out);
}

static const char *test_env[16][2];

static const char *
fake_getenv(const char *name)
{
	for (size_t i = 0; i < 16 && test_env[i][0]; i++)
		if (strcmp(test_env[i][0], name) == 0)
			return test_env[i][1];
	return NULL;
}

static void
set_env(const char *const (*pairs)[2], size_t n)
{
	memset(test_env, 0, sizeof(test_env));
	for (size_t i = 0; i < n; i++) {
		test_env[i][0] = pairs[i][0];
		test_env[i][1] = pairs[i][1];
	}
}

static int warnings;

static void
count_warning(void *userdata, const char *message)
{
	(void)userdata;
	(void)message;
	warnings++;
}

static void
test_proxy_parts_upstream_selection_order(void **state)
{
	static const char *const env[][2] = {
		{ "http_proxy", "http://plain.example:8080" },
		{ "HTTPS_PROXY", "secure.example:3129" },
		{ "ALL_PROXY", "http://all.example" },
	};
	struct upstream *u;
	const struct upstream_proxy *p;

	(void)state;
	set_env(env, 3);
	u = upstream_new(fake_getenv, NULL, NULL);
	assert_non_null(u);
	p = upstream_select(u, "a.example", false);
	assert_string_equal(p->authority.host, "plain.example");
	assert_int_equal(p->authority.port, 8080);
	assert_string_equal(p->variable, "http_proxy");
	p = upstream_select(u, "a.example", true);
	assert_string_equal(p->authority.host, "secure.example");
	assert_int_equal(p->authority.port, 3129);
	upstream_free(u);

	/* Upper case wins; secure falls back to HTTP, then ALL. */
	static const char *const env2[][2] = {
		{ "HTTP_PROXY", "http://upper:1" },
		{ "http_proxy", "http://lower:2" },
	};
	set_env(env2, 2);
	u = upstream_new(fake_getenv, NULL, NULL);
	assert_string_equal(upstream_select(u, "x", true)->authority.host,
	    "upper");
	upstream_free(u);
	static const char *const env3[][2] = { { "all_proxy",
	    "http://[::1]:9" } };
	set_env(env3, 1);
	u = upstream_new(fake_getenv, NULL, NULL);
	p = upstream_select(u, "x", false);
	assert_string_equal(p->authority.host, "::1");
	assert_true(p->authority.ipv6);
	upstream_free(u);
}

static void
test_proxy_parts_upstream_ignores_other_schemes(void **state)
{
	static const char *const env[][2] = {
		{ "HTTPS_PROXY", "https://tls.example:443" },
		{ "ALL_PROXY", "socks5://127.0.0.1:1080" },
		{ "HTTP_PROXY", "" },
	};
	struct upstream *u;

	(void)state;
	set_env(env, 3);
	warnings = 0;
	u = upstream_new(fake_getenv, count_warning, NULL);
	assert_int_equal(warnings, 2);
	assert_true(upstream_is_empty(u));
	assert_null(upstream_select(u, "a.example", true));
	upstream_free(u);
}

static void
test_proxy_parts_upstream_credentials_become_basic_auth(void **state)
{
	struct upstream_proxy p;

	(void)state;
	assert_int_equal(upstream_parse_url("http://us%40er:p%3Ass@h:1/", &p),
	    0);
	/* base64("us@er:p:ss") */
	assert_string_equal(p.authorization, "Basic dXNAZXI6cDpzcw==");
	free(p.authorization);
	assert_int_equal(upstream_parse_url("http://h:1/path", &p), -EINVAL);
	assert_int_equal(upstream_parse_url("http://h:99999", &p), -EINVAL);
	assert_int_equal(upstream_parse_url("ftp://h", &p), -EPROTONOSUPPORT);
	assert_int_equal(upstream_parse_url("http://%zz@h", &p), -EINVAL);
}

static void
test_proxy_parts_no_proxy_matching(void **state)
{
	static const char *const env[][2] = {
		{ "HTTP_PROXY", "http://proxy:1" },
		{ "NO_PROXY",
		    " .internal.example, exact.example:8080,10.0.0.0/8 "
		    "[::1], 192.168.1.5" },
	};
	struct upstream *u;

	(void)state;
	set_env(env, 2);
	u = upstream_new(fake_getenv, NULL, NULL);
	assert_true(upstream_bypassed(u, "internal.example"));
	assert_true(upstream_bypassed(u, "a.b.internal.example"));
	assert_false(upstream_bypassed(u, "notinternal.example"));
	assert_true(upstream_bypassed(u, "10.200.0.1"));
	assert_false(upstream_bypassed(u, "11.0.0.1"));
	assert_true(upstream_bypassed(u, "::1"));
	assert_true(upstream_bypassed(u, "192.168.1.5"));
	assert_false(upstream_bypassed(u, "192.168.1.6"));
	assert_null(upstream_select(u, "x.internal.example", false));
	assert_non_null(upstream_select(u, "example.org", false));
	upstream_free(u);
	static const char *const all[][2] = { { "HTTP_PROXY", "http://p:1" },
		{ "no_proxy", "*" } };
	set_env(all, 2);
	u = upstream_new(fake_getenv, NULL, NULL);
	assert_null(upstream_select(u, "anything.example", false));
	upstream_free(u);
}

static struct policy_addr
addr(const char *text)
{
	struct policy_addr a = { 0 };

	if (inet_pton(AF_INET, text, a.bytes) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, text, a.bytes) == 1)
		a.family = AF_INET6;
	return a;
}

static void
test_proxy_parts_eyeballs_interleave_ipv6_first(void **state)
{
	struct policy_addr v[] = { addr("192.0.2.1"), addr("192.0.2.2"),
		addr("2001:db8::1"), addr("192.0.2.1"), addr("2001:db8::2"),
		addr("2001:db8::3"), addr("192.0.2.3") };
	const char *want[] = { "2001:db8::1", "192.0.2.1", "2001:db8::2",
		"192.0.2.2", "2001:db8::3", "192.0.2.3" };
	size_t n;

	(void)state;
	n = eyeballs_order(v, sizeof(v) / sizeof(v[0]));
	assert_int_equal(n, 6);
	for (size_t i = 0; i < n; i++) {
		struct policy_addr w = addr(want[i]);

		assert_int_equal(v[i].family, w.family);
		assert_memory_equal(v[i].bytes, w.bytes, 16);
	}
	n = eyeballs_order(v, 1);
	assert_int_equal(n, 1);
}

static void
test_proxy_parts_errno_maps_to_status_and_reply(void **state)
{
	(void)state;
	assert_int_equal(errmap_http_status(-ECONNREFUSED), 502);
	assert_int_equal(errmap_http_status(-ETIMEDOUT), 504);
	assert_int_equal(errmap_http_status(-ETIME), 504);
	assert_int_equal(errmap_http_status(-ENXIO), 502);
	assert_int_equal(errmap_http_status(-EMFILE), 503);
	assert_int_equal(errmap_http_status(-ELOOP), 508);
	assert_int_equal(errmap_http_status(-12345), 502);
	assert_int_equal(errmap_socks_reply(-ECONNREFUSED), 0x05);
	assert_int_equal(errmap_socks_reply(-ENETUNREACH), 0x03);
	assert_int_equal(errmap_socks_reply(-EHOSTUNREACH), 0x04);
	assert_int_equal(errmap_socks_reply(-ETIMEDOUT), 0x06);
	assert_int_equal(errmap_socks_reply(-EPERM), 0x02);
	assert_int_equal(errmap_socks_reply(-12345), 0x01);
	assert_string_equal(errmap_text(ECONNREFUSED),
	    "connection refused by upstream");
	assert_string_equal(errmap_text(-ENXIO),
	    "DNS lookup failed: no such host");
	assert_string_equal(errmap_text(-12345), "upstream connection failed");
}

static void
test_proxy_parts_limits_parse_durations_and_counts(void **state)
{
	struct proxy_limits l;
	struct buf out;

	(void)state;
	proxy_limits_init(&l);
	assert_int_equal(l.head_timeout_ms, 30000);
	assert_int_equal(proxy_limits_set(&l, "connect-timeout", "250ms"), 0);
	assert_int_equal(l.connect_timeout_ms, 250);
	assert_int_equal(proxy_limits_set(&l, "idle-timeout", "5m"), 0);
	assert_int_equal(l.idle_timeout_ms, 300000);
	assert_int_equal(proxy_limits_set(&l, "dns-timeout", "3s"), 0);
	assert_int_equal(l.dns_timeout_ms, 3000);
	assert_int_equal(proxy_limits_set(&l, "sessions", "100"), 0);
	assert_int_equal(l.sessions, 100);
	assert_int_equal(proxy_limits_set(&l, "shutdown-grace", "0ms"), 0);
	assert_int_equal(proxy_limits_set(&l, "sessions", "0"), -ERANGE);
	assert_int_equal(proxy_limits_set(&l, "dns-timeout", "2"), -EINVAL);
	assert_int_equal(proxy_limits_set(&l, "dns-timeout", "2h"), -EINVAL);
	assert_int_equal(proxy_limits_set(&l, "dns-timeout", "-2s"), -EINVAL);
	assert_int_equal(proxy_limits_set(&l, "dns-timeout", "0s"), -ERANGE);
	assert_int_equal(proxy_limits_set(&l, "bogus", "1"), -ENOENT);
	buf_init(&out, 0);
	assert_int_equal(proxy_limits_describe(&l, &out), 0);
	assert_non_null(strstr(buf_str(&out), "  connect-timeout=250ms\n"));
	assert_non_null(strstr(buf_str(&out), "  sessions=100\n"));
	buf_done(&out);
}

static void
restart_decider(const struct paddock_request *req, struct paddock_decision *d,
    void *ud)
{
	(void)req;
	(void)ud;
	paddock_decision_allow(d);
}

struct restart_wait {
	struct event_base *base;
	int answer;
};

static void
restart_answered(void *arg, const struct policy_answer *a)
{
	struct restart_wait *w = arg;

	w->answer = (int)a->decision;
	(void)event_base_loopbreak(w->base);
}

/* A proxy stopped and started again still has a decider that answers. */
static void
test_proxy_parts_decider_survives_restart(void **state)
{
	struct policy_settings ps = { .enabled = true };
	struct proxy_settings s = { .enabled = true, .workers = 1 };
	struct sockaddr_in *in =
	    (struct sockaddr_in *)&s.listen[PROXY_FRONTEND_HTTP].addr;
	const struct policy_request req = { .protocol = POLICY_PROTOCOL_HTTP,
		.host = "asked.test",
		.port = 80,
		.method = "GET" };
	struct policy_error perr;
	struct proxy *p;
	char err[256];

	(void)state;
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s.listen[PROXY_FRONTEND_HTTP].len = sizeof(*in);
	s.frontend_enabled[PROXY_FRONTEND_HTTP] = true;
	proxy_limits_init(&s.limits);
	assert_int_equal(policy_new(&ps, &s.policy, &perr), 0);
	assert_int_equal(proxy_new(&s, &p, NULL, 0), 0);
	proxy_set_decider(p, restart_decider, NULL);
	for (int round = 0; round < 2; round++) {
		struct restart_wait w = { .base = event_base_new(),
			.answer = -1 };
		const struct timeval deadline = { .tv_sec = 10 };

		assert_int_equal(proxy_start(p, err, sizeof(err)), 0);
		assert_non_null(w.base);
		assert_int_equal(proxy_ask_decider(p, &req,
				     decision_new(w.base, restart_answered,
					 &w)),
		    0);
		/* The answer breaks the loop; the deadline only bounds a
		 * failure. */
		(void)event_base_loopexit(w.base, &deadline);
		(void)event_base_loop(w.base, EVLOOP_NO_EXIT_ON_EMPTY);
		assert_int_equal(w.answer, POLICY_DECISION_ALLOW);
		event_base_free(w.base);
		assert_int_equal(proxy_stop(p), 0);
	}
	proxy_free(p);
	policy_unref(s.policy);
}

/* A UDP socket bound to 127.0.0.1 (any port). */
static int
udp_bound(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void
test_proxy_parts_udprelay_takes_longest_free_and_drains(void **state)
{
	struct sockaddr_in lo = { .sin_family = AF_INET }, other = lo, at;
	socklen_t len = sizeof(at);
	int fds[2] = { udp_bound(), udp_bound() };
	struct udprelay *r;
	int a, b, c, s;
	char buf[8];

	(void)state;
	lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	other.sin_addr.s_addr = htonl(0x7f000002);
	r = udprelay_new(fds, 2);
	assert_non_null(r);
	/* The set keeps duplicates. */
	(void)close(fds[0]);
	(void)close(fds[1]);
	assert_int_equal(udprelay_take(r, (struct sockaddr *)&other),
	    -EADDRNOTAVAIL);
	a = udprelay_take(r, (struct sockaddr *)&lo);
	b = udprelay_take(r, (struct sockaddr *)&lo);
	assert_true(a >= 0 && b >= 0 && a != b);
	assert_int_equal(udprelay_take(r, (struct sockaddr *)&lo), -EAGAIN);
	/* A datagram left for a's association is gone once a is back. */
	assert_int_equal(getsockname(a, (struct sockaddr *)&at, &len), 0);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(sendto(s, "old", 3, 0, (struct sockaddr *)&at, len),
	    3);
	udprelay_give(r, a);
	udprelay_give(r, b);
	/* a was given back first: it is taken first. */
	c = udprelay_take(r, (struct sockaddr *)&lo);
	assert_int_equal(c, a);
	assert_true(recv(c, buf, sizeof(buf), MSG_DONTWAIT) < 0);
	(void)close(s);
	assert_null(udprelay_free(r));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proxy_parts_decider_survives_restart),
		cmocka_unit_test(
		    test_proxy_parts_udprelay_takes_longest_free_and_drains),
		cmocka_unit_test(test_proxy_parts_env_has_every_variable),
		cmocka_unit_test(test_proxy_parts_env_socks_takes_all_proxy),
		cmocka_unit_test(test_proxy_parts_env_quotes_for_each_shell),
		cmocka_unit_test(test_proxy_parts_env_apply_replaces_and_keeps),
		cmocka_unit_test(test_proxy_parts_upstream_selection_order),
		cmocka_unit_test(
		    test_proxy_parts_upstream_ignores_other_schemes),
		cmocka_unit_test(
		    test_proxy_parts_upstream_credentials_become_basic_auth),
		cmocka_unit_test(test_proxy_parts_no_proxy_matching),
		cmocka_unit_test(
		    test_proxy_parts_eyeballs_interleave_ipv6_first),
		cmocka_unit_test(
		    test_proxy_parts_errno_maps_to_status_and_reply),
		cmocka_unit_test(
		    test_proxy_parts_limits_parse_durations_and_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
