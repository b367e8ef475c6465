/* SPDX-License-Identifier: MIT */
/*
 * The proxy runtime. The controlling thread binds the listeners (so bind
 * errors are reported synchronously and port 0 is known before anything
 * runs), starts one worker per CPU and, when an embedder installed one,
 * the decider thread. Reloads build a new snapshot and post it; stops post
 * a stop and join.
 */
#include "proxy/proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/thread.h>

#include "audit/audit.h"
#include "audit/linewriter.h"
#include "audit/otlp.h"
#include "policy/policy.h"
#include "proxy/admin.h"
#include "proxy/decision.h"
#include "proxy/stats.h"
#include "proxy/udprelay.h"
#include "proxy/upstream.h"
#include "proxy/worker.h"
#include "tls/certgen.h"
#include "tls/mitm.h"
#include "util/buf.h"
#include "util/compiler.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/strutil.h"

struct proxy_decider_job {
	struct proxy_decider_job *next;
	struct paddock_request req;
	struct paddock_decision *decision;
	char host[POLICY_HOST_TEXT_MAX];
	char client[64];
	char method[32];
};

struct proxy {
	struct proxy_settings settings; /* policy not kept here */
	pthread_mutex_t lock;           /* guards conf */
	struct proxy_conf *conf;
	uint64_t generation;
	int listen_fds[_PROXY_FRONTEND_MAX];
	int dns_fd;              /* our duplicate, -1: no DNS server */
	struct udprelay *relays; /* premade UDP relays, or NULL */
	struct proxy_listen bound[_PROXY_FRONTEND_MAX];
	bool bound_valid[_PROXY_FRONTEND_MAX];
	struct worker **workers;
	unsigned n_workers;
	bool running;
	bool stop_begun; /* proxy_stop_begin() was called */
	atomic_uint_fast64_t sessions;
	/* Embedder hooks. */
	paddock_decider_fn decider;
	void *decider_ud;
	struct audit_settings audit_settings; /* sink and blocked observer */
	/* The decider thread and its queue. */
	pthread_t decider_thread;
	bool decider_running;
	pthread_mutex_t dlock;
	pthread_cond_t dcond;
	struct proxy_decider_job *dhead, *dtail;
	unsigned dlen;
	bool dquit;
	/* Reporting, each on its own thread. */
	struct audit *audit;
	struct otlp *otlp;       /* OTLP export; outlives audit */
	bool log_writer;         /* holds a linewriter_stderr_ref() */
	struct mitm_certs *mitm; /* interception: the CA, leaves, contexts */
	/* The admin API: its thread, what it asks the loader, what it
	 * reports for an exporter. */
	struct admin *admin;
	struct proxy_admin_ops admin_ops;
	proxy_export_stats_fn export_fn;
	void *export_ud;
	/* Serialises reloads and mode changes (controlling and admin
	 * thread); the data path never takes it. */
	pthread_mutex_t reload_lock;
	atomic_uint_fast64_t reloads;
	atomic_uint_fast64_t reload_failures;
	int64_t started_unix;
};

static const char *const proxy_frontend_names[_PROXY_FRONTEND_MAX] = {
	[PROXY_FRONTEND_HTTP] = "http",
	[PROXY_FRONTEND_SOCKS5] = "socks5",
	[PROXY_FRONTEND_ADMIN] = "admin",
};

const char *
proxy_frontend_name(enum proxy_frontend fe)
{
	if ((unsigned)fe >= _PROXY_FRONTEND_MAX)
		return "invalid";
	return proxy_frontend_names[fe];
}

/*
 * Snapshots.
 */
struct proxy_conf *
proxy_conf_ref(struct proxy_conf *c)
{
	if (c)
		atomic_fetch_add(&c->refs, 1);
	return c;
}

struct proxy_conf *
proxy_conf_unref(struct proxy_conf *c)
{
	if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
		return NULL;
	policy_unref(c->policy);
	upstream_free(c->upstream);
	free(c->profile);
	free(c);
	return NULL;
}

