/* SPDX-License-Identifier: MIT */
/*
 * The UDP part of paddock run's network plan; see run_udp.h.
 */
#include "api/run_udp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy.h"
#include "sandbox/sandbox.h"
#include "util/limits.h"
#include "util/strutil.h"

static struct sandbox_listener *
run_udp_add(struct sandbox_plan *p, const char *role)
{
	struct sandbox_listener *l;

	if (p->n_listeners >= SANDBOX_LISTENERS_MAX)
		return NULL;
	l = &p->listeners[p->n_listeners++];
	memset(l, 0, sizeof(*l));
	l->datagram = true;
	(void)strlcpy(l->role, role, sizeof(l->role));
	return l;
}

int
run_udp_dns(struct sandbox_plan *p)
{
	struct sandbox_listener *l = run_udp_add(p, "dns");
	char target[PATH_MAX] = "/etc/resolv.conf";
	struct stat st;

	if (!l)
		return -ENOSPC;
	l->family = AF_INET;
	l->port = RUN_UDP_DNS_PORT;
	(void)inet_pton(AF_INET, RUN_UDP_DNS_ADDR, l->addr);
	/* The bind happens before the new root is in place, where an
	 * absolute link would lead astray: follow it here, on the host,
	 * whose paths the view keeps. */
	if (lstat(target, &st) == 0 && S_ISLNK(st.st_mode)) {
		char *real = realpath(target, NULL);

		if (real && strlen(real) < sizeof(target))
			(void)strlcpy(target, real, sizeof(target));
		free(real);
	}
	return sandbox_plan_add(p, SANDBOX_OP_FILE, target,
	    RUN_UDP_RESOLV_CONF);
}

int
run_udp_relays(struct sandbox_plan *p, size_t socks)
{
	const struct sandbox_listener src = p->listeners[socks];

	for (size_t i = 0; i < LIMIT_SOCKS5_UDP_RELAYS; i++) {
		struct sandbox_listener *l = run_udp_add(p, "socks5-udp");

		if (!l)
			return -ENOSPC;
		l->family = src.family;
		memcpy(l->addr, src.addr, sizeof(l->addr));
		l->port = 0;
	}
	return 0;
}

void
run_udp_settings(const struct sandbox_plan *p, const int *fds,
    struct proxy_settings *s)
{
	size_t first = SIZE_MAX, n = 0;

	for (size_t i = 0; i < p->n_listeners; i++) {
		const struct sandbox_listener *l = &p->listeners[i];

		if (!l->datagram)
			continue;
		if (streq(l->role, "dns")) {
			s->dns_premade = true;
			s->dns_fd = fds[i];
		} else if (streq(l->role, "socks5-udp")) {
			/* run_udp_relays() adds them in one run. */
			if (first == SIZE_MAX)
				first = i;
			n++;
		}
	}
	s->udp_relay_fds = n ? fds + first : NULL;
	s->n_udp_relay_fds = n;
	s->socks5_udp = s->socks5_udp && n > 0;
}
