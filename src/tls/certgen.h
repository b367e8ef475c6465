/* SPDX-License-Identifier: MIT */
/*
 * Certificates for TLS interception (spec network §6.2, §6.3): the managed
 * CA kept in $CODEX_HOME/proxy/ca.pem and ca.key, and the leaf certificates
 * it signs for the hosts a client tunnels to. Pure OpenSSL: no event loop,
 * no logging; every failure comes back as a message in struct certgen_err.
 *
 * Invariants: a CA on disk is both files or neither; the key file is a
 * regular file with no group or other permission bits; files are created
 * with create-new semantics and never overwrite an existing file. The CA
 * key never leaves struct certgen_ca and is wiped when the CA is freed.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define CERTGEN_ERR_BYTES 512

struct certgen_err {
	char text[CERTGEN_ERR_BYTES];
};

struct certgen_ca;

/* What a host name becomes in a leaf's subjectAltName. */
enum certgen_san_kind {
	CERTGEN_SAN_DNS,
	CERTGEN_SAN_IPV4,
	CERTGEN_SAN_IPV6,
};

struct certgen_san {
	enum certgen_san_kind kind;
	char text[256];   /* the DNS name, or the address as text */
	uint8_t addr[16]; /* the address bytes (4 or 16 used) */
};

/*
 * Classify a tunnel's host (as the policy canonicalised it: lowercase, no
 * trailing dot, IPv6 without brackets) for a SAN. A DNS name must be at
 * most 253 bytes of labels of [a-z0-9_-] (1-63 bytes, no leading or
 * trailing '-'); "*" is refused so a leaf is never a wildcard. Returns 0
 * or -EINVAL with a message. Pure; the fuzz target's entry point.
 */
int certgen_san_parse(const char *host, size_t len, struct certgen_san *ret,
    struct certgen_err *reterr);

/* A fresh ECDSA P-256 key pair, or NULL. Caller frees (EVP_PKEY_free). */
EVP_PKEY *certgen_key_new(void);

/*
 * The CA in dir (normally $CODEX_HOME/proxy): load ca.pem and ca.key, or,
 * when neither exists and create is true, generate a new CA and write both
 * (the directory is created 0700 if missing). Returns 0 when loaded, 1 when
 * created, -errno with a message naming the file otherwise (-ENOENT when
 * neither exists and create is false).
 */
int certgen_ca_load(const char *dir, bool create, struct certgen_ca **ret_ca,
    struct certgen_err *reterr);

/*
 * Replace the CA in dir by a new one. The old files are kept, renamed to
 * ca.pem.<suffix> and ca.key.<suffix> (suffix: the old CA's notBefore as
 * YYYYmmddTHHMMSSZ). Returns 0 with the new CA, or -errno with a message;
 * on failure the old files stay in place.
 */
int certgen_ca_rotate(const char *dir, struct certgen_ca **ret_ca,
    struct certgen_err *reterr);

/* Destructor; wipes the key. Accepts NULL; returns NULL. */
struct certgen_ca *certgen_ca_free(struct certgen_ca *ca);

/* Borrowed views, valid while ca lives. */
X509 *certgen_ca_get_cert(const struct certgen_ca *ca);
const char *certgen_ca_get_cert_path(const struct certgen_ca *ca);
const char *certgen_ca_get_key_path(const struct certgen_ca *ca);

/* The CA certificate as PEM text; caller frees. NULL on allocation
 * failure. */
char *certgen_ca_pem(const struct certgen_ca *ca, size_t *ret_len);

/* "AB:CD:..." SHA-256 fingerprint of cert into out (at least 96 bytes). */
void certgen_fingerprint(X509 *cert, char *out, size_t outsz);

/*
 * A leaf for san, signed by ca, for leaf_key's public half: SAN as given,
 * EKU serverAuth, KU digitalSignature, Subject and Authority Key
 * Identifiers, a random serial, valid from now - 1 hour for
 * LIMIT_MITM_LEAF_DAYS days. Returns a new reference or NULL with a
 * message.
 */
X509 *certgen_leaf_new(const struct certgen_ca *ca, EVP_PKEY *leaf_key,
    const struct certgen_san *san, time_t now, struct certgen_err *reterr);