bool
proxy_conf_is_self(const struct proxy_conf *c, const struct sockaddr *sa)
{
	for (int i = 0; i < _PROXY_FRONTEND_MAX; i++)
		if (c->bound_valid[i] &&
		    proxy_addr_reaches((const struct sockaddr *)&c->bound[i]
					   .addr,
			sa))
			return true;
	return false;
}

static const char *
proxy_getenv(const char *name)
{
	return secure_getenv(name);
}

static void
proxy_upstream_warn(void *userdata, const char *message)
{
	(void)userdata;
	log_warn("%s", message);
}

static struct proxy_conf *
proxy_conf_new(struct proxy *p, const struct proxy_settings *s)
{
	struct proxy_conf *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	atomic_init(&c->refs, 1);
	c->generation = ++p->generation;
	c->policy = policy_ref(s->policy);
	c->limits = s->limits;
	c->socks5_udp = s->socks5_udp;
	c->has_decider = p->decider != NULL;
	c->mitm = p->mitm;
	if (s->profile[0] && !(c->profile = strdup(s->profile)))
		return proxy_conf_unref(c);
	if (s->allow_upstream_proxy) {
		c->upstream =
		    upstream_new(proxy_getenv, proxy_upstream_warn, NULL);
		if (!c->upstream)
			return proxy_conf_unref(c);
		if (upstream_is_empty(c->upstream))
			c->upstream = upstream_free(c->upstream);
	}
	memcpy(c->bound, p->bound, sizeof(c->bound));
	memcpy(c->bound_valid, p->bound_valid, sizeof(c->bound_valid));
	return c;
}

struct proxy_conf *
proxy_get_conf(struct proxy *p)
{
	struct proxy_conf *c;

	(void)pthread_mutex_lock(&p->lock);
	c = proxy_conf_ref(p->conf);
	(void)pthread_mutex_unlock(&p->lock);
	return c;
}

bool
proxy_session_add(struct proxy *p, uint64_t cap)
{
	return atomic_fetch_add(&p->sessions, 1) + 1 >= cap;
}

bool
proxy_session_at_cap(struct proxy *p, uint64_t cap)
{
	return atomic_load(&p->sessions) >= cap;
}

void
proxy_session_release(struct proxy *p)
{
	atomic_fetch_sub(&p->sessions, 1);
}

/*
 * Construction.
 */
static pthread_once_t proxy_evthread_once = PTHREAD_ONCE_INIT;
static int proxy_evthread_result;

/* Decider completions arrive from other threads: event bases must be
 * lockable and notifiable before the first one is created. */
static void
proxy_evthread_init(void)
{
	proxy_evthread_result = evthread_use_pthreads();
}

static int proxy_adopt_udp(struct proxy *p, const struct proxy_settings *s);

int
proxy_new(const struct proxy_settings *s, struct proxy **ret, char *reterr,
    size_t errsz)
{
	int r;

	struct proxy *p;

	if (!s->policy)
		return -EINVAL;
	(void)pthread_once(&proxy_evthread_once, proxy_evthread_init);
	if (proxy_evthread_result < 0)
		return -ENOMEM;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->settings = *s;
	p->settings.policy = NULL;
	p->settings.udp_relay_fds = NULL; /* borrowed only during the call */
	p->dns_fd = -1;
	p->settings.otlp = NULL; /* the caller's; p->otlp has a copy */
	for (int i = 0; i < _PROXY_FRONTEND_MAX; i++)
		p->listen_fds[i] = -1;
	atomic_init(&p->sessions, 0);
	(void)pthread_mutex_init(&p->lock, NULL);
	(void)pthread_mutex_init(&p->reload_lock, NULL);
	atomic_init(&p->reloads, 0);
	atomic_init(&p->reload_failures, 0);
	(void)pthread_mutex_init(&p->dlock, NULL);
	(void)pthread_cond_init(&p->dcond, NULL);
	p->conf = proxy_conf_new(p, s);
	if (!p->conf) {
		(void)proxy_free(p);
		return -ENOMEM;
	}
	r = proxy_adopt_udp(p, s);
	if (r < 0) {
		(void)proxy_free(p);
		return r;
	}
	if (s->otlp) {
		r = otlp_new(s->otlp, &p->otlp, reterr, errsz);
		if (r < 0) {
			(void)proxy_free(p);
			return r;
		}
	}
	*ret = p;
	return 0;
}

