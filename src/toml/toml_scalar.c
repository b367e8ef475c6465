/* SPDX-License-Identifier: MIT */
/*
 * Scalars that are not strings: booleans, integers, floats, and the four
 * date and time types. A scalar is first delimited as a token (the
 * characters [A-Za-z0-9_+-.:], plus the one space TOML allows between a
 * date and a time), then checked against the exact grammar, so a stray
 * character inside a value is reported as part of that value.
 *
 * Integers are 64-bit signed and checked for range while they are read.
 * Floats go through toml_scalar_strtod(), which hands strtod() at most a
 * few hundred digits and no radix character, so conversion is correctly
 * rounded, independent of the locale and linear in the input.
 */
#include "toml/toml_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Enough significant digits to round any double correctly: a midpoint
 * between two doubles has at most 768 of them. */
#define TOML_SCALAR_MAX_DIGITS 800

/* Room for a token excerpt in a message. */
#define TOML_SCALAR_EXCERPT 48

static bool
toml_scalar_is_token_char(int c)
{
	return toml_lex_is_bare_key_char(c) || c == '+' || c == '.' || c == ':';
}

static bool
toml_scalar_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* A short, printable copy of the token [b, e) for messages. */
static const char *
toml_scalar_excerpt(char out[TOML_SCALAR_EXCERPT + 4], const char *b,
    const char *e)
{
	size_t n = (size_t)(e - b);

	if (n > TOML_SCALAR_EXCERPT)
		(void)snprintf(out, TOML_SCALAR_EXCERPT + 4, "%.*s...",
		    TOML_SCALAR_EXCERPT - 3, b);
	else
		(void)snprintf(out, TOML_SCALAR_EXCERPT + 4, "%.*s", (int)n, b);
	return out;
}

static const char *
toml_scalar_token_end(const char *p, const char *end)
{
	while (p < end && toml_scalar_is_token_char((unsigned char)*p))
		p++;
	return p;
}

/* A date-time may separate date and time with a space (RFC 3339 §5.6
 * note): extend a token that is exactly a date over " HH:". */
static const char *
toml_scalar_extend_datetime(const char *b, const char *e, const char *end)
{
	if (e - b != 10 || b[4] != '-' || b[7] != '-')
		return e;
	if (end - e < 4 || e[0] != ' ' || !toml_scalar_is_digit(e[1]) ||
	    !toml_scalar_is_digit(e[2]) || e[3] != ':')
		return e;
	return toml_scalar_token_end(e + 1, end);
}

/*
 * Numbers.
 */

static int
toml_scalar_digit_value(int c, int base)
{
	int v = -1;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	return v < base ? v : -1;
}

static int
toml_scalar_bad_number(struct toml_lexer *lx, const char *at, const char *b,
    const char *e, const char *why)
{
	char ex[TOML_SCALAR_EXCERPT + 4];

	return toml_lex_fail(lx, at, "invalid number '%s': %s",
	    toml_scalar_excerpt(ex, b, e), why);
}

/* Consume digits of base with single underscores between them and set
 * *ret_n to their count; a misplaced underscore is an error. */
static int
toml_scalar_digits(struct toml_lexer *lx, const char *b, const char **pp,
    const char *e, int base, size_t *ret_n)
{
	const char *p = *pp;
	size_t n = 0;

	while (p < e) {
		if (toml_scalar_digit_value((unsigned char)*p, base) >= 0) {
			n++;
			p++;
		} else if (*p == '_') {
			if (n == 0 || p + 1 >= e ||
			    toml_scalar_digit_value((unsigned char)p[1], base) <
				0)
				return toml_scalar_bad_number(lx, p, b, e,
				    "an underscore must be between two digits");
			p++;
		} else {
			break;
		}
	}
	*pp = p;
	*ret_n = n;
	return 0;
}

