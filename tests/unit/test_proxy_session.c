/* SPDX-License-Identifier: MIT */
/*
 * Session, relay and HTTP front-end tests over socketpair() on a real
 * event_base (STYLE.md §11): a worker is built but its thread never
 * started; the test drives its loop. One end of each socketpair is the
 * session's, the other the test's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "policy/policy.h"
#include "proxy/dial.h"
#include "proxy/pool.h"
#include "proxy/proxy.h"
#include "proxy/relay.h"
#include "proxy/session.h"
#include "proxy/session_http.h"
#include "proxy/worker.h"
#include "util/limits.h"
#include "worker_fixture.h"

static int
setup(void **state, const char *limit_name, const char *limit_value)
{
	static const struct policy_rule_spec rules[] = {
		{ .pattern = "allowed.test", .list = POLICY_LIST_ALLOW },
		{ .pattern = "denied.test", .list = POLICY_LIST_DENY },
	};
	struct proxy_settings s = { .enabled = true };

	proxy_limits_init(&s.limits);
	if (limit_name)
		assert_int_equal(proxy_limits_set(&s.limits, limit_name,
				     limit_value),
		    0);
	*state = worker_fixture_new(rules, 2, &s, NULL);
	return 0;
}

static int
setup_default(void **state)
{
	return setup(state, NULL, NULL);
}

static int
setup_short_idle(void **state)
{
	return setup(state, "idle-timeout", "50ms");
}

static int
setup_short_head(void **state)
{
	return setup(state, "head-timeout", "50ms");
}

static int
teardown(void **state)
{
	if (*state)
		worker_fixture_free(*state);
	return 0;
}

/* Run the loop until fd has something to read (or EOF), at most ms. */
static void
pump_until_readable(struct worker_fixture *f, int fd, int ms)
{
	for (int waited = 0; waited < ms; waited += 5) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		(void)event_base_loop(f->base, EVLOOP_NONBLOCK);
		if (poll(&p, 1, 5) > 0)
			return;
	}
	fail_msg("nothing to read after %d ms", ms);
}

static void
pump(struct worker_fixture *f, int ms)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = ms * 1000 };

	(void)event_base_loopexit(f->base, &tv);
	(void)event_base_dispatch(f->base);
}

/*
 * Read into buf (the loop runs meanwhile) until EOF, until n bytes, or
 * until buf holds stop (when not NULL). Returns the byte count.
 */
static size_t
read_some(struct worker_fixture *f, int fd, char *buf, size_t n, bool *ret_eof,
    const char *stop)
{
	size_t got = 0;

	*ret_eof = false;
	while (got < n) {
		ssize_t r;

		pump_until_readable(f, fd, 5000);
		r = read(fd, buf + got, n - got);
		if (r == 0 || (r < 0 && errno != EAGAIN)) {
			*ret_eof = true;
			break;
		}
		if (r < 0)
			continue;
		got += (size_t)r;
		if (stop && memmem(buf, got, stop, strlen(stop)))
			break;
	}
	return got;
}

static void
pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX,
			     SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
	    0);
}

/* Reads like a real front end does, so early bytes wait in the input. */
static int
test_fe_start(struct session *s)
{
	session_set_state(s, SESSION_ST_HTTP_HEAD);
	return session_bev_enable(s->client.bev, EV_READ);
}

static const struct session_frontend test_frontend = {
	.name = "test",
	.start = test_fe_start,
};

/* A session in RELAY between client pair c and upstream pair u; the test
 * keeps c[0] and u[0]. */
static struct session *
relay_session(struct worker_fixture *f, int c[2], int u[2], const char *early)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct session *s;

	pair(c);
	pair(u);
	if (early)
		assert_int_equal(write(c[0], early, strlen(early)),
		    (ssize_t)strlen(early));
	(void)proxy_session_add(f->proxy, 1000);
	s = session_new(f->w, c[1], (struct sockaddr *)&sa, sizeof(sa),
	    &test_frontend);
	assert_non_null(s);
	/* The test's own reference: the session may close (and would be
	 * reaped) while the test still looks at it. */
	session_ref(s);
	s->conf = proxy_conf_ref(worker_get_conf(f->w));
	/* Early bytes reach the client's input before the tunnel opens. */
	for (int i = 0; early && i < 5000 &&
	     evbuffer_get_length(bufferevent_get_input(s->client.bev)) <
		 strlen(early);
	     i++) {
		(void)event_base_loop(f->base, EVLOOP_NONBLOCK);
		(void)poll(NULL, 0, 1);
	}
	if (early)
		assert_int_equal(evbuffer_get_length(
				     bufferevent_get_input(s->client.bev)),
		    strlen(early));
	session_set_state(s, SESSION_ST_RESOLVING);
	session_set_state(s, SESSION_ST_CONNECTING);
	session_attach_upstream(s, session_bev_new(s, u[1]), u[1]);
	session_set_state(s, SESSION_ST_RELAY);
	assert_int_equal(relay_start(s), 0);
	return s;
}

