/* SPDX-License-Identifier: MIT */
/*
 * Counters for /metrics. Every worker owns one struct stats and is its
 * only writer; the admin thread reads them all and sums them when
 * scraped. Writes are a relaxed load and store of the writer's own
 * counter (no lock, no read-modify-write shared between threads), reads
 * relaxed loads: a scrape sees each counter at some recent value, never a
 * torn one.
 *
 * Connections are counted per front end (opened and closed, so "open" is
 * their difference), verdicts per audit event with the event's decision,
 * reason, source and protocol, relayed bytes per direction when a session
 * ends, and two latency histograms (upstream connect, DNS lookup).
 */
#pragma once

#include <stdatomic.h>
#include <stdint.h>

#include "policy/policy.h"
#include "proxy/proxy.h"

/* Histogram bucket upper bounds, seconds. */
#define STATS_HIST_BUCKETS 12
extern const double stats_hist_bounds[STATS_HIST_BUCKETS];

enum stats_hist_id {
	STATS_HIST_DIAL, /* upstream connect, all attempts of one dial */
	STATS_HIST_DNS,  /* one name lookup */
	_STATS_HIST_MAX,
};

enum stats_direction {
	STATS_DIR_CLIENT_TO_UPSTREAM,
	STATS_DIR_UPSTREAM_TO_CLIENT,
	_STATS_DIR_MAX,
};

/* "client_to_upstream", "upstream_to_client". */
const char *stats_direction_name(enum stats_direction d);

struct stats_hist {
	atomic_uint_fast64_t counts[STATS_HIST_BUCKETS + 1]; /* last: +Inf */
	atomic_uint_fast64_t sum_ns;
};

/* Embeddable (a worker holds one); zero-initialised storage is a valid
 * empty set of counters. */
struct stats {
	atomic_uint_fast64_t decisions[_POLICY_DECISION_MAX][_POLICY_REASON_MAX]
				      [_POLICY_SOURCE_MAX]
				      [_POLICY_PROTOCOL_MAX];
	atomic_uint_fast64_t opened[_PROXY_FRONTEND_MAX];
	atomic_uint_fast64_t closed[_PROXY_FRONTEND_MAX];
	atomic_uint_fast64_t bytes[_STATS_DIR_MAX];
	struct stats_hist hist[_STATS_HIST_MAX];
};

/* The plain sum of any number of struct stats (see stats_add()). */
struct stats_sum {
	uint64_t decisions[_POLICY_DECISION_MAX][_POLICY_REASON_MAX]
			  [_POLICY_SOURCE_MAX][_POLICY_PROTOCOL_MAX];
	uint64_t opened[_PROXY_FRONTEND_MAX];
	uint64_t closed[_PROXY_FRONTEND_MAX];
	uint64_t bytes[_STATS_DIR_MAX];
	uint64_t hist_counts[_STATS_HIST_MAX][STATS_HIST_BUCKETS + 1];
	uint64_t hist_sum_ns[_STATS_HIST_MAX];
};

/*
 * Writers: the owning thread only.
 */

/* The audit events of a final verdict, one count each (the same events
 * proxy_report() turns into audit records). */
void stats_count_verdict(struct stats *st, const struct policy_request *req,
    const struct policy_verdict *v);

void stats_count_open(struct stats *st, enum proxy_frontend fe);
void stats_count_close(struct stats *st, enum proxy_frontend fe,
    uint64_t from_client, uint64_t from_upstream);

/* One observation of ns nanoseconds. */
void stats_observe(struct stats *st, enum stats_hist_id h, uint64_t ns);

/* Monotonic nanoseconds (CLOCK_MONOTONIC), for stats_observe(). */
uint64_t stats_now_ns(void);

/*
 * Readers: any thread.
 */

/* Add st's current values to sum. */
void stats_add(struct stats_sum *sum, const struct stats *st);
