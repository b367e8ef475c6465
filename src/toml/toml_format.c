/* SPDX-License-Identifier: MIT */
/*
 * Writing TOML back. The output is valid TOML 1.0 (and so 1.1): strings
 * use only the escapes both versions know, tables are written inline.
 *
 * Floats are written in the shortest form that reads back to the same
 * double, found by trying 1 to 17 significant digits, and always with a
 * '.' or an exponent so they read back as floats. The digits come from
 * "%.*e", whose only locale-dependent part, the radix character, is
 * skipped rather than parsed, so no locale changes the output.
 */
#include "toml/toml_internal.h"

#include "util/utf8.h"
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
toml_format_is_bare(const char *key, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!toml_lex_is_bare_key_char((unsigned char)key[i]))
			return false;
	return true;
}

/* The escape for byte c, which cannot appear raw in a basic string. */
static int
toml_format_escape(struct buf *out, unsigned char c)
{
	static const char short_esc[] = "b\bt\tn\nf\fr\r\"\"\\\\";

	for (size_t i = 0; short_esc[i]; i += 2)
		if (c == (unsigned char)short_esc[i + 1])
			return buf_printf(out, "\\%c", short_esc[i]);
	if (c < 0x80)
		return buf_printf(out, "\\u%04X", c);
	/* Not UTF-8: TOML strings cannot hold it; write U+FFFD. */
	return buf_append_str(out, "\\uFFFD");
}

/* A basic string: printable ASCII and valid UTF-8 as is, the rest
 * escaped. */
static int
toml_format_string(struct buf *out, const char *s, size_t len)
{
	const char *p = s, *end = s + len, *run = s;
	int r = buf_append_char(out, '"');

	while (r == 0 && p < end) {
		unsigned char c = (unsigned char)*p;
		uint32_t cp;
		size_t n = 0;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			n = 1;
		else if (c >= 0x80)
			n = utf8_decode(p, end, &cp);
		if (n > 0) {
			p += n;
			continue;
		}
		r = buf_append(out, run, (size_t)(p - run));
		if (r == 0)
			r = toml_format_escape(out, c);
		run = ++p;
	}
	if (r == 0)
		r = buf_append(out, run, (size_t)(p - run));
	return r < 0 ? r : buf_append_char(out, '"');
}

int
toml_format_key(struct buf *out, const char *key, size_t len)
{
	if (toml_format_is_bare(key, len))
		return buf_append(out, key, len);
	return toml_format_string(out, key, len);
}

/* A positive double as d1.d2...dn x 10^exp, digits as a string. */
struct toml_format_digits {
	char d[24];
	size_t n;
	int exp;
};

/* Read the digits and exponent out of what "%.*e" wrote, skipping the
 * radix character, whatever the locale made it. */
static void
toml_format_split(const char *s, struct toml_format_digits *dg)
{
	const char *p = s;
	int sign = 1, x = 0;

	dg->n = 0;
	for (; *p && *p != 'e' && *p != 'E'; p++)
		if (*p >= '0' && *p <= '9' && dg->n < sizeof(dg->d) - 1)
			dg->d[dg->n++] = *p;
	if (*p)
		p++;
	if (*p == '-' || *p == '+')
		sign = *p++ == '-' ? -1 : 1;
	for (; *p >= '0' && *p <= '9'; p++)
		x = x * 10 + (*p - '0');
	while (dg->n > 1 && dg->d[dg->n - 1] == '0')
		dg->n--;
	dg->d[dg->n] = '\0';
	dg->exp = sign * x;
}

/* The shortest digits that read back as d (finite, nonzero, positive). */
static void
toml_format_shortest(double d, struct toml_format_digits *dg)
{
	for (int prec = 1; prec <= 17; prec++) {
		char tmp[64], back[64];

		(void)snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
		toml_format_split(tmp, dg);
		(void)snprintf(back, sizeof(back), "%se%d", dg->d,
		    dg->exp - (int)dg->n + 1);
		if (toml_scalar_strtod(back, strlen(back)) == d)
			return;
	}
}

