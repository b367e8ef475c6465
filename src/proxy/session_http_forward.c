/* SPDX-License-Identifier: MIT */
/*
 * One plain-HTTP exchange, streamed: the request head and body out, the
 * response head and body back. Bodies are never buffered whole: at most
 * LIMIT_RELAY_HIWAT bytes wait in either direction before the source is
 * paused (STYLE.md §7). Framing is ours on both sides: a Content-Length
 * body is moved as is, a chunked body is decoded and re-chunked (so chunk
 * extensions and trailers never travel), and a large Content-Length
 * response body is spliced socket to socket when both halves are raw
 * sockets (session_can_splice()). A body that ends early or
 * does not parse ends the connection: the other side can't be told
 * otherwise once its answer started.
 */
#include "proxy/session_http.h"

#include <errno.h>
#include <stdio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "proxy/pool.h"
#include "proxy/splice.h"
#include "proxy/upstream.h"
#include "proxy/worker.h"
#include "util/limits.h"
#include "wire/http_write.h"

static void session_http_forward_response(struct session_http *h);

static struct evbuffer *
session_http_forward_client_in(struct session_http *h)
{
	return bufferevent_get_input(h->s->client.bev);
}

static struct evbuffer *
session_http_forward_client_out(struct session_http *h)
{
	return bufferevent_get_output(h->s->client.bev);
}

static struct evbuffer *
session_http_forward_up_in(struct session_http *h)
{
	return bufferevent_get_input(h->s->upstream.bev);
}

static struct evbuffer *
session_http_forward_up_out(struct session_http *h)
{
	return bufferevent_get_output(h->s->upstream.bev);
}

/* Where decoded body bytes go. Parser callbacks only append (they run
 * inside llhttp's on_body), so a failed append is noted here and the
 * driver fails the exchange: a chunk must never vanish unnoticed. */
struct session_http_forward_sink {
	struct evbuffer *out;
	bool failed; /* an append failed: out misses body bytes */
};

/* Re-chunk decoded body bytes (RFC 9112 §7.1). */
static void
session_http_forward_chunk_sink(void *userdata, const char *p, size_t n)
{
	struct session_http_forward_sink *k = userdata;

	if (k->failed)
		return;
	if (evbuffer_add_printf(k->out, "%zx\r\n", n) < 0 ||
	    evbuffer_add(k->out, p, n) < 0 ||
	    evbuffer_add(k->out, "\r\n", 2) < 0)
		k->failed = true;
}

/* Decoded body bytes as they are, for an HTTP/1.0 client: the body ends
 * when the connection does. */
static void
session_http_forward_plain_sink(void *userdata, const char *p, size_t n)
{
	struct session_http_forward_sink *k = userdata;

	if (!k->failed && evbuffer_add(k->out, p, n) < 0)
		k->failed = true;
}

/* Feed a chunked body from in to parser, into out re-chunked, or decoded
 * when the receiver cannot take chunks (rechunk false). Returns 1 when the
 * body is complete, 0 when more is to come, -EPROTO when it does not
 * parse, or -ENOMEM when decoded bytes could not be added to out. */
static int
session_http_forward_chunked(struct http_parser *parser, struct evbuffer *in,
    struct evbuffer *out, uint64_t *counter, bool rechunk)
{
	struct session_http_forward_sink k = { .out = out };
	enum parse_result r = PARSE_AGAIN;

	while (r == PARSE_AGAIN && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v[SESSION_HTTP_PEEK_SEGMENTS];
		int n =
		    evbuffer_peek(in, -1, NULL, v, SESSION_HTTP_PEEK_SEGMENTS);
		size_t consumed = 0;

		for (int i = 0; i < n && r == PARSE_AGAIN; i++) {
			size_t used;

			r = http_parser_feed_body(parser, v[i].iov_base,
			    v[i].iov_len, &used,
			    rechunk ? session_http_forward_chunk_sink :
				      session_http_forward_plain_sink,
			    &k);
			consumed += used;
		}
		evbuffer_drain(in, consumed);
		*counter += consumed;
		if (consumed == 0)
			break;
	}
	if (k.failed ||
	    (r == PARSE_DONE && rechunk &&
		evbuffer_add(out, "0\r\n\r\n", 5) < 0))
		return -ENOMEM;
	if (r == PARSE_ERROR)
		return -EPROTO;
	return r == PARSE_DONE ? 1 : 0;
}

/* Backpressure (STYLE.md §7): past the high watermark, stop reading the
 * source until the destination drained to the low one. */
