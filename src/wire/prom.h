/* SPDX-License-Identifier: MIT */
/*
 * The Prometheus text exposition format, version 0.0.4: metric families
 * (a HELP and a TYPE line) and samples with labels. Pure: text is appended
 * to a struct buf. Names are the caller's literals and are checked only by
 * assert(); label values may be anything and are escaped (backslash,
 * double quote and newline, as the format requires).
 *
 * The writer keeps no state between calls: a family's samples simply
 * follow its prom_family() line, in the order written.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum prom_type {
	PROM_COUNTER,
	PROM_GAUGE,
	PROM_HISTOGRAM,
	_PROM_TYPE_MAX,
};

/* One label; value NULL ends a label list early (it is skipped). */
struct prom_label {
	const char *name;
	const char *value;
};

/* "# HELP name help\n# TYPE name type\n". Returns 0 or -ENOMEM. */
int prom_family(struct buf *out, const char *name, enum prom_type type,
    const char *help);

/* "name{l1="v1",...} value\n" with n labels (n may be 0: no braces). The
 * value is an unsigned integer. Returns 0 or -ENOMEM. */
int prom_sample_u64(struct buf *out, const char *name,
    const struct prom_label *labels, size_t n, uint64_t value);

/* The same with a floating-point value ("+Inf", "NaN" spelled as the
 * format wants). Returns 0 or -ENOMEM. */
int prom_sample_double(struct buf *out, const char *name,
    const struct prom_label *labels, size_t n, double value);

/*
 * A whole histogram family's samples: name_bucket{...,le="b"} for each
 * upper bound (cumulative counts), le="+Inf", name_sum and name_count.
 * counts[i] is the number of observations in (bounds[i-1], bounds[i]],
 * counts[n_bounds] those above the last bound; sum is in the bounds'
 * unit. Returns 0 or -ENOMEM.
 */
int prom_histogram(struct buf *out, const char *name,
    const struct prom_label *labels, size_t n_labels, const double *bounds,
    const uint64_t *counts, size_t n_bounds, double sum);

/* True for a valid metric or label name ([a-zA-Z_:][a-zA-Z0-9_:]*, no ':'
 * in label names). */
bool prom_name_is_valid(const char *name, bool label);
