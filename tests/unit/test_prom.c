/* SPDX-License-Identifier: MIT */
/* The Prometheus text writer (wire/prom.h) and the counters it shows
 * (proxy/stats.h). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/stats.h"
#include "util/buf.h"
#include "wire/prom.h"

static void
test_prom_family_writes_help_and_type(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(prom_family(&b, "paddock_x_total", PROM_COUNTER,
			     "Lines\nand a back\\slash."),
	    0);
	assert_string_equal(buf_str(&b),
	    "# HELP paddock_x_total Lines\\nand a back\\\\slash.\n"
	    "# TYPE paddock_x_total counter\n");
	buf_done(&b);
}

static void
test_prom_sample_escapes_label_values(void **state)
{
	struct prom_label l[] = {
		{ "host", "a\"b\\c\nd" },
		{ "skipped", NULL },
		{ "mode", "full" },
	};
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(prom_sample_u64(&b, "paddock_y", l, 3, 42), 0);
	assert_string_equal(buf_str(&b),
	    "paddock_y{host=\"a\\\"b\\\\c\\nd\",mode=\"full\"} 42\n");
	buf_done(&b);
}

static void
test_prom_sample_without_labels_and_doubles(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(prom_sample_u64(&b, "a", NULL, 0, UINT64_MAX), 0);
	assert_int_equal(prom_sample_double(&b, "b", NULL, 0, 0.25), 0);
	assert_int_equal(prom_sample_double(&b, "c", NULL, 0, INFINITY), 0);
	assert_int_equal(prom_sample_double(&b, "d", NULL, 0, NAN), 0);
	assert_string_equal(buf_str(&b),
	    "a 18446744073709551615\nb 0.25\nc +Inf\nd NaN\n");
	buf_done(&b);
}

static void
test_prom_histogram_is_cumulative(void **state)
{
	const double bounds[] = { 0.001, 0.5 };
	const uint64_t counts[] = { 2, 0, 3 };
	struct prom_label l = { "k", "v" };
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(prom_histogram(&b, "h", &l, 1, bounds, counts, 2, 1.5),
	    0);
	assert_string_equal(buf_str(&b),
	    "h_bucket{k=\"v\",le=\"0.001\"} 2\n"
	    "h_bucket{k=\"v\",le=\"0.5\"} 2\n"
	    "h_bucket{k=\"v\",le=\"+Inf\"} 5\n"
	    "h_sum{k=\"v\"} 1.5\n"
	    "h_count{k=\"v\"} 5\n");
	buf_done(&b);
}

static void
test_prom_names_are_checked(void **state)
{
	(void)state;
	assert_true(prom_name_is_valid("paddock_a:b_1", false));
	assert_false(prom_name_is_valid("paddock_a:b", true));
	assert_false(prom_name_is_valid("1abc", false));
	assert_false(prom_name_is_valid("a-b", false));
	assert_false(prom_name_is_valid("", false));
}

static void
test_prom_stats_buckets_and_sums(void **state)
{
	static struct stats st; /* zeroed: a valid empty set */
	static struct stats_sum sum;

	(void)state;
	stats_observe(&st, STATS_HIST_DNS, 200000);     /* 0.2 ms */
	stats_observe(&st, STATS_HIST_DNS, 1000000);    /* 1 ms: on a bound */
	stats_observe(&st, STATS_HIST_DNS, 9000000000); /* 9 s: +Inf */
	stats_count_open(&st, PROXY_FRONTEND_HTTP);
	stats_count_open(&st, PROXY_FRONTEND_HTTP);
	stats_count_close(&st, PROXY_FRONTEND_HTTP, 10, 20);
	stats_add(&sum, &st);
	stats_add(&sum, &st);
	assert_int_equal(sum.hist_counts[STATS_HIST_DNS][0], 2);
	assert_int_equal(sum.hist_counts[STATS_HIST_DNS][1], 2);
	assert_int_equal(sum.hist_counts[STATS_HIST_DNS][STATS_HIST_BUCKETS],
	    2);
	assert_int_equal(sum.hist_sum_ns[STATS_HIST_DNS],
	    2 * (200000 + 1000000 + 9000000000ull));
	assert_int_equal(sum.opened[PROXY_FRONTEND_HTTP], 4);
	assert_int_equal(sum.closed[PROXY_FRONTEND_HTTP], 2);
	assert_int_equal(sum.bytes[STATS_DIR_CLIENT_TO_UPSTREAM], 20);
	assert_int_equal(sum.bytes[STATS_DIR_UPSTREAM_TO_CLIENT], 40);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prom_family_writes_help_and_type),
		cmocka_unit_test(test_prom_sample_escapes_label_values),
		cmocka_unit_test(test_prom_sample_without_labels_and_doubles),
		cmocka_unit_test(test_prom_histogram_is_cumulative),
		cmocka_unit_test(test_prom_names_are_checked),
		cmocka_unit_test(test_prom_stats_buckets_and_sums),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