static void
session_http_forward_throttle(struct bufferevent *src, struct bufferevent *dst)
{
	if (evbuffer_get_length(bufferevent_get_output(dst)) <
	    LIMIT_RELAY_HIWAT)
		return;
	(void)bufferevent_disable(src, EV_READ);
	bufferevent_setwatermark(dst, EV_WRITE, LIMIT_RELAY_LOWAT, 0);
}

static void
session_http_forward_unthrottle(struct bufferevent *src,
    struct bufferevent *dst)
{
	if (bufferevent_get_enabled(src) & EV_READ)
		return;
	bufferevent_setwatermark(dst, EV_WRITE, 0, 0);
	(void)bufferevent_enable(src, EV_READ);
}

/* Send what was built in h->wire to dst (at once when nothing is queued
 * there). Returns 0 or -ENOMEM. */
static int
session_http_forward_flush(struct session_http *h, struct half *dst)
{
	return session_send(dst, h->wire, evbuffer_get_length(h->wire));
}

/* An answer is incomplete after a read: the origin may be holding its
 * next piece back until we acknowledge this one (Nagle), and the kernel
 * may be delaying that acknowledgement by 40 ms (tcpopt.h). Asking for
 * quick acknowledgements sends the pending one now, and the kernel stays
 * quick until we next send on this connection: once per answer is
 * enough (unless request bytes are still to go), and an answer read
 * whole costs no system call. */
static void
session_http_forward_await(struct session_http *h)
{
	struct bufferevent *up = h->s->upstream.bev;

	if (h->resp_quickack || !h->req_done ||
	    evbuffer_get_length(bufferevent_get_output(up)) > 0)
		return;
	h->resp_quickack = true;
	session_quickack(&h->s->upstream);
}

/* Both directions are complete: keep what can be kept, then move on. */
static void
session_http_forward_finish(struct session_http *h)
{
	struct session *s = h->s;
	bool reusable = h->resp.keep_alive && h->req_done && !h->body_splice &&
	    !s->upstream.eof &&
	    evbuffer_get_length(session_http_forward_up_in(h)) == 0 &&
	    evbuffer_get_length(session_http_forward_up_out(h)) == 0;

	/* A reusable connection stays with this client, which most likely
	 * asks the same server again; it goes to the pool only when the
	 * client goes elsewhere or goes away (session_http_keep()). */
	if (reusable && !worker_is_stopping(s->worker))
		session_http_keep(h);
	else
		session_drop_upstream(s);
	if (!h->req_done)
		h->close_after = true; /* the rest of its body is unread */
	session_timer_clear(s);
	session_http_next(h);
}

static void
session_http_forward_response_done(struct session_http *h)
{
	h->resp_done = true;
	session_http_forward_finish(h);
}

/* Memory ran out while the request body was re-chunked: the upstream
 * would get it without a chunk, so the exchange fails. A client without
 * an answer yet is told (503, when that can still be built); the
 * connection ends either way, since the rest of its body is unread. */
static void
session_http_forward_lost(struct session_http *h)
{
	struct session *s = h->s;

	slog_warn(s, "out of memory re-chunking a request body for %s",
	    LOG_US(s->target));
	if (h->resp_head_sent) {
		session_close(s, "out of memory");
		return;
	}
	evbuffer_drain(h->wire, evbuffer_get_length(h->wire));
	session_drop_upstream(s);
	h->close_after = true;
	h->close_reason = "out of memory";
	session_http_fail(h, 503, "proxy is out of memory");
}

static void
session_http_forward_request_body(struct session_http *h)
{
	struct session *s = h->s;
	struct evbuffer *in = session_http_forward_client_in(h),
			*wire = h->wire;
	int r;

	if (h->req_done) {
		/* No body: the head alone goes (it may be waiting in wire). */
		if (session_http_forward_flush(h, &s->upstream) < 0)
			session_close(s, "out of memory");
		return;
	}
	if (h->req.body == HTTP_BODY_LENGTH) {
		size_t avail = evbuffer_get_length(in),
		       n = avail < h->req_left ? avail : (size_t)h->req_left;

		if (n > 0 && evbuffer_remove_buffer(in, wire, n) != (int)n) {
			session_close(s, "out of memory");
			return;
		}
		h->req_left -= n;
		s->client.bytes += n;
		h->req_done = h->req_left == 0;
	} else {
		r = session_http_forward_chunked(&h->reqp, in, wire,
		    &s->client.bytes, true);
		if (r == -ENOMEM) {
			session_http_forward_lost(h);
			return;
		}
		if (r < 0) {
			evbuffer_drain(wire, evbuffer_get_length(wire));
			session_drop_upstream(s);
			session_http_fail(h, 400,
			    h->reqp.error ? h->reqp.error : "bad chunked body");
			return;
		}
		h->req_done = r == 1;
	}
	if (session_http_forward_flush(h, &s->upstream) < 0) {
		session_close(s, "out of memory");
		return;
	}
	session_touch(s);
	if (h->req_done) {
		if (h->resp_done)
			session_http_forward_finish(h);
		return;
	}
	if (s->client.eof && evbuffer_get_length(in) == 0) {
		session_close(s, "client closed mid-request");
		return;
	}
	session_http_forward_throttle(s->client.bev, s->upstream.bev);
}

