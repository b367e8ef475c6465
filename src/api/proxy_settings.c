/* SPDX-License-Identifier: MIT */
/* Config to runtime settings. */
#include "api/proxy_settings.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "policy/policy.h"

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
	config_policy_settings(cfg, &ps);
	r = policy_new(&ps, &ret->policy, &perr);
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
}
