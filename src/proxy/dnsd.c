/* SPDX-License-Identifier: MIT */
/*
 * The DNS server; see dnsd.h. One question is one struct dnsd_question
 * from its datagram to its answer: judged with policy_judge() (resolving
 * when the policy asks), then, when allowed and the judgement did not
 * already look the name up, resolved for its addresses. Each question
 * keeps the configuration snapshot it started with.
 */
#include "proxy/dnsd.h"

#include <netinet/in.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "policy/policy.h"
#include "proxy/dns.h"
#include "proxy/proxy.h"
#include "proxy/worker.h"
#include "util/limits.h"
#include "util/log.h"
#include "wire/dnsmsg.h"

struct dnsd_question {
	TAILQ_ENTRY(dnsd_question) link;
	struct dnsd *d;
	struct proxy_conf *conf; /* a reference */
	struct dnsmsg_query q;
	struct sockaddr_storage from;
	socklen_t from_len;
	char client[64];
	struct policy_request req;
	struct policy_input in;
	struct policy_verdict v;
	struct policy_addr addrs[LIMIT_DNS_ADDRS];
	size_t n_addrs;
	struct dns_lookup *lookup; /* NULL when none is in flight */
	int lookup_err;            /* of the judgement's lookup */
};

TAILQ_HEAD(dnsd_questions, dnsd_question);

struct dnsd {
	struct worker *w;
	int fd;
	struct event *ev;
	struct dnsd_questions pending;
	size_t n_pending;
};

static void
dnsd_send(struct dnsd *d, const struct dnsmsg_query *q, unsigned rcode,
    const struct dnsmsg_rr *an, size_t n_an, const struct sockaddr *to,
    socklen_t to_len)
{
	uint8_t out[DNSMSG_REPLY_MAX];
	size_t len = dnsmsg_reply(q, rcode, an, n_an, LIMIT_DNSD_TTL_S, out,
	    sizeof(out));

	/* UDP: a full socket buffer drops the answer; the client asks
	 * again. */
	if (len > 0)
		(void)sendto(d->fd, out, len, MSG_DONTWAIT, to, to_len);
}

static void
dnsd_question_free(struct dnsd_question *x)
{
	struct dnsd *d = x->d;

	x->lookup = dns_cancel(x->lookup);
	TAILQ_REMOVE(&d->pending, x, link);
	d->n_pending--;
	proxy_conf_unref(x->conf);
	free(x);
}

/* Answer from x->addrs (or with rcode when it is not NOERROR), then
 * forget x. */
static void
dnsd_answer(struct dnsd_question *x, unsigned rcode)
{
	struct dnsmsg_rr an[LIMIT_DNS_ADDRS];
	size_t n = 0;
	int family = x->q.qtype == DNSMSG_TYPE_A ? AF_INET :
	    x->q.qtype == DNSMSG_TYPE_AAAA       ? AF_INET6 :
						   AF_UNSPEC;

	for (size_t i = 0; rcode == DNSMSG_RCODE_NOERROR && i < x->n_addrs;
	     i++) {
		const struct policy_addr *a = &x->addrs[i];

		if (a->family != family)
			continue;
		/* The verdict allows public addresses only: a name must
		 * not lead the command to a local one (dial.h does the
		 * same at connect time). */
		if (x->v.public_only && policy_addr_class(a))
			continue;
		an[n].type =
		    family == AF_INET ? DNSMSG_TYPE_A : DNSMSG_TYPE_AAAA;
		an[n].len = family == AF_INET ? 4 : 16;
		memcpy(an[n].data, a->bytes, an[n].len);
		n++;
	}
	log_debug("dns: %s %u from %s: %s, %zu record%s", LOG_US(x->q.name),
	    (unsigned)x->q.qtype, x->client, dnsmsg_rcode_name(rcode), n,
	    n == 1 ? "" : "s");
	dnsd_send(x->d, &x->q, rcode, an, n, (struct sockaddr *)&x->from,
	    x->from_len);
	dnsd_question_free(x);
}

static void
dnsd_addrs_cb(void *arg, int err, const struct policy_addr *addrs, size_t n)
{
	struct dnsd_question *x = arg;

	x->lookup = NULL;
	if (err < 0) {
		dnsd_answer(x,
		    err == -ENXIO ? DNSMSG_RCODE_NXDOMAIN :
				    DNSMSG_RCODE_SERVFAIL);
		return;
	}
	x->n_addrs = n;
	memcpy(x->addrs, addrs, n * sizeof(*addrs));
	dnsd_answer(x, DNSMSG_RCODE_NOERROR);
}

/* The name is allowed: find its addresses, as judge_addrs() does for a
 * connection. */
static void
dnsd_addresses(struct dnsd_question *x)
{
	const struct policy_host *h = &x->v.host;

	if (x->in.resolved) {
		/* The policy looked it up; an allowed verdict means the
		 * lookup gave addresses. */
		dnsd_answer(x, DNSMSG_RCODE_NOERROR);
		return;
	}
	if (h->kind != POLICY_HOST_NAME) {
		x->addrs[0] = policy_host_addr(h);
		x->n_addrs = 1;
		dnsd_answer(x, DNSMSG_RCODE_NOERROR);
		return;
	}
	if (policy_host_is_localhost(h)) {
		/* RFC 6761 §6.3. */
		x->addrs[0] = (struct policy_addr){ .family = AF_INET,
			.bytes = { 127, 0, 0, 1 } };
		x->addrs[1] = (struct policy_addr){ .family = AF_INET6,
			.bytes = { [15] = 1 } };
		x->n_addrs = 2;
		dnsd_answer(x, DNSMSG_RCODE_NOERROR);
		return;
	}
	x->lookup = dns_resolve(x->d->w, h->text,
	    x->conf->limits.dns_timeout_ms, dnsd_addrs_cb, x);
	if (!x->lookup)
		dnsd_answer(x, DNSMSG_RCODE_SERVFAIL);
}

