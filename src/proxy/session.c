/* SPDX-License-Identifier: MIT */
/*
 * The session core: states and their transition table, the one timer, the
 * one way out and the access-log line. Front ends own the protocol; this
 * file owns the lifetime.
 */
#include "proxy/session.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "proxy/dial.h"
#include "proxy/relay.h"
#include "proxy/tcpopt.h"
#include "proxy/worker.h"
#include "util/compiler.h"
#include "util/limits.h"
#include "util/strutil.h"

static const char *const session_state_names[_SESSION_ST_MAX] = {
	[SESSION_ST_NEW] = "new",
	[SESSION_ST_HTTP_HEAD] = "http-head",
	[SESSION_ST_SOCKS_GREETING] = "socks-greeting",
	[SESSION_ST_SOCKS_AUTH] = "socks-auth",
	[SESSION_ST_SOCKS_REQUEST] = "socks-request",
	[SESSION_ST_RESOLVING] = "resolving",
	[SESSION_ST_CONNECTING] = "connecting",
	[SESSION_ST_TLS_ACCEPT] = "tls-accept",
	[SESSION_ST_RELAY] = "relay",
	[SESSION_ST_DRAINING] = "draining",
	[SESSION_ST_CLOSED] = "closed",
};

#define ST(x) (1u << SESSION_ST_##x)

/* Allowed successors of each state; any state may close. RELAY returns to
 * HTTP_HEAD after a kept-alive exchange, and to CONNECTING when a reused
 * upstream connection turned out to be dead before it answered. A SOCKS5
 * UDP ASSOCIATE goes from its request straight to relaying datagrams. An
 * intercepted CONNECT goes from its verdict to the TLS handshake with the
 * client, then reads the requests inside. */
static const unsigned session_next[_SESSION_ST_MAX] = {
	[SESSION_ST_NEW] = ST(HTTP_HEAD) | ST(SOCKS_GREETING),
	[SESSION_ST_HTTP_HEAD] = ST(RESOLVING) | ST(DRAINING),
	[SESSION_ST_SOCKS_GREETING] =
	    ST(SOCKS_AUTH) | ST(SOCKS_REQUEST) | ST(DRAINING),
	[SESSION_ST_SOCKS_AUTH] = ST(SOCKS_REQUEST) | ST(DRAINING),
	[SESSION_ST_SOCKS_REQUEST] = ST(RESOLVING) | ST(RELAY) | ST(DRAINING),
	[SESSION_ST_RESOLVING] = ST(CONNECTING) | ST(RELAY) | ST(HTTP_HEAD) |
	    ST(TLS_ACCEPT) | ST(DRAINING),
	[SESSION_ST_CONNECTING] =
	    ST(RELAY) | ST(TLS_ACCEPT) | ST(HTTP_HEAD) | ST(DRAINING),
	[SESSION_ST_TLS_ACCEPT] = ST(RELAY) | ST(HTTP_HEAD) | ST(DRAINING),
	[SESSION_ST_RELAY] = ST(HTTP_HEAD) | ST(CONNECTING) | ST(DRAINING),
	[SESSION_ST_DRAINING] = 0,
	[SESSION_ST_CLOSED] = 0,
};

static atomic_uint_fast64_t session_next_id = 1;

/* What a session is after session_tunnel(): the relay owns both halves
 * and their callbacks, and there is no front-end state. Without hooks,
 * the timer closes the session with its reason and a stopping worker lets
 * the tunnel run. It never starts a session. */
static const struct session_frontend session_tunnel_frontend = {
	.name = "tunnel",
};

const char *
session_state_name(enum session_state st)
{
	if ((unsigned)st >= _SESSION_ST_MAX)
		return "invalid";
	return session_state_names[st];
}

const char *
session_timer_reason(enum session_timer t)
{
	static const char *const reasons[_SESSION_TIMER_MAX] = {
		[SESSION_TIMER_NONE] = "timeout",
		[SESSION_TIMER_HEAD] = "head timeout",
		[SESSION_TIMER_DECIDER] = "decider timeout",
		[SESSION_TIMER_IDLE] = "idle timeout",
		[SESSION_TIMER_CHAIN] = "upstream proxy timeout",
		[SESSION_TIMER_DRAIN] = "drain timeout",
	};

	if ((unsigned)t >= _SESSION_TIMER_MAX)
		return "timeout";
	return reasons[t];
}

