/* SPDX-License-Identifier: MIT */
/*
 * The session rig (rig.h). Everything here is test code: the interposed
 * connect() and sendto() exist only in the fuzz executables.
 */
#include "rig.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>

#include "paddock.h"
#include "policy/policy.h"
#include "proxy/proxy.h"
#include "proxy/session.h"
#include "proxy/worker.h"
#include "util/compiler.h"
#include "util/log.h"

#define RIG_ORIGINS_MAX 8
#define RIG_SEEN_MAX    4096
#define RIG_OPS_MAX     256
#define RIG_CLOSE_MS    5000
#define RIG_SETTLE_MS   1000

enum rig_op {
	RIG_OP_CLIENT,
	RIG_OP_ORIGIN,
	RIG_OP_CLIENT_SHUT,
	RIG_OP_ORIGIN_SHUT,
	RIG_OP_ORIGIN_RESET,
	RIG_OP_ORIGIN_NEXT,
	RIG_OP_UDP,
	RIG_OP_CLIENT_RESET,
};

struct rig_conn {
	int fd;
	struct event *ev;
};

struct rig {
	unsigned flags;
	struct policy *policy;
	struct proxy *proxy;
	struct worker *w;
	struct event_base *base;
	struct session *s;
	uint64_t progress; /* bumped by every rig callback that did work */
	/* The client. */
	int client_fd;
	struct event *client_ev;
	uint8_t seen[RIG_SEEN_MAX]; /* the first bytes the client received */
	size_t n_seen;
	int udp_fd; /* the client's UDP socket */
	struct event *udp_ev;
	/* The fake origin. */
	int listen_fd;
	struct event *listen_ev;
	struct sockaddr_in origin;
	struct rig_conn conns[RIG_ORIGINS_MAX];
	size_t n_conns, current;
	int echo_fd; /* UDP echo */
	struct event *echo_ev;
	struct sockaddr_in echo;
	/* The DNS server. */
	int dns_fd;
	struct event *dns_ev;
	struct sockaddr_in dns;
};

/* For the interposers; NULL outside rig_run(). */
static struct rig *rig_active;

/*
 * Interposed system calls. The proxy (and libevent) call these instead of
 * libc's; the rig's own sockets use rig_sys_connect().
 */
static int
rig_sys_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	return (int)syscall(SYS_connect, fd, sa, len);
}

/* The IPv4 address sa names (v4-mapped IPv6 too), in host order; false
 * for anything else. */
static bool
rig_v4_of(const struct sockaddr *sa, socklen_t len, uint32_t *ret)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
		0xff };

	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		*ret = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
		return true;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const uint8_t *a =
		    ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;

		if (memcmp(a, mapped, sizeof(mapped)) != 0)
			return false;
		*ret = (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 |
		    (uint32_t)a[14] << 8 | a[15];
		return true;
	}
	return false;
}

static uint16_t
rig_port_of(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
}

/* A copy of sa with its port replaced. */
static socklen_t
rig_with_port(const struct sockaddr *sa, socklen_t len, uint16_t port,
    struct sockaddr_storage *ret)
{
	memset(ret, 0, sizeof(*ret));
	memcpy(ret, sa, len < sizeof(*ret) ? len : sizeof(*ret));
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)ret)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ret)->sin6_port = htons(port);
	return len;
}

_noreturn_ static void
rig_misjudged(const char *what, const struct sockaddr *sa)
{
	char text[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET)
		(void)inet_ntop(AF_INET,
		    &((const struct sockaddr_in *)sa)->sin_addr, text,
		    sizeof(text));
	else if (sa->sa_family == AF_INET6)
		(void)inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, text,
		    sizeof(text));
	(void)fprintf(stderr,
	    "rig: the proxy %s %s port %u, which the "
	    "policy refuses\n",
	    what, text, rig_port_of(sa));
	abort();
}

int connect(int fd, const struct sockaddr *sa, socklen_t len);

int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_storage to;
	int type = 0;
	socklen_t tlen = sizeof(type);
	uint32_t v4;

	if (!rig_active || !sa ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 ||
	    type != SOCK_STREAM)
		return rig_sys_connect(fd, sa, len);
	if (!rig_v4_of(sa, len, &v4) || v4 != INADDR_LOOPBACK)
		rig_misjudged("dialed", sa);
	len = rig_with_port(sa, len, ntohs(rig_active->origin.sin_port), &to);
	return rig_sys_connect(fd, (struct sockaddr *)&to, len);
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags,
    const struct sockaddr *sa, socklen_t len);

