/* SPDX-License-Identifier: MIT */
/*
 * The UDP association. Destinations live in a small table (at most
 * LIMIT_SOCKS5_UDP_DESTS): each is judging, allowed or denied, with the
 * time its verdict expires. A destination being judged owns a heap judge
 * and the datagrams that wait for it.
 *
 * Several judges may be in flight at once; each reports to its own
 * destination. They measure the decider deadline on the session's single
 * timer, so after each event the timer is set again for the earliest
 * decider deadline still open (judge.asked_ms). The association's own
 * idle timer is a separate event.
 */
#include "proxy/session_socks5_udp.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "policy/policy.h"
#include "proxy/dial.h"
#include "proxy/judge.h"
#include "proxy/proxy.h"
#include "proxy/session.h"
#include "proxy/udprelay.h"
#include "proxy/worker.h"
#include "util/limits.h"
#include "util/size.h"
#include "wire/socks5.h"

enum udp_dest_state {
	UDP_DEST_JUDGING,
	UDP_DEST_ALLOWED,
	UDP_DEST_DENIED,
};

/* A datagram's payload waiting for its destination's verdict. */
struct udp_datagram {
	struct udp_datagram *next;
	size_t len;
	uint8_t data[];
};

struct udp_dest {
	struct socks5_udp *u;   /* the association it belongs to */
	struct socks5_addr dst; /* as the client named it: the key */
	enum udp_dest_state state;
	bool was_allowed; /* judged anew after an allow: replies still pass */
	bool resolving;   /* the judge is fetching the addresses to use */
	struct sockaddr_storage to; /* where an allowed destination is */
	socklen_t to_len;
	uint64_t expires_ms;
	uint64_t used_ms;
	struct judge *judge; /* while judging */
	struct udp_datagram *queue;
	struct udp_datagram **queue_tail;
	size_t queued;
};

enum {
	UDP_OUT_V4,
	UDP_OUT_V6,
	_UDP_OUT_MAX,
};

struct socks5_udp {
	struct session *s;
	int client_fd;
	struct udprelay *pool; /* client_fd is the pool's (paddock run) */
	struct event *client_ev;
	int out_fd[_UDP_OUT_MAX];
	struct event *out_ev[_UDP_OUT_MAX];
	struct event *idle;
	struct socks5_addr from; /* who may send (port 0: any port) */
	struct socks5_addr bound;
	struct sockaddr_storage relay; /* bound, as a socket address */
	bool client_known; /* the first accepted datagram fixed the port */
	struct sockaddr_storage client;
	socklen_t client_len;
	uint64_t generation; /* of the policy the cached verdicts came from */
	uint64_t last_active_ms;
	struct udp_dest *dests[LIMIT_SOCKS5_UDP_DESTS];
	size_t n_dests;
	size_t queued_bytes;
	uint64_t dropped;
};

static bool
session_socks5_udp_sockaddr_equal(const struct sockaddr_storage *a,
    socklen_t alen, const struct sockaddr_storage *b, socklen_t blen)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return alen >= sizeof(*a4) && blen >= sizeof(*b4) &&
		    a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return alen >= sizeof(*a6) && blen >= sizeof(*b6) &&
	    a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
}

static bool
session_socks5_udp_addr_equal(const struct socks5_addr *a,
    const struct socks5_addr *b)
{
	if (a->atyp != b->atyp || a->port != b->port)
		return false;
	switch (a->atyp) {
	case SOCKS5_ATYP_IPV4:
		return memcmp(a->ip, b->ip, 4) == 0;
	case SOCKS5_ATYP_IPV6:
		return memcmp(a->ip, b->ip, 16) == 0;
	default:
		return strcmp(a->domain, b->domain) == 0;
	}
}

static uint64_t
session_socks5_udp_now(struct socks5_udp *u)
{
	return worker_now_ms(u->s->worker);
}

/*
 * The destination table.
 */
static void
session_socks5_udp_queue_drop(struct socks5_udp *u, struct udp_dest *d)
{
	struct udp_datagram *g, *next;

	for (g = d->queue; g; g = next) {
		next = g->next;
		u->queued_bytes -= g->len;
		u->dropped++;
		free(g);
	}
	d->queue = NULL;
	d->queue_tail = &d->queue;
	d->queued = 0;
}