/*
 * Splicing a large Content-Length response body.
 */
static void
session_http_forward_splice_cb(void *arg, enum splice_event ev, uint64_t n,
    int err, bool to_side)
{
	struct session_http *h = arg;
	struct session *s = h->s;

	switch (ev) {
	case SPLICE_PROGRESS:
		s->upstream.bytes += n;
		h->resp_left -= n;
		session_touch(s);
		return;
	case SPLICE_DONE:
		h->body_splice = splice_dir_free(h->body_splice);
		(void)bufferevent_enable(s->upstream.bev, EV_READ);
		session_http_forward_response_done(h);
		return;
	case SPLICE_EOF:
		session_close(s, "upstream closed mid-response");
		return;
	case SPLICE_ERROR:
	default:
		(void)err;
		session_close(s,
		    to_side ? "client connection error" :
			      "upstream connection error");
		return;
	}
}

/* A large rest of a Content-Length body goes by splice(2): stop reading
 * upstream, let the client drain what is already queued, then splice
 * (at once when nothing is queued, else from
 * session_http_forward_client_write()). */
static bool session_http_forward_try_splice(struct session_http *h);

static void
session_http_forward_wait_for_splice(struct session_http *h)
{
	struct session *s = h->s;

	h->splice_wait = true;
	(void)bufferevent_disable(s->upstream.bev, EV_READ);
	bufferevent_setwatermark(s->client.bev, EV_WRITE, 0, 0);
	if (evbuffer_get_length(session_http_forward_client_out(h)) == 0 &&
	    evbuffer_get_length(session_http_forward_up_in(h)) == 0 &&
	    !session_http_forward_try_splice(h))
		session_http_forward_client_write(h);
}

static bool
session_http_forward_try_splice(struct session_http *h)
{
	struct session *s = h->s;

	h->splice_wait = false;
	h->body_splice = session_splice(s, &s->upstream, h->resp_left,
	    session_http_forward_splice_cb, h);
	if (!h->body_splice) {
		h->splice_off = true;
		return false;
	}
	/* The sockets belong to the splice until the body is through. */
	(void)bufferevent_disable(s->client.bev, EV_WRITE);
	return true;
}

/*
 * The response.
 */
static int
session_http_forward_response_head(struct session_http *h)
{
	size_t consumed;
	enum parse_result r = session_http_feed_head(&h->respp,
	    session_http_forward_up_in(h), &consumed);

	h->resp_seen += consumed;
	h->s->upstream.bytes += consumed;
	if (r == PARSE_ERROR)
		return -EPROTO;
	return r == PARSE_DONE ? 1 : 0;
}

/* A complete response head: interim answers pass (to HTTP/1.1 clients),
 * the final one decides the framing. Both go to h->wire. Returns 1 when a
 * final head was written, 0 for an interim one, or a negative errno. */
static int
session_http_forward_send_head(struct session_http *h)
{
	const struct http_head *r = &h->resp;
	int rc;

	if (r->status == 101)
		return -EPROTO; /* we never ask for an upgrade */
	if (r->status < 200) {
		/* RFC 9110 §15.2: never to an HTTP/1.0 client. */
		if (h->req.minor >= 1 &&
		    (http_write_response(r, false, 1, &h->out) < 0 ||
			session_http_stage(h) < 0))
			return -ENOMEM;
		http_parser_next(&h->respp);
		http_parser_set_request(&h->respp, h->head_only, false);
		return 0;
	}
	/* RFC 9112 §6.1: no chunks for an HTTP/1.0 client; its body is
	 * delimited by the close instead. */
	if (r->body == HTTP_BODY_UNTIL_EOF ||
	    (r->body == HTTP_BODY_CHUNKED && h->req.minor == 0) ||
	    worker_is_stopping(h->s->worker))
		h->close_after = true;
	rc = http_write_response(r, h->close_after, h->req.minor, &h->out);
	if (rc < 0 || session_http_stage(h) < 0)
		return -ENOMEM;
	h->resp_head_sent = true;
	h->resp_left = r->content_length;
	return 1;
}

