/* SPDX-License-Identifier: MIT */
/*
 * Per-worker counters. The single-writer rule is what makes a plain
 * relaxed load + store correct: no other thread ever stores to these
 * counters, so no increment can be lost, and the x86/ARM store is a plain
 * move, not a locked instruction.
 */
#include "proxy/stats.h"

#include <time.h>

#include "util/compiler.h"

const double stats_hist_bounds[STATS_HIST_BUCKETS] = { 0.0005, 0.001, 0.0025,
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5 };

static const char *const stats_direction_names[_STATS_DIR_MAX] = {
	[STATS_DIR_CLIENT_TO_UPSTREAM] = "client_to_upstream",
	[STATS_DIR_UPSTREAM_TO_CLIENT] = "upstream_to_client",
};

const char *
stats_direction_name(enum stats_direction d)
{
	return (unsigned)d < _STATS_DIR_MAX ? stats_direction_names[d] :
					      "invalid";
}

static inline void
stats_bump(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_store_explicit(c,
	    atomic_load_explicit(c, memory_order_relaxed) + n,
	    memory_order_relaxed);
}

static inline uint64_t
stats_read(const atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void
stats_count_verdict(struct stats *st, const struct policy_request *req,
    const struct policy_verdict *v)
{
	if ((unsigned)req->protocol >= _POLICY_PROTOCOL_MAX)
		return;
	for (size_t i = 0; i < v->n_events && i < POLICY_VERDICT_EVENTS; i++) {
		const struct policy_event *e = &v->events[i];

		if ((unsigned)e->decision >= _POLICY_DECISION_MAX ||
		    (unsigned)e->reason >= _POLICY_REASON_MAX ||
		    (unsigned)e->source >= _POLICY_SOURCE_MAX)
			continue;
		stats_bump(&st->decisions[e->decision][e->reason][e->source]
					 [req->protocol],
		    1);
	}
}

void
stats_count_open(struct stats *st, enum proxy_frontend fe)
{
	if ((unsigned)fe < _PROXY_FRONTEND_MAX)
		stats_bump(&st->opened[fe], 1);
}

void
stats_count_close(struct stats *st, enum proxy_frontend fe,
    uint64_t from_client, uint64_t from_upstream)
{
	if ((unsigned)fe < _PROXY_FRONTEND_MAX)
		stats_bump(&st->closed[fe], 1);
	stats_bump(&st->bytes[STATS_DIR_CLIENT_TO_UPSTREAM], from_client);
	stats_bump(&st->bytes[STATS_DIR_UPSTREAM_TO_CLIENT], from_upstream);
}

void
stats_observe(struct stats *st, enum stats_hist_id h, uint64_t ns)
{
	struct stats_hist *hist;
	double s = (double)ns / 1e9;
	size_t i = 0;

	if ((unsigned)h >= _STATS_HIST_MAX)
		return;
	hist = &st->hist[h];
	while (i < STATS_HIST_BUCKETS && s > stats_hist_bounds[i])
		i++;
	stats_bump(&hist->counts[i], 1);
	stats_bump(&hist->sum_ns, ns);
}

uint64_t
stats_now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
stats_add(struct stats_sum *sum, const struct stats *st)
{
	for (size_t d = 0; d < _POLICY_DECISION_MAX; d++)
		for (size_t r = 0; r < _POLICY_REASON_MAX; r++)
			for (size_t s = 0; s < _POLICY_SOURCE_MAX; s++)
				for (size_t p = 0; p < _POLICY_PROTOCOL_MAX;
				     p++)
					sum->decisions[d][r][s][p] +=
					    stats_read(
						&st->decisions[d][r][s][p]);
	/* Closed first: a session closes after it opened, so reading in
	 * this order never sees more closed than opened. */
	for (size_t f = 0; f < _PROXY_FRONTEND_MAX; f++) {
		sum->closed[f] += stats_read(&st->closed[f]);
		sum->opened[f] += stats_read(&st->opened[f]);
	}
	for (size_t d = 0; d < _STATS_DIR_MAX; d++)
		sum->bytes[d] += stats_read(&st->bytes[d]);
	for (size_t h = 0; h < _STATS_HIST_MAX; h++) {
		for (size_t i = 0; i <= STATS_HIST_BUCKETS; i++)
			sum->hist_counts[h][i] +=
			    stats_read(&st->hist[h].counts[i]);
		sum->hist_sum_ns[h] += stats_read(&st->hist[h].sum_ns);
	}
}
