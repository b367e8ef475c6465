/* SPDX-License-Identifier: MIT */
/*
 * A SOCKS5 UDP association (RFC 1928 §7): one relay socket facing the
 * client, and one unbound socket per address family facing destinations.
 *
 * Datagrams are accepted only from the client: the address it declared in
 * its request, or its TCP peer's IP when it declared the unspecified
 * address; the first accepted datagram fixes the port too. A fragment
 * (FRAG != 0) or a malformed header is dropped.
 *
 * Every destination is judged (protocol socks5_udp) before anything is
 * sent to it: a name against the lists, and its addresses against the
 * local/private rules; an IP as an IP literal. A verdict is cached per
 * destination for LIMIT_SOCKS5_UDP_VERDICT_MS, and the whole cache is
 * dropped when the configuration changes, so the cache never outlives the
 * policy that made it. Datagrams that arrive while a destination is being
 * judged wait (bounded) for the verdict. A denied datagram is dropped; its
 * verdict is audited and recorded once per judgement. Replies are
 * delivered only from an address a datagram of this association was sent
 * to after an allow.
 *
 * Inside paddock run the relay socket is not bound here but taken from
 * the ones the sandbox's child made (udprelay.h), and given back at the
 * end; when all are in use, the association is refused.
 *
 * The association ends with its session: when the TCP connection ends, or
 * after the idle timeout without a datagram either way.
 */
#pragma once

#include <sys/socket.h>

struct session;
struct socks5_addr;
struct socks5_udp;

/*
 * Open the association of s. local is the address the client reached the
 * proxy on (the relay socket binds there, on a fresh port); from is the
 * address datagrams must come from (port 0: any port). Returns 0 with
 * *ret, or a negative errno.
 */
int session_socks5_udp_new(struct session *s, const struct sockaddr *local,
    const struct socks5_addr *from, struct socks5_udp **ret);

/* The relay socket's address, for the reply's BND.ADDR/BND.PORT. */
void session_socks5_udp_bound(const struct socks5_udp *u,
    struct socks5_addr *ret);

/* The session's decider deadline passed: deny what waited too long. */
void session_socks5_udp_decider_timeout(struct socks5_udp *u);

/* Stop every judgement, close the sockets, free. Accepts NULL; returns
 * NULL. */
struct socks5_udp *session_socks5_udp_free(struct socks5_udp *u);