enum forward_next {
	FORWARD_MORE,   /* go on */
	FORWARD_IDLE,   /* everything available was handled */
	FORWARD_DONE,   /* the response is complete */
	FORWARD_SPLICE, /* the rest of the body goes by splice(2) */
	FORWARD_FAILED, /* the exchange ended (answered or closed) */
};

static enum forward_next
session_http_forward_response_head_step(struct session_http *h)
{
	struct session *s = h->s;
	int r = session_http_forward_response_head(h);

	if (r == 0)
		return FORWARD_IDLE;
	if (r > 0)
		r = session_http_forward_send_head(h);
	if (r == -ENOMEM) {
		session_close(s, "out of memory");
		return FORWARD_FAILED;
	}
	if (r < 0) {
		evbuffer_drain(h->wire, evbuffer_get_length(h->wire));
		session_drop_upstream(s);
		session_http_fail(h, 502,
		    h->respp.error ? "invalid response from upstream" :
				     "unexpected response from upstream");
		return FORWARD_FAILED;
	}
	session_touch(s);
	if (r > 0 && h->resp.body == HTTP_BODY_NONE)
		return FORWARD_DONE;
	return FORWARD_MORE;
}

/* Move what the upstream sent into h->wire, decoding and re-framing. */
static enum forward_next
session_http_forward_response_step(struct session_http *h)
{
	struct session *s = h->s;
	struct evbuffer *in = session_http_forward_up_in(h);
	size_t n;
	int r;

	if (!h->resp_head_sent)
		return session_http_forward_response_head_step(h);
	if (evbuffer_get_length(in) == 0)
		return FORWARD_IDLE;
	session_touch(s);
	if (h->resp.body == HTTP_BODY_CHUNKED) {
		r = session_http_forward_chunked(&h->respp, in, h->wire,
		    &s->upstream.bytes, h->req.minor >= 1);
		if (r < 0) {
			/* The client has this response's head: only the
			 * close can tell it the body is incomplete. */
			session_close(s,
			    r == -ENOMEM ?
				"out of memory" :
				"invalid chunked body from upstream");
			return FORWARD_FAILED;
		}
		return r == 1 ? FORWARD_DONE : FORWARD_IDLE;
	}
	n = evbuffer_get_length(in);
	if (h->resp.body == HTTP_BODY_LENGTH && n > h->resp_left)
		n = (size_t)h->resp_left;
	if (evbuffer_remove_buffer(in, h->wire, n) != (int)n) {
		session_close(s, "out of memory");
		return FORWARD_FAILED;
	}
	s->upstream.bytes += n;
	if (h->resp.body != HTTP_BODY_LENGTH)
		return FORWARD_IDLE;
	h->resp_left -= n;
	if (h->resp_left == 0)
		return FORWARD_DONE;
	/* Only socket to socket: a wrapped (TLS) half's bytes must pass
	 * through its bufferevent. */
	if (!h->splice_off && h->resp_left >= LIMIT_SPLICE_MIN_BYTES &&
	    session_can_splice(s))
		return FORWARD_SPLICE;
	return FORWARD_IDLE;
}

static void
session_http_forward_response(struct session_http *h)
{
	struct session *s = h->s;
	enum forward_next next = FORWARD_MORE;
	bool got;

	if (h->resp_done || h->body_splice || h->splice_wait)
		return;
	got = evbuffer_get_length(session_http_forward_up_in(h)) > 0;
	while (next == FORWARD_MORE)
		next = session_http_forward_response_step(h);
	if (next == FORWARD_FAILED)
		return;
	/* What was built goes out before anything else happens. */
	if (session_http_forward_flush(h, &s->client) < 0) {
		session_close(s, "out of memory");
		return;
	}
	switch (next) {
	case FORWARD_DONE:
		session_http_forward_response_done(h);
		return;
	case FORWARD_SPLICE:
		session_http_forward_wait_for_splice(h);
		return;
	default:
		if (got)
			session_http_forward_await(h);
		session_http_forward_throttle(s->upstream.bev, s->client.bev);
		return;
	}
}

/*
 * Upstream callbacks.
 */
static void
session_http_forward_up_read_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	(void)bev;
	session_http_forward_response(s->fe_state);
}

static void
session_http_forward_up_write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	struct session_http *h = s->fe_state;

	(void)bev;
	if (h->req_done)
		return;
	session_http_forward_unthrottle(s->client.bev, s->upstream.bev);
	session_http_forward_request_body(h);
}