ssize_t
sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *sa,
    socklen_t len)
{
	struct sockaddr_storage to;
	uint32_t v4;

	if (!rig_active || !sa ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return syscall(SYS_sendto, fd, buf, n, flags, sa, len);
	if (!rig_v4_of(sa, len, &v4) || v4 != INADDR_LOOPBACK)
		rig_misjudged("sent a datagram to", sa);
	/* The resolver's queries reach the rig's DNS server unchanged. */
	if (rig_port_of(sa) != ntohs(rig_active->dns.sin_port)) {
		len = rig_with_port(sa, len, ntohs(rig_active->echo.sin_port),
		    &to);
		sa = (struct sockaddr *)&to;
	}
	return syscall(SYS_sendto, fd, buf, n, flags, sa, len);
}

/*
 * The rig's peers.
 */
static int
rig_udp_socket(struct sockaddr_in *ret)
{
	socklen_t len = sizeof(*ret);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(ret, 0, sizeof(*ret));
	ret->sin_family = AF_INET;
	ret->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)ret, sizeof(*ret)) < 0 ||
	    getsockname(fd, (struct sockaddr *)ret, &len) < 0) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

static void
rig_client_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rig *r = arg;
	uint8_t buf[16384];
	ssize_t n;

	(void)what;
	n = read(fd, buf, sizeof(buf));
	if (n < 0)
		return;
	r->progress++;
	if (n == 0) {
		/* EOF: stop watching; the script may still write. */
		(void)event_del(r->client_ev);
		return;
	}
	if (r->n_seen < RIG_SEEN_MAX) {
		size_t k = (size_t)n < RIG_SEEN_MAX - r->n_seen ?
		    (size_t)n :
		    RIG_SEEN_MAX - r->n_seen;

		memcpy(r->seen + r->n_seen, buf, k);
		r->n_seen += k;
	}
}

static void
rig_conn_close(struct rig_conn *c, bool reset)
{
	if (c->fd < 0)
		return;
	if (reset) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };

		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	event_free(c->ev);
	c->ev = NULL;
	(void)close(c->fd);
	c->fd = -1;
}

static void
rig_conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rig_conn *c = arg;
	uint8_t buf[16384];
	ssize_t n;

	(void)what;
	n = read(fd, buf, sizeof(buf));
	if (n < 0 && errno == EAGAIN)
		return;
	rig_active->progress++;
	if (n <= 0)
		(void)event_del(c->ev);
}

static void
rig_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rig *r = arg;
	struct rig_conn *c;
	int cfd;

	(void)what;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	r->progress++;
	if (r->n_conns == RIG_ORIGINS_MAX) {
		(void)close(cfd);
		return;
	}
	c = &r->conns[r->n_conns];
	c->fd = cfd;
	c->ev = event_new(r->base, cfd, EV_READ | EV_PERSIST, rig_conn_cb, c);
	if (!c->ev || event_add(c->ev, NULL) < 0)
		abort();
	if (r->current >= r->n_conns || r->conns[r->current].fd < 0)
		r->current = r->n_conns;
	r->n_conns++;
}

static void
rig_echo_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rig *r = arg;
	struct sockaddr_storage from;
	socklen_t len = sizeof(from);
	uint8_t buf[2048];
	ssize_t n;

	(void)what;
	n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
	if (n < 0)
		return;
	r->progress++;
	(void)syscall(SYS_sendto, fd, buf, (size_t)n, 0, &from, len);
}

static void
rig_udp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rig *r = arg;
	uint8_t buf[2048];

	(void)what;
	if (recv(fd, buf, sizeof(buf), 0) >= 0)
		r->progress++;
}

/* Read the question's name (lowercased, dotted) into out; returns the
 * offset after QTYPE/QCLASS, or 0 when malformed. */
static size_t
rig_dns_question(const uint8_t *q, size_t n, char *out, size_t outsz,
    uint16_t *ret_type)
{
	size_t pos = 12, o = 0;

	while (pos < n && q[pos] != 0) {
		size_t l = q[pos++];

		if (l > 63 || pos + l > n || o + l + 2 > outsz)
			return 0;
		if (o > 0)
			out[o++] = '.';
		for (size_t i = 0; i < l; i++) {
			char ch = (char)q[pos + i];

			out[o++] = ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
		}
		pos += l;
	}
	if (pos + 5 > n)
		return 0;
	out[o] = '\0';
	*ret_type = (uint16_t)(q[pos + 1] << 8 | q[pos + 2]);
	return pos + 5;
}

