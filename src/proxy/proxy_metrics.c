/* SPDX-License-Identifier: MIT */
/*
 * GET /metrics: every worker's counters summed (proxy/stats.h), the
 * blocked-request buffer, the reload counters and an exporter's counters,
 * in the Prometheus text format (wire/prom.h). Every name starts with
 * paddock_. Decision series are written only once they are non-zero:
 * the label space (decision x reason x source x protocol) is large and
 * mostly unused, and Prometheus treats an absent series as 0.
 */
#include "proxy/proxy.h"

#include <errno.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include <event2/event.h>

#include "audit/audit.h"
#include "audit/blocked.h"
#include "policy/policy.h"
#include "proxy/stats.h"
#include "util/buf.h"
#include "util/compiler.h"
#include "wire/prom.h"

static int
proxy_metrics_decisions(const struct stats_sum *s, struct buf *out)
{
	int r = prom_family(out, "paddock_policy_decisions_total", PROM_COUNTER,
	    "Policy decisions, one per audit event, by decision, reason, "
	    "source and protocol.");

	for (size_t d = 0; d < _POLICY_DECISION_MAX && r >= 0; d++)
		for (size_t re = 0; re < _POLICY_REASON_MAX && r >= 0; re++)
			for (size_t so = 0; so < _POLICY_SOURCE_MAX && r >= 0;
			     so++)
				for (size_t p = 0;
				     p < _POLICY_PROTOCOL_MAX && r >= 0; p++) {
					uint64_t v = s->decisions[d][re][so][p];
					struct prom_label l[] = {
						{ "decision",
						    policy_decision_name(d) },
						{ "reason",
						    policy_reason_name(re) },
						{ "source",
						    policy_source_name(so) },
						{ "protocol",
						    policy_protocol_name(p) },
					};

					if (v)
						r = prom_sample_u64(out,
						    "paddock_policy_decisions_"
						    "total",
						    l, ELEMENTSOF(l), v);
				}
	return r;
}

/* The session front ends (the admin listener is not one). */
static const enum proxy_frontend proxy_metrics_frontends[] = {
	PROXY_FRONTEND_HTTP,
	PROXY_FRONTEND_SOCKS5,
};

static int
proxy_metrics_connections(const struct stats_sum *s, struct buf *out)
{
	int r = prom_family(out, "paddock_connections_open", PROM_GAUGE,
	    "Client connections open now, by front end.");

	for (size_t i = 0; i < ELEMENTSOF(proxy_metrics_frontends) && r >= 0;
	     i++) {
		enum proxy_frontend fe = proxy_metrics_frontends[i];
		struct prom_label l = { "frontend", proxy_frontend_name(fe) };

		r = prom_sample_u64(out, "paddock_connections_open", &l, 1,
		    s->opened[fe] > s->closed[fe] ?
			s->opened[fe] - s->closed[fe] :
			0);
	}
	if (r >= 0)
		r = prom_family(out, "paddock_connections_total", PROM_COUNTER,
		    "Client connections accepted, by front end.");
	for (size_t i = 0; i < ELEMENTSOF(proxy_metrics_frontends) && r >= 0;
	     i++) {
		enum proxy_frontend fe = proxy_metrics_frontends[i];
		struct prom_label l = { "frontend", proxy_frontend_name(fe) };

		r = prom_sample_u64(out, "paddock_connections_total", &l, 1,
		    s->opened[fe]);
	}
	if (r >= 0)
		r = prom_family(out, "paddock_relayed_bytes_total",
		    PROM_COUNTER,
		    "Bytes received from clients (client_to_upstream) and "
		    "from upstreams (upstream_to_client), counted when a "
		    "connection closes.");
	for (size_t d = 0; d < _STATS_DIR_MAX && r >= 0; d++) {
		struct prom_label l = { "direction", stats_direction_name(d) };

		r = prom_sample_u64(out, "paddock_relayed_bytes_total", &l, 1,
		    s->bytes[d]);
	}
	return r;
}

static int
proxy_metrics_histograms(const struct stats_sum *s, struct buf *out)
{
	static const struct {
		enum stats_hist_id id;
		const char *name;
		const char *help;
	} hists[] = {
		{ STATS_HIST_DIAL, "paddock_upstream_dial_seconds",
		    "Time to connect to an upstream, all addresses tried." },
		{ STATS_HIST_DNS, "paddock_dns_lookup_seconds",
		    "Time to resolve a name." },
	};

	int r = 0;

	for (size_t i = 0; i < ELEMENTSOF(hists) && r >= 0; i++) {
		r = prom_family(out, hists[i].name, PROM_HISTOGRAM,
		    hists[i].help);
		if (r >= 0)
			r = prom_histogram(out, hists[i].name, NULL, 0,
			    stats_hist_bounds, s->hist_counts[hists[i].id],
			    STATS_HIST_BUCKETS,
			    (double)s->hist_sum_ns[hists[i].id] / 1e9);
	}
	return r;
}

static int
proxy_metrics_counter(struct buf *out, const char *name, enum prom_type type,
    const char *help, uint64_t v)
{
	int r = prom_family(out, name, type, help);

	return r < 0 ? r : prom_sample_u64(out, name, NULL, 0, v);
}

