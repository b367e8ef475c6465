/* SPDX-License-Identifier: MIT */
/*
 * The HTTP/1.1 front end: request heads, verdicts and refusals, and the
 * life of a client connection between exchanges. One exchange at a time;
 * pipelined requests wait in the client's input buffer (bounded by its read
 * watermark) and are parsed in a loop, never by recursion.
 *
 * Order of checks for a request (spec §4.3, §4.4): the head must parse
 * (400/414/431/501/505); x-unix-socket is answered 501 on Linux; the
 * target and Host must agree (400); then the judge loop decides (403,
 * or 503 when the proxy is disabled), and only an allowed request is
 * routed (session_http_route.c); forward.c streams the exchange.
 */
#include "proxy/session_http.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "proxy/dial.h"
#include "proxy/dns.h"
#include "proxy/pool.h"
#include "proxy/stats.h"
#include "proxy/worker.h"
#include "util/limits.h"
#include "util/strutil.h"
#include "wire/http_reply.h"

static struct evbuffer *
session_http_client_in(struct session_http *h)
{
	return bufferevent_get_input(h->s->client.bev);
}

int
session_http_stage(struct session_http *h)
{
	int r =
	    evbuffer_add(h->wire, h->out.data ? h->out.data : "", h->out.len);

	buf_clear(&h->out);
	return r < 0 ? -ENOMEM : 0;
}

int
session_http_send_to(struct session_http *h, struct half *dst)
{
	if (session_http_stage(h) < 0)
		return -ENOMEM;
	return session_send(dst, h->wire, evbuffer_get_length(h->wire));
}

int
session_http_send(struct session_http *h)
{
	return session_http_send_to(h, &h->s->client);
}

/* Can the connection carry another request after this answer? Not when
 * an unread request body stands in the way, after a CONNECT (a client may
 * already have sent tunnel bytes), or when either side asked to close. */
static bool
session_http_must_close(struct session_http *h)
{
	if (h->close_after || h->connect || worker_is_stopping(h->s->worker))
		return true;
	if (!h->req.keep_alive)
		return true;
	return h->req.body != HTTP_BODY_NONE && !h->req_done;
}

/* Finish the exchange with a complete answer sitting in h->out. */
static void
session_http_answer(struct session_http *h)
{
	if (session_http_send(h) < 0) {
		session_close(h->s, "out of memory");
		return;
	}
	session_http_next(h);
}

/* A parked upstream connection has nothing to say: any byte, EOF or
 * error ends it. */
static void
session_http_kept_read_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	struct session_http *h = session_http_of(s);

	(void)bev;
	h->kept = false;
	session_drop_upstream(s);
}

static void
session_http_kept_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	session_http_kept_read_cb(bev, arg);
}

void
session_http_keep(struct session_http *h)
{
	struct session *s = h->s;

	h->kept = true;
	h->kept_gen = s->conf->generation;
	(void)strlcpy(h->kept_key, h->pool_key, sizeof(h->kept_key));
	bufferevent_setcb(s->upstream.bev, session_http_kept_read_cb, NULL,
	    session_http_kept_event_cb, s);
}

/* The parked connection is not for this request: pool it (or close it
 * when the worker stops). */
void
session_http_release_kept(struct session_http *h)
{
	struct session *s = h->s;
	struct bufferevent *bev;
	int fd;

	if (!h->kept)
		return;
	h->kept = false;
	if (worker_is_stopping(s->worker) || !s->upstream.bev) {
		session_drop_upstream(s);
		return;
	}
	bev = session_take_upstream(s, &fd);
	pool_put(worker_get_pool(s->worker), h->kept_key, h->kept_gen, bev, fd);
}

void
session_http_fail(struct session_http *h, unsigned status, const char *text)
{
	h->close_after = session_http_must_close(h);
	if (h->resp_head_sent) {
		/* The client already has part of an answer: only the
		 * connection's end can tell it something went wrong. */
		session_close(h->s, text);
		return;
	}
	slog_debug(h->s, "answering %u: %s", status, text);
	if (http_reply_text(&h->out, status, text, NULL, h->close_after,
		h->head_only) < 0) {
		session_close(h->s, "out of memory");
		return;
	}
	session_http_answer(h);
}