/* Accumulate the digits of [b, e) (underscores skipped) up to max. */
static bool
toml_scalar_accumulate(const char *b, const char *e, int base, uint64_t max,
    uint64_t *ret)
{
	uint64_t v = 0;

	for (const char *p = b; p < e; p++) {
		int d = toml_scalar_digit_value((unsigned char)*p, base);

		if (d < 0)
			continue;
		if (v > (max - (uint64_t)d) / (uint64_t)base)
			return false;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*ret = v;
	return true;
}

static int
toml_scalar_out_of_range(struct toml_lexer *lx, const char *b, const char *e,
    const char *kind)
{
	char ex[TOML_SCALAR_EXCERPT + 4];

	return toml_lex_fail(lx, b, "%s %s is out of range", kind,
	    toml_scalar_excerpt(ex, b, e));
}

static const char *
toml_scalar_base_name(int base)
{
	if (base == 16)
		return "hexadecimal";
	return base == 8 ? "octal" : "binary";
}

/* 0x, 0o or 0b followed by digits: non-negative, no sign allowed. */
static int
toml_scalar_prefixed(struct toml_lexer *lx, const char *b, const char *e,
    struct toml_value **ret)
{
	int base = b[1] == 'x' ? 16 : b[1] == 'o' ? 8 : 2;
	const char *p = b + 2;
	char why[48];
	uint64_t v;
	size_t n;
	int r;

	r = toml_scalar_digits(lx, b, &p, e, base, &n);
	if (r < 0)
		return r;
	if (n == 0 || p != e) {
		(void)snprintf(why, sizeof(why), "expected %s digits",
		    toml_scalar_base_name(base));
		return toml_scalar_bad_number(lx, p, b, e, why);
	}
	if (!toml_scalar_accumulate(b + 2, e, base, INT64_MAX, &v))
		return toml_scalar_out_of_range(lx, b, e, "integer");
	*ret = toml_integer_new((int64_t)v);
	return *ret ? 0 : -ENOMEM;
}

static int
toml_scalar_integer(struct toml_lexer *lx, const char *b, const char *e,
    struct toml_value **ret)
{
	bool neg = *b == '-';
	const char *digits = b + (*b == '-' || *b == '+');
	uint64_t max = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	uint64_t v;
	int64_t i;

	if (!toml_scalar_accumulate(digits, e, 10, max, &v))
		return toml_scalar_out_of_range(lx, b, e, "integer");
	if (!neg)
		i = (int64_t)v;
	else if (v == (uint64_t)INT64_MAX + 1)
		i = INT64_MIN;
	else
		i = -(int64_t)v;
	*ret = toml_integer_new(i);
	return *ret ? 0 : -ENOMEM;
}

static int
toml_scalar_float(struct toml_lexer *lx, const char *b, const char *e,
    struct toml_value **ret)
{
	struct buf plain;
	double d;
	int r = 0;

	buf_init(&plain, 0);
	for (const char *p = b; p < e && r == 0; p++)
		if (*p != '_')
			r = buf_append_char(&plain, *p);
	if (r < 0) {
		buf_done(&plain);
		return r;
	}
	d = toml_scalar_strtod(plain.data, plain.len);
	buf_done(&plain);
	if (isinf(d))
		return toml_scalar_out_of_range(lx, b, e, "float");
	*ret = toml_float_new(d);
	return *ret ? 0 : -ENOMEM;
}

/* The fraction and exponent of a decimal number, if any. */
static int
toml_scalar_fraction_exponent(struct toml_lexer *lx, const char **pp,
    const char *b, const char *e, bool *ret_float)
{
	const char *p = *pp;
	size_t n;
	int r;

	if (p < e && *p == '.') {
		p++;
		r = toml_scalar_digits(lx, b, &p, e, 10, &n);
		if (r < 0)
			return r;
		if (n == 0)
			return toml_scalar_bad_number(lx, p, b, e,
			    "expected a digit after '.'");
		*ret_float = true;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		r = toml_scalar_digits(lx, b, &p, e, 10, &n);
		if (r < 0)
			return r;
		if (n == 0)
			return toml_scalar_bad_number(lx, p, b, e,
			    "expected a digit in the exponent");
		*ret_float = true;
	}
	*pp = p;
	return 0;
}

/* [+-] dec-int [frac] [exp], TOML 1.1 §Integer and §Float. */
static int
toml_scalar_decimal(struct toml_lexer *lx, const char *b, const char *e,
    struct toml_value **ret)
{
	const char *p = b + (*b == '-' || *b == '+'), *int_start = p;
	char why[TOML_QUOTE_BYTES + 16];
	bool is_float = false;
	size_t n;
	int r;

	r = toml_scalar_digits(lx, b, &p, e, 10, &n);
	if (r < 0)
		return r;
	if (n == 0)
		return toml_scalar_bad_number(lx, p, b, e, "expected a digit");
	if (*int_start == '0' && n > 1)
		return toml_scalar_bad_number(lx, int_start, b, e,
		    "leading zeros are not allowed");
	r = toml_scalar_fraction_exponent(lx, &p, b, e, &is_float);
	if (r < 0)
		return r;
	if (p != e) {
		char found[TOML_QUOTE_BYTES];

		toml_error_describe(found, sizeof(found), p, e);
		(void)snprintf(why, sizeof(why), "unexpected %s", found);
		return toml_scalar_bad_number(lx, p, b, e, why);
	}
	if (is_float)
		return toml_scalar_float(lx, b, e, ret);
	return toml_scalar_integer(lx, b, e, ret);
}

static int
toml_scalar_number(struct toml_lexer *lx, const char *b, const char *e,
    struct toml_value **ret)
{
	const char *s = b + (*b == '-' || *b == '+');

	if (e - s == 3 &&
	    (memcmp(s, "inf", 3) == 0 || memcmp(s, "nan", 3) == 0)) {
		double d = s[0] == 'i' ? INFINITY : NAN;

		*ret = toml_float_new(*b == '-' ? -d : d);
		return *ret ? 0 : -ENOMEM;
	}
	if (e - b >= 2 && b[0] == '0' &&
	    (b[1] == 'x' || b[1] == 'o' || b[1] == 'b'))
		return toml_scalar_prefixed(lx, b, e, ret);
	if (s > b && e - s > 2 && s[0] == '0' &&
	    (s[1] == 'x' || s[1] == 'o' || s[1] == 'b'))
		return toml_scalar_bad_number(lx, b, b, e,
		    "a sign is not allowed before 0x, 0o or 0b");
	return toml_scalar_decimal(lx, b, e, ret);
}

/*
 * Dates and times, RFC 3339 §5.6 as TOML restricts it: four-digit years,
 * two-digit fields, 'T', 't' or a space between date and time, seconds
 * optional in TOML 1.1, at most nanosecond precision kept (extra digits
 * are truncated, as the spec asks).
 */

/* Exactly n digits at *pp. */
static bool
toml_scalar_fixed(const char **pp, const char *e, int n, int *ret)
{
	int v = 0;

	if (e - *pp < n)
		return false;
	for (int i = 0; i < n; i++) {
		if (!toml_scalar_is_digit((unsigned char)(*pp)[i]))
			return false;
		v = v * 10 + ((*pp)[i] - '0');
	}
	*pp += n;
	*ret = v;
	return true;
}

static bool
toml_scalar_expect(const char **pp, const char *e, char c)
{
	if (*pp >= e || **pp != c)
		return false;
	(*pp)++;
	return true;
}

static int
toml_scalar_days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

/* YYYY-MM-DD; on failure *pp is where it went wrong and a reason is
 * returned. */
static const char *
toml_scalar_date(const char **pp, const char *e, struct toml_datetime *dt)
{
	const char *start = *pp;
	int y, m, d;

	if (!toml_scalar_fixed(pp, e, 4, &y) ||
	    !toml_scalar_expect(pp, e, '-') ||
	    !toml_scalar_fixed(pp, e, 2, &m) ||
	    !toml_scalar_expect(pp, e, '-') || !toml_scalar_fixed(pp, e, 2, &d))
		return "expected YYYY-MM-DD";
	if (m < 1 || m > 12) {
		*pp = start + 5;
		return "the month must be 01 to 12";
	}
	if (d < 1 || d > toml_scalar_days_in_month(y, m)) {
		*pp = start + 8;
		return "no such day in that month";
	}
	dt->year = (int16_t)y;
	dt->month = (uint8_t)m;
	dt->day = (uint8_t)d;
	return NULL;
}

/* Up to nine fraction digits become nanoseconds; more are truncated. */
static const char *
toml_scalar_fraction(const char **pp, const char *e, struct toml_datetime *dt)
{
	uint32_t ns = 0;
	int n = 0;

	while (*pp < e && toml_scalar_is_digit((unsigned char)**pp)) {
		if (n < 9) {
			ns = ns * 10 + (uint32_t)(**pp - '0');
			n++;
		}
		(*pp)++;
	}
	if (n == 0)
		return "expected a digit after '.'";
	dt->frac_digits = (uint8_t)n;
	for (; n < 9; n++)
		ns *= 10;
	dt->nanosecond = ns;
	return NULL;
}

/* HH:MM[:SS[.fraction]] */
static const char *
toml_scalar_time(const char **pp, const char *e, bool v11,
    struct toml_datetime *dt)
{
	const char *start = *pp;
	int h, m, s = 0;

	if (!toml_scalar_fixed(pp, e, 2, &h) ||
	    !toml_scalar_expect(pp, e, ':') || !toml_scalar_fixed(pp, e, 2, &m))
		return v11 ? "expected HH:MM or HH:MM:SS" : "expected HH:MM:SS";
	if (*pp < e && **pp == ':') {
		(*pp)++;
		if (!toml_scalar_fixed(pp, e, 2, &s))
			return "expected two digits of seconds";
		if (*pp < e && **pp == '.') {
			const char *why;

			(*pp)++;
			why = toml_scalar_fraction(pp, e, dt);
			if (why)
				return why;
		}
	} else if (!v11) {
		return "seconds are required in TOML 1.0 (HH:MM:SS)";
	}
	if (h > 23) {
		*pp = start;
		return "the hour must be 00 to 23";
	}
	if (m > 59) {
		*pp = start + 3;
		return "the minute must be 00 to 59";
	}
	if (s > 60) {
		*pp = start + 6;
		return "the second must be 00 to 60";
	}
	dt->hour = (uint8_t)h;
	dt->minute = (uint8_t)m;
	dt->second = (uint8_t)s;
	return NULL;
}

/* Z or [+-]HH:MM */
static const char *
toml_scalar_offset(const char **pp, const char *e, struct toml_datetime *dt)
{
	const char *start = *pp;
	int sign, h, m;

	if (**pp == 'Z' || **pp == 'z') {
		(*pp)++;
		dt->utc_z = true;
		return NULL;
	}
	sign = **pp == '-' ? -1 : 1;
	(*pp)++;
	if (!toml_scalar_fixed(pp, e, 2, &h) ||
	    !toml_scalar_expect(pp, e, ':') || !toml_scalar_fixed(pp, e, 2, &m))
		return "expected an offset +HH:MM or -HH:MM";
	if (h > 23 || m > 59) {
		*pp = start + (h > 23 ? 1 : 4);
		return "the offset must be -23:59 to +23:59";
	}
	dt->offset_minutes = (int16_t)(sign * (h * 60 + m));
	return NULL;
}

/* A token that starts with a date: a local date, a local date-time or an
 * offset date-time. */
static const char *
toml_scalar_datetime_parts(const char **pp, const char *e, bool v11,
    struct toml_datetime *dt, enum toml_type *ret_type)
{
	const char *why = toml_scalar_date(pp, e, dt);

	*ret_type = TOML_DATE_LOCAL;
	if (why || *pp == e)
		return why;
	if (**pp != 'T' && **pp != 't' && **pp != ' ')
		return "expected 'T' or a space between date and time";
	(*pp)++;
	*ret_type = TOML_DATETIME_LOCAL;
	why = toml_scalar_time(pp, e, v11, dt);
	if (why || *pp == e)
		return why;
	if (**pp != 'Z' && **pp != 'z' && **pp != '+' && **pp != '-')
		return "expected an offset (Z, +HH:MM or -HH:MM) or the end";
	*ret_type = TOML_DATETIME;
	return toml_scalar_offset(pp, e, dt);
}

static int
toml_scalar_datetime(struct toml_lexer *lx, const char *b, const char *e,
    bool time_only, struct toml_value **ret)
{
	bool v11 = lx->version == TOML_VERSION_1_1;
	struct toml_datetime dt = { 0 };
	enum toml_type type = TOML_TIME_LOCAL;
	const char *p = b, *why;

	if (time_only) {
		why = toml_scalar_time(&p, e, v11, &dt);
		if (!why && p != e)
			why = "a local time cannot have a date or an offset";
	} else {
		why = toml_scalar_datetime_parts(&p, e, v11, &dt, &type);
		if (!why && p != e)
			why = "unexpected text after the offset";
	}
	if (why) {
		char ex[TOML_SCALAR_EXCERPT + 4];

		return toml_lex_fail(lx, p, "invalid %s '%s': %s",
		    toml_type_name(type), toml_scalar_excerpt(ex, b, e), why);
	}
	*ret = toml_value_new(type, TOML_DEF_API, (struct toml_pos){ 0 }, NULL);
	if (!*ret)
		return -ENOMEM;
	(*ret)->dt = dt;
	return 0;
}

static bool
toml_scalar_is_word(const char *b, const char *e, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(e - b) == n && memcmp(b, word, n) == 0;
}

static int
toml_scalar_bool(const char *b, const char *e, struct toml_value **ret)
{
	*ret = toml_bool_new(toml_scalar_is_word(b, e, "true"));
	return *ret ? 0 : -ENOMEM;
}

static int
toml_scalar_dispatch(struct toml_lexer *lx, const char *b, const char *e,
    struct toml_value **ret)
{
	const char *s = b + (*b == '-' || *b == '+');
	char ex[TOML_SCALAR_EXCERPT + 4];

	if (toml_scalar_is_word(b, e, "true") ||
	    toml_scalar_is_word(b, e, "false"))
		return toml_scalar_bool(b, e, ret);
	if (e - b >= 5 && s == b && b[4] == '-' &&
	    toml_scalar_is_digit((unsigned char)b[0]) &&
	    toml_scalar_is_digit((unsigned char)b[3]))
		return toml_scalar_datetime(lx, b, e, false, ret);
	if (e - b >= 3 && s == b && b[2] == ':' &&
	    toml_scalar_is_digit((unsigned char)b[0]))
		return toml_scalar_datetime(lx, b, e, true, ret);
	if (toml_scalar_is_word(s, e, "inf") ||
	    toml_scalar_is_word(s, e, "nan") ||
	    (s < e && toml_scalar_is_digit((unsigned char)*s)))
		return toml_scalar_number(lx, b, e, ret);
	if (s > b)
		return toml_scalar_bad_number(lx, s, b, e,
		    "expected a digit after the sign");
	if (*b == '.')
		return toml_scalar_bad_number(lx, b, b, e,
		    "expected a digit before '.'");
	return toml_lex_fail(lx, b,
	    "invalid value '%s' (a string needs quotes)",
	    toml_scalar_excerpt(ex, b, e));
}

int
toml_scalar_parse(struct toml_lexer *lx, struct toml_value **ret)
{
	const char *b = lx->p, *e;
	int r;

	e = toml_scalar_token_end(b, lx->end);
	e = toml_scalar_extend_datetime(b, e, lx->end);
	if (e == b)
		return toml_lex_fail_expected(lx, b, "a value");
	r = toml_scalar_dispatch(lx, b, e, ret);
	if (r < 0)
		return r;
	lx->p = e;
	return 0;
}

/* d1 d2 ... dn x 10^x as a double; the string strtod() sees has no radix
 * character, so no locale can change how it reads. */
static double
toml_scalar_strtod_digits(bool neg, const char *digits, size_t n, int64_t x)
{
	char tmp[TOML_SCALAR_MAX_DIGITS + 32];
	int64_t lead = x + (int64_t)n - 1; /* exponent of the first digit */
	double d;

	if (n == 0 || lead < -400)
		d = 0.0;
	else if (lead > 400)
		d = INFINITY;
	else {
		(void)snprintf(tmp, sizeof(tmp), "%.*se%lld", (int)n, digits,
		    (long long)x);
		d = strtod(tmp, NULL);
	}
	return neg ? -d : d;
}

/* The exponent part after 'e', saturated far beyond any double's range. */
static int64_t
toml_scalar_strtod_exponent(const char *p, const char *e)
{
	bool neg = false;
	int64_t v = 0;

	if (p < e && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	for (; p < e && toml_scalar_is_digit(*p); p++)
		if (v < 1000000000)
			v = v * 10 + (*p - '0');
	return neg ? -v : v;
}

double
toml_scalar_strtod(const char *s, size_t len)
{
	const char *p = s, *e = s + len;
	char digits[TOML_SCALAR_MAX_DIGITS + 1];
	bool neg = false, frac = false, sticky = false;
	size_t n = 0;
	int64_t x = 0;

	if (p < e && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	/* Keep the first TOML_SCALAR_MAX_DIGITS significant digits; later
	 * ones only scale the value, and if any of them is nonzero a final
	 * 1 stands in for them, which rounds exactly as they would. */
	for (; p < e && (toml_scalar_is_digit(*p) || *p == '.'); p++) {
		if (*p == '.') {
			frac = true;
			continue;
		}
		if (frac)
			x--;
		if (n == 0 && *p == '0')
			continue;
		if (n < TOML_SCALAR_MAX_DIGITS) {
			digits[n++] = *p;
		} else {
			x++;
			sticky |= *p != '0';
		}
	}
	if (sticky) {
		digits[n++] = '1';
		x--;
	}
	if (p < e && (*p == 'e' || *p == 'E'))
		x += toml_scalar_strtod_exponent(p + 1, e);
	return toml_scalar_strtod_digits(neg, digits, n, x);
}