static bool
rig_name_under(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);

	return strcmp(name, zone) == 0 ||
	    (n > z && name[n - z - 1] == '.' &&
		strcmp(name + n - z, zone) == 0);
}

/* Answer a query: A 127.0.0.1 for origin.test and below, no data for
 * their other types, NXDOMAIN for everything else. */
static void
rig_dns_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rig *r = arg;
	struct sockaddr_storage from;
	socklen_t len = sizeof(from);
	uint8_t q[512], a[512 + 16];
	char name[256];
	uint16_t type = 0;
	size_t end, n;
	ssize_t got;
	bool known;

	(void)what;
	got = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &len);
	if (got < 12)
		return;
	r->progress++;
	end = rig_dns_question(q, (size_t)got, name, sizeof(name), &type);
	if (end == 0)
		return;
	if (rig_name_under(name, "denied.test")) {
		(void)fprintf(stderr,
		    "rig: the proxy resolved the denied "
		    "name '%s'\n",
		    name);
		abort();
	}
	known = rig_name_under(name, "origin.test");
	memcpy(a, q, end);
	a[2] = 0x81;                /* QR, RD */
	a[3] = known ? 0x80 : 0x83; /* RA; NXDOMAIN for strangers */
	a[6] = a[7] = a[8] = a[9] = a[10] = a[11] = 0;
	n = end;
	if (known && type == 1) {
		static const uint8_t rr[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0,
			0, 4, 127, 0, 0, 1 };

		a[7] = 1;
		memcpy(a + n, rr, sizeof(rr));
		n += sizeof(rr);
	}
	(void)syscall(SYS_sendto, fd, a, n, 0, &from, len);
}

static struct event *
rig_watch(struct rig *r, int fd, event_callback_fn cb, void *arg)
{
	struct event *ev =
	    event_new(r->base, fd, EV_READ | EV_PERSIST, cb, arg);

	if (!ev || event_add(ev, NULL) < 0)
		abort();
	return ev;
}

/*
 * Setting up and tearing down.
 */
static void
rig_decider_unused(const struct paddock_request *req,
    struct paddock_decision *d, void *ud)
{
	(void)req;
	(void)ud;
	paddock_decision_allow(d); /* never runs: no decider thread */
}

static void
rig_proxy_new(struct rig *r)
{
	static const struct policy_rule_spec rules[] = {
		{ .pattern = "origin.test", .list = POLICY_LIST_ALLOW },
		{ .pattern = "*.origin.test", .list = POLICY_LIST_ALLOW },
		{ .pattern = "127.0.0.1", .list = POLICY_LIST_ALLOW },
		{ .pattern = "denied.test", .list = POLICY_LIST_DENY },
		{ .pattern = "*.denied.test", .list = POLICY_LIST_DENY },
	};
	struct policy_settings ps = { .enabled = true,
		.mode = r->flags & RIG_FLAG_LIMITED ? POLICY_MODE_LIMITED :
						      POLICY_MODE_FULL,
		.allow_local_binding = !(r->flags & RIG_FLAG_LOCAL_OFF),
		.rules = rules,
		.n_rules = sizeof(rules) / sizeof(rules[0]) };
	struct proxy_settings s = { .enabled = true,
		.socks5_udp = r->flags & RIG_FLAG_UDP };
	const int fds[_PROXY_FRONTEND_MAX] = { -1, -1 };
	struct policy_error err;
	struct proxy_conf *c;
	char ns[64];

	proxy_limits_init(&s.limits);
	/* Nothing waits this long in a run; these only bound a stuck one. */
	if (proxy_limits_set(&s.limits, "head-timeout", "2s") < 0 ||
	    proxy_limits_set(&s.limits, "idle-timeout", "2s") < 0 ||
	    proxy_limits_set(&s.limits, "connect-timeout", "2s") < 0 ||
	    proxy_limits_set(&s.limits, "dns-timeout", "2s") < 0 ||
	    proxy_limits_set(&s.limits, "decider-timeout", "2s") < 0)
		abort();
	if (policy_new(&ps, &r->policy, &err) < 0)
		abort();
	s.policy = r->policy;
	if (proxy_new(&s, &r->proxy, NULL, 0) < 0)
		abort();
	if (r->flags & RIG_FLAG_DECIDER)
		proxy_set_decider(r->proxy, rig_decider_unused, NULL);
	c = proxy_get_conf(r->proxy);
	r->w = worker_new(r->proxy, 0, fds, c);
	proxy_conf_unref(c);
	if (!r->w)
		abort();
	r->base = worker_get_base(r->w);
	/* Only the rig's DNS server answers, and /etc/hosts plays no part. */
	(void)snprintf(ns, sizeof(ns), "127.0.0.1:%u", ntohs(r->dns.sin_port));
	if (evdns_base_clear_nameservers_and_suspend(worker_get_dns(r->w)) <
		0 ||
	    evdns_base_nameserver_ip_add(worker_get_dns(r->w), ns) != 0 ||
	    evdns_base_resume(worker_get_dns(r->w)) < 0)
		abort();
	evdns_base_clear_host_addresses(worker_get_dns(r->w));
}