/* A head that did not parse: the connection's framing is lost. */
static void
session_http_fail_head(struct session_http *h, unsigned status,
    const char *text)
{
	char msg[256];

	h->close_after = true;
	(void)snprintf(msg, sizeof(msg), "%s: %s", http_reply_reason(status),
	    text);
	slog_info(h->s, "refusing request from %s: %s", h->s->client_text, msg);
	if (http_reply_text(&h->out, status, msg, NULL, true, false) < 0 ||
	    session_http_send(h) < 0) {
		session_close(h->s, "out of memory");
		return;
	}
	session_http_drain(h);
}

static const char *
session_http_done_reason(const struct session_http *h)
{
	return h->close_reason ? h->close_reason : "done";
}

static void
session_http_linger(struct session_http *h)
{
	struct session *s = h->s;

	/* The client asked for the close and sent nothing beyond its
	 * request: nothing can arrive that would make our close a reset.
	 * Not under TLS: an empty output there means the layer took the
	 * answer, not that the socket below sent it; the linger (with its
	 * close_notify) waits for the client to finish reading. */
	if (s->client.eof ||
	    (s->client.fd >= 0 && !h->req.keep_alive && h->req_done &&
		evbuffer_get_length(session_http_client_in(h)) == 0)) {
		session_close(s, session_http_done_reason(h));
		return;
	}
	session_linger(s);
}

void
session_http_drain(struct session_http *h)
{
	struct session *s = h->s;

	session_http_forward_stop(h);
	judge_cancel(&h->judge);
	h->via_dns = dns_cancel(h->via_dns);
	s->dial = dial_cancel(s->dial);
	session_http_release_kept(h);
	session_drop_upstream(s);
	session_set_state(s, SESSION_ST_DRAINING);
	if (evbuffer_get_length(bufferevent_get_output(s->client.bev)) == 0) {
		session_http_linger(h);
		return;
	}
	bufferevent_setwatermark(s->client.bev, EV_WRITE, 0, 0);
	(void)session_bev_enable(s->client.bev, EV_WRITE);
	session_timer_set(s, SESSION_TIMER_IDLE,
	    s->conf ? s->conf->limits.idle_timeout_ms :
		      worker_get_conf(s->worker)->limits.idle_timeout_ms);
}

static void
session_http_reset_exchange(struct session_http *h)
{
	http_parser_next(&h->reqp);
	http_parser_next(&h->respp);
	h->connect = false;
	h->close_after = false;
	h->head_only = false;
	h->reused = false;
	h->retried = false;
	h->req_left = 0;
	h->req_done = false;
	h->resp_head_sent = false;
	h->resp_done = false;
	h->resp_left = 0;
	h->resp_seen = 0;
	h->splice_wait = false;
	h->splice_off = false;
	h->via = NULL;
}

static void session_http_process(struct session_http *h);

void
session_http_next(struct session_http *h)
{
	struct session *s = h->s;

	judge_cancel(&h->judge);
	h->via_dns = dns_cancel(h->via_dns);
	if (h->close_after || worker_is_stopping(s->worker)) {
		/* The snapshot stays to the close: the access log names it. */
		session_http_drain(h);
		return;
	}
	s->conf = proxy_conf_unref(s->conf);
	session_http_reset_exchange(h);
	session_set_state(s, SESSION_ST_HTTP_HEAD);
	(void)session_bev_enable(s->client.bev, EV_READ);
	session_timer_set(s, SESSION_TIMER_IDLE,
	    worker_get_conf(s->worker)->limits.idle_timeout_ms);
	session_http_process(h);
}

/*
 * Verdicts.
 */