static void
session_socks5_udp_dest_free(struct socks5_udp *u, struct udp_dest *d)
{
	if (d->judge) {
		judge_cancel(d->judge);
		free(d->judge);
	}
	session_socks5_udp_queue_drop(u, d);
	free(d);
}

static void
session_socks5_udp_dest_remove(struct socks5_udp *u, size_t i)
{
	session_socks5_udp_dest_free(u, u->dests[i]);
	u->dests[i] = u->dests[--u->n_dests];
	u->dests[u->n_dests] = NULL;
}

/* A policy reload invalidates every cached verdict, and judgements in
 * flight under the old policy too. */
static void
session_socks5_udp_check_generation(struct socks5_udp *u)
{
	struct session *s = u->s;
	struct proxy_conf *c = worker_get_conf(s->worker);

	if (c->generation == u->generation)
		return;
	while (u->n_dests > 0)
		session_socks5_udp_dest_remove(u, u->n_dests - 1);
	proxy_conf_unref(s->conf);
	s->conf = proxy_conf_ref(c);
	u->generation = c->generation;
}

static struct udp_dest *
session_socks5_udp_dest_find(struct socks5_udp *u,
    const struct socks5_addr *dst)
{
	for (size_t i = 0; i < u->n_dests; i++)
		if (session_socks5_udp_addr_equal(&u->dests[i]->dst, dst))
			return u->dests[i];
	return NULL;
}

/* A slot for a new destination: a free one, else the least recently used
 * one that is not being judged. NULL when every slot is judging. */
