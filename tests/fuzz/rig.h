/* SPDX-License-Identifier: MIT */
/*
 * A test rig for the stateful fuzz targets (fuzz_http_session,
 * fuzz_socks5_session): one whole proxy session on a real event_base, its
 * client end and a fake origin driven by a script of fuzzer bytes.
 *
 * The session runs on a worker whose thread never starts (as in the unit
 * tests): the rig drives the loop. The client is one end of a socketpair
 * (or of a loopback TCP connection, which SOCKS5 UDP ASSOCIATE needs). The
 * origin is a loopback listener of the rig; the worker's resolver asks
 * only the rig's own DNS server, which maps origin.test and *.origin.test
 * to 127.0.0.1 and nothing else. The rig interposes connect() and sendto()
 * (test code only): every TCP connection the proxy opens to 127.0.0.1
 * reaches the fake origin whatever the port, every datagram to 127.0.0.1
 * reaches the rig's UDP echo, and any other destination aborts: the
 * policy below allows nothing else, so dialing it would be a misjudgement.
 * A DNS query for a name on the deny list aborts too.
 *
 * Policy: allow origin.test, *.origin.test and 127.0.0.1; deny denied.test
 * and *.denied.test; everything else is unlisted (refused, or asked of a
 * decider that is never started and answers "busy", a deny).
 *
 * Script (the fuzzer input): byte 0 holds flags (RIG_FLAG_*), then
 * records. A record starts with an op byte (its low three bits pick the
 * op); CLIENT, ORIGIN and UDP carry a length byte and that many bytes.
 *
 *   0 CLIENT  len data   client -> proxy
 *   1 ORIGIN  len data   current origin connection -> proxy (dropped when
 *                        there is none)
 *   2 CLIENT_SHUT        the client half-closes (SHUT_WR)
 *   3 ORIGIN_SHUT        the current origin connection half-closes
 *   4 ORIGIN_RESET       the current origin connection is reset (RST)
 *   5 ORIGIN_NEXT        the next origin connection becomes current
 *   6 UDP     len data   a datagram from the client's UDP socket to the
 *                        relay the last SOCKS5 success reply named
 *   7 CLIENT_RESET       the client goes away abruptly
 *
 * After every record the loop runs until nothing moves any more. At the
 * end the client and every origin connection close and the session must
 * close within RIG_CLOSE_MS (else the rig aborts: a session that outlives
 * both its peers is a leak), and once everything is freed the process
 * must hold no more descriptors than before the run. Everything is
 * freed per input, so a run depends on its input only, and is bounded by
 * its length.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct session_frontend;

enum {
	RIG_FLAG_DECIDER = 1 << 0,    /* unlisted names go to the decider */
	RIG_FLAG_UDP = 1 << 1,        /* SOCKS5 UDP ASSOCIATE is served */
	RIG_FLAG_TCP_CLIENT = 1 << 2, /* loopback TCP instead of a socketpair */
	RIG_FLAG_LIMITED = 1 << 3,    /* the policy's limited mode */
	RIG_FLAG_LOCAL_OFF = 1 << 4,  /* allow_local_binding = false */
};

/* Run one script against a fresh session of front end fe. Aborts on a
 * broken invariant (see above); returns 0 otherwise. */
int rig_run(const struct session_frontend *fe, const uint8_t *data,
    size_t size);