/* A front end with state, counting its hooks, for session_tunnel(). */
static unsigned test_stateful_freed, test_stateful_closed;

static int
test_stateful_start(struct session *s)
{
	s->fe_state = malloc(16);
	return s->fe_state ? test_fe_start(s) : -ENOMEM;
}

static void
test_stateful_closed_hook(struct session *s)
{
	(void)s;
	test_stateful_closed++;
}

static void
test_stateful_free(struct session *s)
{
	free(s->fe_state);
	s->fe_state = NULL;
	test_stateful_freed++;
}

static const struct session_frontend test_stateful_frontend = {
	.name = "stateful",
	.start = test_stateful_start,
	.closed = test_stateful_closed_hook,
	.free = test_stateful_free,
};

static void
test_proxy_session_tunnel_hands_over_to_the_relay(void **state)
{
	struct worker_fixture *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[64];
	bool eof;
	struct session *s;
	int c[2], u[2];

	test_stateful_freed = test_stateful_closed = 0;
	pair(c);
	pair(u);
	assert_int_equal(write(c[0], "EARLY", 5), 5);
	(void)proxy_session_add(f->proxy, 1000);
	s = session_new(f->w, c[1], (struct sockaddr *)&sa, sizeof(sa),
	    &test_stateful_frontend);
	assert_non_null(s);
	session_ref(s);
	s->conf = proxy_conf_ref(worker_get_conf(f->w));
	for (int i = 0; i < 5000 &&
	     evbuffer_get_length(bufferevent_get_input(s->client.bev)) < 5;
	     i++) {
		(void)event_base_loop(f->base, EVLOOP_NONBLOCK);
		(void)poll(NULL, 0, 1);
	}
	assert_int_equal(evbuffer_get_length(
			     bufferevent_get_input(s->client.bev)),
	    5);
	session_set_state(s, SESSION_ST_RESOLVING);
	session_set_state(s, SESSION_ST_CONNECTING);
	session_attach_upstream(s, session_bev_new(s, u[1]), u[1]);
	session_tunnel(s);
	/* The front end's state went through its own free, once. */
	assert_int_equal(test_stateful_freed, 1);
	assert_null(s->fe_state);
	assert_int_equal(s->state, SESSION_ST_RELAY);
	assert_string_equal(s->fe->name, "tunnel");
	assert_string_equal(s->fe_name, "stateful");
	/* Bytes the client sent before the handoff go first. */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(read_some(f, u[0], buf, 5, &eof, NULL), 5);
	assert_string_equal(buf, "EARLY");
	(void)close(c[0]);
	(void)close(u[0]);
	worker_fixture_run_until_closed(f, s);
	/* The old front end is out of the picture: no closed hook, and the
	 * reaper does not free its state again. */
	assert_int_equal(test_stateful_closed, 0);
	session_unref(s);
	worker_fixture_free(f);
	*state = NULL;
	assert_int_equal(test_stateful_freed, 1);
}

static void
test_proxy_session_transition_table(void **state)
{
	(void)state;
	assert_true(
	    session_transition_ok(SESSION_ST_NEW, SESSION_ST_HTTP_HEAD));
	assert_true(
	    session_transition_ok(SESSION_ST_HTTP_HEAD, SESSION_ST_RESOLVING));
	assert_true(
	    session_transition_ok(SESSION_ST_RESOLVING, SESSION_ST_CONNECTING));
	assert_true(
	    session_transition_ok(SESSION_ST_CONNECTING, SESSION_ST_RELAY));
	assert_true(
	    session_transition_ok(SESSION_ST_RELAY, SESSION_ST_HTTP_HEAD));
	assert_true(session_transition_ok(SESSION_ST_RELAY, SESSION_ST_CLOSED));
	assert_false(session_transition_ok(SESSION_ST_NEW, SESSION_ST_RELAY));
	assert_false(
	    session_transition_ok(SESSION_ST_HTTP_HEAD, SESSION_ST_RELAY));
	assert_false(
	    session_transition_ok(SESSION_ST_DRAINING, SESSION_ST_RELAY));
	assert_false(session_transition_ok(SESSION_ST_CLOSED, SESSION_ST_NEW));
	assert_string_equal(session_state_name(SESSION_ST_TLS_ACCEPT),
	    "tls-accept");
}

