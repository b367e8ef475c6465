/* SPDX-License-Identifier: MIT */
/*
 * Every amount a peer or a config file controls is bounded here, in one
 * place (STYLE.md §3, §7). Include as "util/limits.h"; the project never
 * puts src/util on the include path, so <limits.h> stays the system one.
 */
#pragma once

/* TOML parser. */
#define LIMIT_TOML_INPUT_BYTES (16u * 1024 * 1024) /* default maximum input */
#define LIMIT_TOML_DEPTH       128        /* nested arrays and inline tables */
#define LIMIT_TOML_VALUES      (1u << 20) /* tables, arrays, scalars */
#define LIMIT_TOML_ERROR_BYTES 256        /* one error message */

/* Config files. */
#define LIMIT_CONFIG_FILE_BYTES   LIMIT_TOML_INPUT_BYTES
#define LIMIT_CONFIG_LAYERS       256  /* system, user, project, overrides */
#define LIMIT_CONFIG_DIAGS        1000 /* kept per load; the rest counted */
#define LIMIT_CONFIG_QUOTE_BYTES  200  /* of a value quoted in a message */
#define LIMIT_CONFIG_GITDIR_BYTES 4096 /* a .git pointer file */
#define LIMIT_CONFIG_SUGGEST_DIST 3    /* edit distance of "did you mean" */

/* Logging: untrusted bytes are escaped and capped at this many input bytes. */
#define LIMIT_LOG_UNTRUSTED_BYTES 256

/* Policy engine: request hosts and patterns. */
#define LIMIT_POLICY_HOST_INPUT_BYTES 1024       /* a request host as sent */
#define LIMIT_POLICY_ZONE_BYTES       64         /* an IPv6 zone id ("%eth0") */
#define LIMIT_POLICY_LABEL_BYTES      63         /* one DNS label (RFC 1035) */
#define LIMIT_POLICY_PATTERN_BYTES    1024       /* one pattern as written */
#define LIMIT_POLICY_RULES            (1u << 20) /* patterns per policy */
#define LIMIT_POLICY_ALTERNATIVES     256 /* "{a,b}" expansions per pattern */
#define LIMIT_POLICY_HOSTS            (1u << 20) /* rules after expansion */

/* Audit events and the blocked-request buffer (spec network §8.3, §9). */
#define LIMIT_AUDIT_QUEUE        1024 /* records waiting for the writer */
#define LIMIT_AUDIT_METHOD_BYTES 32   /* an HTTP method as recorded */
#define LIMIT_AUDIT_CLIENT_BYTES 96   /* "ip:port" of a client */
#define LIMIT_AUDIT_META_BYTES   256  /* conversation.id and friends */
#define LIMIT_BLOCKED_RECORDS    200  /* blocked requests kept */
