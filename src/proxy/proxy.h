/* SPDX-License-Identifier: MIT */
/*
 * The proxy runtime: listeners, worker threads (one event loop each), the
 * decider thread and the reporting of verdicts. Built from plain settings
 * (struct proxy_settings) so that it never reads config structs itself;
 * the CLI and the public API translate a loaded config into settings.
 *
 * Configuration reaches the data plane as an immutable, reference-counted
 * snapshot (struct proxy_conf): the policy, the upstream proxies and the
 * limits. A reload builds a new snapshot and posts it to every worker; a
 * request keeps the snapshot it started with, so nothing is ever read
 * half-updated and the hot path takes no lock.
 *
 * Thread rules: proxy_new(), the setters, proxy_start(), proxy_stop() and
 * proxy_free() are called from one controlling thread. proxy_reload(),
 * proxy_reload_failed() and proxy_set_mode() may also be called from the
 * admin thread (its POST /reload and POST /mode): they serialise on a
 * lock of their own. Workers only read the snapshot they were handed.
 */
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "paddock.h"
#include "policy/policy.h"

struct audit;
struct audit_settings;
struct buf;
struct mitm_certs;
struct otlp_settings;
struct otlp_stats;
struct policy;
struct policy_request;
struct policy_verdict;
struct udprelay;
struct stats_sum;
struct upstream;
struct worker;

/* The listeners. HTTP and SOCKS5 share sessions, relay and DNS on the
 * workers; the admin API (proxy/admin.h) has a thread of its own. */
enum proxy_frontend {
	PROXY_FRONTEND_HTTP,
	PROXY_FRONTEND_SOCKS5,
	PROXY_FRONTEND_ADMIN,
	_PROXY_FRONTEND_MAX,
};

/* "http", "socks5", "admin". */
const char *proxy_frontend_name(enum proxy_frontend fe);

/* Limits a user may override; defaults come from util/limits.h. */
struct proxy_limits {
	uint64_t head_timeout_ms;
	uint64_t connect_timeout_ms;
	uint64_t idle_timeout_ms;
	uint64_t dns_timeout_ms;
	uint64_t decider_timeout_ms;
	uint64_t shutdown_grace_ms;
	uint64_t sessions;
	uint64_t log_queue; /* log lines waiting; applies at start */
};

void proxy_limits_init(struct proxy_limits *l);

/*
 * Override one limit: name is "head-timeout", "connect-timeout",
 * "idle-timeout", "dns-timeout", "decider-timeout", "shutdown-grace" (a
 * duration such as "250ms", "10s" or "5m"), "sessions" or "log-queue" (a
 * count).
 * Returns 0, -ENOENT for an unknown name or -EINVAL/-ERANGE for a bad
 * value.
 */
int proxy_limits_set(struct proxy_limits *l, const char *name,
    const char *value);

/* Append "  name=value" for every limit, one per line (--help). */
int proxy_limits_describe(const struct proxy_limits *l, struct buf *out);

struct proxy_listen {
	struct sockaddr_storage addr;
	socklen_t len;
};

/* A UUID's 36 characters and the terminator. */
#define PROXY_EXECUTION_ID_BYTES 37

/* Everything the runtime needs; plain values, borrowed during the call
 * that receives them. */
struct proxy_settings {
	bool enabled;
	struct proxy_listen listen[_PROXY_FRONTEND_MAX];
	bool frontend_enabled[_PROXY_FRONTEND_MAX];
	/* A listening socket the caller made (paddock run makes them inside
	 * the sandbox's network namespace): proxy_start() serves a duplicate
	 * of it instead of binding listen[]. Borrowed. */
	bool listen_premade[_PROXY_FRONTEND_MAX];
	int listen_fd[_PROXY_FRONTEND_MAX];
	bool socks5_udp; /* SOCKS5 UDP ASSOCIATE is served */
	/* paddock run: a bound UDP socket in the sandbox's network
	 * namespace that the DNS server (dnsd.h) answers on. Borrowed. */
	bool dns_premade;
	int dns_fd;
	/* paddock run: bound UDP sockets in that namespace that SOCKS5 UDP
	 * associations relay on, since the proxy cannot bind any there
	 * (udprelay.h); none: associations bind their own. Borrowed. */
	const int *udp_relay_fds;
	size_t n_udp_relay_fds;
	bool allow_upstream_proxy;
	bool allow_local_binding; /* for the child environment */
	struct policy *policy;    /* the proxy takes its own reference */
	char profile[128];        /* for the access log; "" = none */
	/* The run this proxy serves (paddock run, a spawn): every audit
	 * event carries it as execution.id. "" = none. */
	char execution_id[PROXY_EXECUTION_ID_BYTES];
	unsigned workers; /* 0 = one per CPU */
	struct proxy_limits limits;
	/* Where the interception CA is (CODEX_HOME/proxy), loaded or made
	 * at proxy_start(); "" = no interception. */
	char mitm_dir[4096];
	/* OTLP export of the audit events ([otel]); NULL: none. Owned by
	 * whoever filled the settings (proxy_settings_done() frees it);
	 * proxy_new() keeps a copy. */
	struct otlp_settings *otlp;
};