static void
session_http_block(struct session_http *h)
{
	const struct policy_verdict *v = &h->judge.v;
	const char *reason = policy_verdict_reason(v, v->reason);
	const char *xerr = policy_reason_x_proxy_error(v->reason);
	const char *message = policy_verdict_message(v, v->reason);
	int r;

	h->close_after = session_http_must_close(h);
	slog_info(h->s, "blocked %s %s from %s: %s (%s)",
	    http_head_method(&h->req), LOG_US(h->s->target), h->s->client_text,
	    reason, policy_source_name(v->source));
	if (v->reason == POLICY_REASON_PROXY_DISABLED) {
		r = http_reply_text(&h->out, 503, message, NULL, h->close_after,
		    h->head_only);
	} else if (h->connect) {
		r = http_reply_text(&h->out, 403, message, xerr, h->close_after,
		    false);
	} else {
		struct http_block b = {
			.host = v->host_valid ? v->host.text : h->judge.host,
			.reason = reason,
			.decision = policy_decision_name(v->decision),
			.source = policy_source_name(v->source),
			.protocol = h->mitm ? "https" : "http",
			.port = h->judge.req.port,
			.message = message,
			.x_proxy_error = xerr,
		};

		r = http_reply_blocked(&h->out, &b, h->close_after,
		    h->head_only);
	}
	if (r < 0) {
		session_close(h->s, "out of memory");
		return;
	}
	session_http_answer(h);
}

static void
session_http_verdict(void *arg, struct judge *j)
{
	struct session_http *h = arg;
	const struct policy_verdict *v = &j->v;

	session_note_verdict(h->s, policy_decision_name(v->decision),
	    policy_verdict_reason(v, v->reason),
	    v->matched ? v->match.pattern : NULL);
	if (!judge_allowed(j)) {
		session_http_block(h);
		return;
	}
	session_http_route(h);
}

/*
 * x-unix-socket (spec §7.3): unix-socket proxying exists on macOS only.
 * The reference's order is kept: a malformed header, a disabled proxy and
 * a limited-mode method are refused first.
 */
static void
session_http_unix_report(struct session_http *h, enum policy_reason reason,
    enum policy_source source)
{
	struct session *s = h->s;
	struct policy_request req = {
		.protocol = POLICY_PROTOCOL_HTTP,
		.host = "unix-socket",
		.port = 0,
		.method = http_head_method(&h->req),
		.client = s->client_text,
	};
	struct policy_verdict v = {
		.next = POLICY_NEXT_DONE,
		.decision = POLICY_DECISION_DENY,
		.reason = reason,
		.source = source,
		.n_events = 1,
	};

	v.events[0] = (struct policy_event){
		.scope = POLICY_SCOPE_NON_DOMAIN,
		.decision = POLICY_DECISION_DENY,
		.reason = reason,
		.source = source,
	};
	(void)strlcpy(s->target, "unix-socket", sizeof(s->target));
	session_note_verdict(s, "deny", policy_reason_name(reason), NULL);
	stats_count_verdict(worker_get_stats(s->worker), &req, &v);
	proxy_report(worker_get_proxy(s->worker), s->conf, &req, &v);
}

static bool
session_http_visible_ascii(const char *v)
{
	if (!*v)
		return false;
	for (; *v; v++)
		if (*v < 0x21 || *v > 0x7e)
			return false;
	return true;
}

static void
session_http_unix_socket(struct session_http *h, size_t field)
{
	struct session *s = h->s;
	const char *path = http_head_str(&h->req, h->req.fields[field].value);
	const char *m = http_head_method(&h->req);
	int r;

	if (!session_http_visible_ascii(path) ||
	    http_head_count(&h->req, "x-unix-socket") > 1) {
		session_http_fail(h, 400, "invalid x-unix-socket header");
		return;
	}
	if (!policy_enabled(s->conf->policy)) {
		session_http_unix_report(h, POLICY_REASON_PROXY_DISABLED,
		    POLICY_SOURCE_PROXY_STATE);
		session_http_fail(h, 503,
		    policy_reason_message(POLICY_REASON_PROXY_DISABLED));
		return;
	}
	if (policy_get_mode(s->conf->policy) == POLICY_MODE_LIMITED &&
	    !streq(m, "GET") && !streq(m, "HEAD") && !streq(m, "OPTIONS")) {
		struct http_block b = {
			.host = "unix-socket",
			.reason = "method_not_allowed",
			.port = -1,
			.x_proxy_error = policy_reason_x_proxy_error(
			    POLICY_REASON_METHOD_NOT_ALLOWED),
		};

		session_http_unix_report(h, POLICY_REASON_METHOD_NOT_ALLOWED,
		    POLICY_SOURCE_MODE_GUARD);
		h->close_after = session_http_must_close(h);
		r = http_reply_blocked(&h->out, &b, h->close_after,
		    h->head_only);
		if (r < 0) {
			session_close(s, "out of memory");
			return;
		}
		session_http_answer(h);
		return;
	}
	session_http_unix_report(h, POLICY_REASON_UNIX_SOCKET_UNSUPPORTED,
	    POLICY_SOURCE_PROXY_STATE);
	session_http_fail(h, 501, "unix sockets unsupported");
}

