/* SPDX-License-Identifier: MIT */
/*
 * The tunnel relay. Two modes: buffered (bufferevents, used while any
 * bytes sit in user space) and spliced (one splice_dir per direction that
 * is still open). The switch happens once, when every buffer is empty.
 */
#include "proxy/relay.h"

#include <errno.h>
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "proxy/session.h"
#include "proxy/splice.h"
#include "proxy/worker.h"
#include "util/limits.h"

enum {
	RELAY_UP,   /* client -> upstream */
	RELAY_DOWN, /* upstream -> client */
	_RELAY_DIR_MAX,
};

struct relay_dir {
	struct relay *relay;
	struct half *src;
	struct splice_dir *splice;
};

struct relay {
	struct session *s;
	bool spliced;
	struct relay_dir dir[_RELAY_DIR_MAX];
};

static struct half *
relay_half(struct session *s, struct bufferevent *bev)
{
	return bev == s->client.bev ? &s->client : &s->upstream;
}

static const char *
relay_error_reason(const struct session *s, const struct half *h, int err)
{
	bool client = h == &s->client;

	if (err == ECONNRESET || err == EPIPE)
		return client ? "client reset" : "upstream reset";
	if (err == ETIMEDOUT)
		return client ? "client timed out" : "upstream timed out";
	return client ? "client connection error" : "upstream connection error";
}

static bool
relay_buffers_empty(struct session *s)
{
	return evbuffer_get_length(bufferevent_get_input(s->client.bev)) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(s->client.bev)) == 0 &&
	    evbuffer_get_length(bufferevent_get_input(s->upstream.bev)) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(s->upstream.bev)) == 0;
}

static void relay_splice_begin(struct relay *r);

/* The client's bytes reached the upstream socket: an answer is likely
 * awaited, and its pieces must not wait for our delayed acknowledgement
 * (tcpopt.h). Sending re-entered the delaying mode; leave it. */
static void
relay_await(struct session *s)
{
	if (evbuffer_get_length(bufferevent_get_output(s->upstream.bev)) == 0)
		session_quickack(&s->upstream);
}

/* Done when both sides ended and both EOFs were passed on. Otherwise,
 * with nothing buffered and both halves raw, hand the rest to splice(2):
 * a wrapped half's bytes always pass through its bufferevent. */
static void
relay_check(struct relay *r)
{
	struct session *s = r->s;

	if (s->client.eof && s->upstream.eof && s->client.shut &&
	    s->upstream.shut) {
		session_close(s, "done");
		return;
	}
	if (!r->spliced && session_can_splice(s) && relay_buffers_empty(s))
		relay_splice_begin(r);
}

/* Move what src has read to its peer's output, with backpressure. */
static int
relay_move(struct session *s, struct half *src)
{
	struct half *dst = src->peer;
	struct evbuffer *in = bufferevent_get_input(src->bev),
			*out = bufferevent_get_output(dst->bev);
	size_t n = evbuffer_get_length(in);

	if (n == 0)
		return 0;
	if (session_send(dst, in, n) < 0)
		return -ENOMEM;
	if (src == &s->client)
		relay_await(s);
	src->bytes += n;
	session_touch(s);
	if (evbuffer_get_length(out) >= LIMIT_RELAY_HIWAT) {
		(void)bufferevent_disable(src->bev, EV_READ);
		bufferevent_setwatermark(dst->bev, EV_WRITE, LIMIT_RELAY_LOWAT,
		    0);
	}
	return 0;
}

static void
relay_read_cb(struct bufferevent *bev, void *arg)
{
	struct relay *r = arg;
	struct session *s = r->s;

	if (relay_move(s, relay_half(s, bev)) < 0) {
		session_close(s, "out of memory");
		return;
	}
	/* Sent straight through, nothing is queued: no write callback will
	 * come to notice that splicing can start. */
	relay_check(r);
}

/* dst's output drained (to the low watermark, or empty). */
static void
relay_write_cb(struct bufferevent *bev, void *arg)
{
	struct relay *r = arg;
	struct session *s = r->s;
	struct half *dst = relay_half(s, bev), *src = dst->peer;

	if (!src->eof && !(bufferevent_get_enabled(src->bev) & EV_READ)) {
		bufferevent_setwatermark(dst->bev, EV_WRITE, 0, 0);
		(void)bufferevent_enable(src->bev, EV_READ);
	}
	if (evbuffer_get_length(bufferevent_get_output(dst->bev)) > 0)
		return;
	if (dst == &s->upstream)
		relay_await(s); /* the last queued client bytes left */
	if (src->eof)
		session_shut(dst);
	relay_check(r);
}