bool
session_transition_ok(enum session_state from, enum session_state to)
{
	if ((unsigned)from >= _SESSION_ST_MAX ||
	    (unsigned)to >= _SESSION_ST_MAX)
		return false;
	if (from == SESSION_ST_CLOSED)
		return false;
	if (to == SESSION_ST_CLOSED)
		return true;
	return (session_next[from] & (1u << to)) != 0;
}

void
session_set_state(struct session *s, enum session_state st)
{
	if (s->state == st)
		return;
	/* A wrong transition is a bug in our code, never a peer's doing. */
	assert(session_transition_ok(s->state, st));
	slog_debug(s, "%s -> %s", session_state_name(s->state),
	    session_state_name(st));
	s->state = st;
}

static void
session_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	enum session_timer kind = s->timer_kind;
	uint64_t now = worker_now_ms(s->worker);

	(void)fd;
	(void)what;
	if (session_is_closed(s))
		return;
	if (kind == SESSION_TIMER_IDLE) {
		uint64_t idle = s->conf ?
		    s->conf->limits.idle_timeout_ms :
		    worker_get_conf(s->worker)->limits.idle_timeout_ms;

		/* Activity since the timer was armed moves the deadline. */
		if (s->last_active_ms + idle > now) {
			session_timer_set(s, kind,
			    s->last_active_ms + idle - now);
			return;
		}
	}
	s->timer_kind = SESSION_TIMER_NONE;
	if (s->fe->timeout)
		s->fe->timeout(s, kind);
	else
		session_close(s, session_timer_reason(kind));
}

void
session_timer_set(struct session *s, enum session_timer kind, uint64_t ms)
{
	if (session_is_closed(s))
		return;
	s->timer_kind = kind;
	if (kind == SESSION_TIMER_IDLE)
		s->last_active_ms = worker_now_ms(s->worker);
	(void)worker_arm(s->timer, ms);
}

void
session_timer_clear(struct session *s)
{
	s->timer_kind = SESSION_TIMER_NONE;
	if (s->timer)
		(void)event_del(s->timer);
}

void
session_touch(struct session *s)
{
	s->last_active_ms = worker_now_ms(s->worker);
}

struct bufferevent *
session_bev_new(struct session *s, int fd)
{
	struct bufferevent *bev;

	/* TCP_NODELAY is already set: accepted sockets inherit it from the
	 * listener (proxy_bind()), dialed ones get it in dial.c. */
	bev = bufferevent_socket_new(worker_get_base(s->worker), fd,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!bev)
		(void)close(fd);
	return bev;
}

int
session_bev_enable(struct bufferevent *bev, short events)
{
	short missing = events & ~bufferevent_get_enabled(bev);

	return missing ? bufferevent_enable(bev, missing) : 0;
}

void
session_linger(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->client.bev);

	session_shut(&s->client);
	evbuffer_drain(in, evbuffer_get_length(in));
	(void)session_bev_enable(s->client.bev, EV_READ);
	session_timer_set(s, SESSION_TIMER_DRAIN, LIMIT_LINGER_MS);
}

int
session_await_head(struct session *s, enum session_state st,
    void (*readcb)(struct bufferevent *bev, void *arg),
    void (*writecb)(struct bufferevent *bev, void *arg),
    void (*eventcb)(struct bufferevent *bev, short what, void *arg))
{
	bufferevent_setcb(s->client.bev, readcb, writecb, eventcb, s);
	bufferevent_setwatermark(s->client.bev, EV_READ, 0, LIMIT_RELAY_HIWAT);
	session_set_state(s, st);
	session_timer_set(s, SESSION_TIMER_HEAD,
	    worker_get_conf(s->worker)->limits.head_timeout_ms);
	return session_bev_enable(s->client.bev, EV_READ) < 0 ? -ENOMEM : 0;
}

void
session_bev_free(struct bufferevent *bev, int fd)
{
	if (!bev)
		return;
	(void)bufferevent_disable(bev, EV_READ | EV_WRITE);
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	/* Detach the socket and close it ourselves: a freed bufferevent may
	 * stay around until its deferred callbacks ran, and a session's
	 * sockets must be gone when its close is reported. A wrapped one's
	 * socket belongs to the layer under it, which closes it when freed
	 * (XXX: possibly a loop turn later). */
	if (fd >= 0) {
		(void)bufferevent_setfd(bev, -1);
		(void)close(fd);
	}
	bufferevent_free(bev);
}