static int
proxy_metrics_runtime(struct proxy *p, struct buf *out)
{
	struct proxy_counters pc;
	struct audit *au = proxy_get_audit(p);
	size_t blocked_size = 0;
	uint64_t blocked_evicted = 0, audit_dropped = 0;
	struct prom_label mode;
	int r;

	proxy_get_counters(p, &pc);
	if (au) {
		blocked_counts(audit_get_blocked(au), &blocked_size,
		    &blocked_evicted);
		audit_dropped = audit_get_dropped(au);
	}
	r = proxy_metrics_counter(out, "paddock_blocked_buffer_size",
	    PROM_GAUGE, "Blocked requests buffered for GET /blocked.",
	    blocked_size);
	if (r >= 0)
		r = proxy_metrics_counter(out,
		    "paddock_blocked_buffer_dropped_total", PROM_COUNTER,
		    "Blocked requests evicted unread because the buffer was "
		    "full.",
		    blocked_evicted);
	if (r >= 0)
		r = proxy_metrics_counter(out, "paddock_audit_dropped_total",
		    PROM_COUNTER,
		    "Audit events dropped because the audit queue was full.",
		    audit_dropped);
	if (r >= 0)
		r = proxy_metrics_counter(out, "paddock_exporter_queue_depth",
		    PROM_GAUGE, "Audit events waiting for the exporter.",
		    pc.exporter.queue_depth);
	if (r >= 0)
		r = proxy_metrics_counter(out, "paddock_exporter_sent_total",
		    PROM_COUNTER, "Audit events the exporter delivered.",
		    pc.exporter.sent);
	if (r >= 0)
		r = proxy_metrics_counter(out, "paddock_exporter_retried_total",
		    PROM_COUNTER, "Export attempts the exporter repeated.",
		    pc.exporter.retried);
	if (r >= 0)
		r = proxy_metrics_counter(out, "paddock_exporter_dropped_total",
		    PROM_COUNTER, "Audit events the exporter gave up on.",
		    pc.exporter.dropped);
	if (r >= 0)
		r = proxy_metrics_counter(out, "paddock_reloads_total",
		    PROM_COUNTER, "Configuration reloads applied.", pc.reloads);
	if (r >= 0)
		r = proxy_metrics_counter(out, "paddock_reload_failures_total",
		    PROM_COUNTER,
		    "Configuration reloads refused; the previous "
		    "configuration stayed in force.",
		    pc.reload_failures);
	if (r >= 0)
		r = proxy_metrics_counter(out, "paddock_workers", PROM_GAUGE,
		    "Worker threads (event loops).", pc.workers);
	if (r >= 0)
		r = prom_family(out, "paddock_start_time_seconds", PROM_GAUGE,
		    "When the proxy started, Unix time.");
	if (r >= 0)
		r = prom_sample_double(out, "paddock_start_time_seconds", NULL,
		    0, (double)pc.started_unix);
	mode =
	    (struct prom_label){ "mode", policy_mode_name(proxy_get_mode(p)) };
	if (r >= 0)
		r = prom_family(out, "paddock_policy_mode", PROM_GAUGE,
		    "The policy mode in force (1 for the current one).");
	if (r >= 0)
		r = prom_sample_u64(out, "paddock_policy_mode", &mode, 1, 1);
	return r;
}

static int
proxy_metrics_listeners(struct proxy *p, struct buf *out)
{
	int r = prom_family(out, "paddock_listener_info", PROM_GAUGE,
	    "The bound listeners (1 for each).");

	for (int i = 0; i < _PROXY_FRONTEND_MAX && r >= 0; i++) {
		struct proxy_listen l;
		char text[80];

		if (proxy_get_address(p, (enum proxy_frontend)i, &l) < 0)
			continue;
		struct prom_label labels[] = {
			{ "frontend", proxy_frontend_name(i) },
			{ "address",
			    proxy_listen_format(&l, text, sizeof(text)) },
		};

		r = prom_sample_u64(out, "paddock_listener_info", labels,
		    ELEMENTSOF(labels), 1);
	}
	return r;
}

static int
proxy_metrics_build(struct buf *out)
{
	struct prom_label l[] = {
		{ "version", PADDOCK_VERSION_STRING },
		{ "libevent", event_get_version() },
		{ "openssl", OpenSSL_version(OPENSSL_VERSION_STRING) },
	};
	int r = prom_family(out, "paddock_build_info", PROM_GAUGE,
	    "The paddock build and the libraries it runs with (always 1).");

	return r < 0 ?
	    r :
	    prom_sample_u64(out, "paddock_build_info", l, ELEMENTSOF(l), 1);
}

int
proxy_metrics(struct proxy *p, struct buf *out)
{
	struct stats_sum *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	proxy_stats_sum(p, s);
	r = proxy_metrics_build(out);
	if (r >= 0)
		r = proxy_metrics_decisions(s, out);
	if (r >= 0)
		r = proxy_metrics_connections(s, out);
	if (r >= 0)
		r = proxy_metrics_histograms(s, out);
	if (r >= 0)
		r = proxy_metrics_runtime(p, out);
	if (r >= 0)
		r = proxy_metrics_listeners(p, out);
	free(s);
	return r < 0 ? -ENOMEM : 0;
}
