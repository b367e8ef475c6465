/* SPDX-License-Identifier: MIT */
/*
 * UDP inside paddock run's network namespace: the DNS server's socket
 * with the /etc/resolv.conf that names it, and the relay sockets of
 * SOCKS5 UDP associations. The sandbox's child makes the sockets (bound
 * datagram sandbox_listeners), paddock's proxy serves them from outside.
 */
#pragma once

#include <stddef.h>

struct proxy_settings;
struct sandbox_plan;

/* The DNS server's address inside the namespace, and resolv.conf's text. */
#define RUN_UDP_DNS_ADDR "127.0.0.1"
#define RUN_UDP_DNS_PORT 53
#define RUN_UDP_RESOLV_CONF                                                  \
	"# paddock run: names are answered by paddock, within the network\n" \
	"# policy of the permission profile.\n"                              \
	"nameserver " RUN_UDP_DNS_ADDR "\n"                                  \
	"options edns0\n"

/*
 * Add the DNS socket to p's listeners and the plan's resolv.conf: the
 * file /etc/resolv.conf resolves to on the host (following a symbolic
 * link such as systemd-resolved's) gets the text above in the view. When
 * that path is missing from the view and cannot be made, the child leaves
 * it: a stub resolver without a name server asks 127.0.0.1, the same
 * socket. Returns 0, -ENOSPC (too many listeners) or -ENOMEM.
 */
int run_udp_dns(struct sandbox_plan *p);

/*
 * Add LIMIT_SOCKS5_UDP_RELAYS UDP relay sockets at the address (any
 * port) of p's listener socks (an index into p->listeners). Returns 0 or
 * -ENOSPC.
 */
int run_udp_relays(struct sandbox_plan *p, size_t socks);

/*
 * Point s at the datagram sockets among fds (the sockets sandbox_spawn()
 * made for p's listeners; borrowed by s): the DNS server's, and the UDP
 * relays (SOCKS5 UDP is served only with them).
 */
void run_udp_settings(const struct sandbox_plan *p, const int *fds,
    struct proxy_settings *s);
