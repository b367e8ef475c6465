/* SPDX-License-Identifier: MIT */
/*
 * The OTLP/HTTP exporter of audit events (docs/observability.md).
 *
 * otlp_push() is called on proxy worker threads for every audit event: it
 * copies the event into a bounded ring under a mutex held for the copy
 * and returns. It never waits for the exporter: when the ring is full the
 * oldest record is overwritten and counted as dropped. One exporter thread
 * takes batches (LIMIT_OTLP_BATCH records, or whatever waited
 * LIMIT_OTLP_DELAY_MS), encodes them (JSON or protobuf) and POSTs them
 * with libcurl. 429, 502, 503, 504 and connection errors are retried with
 * exponential backoff and jitter, honouring Retry-After; other answers
 * drop the batch (counted as failed). A hung or dead collector only costs
 * the ring: request latency and memory stay bounded (every request has a
 * timeout; the batch in hand plus the ring is the whole footprint).
 *
 * otlp_stop() flushes what is queued, giving up after LIMIT_OTLP_STOP_MS
 * (a transfer in flight is aborted at that deadline).
 *
 * Thread rules: otlp_new(), otlp_start(), otlp_stop() and otlp_free()
 * from one controlling thread; otlp_push() and otlp_stats() from any
 * thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct audit_event;

/* Plain settings; every string is owned by the struct once built with
 * otlp_settings_new()/otlp_settings_add_header(). */
struct otlp_settings {
	char *endpoint; /* the full URL, http:// or https:// */
	bool json;      /* application/json, else application/x-protobuf */
	char **headers; /* "Name: value" lines; values may be secrets */
	size_t n_headers;
	char *ca_file; /* NULL: the system's trust store */
	char *cert_file;
	char *key_file;
	char *environment; /* the env resource attribute */
	size_t queue;      /* ring capacity; 0: LIMIT_OTLP_QUEUE */
};

/* An empty settings object for endpoint and environment (copied), or NULL
 * on ENOMEM. */
struct otlp_settings *otlp_settings_new(const char *endpoint,
    const char *environment);

/* Copy the optional strings in (NULL stays NULL). Returns 0 or -ENOMEM. */
int otlp_settings_set_tls(struct otlp_settings *s, const char *ca_file,
    const char *cert_file, const char *key_file);
int otlp_settings_add_header(struct otlp_settings *s, const char *name,
    const char *value);

/* Wipes header values. Accepts NULL; returns NULL. */
struct otlp_settings *otlp_settings_free(struct otlp_settings *s);

/* A deep copy, or NULL on ENOMEM. */
struct otlp_settings *otlp_settings_dup(const struct otlp_settings *s);

/* True when both describe the same export (NULL means none). */
bool otlp_settings_equal(const struct otlp_settings *a,
    const struct otlp_settings *b);

struct audit_meta;
struct otlp;

/* Counters since otlp_new(), for metrics. */
struct otlp_stats {
	uint64_t queued;  /* records in the ring now */
	uint64_t sent;    /* records a collector accepted */
	uint64_t retried; /* requests sent again after a retryable failure */
	uint64_t dropped; /* records overwritten because the ring was full */
	uint64_t failed;  /* records given up on (rejected, or stop deadline) */
};

/* A stopped exporter with a copy of s. Returns 0 with *ret, or -EINVAL,
 * -ENOMEM, or -ELIBACC when libcurl cannot be loaded (otlp_curl.h), with
 * the reason in reterr (may be NULL). */
int otlp_new(const struct otlp_settings *s, struct otlp **ret, char *reterr,
    size_t errsz);

/* Attach the metadata every record carries (conversation.id, app.version,
 * user.account_id, execution.id; NULL fields absent), copied, replacing
 * any earlier (audit_event_meta_set()). Only while the exporter is
 * stopped. Returns 0, -EINVAL or -ENOMEM. */
int otlp_set_meta(struct otlp *o, const struct audit_meta *meta);

/* Start the exporter thread (every signal blocked). Returns 0 or -errno.
 * A stopped exporter may be started again. */
int otlp_start(struct otlp *o);

/* Flush with the stop deadline and join the thread; logs a summary line.
 * Idempotent. */
void otlp_stop(struct otlp *o);

/* Stop and free. Accepts NULL; returns NULL. */
struct otlp *otlp_free(struct otlp *o);

/* Queue a copy of ev. Any thread; never blocks on the exporter. */
void otlp_push(struct otlp *o, const struct audit_event *ev);

/* Read the counters. Any thread. */
void otlp_stats(const struct otlp *o, struct otlp_stats *ret);

/* The settings in force (borrowed; lives as long as o). */
const struct otlp_settings *otlp_get_settings(const struct otlp *o);
