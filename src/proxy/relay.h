/* SPDX-License-Identifier: MIT */
/*
 * The tunnel relay: bytes both ways between a session's client and
 * upstream halves until both ends are done (CONNECT, SOCKS5 CONNECT).
 *
 * Bytes already buffered on either side (a ClientHello sent right after
 * the CONNECT head, bytes after an upstream proxy's answer) go first,
 * through the bufferevents, with backpressure (STYLE.md §7). Once every
 * buffer is empty and both halves are raw sockets, the relay switches to
 * splice(2) and the bytes no longer pass through user space; a half
 * wrapped in TLS (session_half_wrap()) keeps the relay on its bufferevents
 * for good. Half-close: an EOF on one side is passed on to the other once
 * its pending bytes are delivered (session_shut(): shutdown(SHUT_WR), or
 * a close_notify through TLS); the session closes with "done" when both
 * directions ended. Idle for longer than the idle timeout, it closes with
 * "idle timeout".
 */
#pragma once

struct relay;
struct session;

/* Take over both halves of s (both bufferevents must exist) and relay.
 * Returns 0, or -ENOMEM (the caller closes the session). */
int relay_start(struct session *s);

/* Stop and free (session_close() does this). Accepts NULL; returns NULL. */
struct relay *relay_free(struct relay *r);
