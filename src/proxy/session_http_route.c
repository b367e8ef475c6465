/* SPDX-License-Identifier: MIT */
/*
 * The way upstream for an allowed HTTP request (session_http.c judged
 * it): the connection kept from the previous exchange or one from the
 * worker's pool when it goes to the same place, else a dial to the judged
 * addresses (Happy Eyeballs, dial.c), or to the upstream proxy the
 * environment names. A CONNECT is answered 200 only once the dial, and
 * through an upstream proxy its own CONNECT, succeeded; a dial that fails
 * is answered 502/504 with the reason.
 */
#include "proxy/session_http.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "proxy/dial.h"
#include "proxy/dns.h"
#include "proxy/pool.h"
#include "proxy/upstream.h"
#include "proxy/worker.h"
#include "util/strutil.h"
#include "wire/errmap.h"
#include "wire/http_reply.h"
#include "wire/http_write.h"

static void
session_http_route_dial_failed(struct session_http *h, int err)
{
	char text[512];

	(void)snprintf(text, sizeof(text), "%s (%s)", errmap_text(err),
	    h->via ? "upstream proxy" : h->s->target);
	slog_info(h->s, "%s %s: %s", http_head_method(&h->req),
	    LOG_US(h->s->target), text);
	session_http_fail(h, errmap_http_status(err), text);
}

/*
 * CONNECT: the tunnel is open once the dial (and, through an upstream
 * proxy, its own CONNECT) succeeded; only then the client hears 200.
 */
static void
session_http_route_tunnel_ready(struct session_http *h)
{
	struct session *s = h->s;

	if (http_reply_connect_ok(&h->out) < 0 || session_http_send(h) < 0) {
		session_close(s, "out of memory");
		return;
	}
	/* The tunnel needs nothing of HTTP any more; an idle tunnel should
	 * cost as little as possible. h is gone from here on. */
	session_tunnel(s);
}

static void
session_http_route_chain_read_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	struct session_http *h = session_http_of(s);
	size_t consumed;
	enum parse_result r = session_http_feed_head(&h->respp,
	    bufferevent_get_input(bev), &consumed);
	char text[128];

	(void)consumed; /* the parent's answer is not tunnel traffic */
	if (r == PARSE_AGAIN)
		return;
	if (r == PARSE_ERROR) {
		session_http_route_dial_failed(h, -EPROTO);
		return;
	}
	if (h->resp.body != HTTP_BODY_TUNNEL) {
		(void)snprintf(text, sizeof(text),
		    "upstream proxy refused the tunnel (HTTP %u)",
		    (unsigned)h->resp.status);
		session_http_fail(h, 502, text);
		return;
	}
	/* Bytes after the answer already belong to the tunnel. */
	if (h->mitm)
		session_http_mitm_upstream(h);
	else
		session_http_route_tunnel_ready(h);
}

static void
session_http_route_chain_event_cb(struct bufferevent *bev, short what,
    void *arg)
{
	struct session *s = arg;

	(void)bev;
	(void)what;
	session_http_route_dial_failed(session_http_of(s), -EPIPE);
}

static void
session_http_route_chain_start(struct session_http *h)
{
	struct session *s = h->s;

	/* The upstream proxy's answer has the connect timeout too. */
	session_timer_set(s, SESSION_TIMER_CHAIN,
	    s->conf->limits.connect_timeout_ms);
	http_parser_next(&h->respp);
	http_parser_set_request(&h->respp, false, true);
	bufferevent_setcb(s->upstream.bev, session_http_route_chain_read_cb,
	    NULL, session_http_route_chain_event_cb, s);
	if (http_write_connect(&h->dest, h->via->authorization, &h->out) < 0 ||
	    session_http_send_to(h, &s->upstream) < 0 ||
	    session_bev_enable(s->upstream.bev, EV_READ) < 0)
		session_close(s, "out of memory");
}

static void
session_http_route_dialed_cb(void *arg, int fd, int err)
{
	struct session *s = arg;
	struct session_http *h = session_http_of(s);
	struct bufferevent *bev;

	s->dial = NULL;
	if (fd < 0) {
		session_http_route_dial_failed(h, err);
		return;
	}
	bev = session_bev_new(s, fd);
	if (!bev) {
		session_http_fail(h, 503, "proxy is out of memory");
		return;
	}
	session_attach_upstream(s, bev, fd);
	if ((h->connect || h->mitm) && h->via) {
		session_http_route_chain_start(h);
		return;
	}
	if (h->connect) {
		session_http_route_tunnel_ready(h);
		return;
	}
	if (h->mitm) {
		session_http_mitm_upstream(h);
		return;
	}
	session_set_state(s, SESSION_ST_RELAY);
	session_http_forward_start(h);
}