int
session_send(struct half *h, struct evbuffer *src, size_t n)
{
	struct evbuffer *out = bufferevent_get_output(h->bev);

	/* Queued bytes go first; only an idle socket is written at once.
	 * Write interest is registered only for what the socket did not
	 * take: an answer that fits costs one writev and no wake-up. */
	if (n > 0 && h->fd >= 0 && evbuffer_get_length(out) == 0) {
		int w = evbuffer_write_atmost(src, h->fd, (ev_ssize_t)n);

		if (w > 0)
			n -= (size_t)w;
	}
	if (n == 0)
		return 0;
	if (evbuffer_remove_buffer(src, out, n) != (int)n)
		return -ENOMEM;
	return session_bev_enable(h->bev, EV_WRITE) < 0 ? -ENOMEM : 0;
}

int
session_send_bytes(struct half *h, const void *p, size_t n)
{
	struct evbuffer *out = bufferevent_get_output(h->bev);
	ssize_t w = 0;

	if (n > 0 && h->fd >= 0 && evbuffer_get_length(out) == 0) {
		w = send(h->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0)
			w = 0; /* the bufferevent meets the error */
	}
	if ((size_t)w == n)
		return 0;
	if (evbuffer_add(out, (const char *)p + w, n - (size_t)w) < 0)
		return -ENOMEM;
	return session_bev_enable(h->bev, EV_WRITE) < 0 ? -ENOMEM : 0;
}

void
session_quickack(struct half *h)
{
	/* A socket option on a TLS half's socket moves no byte past its
	 * layer: the kernel's acknowledgements are the same under TLS. */
	int fd = h->fd >= 0 || !h->bev ? h->fd : bufferevent_getfd(h->bev);

	if (fd >= 0)
		(void)tcpopt_quickack(fd);
}

void
session_half_wrap(struct half *h, struct bufferevent *outer)
{
	h->bev = outer;
	h->fd = -1;
}

/* Replace h's socket bufferevent by an OpenSSL one on the same socket:
 * OpenSSL reads and writes the socket itself, a record per system call,
 * where a filter over the socket bufferevent would read it 4 KiB at a
 * time (libevent 2.1's evbuffer_read() cap) and copy every byte once
 * more each way through the bufferevent BIO. */
static struct bufferevent *
session_half_tls_socket(struct event_base *base, struct half *h, SSL *ssl,
    enum bufferevent_ssl_state st)
{
	struct bufferevent *tls;
	int fd = h->fd;

	(void)bufferevent_disable(h->bev, EV_READ | EV_WRITE);
	bufferevent_setcb(h->bev, NULL, NULL, NULL, NULL);
	(void)bufferevent_setfd(h->bev, -1);
	bufferevent_free(h->bev);
	h->bev = NULL;
	tls = bufferevent_openssl_socket_new(base, fd, ssl, st,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!tls)
		(void)close(fd);
	return tls;
}

int
session_half_tls(struct session *s, struct half *h, SSL *ssl, bool accept)
{
	struct event_base *base = worker_get_base(s->worker);
	enum bufferevent_ssl_state st =
	    accept ? BUFFEREVENT_SSL_ACCEPTING : BUFFEREVENT_SSL_CONNECTING;
	struct bufferevent *tls;

	/* The filter owns ssl even when it cannot be made (STYLE §6), and so
	 * does the socket variant. Bytes already read (a ClientHello sent
	 * with the CONNECT) or still queued (the end of the 200) are in the
	 * socket bufferevent: then the filter goes over it, reads the former
	 * and writes behind the latter. */
	if (h->fd >= 0 &&
	    evbuffer_get_length(bufferevent_get_input(h->bev)) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(h->bev)) == 0)
		tls = session_half_tls_socket(base, h, ssl, st);
	else
		tls = bufferevent_openssl_filter_new(base, h->bev, ssl, st,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!tls) {
		h->bev = NULL;
		h->fd = -1;
		return -ENOMEM;
	}
	session_half_wrap(h, tls);
	return 0;
}

