/* SPDX-License-Identifier: MIT */
/* Config to runtime settings. */
#include "api/proxy_settings.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/otlp.h"
#include "config/config.h"
#include "policy/policy.h"
#include "util/limits.h"
#include "util/strparse.h"

static int
proxy_settings_listen(const struct config_listen_addr *a,
    struct proxy_listen *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ret->addr;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(a->port);
		if (inet_pton(AF_INET6, a->host, &in6->sin6_addr) != 1)
			return -EINVAL;
		ret->len = sizeof(*in6);
		return 0;
	}
	struct sockaddr_in *in = (struct sockaddr_in *)&ret->addr;

	in->sin_family = AF_INET;
	in->sin_port = htons(a->port);
	if (inet_pton(AF_INET, a->host, &in->sin_addr) != 1)
		return -EINVAL;
	ret->len = sizeof(*in);
	return 0;
}

/*
 * [otel] -> the exporter's settings. PADDOCK_OTLP_QUEUE (records, 1 to
 * LIMIT_OTLP_QUEUE_MAX) sizes the queue: a tuning and test knob the
 * reference has no key for (docs/observability.md).
 */
static int
proxy_settings_otlp(const struct config *cfg, struct proxy_settings *ret,
    char *err, size_t errsz)
{
	const struct config_otel *o = config_get_otel(cfg);
	const char *q = secure_getenv("PADDOCK_OTLP_QUEUE");
	struct otlp_settings *s;
	uint64_t n = 0;
	int r = 0;

	if (o->exporter != CONFIG_OTEL_EXPORTER_OTLP_HTTP)
		return 0;
	if (q &&
	    (strparse_u64_str(q, LIMIT_OTLP_QUEUE_MAX, &n) < 0 || n == 0)) {
		(void)snprintf(err, errsz,
		    "PADDOCK_OTLP_QUEUE takes a number of records from 1 to "
		    "%u",
		    (unsigned)LIMIT_OTLP_QUEUE_MAX);
		return -EINVAL;
	}
	s = otlp_settings_new(o->endpoint, o->environment);
	if (!s)
		r = -ENOMEM;
	if (r >= 0) {
		s->json = o->protocol == CONFIG_OTEL_PROTOCOL_JSON;
		s->queue = (size_t)n;
		r = otlp_settings_set_tls(s, o->ca_certificate,
		    o->client_certificate, o->client_private_key);
	}
	for (size_t i = 0; r >= 0 && i < o->n_headers; i++)
		r = otlp_settings_add_header(s, o->headers[i].name,
		    o->headers[i].value);
	if (r < 0) {
		(void)snprintf(err, errsz, "out of memory");
		otlp_settings_free(s);
		return r;
	}
	ret->otlp = s;
	return 0;
}

int
proxy_settings_from_config(const struct config *cfg, struct proxy_settings *ret,
    char *err, size_t errsz)
{
	const struct config_network *net = config_get_network(cfg);
	struct policy_settings ps;
	struct policy_error perr;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->enabled = net->enabled;
	ret->allow_upstream_proxy = net->allow_upstream_proxy;
	ret->allow_local_binding = net->allow_local_binding;
	if (config_get_default_permissions(cfg))
		(void)snprintf(ret->profile, sizeof(ret->profile), "%s",
		    config_get_default_permissions(cfg));
	proxy_limits_init(&ret->limits);
	if (proxy_settings_listen(&net->http_addr,
		&ret->listen[PROXY_FRONTEND_HTTP]) < 0 ||
	    proxy_settings_listen(&net->socks_addr,
		&ret->listen[PROXY_FRONTEND_SOCKS5]) < 0) {
		(void)snprintf(err, errsz, "invalid listener address");
		return -EINVAL;
	}
	ret->frontend_enabled[PROXY_FRONTEND_HTTP] = true;
	ret->frontend_enabled[PROXY_FRONTEND_SOCKS5] = net->enable_socks5;
	if (net->admin_url) {
		if (proxy_settings_listen(&net->admin_addr,
			&ret->listen[PROXY_FRONTEND_ADMIN]) < 0) {
			(void)snprintf(err, errsz, "invalid listener address");
			return -EINVAL;
		}
		ret->frontend_enabled[PROXY_FRONTEND_ADMIN] = true;
	}
	ret->socks5_udp = net->enable_socks5_udp;
	if (net->mitm &&
	    config_mitm_dir(cfg, ret->mitm_dir, sizeof(ret->mitm_dir)) < 0) {
		(void)snprintf(err, errsz, "CODEX_HOME is too long");
		return -ENAMETOOLONG;
	}
	r = proxy_settings_otlp(cfg, ret, err, errsz);
	if (r < 0)
		return r;
	config_policy_settings(cfg, &ps);
	r = policy_new(&ps, &ret->policy, &perr);
	if (r < 0) /* nothing stays allocated on failure */
		ret->otlp = otlp_settings_free(ret->otlp);
	if (r == -EINVAL)
		(void)snprintf(err, errsz, "%s", perr.message);
	else if (r < 0)
		(void)snprintf(err, errsz, "out of memory");
	return r;
}

void
proxy_settings_done(struct proxy_settings *s)
{
	s->policy = policy_unref(s->policy);
	s->otlp = otlp_settings_free(s->otlp);
}