static void dnsd_judge(struct dnsd_question *x);

static void
dnsd_judge_cb(void *arg, int err, const struct policy_addr *addrs, size_t n)
{
	struct dnsd_question *x = arg;

	x->lookup = NULL;
	x->lookup_err = err;
	x->n_addrs = err < 0 ? 0 : n;
	if (x->n_addrs)
		memcpy(x->addrs, addrs, n * sizeof(*addrs));
	x->in.resolved = true;
	x->in.addrs = x->addrs;
	x->in.n_addrs = x->n_addrs;
	dnsd_judge(x);
}

/* The judge loop of judge.h, without a decider. */
static void
dnsd_judge(struct dnsd_question *x)
{
	for (;;) {
		policy_judge(x->conf->policy, &x->in, &x->v);
		if (x->v.next != POLICY_NEXT_RESOLVE)
			break;
		x->lookup = dns_resolve(x->d->w, x->v.host.text,
		    x->conf->limits.dns_timeout_ms, dnsd_judge_cb, x);
		if (x->lookup)
			return;
		x->in.resolved = true; /* no memory: fail closed */
	}
	proxy_report(worker_get_proxy(x->d->w), x->conf, &x->req, &x->v);
	if (x->v.decision != POLICY_DECISION_ALLOW ||
	    x->v.next != POLICY_NEXT_DONE) {
		log_info("dns: refused %s from %s: %s", LOG_US(x->q.name),
		    x->client, policy_verdict_reason(&x->v, x->v.reason));
		/* Refused because the name did not resolve (fail closed):
		 * say what the lookup said, so that a client does not take
		 * a missing name for a policy matter. */
		if (x->v.unresolved)
			dnsd_answer(x,
			    x->lookup_err == -ENXIO ? DNSMSG_RCODE_NXDOMAIN :
						      DNSMSG_RCODE_SERVFAIL);
		else
			dnsd_answer(x, DNSMSG_RCODE_REFUSED);
		return;
	}
	dnsd_addresses(x);
}

static void
dnsd_question(struct dnsd *d, const struct dnsmsg_query *q,
    const struct sockaddr_storage *from, socklen_t from_len)
{
	struct dnsd_question *x;

	if (d->n_pending >= LIMIT_DNSD_PENDING ||
	    !(x = calloc(1, sizeof(*x)))) {
		dnsd_send(d, q, DNSMSG_RCODE_SERVFAIL, NULL, 0,
		    (const struct sockaddr *)from, from_len);
		return;
	}
	x->d = d;
	x->q = *q;
	memcpy(&x->from, from, from_len);
	x->from_len = from_len;
	(void)proxy_sockaddr_format((const struct sockaddr *)from, x->client,
	    sizeof(x->client));
	x->conf = proxy_conf_ref(worker_get_conf(d->w));
	TAILQ_INSERT_TAIL(&d->pending, x, link);
	d->n_pending++;
	/* No port: a name is asked, nothing is connected to yet. */
	x->req = (struct policy_request){
		.protocol = POLICY_PROTOCOL_DNS,
		.host = x->q.name,
		.client = x->client,
	};
	x->in = (struct policy_input){ .request = &x->req };
	dnsd_judge(x);
}

static void
dnsd_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dnsd *d = arg;
	uint8_t buf[DNSMSG_REPLY_MAX];

	(void)what;
	for (int i = 0; i < LIMIT_DNSD_BURST; i++) {
		struct sockaddr_storage from;
		socklen_t len = sizeof(from);
		struct dnsmsg_query q;
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC,
		    (struct sockaddr *)&from, &len);

		if (n < 0)
			break;
		/* Larger than any query we take: cut, hence malformed. */
		if ((size_t)n > sizeof(buf))
			n = (ssize_t)sizeof(buf);
		switch (dnsmsg_parse_query(buf, (size_t)n, &q)) {
		case DNSMSG_QUERY:
			dnsd_question(d, &q, &from, len);
			break;
		case DNSMSG_REJECT:
			log_debug("dns: %s: %s", dnsmsg_rcode_name(q.rcode),
			    q.why);
			dnsd_send(d, &q, q.rcode, NULL, 0,
			    (struct sockaddr *)&from, len);
			break;
		case DNSMSG_DROP:
		default:
			break;
		}
	}
}

struct dnsd *
dnsd_new(struct worker *w, int fd)
{
	struct dnsd *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->w = w;
	TAILQ_INIT(&d->pending);
	d->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (d->fd < 0 ||
	    fcntl(d->fd, F_SETFL, fcntl(d->fd, F_GETFL) | O_NONBLOCK) < 0)
		return dnsd_free(d);
	d->ev = event_new(worker_get_base(w), d->fd, EV_READ | EV_PERSIST,
	    dnsd_read_cb, d);
	if (!d->ev || event_add(d->ev, NULL) < 0)
		return dnsd_free(d);
	return d;
}

struct dnsd *
dnsd_free(struct dnsd *d)
{
	struct dnsd_question *x;

	if (!d)
		return NULL;
	while ((x = TAILQ_FIRST(&d->pending)))
		dnsd_question_free(x);
	if (d->ev)
		event_free(d->ev);
	if (d->fd >= 0)
		(void)close(d->fd);
	free(d);
	return NULL;
}
