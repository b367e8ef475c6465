/* SPDX-License-Identifier: MIT */
/*
 * The tunnel relay: bytes both ways between a session's client and
 * upstream halves until both ends are done (CONNECT, SOCKS5 CONNECT).
 *
 * Bytes already buffered on either side (a ClientHello sent right after
 * the CONNECT head, bytes after an upstream proxy's answer) go first,
 * through the bufferevents, with backpressure (STYLE.md §7). Once every
 * buffer is empty the relay switches to splice(2) and the bytes no longer
 * pass through user space. Half-close: an EOF on one side is passed on as
 * shutdown(SHUT_WR) to the other once its pending bytes are delivered; the
 * session closes with "done" when both directions ended. Idle for longer
 * than the idle timeout, it closes with "idle timeout".
 */
#pragma once

struct relay;
struct session;

/* Take over both halves of s (both bufferevents must exist) and relay.
 * Returns 0, or -ENOMEM (the caller closes the session). */
int relay_start(struct session *s);

/* Stop and free (session_close() does this). Accepts NULL; returns NULL. */
struct relay *relay_free(struct relay *r);