static struct udp_dest *
session_socks5_udp_dest_add(struct socks5_udp *u, const struct socks5_addr *dst)
{
	struct udp_dest *d;

	if (u->n_dests == LIMIT_SOCKS5_UDP_DESTS) {
		size_t victim = SIZE_MAX;

		for (size_t i = 0; i < u->n_dests; i++)
			if (u->dests[i]->state != UDP_DEST_JUDGING &&
			    (victim == SIZE_MAX ||
				u->dests[i]->used_ms <
				    u->dests[victim]->used_ms))
				victim = i;
		if (victim == SIZE_MAX)
			return NULL;
		session_socks5_udp_dest_remove(u, victim);
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->u = u;
	d->dst = *dst;
	d->queue_tail = &d->queue;
	u->dests[u->n_dests++] = d;
	return d;
}

/*
 * Sending.
 */
static void session_socks5_udp_out_read_cb(evutil_socket_t fd, short what,
    void *arg);

static int
session_socks5_udp_out_fd(struct socks5_udp *u, int family)
{
	int i = family == AF_INET ? UDP_OUT_V4 : UDP_OUT_V6;
	int fd;

	if (u->out_fd[i] >= 0)
		return u->out_fd[i];
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	u->out_ev[i] = event_new(worker_get_base(u->s->worker), fd,
	    EV_READ | EV_PERSIST, session_socks5_udp_out_read_cb, u);
	if (!u->out_ev[i] || event_add(u->out_ev[i], NULL) < 0) {
		if (u->out_ev[i])
			event_free(u->out_ev[i]);
		u->out_ev[i] = NULL;
		(void)close(fd);
		return -ENOMEM;
	}
	u->out_fd[i] = fd;
	return fd;
}

static void
session_socks5_udp_send(struct socks5_udp *u, struct udp_dest *d,
    const uint8_t *p, size_t len)
{
	int fd = session_socks5_udp_out_fd(u, d->to.ss_family);

	d->used_ms = session_socks5_udp_now(u);
	/* UDP is lossy by contract: a full socket buffer drops. */
	if (fd < 0 ||
	    sendto(fd, p, len, 0, (struct sockaddr *)&d->to, d->to_len) < 0) {
		u->dropped++;
		return;
	}
	u->s->client.bytes += len;
}

static void
session_socks5_udp_flush(struct socks5_udp *u, struct udp_dest *d)
{
	struct udp_datagram *g, *next;

	for (g = d->queue; g; g = next) {
		next = g->next;
		u->queued_bytes -= g->len;
		session_socks5_udp_send(u, d, g->data, g->len);
		free(g);
	}
	d->queue = NULL;
	d->queue_tail = &d->queue;
	d->queued = 0;
}

static void
session_socks5_udp_enqueue(struct socks5_udp *u, struct udp_dest *d,
    const uint8_t *p, size_t len)
{
	struct udp_datagram *g;
	size_t size;

	if (d->queued >= LIMIT_SOCKS5_UDP_QUEUED ||
	    u->queued_bytes + len > LIMIT_SOCKS5_UDP_QUEUE_BYTES ||
	    !size_add(sizeof(*g), len, &size) || !(g = malloc(size))) {
		u->dropped++;
		return;
	}
	g->next = NULL;
	g->len = len;
	memcpy(g->data, p, len);
	*d->queue_tail = g;
	d->queue_tail = &g->next;
	d->queued++;
	u->queued_bytes += len;
}

/*
 * Judging.
 */
static void session_socks5_udp_judged_cb(void *arg, struct judge *j);

/* Set the session's timer for the earliest open decider deadline. */
static void
session_socks5_udp_arm_decider(struct socks5_udp *u)
{
	struct session *s = u->s;
	uint64_t due = UINT64_MAX, now = session_socks5_udp_now(u);

	for (size_t i = 0; i < u->n_dests; i++) {
		const struct judge *j = u->dests[i]->judge;

		if (j && j->decision &&
		    j->asked_ms + s->conf->limits.decider_timeout_ms < due)
			due = j->asked_ms + s->conf->limits.decider_timeout_ms;
	}
	if (due == UINT64_MAX)
		session_timer_clear(s);
	else
		session_timer_set(s, SESSION_TIMER_DECIDER,
		    due > now ? due - now : 0);
}

/* Choose where an allowed destination's datagrams go. With
 * allow_local_binding off, only a public address qualifies, whatever
 * produced the addresses (the connect-time check of dial.h). Returns
 * false when none does. */
static bool
session_socks5_udp_choose_address(struct udp_dest *d)
{
	const struct judge *j = d->judge;
	size_t pick = SIZE_MAX;

	/* IPv4 first: a datagram gets no error back when a route is
	 * missing, and IPv4 routes are the more common. */
	for (size_t i = 0; i < j->n_addrs; i++) {
		if (j->v.public_only && policy_addr_class(&j->addrs[i]))
			continue;
		if (pick == SIZE_MAX ||
		    (j->addrs[i].family == AF_INET &&
			j->addrs[pick].family != AF_INET))
			pick = i;
	}
	if (pick == SIZE_MAX)
		return false;
	d->to_len = dial_sockaddr(&j->addrs[pick], d->dst.port, &d->to);
	return true;
}

/* The destination chosen for d is one of the proxy's own sockets: this
 * association's relay or a listener. */
static bool
session_socks5_udp_is_self(struct socks5_udp *u, const struct udp_dest *d)
{
	const struct sockaddr *to = (const struct sockaddr *)&d->to;

	return proxy_addr_reaches((const struct sockaddr *)&u->relay, to) ||
	    proxy_conf_is_self(u->s->conf, to);
}

/* A judgement (or its address lookup) finished. */
static void
session_socks5_udp_judged(struct socks5_udp *u, struct udp_dest *d)
{
	struct session *s = u->s;
	struct judge *j = d->judge;
	const struct policy_verdict *v = &j->v;
	char target[SESSION_TARGET_TEXT_MAX];
	uint64_t now = session_socks5_udp_now(u);
	bool usable;

	if (!d->resolving && judge_allowed(j)) {
		d->resolving = true;
		if (judge_addrs(j, session_socks5_udp_judged_cb, d) ==
		    JUDGE_PENDING)
			return;
	}
	(void)socks5_addr_host(&d->dst, target, sizeof(target));
	d->expires_ms = now + LIMIT_SOCKS5_UDP_VERDICT_MS;
	usable = judge_allowed(j) && j->err == 0 &&
	    session_socks5_udp_choose_address(d);
	if (usable && session_socks5_udp_is_self(u, d)) {
		/* The proxy's own sockets are no destination: a datagram
		 * sent there would come back in as if from a client. */
		d->state = UDP_DEST_DENIED;
		d->was_allowed = false;
		slog_info(s, "UDP to %s:%u from %s: loop (the proxy itself)",
		    LOG_US(target), (unsigned)d->dst.port, s->client_text);
		session_socks5_udp_queue_drop(u, d);
	} else if (usable) {
		d->state = UDP_DEST_ALLOWED;
		d->was_allowed = true;
		slog_debug(s, "UDP to %s:%u allowed", LOG_US(target),
		    (unsigned)d->dst.port);
		session_socks5_udp_flush(u, d);
	} else {
		d->state = UDP_DEST_DENIED;
		d->was_allowed = false;
		if (judge_allowed(j))
			slog_info(s, "UDP to %s:%u from %s: no address",
			    LOG_US(target), (unsigned)d->dst.port,
			    s->client_text);
		else
			slog_info(s, "blocked UDP to %s:%u from %s: %s (%s)",
			    LOG_US(target), (unsigned)d->dst.port,
			    s->client_text, policy_verdict_reason(v, v->reason),
			    policy_source_name(v->source));
		session_socks5_udp_queue_drop(u, d);
	}
	free(d->judge);
	d->judge = NULL;
	d->resolving = false;
}

/* A judge that went pending finished (or fetched its addresses). */
static void
session_socks5_udp_judged_cb(void *arg, struct judge *j)
{
	struct udp_dest *d = arg;
	struct socks5_udp *u = d->u;

	assert(d->judge == j);
	session_socks5_udp_judged(u, d);
	session_socks5_udp_arm_decider(u);
}

static void
session_socks5_udp_judge(struct socks5_udp *u, struct udp_dest *d)
{
	struct session *s = u->s;
	char host[SOCKS5_DOMAIN_MAX + 1];

	d->judge = calloc(1, sizeof(*d->judge));
	if (!d->judge) {
		d->state = UDP_DEST_DENIED;
		d->expires_ms = 0;
		session_socks5_udp_queue_drop(u, d);
		return;
	}
	d->state = UDP_DEST_JUDGING;
	d->resolving = false;
	(void)socks5_addr_host(&d->dst, host, sizeof(host));
	judge_init(d->judge, s, POLICY_PROTOCOL_SOCKS5_UDP, host, d->dst.port,
	    NULL);
	if (judge_run(d->judge, session_socks5_udp_judged_cb, d) == JUDGE_DONE)
		session_socks5_udp_judged(u, d);
	session_socks5_udp_arm_decider(u);
}

void
session_socks5_udp_decider_timeout(struct socks5_udp *u)
{
	uint64_t now = session_socks5_udp_now(u);

	for (size_t i = 0; i < u->n_dests; i++) {
		struct judge *j = u->dests[i]->judge;

		if (j && j->decision &&
		    j->asked_ms + u->s->conf->limits.decider_timeout_ms <= now)
			judge_decider_timeout(
			    j); /* runs session_socks5_udp_judged_cb */
	}
	session_socks5_udp_arm_decider(u);
}

/*
 * Datagrams from the client.
 */
static bool
session_socks5_udp_from_client(struct socks5_udp *u,
    const struct sockaddr_storage *src, socklen_t len)
{
	struct socks5_addr a;
	size_t n;

	if (u->client_known)
		return session_socks5_udp_sockaddr_equal(src, len, &u->client,
		    u->client_len);
	if (socks5_addr_from_sockaddr((const struct sockaddr *)src, &a) < 0 ||
	    a.atyp != u->from.atyp)
		return false;
	n = a.atyp == SOCKS5_ATYP_IPV4 ? 4 : 16;
	if (memcmp(a.ip, u->from.ip, n) != 0 ||
	    (u->from.port != 0 && a.port != u->from.port))
		return false;
	memcpy(&u->client, src, len);
	u->client_len = len;
	u->client_known = true;
	return true;
}

static void
session_socks5_udp_client_datagram(struct socks5_udp *u, const uint8_t *p,
    size_t len)
{
	struct session *s = u->s;
	struct socks5_udp_header h;
	struct udp_dest *d;
	const char *why;

	if (socks5_udp_parse(p, len, &h, &why) != PARSE_DONE) {
		slog_debug(s, "UDP datagram dropped: %s", why);
		u->dropped++;
		return;
	}
	/* RFC 1928 §7: fragmentation is optional; we drop fragments. */
	if (h.frag != 0) {
		slog_debug(s, "UDP fragment dropped");
		u->dropped++;
		return;
	}
	session_socks5_udp_check_generation(u);
	p += h.len;
	len -= h.len;
	d = session_socks5_udp_dest_find(u, &h.dst);
	if (!d) {
		d = session_socks5_udp_dest_add(u, &h.dst);
		if (!d) {
			u->dropped++;
			return;
		}
		session_socks5_udp_enqueue(u, d, p, len);
		session_socks5_udp_judge(u, d);
		return;
	}
	d->used_ms = session_socks5_udp_now(u);
	if (d->state == UDP_DEST_JUDGING) {
		session_socks5_udp_enqueue(u, d, p, len);
		return;
	}
	if (session_socks5_udp_now(u) >= d->expires_ms) {
		session_socks5_udp_enqueue(u, d, p, len);
		session_socks5_udp_judge(u, d);
		return;
	}
	if (d->state == UDP_DEST_ALLOWED)
		session_socks5_udp_send(u, d, p, len);
	else
		u->dropped++;
}

static void
session_socks5_udp_client_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct socks5_udp *u = arg;
	struct session *s = u->s;
	uint8_t buf[SOCKS5_UDP_HEADER_MAX + LIMIT_SOCKS5_UDP_DATAGRAM];

	(void)what;
	session_ref(s);
	for (int i = 0; i < LIMIT_SOCKS5_UDP_BURST && !session_is_closed(s);
	     i++) {
		struct sockaddr_storage src;
		socklen_t len = sizeof(src);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC,
		    (struct sockaddr *)&src, &len);

		if (n < 0)
			break;
		if (!session_socks5_udp_from_client(u, &src, len)) {
			slog_debug(s, "UDP datagram from a stranger dropped");
			u->dropped++;
			continue;
		}
		if ((size_t)n > sizeof(buf)) {
			u->dropped++;
			continue;
		}
		u->last_active_ms = session_socks5_udp_now(u);
		session_socks5_udp_client_datagram(u, buf, (size_t)n);
	}
	session_unref(s);
}