/* The immutable snapshot a request is handled under. */
struct proxy_conf {
	atomic_uint refs;
	uint64_t generation;
	struct policy *policy;
	struct upstream *upstream; /* NULL: always direct */
	struct proxy_limits limits;
	char *profile;
	bool socks5_udp;
	bool has_decider;
	struct mitm_certs *mitm; /* the proxy's; NULL: no interception */
	/* Where the listeners are bound, to refuse requests that would loop
	 * back into the proxy. */
	struct proxy_listen bound[_PROXY_FRONTEND_MAX];
	bool bound_valid[_PROXY_FRONTEND_MAX];
};

struct proxy_conf *proxy_conf_ref(struct proxy_conf *c);

/* Accepts NULL; returns NULL. Thread-safe. */
struct proxy_conf *proxy_conf_unref(struct proxy_conf *c);

/* The port of an AF_INET or AF_INET6 address, in host order. */
uint16_t proxy_addr_port(const struct sockaddr *sa);

/* True when a packet to sa (address and port) would reach a socket bound
 * to local: the same address, "any", or loopback when local is a
 * wildcard. Compares canonical forms (policy_addr_canonical()). */
bool proxy_addr_reaches(const struct sockaddr *local,
    const struct sockaddr *sa);

/* True when addr:port is one of the proxy's own listeners
 * (proxy_addr_reaches() for each). */
bool proxy_conf_is_self(const struct proxy_conf *c, const struct sockaddr *sa);

struct proxy;

/* Build a stopped proxy. Returns 0 with *ret, or -ENOMEM, -EINVAL or
 * -ELIBACC (the OTLP exporter's libcurl), with a reason in reterr when
 * there is more to say than the errno (reterr may be NULL). */
int proxy_new(const struct proxy_settings *s, struct proxy **ret, char *reterr,
    size_t errsz);

/* Embedder hooks; call before proxy_start(). */
void proxy_set_decider(struct proxy *p, paddock_decider_fn fn, void *ud);
void proxy_set_blocked_observer(struct proxy *p, paddock_blocked_fn fn,
    void *ud);
void proxy_set_audit_sink(struct proxy *p, paddock_audit_fn fn, void *ud);

/* Where audit events go (src/audit): none, stderr, a file, a callback.
 * Copied; a path stays borrowed until proxy_start(). The blocked-request
 * observer is kept. */
void proxy_set_audit(struct proxy *p, const struct audit_settings *s);

/*
 * What the admin API (GET /config, POST /reload, POST /mode) needs from
 * whoever loaded the config. Called on the admin thread; any member may be
 * NULL (the endpoint then answers 500).
 */
struct proxy_admin_ops {
	/* The effective config as JSON text (caller frees), NULL on error. */
	char *(*config_json)(void *userdata);
	/* Load the config again and apply it with proxy_reload(). Returns 0,
	 * or a negative errno with the reason in err. */
	int (*reload)(void *userdata, char *err, size_t errsz);
	/* Whether the administrator's requirements allow mode. Returns 0, or
	 * -EPERM with the reason in err. */
	int (*check_mode)(void *userdata, enum policy_mode mode, char *err,
	    size_t errsz);
	void *userdata;
};

/* Copied; call before proxy_start(). */
void proxy_set_admin_ops(struct proxy *p, const struct proxy_admin_ops *ops);

/* What an exporter of audit events (OTLP) reports for /metrics. */
struct proxy_export_stats {
	uint64_t queue_depth; /* events waiting */
	uint64_t sent;        /* events delivered */
	uint64_t retried;     /* delivery attempts repeated */
	uint64_t dropped;     /* events given up (queue full, retries out) */
};

/* Fill *ret; called on the admin thread at every scrape, so it must only
 * read counters (no lock the data path could wait on). */
typedef void (
    *proxy_export_stats_fn)(void *userdata, struct proxy_export_stats *ret);

/* Register the exporter's counters (fn NULL: none, all read as 0). Call
 * before proxy_start(). */
void proxy_set_export_stats(struct proxy *p, proxy_export_stats_fn fn,
    void *userdata);

/*
 * Bind the listeners and start the threads. A disabled proxy binds nothing
 * and returns 0. On failure nothing is left running and the error is
 * described in err (errsz bytes). Returns 0 or a negative errno.
 */
int proxy_start(struct proxy *p, char *err, size_t errsz);

/* The bound address of a front end. Returns 0, or -ENOENT when it is not
 * listening. */
int proxy_get_address(const struct proxy *p, enum proxy_frontend fe,
    struct proxy_listen *ret);

/* The execution.id of the run this proxy serves, or NULL (borrowed; fixed
 * for the proxy's life). Any thread. */
const char *proxy_get_execution_id(const struct proxy *p);

