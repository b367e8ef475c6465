/* SPDX-License-Identifier: MIT */
/*
 * The SOCKS5 front end. The handshake is two messages (greeting, request)
 * parsed incrementally from the client's input; bytes behind them stay
 * buffered and, for CONNECT, are the first bytes of the tunnel.
 *
 * Order of checks for a CONNECT (spec §5, issue 6): the request must parse
 * (0x01, 0x08); the command must be supported (0x07); then the judge loop
 * decides: disabled proxy, limited mode, host policy and decider, name
 * resolution with every address judged (any refusal 0x02). Only then the
 * judged addresses are dialed; a dial that fails is answered with the
 * errmap code (0x03, 0x04, 0x05, 0x06).
 */
#include "proxy/session_socks5.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "proxy/dial.h"
#include "proxy/session_http.h"
#include "proxy/session_socks5_udp.h"
#include "proxy/worker.h"
#include "util/limits.h"
#include "util/strutil.h"
#include "wire/errmap.h"

#define SOCKS_PEEK_SEGMENTS 8

static struct session_socks5 *
session_socks5_of(struct session *s)
{
	return s->fe_state;
}

static struct evbuffer *
session_socks5_client_in(struct session_socks5 *x)
{
	return bufferevent_get_input(x->s->client.bev);
}

/*
 * Endings. A refusal is flushed, then the connection lingers: EOF is sent
 * and whatever the client still sends is read and dropped until it closes
 * (or LIMIT_LINGER_MS passed), so closing never resets the connection
 * under an answer the client has not read yet.
 */
static void
session_socks5_linger(struct session_socks5 *x)
{
	struct session *s = x->s;

	if (s->client.eof) {
		session_close(s, x->close_reason);
		return;
	}
	session_linger(s);
}

/* The answer is queued: send it, then close with reason (static). */
static void
session_socks5_finish(struct session_socks5 *x, const char *reason)
{
	struct session *s = x->s;

	x->close_reason = reason;
	judge_cancel(&x->judge);
	s->dial = dial_cancel(s->dial);
	session_set_state(s, SESSION_ST_DRAINING);
	if (evbuffer_get_length(bufferevent_get_output(s->client.bev)) == 0) {
		session_socks5_linger(x);
		return;
	}
	bufferevent_setwatermark(s->client.bev, EV_WRITE, 0, 0);
	(void)session_bev_enable(s->client.bev, EV_WRITE);
	session_timer_set(s, SESSION_TIMER_DRAIN, LIMIT_LINGER_MS);
}

/* Answer rep with the unspecified address, and the reason for a client
 * that asked for reasons (code may be "" for a network failure). */
static void
session_socks5_refuse(struct session_socks5 *x, uint8_t rep, const char *code,
    const char *message, const char *close_reason)
{
	uint8_t out[SOCKS5_REPLY_MAX + SOCKS5_REASON_MAX];
	size_t n = socks5_reply_encode(rep, NULL, out, sizeof(out));

	if (x->explain)
		n += socks5_reason_encode(code, message, out + n,
		    sizeof(out) - n);
	if (session_send_bytes(&x->s->client, out, n) < 0) {
		session_close(x->s, "out of memory");
		return;
	}
	session_socks5_finish(x, close_reason);
}

static void
session_socks5_fail(struct session_socks5 *x, int err)
{
	struct session *s = x->s;

	slog_info(s, "SOCKS5 %s from %s: %s", LOG_US(s->target), s->client_text,
	    errmap_text(err));
	session_socks5_refuse(x, errmap_socks_reply(err), "", errmap_text(err),
	    errmap_text(err));
}

/*
 * Why a verdict refused, in a few words, for paddock connect's message
 * ("github.com:22 blocked by policy: not in allowlist").
 */
