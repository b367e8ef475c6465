/* SPDX-License-Identifier: MIT */
/*
 * Reporting off the hot path: verdicts become audit events and blocked
 * records, sessions become access-log lines, and all of it is handed to
 * one background thread, so a slow audit file, observer or terminal never
 * stalls a worker. The queue is bounded; when it is full, lines are
 * dropped and counted (and the count reported), never waited for.
 *
 * Thread rules: report_verdict() and report_access_log() may be called
 * from any worker; report_new() and report_free() by the controlling
 * thread. report_free() delivers everything queued before it returns.
 */
#pragma once

#include "paddock.h"

struct policy;
struct policy_request;
struct policy_verdict;
struct report;

/* Returns NULL on failure. The callbacks may be NULL. */
struct report *report_new(paddock_audit_fn audit, void *audit_ud,
    paddock_blocked_fn blocked, void *blocked_ud);

/* Deliver what is queued, stop the thread, free. Accepts NULL; returns
 * NULL. */
struct report *report_free(struct report *r);

/* One audit event per verdict event; a blocked record for a refusal. */
void report_verdict(struct report *r, const struct policy *p,
    const struct policy_request *req, const struct policy_verdict *v);

/* Queue an access-log line (takes ownership of line, a heap string). */
void report_access_log(struct report *r, char *line);
