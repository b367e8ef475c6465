/* SPDX-License-Identifier: MIT */
/*
 * The one table that turns a failure into what a client is told: an HTTP
 * status, a SOCKS5 reply code (RFC 1928 §6) and a short plain-text reason.
 * Pure.
 *
 * Failures are negative errno values. Name resolution reports through
 * errnos no socket call produces: -ENXIO (no such host), -ETIME (lookup
 * timed out) and -EREMOTEIO (resolver failure). A connect that ran out of
 * time is -ETIMEDOUT, a request that would loop back into the proxy is
 * -ELOOP, and an upstream that broke HTTP is -EPROTO.
 */
#pragma once

#include <stdint.h>

/* The HTTP status for err (502 when nothing more specific applies). */
unsigned errmap_http_status(int err);

/* The SOCKS5 reply code for err (0x01, general failure, by default). */
uint8_t errmap_socks_reply(int err);

/* A short reason for err, e.g. "connection refused" (static storage). */
const char *errmap_text(int err);