static void
session_socks5_explain(const struct policy_verdict *v, char *out, size_t outsz)
{
	char addr[INET6_ADDRSTRLEN] = "";

	switch (v->reason) {
	case POLICY_REASON_DENIED:
		if (v->matched && v->match.file)
			(void)snprintf(out, outsz,
			    "denied by rule '%s' at %s:%u", v->match.pattern,
			    v->match.file, (unsigned)v->match.line);
		else if (v->matched)
			(void)snprintf(out, outsz, "denied by rule '%s'",
			    v->match.pattern);
		else
			(void)strlcpy(out, "on the denylist", outsz);
		return;
	case POLICY_REASON_NOT_ALLOWED:
		(void)strlcpy(out,
		    v->source == POLICY_SOURCE_DECIDER ?
			"not in allowlist, and the decider said no" :
			"not in allowlist",
		    outsz);
		return;
	case POLICY_REASON_NOT_ALLOWED_LOCAL:
		if (v->has_local_addr) {
			(void)inet_ntop(v->local_addr.family,
			    v->local_addr.bytes, addr, sizeof(addr));
			(void)snprintf(out, outsz,
			    "a %s address (%s), and local addresses are "
			    "blocked",
			    policy_addr_class(&v->local_addr) ?
				policy_addr_class(&v->local_addr) :
				"local",
			    addr);
		} else if (v->unresolved) {
			/* The lookup failed: a name is checked for local
			 * addresses before anything connects, and fails
			 * closed. */
			(void)strlcpy(out,
			    "the name did not resolve; unresolvable names are "
			    "refused",
			    outsz);
		} else {
			(void)strlcpy(out,
			    "localhost, and local addresses are blocked",
			    outsz);
		}
		return;
	case POLICY_REASON_METHOD_NOT_ALLOWED:
		(void)strlcpy(out, "SOCKS5 is blocked in limited mode", outsz);
		return;
	case POLICY_REASON_PROXY_DISABLED:
		(void)strlcpy(out, "the network proxy is disabled", outsz);
		return;
	case POLICY_REASON_DECIDER_TIMEOUT:
		(void)strlcpy(out, "no policy decision arrived in time", outsz);
		return;
	case POLICY_REASON_CUSTOM:
		(void)snprintf(out, outsz, "denied by the decider: %s",
		    v->custom_reason);
		return;
	default:
		(void)strlcpy(out, policy_reason_message(v->reason), outsz);
		return;
	}
}

static void
session_socks5_block(struct session_socks5 *x)
{
	const struct policy_verdict *v = &x->judge.v;
	const char *code = policy_reason_x_proxy_error(v->reason);
	char message[256];

	slog_info(x->s, "blocked SOCKS5 CONNECT %s from %s: %s (%s)",
	    LOG_US(x->s->target), x->s->client_text,
	    policy_verdict_reason(v, v->reason), policy_source_name(v->source));
	session_socks5_explain(v, message, sizeof(message));
	session_socks5_refuse(x, SOCKS_REPLY_NOT_ALLOWED, code ? code : "",
	    message, "blocked by policy");
}

/*
 * CONNECT.
 */
static void
session_socks5_dialed_cb(void *arg, int fd, int err)
{
	struct session *s = arg;
	struct session_socks5 *x = session_socks5_of(s);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct socks5_addr bnd = { .atyp = SOCKS5_ATYP_IPV4 };
	uint8_t out[SOCKS5_REPLY_MAX];
	struct bufferevent *bev;
	size_t n;

	s->dial = NULL;
	if (fd < 0) {
		session_socks5_fail(x, err);
		return;
	}
	/* RFC 1928 §6: BND.ADDR/BND.PORT are the outgoing socket's. */
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		(void)socks5_addr_from_sockaddr((struct sockaddr *)&ss, &bnd);
	bev = session_bev_new(s, fd);
	if (!bev) {
		session_socks5_fail(x, -ENOMEM);
		return;
	}
	session_attach_upstream(s, bev, fd);
	n = socks5_reply_encode(SOCKS_REPLY_SUCCEEDED, &bnd, out, sizeof(out));
	if (session_send_bytes(&s->client, out, n) < 0) {
		session_close(s, "out of memory");
		return;
	}
	/* The tunnel needs nothing of SOCKS any more; x is gone from here
	 * on. */
	session_tunnel(s);
}

static void
session_socks5_dial(void *arg, struct judge *j)
{
	struct session_socks5 *x = arg;
	struct session *s = x->s;

	if (j->err < 0) {
		session_socks5_fail(x, j->err);
		return;
	}
	session_set_state(s, SESSION_ST_CONNECTING);
	s->dial = dial_start(s->worker, s->conf, j->addrs, j->n_addrs,
	    x->req.dst.port, j->v.public_only,
	    s->conf->limits.connect_timeout_ms, session_socks5_dialed_cb, s);
	if (!s->dial)
		session_socks5_fail(x, -ENOMEM);
}

/* The origin is dialed per request inside, by the HTTP front end; the
 * reply names no bound address (RFC 1928 §6 allows the zero address). */
