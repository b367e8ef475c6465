/* SPDX-License-Identifier: MIT */
/*
 * The SOCKS5 front end (RFC 1928): method negotiation ("no authentication",
 * or paddock's private variant that explains refusals), then one request.
 *
 * CONNECT is judged by the same judge loop as HTTP (protocol socks5_tcp,
 * no method), dialed to the judged addresses only, answered with the
 * outgoing socket's local address and handed to the splice relay. UDP
 * ASSOCIATE (when enabled) opens a datagram relay (socks5_udp.h) that
 * lives as long as this TCP connection. BIND and unknown commands are
 * answered "command not supported".
 *
 * The greeting and the request share one deadline (the head timeout);
 * resolving, asking the decider and connecting have their own.
 */
#pragma once

#include "proxy/judge.h"
#include "proxy/session.h"
#include "wire/socks5.h"

struct socks5_udp;

extern const struct session_frontend session_socks5_frontend;

/* The session's fe_state while the handshake runs and for the life of a
 * UDP association; a CONNECT hands the session to session_tunnel(), which
 * frees it. */
struct session_socks5 {
	struct session *s;
	struct socks5_parser parser;
	struct socks5_request req;
	struct judge judge;
	struct socks5_udp *udp;
	bool explain;             /* the client asked for refusal reasons */
	const char *close_reason; /* once the answer is out (static) */
};