/*
 * A complete request head: find where it goes, then judge it.
 */
static int
session_http_destination(struct session_http *h, const char **reterr)
{
	const struct http_head *q = &h->req;
	struct http_authority host;
	ssize_t i = http_head_find(q, "host", 0);
	enum http_target_error te;

	if (h->mitm)
		return session_http_mitm_destination(h, reterr);
	te = http_target_parse(http_head_str(q, q->target), q->target.len,
	    h->connect, &h->target);
	if (te != HTTP_TARGET_OK) {
		*reterr = http_target_error_message(te);
		return te == HTTP_TARGET_HTTPS ? 501 : 400;
	}
	/* RFC 9112 §3.2: more than one Host is always an error. */
	if (http_head_count(q, "host") > 1) {
		*reterr = "more than one Host header";
		return 400;
	}
	if (i >= 0 &&
	    http_authority_parse(http_head_str(q, q->fields[i].value),
		q->fields[i].value.len, 80, false, &host) != HTTP_TARGET_OK) {
		*reterr = "invalid Host header";
		return 400;
	}
	switch (h->target.form) {
	case HTTP_TARGET_AUTHORITY:
		h->dest = h->target.authority;
		return 0;
	case HTTP_TARGET_ABSOLUTE:
		h->dest = h->target.authority;
		/* spec §4.3 step 4: the Host must name the same place. */
		if (i >= 0 && !http_authority_matches(&h->dest, &host)) {
			*reterr = "Host header does not match request target";
			return 400;
		}
		return 0;
	default:
		/* Origin-form (and "*"): routed by Host. */
		if (i < 0) {
			*reterr = "missing host";
			return 400;
		}
		h->dest = host;
		return 0;
	}
}

static void
session_http_exchange_begin(struct session_http *h)
{
	struct session *s = h->s;
	const char *err = NULL;
	ssize_t unix_field;
	int status;

	h->connect = h->req.method == HTTP_CONNECT;
	h->head_only = h->req.method == HTTP_HEAD;
	h->req_done = h->req.body == HTTP_BODY_NONE;
	h->close_after = !h->req.keep_alive;
	s->conf = proxy_conf_ref(worker_get_conf(s->worker));
	s->requests++;
	session_set_state(s, SESSION_ST_RESOLVING);
	unix_field = http_head_find(&h->req, "x-unix-socket", 0);
	if (unix_field >= 0) {
		session_http_unix_socket(h, (size_t)unix_field);
		return;
	}
	status = session_http_destination(h, &err);
	if (status) {
		slog_info(s, "refusing request from %s: %s", s->client_text,
		    err);
		/* A client that disagrees with itself about where a request
		 * goes is not trusted with the next one (spec §4.3 step 4). */
		h->close_after = true;
		session_http_fail(h, (unsigned)status, err);
		return;
	}
	session_note_target(s, h->dest.host, h->dest.port);
	judge_init(&h->judge, s,
	    h->mitm        ? POLICY_PROTOCOL_HTTPS :
		h->connect ? POLICY_PROTOCOL_HTTPS_CONNECT :
			     POLICY_PROTOCOL_HTTP,
	    h->dest.host, h->dest.port, http_head_method(&h->req));
	if (judge_run(&h->judge, session_http_verdict, h) == JUDGE_DONE)
		session_http_verdict(h, &h->judge);
}