static void
session_socks5_intercept(struct session_socks5 *x)
{
	struct session *s = x->s;
	struct socks5_addr bnd = { .atyp = SOCKS5_ATYP_IPV4 };
	uint8_t out[SOCKS5_REPLY_MAX];
	char host[POLICY_HOST_TEXT_MAX];
	uint16_t port = x->req.dst.port;
	size_t n;

	(void)strlcpy(host, x->judge.v.host.text, sizeof(host));
	n = socks5_reply_encode(SOCKS_REPLY_SUCCEEDED, &bnd, out, sizeof(out));
	if (session_send_bytes(&s->client, out, n) < 0) {
		session_close(s, "out of memory");
		return;
	}
	/* x is gone from here on. */
	session_http_mitm_adopt(s, host, port);
}

static void
session_socks5_verdict(void *arg, struct judge *j)
{
	struct session_socks5 *x = arg;
	const struct policy_verdict *v = &j->v;

	session_note_verdict(x->s, policy_decision_name(v->decision),
	    policy_verdict_reason(v, v->reason),
	    v->matched ? v->match.pattern : NULL);
	if (!judge_allowed(j)) {
		session_socks5_block(x);
		return;
	}
	/* Allowed in limited mode: a CONNECT to 443 that interception holds
	 * (the policy refuses every other SOCKS5 request there). */
	if (policy_get_mode(x->s->conf->policy) == POLICY_MODE_LIMITED) {
		session_socks5_intercept(x);
		return;
	}
	if (judge_addrs(j, session_socks5_dial, x) == JUDGE_DONE)
		session_socks5_dial(x, j);
}

static void
session_socks5_connect(struct session_socks5 *x, const char *host)
{
	struct session *s = x->s;

	session_set_state(s, SESSION_ST_RESOLVING);
	judge_init(&x->judge, s, POLICY_PROTOCOL_SOCKS5_TCP, host,
	    x->req.dst.port, NULL);
	if (judge_run(&x->judge, session_socks5_verdict, x) == JUDGE_DONE)
		session_socks5_verdict(x, &x->judge);
}

/*
 * UDP ASSOCIATE (RFC 1928 §7). The request names where the client will
 * send from; an unspecified address (or a name, which says nothing about
 * where datagrams come from) means "the host this connection comes from".
 */
static void
session_socks5_associate(struct session_socks5 *x)
{
	struct session *s = x->s;
	struct socks5_addr from = x->req.dst, peer, bnd;
	struct sockaddr_storage local;
	socklen_t len;
	uint8_t out[SOCKS5_REPLY_MAX];
	size_t n;
	int r;

	(void)strlcpy(s->target, "udp-associate", sizeof(s->target));
	if (from.atyp == SOCKS5_ATYP_DOMAIN ||
	    socks5_addr_is_unspecified(&from)) {
		if (socks5_addr_from_sockaddr((struct sockaddr *)&s->peer,
			&peer) < 0) {
			session_socks5_fail(x, -EAFNOSUPPORT);
			return;
		}
		peer.port = from.port;
		from = peer;
	}
	r = session_local_address(s, &local, &len);
	if (r < 0) {
		session_socks5_fail(x, r);
		return;
	}
	r = session_socks5_udp_new(s, (struct sockaddr *)&local, &from,
	    &x->udp);
	if (r < 0) {
		session_socks5_fail(x, r);
		return;
	}
	session_socks5_udp_bound(x->udp, &bnd);
	n = socks5_reply_encode(SOCKS_REPLY_SUCCEEDED, &bnd, out, sizeof(out));
	if (session_send_bytes(&s->client, out, n) < 0) {
		session_close(s, "out of memory");
		return;
	}
	session_set_state(s, SESSION_ST_RELAY);
	/* The control connection only tells when the association ends;
	 * anything the client sends on it is read and dropped. */
	(void)session_bev_enable(s->client.bev, EV_READ);
	evbuffer_drain(session_socks5_client_in(x),
	    evbuffer_get_length(session_socks5_client_in(x)));
}

/*
 * The handshake.
 */
