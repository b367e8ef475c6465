/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the TOML parser in both versions. Whatever parses must also survive
 * the round trip: every top-level entry is written back with
 * toml_format_key()/toml_format_value(), the result must parse (as TOML
 * 1.0, which the writer targets) to an equal tree, and a clone must equal
 * the original. Any difference aborts, so the fuzzer reports it.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "toml/toml.h"
#include "util/buf.h"

static bool fuzz_toml_equal(const struct toml_value *a,
    const struct toml_value *b);

static bool
fuzz_toml_tables_equal(const struct toml_value *a, const struct toml_value *b)
{
	if (toml_table_size(a) != toml_table_size(b))
		return false;
	for (size_t i = 0; i < toml_table_size(a); i++) {
		size_t la, lb;
		const char *ka = toml_table_key(a, i, &la);
		const char *kb = toml_table_key(b, i, &lb);

		if (la != lb || memcmp(ka, kb, la) != 0 ||
		    !fuzz_toml_equal(toml_table_value(a, i),
			toml_table_value(b, i)))
			return false;
	}
	return true;
}

static bool
fuzz_toml_arrays_equal(const struct toml_value *a, const struct toml_value *b)
{
	if (toml_array_size(a) != toml_array_size(b))
		return false;
	for (size_t i = 0; i < toml_array_size(a); i++)
		if (!fuzz_toml_equal(toml_array_get(a, i),
			toml_array_get(b, i)))
			return false;
	return true;
}

static bool
fuzz_toml_datetimes_equal(const struct toml_datetime *a,
    const struct toml_datetime *b)
{
	return a->year == b->year && a->month == b->month && a->day == b->day &&
	    a->hour == b->hour && a->minute == b->minute &&
	    a->second == b->second && a->nanosecond == b->nanosecond &&
	    a->frac_digits == b->frac_digits && a->utc_z == b->utc_z &&
	    a->offset_minutes == b->offset_minutes;
}

static bool
fuzz_toml_equal(const struct toml_value *a, const struct toml_value *b)
{
	size_t la, lb;
	const char *sa, *sb;
	double fa, fb;

	if (toml_value_type(a) != toml_value_type(b))
		return false;
	switch (toml_value_type(a)) {
	case TOML_TABLE:
		return fuzz_toml_tables_equal(a, b);
	case TOML_ARRAY:
		return fuzz_toml_arrays_equal(a, b);
	case TOML_STRING:
		sa = toml_value_string(a, &la);
		sb = toml_value_string(b, &lb);
		return la == lb && memcmp(sa, sb, la) == 0;
	case TOML_INTEGER:
		return toml_value_integer(a) == toml_value_integer(b);
	case TOML_FLOAT:
		fa = toml_value_float(a);
		fb = toml_value_float(b);
		if (isnan(fa) || isnan(fb))
			return isnan(fa) && isnan(fb);
		return fa == fb && signbit(fa) == signbit(fb);
	case TOML_BOOL:
		return toml_value_bool(a) == toml_value_bool(b);
	default:
		return fuzz_toml_datetimes_equal(toml_value_datetime(a),
		    toml_value_datetime(b));
	}
}

/* The tree as `key = value` lines, keys and values as the writers put
 * them; the nesting depth stays that of the original. */
static void
fuzz_toml_write(const struct toml_value *root, struct buf *out)
{
	for (size_t i = 0; i < toml_table_size(root); i++) {
		size_t len;
		const char *key = toml_table_key(root, i, &len);

		if (toml_format_key(out, key, len) < 0 ||
		    buf_append_str(out, " = ") < 0 ||
		    toml_format_value(out, toml_table_value(root, i)) < 0 ||
		    buf_append_char(out, '\n') < 0)
			abort();
	}
}

static void
fuzz_toml_round_trip(const struct toml_value *root)
{
	struct toml_options opts = { .version = TOML_VERSION_1_0 };
	struct toml_value *back = NULL, *copy;
	struct toml_error err;
	struct buf out;

	buf_init(&out, 0);
	fuzz_toml_write(root, &out);
	if (toml_parse(out.data, out.len, &opts, &back, &err) < 0) {
		(void)fprintf(stderr,
		    "written TOML does not parse: %u:%u: %s\n%s", err.line,
		    err.column, err.message, buf_str(&out));
		abort();
	}
	if (!fuzz_toml_equal(root, back)) {
		(void)fprintf(stderr, "round trip changed the tree:\n%s",
		    buf_str(&out));
		abort();
	}
	toml_value_free(back);
	buf_done(&out);
	copy = toml_value_clone(root);
	if (!copy || !fuzz_toml_equal(root, copy))
		abort();
	toml_value_free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum toml_version versions[] = { TOML_VERSION_1_0,
		TOML_VERSION_1_1 };

	const char *text = (const char *)data;

	for (size_t i = 0; i < 2; i++) {
		struct toml_options opts = { .version = versions[i],
			.source = "fuzz" };
		struct toml_value *root = NULL;
		struct toml_error err;
		char **keys;
		size_t *lens, n;

		if (toml_parse(text, size, &opts, &root, &err) == 0) {
			fuzz_toml_round_trip(root);
			toml_value_free(root);
		} else if (err.message[0] == '\0') {
			abort(); /* every failure explains itself */
		}
		if (toml_key_parse(text, size, versions[i], &keys, &lens, &n,
			&err) == 0)
			toml_key_free(keys, lens, n);
	}
	return 0;
}