/* Dial addrs[0..n) (a lookup's result: err < 0 when it failed). */
static void
session_http_route_dial(struct session_http *h, int err,
    const struct policy_addr *addrs, size_t n)
{
	struct session *s = h->s;
	uint16_t port = h->via ? h->via->authority.port : h->dest.port;
	/* The upstream proxy is the operator's, named by the environment,
	 * not a destination a client chose: only the destination's own
	 * addresses are held to its verdict's class. */
	bool public_only = !h->via && h->judge.v.public_only;

	if (err < 0) {
		session_http_route_dial_failed(h, err);
		return;
	}
	session_set_state(s, SESSION_ST_CONNECTING);
	s->dial = dial_start(s->worker, s->conf, addrs, n, port, public_only,
	    s->conf->limits.connect_timeout_ms, session_http_route_dialed_cb,
	    s);
	if (!s->dial)
		session_http_fail(h, 503, "proxy is out of memory");
}

/* The judge has the addresses of the request's own destination. */
static void
session_http_route_judged_cb(void *arg, struct judge *j)
{
	session_http_route_dial(arg, j->err, j->addrs, j->n_addrs);
}

static void
session_http_route_via_resolved_cb(void *arg, int err,
    const struct policy_addr *addrs, size_t n)
{
	struct session_http *h = arg;

	h->via_dns = NULL;
	session_http_route_dial(h, err, addrs, n);
}

/* The upstream proxy's own address: a literal, or a lookup of its own (it
 * comes from the proxy's environment, not from a client, so it is not
 * judged). */
static void
session_http_route_resolve_via(struct session_http *h)
{
	struct session *s = h->s;
	struct policy_host host;
	const char *name = h->via->authority.host;

	if (policy_host_parse(name, strlen(name), &host) == 0 &&
	    host.kind != POLICY_HOST_NAME) {
		struct policy_addr a = policy_host_addr(&host);

		session_http_route_dial(h, 0, &a, 1);
		return;
	}
	h->via_dns =
	    dns_resolve(s->worker, name, s->conf->limits.dns_timeout_ms,
		session_http_route_via_resolved_cb, h);
	if (!h->via_dns)
		session_http_fail(h, 503, "proxy is out of memory");
}

/* Dial the request's destination with the addresses the judge provides. */
static void
session_http_route_direct(struct session_http *h)
{
	struct judge *j = &h->judge;

	if (judge_addrs(j, session_http_route_judged_cb, h) == JUDGE_DONE)
		session_http_route_judged_cb(h, j);
}

static void
session_http_route_pool_key(struct session_http *h)
{
	const struct http_authority *a = h->via ? &h->via->authority : &h->dest;

	(void)snprintf(h->pool_key, sizeof(h->pool_key), "%s%s|%s|%u",
	    h->mitm ? "tls|" : "", h->via ? "proxy" : "direct",
	    h->via ? a->host : h->judge.v.host.text, (unsigned)a->port);
}

void
session_http_redial(struct session_http *h)
{
	struct session *s = h->s;

	session_set_state(s, SESSION_ST_CONNECTING);
	if (h->via) {
		session_http_route_resolve_via(h);
		return;
	}
	session_http_route_direct(h);
}

void
session_http_route(struct session_http *h)
{
	struct session *s = h->s;
	struct bufferevent *bev;
	int fd;

	if (h->connect &&
	    policy_get_mode(s->conf->policy) == POLICY_MODE_LIMITED) {
		/* The verdict let the tunnel through limited mode, which it
		 * does only with interception on. */
		session_http_mitm_begin(h);
		return;
	}
	/* Inside an intercepted tunnel, an upstream proxy is reached the
	 * way a tunnel is: with a CONNECT of our own. */
	h->via = upstream_select(s->conf->upstream, h->judge.v.host.text,
	    h->connect || h->mitm);
	if (!h->connect) {
		session_http_route_pool_key(h);
		if (h->kept && h->kept_gen == s->conf->generation &&
		    streq(h->kept_key, h->pool_key)) {
			h->kept = false;
			h->reused = true;
			session_set_state(s, SESSION_ST_RELAY);
			session_http_forward_start(h);
			return;
		}
	}
	session_http_release_kept(h);
	if (!h->connect) {
		bev = pool_take(worker_get_pool(s->worker), h->pool_key,
		    s->conf->generation, h->mitm, &fd);
		if (bev) {
			h->reused = true;
			session_attach_upstream(s, bev, fd);
			session_set_state(s, SESSION_ST_RELAY);
			session_http_forward_start(h);
			return;
		}
	}
	if (h->via) {
		session_http_route_resolve_via(h);
		return;
	}
	session_http_route_direct(h);
}