/*
 * Datagrams from destinations.
 */
static const struct udp_dest *
session_socks5_udp_reply_allowed(struct socks5_udp *u,
    const struct sockaddr_storage *src, socklen_t len)
{
	uint64_t now = session_socks5_udp_now(u);

	for (size_t i = 0; i < u->n_dests; i++) {
		const struct udp_dest *d = u->dests[i];
		bool open = d->state == UDP_DEST_ALLOWED ?
		    now < d->expires_ms :
		    d->state == UDP_DEST_JUDGING && d->was_allowed;

		if (open &&
		    session_socks5_udp_sockaddr_equal(src, len, &d->to,
			d->to_len))
			return d;
	}
	return NULL;
}

static void
session_socks5_udp_out_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct socks5_udp *u = arg;
	uint8_t buf[LIMIT_SOCKS5_UDP_DATAGRAM];
	uint8_t head[SOCKS5_UDP_HEADER_MAX];

	(void)what;
	for (int i = 0; i < LIMIT_SOCKS5_UDP_BURST; i++) {
		struct sockaddr_storage src;
		socklen_t len = sizeof(src);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&src, &len);
		struct socks5_addr from;
		struct iovec iov[2];
		struct msghdr m = { 0 };

		if (n < 0)
			break;
		session_socks5_udp_check_generation(u);
		if (!u->client_known ||
		    !session_socks5_udp_reply_allowed(u, &src, len) ||
		    socks5_addr_from_sockaddr((struct sockaddr *)&src, &from) <
			0) {
			u->dropped++;
			continue;
		}
		/* RFC 1928 §7: a reply carries the header of its source. */
		iov[0].iov_base = head;
		iov[0].iov_len =
		    socks5_udp_header_encode(&from, head, sizeof(head));
		iov[1].iov_base = buf;
		iov[1].iov_len = (size_t)n;
		m.msg_name = &u->client;
		m.msg_namelen = u->client_len;
		m.msg_iov = iov;
		m.msg_iovlen = 2;
		if (sendmsg(u->client_fd, &m, 0) < 0) {
			u->dropped++;
			continue;
		}
		u->s->upstream.bytes += (uint64_t)n;
		u->last_active_ms = session_socks5_udp_now(u);
	}
}