static void
test_proxy_session_relay_forwards_early_bytes_and_both_ways(void **state)
{
	struct worker_fixture *f = *state;
	int c[2], u[2];
	char buf[64];
	bool eof;
	struct session *s = relay_session(f, c, u, "CLIENTHELLO");

	memset(buf, 0, sizeof(buf));
	assert_int_equal(read_some(f, u[0], buf, 11, &eof, NULL), 11);
	assert_string_equal(buf, "CLIENTHELLO");
	assert_int_equal(write(u[0], "SERVERHELLO", 11), 11);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(read_some(f, c[0], buf, 11, &eof, NULL), 11);
	assert_string_equal(buf, "SERVERHELLO");
	assert_int_equal(s->client.bytes, 11);
	assert_int_equal(s->upstream.bytes, 11);
	(void)close(c[0]);
	(void)close(u[0]);
	worker_fixture_run_until_closed(f, s);
	session_unref(s);
}

static void
test_proxy_session_relay_half_close_both_ways(void **state)
{
	struct worker_fixture *f = *state;
	int c[2], u[2];
	char buf[64];
	bool eof;
	struct session *s = relay_session(f, c, u, NULL);

	/* The client is done sending: upstream sees EOF... */
	assert_int_equal(write(c[0], "req", 3), 3);
	assert_int_equal(shutdown(c[0], SHUT_WR), 0);
	assert_int_equal(read_some(f, u[0], buf, sizeof(buf), &eof, NULL), 3);
	assert_true(eof);
	/* ...and can still answer. */
	assert_false(session_is_closed(s));
	assert_int_equal(write(u[0], "answer", 6), 6);
	assert_int_equal(shutdown(u[0], SHUT_WR), 0);
	assert_int_equal(read_some(f, c[0], buf, sizeof(buf), &eof, NULL), 6);
	assert_true(eof);
	worker_fixture_run_until_closed(f, s);
	assert_string_equal(s->close_reason, "done");
	(void)close(c[0]);
	(void)close(u[0]);
	session_unref(s);
}

static void
test_proxy_session_relay_backpressure_keeps_buffers_bounded(void **state)
{
	struct worker_fixture *f = *state;
	int c[2], u[2];
	size_t total = 8u << 20, sent = 0, got = 0;
	char *chunk = malloc(65536), *in = malloc(65536);
	struct session *s = relay_session(f, c, u, NULL);

	assert_non_null(chunk);
	assert_non_null(in);
	for (size_t i = 0; i < 65536; i++)
		chunk[i] = (char)(i * 7);
	/* The upstream reads nothing: whatever the proxy buffers stays
	 * under the high watermark (plus one read). */
	while (sent < total) {
		ssize_t n = write(c[0], chunk, 65536);

		if (n < 0) {
			assert_int_equal(errno, EAGAIN);
			pump(f, 5);
			break;
		}
		sent += (size_t)n;
		(void)event_base_loop(f->base, EVLOOP_NONBLOCK);
		assert_non_null(s->upstream.bev);
		assert_true(evbuffer_get_length(bufferevent_get_output(
				s->upstream.bev)) <= LIMIT_RELAY_HIWAT + 65536);
	}
	assert_true(sent < total);
	/* Now drain: everything sent arrives, byte for byte. */
	while (got < sent) {
		ssize_t n;

		pump_until_readable(f, u[0], 5000);
		n = read(u[0], in, 65536);
		assert_true(n > 0);
		for (ssize_t i = 0; i < n; i++)
			assert_int_equal(in[i],
			    chunk[(got + (size_t)i) % 65536]);
		got += (size_t)n;
		while (sent < total) {
			ssize_t w = write(c[0], chunk + sent % 65536,
			    65536 - sent % 65536);

			if (w <= 0)
				break;
			sent += (size_t)w;
		}
	}
	assert_int_equal(got, total);
	free(chunk);
	free(in);
	(void)close(c[0]);
	(void)close(u[0]);
	worker_fixture_run_until_closed(f, s);
	session_unref(s);
}

static void
test_proxy_session_relay_idle_timeout(void **state)
{
	struct worker_fixture *f = *state;
	int c[2], u[2];
	bool eof;
	char buf[8];
	struct session *s = relay_session(f, c, u, NULL);

	assert_int_equal(read_some(f, c[0], buf, sizeof(buf), &eof, NULL), 0);
	assert_true(eof);
	assert_true(session_is_closed(s));
	assert_string_equal(s->close_reason, "idle timeout");
	(void)close(c[0]);
	(void)close(u[0]);
	session_unref(s);
}