void
session_shut(struct half *h)
{
	SSL *ssl;

	if (h->shut || !h->bev)
		return;
	h->shut = true;
	if (h->fd >= 0) {
		(void)shutdown(h->fd, SHUT_WR);
		return;
	}
	/* A FIN under TLS would be a truncation, not an end; the alert goes
	 * out through the layer, behind everything written before it. A
	 * handshake still in progress has nothing to end (SSL_shutdown()
	 * refuses), and the close that follows ends it. */
	ssl = bufferevent_openssl_get_ssl(h->bev);
	if (ssl && SSL_shutdown(ssl) < 0)
		ERR_clear_error();
}

struct splice_dir *
session_splice(struct session *s, struct half *src, uint64_t limit,
    splice_fn cb, void *arg)
{
	struct worker *w = s->worker;

	if (!session_can_splice(s))
		return NULL;
	return splice_dir_new(worker_get_base(w), worker_get_pipes(w), src->fd,
	    src->peer->fd, limit, cb, arg);
}

int
session_local_address(const struct session *s,
    struct sockaddr_storage *ret_addr, socklen_t *ret_len)
{
	socklen_t len = sizeof(*ret_addr);

	if (s->client.fd < 0)
		return -EBADF;
	if (getsockname(s->client.fd, (struct sockaddr *)ret_addr, &len) < 0)
		return -errno;
	*ret_len = len;
	return 0;
}

void
session_tunnel(struct session *s)
{
	if (s->fe->free)
		s->fe->free(s);
	s->fe_state = NULL;
	s->fe = &session_tunnel_frontend;
	session_set_state(s, SESSION_ST_RELAY);
	slog_debug(s, "tunnel to %s open", LOG_US(s->target));
	if (relay_start(s) < 0)
		session_close(s, "out of memory");
}

void
session_attach_upstream(struct session *s, struct bufferevent *bev, int fd)
{
	assert(!s->upstream.bev);
	s->upstream = (struct half){ .bev = bev, .fd = fd, .peer = &s->client };
}

struct bufferevent *
session_take_upstream(struct session *s, int *ret_fd)
{
	struct bufferevent *bev = s->upstream.bev;

	*ret_fd = s->upstream.fd;
	s->upstream.fd = -1;
	if (!bev)
		return NULL;
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	s->upstream.bev = NULL;
	return bev;
}

void
session_drop_upstream(struct session *s)
{
	int fd;
	struct bufferevent *bev = session_take_upstream(s, &fd);

	session_bev_free(bev, fd);
	s->upstream.eof = false;
	s->upstream.shut = false;
}

void
session_note_target(struct session *s, const char *host, uint16_t port)
{
	bool v6 = strchr(host, ':') != NULL;

	(void)snprintf(s->target, sizeof(s->target), v6 ? "[%s]:%u" : "%s:%u",
	    host, (unsigned)port);
}

void
session_note_verdict(struct session *s, const char *decision,
    const char *reason, const char *rule)
{
	s->verdict = decision;
	s->reason = reason;
	(void)strlcpy(s->rule, rule ? rule : "", sizeof(s->rule));
}

struct session *
session_new(struct worker *w, int fd, const struct sockaddr *peer,
    socklen_t peerlen, const struct session_frontend *fe)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s) {
		(void)close(fd);
		proxy_session_release(worker_get_proxy(w));
		log_warn("out of memory accepting a connection");
		return NULL;
	}
	s->id = atomic_fetch_add(&session_next_id, 1);
	s->refs = 1; /* the live reference, dropped by session_close() */
	s->worker = w;
	s->fe = fe;
	s->fe_name = fe->name;
	s->state = SESSION_ST_NEW;
	s->started_ms = worker_now_ms(w);
	s->last_active_ms = s->started_ms;
	if (peerlen <= sizeof(s->peer))
		memcpy(&s->peer, peer, peerlen);
	(void)proxy_sockaddr_format((const struct sockaddr *)&s->peer,
	    s->client_text, sizeof(s->client_text));
	s->client.peer = &s->upstream;
	s->upstream.peer = &s->client;
	s->upstream.fd = -1;
	worker_add_session(w, s);
	s->timer = event_new(worker_get_base(w), -1, 0, session_timer_cb, s);
	s->client.bev = session_bev_new(s, fd);
	s->client.fd = s->client.bev ? fd : -1;
	if (!s->timer || !s->client.bev) {
		session_close(s, "out of memory");
		return NULL;
	}
	slog_debug(s, "accepted %s connection from %s", fe->name,
	    s->client_text);
	if (fe->start(s) < 0) {
		session_close(s, "out of memory");
		return NULL;
	}
	return s;
}