enum parse_result
session_http_feed_head(struct http_parser *p, struct evbuffer *in,
    size_t *ret_consumed)
{
	enum parse_result r = PARSE_AGAIN;

	*ret_consumed = 0;
	while (r == PARSE_AGAIN && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v[SESSION_HTTP_PEEK_SEGMENTS];
		int n =
		    evbuffer_peek(in, -1, NULL, v, SESSION_HTTP_PEEK_SEGMENTS);
		size_t consumed = 0;

		for (int i = 0; i < n && r == PARSE_AGAIN; i++) {
			size_t used;

			r = http_parser_feed_head(p, v[i].iov_base,
			    v[i].iov_len, &used);
			consumed += used;
		}
		/* Exactly what the head used: the rest stays buffered. */
		evbuffer_drain(in, consumed);
		*ret_consumed += consumed;
		if (consumed == 0)
			break;
	}
	return r;
}

/* Feed buffered client bytes to the head parser. */
static enum parse_result
session_http_feed_request(struct session_http *h)
{
	size_t consumed;
	enum parse_result r = session_http_feed_head(&h->reqp,
	    session_http_client_in(h), &consumed);

	h->s->client.bytes += consumed;
	return r;
}

static void
session_http_process(struct session_http *h)
{
	struct session *s = h->s;

	if (h->processing)
		return;
	h->processing = true;
	while (s->state == SESSION_ST_HTTP_HEAD) {
		enum parse_result r;

		if (evbuffer_get_length(session_http_client_in(h)) == 0) {
			if (s->client.eof)
				session_close(s,
				    h->reqp.head_bytes ?
					"client closed mid-request" :
					"client closed");
			break;
		}
		if (s->timer_kind != SESSION_TIMER_HEAD)
			session_timer_set(s, SESSION_TIMER_HEAD,
			    worker_get_conf(s->worker)->limits.head_timeout_ms);
		r = session_http_feed_request(h);
		if (r == PARSE_AGAIN)
			continue;
		if (r == PARSE_ERROR) {
			session_http_fail_head(h, h->reqp.error_status,
			    h->reqp.error);
			break;
		}
		session_timer_clear(s);
		session_http_exchange_begin(h);
	}
	h->processing = false;
}

/*
 * Client callbacks, by state.
 */
static void
session_http_client_read_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	struct session_http *h = session_http_of(s);

	switch (s->state) {
	case SESSION_ST_HTTP_HEAD:
		session_http_process(h);
		break;
	case SESSION_ST_RELAY:
		session_http_forward_client_read(h);
		break;
	case SESSION_ST_DRAINING:
		evbuffer_drain(bufferevent_get_input(bev),
		    evbuffer_get_length(bufferevent_get_input(bev)));
		break;
	default:
		/* Resolving or connecting: the bytes wait (bounded). */
		break;
	}
}

static void
session_http_client_write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	struct session_http *h = session_http_of(s);

	if (s->state == SESSION_ST_RELAY) {
		session_http_forward_client_write(h);
		return;
	}
	if (s->state == SESSION_ST_DRAINING &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0 &&
	    !s->client.shut)
		session_http_linger(h);
}

static void
session_http_client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	struct session_http *h = session_http_of(s);

	(void)bev;
	if (s->state == SESSION_ST_TLS_ACCEPT) {
		if (what & BEV_EVENT_CONNECTED)
			session_http_mitm_accepted(h);
		else
			session_close(s, "client TLS handshake failed");
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		session_close(s, "client connection error");
		return;
	}
	if (!(what & BEV_EVENT_EOF))
		return;
	s->client.eof = true;
	switch (s->state) {
	case SESSION_ST_HTTP_HEAD:
		/* Requests sent before the EOF are still answered. */
		session_http_process(h);
		break;
	case SESSION_ST_RELAY:
		session_http_forward_client_event(h, what);
		break;
	case SESSION_ST_DRAINING:
		if (s->client.shut)
			session_close(s, session_http_done_reason(h));
		break;
	default:
		h->close_after = true;
		break;
	}
}