static void
session_socks5_requested(struct session_socks5 *x)
{
	struct session *s = x->s;
	char host[SOCKS5_DOMAIN_MAX + 1];

	session_timer_clear(s);
	s->conf = proxy_conf_ref(worker_get_conf(s->worker));
	s->requests++;
	(void)socks5_addr_host(&x->req.dst, host, sizeof(host));
	session_note_target(s, host, x->req.dst.port);
	switch (x->req.command) {
	case SOCKS5_CMD_CONNECT:
		session_socks5_connect(x, host);
		return;
	case SOCKS5_CMD_UDP_ASSOCIATE:
		if (s->conf->socks5_udp) {
			session_socks5_associate(x);
			return;
		}
		slog_info(s, "UDP ASSOCIATE from %s refused: UDP is off",
		    s->client_text);
		session_socks5_refuse(x, SOCKS_REPLY_COMMAND_NOT_SUPPORTED, "",
		    "UDP ASSOCIATE is off (network.enable_socks5_udp)",
		    "command not supported");
		return;
	default:
		slog_info(s, "SOCKS5 command 0x%02x from %s not supported",
		    (unsigned)x->req.command, s->client_text);
		session_socks5_refuse(x, SOCKS_REPLY_COMMAND_NOT_SUPPORTED, "",
		    x->req.command == SOCKS5_CMD_BIND ?
			"BIND is not supported" :
			"unknown command",
		    "command not supported");
		return;
	}
}

static void
session_socks5_greeted(struct session_socks5 *x,
    const struct socks5_greeting *g)
{
	struct session *s = x->s;
	uint8_t out[2], m = SOCKS5_METHOD_NO_ACCEPTABLE;

	if (socks5_greeting_offers(g, SOCKS5_METHOD_PADDOCK_REASON)) {
		m = SOCKS5_METHOD_PADDOCK_REASON;
		x->explain = true;
	} else if (socks5_greeting_offers(g, SOCKS5_METHOD_NO_AUTH)) {
		m = SOCKS5_METHOD_NO_AUTH;
	}
	if (socks5_method_encode(m, out, sizeof(out)) == 0 ||
	    session_send_bytes(&s->client, out, sizeof(out)) < 0) {
		session_close(s, "out of memory");
		return;
	}
	/* RFC 1928 §3: with X'FF' the client must close; so do we. */
	if (m == SOCKS5_METHOD_NO_ACCEPTABLE) {
		slog_info(s, "SOCKS5 client %s offers no acceptable method",
		    s->client_text);
		session_socks5_finish(x, "no acceptable authentication method");
		return;
	}
	socks5_parser_init(&x->parser);
	session_set_state(s, SESSION_ST_SOCKS_REQUEST);
}

static void
session_socks5_malformed(struct session_socks5 *x)
{
	struct session *s = x->s;
	const char *why = x->parser.error ? x->parser.error : "malformed";

	slog_info(s, "bad SOCKS5 %s from %s: %s",
	    s->state == SESSION_ST_SOCKS_GREETING ? "greeting" : "request",
	    s->client_text, why);
	if (s->state == SESSION_ST_SOCKS_GREETING) {
		/* Not SOCKS5 at all: there is no reply it would understand. */
		session_close(s, why);
		return;
	}
	session_socks5_refuse(x, x->parser.reply, "", why, why);
}

/* Feed what the client sent to the parser of the current state. */
static enum parse_result
session_socks5_feed(struct session_socks5 *x, struct socks5_greeting *g)
{
	struct evbuffer *in = session_socks5_client_in(x);
	struct evbuffer_iovec v[SOCKS_PEEK_SEGMENTS];
	int n = evbuffer_peek(in, -1, NULL, v, SOCKS_PEEK_SEGMENTS);
	enum parse_result r = PARSE_AGAIN;
	size_t consumed = 0;

	for (int i = 0; i < n && r == PARSE_AGAIN; i++) {
		size_t used;

		if (x->s->state == SESSION_ST_SOCKS_GREETING)
			r = socks5_greeting_feed(&x->parser, v[i].iov_base,
			    v[i].iov_len, &used, g);
		else
			r = socks5_request_feed(&x->parser, v[i].iov_base,
			    v[i].iov_len, &used, &x->req);
		consumed += used;
	}
	/* Exactly what the message used: the rest stays buffered. */
	evbuffer_drain(in, consumed);
	x->s->client.bytes += consumed;
	return r;
}

static void
session_socks5_process(struct session_socks5 *x)
{
	struct session *s = x->s;

	while (s->state == SESSION_ST_SOCKS_GREETING ||
	    s->state == SESSION_ST_SOCKS_REQUEST) {
		struct socks5_greeting g;
		enum parse_result r;

		if (evbuffer_get_length(session_socks5_client_in(x)) == 0) {
			if (s->client.eof)
				session_close(s,
				    "client closed during the handshake");
			return;
		}
		r = session_socks5_feed(x, &g);
		if (r == PARSE_AGAIN)
			continue;
		if (r == PARSE_ERROR) {
			session_socks5_malformed(x);
			return;
		}
		if (s->state == SESSION_ST_SOCKS_GREETING)
			session_socks5_greeted(x, &g);
		else
			session_socks5_requested(x);
	}
}

