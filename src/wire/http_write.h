/* SPDX-License-Identifier: MIT */
/*
 * Forwarded heads: hop-by-hop filtering (spec §4.5, RFC 9110 §7.6.1) and
 * serialisation of the request we send upstream and the response we send
 * back. Pure: heads in, bytes appended to a struct buf.
 *
 * Hop-by-hop fields are removed in both directions: Connection and every
 * field it names, Keep-Alive, Proxy-Connection, Proxy-Authorization, TE,
 * Trailer, Transfer-Encoding and Upgrade (responses also lose
 * Proxy-Authenticate). A Connection token can never remove Host or
 * Content-Length: framing is ours to keep consistent. Nothing is added that
 * the client did not send except framing, Host for an HTTP/1.0 request
 * without one, and credentials for an upstream proxy; no Via, no
 * X-Forwarded-*. We speak HTTP/1.1 on both sides (RFC 9110 §6.2).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct http_authority;
struct http_head;
struct http_target;

/*
 * Append the request for the next hop. target is the parsed request target
 * and authority the destination (from the target or the Host field).
 * absolute selects absolute-form, for an upstream proxy; proxy_auth, when
 * not NULL, is sent as Proxy-Authorization (upstream proxy credentials).
 * Returns 0, -ENOMEM or -E2BIG.
 */
int http_write_request(const struct http_head *h,
    const struct http_target *target, const struct http_authority *authority,
    bool absolute, const char *proxy_auth, struct buf *out);

/*
 * Append the response head for the client. close adds "Connection: close";
 * otherwise an HTTP/1.0 client (client_minor == 0) is told
 * "Connection: keep-alive". A chunked body is announced as chunked (it is
 * re-chunked on the way) to an HTTP/1.1 client; an HTTP/1.0 one gets it
 * decoded, delimited by the close. Returns 0, -ENOMEM or -E2BIG.
 */
int http_write_response(const struct http_head *h, bool close,
    unsigned client_minor, struct buf *out);

/* Append a CONNECT request for an upstream proxy (tunnel chaining). */
int http_write_connect(const struct http_authority *authority,
    const char *proxy_auth, struct buf *out);
