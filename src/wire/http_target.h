/* SPDX-License-Identifier: MIT */
/*
 * Request targets (RFC 9112 §3.2) and the Host field: syntax only. Pure.
 *
 * Absolute-form "http://host[:port]/path?query", authority-form
 * "host:port" (CONNECT only), origin-form "/path?query" and asterisk-form
 * "*". Hosts are checked for URI syntax here; canonicalisation and every
 * policy question belong to the policy engine. Userinfo in a target is
 * refused (an "allowed.example@evil.example" confusion is never worth it),
 * as are empty hosts, port 0 and fragments' absence of meaning (a fragment
 * is dropped, it is never sent).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for a DNS name (253) or an IPv6 literal with a zone, plus NUL. */
#define HTTP_HOST_MAX 320

enum http_target_form {
	HTTP_TARGET_ORIGIN,
	HTTP_TARGET_ABSOLUTE,
	HTTP_TARGET_AUTHORITY,
	HTTP_TARGET_ASTERISK,
	_HTTP_TARGET_FORM_MAX,
};

struct http_authority {
	char host[HTTP_HOST_MAX]; /* without brackets, as written */
	uint16_t port;            /* the default port when none was written */
	bool has_port;            /* a port was written */
	bool ipv6;                /* written as "[...]" */
};

struct http_target {
	enum http_target_form form;
	struct http_authority authority; /* absolute and authority forms */
	/* Origin and absolute forms: the path and query, fragment removed.
	 * May be empty or start with '?' for an absolute target; the wire form
	 * then needs a leading "/" (RFC 9112 §3.2.1). */
	const char *path;
	size_t path_len;
};

enum http_target_error {
	HTTP_TARGET_OK,
	HTTP_TARGET_INVALID,  /* 400 */
	HTTP_TARGET_USERINFO, /* 400 */
	HTTP_TARGET_BAD_PORT, /* 400 */
	HTTP_TARGET_HTTPS,    /* 501: https:// needs CONNECT */
	HTTP_TARGET_SCHEME,   /* 400: not http */
	_HTTP_TARGET_ERROR_MAX,
};

/* A short human explanation of err (static storage). */
const char *http_target_error_message(enum http_target_error err);

/*
 * Parse a request target. connect selects authority-form (the only form a
 * CONNECT may use, and a port is then required). Views into target are
 * stored in ret; target must outlive them.
 */
enum http_target_error http_target_parse(const char *target, size_t len,
    bool connect, struct http_target *ret);

/*
 * Parse "host[:port]" (a Host field, or the authority of a target).
 * default_port fills in a missing port; require_port refuses its absence.
 */
enum http_target_error http_authority_parse(const char *s, size_t len,
    uint16_t default_port, bool require_port, struct http_authority *ret);

/*
 * RFC 9110 §7.2 and spec §4.3 step 4: does the Host field agree with an
 * absolute target? Hosts compare ASCII case-insensitively without a
 * trailing dot; a Host without a port means the target's scheme default.
 */
bool http_authority_matches(const struct http_authority *target,
    const struct http_authority *host);

/*
 * Write an authority the way it goes on the wire: "host" when the port is
 * the default, else "host:port", with brackets around IPv6. Returns the
 * length, or -ENOBUFS when out (outsz bytes) is too small.
 */
int http_authority_format(const struct http_authority *a, uint16_t default_port,
    char *out, size_t outsz);