struct session *
session_ref(struct session *s)
{
	s->refs++;
	return s;
}

void
session_unref(struct session *s)
{
	assert(s->refs > 0);
	if (--s->refs == 0 && session_is_closed(s))
		worker_wake_reaper(s->worker);
}

static int
session_log_set(json_t *o, const char *key, json_t *v)
{
	if (!v)
		return -ENOMEM;
	return json_object_set_new(o, key, v);
}

/* STYLE.md §9: one JSON access-log line per session. */
static void
session_access_log_write(struct session *s)
{
	uint64_t now = worker_now_ms(s->worker);
	const struct proxy_conf *c =
	    s->conf ? s->conf : worker_get_conf(s->worker);
	const char *execution_id =
	    proxy_get_execution_id(worker_get_proxy(s->worker));
	json_t *o = json_object();
	char *line = NULL;
	int r = o ? 0 : -ENOMEM;

	if (r == 0)
		r = session_log_set(o, "session",
		    json_integer((json_int_t)s->id));
	if (r == 0)
		r = session_log_set(o, "client", json_string(s->client_text));
	if (r == 0)
		r = session_log_set(o, "frontend", json_string(s->fe_name));
	if (r == 0 && s->target[0])
		r = session_log_set(o, "target", json_string(s->target));
	if (r == 0 && s->verdict)
		r = session_log_set(o, "verdict", json_string(s->verdict));
	if (r == 0 && s->reason)
		r = session_log_set(o, "reason", json_string(s->reason));
	if (r == 0 && s->rule[0])
		r = session_log_set(o, "rule", json_string(s->rule));
	if (r == 0 && c && c->profile)
		r = session_log_set(o, "profile", json_string(c->profile));
	if (r == 0 && execution_id)
		r = session_log_set(o, "execution_id",
		    json_string(execution_id));
	if (r == 0)
		r = session_log_set(o, "requests",
		    json_integer((json_int_t)s->requests));
	if (r == 0)
		r = session_log_set(o, "bytes_up",
		    json_integer((json_int_t)s->client.bytes));
	if (r == 0)
		r = session_log_set(o, "bytes_down",
		    json_integer((json_int_t)s->upstream.bytes));
	if (r == 0)
		r = session_log_set(o, "duration_ms",
		    json_integer((json_int_t)(now - s->started_ms)));
	if (r == 0)
		r = session_log_set(o, "close", json_string(s->close_reason));
	if (r == 0)
		line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (line)
		proxy_access_log(worker_get_proxy(s->worker), line);
}

static void
session_access_log(struct session *s)
{
	if (log_get_level() < LOG_LEVEL_INFO)
		return;
	session_access_log_write(s);
}

void
session_close(struct session *s, const char *reason)
{
	if (session_is_closed(s))
		return;
	s->close_reason = reason;
	slog_debug(s, "closing in %s: %s", session_state_name(s->state),
	    reason);
	session_set_state(s, SESSION_ST_CLOSED);
	session_timer_clear(s);
	s->dial = dial_cancel(s->dial);
	s->relay = relay_free(s->relay);
	if (s->fe->closed)
		s->fe->closed(s);
	session_bev_free(s->client.bev, s->client.fd);
	s->client.bev = NULL;
	s->client.fd = -1;
	session_bev_free(s->upstream.bev, s->upstream.fd);
	s->upstream.bev = NULL;
	s->upstream.fd = -1;
	session_access_log(s); /* under the snapshot it was judged by */
	s->conf = proxy_conf_unref(s->conf);
	worker_remove_session(s->worker, s);
	worker_bury_session(s->worker, s);
	session_unref(s);
}

void
session_reap(struct session *s)
{
	assert(s->refs == 0 && session_is_closed(s));
	if (s->fe->free)
		s->fe->free(s);
	if (s->timer)
		event_free(s->timer);
	free(s);
}