/* A loopback TCP connection; *ret_peer gets the accepted end. */
static int
rig_tcp_pair(int *ret_peer, struct sockaddr_in *ret_addr)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a), plen = sizeof(*ret_addr);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) < 0 ||
	    rig_sys_connect(c, (struct sockaddr *)&a, len) < 0)
		abort();
	*ret_peer = accept4(l, (struct sockaddr *)ret_addr, &plen,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (*ret_peer < 0 || fcntl(c, F_SETFL, O_NONBLOCK) < 0)
		abort();
	(void)close(l);
	return c;
}

static void
rig_start(struct rig *r, const struct session_frontend *fe)
{
	struct sockaddr_storage peer = { .ss_family = AF_UNIX };
	socklen_t plen = sizeof(struct sockaddr_un);
	socklen_t len = sizeof(r->origin);
	struct sockaddr_in u;
	int sv[2];

	r->dns_fd = rig_udp_socket(&r->dns);
	r->echo_fd = rig_udp_socket(&r->echo);
	r->udp_fd = rig_udp_socket(&u);
	r->listen_fd =
	    socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	r->origin.sin_family = AF_INET;
	r->origin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (r->dns_fd < 0 || r->echo_fd < 0 || r->udp_fd < 0 ||
	    r->listen_fd < 0 ||
	    bind(r->listen_fd, (struct sockaddr *)&r->origin, len) < 0 ||
	    listen(r->listen_fd, RIG_ORIGINS_MAX) < 0 ||
	    getsockname(r->listen_fd, (struct sockaddr *)&r->origin, &len) < 0)
		abort();
	rig_proxy_new(r);
	r->dns_ev = rig_watch(r, r->dns_fd, rig_dns_cb, r);
	r->echo_ev = rig_watch(r, r->echo_fd, rig_echo_cb, r);
	r->udp_ev = rig_watch(r, r->udp_fd, rig_udp_cb, r);
	r->listen_ev = rig_watch(r, r->listen_fd, rig_accept_cb, r);
	if (r->flags & RIG_FLAG_TCP_CLIENT) {
		r->client_fd =
		    rig_tcp_pair(&sv[1], (struct sockaddr_in *)&peer);
		plen = sizeof(struct sockaddr_in);
	} else {
		if (socketpair(AF_UNIX,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
			abort();
		r->client_fd = sv[0];
	}
	r->client_ev = rig_watch(r, r->client_fd, rig_client_cb, r);
	(void)proxy_session_add(r->proxy, 1000);
	r->s = session_new(r->w, sv[1], (struct sockaddr *)&peer, plen, fe);
	if (!r->s)
		abort();
	/* The rig's own reference: it looks at the session after the
	 * close. */
	session_ref(r->s);
}

static void
rig_free(struct rig *r)
{
	session_unref(r->s);
	/* Let the reaper free what was closed. */
	for (int i = 0; i < 5; i++)
		(void)event_base_loop(r->base, EVLOOP_NONBLOCK);
	for (size_t i = 0; i < r->n_conns; i++)
		rig_conn_close(&r->conns[i], false);
	event_free(r->client_ev);
	event_free(r->udp_ev);
	event_free(r->echo_ev);
	event_free(r->dns_ev);
	event_free(r->listen_ev);
	if (r->client_fd >= 0)
		(void)close(r->client_fd);
	(void)close(r->udp_fd);
	(void)close(r->echo_fd);
	(void)close(r->dns_fd);
	(void)close(r->listen_fd);
	worker_free(r->w);
	proxy_free(r->proxy);
	policy_unref(r->policy);
}

/*
 * Running.
 */
static uint64_t
rig_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* What the rig can see move: its own callbacks and the session. */
static uint64_t
rig_fingerprint(const struct rig *r)
{
	const struct session *s = r->s;
	uint64_t h = r->progress * 31 + s->state;

	h = h * 31 + s->client.bytes;
	h = h * 31 + s->upstream.bytes;
	h = h * 31 + s->requests;
	h = h * 31 + (s->upstream.bev != NULL);
	if (s->client.bev)
		h = h * 31 +
		    evbuffer_get_length(bufferevent_get_output(s->client.bev));
	if (s->upstream.bev)
		h = h * 31 +
		    evbuffer_get_length(
			bufferevent_get_output(s->upstream.bev));
	return h;
}

static void
rig_guard_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/*
 * Run the loop until nothing moves: three quiet turns in a row, and while
 * the session waits on the kernel (a lookup, a connect) also a quiet
 * millisecond. Bounded by RIG_SETTLE_MS.
 */
static void
rig_settle(struct rig *r)
{
	const uint64_t deadline = rig_now_ms() + RIG_SETTLE_MS;
	struct timeval ms = { .tv_sec = 0, .tv_usec = 1000 };
	struct event *guard = evtimer_new(r->base, rig_guard_cb, NULL);
	uint64_t last = rig_fingerprint(r);
	int quiet = 0;

	if (!guard)
		abort();
	while (rig_now_ms() < deadline) {
		uint64_t now;
		bool waiting = r->s->state == SESSION_ST_RESOLVING ||
		    r->s->state == SESSION_ST_CONNECTING;

		if (quiet >= 3 && waiting) {
			(void)evtimer_add(guard, &ms);
			(void)event_base_loop(r->base, EVLOOP_ONCE);
			(void)evtimer_del(guard);
		} else {
			(void)event_base_loop(r->base, EVLOOP_NONBLOCK);
		}
		now = rig_fingerprint(r);
		if (now != last) {
			last = now;
			quiet = 0;
		} else if (++quiet >= (waiting ? 5 : 3)) {
			break;
		}
	}
	event_free(guard);
}

/* The relay port of the last SOCKS5 success reply with an IPv4 address
 * the client received, or 0. */
static uint16_t
rig_udp_relay_port(const struct rig *r)
{
	static const uint8_t ok[] = { 5, 0, 0, 1, 127, 0, 0, 1 };

	for (size_t i = r->n_seen; i >= sizeof(ok) + 2; i--) {
		const uint8_t *p = r->seen + i - sizeof(ok) - 2;

		if (memcmp(p, ok, sizeof(ok)) == 0)
			return (uint16_t)(p[8] << 8 | p[9]);
	}
	return 0;
}

static struct rig_conn *
rig_current_conn(struct rig *r)
{
	if (r->current < r->n_conns && r->conns[r->current].fd >= 0)
		return &r->conns[r->current];
	return NULL;
}

/* Write everything (the loop runs while the socket is full). */
static void
rig_write(struct rig *r, int fd, const uint8_t *p, size_t n)
{
	const uint64_t deadline = rig_now_ms() + RIG_SETTLE_MS;

	while (n > 0 && rig_now_ms() < deadline) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return; /* the peer is gone */
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else {
			(void)event_base_loop(r->base, EVLOOP_NONBLOCK);
		}
	}
}

static void
rig_step(struct rig *r, enum rig_op op, const uint8_t *p, size_t n)
{
	struct rig_conn *c = rig_current_conn(r);

	switch (op) {
	case RIG_OP_CLIENT:
		if (r->client_fd >= 0)
			rig_write(r, r->client_fd, p, n);
		break;
	case RIG_OP_ORIGIN:
		if (c)
			rig_write(r, c->fd, p, n);
		break;
	case RIG_OP_CLIENT_SHUT:
		if (r->client_fd >= 0)
			(void)shutdown(r->client_fd, SHUT_WR);
		break;
	case RIG_OP_ORIGIN_SHUT:
		if (c)
			(void)shutdown(c->fd, SHUT_WR);
		break;
	case RIG_OP_ORIGIN_RESET:
		if (c)
			rig_conn_close(c, true);
		break;
	case RIG_OP_ORIGIN_NEXT:
		if (r->n_conns > 0)
			r->current = (r->current + 1) % r->n_conns;
		break;
	case RIG_OP_UDP: {
		struct sockaddr_in to = { .sin_family = AF_INET };

		to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		to.sin_port = htons(rig_udp_relay_port(r));
		if (to.sin_port != 0)
			(void)syscall(SYS_sendto, r->udp_fd, p, n, 0, &to,
			    sizeof(to));
		break;
	}
	case RIG_OP_CLIENT_RESET:
		if (r->client_fd >= 0) {
			struct linger l = { .l_onoff = 1, .l_linger = 0 };

			(void)setsockopt(r->client_fd, SOL_SOCKET, SO_LINGER,
			    &l, sizeof(l));
			(void)event_del(r->client_ev);
			(void)close(r->client_fd);
			r->client_fd = -1;
		}
		break;
	}
}

/* Both peers leave; the session must follow. */
static void
rig_finish(struct rig *r)
{
	const uint64_t deadline = rig_now_ms() + RIG_CLOSE_MS;

	if (r->client_fd >= 0) {
		(void)event_del(r->client_ev);
		(void)close(r->client_fd);
		r->client_fd = -1;
	}
	for (size_t i = 0; i < r->n_conns; i++)
		rig_conn_close(&r->conns[i], false);
	while (!session_is_closed(r->s) && rig_now_ms() < deadline) {
		struct timeval ms = { .tv_sec = 0, .tv_usec = 1000 };

		(void)event_base_loopexit(r->base, &ms);
		(void)event_base_dispatch(r->base);
		/* A connection the proxy opened late: close it too. */
		for (size_t i = 0; i < r->n_conns; i++)
			rig_conn_close(&r->conns[i], false);
	}
	if (!session_is_closed(r->s)) {
		(void)fprintf(stderr,
		    "rig: the session (state %s) outlived "
		    "both its peers by %d ms\n",
		    session_state_name(r->s->state), RIG_CLOSE_MS);
		abort();
	}
}

/* RIG_LOG=debug (or info, ...) shows the proxy's log and a summary of
 * each run; by default the runs are quiet, for they are many. */
static bool rig_verbose;

static void
rig_log_init(void)
{
	const char *v = getenv("RIG_LOG");
	enum log_level level = LOG_LEVEL_ERR;

	rig_verbose = v && log_level_from_string(v, &level) == 0;
	log_set_level(level);
}

static void
rig_summary(const struct rig *r)
{
	char text[LOG_ESCAPE_BYTES];
	const uint8_t *eol = memchr(r->seen, '\n', r->n_seen);

	(void)fprintf(stderr,
	    "rig: client got %zu bytes ('%s'), %zu origin connections, "
	    "%" PRIu64 " requests, closed: %s\n",
	    r->n_seen,
	    log_escape(text, sizeof(text), r->seen,
		eol ? (size_t)(eol - r->seen) : r->n_seen),
	    r->n_conns, r->s->requests, r->s->close_reason);
}

/* Open descriptors of this process, or 0 when that is unknown. */
static size_t
rig_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	size_t n = 0;

	if (!d)
		return 0;
	while (readdir(d))
		n++;
	(void)closedir(d);
	return n;
}