/*
 * Lifetime.
 */
static void
session_socks5_udp_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct socks5_udp *u = arg;
	uint64_t idle = u->s->conf->limits.idle_timeout_ms;
	uint64_t now = session_socks5_udp_now(u);

	(void)fd;
	(void)what;
	if (u->last_active_ms + idle <= now) {
		session_close(u->s, "UDP association idle timeout");
		return;
	}
	(void)worker_arm(u->idle, u->last_active_ms + idle - now);
}

static int
session_socks5_udp_bind_relay(struct socks5_udp *u,
    const struct sockaddr *local)
{
	struct sockaddr_storage ss;
	socklen_t len = local->sa_family == AF_INET ?
	    sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
	int fd;

	memcpy(&ss, local, len);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	u->pool = proxy_get_udp_relays(worker_get_proxy(u->s->worker));
	if (u->pool) {
		/* paddock run: the listener is in the sandbox's network
		 * namespace, and so must the relay be; its child made a few
		 * for us. */
		fd = udprelay_take(u->pool, (struct sockaddr *)&ss);
		if (fd < 0) {
			u->pool = NULL;
			return fd;
		}
		u->client_fd = fd;
	} else {
		fd = socket(ss.ss_family,
		    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		u->client_fd = fd;
		if (bind(fd, (struct sockaddr *)&ss, len) < 0)
			return -errno;
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	u->relay = ss;
	return socks5_addr_from_sockaddr((struct sockaddr *)&ss, &u->bound);
}

int
session_socks5_udp_new(struct session *s, const struct sockaddr *local,
    const struct socks5_addr *from, struct socks5_udp **ret)
{
	struct socks5_udp *u = calloc(1, sizeof(*u));
	struct event_base *base = worker_get_base(s->worker);
	int r;

	if (!u)
		return -ENOMEM;
	u->s = s;
	u->client_fd = -1;
	for (int i = 0; i < _UDP_OUT_MAX; i++)
		u->out_fd[i] = -1;
	u->from = *from;
	u->generation = s->conf->generation;
	u->last_active_ms = session_socks5_udp_now(u);
	r = session_socks5_udp_bind_relay(u, local);
	if (r < 0) {
		session_socks5_udp_free(u);
		return r;
	}
	u->client_ev = event_new(base, u->client_fd, EV_READ | EV_PERSIST,
	    session_socks5_udp_client_read_cb, u);
	u->idle = event_new(base, -1, 0, session_socks5_udp_idle_cb, u);
	if (!u->client_ev || !u->idle || event_add(u->client_ev, NULL) < 0) {
		session_socks5_udp_free(u);
		return -ENOMEM;
	}
	session_socks5_udp_idle_cb(-1, 0, u);
	*ret = u;
	return 0;
}

void
session_socks5_udp_bound(const struct socks5_udp *u, struct socks5_addr *ret)
{
	*ret = u->bound;
}

struct socks5_udp *
session_socks5_udp_free(struct socks5_udp *u)
{
	if (!u)
		return NULL;
	while (u->n_dests > 0)
		session_socks5_udp_dest_remove(u, u->n_dests - 1);
	if (u->dropped)
		slog_debug(u->s, "UDP association dropped %llu datagrams",
		    (unsigned long long)u->dropped);
	for (int i = 0; i < _UDP_OUT_MAX; i++) {
		if (u->out_ev[i])
			event_free(u->out_ev[i]);
		if (u->out_fd[i] >= 0)
			(void)close(u->out_fd[i]);
	}
	if (u->client_ev)
		event_free(u->client_ev);
	if (u->idle)
		event_free(u->idle);
	if (u->pool)
		udprelay_give(u->pool, u->client_fd);
	else if (u->client_fd >= 0)
		(void)close(u->client_fd);
	free(u);
	return NULL;
}