/*
 * The front end's hooks.
 */
void
session_http_client_callbacks(struct session *s, struct bufferevent *bev)
{
	bufferevent_setcb(bev, session_http_client_read_cb,
	    session_http_client_write_cb, session_http_client_event_cb, s);
}

int
session_http_state_new(struct session *s)
{
	struct session_http *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->s = s;
	s->fe_state = h;
	http_head_init(&h->req, HTTP_KIND_REQUEST);
	http_head_init(&h->resp, HTTP_KIND_RESPONSE);
	http_parser_init(&h->reqp, HTTP_KIND_REQUEST, &h->req);
	http_parser_init(&h->respp, HTTP_KIND_RESPONSE, &h->resp);
	buf_init(&h->out, 0);
	h->wire = evbuffer_new();
	if (!h->wire)
		return -ENOMEM;
	h->judge.s = s;
	return 0;
}

static int
session_http_start(struct session *s)
{
	int r = session_http_state_new(s);

	if (r < 0)
		return r;
	return session_await_head(s, SESSION_ST_HTTP_HEAD,
	    session_http_client_read_cb, session_http_client_write_cb,
	    session_http_client_event_cb);
}

static void
session_http_timeout(struct session *s, enum session_timer t)
{
	struct session_http *h = session_http_of(s);

	switch (t) {
	case SESSION_TIMER_HEAD:
		if (s->state == SESSION_ST_TLS_ACCEPT) {
			session_close(s, "client TLS handshake timeout");
			return;
		}
		if (h->reqp.head_bytes == 0) {
			session_close(s, "idle timeout");
			return;
		}
		session_http_fail_head(h, 408,
		    "the request head took too long");
		return;
	case SESSION_TIMER_DECIDER:
		judge_decider_timeout(&h->judge);
		return;
	case SESSION_TIMER_CHAIN:
		session_drop_upstream(s);
		session_http_fail(h, 504,
		    h->mitm && !h->via ?
			"the origin did not complete the TLS handshake in "
			"time" :
			"upstream proxy did not answer the CONNECT in time");
		return;
	case SESSION_TIMER_IDLE:
		if (s->state == SESSION_ST_RELAY && !h->resp_head_sent) {
			session_http_forward_stop(h);
			session_drop_upstream(s);
			session_http_fail(h, 504,
			    "upstream did not answer in time");
			return;
		}
		session_close(s, "idle timeout");
		return;
	case SESSION_TIMER_DRAIN:
	default:
		session_close(s, session_http_done_reason(h));
		return;
	}
}

static void
session_http_shutdown(struct session *s)
{
	struct session_http *h = session_http_of(s);

	if (s->state == SESSION_ST_HTTP_HEAD && h->reqp.head_bytes == 0 &&
	    evbuffer_get_length(session_http_client_in(h)) == 0) {
		session_close(s, "shutdown");
		return;
	}
	h->close_after = true;
}

static void
session_http_closed(struct session *s)
{
	struct session_http *h = session_http_of(s);

	if (!h)
		return; /* the start failed to allocate it */
	session_http_forward_stop(h);
	judge_cancel(&h->judge);
	h->via_dns = dns_cancel(h->via_dns);
	/* The client left; its parked connection can serve others. */
	session_http_release_kept(h);
}

static void
session_http_free(struct session *s)
{
	struct session_http *h = session_http_of(s);

	if (!h)
		return; /* the start failed to allocate it */
	http_head_done(&h->req);
	http_head_done(&h->resp);
	buf_done(&h->out);
	if (h->wire)
		evbuffer_free(h->wire);
	free(h);
	s->fe_state = NULL;
}

const struct session_frontend session_http_frontend = {
	.name = "http",
	.start = session_http_start,
	.timeout = session_http_timeout,
	.shutdown = session_http_shutdown,
	.closed = session_http_closed,
	.free = session_http_free,
};