int
rig_run(const struct session_frontend *fe, const uint8_t *data, size_t size)
{
	const struct sigaction ignore = { .sa_handler = SIG_IGN };
	struct rig r = { .client_fd = -1 };
	size_t pos = 1, fds;

	if (size < 1)
		return 0;
	/* A peer that went away must not kill the run (the CLI ignores
	 * SIGPIPE the same way). */
	if (sigaction(SIGPIPE, &ignore, NULL) < 0)
		abort();
	rig_log_init();
	r.flags = data[0];
	fds = rig_count_fds();
	rig_start(&r, fe);
	rig_active = &r;
	rig_settle(&r);
	for (int ops = 0; pos < size && ops < RIG_OPS_MAX; ops++) {
		enum rig_op op = (enum rig_op)(data[pos++] & 7);
		size_t n = 0;

		if (op == RIG_OP_CLIENT || op == RIG_OP_ORIGIN ||
		    op == RIG_OP_UDP) {
			if (pos >= size)
				break;
			n = data[pos++];
			if (n > size - pos)
				n = size - pos;
		}
		rig_step(&r, op, data + pos, n);
		pos += n;
		rig_settle(&r);
	}
	rig_finish(&r);
	if (rig_verbose)
		rig_summary(&r);
	rig_active = NULL;
	rig_free(&r);
	/* Everything the run opened is closed again. */
	if (fds > 0 && rig_count_fds() > fds) {
		(void)fprintf(stderr, "rig: the run leaked %zu descriptors\n",
		    rig_count_fds() - fds);
		abort();
	}
	return 0;
}
