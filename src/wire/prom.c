/* SPDX-License-Identifier: MIT */
/*
 * Prometheus text format 0.0.4 writer. Floats are printed with %.17g,
 * which reads back as the same double; integers as integers.
 */
#include "wire/prom.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/buf.h"
#include "util/compiler.h"

static const char *const prom_type_names[_PROM_TYPE_MAX] = {
	[PROM_COUNTER] = "counter",
	[PROM_GAUGE] = "gauge",
	[PROM_HISTOGRAM] = "histogram",
};

bool
prom_name_is_valid(const char *name, bool label)
{
	if (!name || !*name)
		return false;
	for (const char *p = name; *p; p++) {
		char c = *p;
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_' || (!label && c == ':');

		if (!alpha && (p == name || c < '0' || c > '9'))
			return false;
	}
	return true;
}

/* HELP text escapes backslash and newline. */
static int
prom_help_escape(struct buf *out, const char *s)
{
	int r = 0;

	for (; *s && r >= 0; s++) {
		if (*s == '\\')
			r = buf_append_str(out, "\\\\");
		else if (*s == '\n')
			r = buf_append_str(out, "\\n");
		else
			r = buf_append_char(out, *s);
	}
	return r;
}

/* Label values escape backslash, double quote and newline. */
static int
prom_value_escape(struct buf *out, const char *s)
{
	int r = 0;

	for (; *s && r >= 0; s++) {
		if (*s == '\\')
			r = buf_append_str(out, "\\\\");
		else if (*s == '"')
			r = buf_append_str(out, "\\\"");
		else if (*s == '\n')
			r = buf_append_str(out, "\\n");
		else
			r = buf_append_char(out, *s);
	}
	return r;
}

int
prom_family(struct buf *out, const char *name, enum prom_type type,
    const char *help)
{
	int r;

	assert(prom_name_is_valid(name, false));
	assert((unsigned)type < _PROM_TYPE_MAX);
	r = buf_printf(out, "# HELP %s ", name);
	if (r >= 0)
		r = prom_help_escape(out, help);
	if (r >= 0)
		r = buf_printf(out, "\n# TYPE %s %s\n", name,
		    prom_type_names[type]);
	return r < 0 ? -ENOMEM : 0;
}

/* "name{labels,extra} " up to the value. */
static int
prom_sample_start(struct buf *out, const char *name,
    const struct prom_label *labels, size_t n, const struct prom_label *extra)
{
	bool first = true;
	int r;

	assert(prom_name_is_valid(name, false));
	r = buf_append_str(out, name);
	for (size_t i = 0; i <= n && r >= 0; i++) {
		const struct prom_label *l = i < n ? &labels[i] : extra;

		if (!l || !l->value)
			continue;
		assert(prom_name_is_valid(l->name, true));
		r = buf_printf(out, "%s%s=\"", first ? "{" : ",", l->name);
		if (r >= 0)
			r = prom_value_escape(out, l->value);
		if (r >= 0)
			r = buf_append_char(out, '"');
		first = false;
	}
	if (r >= 0 && !first)
		r = buf_append_char(out, '}');
	if (r >= 0)
		r = buf_append_char(out, ' ');
	return r;
}

int
prom_sample_u64(struct buf *out, const char *name,
    const struct prom_label *labels, size_t n, uint64_t value)
{
	int r = prom_sample_start(out, name, labels, n, NULL);

	if (r >= 0)
		r = buf_printf(out, "%" PRIu64 "\n", value);
	return r < 0 ? -ENOMEM : 0;
}

static int
prom_double_text(struct buf *out, double v)
{
	if (isnan(v))
		return buf_append_str(out, "NaN");
	if (isinf(v))
		return buf_append_str(out, v > 0 ? "+Inf" : "-Inf");
	return buf_printf(out, "%.17g", v);
}

int
prom_sample_double(struct buf *out, const char *name,
    const struct prom_label *labels, size_t n, double value)
{
	int r = prom_sample_start(out, name, labels, n, NULL);

	if (r >= 0)
		r = prom_double_text(out, value);
	if (r >= 0)
		r = buf_append_char(out, '\n');
	return r < 0 ? -ENOMEM : 0;
}

int
prom_histogram(struct buf *out, const char *name,
    const struct prom_label *labels, size_t n_labels, const double *bounds,
    const uint64_t *counts, size_t n_bounds, double sum)
{
	char fam[128], le[32];
	uint64_t cum = 0;
	int r = 0;

	for (size_t i = 0; i <= n_bounds && r >= 0; i++) {
		struct prom_label l = { "le", le };

		cum += counts[i];
		if (i < n_bounds)
			(void)snprintf(le, sizeof(le), "%g", bounds[i]);
		else
			(void)snprintf(le, sizeof(le), "+Inf");
		(void)snprintf(fam, sizeof(fam), "%s_bucket", name);
		r = prom_sample_start(out, fam, labels, n_labels, &l);
		if (r >= 0)
			r = buf_printf(out, "%" PRIu64 "\n", cum);
	}
	(void)snprintf(fam, sizeof(fam), "%s_sum", name);
	if (r >= 0)
		r = prom_sample_double(out, fam, labels, n_labels, sum);
	(void)snprintf(fam, sizeof(fam), "%s_count", name);
	if (r >= 0)
		r = prom_sample_u64(out, fam, labels, n_labels, cum);
	return r < 0 ? -ENOMEM : 0;
}
