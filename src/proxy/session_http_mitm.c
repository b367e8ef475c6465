/* SPDX-License-Identifier: MIT */
/*
 * HTTPS interception (spec network §6): in limited mode with mitm on, an
 * allowed CONNECT is answered 200 and then, instead of a blind tunnel,
 * the client's TLS is accepted with a leaf minted for the CONNECT's host
 * (src/tls). The session stays on the HTTP front end: every request
 * inside is parsed by the same code, with the same strictness, and judged
 * again (protocol https: the method clamp of limited mode applies), then
 * forwarded to the origin over a TLS connection of our own that verifies
 * the origin's certificate. A request is never relayed to an origin that
 * failed verification: the client gets 502 with the reason.
 *
 * Both halves are TLS bufferevents once this starts: nothing is spliced
 * and EOF is a close_notify (session_shut()).
 */
#include "proxy/session_http.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls/mitm.h"
#include "util/limits.h"
#include "util/strutil.h"
#include "wire/http_reply.h"

/* Accept the client's TLS with ssl (taken) and wait for the handshake. */
static void
session_http_mitm_accept(struct session_http *h, SSL *ssl)
{
	struct session *s = h->s;
	struct bufferevent *tls;

	if (session_half_tls(s, &s->client, ssl, true) < 0) {
		session_close(s, "out of memory");
		return;
	}
	tls = s->client.bev;
	session_http_client_callbacks(s, tls);
	bufferevent_setwatermark(tls, EV_READ, 0, LIMIT_RELAY_HIWAT);
	h->mitm = true;
	h->close_after = false;
	session_set_state(s, SESSION_ST_TLS_ACCEPT);
	session_timer_set(s, SESSION_TIMER_HEAD,
	    s->conf->limits.head_timeout_ms);
	if (session_bev_enable(tls, EV_READ) < 0)
		session_close(s, "out of memory");
}

/* The leaf for h->mitm_host in a server SSL, or NULL (logged). */
static SSL *
session_http_mitm_server_ssl(struct session_http *h)
{
	struct certgen_err err = { 0 };
	SSL *ssl = mitm_certs_server_ssl(h->s->conf->mitm, h->mitm_host,
	    time(NULL), &err);

	if (!ssl)
		slog_info(h->s, "cannot intercept %s: %s", LOG_US(h->s->target),
		    err.text);
	return ssl;
}

void
session_http_mitm_begin(struct session_http *h)
{
	struct session *s = h->s;
	SSL *ssl;

	if (!s->conf->mitm) {
		/* mitm was turned on by a reload: the CA is loaded at start. */
		session_http_fail(h, 502,
		    "TLS interception is not available in this proxy; "
		    "restart it with mitm = true");
		return;
	}
	(void)strlcpy(h->mitm_host,
	    h->judge.v.host_valid ? h->judge.v.host.text : h->dest.host,
	    sizeof(h->mitm_host));
	h->mitm_port = h->dest.port;
	ssl = session_http_mitm_server_ssl(h);
	if (!ssl) {
		session_http_fail(h, 502, "TLS interception failed");
		return;
	}
	if (http_reply_connect_ok(&h->out) < 0 || session_http_send(h) < 0) {
		SSL_free(ssl);
		session_close(s, "out of memory");
		return;
	}
	session_http_mitm_accept(h, ssl);
}

void
session_http_mitm_adopt(struct session *s, const char *host, uint16_t port)
{
	struct session_http *h;
	SSL *ssl;

	if (s->fe->free)
		s->fe->free(s);
	s->fe_state = NULL;
	s->fe = &session_http_frontend;
	if (!s->conf->mitm || session_http_state_new(s) < 0) {
		/* The SOCKS5 reply is out: only the close can refuse now. */
		session_close(s,
		    s->conf->mitm ? "out of memory" :
				    "TLS interception unavailable");
		return;
	}
	h = session_http_of(s);
	(void)strlcpy(h->mitm_host, host, sizeof(h->mitm_host));
	h->mitm_port = port;
	ssl = session_http_mitm_server_ssl(h);
	if (!ssl) {
		session_close(s, "TLS interception failed");
		return;
	}
	session_http_mitm_accept(h, ssl);
}

