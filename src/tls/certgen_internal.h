/* SPDX-License-Identifier: MIT */
/* Shared by the certgen_*.c files only; not part of the module's API. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "tls/certgen.h"
#include "util/compiler.h"

/* Format a message into err (may be NULL). */
void certgen_err_set(struct certgen_err *err, const char *fmt, ...)
    _printf_(2, 3);

/* The OpenSSL error queue's newest reason (or "unknown error"), and the
 * queue cleared. */
const char *certgen_ssl_reason(void);

/*
 * Read a regular file of at most max bytes into a NUL-terminated buffer
 * (caller frees, wiping it if it held a secret). With private set, the
 * file must not be a symlink and must have no group or other permission
 * bits. Opened O_NONBLOCK, so a FIFO never blocks. -errno with a message.
 */
int certgen_file_read(const char *path, size_t max, bool private,
    char **ret_data, size_t *ret_len, struct certgen_err *reterr);

/*
 * Create path with data and mode, never overwriting: the bytes go to a
 * temporary file beside it, are synced, and the temporary file is moved
 * into place only if path does not exist (-EEXIST otherwise). The
 * directory is synced afterwards. -errno with a message.
 */
int certgen_file_create(const char *path, const void *data, size_t len,
    mode_t mode, struct certgen_err *reterr);

/* A random positive 127-bit serial number into cert. */
int certgen_set_serial(X509 *cert);

/* Add the extension nid with value (OpenSSL's config syntax) to cert,
 * with ctx describing issuer and subject. */
int certgen_add_ext(X509 *cert, X509 *issuer, int nid, const char *value);

/* The CA's private key, borrowed: used by certgen_leaf.c to sign. */
EVP_PKEY *certgen_ca_get_key(const struct certgen_ca *ca);
