/* SPDX-License-Identifier: MIT */
/*
 * Responses the proxy writes itself: errors, blocks (spec §4.6) and the
 * CONNECT success line. Pure: bytes are appended to a struct buf.
 *
 * Every refusal says why: a text/plain body with a short reason, or for a
 * blocked plain-HTTP request the JSON object of spec §4.6. Blocks carry
 * x-proxy-error; a disabled proxy (503) does not.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct buf;

/* The reason phrase for a status code we send ("Forbidden"). */
const char *http_reply_reason(unsigned status);

/*
 * A complete response with a text/plain body (a newline is appended).
 * x_proxy_error may be NULL. close adds "Connection: close". head_only
 * omits the body (an answer to HEAD) but keeps its Content-Length.
 * Returns 0 or -ENOMEM.
 */
int http_reply_text(struct buf *out, unsigned status, const char *body,
    const char *x_proxy_error, bool close, bool head_only);

/* What a blocked plain-HTTP request is told (spec §4.6). Strings are
 * borrowed; decision, source and protocol may be NULL to omit them. */
struct http_block {
	const char *host;
	const char *reason;
	const char *decision;
	const char *source;
	const char *protocol;
	int32_t port; /* -1 to omit */
	const char *message;
	const char *x_proxy_error;
};

/* 403 application/json with x-proxy-error and the block object as body. */
int http_reply_blocked(struct buf *out, const struct http_block *b, bool close,
    bool head_only);

/* "HTTP/1.1 200 Connection established" and an empty line. */
int http_reply_connect_ok(struct buf *out);
