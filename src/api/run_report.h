/* SPDX-License-Identifier: MIT */
/*
 * The summary `paddock run` prints at exit when its proxy blocked
 * anything: each blocked host:port with its reason and how often, and
 * what would allow it, as the exact TOML line and where it goes.
 *
 * Pure: the records come in one by one (from the blocked-request observer,
 * on the audit thread; the caller serialises), the text is made at the
 * end from the run's compiled policy (to name the deny entry that
 * decided) and where its network settings live.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

struct blocked_record;
struct buf;

/* One destination and reason, with its count. */
struct run_report_entry {
	char host[POLICY_HOST_TEXT_MAX];
	int32_t port; /* -1 when absent */
	char reason[64];
	bool decider; /* a decider said no (it is asked only for not_allowed) */
	uint64_t count;
};

/* Embeddable; zero-initialised it is empty. */
struct run_report {
	struct run_report_entry *v; /* at most LIMIT_RUN_REPORT_ENTRIES */
	size_t n;
	uint64_t total; /* every record added, saturating */
	uint64_t other; /* records of destinations beyond the table */
};

/* Count r. A destination beyond LIMIT_RUN_REPORT_ENTRIES (or one that
 * finds no memory) is counted in rep->other. Never fails. */
void run_report_add(struct run_report *rep, const struct blocked_record *r);

/* Free the entries; the report is empty again. */
void run_report_done(struct run_report *rep);

/* Where an allow would go. All borrowed. */
struct run_report_where {
	const char *profile;         /* the permission profile; NULL: legacy */
	const char *file;            /* the config file to edit */
	const struct policy *policy; /* the run's policy, or NULL */
};

/*
 * Append the summary to out: nothing when nothing was blocked, else a
 * heading and, per destination (most frequent first), one line
 * "host:port reason count" followed by what would allow it. Returns 0 or
 * -ENOMEM.
 */
int run_report_format(const struct run_report *rep,
    const struct run_report_where *w, struct buf *out);