void
session_http_mitm_accepted(struct session_http *h)
{
	slog_debug(h->s, "intercepting %s:%u", h->mitm_host,
	    (unsigned)h->mitm_port);
	/* The CONNECT exchange is over; requests inside come next. */
	session_http_next(h);
}

int
session_http_mitm_destination(struct session_http *h, const char **reterr)
{
	const struct http_head *q = &h->req;
	ssize_t i = http_head_find(q, "host", 0);
	struct http_authority host;
	enum http_target_error te;

	/* spec §6.4 step 1. */
	if (q->method == HTTP_CONNECT) {
		*reterr = "CONNECT not supported inside an intercepted tunnel";
		return 405;
	}
	if (http_head_count(q, "host") > 1) {
		*reterr = "more than one Host header";
		return 400;
	}
	te = http_target_parse(http_head_str(q, q->target), q->target.len,
	    false, &h->target);
	if (te == HTTP_TARGET_HTTPS) {
		*reterr = "send origin-form requests inside an intercepted "
			  "tunnel";
		return 400;
	}
	if (te != HTTP_TARGET_OK) {
		*reterr = http_target_error_message(te);
		return 400;
	}
	/* Step 2: the Host (and an absolute-form target's authority) names
	 * the CONNECT's host, or nothing. */
	if (h->target.form == HTTP_TARGET_ABSOLUTE &&
	    strcasecmp(h->target.authority.host, h->mitm_host) != 0) {
		*reterr = "host mismatch";
		return 400;
	}
	if (i >= 0) {
		if (http_authority_parse(http_head_str(q, q->fields[i].value),
			q->fields[i].value.len, h->mitm_port, false,
			&host) != HTTP_TARGET_OK) {
			*reterr = "invalid Host header";
			return 400;
		}
		if (strcasecmp(host.host, h->mitm_host) != 0) {
			*reterr = "host mismatch";
			return 400;
		}
	}
	(void)strlcpy(h->dest.host, h->mitm_host, sizeof(h->dest.host));
	h->dest.port = h->mitm_port;
	return 0;
}

/* The origin's TLS handshake ended: verified, or answered 502. */
static void
session_http_mitm_upstream_event_cb(struct bufferevent *bev, short what,
    void *arg)
{
	struct session *s = arg;
	struct session_http *h = session_http_of(s);
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	char why[320];
	const char *failure;

	if (!(what & BEV_EVENT_CONNECTED)) {
		failure = mitm_verify_failure(ssl, why, sizeof(why));
		if (!failure || SSL_get_verify_result(ssl) == X509_V_OK)
			failure = "upstream TLS handshake failed";
		ERR_clear_error();
		session_drop_upstream(s);
		slog_info(s, "%s: %s", LOG_US(s->target), failure);
		session_http_fail(h, 502, failure);
		return;
	}
	failure = mitm_verify_failure(ssl, why, sizeof(why));
	if (failure) {
		/* Unreachable with SSL_VERIFY_PEER; kept as a second check. */
		session_drop_upstream(s);
		session_http_fail(h, 502, failure);
		return;
	}
	session_set_state(s, SESSION_ST_RELAY);
	session_http_forward_start(h);
}

void
session_http_mitm_upstream(struct session_http *h)
{
	struct session *s = h->s;
	struct certgen_err err = { 0 };
	struct bufferevent *tls;
	SSL *ssl;

	ssl = mitm_certs_client_ssl(s->conf->mitm, h->mitm_host, &err);
	if (!ssl) {
		session_drop_upstream(s);
		session_http_fail(h, 502, "cannot start TLS to the origin");
		return;
	}
	if (session_half_tls(s, &s->upstream, ssl, false) < 0) {
		session_drop_upstream(s);
		session_http_fail(h, 503, "proxy is out of memory");
		return;
	}
	tls = s->upstream.bev;
	bufferevent_setcb(tls, NULL, NULL, session_http_mitm_upstream_event_cb,
	    s);
	session_timer_set(s, SESSION_TIMER_CHAIN,
	    s->conf->limits.connect_timeout_ms);
	if (session_bev_enable(tls, EV_READ | EV_WRITE) < 0)
		session_close(s, "out of memory");
}