/*
 * A half wrapped in TLS (an OpenSSL filter bufferevent, as interception
 * will make): the test's end of the socket is a raw peer that keeps every
 * byte it reads and runs its own TLS client over memory BIOs, so it sees
 * exactly what went over the wire.
 */
struct tls_test {
	EVP_PKEY *key;
	X509 *cert;
	SSL_CTX *server;
	SSL_CTX *client;
};

struct tls_peer {
	int fd;
	SSL *ssl;
	BIO *in;  /* bytes from the socket, for ssl */
	BIO *out; /* ssl's records, for the socket */
	uint8_t raw[1 << 16];
	size_t raw_len; /* every byte the socket brought */
	bool raw_eof;
};

/* A throwaway self-signed certificate, trusted by the client context. */
static void
tls_test_init(struct tls_test *t)
{
	X509_NAME *name;

	t->key = EVP_EC_gen("P-256");
	assert_non_null(t->key);
	t->cert = X509_new();
	assert_non_null(t->cert);
	assert_int_equal(X509_set_version(t->cert, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(t->cert), 1),
	    1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(t->cert), -60));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(t->cert), 3600));
	name = X509_get_subject_name(t->cert);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
			     (const unsigned char *)"proxy.test", -1, -1, 0),
	    1);
	assert_int_equal(X509_set_issuer_name(t->cert, name), 1);
	assert_int_equal(X509_set_pubkey(t->cert, t->key), 1);
	assert_true(X509_sign(t->cert, t->key, EVP_sha256()) > 0);
	t->server = SSL_CTX_new(TLS_server_method());
	assert_non_null(t->server);
	assert_int_equal(SSL_CTX_use_certificate(t->server, t->cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(t->server, t->key), 1);
	t->client = SSL_CTX_new(TLS_client_method());
	assert_non_null(t->client);
	assert_int_equal(X509_STORE_add_cert(SSL_CTX_get_cert_store(t->client),
			     t->cert),
	    1);
	SSL_CTX_set_verify(t->client, SSL_VERIFY_PEER, NULL);
}

static void
tls_test_done(struct tls_test *t)
{
	SSL_CTX_free(t->client);
	SSL_CTX_free(t->server);
	X509_free(t->cert);
	EVP_PKEY_free(t->key);
}