/*
 * Client callbacks, by state. A tunnel's callbacks belong to the relay.
 */
static void
session_socks5_client_read_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	struct session_socks5 *x = session_socks5_of(s);
	struct evbuffer *in = bufferevent_get_input(bev);

	switch (s->state) {
	case SESSION_ST_SOCKS_GREETING:
	case SESSION_ST_SOCKS_REQUEST:
		session_socks5_process(x);
		break;
	case SESSION_ST_RELAY:
	case SESSION_ST_DRAINING:
		evbuffer_drain(in, evbuffer_get_length(in));
		break;
	default:
		/* Resolving or connecting: early tunnel bytes wait
		 * (bounded by the read watermark). */
		break;
	}
}

static void
session_socks5_client_write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	if (s->state == SESSION_ST_DRAINING &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0 &&
	    !s->client.shut)
		session_socks5_linger(session_socks5_of(s));
}

static void
session_socks5_client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	struct session_socks5 *x = session_socks5_of(s);

	(void)bev;
	if (what & BEV_EVENT_ERROR) {
		session_close(s, "client connection error");
		return;
	}
	if (!(what & BEV_EVENT_EOF))
		return;
	s->client.eof = true;
	switch (s->state) {
	case SESSION_ST_SOCKS_GREETING:
	case SESSION_ST_SOCKS_REQUEST:
		/* What came before the EOF is still answered. */
		session_socks5_process(x);
		break;
	case SESSION_ST_RELAY:
		/* The association ends with its control connection. */
		session_close(s, "done");
		break;
	case SESSION_ST_DRAINING:
		if (s->client.shut)
			session_close(s, x->close_reason);
		break;
	default:
		/* A half-closed client still gets its tunnel; the relay
		 * passes the EOF on. */
		break;
	}
}

/*
 * The front end's hooks.
 */
static int
session_socks5_start(struct session *s)
{
	struct session_socks5 *x = calloc(1, sizeof(*x));

	if (!x)
		return -ENOMEM;
	x->s = s;
	x->judge.s = s;
	s->fe_state = x;
	socks5_parser_init(&x->parser);
	return session_await_head(s, SESSION_ST_SOCKS_GREETING,
	    session_socks5_client_read_cb, session_socks5_client_write_cb,
	    session_socks5_client_event_cb);
}

static void
session_socks5_timeout(struct session *s, enum session_timer t)
{
	struct session_socks5 *x = session_socks5_of(s);

	switch (t) {
	case SESSION_TIMER_HEAD:
		session_close(s,
		    s->state == SESSION_ST_SOCKS_GREETING ?
			"SOCKS5 greeting timeout" :
			"SOCKS5 request timeout");
		return;
	case SESSION_TIMER_DECIDER:
		if (x->udp)
			session_socks5_udp_decider_timeout(x->udp);
		else
			judge_decider_timeout(&x->judge);
		return;
	case SESSION_TIMER_DRAIN:
		session_close(s, x->close_reason);
		return;
	default:
		session_close(s, session_timer_reason(t));
		return;
	}
}

static void
session_socks5_shutdown(struct session *s)
{
	/* Associations run until the grace period ends (and tunnels, which
	 * session_tunnel() took away from this front end). */
	if (s->state == SESSION_ST_SOCKS_GREETING ||
	    s->state == SESSION_ST_SOCKS_REQUEST)
		session_close(s, "shutdown");
}

static void
session_socks5_closed(struct session *s)
{
	struct session_socks5 *x = session_socks5_of(s);

	if (!x)
		return; /* the start failed to allocate it */
	judge_cancel(&x->judge);
	x->udp = session_socks5_udp_free(x->udp);
}

static void
session_socks5_free(struct session *s)
{
	free(session_socks5_of(s));
	s->fe_state = NULL;
}

const struct session_frontend session_socks5_frontend = {
	.name = "socks5",
	.start = session_socks5_start,
	.timeout = session_socks5_timeout,
	.shutdown = session_socks5_shutdown,
	.closed = session_socks5_closed,
	.free = session_socks5_free,
};