/* "127.0.0.1:3128", "[::1]:3128" ("unknown" for other families). Returns
 * out. */
const char *proxy_sockaddr_format(const struct sockaddr *sa, char *out,
    size_t outsz);
const char *proxy_listen_format(const struct proxy_listen *l, char *out,
    size_t outsz);

/* The OTLP exporter's counters (for metrics). Returns 0, or -ENOENT when
 * the proxy exports nothing. Any thread, while the proxy exists. */
int proxy_get_otlp_stats(struct proxy *p, struct otlp_stats *ret);

/*
 * Apply new settings to a running (or stopped) proxy. The policy, the
 * upstream proxies, the profile and the limits take effect for new
 * requests; listener changes cannot, and *ret_restart_needed (when not
 * NULL) is set when they differ. A changed OTLP export (s->otlp) applies
 * at the next start only; that is logged. Returns 0 or -ENOMEM.
 */
int proxy_reload(struct proxy *p, const struct proxy_settings *s,
    bool *ret_restart_needed);

/*
 * A reload that never reached proxy_reload() (the config did not load, a
 * requirement forbids it): counted for /metrics. Every reload, whatever
 * triggered it, ends in exactly one proxy_reload() or
 * proxy_reload_failed() call.
 */
void proxy_reload_failed(struct proxy *p);

/*
 * Switch the policy's mode (POST /mode): the current rules compiled again
 * with mode. The next reload from the config files sets the mode the
 * files say. Returns 0, or -ENOMEM / -EINVAL with the reason in err.
 */
int proxy_set_mode(struct proxy *p, enum policy_mode mode, char *err,
    size_t errsz);

/* The current policy's mode. Thread-safe. */
enum policy_mode proxy_get_mode(struct proxy *p);

/*
 * Stop accepting and return once every worker has: idle connections are
 * closed and every open exchange answers with Connection: close. The
 * threads go on finishing those exchanges; proxy_stop() waits for them.
 * Idempotent.
 */
void proxy_stop_begin(struct proxy *p);

/*
 * Stop accepting (proxy_stop_begin(), if not done yet), let open exchanges
 * finish for up to the shutdown grace, close what is left and join every
 * thread. Idempotent. Returns 0.
 */
int proxy_stop(struct proxy *p);

/* Stop (when running) and free. Accepts NULL; returns NULL. */
struct proxy *proxy_free(struct proxy *p);

/*
 * For workers and sessions.
 */

/* The current snapshot, with a new reference. Thread-safe. */
struct proxy_conf *proxy_get_conf(struct proxy *p);

/* The DNS server's socket (worker 0 serves it), or -1. */
int proxy_get_dns_fd(const struct proxy *p);

/* The premade SOCKS5 UDP relay sockets, or NULL (bind your own). */
struct udprelay *proxy_get_udp_relays(struct proxy *p);

/* Session accounting across all workers, for the session cap. Counting
 * a new session returns true when the cap is reached: the caller stops
 * accepting. (Workers racing for the last slot may overshoot by one each;
 * a connection already accepted is served, never reset.) */
bool proxy_session_add(struct proxy *p, uint64_t cap);
void proxy_session_release(struct proxy *p);
bool proxy_session_at_cap(struct proxy *p, uint64_t cap);

struct paddock_decision;

/*
 * Hand a request to the embedder's decider on the decider thread. The
 * request's strings are copied. Takes over the decider's reference of d.
 * Returns 0, or -EAGAIN when the queue is full (d is then completed with a
 * deny on the spot).
 */
int proxy_ask_decider(struct proxy *p, const struct policy_request *req,
    struct paddock_decision *d);

/*
 * Report a final verdict to the audit runtime: one audit event per verdict
 * event and, for a block, one blocked record (buffer and observer). Never
 * blocks: the work is handed to the audit thread.
 */
void proxy_report(struct proxy *p, const struct proxy_conf *c,
    const struct policy_request *req, const struct policy_verdict *v);

/*
 * For the admin API (any thread).
 */

/* The sum of every worker's counters, added to *ret. */
void proxy_stats_sum(struct proxy *p, struct stats_sum *ret);

/* The audit runtime (blocked-request buffer), borrowed; NULL when the
 * proxy is not running. */
struct audit *proxy_get_audit(struct proxy *p);

struct proxy_counters {
	uint64_t reloads;         /* applied with proxy_reload() */
	uint64_t reload_failures; /* proxy_reload_failed() or ENOMEM */
	int64_t started_unix;     /* when proxy_start() returned, seconds */
	unsigned workers;
	struct proxy_export_stats exporter;
};

void proxy_get_counters(struct proxy *p, struct proxy_counters *ret);

/* Prometheus text for GET /metrics (proxy_metrics.c). Returns 0 or
 * -ENOMEM. */
int proxy_metrics(struct proxy *p, struct buf *out);

/* The session access log: one JSON line per session, takes ownership
 * (never blocks). */
void proxy_access_log(struct proxy *p, char *line_json);