/* Wrap the client half of s in a TLS server, as interception will. */
static void
tls_wrap_client(struct worker_fixture *f, struct tls_test *t, struct session *s)
{
	SSL *ssl = SSL_new(t->server);
	struct bufferevent *tls;

	assert_non_null(ssl);
	tls = bufferevent_openssl_filter_new(f->base, s->client.bev, ssl,
	    BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	assert_non_null(tls);
	session_half_wrap(&s->client, tls);
	assert_int_equal(s->client.fd, -1);
	assert_int_equal(session_bev_enable(s->client.bev, EV_READ), 0);
}

/* One turn: the loop runs, the socket's bytes go to ssl (and are kept),
 * ssl's records go to the socket. */
static void
tls_peer_pump(struct worker_fixture *f, struct tls_peer *p)
{
	char buf[16384];
	ssize_t n;
	int k;

	(void)event_base_loop(f->base, EVLOOP_NONBLOCK);
	while ((n = read(p->fd, buf, sizeof(buf))) > 0) {
		assert_true(p->raw_len + (size_t)n <= sizeof(p->raw));
		memcpy(p->raw + p->raw_len, buf, (size_t)n);
		p->raw_len += (size_t)n;
		assert_int_equal(BIO_write(p->in, buf, (int)n), (int)n);
	}
	if (n == 0)
		p->raw_eof = true;
	while ((k = BIO_read(p->out, buf, sizeof(buf))) > 0)
		assert_int_equal(write(p->fd, buf, (size_t)k), k);
	(void)poll(NULL, 0, 1);
}

/* A TLS client on fd; returns once its handshake is done. */
static void
tls_peer_connect(struct worker_fixture *f, struct tls_test *t,
    struct tls_peer *p, int fd)
{
	int r = 0;

	p->fd = fd;
	p->ssl = SSL_new(t->client);
	p->in = BIO_new(BIO_s_mem());
	p->out = BIO_new(BIO_s_mem());
	assert_non_null(p->ssl);
	assert_non_null(p->in);
	assert_non_null(p->out);
	BIO_set_mem_eof_return(p->in, -1);
	SSL_set_bio(p->ssl, p->in, p->out);
	SSL_set_connect_state(p->ssl);
	for (int i = 0; i < 5000 && r != 1; i++) {
		r = SSL_do_handshake(p->ssl);
		if (r != 1)
			assert_int_equal(SSL_get_error(p->ssl, r),
			    SSL_ERROR_WANT_READ);
		tls_peer_pump(f, p);
	}
	assert_int_equal(r, 1);
}

/* Decrypt until n bytes or the TLS close (*ret_closed). */
static size_t
tls_peer_read(struct worker_fixture *f, struct tls_peer *p, char *buf, size_t n,
    bool *ret_closed)
{
	size_t got = 0;

	*ret_closed = false;
	for (int i = 0; i < 5000 && got < n; i++) {
		int r = SSL_read(p->ssl, buf + got, (int)(n - got));

		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (SSL_get_error(p->ssl, r) == SSL_ERROR_ZERO_RETURN) {
			*ret_closed = true;
			break;
		}
		assert_int_equal(SSL_get_error(p->ssl, r), SSL_ERROR_WANT_READ);
		assert_false(p->raw_eof);
		tls_peer_pump(f, p);
	}
	return got;
}

static void
tls_peer_done(struct tls_peer *p)
{
	SSL_free(p->ssl); /* and its BIOs */
	(void)close(p->fd);
}

/* True when raw is a sequence of whole TLS records (RFC 8446 §5.1) and
 * nothing else: no byte went past the TLS layer. */
static bool
tls_records_only(const uint8_t *raw, size_t n)
{
	size_t off = 0;

	while (off < n) {
		size_t len;

		if (n - off < 5 || raw[off] < 20 || raw[off] > 23 ||
		    raw[off + 1] != 3)
			return false;
		len = (size_t)raw[off + 3] << 8 | raw[off + 4];
		if (len > 16384 + 256 || n - off - 5 < len)
			return false;
		off += 5 + len;
	}
	return true;
}

static void
test_proxy_session_tls_half_core_writes_through_the_layer(void **state)
{
	struct worker_fixture *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct tls_test t;
	struct tls_peer *p = calloc(1, sizeof(*p));
	struct evbuffer *b = evbuffer_new();
	char buf[64];
	bool closed;
	struct session *s;
	int c[2];

	assert_non_null(p);
	assert_non_null(b);
	tls_test_init(&t);
	pair(c);
	(void)proxy_session_add(f->proxy, 1000);
	s = session_new(f->w, c[1], (struct sockaddr *)&sa, sizeof(sa),
	    &test_frontend);
	assert_non_null(s);
	session_ref(s);
	tls_wrap_client(f, &t, s);
	tls_peer_connect(f, &t, p, c[0]);
	/* Both ways the core sends: from a buffer and from memory. */
	assert_int_equal(evbuffer_add(b, "PLAINTEXT-ONE", 13), 0);
	assert_int_equal(session_send(&s->client, b, 13), 0);
	assert_int_equal(evbuffer_get_length(b), 0);
	assert_int_equal(session_send_bytes(&s->client, "PLAINTEXT-TWO", 13),
	    0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(tls_peer_read(f, p, buf, 26, &closed), 26);
	assert_string_equal(buf, "PLAINTEXT-ONEPLAINTEXT-TWO");
	/* The shutdown path: EOF is a close_notify inside TLS, never a FIN
	 * under it. */
	session_linger(s);
	assert_true(s->client.shut);
	assert_int_equal(tls_peer_read(f, p, buf, sizeof(buf), &closed), 0);
	assert_true(closed);
	assert_true(SSL_get_shutdown(p->ssl) & SSL_RECEIVED_SHUTDOWN);
	for (int i = 0; i < 20; i++)
		tls_peer_pump(f, p);
	assert_false(p->raw_eof);
	assert_true(p->raw_len > 0);
	assert_true(tls_records_only(p->raw, p->raw_len));
	assert_null(memmem(p->raw, p->raw_len, "PLAINTEXT", 9));
	session_close(s, "test over");
	session_unref(s);
	evbuffer_free(b);
	tls_peer_done(p);
	free(p);
	tls_test_done(&t);
}

static void
test_proxy_session_tls_half_relay_never_splices(void **state)
{
	struct worker_fixture *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct tls_test t;
	struct tls_peer *p = calloc(1, sizeof(*p));
	char buf[64];
	bool closed, eof;
	struct session *s;
	int c[2], u[2];

	assert_non_null(p);
	tls_test_init(&t);
	pair(c);
	pair(u);
	(void)proxy_session_add(f->proxy, 1000);
	s = session_new(f->w, c[1], (struct sockaddr *)&sa, sizeof(sa),
	    &test_frontend);
	assert_non_null(s);
	session_ref(s);
	s->conf = proxy_conf_ref(worker_get_conf(f->w));
	tls_wrap_client(f, &t, s);
	tls_peer_connect(f, &t, p, c[0]);
	session_set_state(s, SESSION_ST_RESOLVING);
	session_set_state(s, SESSION_ST_CONNECTING);
	session_attach_upstream(s, session_bev_new(s, u[1]), u[1]);
	session_set_state(s, SESSION_ST_RELAY);
	assert_false(session_can_splice(s));
	assert_int_equal(relay_start(s), 0);
	/* Up: decrypted by the layer, plain on the raw upstream. */
	assert_int_equal(SSL_write(p->ssl, "HELLO-UP", 8), 8);
	tls_peer_pump(f, p);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(read_some(f, u[0], buf, 8, &eof, NULL), 8);
	assert_string_equal(buf, "HELLO-UP");
	/* Down, twice: the second round starts with every buffer empty,
	 * where a raw tunnel switches to splice(2). */
	for (int round = 0; round < 2; round++) {
		const char *msg = round ? "SECRET-TWO" : "SECRET-ONE";

		assert_int_equal(write(u[0], msg, 10), 10);
		memset(buf, 0, sizeof(buf));
		assert_int_equal(tls_peer_read(f, p, buf, 10, &closed), 10);
		assert_string_equal(buf, msg);
	}
	/* The upstream's EOF reaches the client as a close_notify... */
	assert_int_equal(shutdown(u[0], SHUT_WR), 0);
	assert_int_equal(tls_peer_read(f, p, buf, sizeof(buf), &closed), 0);
	assert_true(closed);
	assert_false(p->raw_eof);
	/* ...and the client's close_notify reaches the upstream as EOF. */
	assert_false(session_is_closed(s));
	assert_int_equal(SSL_shutdown(p->ssl), 1);
	for (int i = 0; i < 5000 && !session_is_closed(s); i++)
		tls_peer_pump(f, p);
	assert_true(session_is_closed(s));
	assert_string_equal(s->close_reason, "done");
	assert_int_equal(read_some(f, u[0], buf, sizeof(buf), &eof, NULL), 0);
	assert_true(eof);
	assert_int_equal(s->client.bytes, 8);
	assert_int_equal(s->upstream.bytes, 20);
	assert_true(tls_records_only(p->raw, p->raw_len));
	assert_null(memmem(p->raw, p->raw_len, "SECRET", 6));
	session_unref(s);
	(void)close(u[0]);
	tls_peer_done(p);
	free(p);
	tls_test_done(&t);
}

/* An HTTP session on a socketpair; returns the test's end. */
static int
http_session(struct worker_fixture *f, struct session **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int c[2];

	pair(c);
	(void)proxy_session_add(f->proxy, 1000);
	*ret = session_new(f->w, c[1], (struct sockaddr *)&sa, sizeof(sa),
	    &session_http_frontend);
	assert_non_null(*ret);
	session_ref(*ret);
	return c[0];
}

static void
test_proxy_session_http_block_keeps_connection(void **state)
{
	struct worker_fixture *f = *state;
	struct session *s;
	int fd = http_session(f, &s);
	char buf[4096];
	bool eof;
	size_t n;
	static const char req[] = "GET http://denied.test/ HTTP/1.1\r\n"
				  "Host: denied.test\r\n\r\n";

	assert_int_equal(write(fd, req, sizeof(req) - 1),
	    (ssize_t)sizeof(req) - 1);
	memset(buf, 0, sizeof(buf));
	n = read_some(f, fd, buf, sizeof(buf) - 1, &eof, "}\n");
	assert_true(n > 0);
	assert_non_null(strstr(buf, "HTTP/1.1 403 Forbidden\r\n"));
	assert_non_null(strstr(buf, "x-proxy-error: blocked-by-denylist"));
	assert_non_null(strstr(buf, "\"reason\":\"denied\""));
	assert_false(session_is_closed(s));
	assert_int_equal(s->state, SESSION_ST_HTTP_HEAD);
	(void)close(fd);
	worker_fixture_run_until_closed(f, s);
	assert_string_equal(s->close_reason, "client closed");
	session_unref(s);
}

static void
test_proxy_session_http_smuggling_closes(void **state)
{
	struct worker_fixture *f = *state;
	struct session *s;
	int fd = http_session(f, &s);
	char buf[4096];
	bool eof = false;
	size_t n = 0;
	static const char req[] = "POST http://allowed.test/ HTTP/1.1\r\n"
				  "Host: allowed.test\r\nContent-Length: 3\r\n"
				  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";

	assert_int_equal(write(fd, req, sizeof(req) - 1),
	    (ssize_t)sizeof(req) - 1);
	memset(buf, 0, sizeof(buf));
	while (!eof && n < sizeof(buf) - 1)
		n += read_some(f, fd, buf + n, sizeof(buf) - 1 - n, &eof, NULL);
	assert_non_null(strstr(buf, "HTTP/1.1 400 Bad Request\r\n"));
	assert_non_null(strstr(buf, "Connection: close\r\n"));
	assert_true(eof);
	/* It lingers, reading, until the client closes too. */
	(void)close(fd);
	worker_fixture_run_until_closed(f, s);
	session_unref(s);
}

static void
test_proxy_session_http_head_deadline_is_408(void **state)
{
	struct worker_fixture *f = *state;
	struct session *s;
	int fd = http_session(f, &s);
	char buf[4096];
	bool eof = false;
	size_t n = 0;

	assert_int_equal(write(fd, "GET http://allowed.test/", 24), 24);
	memset(buf, 0, sizeof(buf));
	while (!eof && n < sizeof(buf) - 1)
		n += read_some(f, fd, buf + n, sizeof(buf) - 1 - n, &eof, NULL);
	assert_non_null(strstr(buf, "HTTP/1.1 408 Request Timeout\r\n"));
	(void)close(fd);
	worker_fixture_run_until_closed(f, s);
	session_unref(s);
}

static void
test_proxy_session_http_pipelined_blocks_in_order(void **state)
{
	struct worker_fixture *f = *state;
	struct session *s;
	int fd = http_session(f, &s);
	char buf[8192];
	bool eof = false;
	size_t n = 0;
	char *second;
	char *third;
	static const char reqs[] =
	    "GET http://denied.test/1 HTTP/1.1\r\nHost: denied.test\r\n\r\n"
	    "GET http://other.test/2 HTTP/1.1\r\nHost: other.test\r\n\r\n"
	    "GET http://denied.test/3 HTTP/1.1\r\nHost: denied.test\r\n"
	    "Connection: close\r\n\r\n";

	assert_int_equal(write(fd, reqs, sizeof(reqs) - 1),
	    (ssize_t)sizeof(reqs) - 1);
	memset(buf, 0, sizeof(buf));
	while (!eof && n < sizeof(buf) - 1)
		n += read_some(f, fd, buf + n, sizeof(buf) - 1 - n, &eof, NULL);
	assert_true(eof);
	/* Three answers, in the order of the requests. */
	assert_memory_equal(buf, "HTTP/1.1 403", 12);
	second = strstr(buf + 1, "HTTP/1.1 403");
	assert_non_null(second);
	third = strstr(second + 1, "HTTP/1.1 403");
	assert_non_null(third);
	assert_non_null(
	    memmem(buf, (size_t)(second - buf), "blocked-by-denylist", 19));
	assert_non_null(memmem(second, (size_t)(third - second),
	    "blocked-by-allowlist", 20));
	assert_non_null(strstr(third, "blocked-by-denylist"));
	assert_non_null(strstr(third, "Connection: close"));
	assert_int_equal(s->requests, 3);
	(void)close(fd);
	session_unref(s);
}

/*
 * Memory runs out while a chunked request body is re-chunked: the chunk
 * can't be added to what goes upstream (the evbuffer is frozen, so
 * evbuffer_add() fails as it does when allocation fails). The exchange
 * must fail, not go on without the chunk.
 */
static void
test_proxy_session_http_lost_chunk_fails_the_exchange(void **state)
{
	struct worker_fixture *f = *state;
	struct session *s;
	struct bufferevent *up;
	char buf[4096];
	bool eof;
	int u[2], fd;
	static const char head[] = "POST http://allowed.test/ HTTP/1.1\r\n"
				   "Host: allowed.test\r\n"
				   "Transfer-Encoding: chunked\r\n\r\n";

	/* A kept-alive connection to allowed.test:80 waits in the pool,
	 * under the key session_http_route.c gives it. */
	pair(u);
	up = bufferevent_socket_new(f->base, u[1],
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	assert_non_null(up);
	pool_put(worker_get_pool(f->w), "direct|allowed.test|80",
	    worker_get_conf(f->w)->generation, up, u[1]);
	fd = http_session(f, &s);
	assert_int_equal(write(fd, head, sizeof(head) - 1),
	    (ssize_t)sizeof(head) - 1);
	memset(buf, 0, sizeof(buf));
	assert_true(
	    read_some(f, u[0], buf, sizeof(buf) - 1, &eof, "\r\n\r\n") > 0);
	assert_non_null(strstr(buf, "POST / HTTP/1.1\r\n"));
	assert_int_equal(s->state, SESSION_ST_RELAY);
	assert_int_equal(evbuffer_freeze(session_http_of(s)->wire, 0), 0);
	assert_int_equal(write(fd, "5\r\nhello\r\n", 10), 10);
	worker_fixture_run_until_closed(f, s);
	assert_string_equal(s->close_reason, "out of memory");
	/* Not a byte of the body went upstream, and both ends were closed. */
	assert_int_equal(read_some(f, u[0], buf, sizeof(buf), &eof, NULL), 0);
	assert_true(eof);
	(void)read_some(f, fd, buf, sizeof(buf), &eof, NULL);
	assert_true(eof);
	(void)close(u[0]);
	(void)close(fd);
	session_unref(s);
}

struct dial_result {
	bool done;
	int fd;
	int err;
};

static void
dial_result_cb(void *arg, int fd, int err)
{
	struct dial_result *r = arg;

	r->done = true;
	r->fd = fd;
	r->err = err;
}

/* Dial 127.0.0.1:port; returns the result once the callback ran. */
static struct dial_result
dial_loopback(struct worker_fixture *f, uint16_t port, bool public_only)
{
	struct policy_addr a = { .family = AF_INET, .bytes = { 127, 0, 0, 1 } };
	struct dial_result r = { .fd = -1 };
	struct dial *d = dial_start(f->w, NULL, &a, 1, port, public_only, 2000,
	    dial_result_cb, &r);

	assert_non_null(d);
	for (int i = 0; i < 400 && !r.done; i++)
		pump(f, 5);
	assert_true(r.done);
	return r;
}

/* The connect-time check (issue 11, defect 4): a request judged with
 * allow_local_binding off never reaches a local address, whatever
 * produced the address. */
static void
test_proxy_session_dial_public_only_refuses_local(void **state)
{
	struct worker_fixture *f = *state;
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct dial_result r;

	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	r = dial_loopback(f, ntohs(sin.sin_port), true);
	assert_int_equal(r.fd, -1);
	assert_int_equal(r.err, -EACCES);
	/* the same address, when local destinations may be dialed */
	r = dial_loopback(f, ntohs(sin.sin_port), false);
	assert_true(r.fd >= 0);
	(void)close(r.fd);
	(void)close(lfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proxy_session_transition_table),
		cmocka_unit_test_setup_teardown(
		    test_proxy_session_dial_public_only_refuses_local,
		    setup_default, teardown),
		cmocka_unit_test_setup_teardown(
		    test_proxy_session_relay_forwards_early_bytes_and_both_ways,
		    setup_default, teardown),
		cmocka_unit_test_setup_teardown(
		    test_proxy_session_relay_half_close_both_ways,
		    setup_default, teardown),
		cmocka_unit_test_setup_teardown(
		    test_proxy_session_relay_backpressure_keeps_buffers_bounded,
		    setup_default, teardown),
		cmocka_unit_test_setup_teardown(
		    test_proxy_session_relay_idle_timeout, setup_short_idle,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_proxy_session_tunnel_hands_over_to_the_relay,
		    setup_default, teardown),
		cmocka_unit_test_setup_teardown(
		    test_proxy_session_tls_half_core_writes_through_the_layer,
		    setup_default, teardown),
		cmocka_unit_test_setup_teardown(
		    test_proxy_session_tls_half_relay_never_splices,
		    setup_default, teardown),
		cmocka_unit_test_setup_teardown(
		    test_proxy_session_http_block_keeps_connection,
		    setup_default, teardown),
		cmocka_unit_test_setup_teardown(
		    test_proxy_session_http_smuggling_closes, setup_default,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_proxy_session_http_head_deadline_is_408,
		    setup_short_head, teardown),
		cmocka_unit_test_setup_teardown(
		    test_proxy_session_http_pipelined_blocks_in_order,
		    setup_default, teardown),
		cmocka_unit_test_setup_teardown(
		    test_proxy_session_http_lost_chunk_fails_the_exchange,
		    setup_default, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
