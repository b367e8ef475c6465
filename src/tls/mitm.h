/* SPDX-License-Identifier: MIT */
/*
 * What TLS interception needs at run time (spec network §6.3-§6.5), free
 * of any event loop: the leaf cache, the two SSL_CTX (one facing the
 * client, one facing the origin) and the CA bundle children trust.
 *
 * Thread safety: one struct mitm_certs serves every worker; the cache is
 * locked, the SSL_CTX are only read after mitm_certs_new(). One leaf key
 * pair signs every leaf, so a cache miss costs one signature and a hit
 * none; TLS sessions resume through the server context's tickets.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

#include "tls/certgen.h"

struct mitm_certs;

struct mitm_cert_stats {
	uint64_t hits;      /* leaves served from the cache */
	uint64_t misses;    /* leaves minted */
	uint64_t evictions; /* leaves dropped for room or age */
	size_t entries;
};

/*
 * Takes ownership of ca. capacity bounds the leaf cache (0: the default
 * LIMIT_MITM_CERT_CACHE). The client-facing context speaks TLS 1.2+ and
 * selects ALPN http/1.1; the origin-facing one verifies with OpenSSL's
 * default trust (which honours SSL_CERT_FILE and SSL_CERT_DIR), checks the
 * host name, sends SNI and never trusts the managed CA itself. NULL with a
 * message on failure (ca is freed).
 */
struct mitm_certs *mitm_certs_new(struct certgen_ca *ca, size_t capacity,
    struct certgen_err *reterr);

/* Destructor; accepts NULL, returns NULL. */
struct mitm_certs *mitm_certs_free(struct mitm_certs *m);

/* Borrowed. */
const struct certgen_ca *mitm_certs_get_ca(const struct mitm_certs *m);

/*
 * The leaf for host (canonical: see certgen_san_parse()), from the cache
 * or freshly minted; a cached leaf within LIMIT_MITM_RENEW_S of expiring
 * is re-issued. Returns 0 with a new reference in *ret_leaf (X509_free
 * it), or -errno with a message. Thread-safe.
 */
int mitm_certs_leaf(struct mitm_certs *m, const char *host, time_t now,
    X509 **ret_leaf, struct certgen_err *reterr);

void mitm_certs_stats(struct mitm_certs *m, struct mitm_cert_stats *ret);

/*
 * A server-side SSL for a tunnel to host: the leaf and key set, ready for
 * SSL_accept (or an OpenSSL bufferevent in accepting state). Caller owns
 * it. NULL with a message.
 */
SSL *mitm_certs_server_ssl(struct mitm_certs *m, const char *host, time_t now,
    struct certgen_err *reterr);

/*
 * A client-side SSL to the origin host: SNI (for names), host name or
 * address verification. Caller owns it. NULL with a message.
 */
SSL *mitm_certs_client_ssl(struct mitm_certs *m, const char *host,
    struct certgen_err *reterr);

/*
 * Why a finished or failed client handshake is not acceptable, as the
 * plain text of a 502 ("upstream certificate not trusted: ..."), or NULL
 * when verification passed.
 */
const char *mitm_verify_failure(SSL *ssl, char *out, size_t outsz);

/*
 * The bundle children trust (spec §6.5): the PEM file roots (NULL: the
 * system roots OpenSSL was built with) followed by the managed CA, stored
 * immutable as <dir>/ca-bundle-<sha256 of its contents>.pem (0644,
 * created once, reused when the same bytes are already there, refused when
 * that name holds anything else or a symlink). roots larger than
 * LIMIT_MITM_BUNDLE_BYTES or not a regular file is an error; missing
 * system roots give a bundle of the CA alone. Returns 0 with the path
 * (caller frees) or -errno with a message.
 */
int mitm_bundle_make(const char *dir, const char *roots,
    const struct certgen_ca *ca, char **ret_path, struct certgen_err *reterr);
