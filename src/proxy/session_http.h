/* SPDX-License-Identifier: MIT */
/*
 * The HTTP/1.1 front end: absolute-form and origin-form requests, CONNECT,
 * keep-alive and pipelining on the client side, one exchange at a time.
 *
 * session_http.c reads request heads, judges them, answers refusals and
 * opens the way upstream (pooled connection, direct dial, or an upstream
 * proxy, with CONNECT chaining for tunnels). forward.c then streams one
 * plain-HTTP exchange: the request body out, the response back, both
 * re-framed, and decides whether both connections may be kept.
 *
 * The layout below is shared by those two files only.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "proxy/judge.h"
#include "proxy/session.h"
#include "util/buf.h"
#include "wire/http_head.h"
#include "wire/http_target.h"

struct dns_lookup;
struct evbuffer;
struct splice_dir;
struct upstream_proxy;

extern const struct session_frontend session_http_frontend;

struct session_http {
	struct session *s;
	struct http_head req;
	struct http_parser reqp;
	struct http_head resp;
	struct http_parser respp;
	struct http_target target;
	struct http_authority dest; /* where the request is going */
	struct judge judge;
	const struct upstream_proxy *via; /* borrowed from s->conf */
	struct dns_lookup *via_dns;       /* the upstream proxy's own address */
	char pool_key[HTTP_HOST_MAX + 48];
	struct buf out;        /* a serialised head */
	struct evbuffer *wire; /* heads and bodies on their way out */
	/* A kept-alive upstream connection parked on this session between
	 * exchanges: reused when the next request goes to the same place. */
	bool kept;
	char kept_key[HTTP_HOST_MAX + 48];
	uint64_t kept_gen;
	bool processing; /* inside session_http_process() */
	/* Why the session ends once the drain is over (static); NULL for
	 * "done". Set by a failure that still answered the client. */
	const char *close_reason;
	bool connect;
	bool close_after; /* the connection ends after this exchange */
	bool head_only;   /* a HEAD request: answers carry no body */
	bool reused;      /* the upstream connection came from the pool */
	bool retried;
	/* The request body, client -> upstream. */
	uint64_t req_left;
	bool req_done;
	/* The response, upstream -> client. */
	bool resp_head_sent;
	bool resp_done;
	uint64_t resp_left;
	uint64_t resp_seen; /* response bytes read, for the retry rule */
	bool resp_quickack; /* quick ACKs were asked for this answer */
	struct splice_dir *body_splice;
	bool splice_wait; /* upstream paused until the client drained */
	bool splice_off;  /* splicing failed once; stay buffered */
	/* Inside an intercepted CONNECT (session_http_mitm.c): the client
	 * speaks TLS to us, and every request goes to this host and port,
	 * over TLS. */
	bool mitm;
	char mitm_host[HTTP_HOST_MAX];
	uint16_t mitm_port;
};

/* Heads are fed to the parser from at most this many buffer segments at
 * a time. */
#define SESSION_HTTP_PEEK_SEGMENTS 16

static inline struct session_http *
session_http_of(struct session *s)
{
	return s->fe_state;
}

/* session_http.c */

/* Move h->out (a serialised head) to the end of h->wire. Returns 0 or
 * -ENOMEM. */
int session_http_stage(struct session_http *h);

/* Send h->out to dst, or to the client, and forget it. Returns 0 or a
 * negative errno. */
int session_http_send_to(struct session_http *h, struct half *dst);
int session_http_send(struct session_http *h);

/* Feed the head waiting in "in" to p and drain exactly what it used (the
 * rest, e.g. a body or tunnel bytes, stays buffered); *ret_consumed says
 * how much. Returns the parser's result. */
enum parse_result session_http_feed_head(struct http_parser *p,
    struct evbuffer *in, size_t *ret_consumed);

/* Hand a parked upstream connection to the pool (or close it). */
void session_http_release_kept(struct session_http *h);

/* Answer the current request with a text/plain error and continue with
 * the next request (when the connection allows) or close. */
void session_http_fail(struct session_http *h, unsigned status,
    const char *text);

/* The exchange is over: start reading the next request, or close. */
void session_http_next(struct session_http *h);

/* Flush what is queued for the client, then close (DRAINING). */
void session_http_drain(struct session_http *h);

/* The exchange left a reusable upstream connection: park it on the
 * session for the next request (or the pool, when the session ends). */
void session_http_keep(struct session_http *h);

/* Allocate and attach the front end's state (s->fe_state). Returns 0 or
 * -ENOMEM (the state, if attached, is freed with the session). */
int session_http_state_new(struct session *s);

/* Give bev (the client's bufferevent, or a TLS layer over it) the HTTP
 * front end's callbacks, with s as their argument. */
void session_http_client_callbacks(struct session *s, struct bufferevent *bev);

/* session_http_mitm.c */

/* An allowed CONNECT in limited mode with interception: answer 200, then
 * accept TLS from the client as the CONNECT's host and read the requests
 * inside (spec network §6.4). */
void session_http_mitm_begin(struct session_http *h);

/*
 * A SOCKS5 CONNECT to port 443 allowed in limited mode (the SOCKS5 front
 * end already sent its success reply): the session becomes an HTTP one,
 * intercepting the tunnel to host:port like an HTTPS CONNECT. The SOCKS5
 * state is freed through its front end first.
 */
void session_http_mitm_adopt(struct session *s, const char *host,
    uint16_t port);

/* The client's TLS handshake finished (BEV_EVENT_CONNECTED). */
void session_http_mitm_accepted(struct session_http *h);

/* A connected upstream socket for an inner request: wrap it in TLS to
 * the origin, verify it, then start the exchange (or answer 502). */
void session_http_mitm_upstream(struct session_http *h);

/* Where an inner request goes: always the CONNECT's host and port. A
 * CONNECT inside is 405, a Host or absolute authority naming another
 * host 400 (spec §6.4 steps 1-2). Returns 0 or the status, with *reterr. */
int session_http_mitm_destination(struct session_http *h, const char **reterr);

/* session_http_route.c */

/* The request was allowed: take a kept or pooled connection, or dial. */
void session_http_route(struct session_http *h);

/* A reused upstream connection died before answering: dial a fresh one
 * for the same, already judged, request. */
void session_http_redial(struct session_http *h);

/* forward.c */

/* The upstream connection is ready (attached): send the request and
 * stream the exchange. */
void session_http_forward_start(struct session_http *h);

/* Client bytes arrived during the exchange. */
void session_http_forward_client_read(struct session_http *h);

/* The client's output drained. */
void session_http_forward_client_write(struct session_http *h);

/* The client ended or failed during the exchange. */
void session_http_forward_client_event(struct session_http *h, short what);

/* Stop streaming (the exchange is being abandoned). */
void session_http_forward_stop(struct session_http *h);