static void
relay_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct relay *r = arg;
	struct session *s = r->s;
	struct half *h = relay_half(s, bev);

	if (what & BEV_EVENT_EOF) {
		h->eof = true;
		if (relay_move(s, h) < 0) {
			session_close(s, "out of memory");
			return;
		}
		if (evbuffer_get_length(bufferevent_get_output(h->peer->bev)) ==
		    0)
			session_shut(h->peer);
		relay_check(r);
		return;
	}
	if (what & BEV_EVENT_ERROR)
		session_close(s,
		    relay_error_reason(s, h, EVUTIL_SOCKET_ERROR()));
}

static void
relay_splice_cb(void *arg, enum splice_event ev, uint64_t n, int err,
    bool to_side)
{
	struct relay_dir *d = arg;
	struct relay *r = d->relay;
	struct session *s = r->s;

	switch (ev) {
	case SPLICE_PROGRESS:
		d->src->bytes += n;
		session_touch(s);
		if (d == &r->dir[RELAY_UP])
			relay_await(s);
		return;
	case SPLICE_DONE:
	case SPLICE_EOF:
		d->splice = splice_dir_free(d->splice);
		d->src->eof = true;
		session_shut(d->src->peer);
		relay_check(r);
		return;
	case SPLICE_ERROR:
	default:
		session_close(s,
		    relay_error_reason(s, to_side ? d->src->peer : d->src,
			-err));
		return;
	}
}

static void
relay_splice_begin(struct relay *r)
{
	struct session *s = r->s;

	(void)bufferevent_disable(s->client.bev, EV_READ | EV_WRITE);
	(void)bufferevent_disable(s->upstream.bev, EV_READ | EV_WRITE);
	bufferevent_setcb(s->client.bev, NULL, NULL, NULL, NULL);
	bufferevent_setcb(s->upstream.bev, NULL, NULL, NULL, NULL);
	r->spliced = true;
	for (int i = 0; i < _RELAY_DIR_MAX; i++) {
		struct relay_dir *d = &r->dir[i];

		if (d->src->eof)
			continue;
		d->splice =
		    session_splice(s, d->src, UINT64_MAX, relay_splice_cb, d);
		if (!d->splice) {
			session_close(s, "out of memory");
			return;
		}
	}
	slog_debug(s, "relay switched to splice");
}

int
relay_start(struct session *s)
{
	struct relay *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->s = s;
	r->dir[RELAY_UP] = (struct relay_dir){ .relay = r, .src = &s->client };
	r->dir[RELAY_DOWN] =
	    (struct relay_dir){ .relay = r, .src = &s->upstream };
	s->relay = r;
	bufferevent_setcb(s->client.bev, relay_read_cb, relay_write_cb,
	    relay_event_cb, r);
	bufferevent_setcb(s->upstream.bev, relay_read_cb, relay_write_cb,
	    relay_event_cb, r);
	bufferevent_setwatermark(s->client.bev, EV_READ, 0, 0);
	bufferevent_setwatermark(s->upstream.bev, EV_READ, 0, 0);
	bufferevent_setwatermark(s->client.bev, EV_WRITE, 0, 0);
	bufferevent_setwatermark(s->upstream.bev, EV_WRITE, 0, 0);
	session_timer_set(s, SESSION_TIMER_IDLE,
	    s->conf ? s->conf->limits.idle_timeout_ms :
		      worker_get_conf(s->worker)->limits.idle_timeout_ms);
	/* Whatever either side sent early goes first; an EOF that already
	 * arrived is passed on once those bytes are out. */
	if (relay_move(s, &s->client) < 0 || relay_move(s, &s->upstream) < 0)
		return -ENOMEM;
	if (s->client.eof &&
	    evbuffer_get_length(bufferevent_get_output(s->upstream.bev)) == 0)
		session_shut(&s->upstream);
	if (s->upstream.eof &&
	    evbuffer_get_length(bufferevent_get_output(s->client.bev)) == 0)
		session_shut(&s->client);
	if (!s->client.eof)
		(void)session_bev_enable(s->client.bev, EV_READ);
	if (!s->upstream.eof)
		(void)session_bev_enable(s->upstream.bev, EV_READ);
	relay_check(r);
	return 0;
}

struct relay *
relay_free(struct relay *r)
{
	if (!r)
		return NULL;
	for (int i = 0; i < _RELAY_DIR_MAX; i++)
		r->dir[i].splice = splice_dir_free(r->dir[i].splice);
	free(r);
	return NULL;
}