void
proxy_set_decider(struct proxy *p, paddock_decider_fn fn, void *ud)
{
	p->decider = fn;
	p->decider_ud = ud;
	p->conf->has_decider = fn != NULL;
}

void
proxy_set_blocked_observer(struct proxy *p, paddock_blocked_fn fn, void *ud)
{
	p->audit_settings.blocked_fn = fn;
	p->audit_settings.blocked_userdata = ud;
}

void
proxy_set_audit_sink(struct proxy *p, paddock_audit_fn fn, void *ud)
{
	p->audit_settings.sink = fn ? AUDIT_SINK_CALLBACK : AUDIT_SINK_NONE;
	p->audit_settings.audit_fn = fn;
	p->audit_settings.audit_userdata = ud;
}

void
proxy_set_audit(struct proxy *p, const struct audit_settings *s)
{
	paddock_blocked_fn fn = p->audit_settings.blocked_fn;
	void *ud = p->audit_settings.blocked_userdata;

	p->audit_settings = *s;
	p->audit_settings.blocked_fn = fn;
	p->audit_settings.blocked_userdata = ud;
}

void
proxy_set_admin_ops(struct proxy *p, const struct proxy_admin_ops *ops)
{
	p->admin_ops = *ops;
}

void
proxy_set_export_stats(struct proxy *p, proxy_export_stats_fn fn,
    void *userdata)
{
	p->export_fn = fn;
	p->export_ud = userdata;
}

const char *
proxy_sockaddr_format(const struct sockaddr *sa, char *out, size_t outsz)
{
	char addr[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET6) {
		(void)inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    addr, sizeof(addr));
		(void)snprintf(out, outsz, "[%s]:%u", addr,
		    (unsigned)proxy_addr_port(sa));
	} else if (sa->sa_family == AF_INET) {
		(void)inet_ntop(AF_INET,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    addr, sizeof(addr));
		(void)snprintf(out, outsz, "%s:%u", addr,
		    (unsigned)proxy_addr_port(sa));
	} else {
		(void)snprintf(out, outsz, "unknown");
	}
	return out;
}

const char *
proxy_listen_format(const struct proxy_listen *l, char *out, size_t outsz)
{
	return proxy_sockaddr_format((const struct sockaddr *)&l->addr, out,
	    outsz);
}

int
proxy_get_address(const struct proxy *p, enum proxy_frontend fe,
    struct proxy_listen *ret)
{
	if ((unsigned)fe >= _PROXY_FRONTEND_MAX || !p->bound_valid[fe])
		return -ENOENT;
	*ret = p->bound[fe];
	return 0;
}

const char *
proxy_get_execution_id(const struct proxy *p)
{
	return p->settings.execution_id[0] ? p->settings.execution_id : NULL;
}

int
proxy_get_dns_fd(const struct proxy *p)
{
	return p->dns_fd;
}

struct udprelay *
proxy_get_udp_relays(struct proxy *p)
{
	return p->relays;
}

/* The sockets paddock run made for the DNS server and the UDP relays:
 * our own duplicates. */
static int
proxy_adopt_udp(struct proxy *p, const struct proxy_settings *s)
{
	if (s->dns_premade) {
		p->dns_fd = fcntl(s->dns_fd, F_DUPFD_CLOEXEC, 3);
		if (p->dns_fd < 0)
			return -errno;
	}
	if (s->n_udp_relay_fds > 0) {
		p->relays = udprelay_new(s->udp_relay_fds, s->n_udp_relay_fds);
		if (!p->relays)
			return -ENOMEM;
	}
	return 0;
}

/* A listening socket made by the caller: serve our own duplicate. */
/* Record fd as the listener of fe and where it is bound (loop
 * detection compares against it). Returns 0, or -1 with errno set. */