/* Positional for 1e-4 <= |d| < 1e16, else d.ddde<exp>. */
static int
toml_format_digits(struct buf *out, const struct toml_format_digits *dg)
{
	int e = dg->exp, n = (int)dg->n;

	if (e < -4 || e >= 16) {
		if (n == 1)
			return buf_printf(out, "%ce%d", dg->d[0], e);
		return buf_printf(out, "%c.%se%d", dg->d[0], dg->d + 1, e);
	}
	if (e < 0)
		return buf_printf(out, "0.%.*s%s", -e - 1, "0000", dg->d);
	if (n <= e + 1)
		return buf_printf(out, "%s%.*s.0", dg->d, e + 1 - n,
		    "0000000000000000");
	return buf_printf(out, "%.*s.%s", e + 1, dg->d, dg->d + e + 1);
}

static int
toml_format_float(struct buf *out, double d)
{
	struct toml_format_digits dg;
	int r;

	if (isnan(d))
		return buf_append_str(out, "nan");
	if (isinf(d))
		return buf_append_str(out, d > 0 ? "inf" : "-inf");
	if (d == 0)
		return buf_append_str(out, signbit(d) ? "-0.0" : "0.0");
	if (d < 0) {
		r = buf_append_char(out, '-');
		if (r < 0)
			return r;
		d = -d;
	}
	toml_format_shortest(d, &dg);
	return toml_format_digits(out, &dg);
}

/* RFC 3339 §5.6, keeping the fraction digits that were written. */
static int
toml_format_datetime(struct buf *out, enum toml_type t,
    const struct toml_datetime *dt)
{
	int digits = dt->frac_digits > 9 ? 9 : dt->frac_digits, r = 0;
	char frac[16];

	if (t != TOML_TIME_LOCAL)
		r = buf_printf(out, "%04d-%02u-%02u", dt->year, dt->month,
		    dt->day);
	if (r == 0 && t != TOML_DATE_LOCAL)
		r = buf_printf(out, "%s%02u:%02u:%02u",
		    t == TOML_TIME_LOCAL ? "" : "T", dt->hour, dt->minute,
		    dt->second);
	if (r == 0 && t != TOML_DATE_LOCAL && digits > 0) {
		(void)snprintf(frac, sizeof(frac), "%09u",
		    (unsigned)dt->nanosecond % 1000000000u);
		r = buf_printf(out, ".%.*s", digits, frac);
	}
	if (r < 0 || t != TOML_DATETIME)
		return r;
	if (dt->utc_z)
		return buf_append_char(out, 'Z');
	return buf_printf(out, "%c%02d:%02d",
	    dt->offset_minutes < 0 ? '-' : '+', abs(dt->offset_minutes) / 60,
	    abs(dt->offset_minutes) % 60);
}

static int
toml_format_array(struct buf *out, const struct toml_value *a)
{
	int r = buf_append_char(out, '[');

	for (size_t i = 0; r == 0 && i < a->arr.n; i++) {
		if (i > 0)
			r = buf_append_str(out, ", ");
		if (r == 0)
			r = toml_format_value(out, a->arr.items[i]);
	}
	return r < 0 ? r : buf_append_char(out, ']');
}

static int
toml_format_inline_table(struct buf *out, const struct toml_value *t)
{
	int r;

	if (t->tab.n == 0)
		return buf_append_str(out, "{}");
	r = buf_append_str(out, "{ ");
	for (size_t i = 0; r == 0 && i < t->tab.n; i++) {
		const struct toml_entry *en = &t->tab.entries[i];

		if (i > 0)
			r = buf_append_str(out, ", ");
		if (r == 0)
			r = toml_format_key(out, en->key, en->len);
		if (r == 0)
			r = buf_append_str(out, " = ");
		if (r == 0)
			r = toml_format_value(out, en->value);
	}
	return r < 0 ? r : buf_append_str(out, " }");
}

int
toml_format_value(struct buf *out, const struct toml_value *v)
{
	switch (v->type) {
	case TOML_TABLE:
		return toml_format_inline_table(out, v);
	case TOML_ARRAY:
		return toml_format_array(out, v);
	case TOML_STRING:
		return toml_format_string(out, v->str.s, v->str.len);
	case TOML_INTEGER:
		return buf_printf(out, "%" PRId64, v->integer);
	case TOML_FLOAT:
		return toml_format_float(out, v->flt);
	case TOML_BOOL:
		return buf_append_str(out, v->boolean ? "true" : "false");
	case TOML_DATETIME:
	case TOML_DATETIME_LOCAL:
	case TOML_DATE_LOCAL:
	case TOML_TIME_LOCAL:
		return toml_format_datetime(out, v->type, &v->dt);
	default:
		return -EINVAL;
	}
}
