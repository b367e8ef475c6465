/* SPDX-License-Identifier: MIT */
/*
 * paddock run's DNS server: answers the questions a sandboxed command's
 * stub resolver sends to the UDP socket made for it inside the sandbox's
 * network namespace (its /etc/resolv.conf names it).
 *
 * Each question's name is judged like the host of a CONNECT (protocol
 * dns): the deny list, the allowlist, and for an allowed name with
 * allow_local_binding off, the local/private check of its addresses. No
 * decider is asked: a name off the allowlist is refused, and the request
 * that follows through the proxy is where a decider has its say. The
 * verdict is audited like any other.
 *
 * Allowed: A and AAAA questions get the addresses paddock's own resolver
 * (dns.h) gives (RFC 6761 loopback for localhost), without the non-public
 * ones when the verdict allows public addresses only; other types get an
 * empty NOERROR answer; a name that does not exist NXDOMAIN (also when
 * the policy's own lookup found none), a failed lookup SERVFAIL. Refused
 * or denied: REFUSED. Malformed: FORMERR (or nothing, for a datagram that is
 * no query). Nothing ever blocks the worker's loop.
 */
#pragma once

struct dnsd;
struct worker;

/* Serve the bound UDP socket fd (borrowed: a duplicate is kept) on w's
 * loop. Returns NULL on failure. */
struct dnsd *dnsd_new(struct worker *w, int fd);

/* Stop: lookups in flight are cancelled, no answer follows. Accepts NULL;
 * returns NULL. On the worker's thread, before its resolver goes. */
struct dnsd *dnsd_free(struct dnsd *d);