static bool
session_http_forward_may_retry(const struct session_http *h)
{
	/* RFC 9110 §9.2.2: an idempotent request that never reached an
	 * answer may be sent again, once, on a fresh connection. */
	static const uint8_t idempotent[] = { HTTP_GET, HTTP_HEAD, HTTP_OPTIONS,
		HTTP_TRACE, HTTP_PUT, HTTP_DELETE };

	if (!h->reused || h->retried || h->resp_seen > 0 ||
	    h->req.body != HTTP_BODY_NONE)
		return false;
	for (size_t i = 0; i < sizeof(idempotent); i++)
		if (h->req.method == idempotent[i])
			return true;
	return false;
}

static void
session_http_forward_up_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	struct session_http *h = s->fe_state;
	bool eof = (what & BEV_EVENT_EOF) != 0;

	(void)bev;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	s->upstream.eof = true;
	if (eof && h->resp_head_sent && h->resp.body == HTTP_BODY_UNTIL_EOF) {
		session_http_forward_response(h);
		if (!session_is_closed(s) && !h->resp_done)
			session_http_forward_response_done(h);
		return;
	}
	if (h->resp_head_sent) {
		session_close(s, "upstream closed mid-response");
		return;
	}
	if (session_http_forward_may_retry(h)) {
		slog_debug(s,
		    "reused upstream connection was closed; "
		    "dialing again");
		session_http_forward_stop(h);
		session_drop_upstream(s);
		h->retried = true;
		h->reused = false;
		session_http_redial(h);
		return;
	}
	session_drop_upstream(s);
	session_http_fail(h, 502,
	    eof ? "upstream closed the connection" :
		  "upstream connection failed");
}

/*
 * Entry points.
 */
void
session_http_forward_start(struct session_http *h)
{
	struct session *s = h->s;
	struct bufferevent *up = s->upstream.bev;

	bufferevent_setcb(up, session_http_forward_up_read_cb,
	    session_http_forward_up_write_cb, session_http_forward_up_event_cb,
	    s);
	/* A TLS bufferevent reads 4 KiB per SSL_read() without a high
	 * watermark: a record then reaches the client's TLS layer in pieces
	 * and leaves as several smaller records, a system call each. With
	 * one, it reads up to a whole record into one run of memory. */
	bufferevent_setwatermark(up, EV_READ, 0,
	    h->mitm ? LIMIT_RELAY_HIWAT : 0);
	bufferevent_setwatermark(up, EV_WRITE, 0, 0);
	http_parser_next(&h->respp);
	http_parser_set_request(&h->respp, h->head_only, false);
	h->resp_seen = 0;
	h->resp_quickack = false;
	h->resp_head_sent = false;
	h->splice_wait = false;
	h->req_left = h->req.content_length;
	h->req_done = h->req.body == HTTP_BODY_NONE;
	/* Inside TLS (interception), even through an upstream proxy, the
	 * origin gets origin-form and never the proxy's credentials. */
	bool via = h->via && !h->mitm;

	if (http_write_request(&h->req, &h->target, &h->dest, via,
		via ? h->via->authorization : NULL, &h->out) < 0 ||
	    session_http_stage(h) < 0) {
		session_close(s, "out of memory");
		return;
	}
	(void)session_bev_enable(up, EV_READ);
	/* The head leaves with the first body bytes, in one write. */
	session_timer_set(s, SESSION_TIMER_IDLE,
	    s->conf->limits.idle_timeout_ms);
	session_http_forward_request_body(h);
}

void
session_http_forward_client_read(struct session_http *h)
{
	session_http_forward_request_body(h);
}

void
session_http_forward_client_write(struct session_http *h)
{
	struct session *s = h->s;

	if (h->body_splice || !s->upstream.bev)
		return;
	if (h->splice_wait &&
	    evbuffer_get_length(session_http_forward_client_out(h)) == 0 &&
	    evbuffer_get_length(session_http_forward_up_in(h)) == 0 &&
	    session_http_forward_try_splice(h))
		return;
	h->splice_wait = false;
	session_http_forward_unthrottle(s->upstream.bev, s->client.bev);
	session_http_forward_response(h);
}

void
session_http_forward_client_event(struct session_http *h, short what)
{
	(void)what;
	if (!h->req_done) {
		session_http_forward_request_body(h);
		return;
	}
	/* The request is complete: the answer is still delivered. */
	h->close_after = true;
}

void
session_http_forward_stop(struct session_http *h)
{
	h->body_splice = splice_dir_free(h->body_splice);
}