static int
proxy_bound_keep(struct proxy *p, enum proxy_frontend fe, int fd)
{
	struct proxy_listen *b = &p->bound[fe];

	b->len = sizeof(b->addr);
	if (getsockname(fd, (struct sockaddr *)&b->addr, &b->len) < 0)
		return -1;
	p->listen_fds[fe] = fd;
	p->bound_valid[fe] = true;
	return 0;
}

static int
proxy_adopt(struct proxy *p, enum proxy_frontend fe, char *err, size_t errsz)
{
	int fd, one = 1, r;

	fd = fcntl(p->settings.listen_fd[fe], F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		goto fail;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    proxy_bound_keep(p, fe, fd) < 0)
		goto fail;
	return 0;
fail:
	r = -errno;
	if (fd >= 0)
		(void)close(fd);
	(void)snprintf(err, errsz, "cannot use the %s listening socket: %s",
	    proxy_frontend_name(fe), strerror(-r));
	return r;
}

static int
proxy_bind(struct proxy *p, enum proxy_frontend fe, char *err, size_t errsz)
{
	const struct proxy_listen *l = &p->settings.listen[fe];
	int fd, one = 1, r;
	char text[80];

	if (p->settings.listen_premade[fe])
		return proxy_adopt(p, fe, err, errsz);
	fd = socket(l->addr.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Small requests and answers must not wait for Nagle; accepted
	 * sockets inherit this, which saves a call per connection. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (l->addr.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if (bind(fd, (const struct sockaddr *)&l->addr, l->len) < 0 ||
	    listen(fd, SOMAXCONN) < 0)
		goto fail;
	if (proxy_bound_keep(p, fe, fd) < 0)
		goto fail;
	return 0;
fail:
	r = -errno;
	if (fd >= 0)
		(void)close(fd);
	(void)snprintf(err, errsz, "cannot listen on %s (%s): %s",
	    proxy_listen_format(l, text, sizeof(text)), proxy_frontend_name(fe),
	    strerror(-r));
	return r;
}

static unsigned
proxy_worker_count(const struct proxy_settings *s)
{
	long n = s->workers ? (long)s->workers : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if (n > LIMIT_WORKERS)
		n = LIMIT_WORKERS;
	return (unsigned)n;
}

static void *proxy_decider_main(void *arg);

/* Start threads with every signal blocked: signals belong to the
 * controlling thread (paddock proxy handles them with evsignal). */
static int
proxy_spawn(struct proxy *p)
{
	sigset_t all, old;
	int r = 0;

	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	if (p->decider) {
		r = -pthread_create(&p->decider_thread, NULL,
		    proxy_decider_main, p);
		p->decider_running = r == 0;
	}
	for (unsigned i = 0; i < p->n_workers && r == 0; i++)
		r = worker_start(p->workers[i]);
	if (r == 0 && p->admin)
		r = admin_start(p->admin);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

static void proxy_teardown(struct proxy *p);

/* The audit writer thread starts with every signal blocked, like ours. */
static int
proxy_start_audit(struct proxy *p, char *err, size_t errsz)
{
	sigset_t all, old;
	int r;

	/* Kept out of proxy_set_audit()'s copy: the run owns its id. */
	p->audit_settings.meta.execution_id =
	    p->settings.execution_id[0] ? p->settings.execution_id : NULL;
	if (p->otlp) {
		r = otlp_set_meta(p->otlp, &p->audit_settings.meta);
		if (r >= 0)
			r = otlp_start(p->otlp);
		if (r < 0) {
			(void)snprintf(err, errsz,
			    "cannot start the OTLP exporter: %s", strerror(-r));
			return r;
		}
	}
	p->audit_settings.otlp = p->otlp;
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	r = audit_new(&p->audit_settings, &p->audit);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		(void)snprintf(err, errsz, "cannot start the audit log%s%s: %s",
		    p->audit_settings.path ? " " : "",
		    p->audit_settings.path ? p->audit_settings.path : "",
		    strerror(-r));
	return r;
}

/* Interception needs the CA before the first CONNECT: load it, or make
 * it the first time (spec network §6.2). */
static int
proxy_start_mitm(struct proxy *p, char *err, size_t errsz)
{
	struct certgen_err cerr = { 0 };
	struct certgen_ca *ca = NULL;
	int r;

	if (!p->settings.mitm_dir[0] || p->mitm)
		return 0; /* off, or kept from an earlier start */
	r = certgen_ca_load(p->settings.mitm_dir, true, &ca, &cerr);
	if (r < 0) {
		(void)snprintf(err, errsz, "TLS interception: %.400s",
		    cerr.text);
		return r;
	}
	if (r == 1)
		log_info("created the interception CA %s",
		    certgen_ca_get_cert_path(ca));
	p->mitm = mitm_certs_new(ca, 0, &cerr);
	if (!p->mitm) {
		(void)snprintf(err, errsz, "TLS interception: %.400s",
		    cerr.text);
		return -ENOMEM;
	}
	p->conf->mitm = p->mitm;
	return 0;
}

int
proxy_start(struct proxy *p, char *err, size_t errsz)
{
	int r;

	if (p->running)
		return -EALREADY;
	if (!p->settings.enabled)
		return 0;
	for (int i = 0; i < _PROXY_FRONTEND_MAX; i++) {
		if (!p->settings.frontend_enabled[i])
			continue;
		r = proxy_bind(p, (enum proxy_frontend)i, err, errsz);
		if (r < 0) {
			proxy_teardown(p);
			return r;
		}
	}
	/* From here on, no thread of ours writes to stderr itself: a full
	 * pipe or a stopped terminal must not stall a worker (log lines are
	 * queued, and dropped and counted when the queue is full). */
	r = linewriter_stderr_ref(p->settings.limits.log_queue);
	if (r < 0) {
		(void)snprintf(err, errsz, "cannot start the log writer: %s",
		    strerror(-r));
		proxy_teardown(p);
		return r;
	}
	p->log_writer = true;
	r = proxy_start_audit(p, err, errsz);
	if (r == 0)
		r = proxy_start_mitm(p, err, errsz);
	if (r < 0) {
		proxy_teardown(p);
		return r;
	}
	/* The snapshot now knows where we listen (loop detection). */
	memcpy(p->conf->bound, p->bound, sizeof(p->bound));
	memcpy(p->conf->bound_valid, p->bound_valid, sizeof(p->bound_valid));
	p->n_workers = proxy_worker_count(&p->settings);
	p->workers = calloc(p->n_workers, sizeof(*p->workers));
	if (!p->workers) {
		(void)snprintf(err, errsz, "out of memory");
		proxy_teardown(p);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < p->n_workers; i++) {
		p->workers[i] = worker_new(p, i, p->listen_fds, p->conf);
		if (!p->workers[i]) {
			(void)snprintf(err, errsz,
			    "cannot set up worker %u (event loop or resolver)",
			    i);
			proxy_teardown(p);
			return -ENOMEM;
		}
	}
	/* The admin thread takes its listener over. */
	if (p->listen_fds[PROXY_FRONTEND_ADMIN] >= 0) {
		p->admin = admin_new(p, p->listen_fds[PROXY_FRONTEND_ADMIN],
		    &p->admin_ops);
		if (!p->admin) {
			(void)snprintf(err, errsz,
			    "cannot set up the admin listener");
			proxy_teardown(p);
			return -ENOMEM;
		}
		p->listen_fds[PROXY_FRONTEND_ADMIN] = -1;
	}
	/* Workers hold duplicates; ours are no longer needed. */
	for (int i = 0; i < _PROXY_FRONTEND_MAX; i++)
		if (p->listen_fds[i] >= 0) {
			(void)close(p->listen_fds[i]);
			p->listen_fds[i] = -1;
		}
	p->started_unix = (int64_t)time(NULL);
	r = proxy_spawn(p);
	p->running = true;
	p->stop_begun = false;
	if (r < 0) {
		(void)snprintf(err, errsz, "cannot start threads: %s",
		    strerror(-r));
		(void)proxy_stop(p);
		return r;
	}
	return 0;
}

static bool
proxy_listen_equal(const struct proxy_listen *a, const struct proxy_listen *b)
{
	return a->len == b->len && memcmp(&a->addr, &b->addr, a->len) == 0;
}

/* Install c as the current snapshot and hand it to every worker. Called
 * with reload_lock held. */
static void
proxy_install(struct proxy *p, struct proxy_conf *c)
{
	struct proxy_conf *old;

	(void)pthread_mutex_lock(&p->lock);
	old = p->conf;
	p->conf = c;
	(void)pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->n_workers; i++)
		worker_post_conf(p->workers[i], c);
	proxy_conf_unref(old);
}

int
proxy_get_otlp_stats(struct proxy *p, struct otlp_stats *ret)
{
	if (!p->otlp)
		return -ENOENT;
	otlp_stats(p->otlp, ret);
	return 0;
}

int
proxy_reload(struct proxy *p, const struct proxy_settings *s,
    bool *ret_restart_needed)
{
	struct proxy_conf *c;
	bool restart = s->enabled != p->settings.enabled;

	for (int i = 0; i < _PROXY_FRONTEND_MAX; i++) {
		if (s->frontend_enabled[i] != p->settings.frontend_enabled[i])
			restart = true;
		else if (s->frontend_enabled[i] &&
		    !proxy_listen_equal(&s->listen[i], &p->settings.listen[i]))
			restart = true;
	}
	if (ret_restart_needed)
		*ret_restart_needed = restart;
	if (!otlp_settings_equal(p->otlp ? otlp_get_settings(p->otlp) : NULL,
		s->otlp))
		log_warn("[otel] changed; the OTLP export keeps its settings "
			 "until paddock proxy is restarted");
	(void)pthread_mutex_lock(&p->reload_lock);
	c = proxy_conf_new(p, s);
	if (!c) {
		(void)pthread_mutex_unlock(&p->reload_lock);
		proxy_reload_failed(p);
		return -ENOMEM;
	}
	/* What a later proxy_set_mode() builds on; the listeners stay
	 * those that are bound. */
	p->settings.allow_upstream_proxy = s->allow_upstream_proxy;
	p->settings.allow_local_binding = s->allow_local_binding;
	p->settings.socks5_udp = s->socks5_udp;
	p->settings.limits = s->limits;
	memcpy(p->settings.profile, s->profile, sizeof(p->settings.profile));
	proxy_install(p, c);
	if (p->running)
		atomic_fetch_add(&p->reloads, 1);
	(void)pthread_mutex_unlock(&p->reload_lock);
	return 0;
}

void
proxy_reload_failed(struct proxy *p)
{
	if (p->running)
		atomic_fetch_add(&p->reload_failures, 1);
}

int
proxy_set_mode(struct proxy *p, enum policy_mode mode, char *err, size_t errsz)
{
	struct proxy_settings s;
	struct policy_error perr;
	struct proxy_conf *cur, *c;
	int r;

	(void)pthread_mutex_lock(&p->reload_lock);
	cur = proxy_get_conf(p);
	s = p->settings;
	r = policy_new_with_mode(cur->policy, mode, &s.policy, &perr);
	proxy_conf_unref(cur);
	if (r < 0) {
		(void)pthread_mutex_unlock(&p->reload_lock);
		(void)snprintf(err, errsz, "%s", perr.message);
		return r;
	}
	c = proxy_conf_new(p, &s);
	policy_unref(s.policy);
	if (!c) {
		(void)pthread_mutex_unlock(&p->reload_lock);
		(void)snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	proxy_install(p, c);
	(void)pthread_mutex_unlock(&p->reload_lock);
	return 0;
}

enum policy_mode
proxy_get_mode(struct proxy *p)
{
	struct proxy_conf *c = proxy_get_conf(p);
	enum policy_mode m = policy_get_mode(c->policy);

	proxy_conf_unref(c);
	return m;
}

void
proxy_stats_sum(struct proxy *p, struct stats_sum *ret)
{
	for (unsigned i = 0; i < p->n_workers; i++)
		stats_add(ret, worker_peek_stats(p->workers[i]));
}

struct audit *
proxy_get_audit(struct proxy *p)
{
	return p->audit;
}

void
proxy_get_counters(struct proxy *p, struct proxy_counters *ret)
{
	*ret = (struct proxy_counters){
		.reloads = atomic_load(&p->reloads),
		.reload_failures = atomic_load(&p->reload_failures),
		.started_unix = p->started_unix,
		.workers = p->n_workers,
	};
	if (p->otlp) {
		struct otlp_stats os;

		/* The ring's lock, held as briefly as a push holds it. */
		otlp_stats(p->otlp, &os);
		ret->exporter = (struct proxy_export_stats){
			.queue_depth = os.queued,
			.sent = os.sent,
			.retried = os.retried,
			.dropped = os.dropped + os.failed,
		};
	} else if (p->export_fn) {
		p->export_fn(p->export_ud, &ret->exporter);
	}
}

/*
 * The decider thread.
 */
static enum paddock_protocol
proxy_public_protocol(enum policy_protocol pr)
{
	switch (pr) {
	case POLICY_PROTOCOL_HTTPS_CONNECT:
		return PADDOCK_PROTOCOL_HTTPS_CONNECT;
	case POLICY_PROTOCOL_SOCKS5_TCP:
		return PADDOCK_PROTOCOL_SOCKS5_TCP;
	case POLICY_PROTOCOL_SOCKS5_UDP:
		return PADDOCK_PROTOCOL_SOCKS5_UDP;
	case POLICY_PROTOCOL_HTTPS:
		return PADDOCK_PROTOCOL_HTTPS;
	case POLICY_PROTOCOL_DNS:
		return PADDOCK_PROTOCOL_DNS;
	case POLICY_PROTOCOL_HTTP:
	default:
		return PADDOCK_PROTOCOL_HTTP;
	}
}

int
proxy_ask_decider(struct proxy *p, const struct policy_request *req,
    struct paddock_decision *d)
{
	struct proxy_decider_job *job = calloc(1, sizeof(*job));
	struct policy_host host;

	if (!job) {
		decision_complete(d, POLICY_DECISION_DENY, NULL);
		return -ENOMEM;
	}
	if (policy_host_parse(req->host, strlen(req->host), &host) == 0)
		(void)strlcpy(job->host, host.text, sizeof(job->host));
	else
		(void)strlcpy(job->host, req->host, sizeof(job->host));
	if (req->client)
		(void)strlcpy(job->client, req->client, sizeof(job->client));
	if (req->method)
		(void)strlcpy(job->method, req->method, sizeof(job->method));
	job->req = (struct paddock_request){
		.protocol = proxy_public_protocol(req->protocol),
		.host = job->host,
		.port = req->port,
		.client = req->client ? job->client : NULL,
		.method = req->method ? job->method : NULL,
	};
	job->decision = d;
	(void)pthread_mutex_lock(&p->dlock);
	if (!p->decider_running || p->dquit || p->dlen >= LIMIT_DECIDER_QUEUE) {
		(void)pthread_mutex_unlock(&p->dlock);
		free(job);
		decision_complete(d, POLICY_DECISION_DENY, "decider_busy");
		return -EAGAIN;
	}
	if (p->dtail)
		p->dtail->next = job;
	else
		p->dhead = job;
	p->dtail = job;
	p->dlen++;
	(void)pthread_cond_signal(&p->dcond);
	(void)pthread_mutex_unlock(&p->dlock);
	return 0;
}

static void *
proxy_decider_main(void *arg)
{
	struct proxy *p = arg;

	(void)pthread_setname_np(pthread_self(), "paddock-decider");
	(void)pthread_mutex_lock(&p->dlock);
	for (;;) {
		struct proxy_decider_job *job;

		while (!p->dhead && !p->dquit)
			(void)pthread_cond_wait(&p->dcond, &p->dlock);
		job = p->dhead;
		if (!job)
			break;
		p->dhead = job->next;
		if (!p->dhead)
			p->dtail = NULL;
		p->dlen--;
		if (p->dquit) {
			/* Nobody waits any more; the handle just goes. */
			decision_complete(job->decision, POLICY_DECISION_DENY,
			    NULL);
			free(job);
			continue;
		}
		(void)pthread_mutex_unlock(&p->dlock);
		p->decider(&job->req, job->decision, p->decider_ud);
		free(job);
		(void)pthread_mutex_lock(&p->dlock);
	}
	(void)pthread_mutex_unlock(&p->dlock);
	return NULL;
}

static void
proxy_decider_stop(struct proxy *p)
{
	if (!p->decider_running)
		return;
	(void)pthread_mutex_lock(&p->dlock);
	p->dquit = true;
	(void)pthread_cond_broadcast(&p->dcond);
	(void)pthread_mutex_unlock(&p->dlock);
	(void)pthread_join(p->decider_thread, NULL);
	p->decider_running = false;
	p->dquit = false; /* a later proxy_start() runs a new thread */
}

/*
 * Reporting.
 */
void
proxy_report(struct proxy *p, const struct proxy_conf *c,
    const struct policy_request *req, const struct policy_verdict *v)
{
	if (p->audit)
		audit_submit(p->audit, req, v, policy_get_mode(c->policy));
}

void
proxy_access_log(struct proxy *p, char *line_json)
{
	(void)p;
	log_info("access %s", line_json);
	free(line_json);
}

/*
 * Stopping.
 */
static void
proxy_teardown(struct proxy *p)
{
	p->admin = admin_free(p->admin);
	for (unsigned i = 0; i < p->n_workers; i++)
		p->workers[i] = worker_free(p->workers[i]);
	free(p->workers);
	p->workers = NULL;
	p->n_workers = 0;
	for (int i = 0; i < _PROXY_FRONTEND_MAX; i++) {
		if (p->listen_fds[i] >= 0)
			(void)close(p->listen_fds[i]);
		p->listen_fds[i] = -1;
		p->bound_valid[i] = false;
	}
	/* Workers are gone: nothing submits any more. The audit thread and
	 * the log writer deliver what they have before they stop. */
	p->audit = audit_free(p->audit);
	/* Nothing pushes any more: flush the export (bounded wait). */
	if (p->otlp)
		otlp_stop(p->otlp);
	if (p->log_writer)
		linewriter_stderr_unref();
	p->log_writer = false;
}

void
proxy_stop_begin(struct proxy *p)
{
	if (!p->running || p->stop_begun)
		return;
	p->stop_begun = true;
	for (unsigned i = 0; i < p->n_workers; i++)
		worker_post_stop(p->workers[i]);
	for (unsigned i = 0; i < p->n_workers; i++)
		worker_wait_stop_begun(p->workers[i]);
}

int
proxy_stop(struct proxy *p)
{
	if (!p->running)
		return 0;
	/* The admin thread goes first: it reads the workers' counters and
	 * may be in the middle of a reload. */
	p->admin = admin_free(p->admin);
	proxy_stop_begin(p);
	for (unsigned i = 0; i < p->n_workers; i++)
		worker_join(p->workers[i]);
	proxy_decider_stop(p);
	proxy_teardown(p);
	p->running = false;
	return 0;
}

/* What the leaf cache did over the proxy's life: the hit ratio is one of
 * the interception figures bench/bench_mitm.py reports. */
static void
proxy_log_mitm_stats(struct proxy *p)
{
	struct mitm_cert_stats st;

	if (!p->mitm)
		return;
	mitm_certs_stats(p->mitm, &st);
	log_info("interception leaf cache: %" PRIu64 " hits, %" PRIu64
		 " minted, %" PRIu64 " evicted, %zu cached",
	    st.hits, st.misses, st.evictions, st.entries);
}

struct proxy *
proxy_free(struct proxy *p)
{
	if (!p)
		return NULL;
	(void)proxy_stop(p);
	proxy_teardown(p);
	p->otlp = otlp_free(p->otlp);
	proxy_conf_unref(p->conf);
	proxy_log_mitm_stats(p);
	p->mitm = mitm_certs_free(p->mitm); /* no session is left to use it */
	p->relays = udprelay_free(p->relays);
	if (p->dns_fd >= 0)
		(void)close(p->dns_fd);
	(void)pthread_cond_destroy(&p->dcond);
	(void)pthread_mutex_destroy(&p->dlock);
	(void)pthread_mutex_destroy(&p->reload_lock);
	(void)pthread_mutex_destroy(&p->lock);
	free(p);
	return NULL;
}
