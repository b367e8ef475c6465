/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/toml: positions, lookup and order, error messages and
 * their positions, limits, the TOML 1.0/1.1 switch, the edit API, the
 * writers (format, then parse back, gives the same value) and key parsing.
 * Conformance as such is toml-test's job (tools/toml-test-run).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "toml/toml.h"
#include "util/buf.h"
#include "util/limits.h"

#define V10 TOML_VERSION_1_0
#define V11 TOML_VERSION_1_1

static struct toml_value *
parse_ok(const char *text, enum toml_version version)
{
	struct toml_options opts = { .version = version,
		.source = "test.toml" };
	struct toml_value *root = NULL;
	struct toml_error err;
	int r = toml_parse(text, strlen(text), &opts, &root, &err);

	if (r != 0)
		fail_msg("parse of <<%s>> failed: %u:%u: %s", text, err.line,
		    err.column, err.message);
	assert_non_null(root);
	return root;
}

static void
assert_error(const char *text, enum toml_version version, uint32_t line,
    uint32_t column, const char *message)
{
	struct toml_options opts = { .version = version };
	struct toml_value *root = NULL;
	struct toml_error err;
	int r = toml_parse(text, strlen(text), &opts, &root, &err);

	if (r != -EINVAL)
		fail_msg("<<%s>> gave %d, not -EINVAL", text, r);
	assert_null(root);
	if (strcmp(err.message, message) != 0 || err.line != line ||
	    err.column != column)
		fail_msg("<<%s>>:\n got  %u:%u: %s\n want %u:%u: %s", text,
		    err.line, err.column, err.message, line, column, message);
}

static void
assert_invalid(const char *text, enum toml_version version)
{
	struct toml_options opts = { .version = version };
	struct toml_value *root = NULL;
	struct toml_error err;

	if (toml_parse(text, strlen(text), &opts, &root, &err) != -EINVAL)
		fail_msg("<<%s>> was accepted", text);
	assert_true(err.line > 0 && err.column > 0 && err.message[0]);
}

/* Follow a dotted path of bare keys from t. */
static struct toml_value *
get_path(const struct toml_value *t, const char *path)
{
	char key[64];
	const char *dot;

	for (;;) {
		dot = strchr(path, '.');
		if (!dot)
			return toml_table_get_str(t, path);
		assert_true((size_t)(dot - path) < sizeof(key));
		memcpy(key, path, (size_t)(dot - path));
		key[dot - path] = '\0';
		t = toml_table_get_str(t, key);
		assert_non_null(t);
		path = dot + 1;
	}
}

static void
assert_pos(struct toml_pos pos, uint32_t line, uint32_t column)
{
	if (pos.line != line || pos.column != column)
		fail_msg("position %u:%u, want %u:%u", pos.line, pos.column,
		    line, column);
}

static void
test_toml_positions_of_keys_and_values(void **state)
{
	struct toml_value *root, *t;

	(void)state;
	root = parse_ok("\xef\xbb\xbf"
			"a = 1\r\n"
			"\"é\" = 'ü' # comment\n"
			"\t[tbl]\n"
			"  x.y = [1, { z = 2 }]\n",
	    V11);
	assert_string_equal(toml_value_source(root), "test.toml");
	assert_pos(toml_table_key_pos(root, 0), 1, 1);
	assert_pos(toml_value_pos(toml_table_value(root, 0)), 1, 5);
	/* Columns count code points, not bytes. */
	assert_pos(toml_table_key_pos(root, 1), 2, 1);
	assert_pos(toml_value_pos(toml_table_value(root, 1)), 2, 7);
	/* A [header] table sits at its bracket, its key after it. */
	assert_pos(toml_table_key_pos(root, 2), 3, 3);
	t = toml_table_get_str(root, "tbl");
	assert_pos(toml_value_pos(t), 3, 2);
	/* A dotted-key table sits at its key segment. */
	assert_pos(toml_table_key_pos(t, 0), 4, 3);
	assert_pos(toml_value_pos(get_path(t, "x")), 4, 3);
	t = get_path(t, "x.y");
	assert_pos(toml_value_pos(t), 4, 9);
	assert_pos(toml_value_pos(toml_array_get(t, 1)), 4, 13);
	t = toml_array_get(t, 1);
	assert_pos(toml_table_key_pos(t, 0), 4, 15);
	assert_pos(toml_value_pos(toml_table_value(t, 0)), 4, 19);
	assert_string_equal(toml_value_source(toml_table_value(t, 0)),
	    "test.toml");
	toml_value_free(root);
}

static void
test_toml_positions_inside_multiline_strings(void **state)
{
	struct toml_value *root;

	(void)state;
	root = parse_ok("s = \"\"\"\none\ntwo\"\"\"\nafter = 'x'\n", V11);
	assert_pos(toml_value_pos(toml_table_get_str(root, "s")), 1, 5);
	assert_pos(toml_table_key_pos(root, 1), 4, 1);
	assert_pos(toml_value_pos(toml_table_get_str(root, "after")), 4, 9);
	toml_value_free(root);
}

static void
test_toml_lookup_and_insertion_order(void **state)
{
	static const char *const order[] = { "z", "a", "m", "b", "", "n\0ul" };
	struct toml_value *root;
	size_t len;

	(void)state;
	root = parse_ok("z = 1\na = 2\nm.x = 3\n[b]\n[m.y]\n[\"\"]\n"
			"[\"n\\u0000ul\"]\n",
	    V11);
	assert_int_equal(toml_table_size(root), 6);
	for (size_t i = 0; i < 6; i++) {
		const char *k = toml_table_key(root, i, &len);

		assert_int_equal(len, i == 5 ? 4 : strlen(order[i]));
		assert_memory_equal(k, order[i], len);
		assert_int_equal(toml_table_find(root, order[i], len), i);
		assert_ptr_equal(toml_table_get(root, order[i], len),
		    toml_table_value(root, i));
	}
	assert_int_equal(toml_table_find(root, "n", 1), -1);
	assert_null(toml_table_get_str(root, "nope"));
	assert_null(toml_table_value(root, 6));
	assert_null(toml_table_key(root, 6, &len));
	assert_int_equal(toml_table_size(get_path(root, "m")), 2);
	toml_value_free(root);
}

static void
test_toml_lookup_in_big_table(void **state)
{
	struct toml_value *t = toml_table_new();
	char key[32];

	(void)state;
	assert_non_null(t);
	for (int i = 0; i < 5000; i++) {
		(void)snprintf(key, sizeof(key), "key-%d", i);
		assert_int_equal(toml_table_set(t, key, strlen(key),
				     (struct toml_pos){ 0 },
				     toml_integer_new(i)),
		    0);
	}
	for (int i = 0; i < 5000; i += 7) {
		(void)snprintf(key, sizeof(key), "key-%d", i);
		assert_int_equal(toml_table_find(t, key, strlen(key)), i);
		assert_int_equal(toml_value_integer(toml_table_get_str(t, key)),
		    i);
	}
	assert_null(toml_table_get_str(t, "key-5000"));
	toml_value_free(t);
}

struct error_case {
	const char *text;
	uint32_t line, column;
	const char *message;
};

static const struct error_case error_cases[] = {
	{ "mode\n", 1, 5, "expected '=' after key \"mode\", found newline" },
	{ "a.b 1", 1, 5, "expected '=' after key a.b, found '1'" },
	{ "a = 1\n\na = 2", 3, 1,
	    "duplicate key \"a\" (first defined at 1:1)" },
	{ "[t]\nx.y = 1\nx.y = 2", 3, 3,
	    "duplicate key x.y (first defined at 2:3)" },
	{ "s = \"a\\qb\"", 1, 7, "invalid escape '\\q' in string" },
	{ "i = 9223372036854775808", 1, 5,
	    "integer 9223372036854775808 is out of range" },
	{ "i = -9223372036854775809", 1, 5,
	    "integer -9223372036854775809 is out of range" },
	{ "x = 1\n[a]\n\n[a]", 4, 1, "table [a] is already defined at 2:1" },
	{ "a = \"open\n", 1, 10,
	    "expected '\"' to close the string started at 1:5, found newline" },
	{ "a = 1 2", 1, 7, "expected newline after a value, found '2'" },
	{ "a = ", 1, 5, "expected a value, found end of file" },
	{ "= 1", 1, 1, "expected a key, found '='" },
	{ "a. = 1", 1, 4, "expected a key after '.', found '='" },
	{ "a = [1 2]", 1, 8,
	    "expected ',' or ']' after an array element, found '2'" },
	{ "a = yes", 1, 5, "invalid value 'yes' (a string needs quotes)" },
	{ "a = 01", 1, 5,
	    "invalid number '01': leading zeros are not allowed" },
	{ "a = 1__0", 1, 6,
	    "invalid number '1__0': an underscore must be between two digits" },
	{ "a = 1987-07-05T17:45:56Z:12", 1, 25,
	    "invalid offset date-time '1987-07-05T17:45:56Z:12': unexpected "
	    "text after the offset" },
	{ "a = 1987-07-05 17:45:00-05:12:00", 1, 30,
	    "invalid offset date-time '1987-07-05 17:45:00-05:12:00': "
	    "unexpected text after the offset" },
	{ "a = 2023-02-29", 1, 13,
	    "invalid local date '2023-02-29': no such day in that month" },
	{ "a = 1\nb = {c = 1}\nb.d = 2", 3, 1,
	    "cannot add keys to b: it is already an inline table (defined at "
	    "2:5)" },
	{ "a.b = 1\n[a]", 2, 1,
	    "table [a] is already defined by dotted keys "
	    "at 1:1" },
	{ "[a.b.c]\n[a]\nb.d = 1\n[a.b]", 4, 1,
	    "table [a.b] is already defined by dotted keys at 3:1" },
	{ "[a.b]\n[a]\nb.c = 1", 3, 1,
	    "cannot add to table b with dotted keys: it is defined by a "
	    "[table] header at 1:1" },
	{ "a = 1\n[a.b]", 2, 2,
	    "cannot define table [a.b]: a is already an integer (defined at "
	    "1:1)" },
	{ "a = [1]\n[[a]]", 2, 3,
	    "cannot define table [[a]]: a is already an array (defined at "
	    "1:1)" },
	{ "a = 1 # \x01", 1, 9,
	    "control character U+0001 is not allowed in a comment" },
	{ "a = 1\rb = 2", 1, 6,
	    "expected newline after a value, found a carriage return without "
	    "a newline" },
	{ "a = '\xc3\x28'", 1, 6,
	    "invalid UTF-8 byte 0xc3 in a literal string" },
	{ "a = \"\xed\xa0\x80\"", 1, 6, "invalid UTF-8 byte 0xed in a string" },
	{ "a = \"\\uDFFF\"", 1, 6,
	    "escape '\\uDFFF' is not a Unicode scalar value" },
	{ "a = \"\\U00110000\"", 1, 6,
	    "escape '\\U00110000' is not a Unicode scalar value" },
	{ "[a", 1, 3,
	    "expected ']' to close the table header, found end of "
	    "file" },
	{ "é = 1", 1, 1, "expected a key, found 'é'" },
	{ "a = \"\"\"x\"\"\"\"\"\"", 1, 14,
	    "unexpected \" after the closing \"\"\" of a multi-line string" },
};

static void
test_toml_errors_say_expected_and_found(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]);
	     i++) {
		const struct error_case *c = &error_cases[i];

		assert_error(c->text, V11, c->line, c->column, c->message);
	}
}

static void
test_toml_errors_escape_untrusted_bytes(void **state)
{
	struct toml_error err;
	struct toml_value *root = NULL;
	const char *doc = "\"a\\u001b[31m\\u202e\" = 1\n"
			  "\"a\\u001b[31m\\u202e\" = 2\n";

	(void)state;
	assert_int_equal(toml_parse(doc, strlen(doc), NULL, &root, &err),
	    -EINVAL);
	assert_string_equal(err.message,
	    "duplicate key \"a\\u001b[31m\\u202e\" (first defined at 1:1)");
	assert_error("a = 1 \x7f", V11, 1, 7,
	    "expected newline after a value, found control character U+007F");
	assert_error("a = 1 \xe2\x80\xae", V11, 1, 7,
	    "expected newline after a value, found character U+202E");
}

static void
test_toml_errors_cut_long_keys(void **state)
{
	struct toml_error err;
	struct toml_value *root = NULL;
	struct buf doc;

	(void)state;
	buf_init(&doc, 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(buf_append_char(&doc, '"'), 0);
		for (int j = 0; j < 500; j++)
			assert_int_equal(buf_append_str(&doc, "é"), 0);
		assert_int_equal(buf_append_str(&doc, "\" = 1\n"), 0);
	}
	assert_int_equal(toml_parse(doc.data, doc.len, NULL, &root, &err),
	    -EINVAL);
	assert_int_equal(err.line, 2);
	assert_true(strlen(err.message) < sizeof(err.message));
	assert_non_null(strstr(err.message, "...\" (first defined at 1:1)"));
	buf_done(&doc);
}

static void
test_toml_depth_limit(void **state)
{
	struct buf doc;
	char msg[64];
	struct toml_value *root;

	(void)state;
	(void)snprintf(msg, sizeof(msg), "nesting is deeper than %d levels",
	    LIMIT_TOML_DEPTH);
	buf_init(&doc, 0);
	assert_int_equal(buf_append_str(&doc, "a = "), 0);
	for (int i = 0; i < LIMIT_TOML_DEPTH; i++)
		assert_int_equal(buf_append_char(&doc, '['), 0);
	for (int i = 0; i < LIMIT_TOML_DEPTH; i++)
		assert_int_equal(buf_append_char(&doc, ']'), 0);
	root = parse_ok(buf_str(&doc), V11);
	toml_value_free(root);

	buf_clear(&doc);
	assert_int_equal(buf_append_str(&doc, "a = "), 0);
	for (int i = 0; i <= LIMIT_TOML_DEPTH; i++)
		assert_int_equal(buf_append_str(&doc, "{b="), 0);
	assert_error(buf_str(&doc), V11, 1, 5 + 3 * LIMIT_TOML_DEPTH, msg);

	/* [[a]], [[a.a]], ...: each level is an array and a table. */
	buf_clear(&doc);
	for (int i = 1; i <= LIMIT_TOML_DEPTH / 2 + 1; i++) {
		assert_int_equal(buf_append_str(&doc, "[[a"), 0);
		for (int j = 1; j < i; j++)
			assert_int_equal(buf_append_str(&doc, ".a"), 0);
		assert_int_equal(buf_append_str(&doc, "]]\n"), 0);
		if (i == LIMIT_TOML_DEPTH / 2) {
			root = parse_ok(buf_str(&doc), V11);
			toml_value_free(root);
		}
	}
	assert_error(buf_str(&doc), V11, LIMIT_TOML_DEPTH / 2 + 1,
	    2 * LIMIT_TOML_DEPTH / 2 + 1, msg);
	buf_done(&doc);
}

static void
test_toml_size_limit(void **state)
{
	struct toml_options opts = { .max_bytes = 8 };
	struct toml_value *root = NULL;
	struct toml_error err;
	size_t big = LIMIT_TOML_INPUT_BYTES + 1;
	char *text;

	(void)state;
	assert_int_equal(toml_parse("a = 1234", 8, &opts, &root, &err), 0);
	root = toml_value_free(root);
	assert_int_equal(toml_parse("a = 12345", 9, &opts, &root, &err),
	    -E2BIG);
	assert_null(root);
	assert_int_equal(err.line, 0);
	assert_string_equal(err.message,
	    "the input is 9 bytes, more than the limit of 8");

	text = malloc(big);
	assert_non_null(text);
	memset(text, '\n', big);
	assert_int_equal(toml_parse(text, big, NULL, &root, &err), -E2BIG);
	assert_int_equal(toml_parse(text, big - 1, NULL, &root, &err), 0);
	toml_value_free(root);
	free(text);
}

static void
test_toml_versions_differ(void **state)
{
	static const char *const only_11[] = {
		"a = \"\\e\"",
		"a = \"\\x41\"",
		"a = 07:32",
		"a = 1979-05-27 07:32",
		"a = 1979-05-27T07:32Z",
		"a = { b = 1, }",
		"a = {\n b = 1 }",
		"a = { # comment\n}",
	};
	struct toml_value *root;

	(void)state;
	for (size_t i = 0; i < sizeof(only_11) / sizeof(only_11[0]); i++) {
		root = parse_ok(only_11[i], V11);
		toml_value_free(root);
		assert_invalid(only_11[i], V10);
	}
	assert_error("a = \"\\e\"", V10, 1, 6,
	    "escape '\\e' needs TOML 1.1 (this document is read as 1.0)");
	assert_error("a = 07:32", V10, 1, 10,
	    "invalid local time '07:32': seconds are required in TOML 1.0 "
	    "(HH:MM:SS)");
	assert_error("a = { b = 1, }", V10, 1, 14,
	    "a trailing comma in an inline table needs TOML 1.1 (this "
	    "document is read as 1.0)");
	root = parse_ok("a = \"\\e\\x41\\xe9\"", V11);
	assert_string_equal(toml_value_string(get_path(root, "a"), NULL),
	    "\x1b"
	    "A\xc3\xa9");
	toml_value_free(root);
	/* The default is 1.1. */
	assert_int_equal(toml_parse("a = 07:32", 9, NULL, &root, NULL), 0);
	toml_value_free(root);
}

static void
test_toml_strings_in_every_form(void **state)
{
	struct toml_value *root;
	size_t len;

	(void)state;
	root = parse_ok("b = \"t\\tq\\\"\\u00e9\\U0001F600\\u0000\"\n"
			"l = 'C:\\path'\n"
			"mb = \"\"\"\r\nline1\r\nline2 \\\r\n   \t\n  "
			"joined\"\"\"\n"
			"ml = '''\n'quoted' ''''\n"
			"e = \"\"\n",
	    V11);
	assert_memory_equal(toml_value_string(get_path(root, "b"), &len),
	    "t\tq\"\xc3\xa9\xf0\x9f\x98\x80\0", 11);
	assert_int_equal(len, 11);
	assert_string_equal(toml_value_string(get_path(root, "l"), NULL),
	    "C:\\path");
	assert_string_equal(toml_value_string(get_path(root, "mb"), NULL),
	    "line1\nline2 joined");
	assert_string_equal(toml_value_string(get_path(root, "ml"), NULL),
	    "'quoted' '");
	assert_string_equal(toml_value_string(get_path(root, "e"), &len), "");
	assert_int_equal(len, 0);
	toml_value_free(root);
}

static void
test_toml_numbers_and_dates(void **state)
{
	const struct toml_datetime *dt;
	struct toml_value *root;

	(void)state;
	root = parse_ok("h = 0xDEAD_beef\no = 0o777\nb = 0b1010\n"
			"d = +1_000\nf = 6.626e-34\ng = -inf\nn = nan\n"
			"z = -0.0\nt = 1979-05-27T07:32:00.123456789999-07:30\n"
			"lt = 23:59:60.5\nld = 2000-02-29\n",
	    V11);
	assert_int_equal(toml_value_integer(get_path(root, "h")), 0xdeadbeef);
	assert_int_equal(toml_value_integer(get_path(root, "o")), 0777);
	assert_int_equal(toml_value_integer(get_path(root, "b")), 10);
	assert_int_equal(toml_value_integer(get_path(root, "d")), 1000);
	assert_true(toml_value_float(get_path(root, "f")) == 6.626e-34);
	assert_true(isinf(toml_value_float(get_path(root, "g"))));
	assert_true(isnan(toml_value_float(get_path(root, "n"))));
	assert_true(signbit(toml_value_float(get_path(root, "z"))));
	dt = toml_value_datetime(get_path(root, "t"));
	assert_int_equal(toml_value_type(get_path(root, "t")), TOML_DATETIME);
	assert_int_equal(dt->year, 1979);
	assert_int_equal(dt->nanosecond, 123456789);
	assert_int_equal(dt->frac_digits, 9);
	assert_int_equal(dt->offset_minutes, -450);
	assert_false(dt->utc_z);
	dt = toml_value_datetime(get_path(root, "lt"));
	assert_int_equal(dt->second, 60);
	assert_int_equal(dt->nanosecond, 500000000);
	assert_int_equal(dt->frac_digits, 1);
	assert_int_equal(toml_value_type(get_path(root, "ld")),
	    TOML_DATE_LOCAL);
	toml_value_free(root);
}

static void
test_toml_redefinition_rules(void **state)
{
	static const char *const valid[] = {
		"[a.b.c]\n[a]\n[a.b]",
		"a.b.c = 1\n[a.b.d]",
		"[a.b.c]\n[a]\nb.d = 1",
		"[[a]]\n[a.b]\n[[a]]\n[a.b]",
		"[[a.b]]\n[a]",
		"a = { b.c = 1, b.d = 2 }",
		"[a]\nb.c = 1\nb.d = 2",
	};
	static const char *const invalid[] = {
		"[a]\n[a]",
		"[a.b]\n[a]\n[a]",
		"a.b = 1\n[a.b]",
		"a.b.c = 1\n[a.b]",
		"[a.b.c]\n[a]\nb.d = 1\n[a.b]",
		"[a.b]\n[a]\nb.c = 1",
		"a = {}\n[a]",
		"a = {}\n[a.b]",
		"a = {b = {}}\n[a.b]",
		"a = [{}]\n[[a]]",
		"a = [{}]\n[a.b]",
		"[[a]]\n[a]",
		"[a]\n[[a]]",
		"[[a.b]]\n[a]\nb.c = 1",
		"a = 1\na.b = 2",
		"a = { b = 1, b.c = 2 }",
		"a = { b = { c = 1 }, b.d = 2 }",
		"[a]\nb = 1\n[a]",
		"[a.b]\n[a]\nb = 1",
	};
	struct toml_value *root;

	(void)state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		root = parse_ok(valid[i], V11);
		toml_value_free(root);
	}
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		assert_invalid(invalid[i], V11);
}

static void
test_toml_edit_set_replaces_in_place(void **state)
{
	struct toml_value *root = parse_ok("a = 1\nb = 2\nc = 3\n", V11);
	struct toml_value *arr = toml_array_new(), *s;
	struct toml_pos p = { .line = 7, .column = 3 };
	size_t len;

	(void)state;
	assert_int_equal(toml_table_set(root, "b", 1, p, toml_bool_new(true)),
	    0);
	assert_int_equal(toml_table_size(root), 3);
	assert_string_equal(toml_table_key(root, 1, &len), "b");
	assert_true(toml_value_bool(toml_table_value(root, 1)));
	assert_pos(toml_table_key_pos(root, 1), 7, 3);
	assert_int_equal(toml_array_append(arr, toml_float_new(0.5)), 0);
	assert_int_equal(toml_array_append(arr, toml_string_new("x\0y", 3)), 0);
	assert_int_equal(toml_table_set(root, "new", 3, p, arr), 0);
	assert_int_equal(toml_table_size(root), 4);
	assert_string_equal(toml_table_key(root, 3, NULL), "new");
	assert_int_equal(toml_array_size(arr), 2);
	s = toml_array_get(arr, 1);
	assert_memory_equal(toml_value_string(s, &len), "x\0y", 4);
	assert_int_equal(len, 3);
	assert_null(toml_array_get(arr, 2));
	/* New values have no origin. */
	assert_pos(toml_value_pos(s), 0, 0);
	assert_null(toml_value_source(s));
	assert_string_equal(toml_type_name(toml_value_type(arr)), "array");
	assert_string_equal(toml_type_name(TOML_DATETIME_LOCAL),
	    "local date-time");
	toml_value_free(root);
}

static bool values_equal(const struct toml_value *a,
    const struct toml_value *b);

static bool
tables_equal(const struct toml_value *a, const struct toml_value *b)
{
	if (toml_table_size(a) != toml_table_size(b))
		return false;
	for (size_t i = 0; i < toml_table_size(a); i++) {
		size_t la, lb;
		const char *ka = toml_table_key(a, i, &la);
		const char *kb = toml_table_key(b, i, &lb);

		if (la != lb || memcmp(ka, kb, la) != 0 ||
		    !values_equal(toml_table_value(a, i),
			toml_table_value(b, i)))
			return false;
	}
	return true;
}

static bool
values_equal(const struct toml_value *a, const struct toml_value *b)
{
	const struct toml_datetime *da, *db;
	size_t la, lb;
	double fa, fb;

	if (toml_value_type(a) != toml_value_type(b))
		return false;
	switch (toml_value_type(a)) {
	case TOML_TABLE:
		return tables_equal(a, b);
	case TOML_ARRAY:
		if (toml_array_size(a) != toml_array_size(b))
			return false;
		for (size_t i = 0; i < toml_array_size(a); i++)
			if (!values_equal(toml_array_get(a, i),
				toml_array_get(b, i)))
				return false;
		return true;
	case TOML_STRING:
		toml_value_string(a, &la);
		toml_value_string(b, &lb);
		return la == lb &&
		    memcmp(toml_value_string(a, NULL),
			toml_value_string(b, NULL), la) == 0;
	case TOML_INTEGER:
		return toml_value_integer(a) == toml_value_integer(b);
	case TOML_FLOAT:
		fa = toml_value_float(a);
		fb = toml_value_float(b);
		return (isnan(fa) && isnan(fb)) ||
		    (fa == fb && signbit(fa) == signbit(fb));
	case TOML_BOOL:
		return toml_value_bool(a) == toml_value_bool(b);
	default:
		da = toml_value_datetime(a);
		db = toml_value_datetime(b);
		return da->year == db->year && da->month == db->month &&
		    da->day == db->day && da->hour == db->hour &&
		    da->minute == db->minute && da->second == db->second &&
		    da->nanosecond == db->nanosecond &&
		    da->frac_digits == db->frac_digits &&
		    da->utc_z == db->utc_z &&
		    da->offset_minutes == db->offset_minutes;
	}
}

/* Format v, parse "v = <text>" back, and compare. */
static void
assert_round_trip(const struct toml_value *v)
{
	struct toml_value *back;
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(buf_append_str(&b, "v = "), 0);
	assert_int_equal(toml_format_value(&b, v), 0);
	back = parse_ok(buf_str(&b), V10);
	if (!values_equal(v, toml_table_get_str(back, "v")))
		fail_msg("round trip changed the value: %s", buf_str(&b));
	toml_value_free(back);
	buf_done(&b);
}

static void
test_toml_format_round_trips(void **state)
{
	struct toml_value *root;

	(void)state;
	root =
	    parse_ok("s = \"q\\\"b\\\\\\u0000\\u001f\\u007f\\t é 😀\"\n"
		     "i = [0, -9223372036854775808, 9223372036854775807]\n"
		     "f = [0.1, -0.0, 1e300, 5e-324, 1.7976931348623157e308,"
		     " 123456789.125, 1e16, 1e15, 0.0001, 0.00001, inf, "
		     "-inf, nan, 2.5e-8, 100.0]\n"
		     "b = [true, false]\n"
		     "d = [1979-05-27T07:32:00Z, 1979-05-27 07:32:00.5+05:30,"
		     " 1979-05-27T00:32:00.999999-07:00, 07:32, 00:00:00.0,"
		     " 1979-05-27, 1979-05-27t07:32:00.120z]\n"
		     "t = { \"a b\" = 1, c.d = [], e = {}, \"\" = [{}] }\n"
		     "[[aot]]\nx = 1\n[[aot]]\n",
		V11);
	for (size_t i = 0; i < toml_table_size(root); i++)
		assert_round_trip(toml_table_value(root, i));
	toml_value_free(root);
}

static void
assert_formats(const struct toml_value *v, const char *want)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(toml_format_value(&b, v), 0);
	assert_string_equal(buf_str(&b), want);
	buf_done(&b);
	toml_value_free((struct toml_value *)v);
}

static void
test_toml_format_floats_shortest(void **state)
{
	static const struct {
		double d;
		const char *text;
	} cases[] = {
		{ 0.1, "0.1" },
		{ 1.0, "1.0" },
		{ -0.0, "-0.0" },
		{ 100.0, "100.0" },
		{ 1e300, "1e300" },
		{ 1.5e-7, "1.5e-7" },
		{ 0.0001, "0.0001" },
		{ 1e16, "1e16" },
		{ 1234567890123456.0, "1234567890123456.0" },
		{ 5e-324, "5e-324" },
		{ 0.30000000000000004, "0.30000000000000004" },
		{ INFINITY, "inf" },
		{ -INFINITY, "-inf" },
		{ NAN, "nan" },
	};

	uint64_t x = 88172645463325252u;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_formats(toml_float_new(cases[i].d), cases[i].text);
	/* Random bit patterns (xorshift64) read back bit for bit. */
	for (int i = 0; i < 20000; i++) {
		struct toml_value *v;
		double d;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(&d, &x, sizeof(d));
		v = toml_float_new(d);
		assert_round_trip(v);
		toml_value_free(v);
	}
}

static void
test_toml_format_keys_and_strings(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(toml_format_key(&b, "bare-key_1", 10), 0);
	assert_int_equal(buf_append_char(&b, ' '), 0);
	assert_int_equal(toml_format_key(&b, "", 0), 0);
	assert_int_equal(buf_append_char(&b, ' '), 0);
	assert_int_equal(toml_format_key(&b, "a.b", 3), 0);
	assert_int_equal(buf_append_char(&b, ' '), 0);
	assert_int_equal(toml_format_key(&b, "é\n\"\x1b", 5), 0);
	assert_string_equal(buf_str(&b),
	    "bare-key_1 \"\" \"a.b\" \"é\\n\\\"\\u001B\"");
	buf_done(&b);
	/* Bytes that are not UTF-8 cannot be written as TOML. */
	assert_formats(toml_string_new("a\xff", 2), "\"a\\uFFFD\"");
}

static void
test_toml_format_datetimes_canonically(void **state)
{
	struct toml_value *root;
	struct buf b;

	(void)state;
	root = parse_ok("a = [1979-05-27 07:32:00.500-07:00, "
			"1979-05-27t07:32z, 07:32:01.000, 0001-01-01]",
	    V11);
	buf_init(&b, 0);
	assert_int_equal(toml_format_value(&b, get_path(root, "a")), 0);
	assert_string_equal(buf_str(&b),
	    "[1979-05-27T07:32:00.500-07:00, 1979-05-27T07:32:00Z, "
	    "07:32:01.000, 0001-01-01]");
	buf_done(&b);
	toml_value_free(root);
}

static void
test_toml_clone_is_deep(void **state)
{
	struct toml_value *root, *copy, *t;

	(void)state;
	root = parse_ok("a = 'x'\n[t]\nk = [1, {m = 2}]\n", V11);
	copy = toml_value_clone(root);
	assert_non_null(copy);
	assert_true(values_equal(root, copy));
	t = get_path(copy, "t");
	assert_ptr_not_equal(t, get_path(root, "t"));
	assert_pos(toml_value_pos(t), 2, 1);
	assert_pos(toml_table_key_pos(t, 0), 3, 1);
	assert_string_equal(toml_value_source(get_path(copy, "t.k")),
	    "test.toml");
	toml_value_free(root);
	/* The copy stands on its own and can still grow. */
	assert_int_equal(toml_table_set(t, "z", 1, (struct toml_pos){ 0 },
			     toml_integer_new(3)),
	    0);
	assert_int_equal(toml_table_size(t), 2);
	toml_value_free(copy);
	assert_null(toml_value_clone(NULL));
	assert_null(toml_value_free(NULL));
}

static void
test_toml_set_origin(void **state)
{
	struct toml_value *root = parse_ok("[t]\na = [1]\n", V11);
	struct toml_value *t = get_path(root, "t");
	struct toml_pos p = { .line = 9, .column = 9 };

	(void)state;
	toml_value_set_origin(t, p, "-c", false);
	assert_pos(toml_value_pos(t), 9, 9);
	assert_string_equal(toml_value_source(t), "-c");
	assert_string_equal(toml_value_source(get_path(t, "a")), "test.toml");
	toml_value_set_origin(t, p, "-c", true);
	assert_string_equal(toml_value_source(get_path(t, "a")), "-c");
	assert_pos(toml_value_pos(toml_array_get(get_path(t, "a"), 0)), 9, 9);
	assert_pos(toml_table_key_pos(t, 0), 9, 9);
	toml_value_free(root);
}

static void
test_toml_key_parse(void **state)
{
	const char *key = " a . \"b.c\" .'d e'.\"\\u0000\" ";
	struct toml_error err;
	char **keys;
	size_t *lens, n;

	(void)state;
	assert_int_equal(toml_key_parse(key, strlen(key), V11, &keys, &lens, &n,
			     &err),
	    0);
	assert_int_equal(n, 4);
	assert_string_equal(keys[0], "a");
	assert_string_equal(keys[1], "b.c");
	assert_string_equal(keys[2], "d e");
	assert_int_equal(lens[3], 1);
	assert_int_equal(keys[3][0], '\0');
	toml_key_free(keys, lens, n);

	assert_int_equal(toml_key_parse("a.", 2, V11, &keys, &lens, &n, &err),
	    -EINVAL);
	assert_string_equal(err.message,
	    "expected a key after '.', found end of file");
	assert_int_equal(toml_key_parse("a b", 3, V11, &keys, &lens, &n, &err),
	    -EINVAL);
	assert_int_equal(err.column, 3);
	assert_string_equal(err.message,
	    "expected '.' or the end of the key, found 'b'");
	assert_int_equal(toml_key_parse("", 0, V11, &keys, &lens, &n, &err),
	    -EINVAL);
	assert_int_equal(toml_key_parse("\"\\e\"", 4, V10, &keys, &lens, &n,
			     &err),
	    -EINVAL);
	assert_int_equal(toml_key_parse("'''a'''", 7, V11, &keys, &lens, &n,
			     &err),
	    -EINVAL);
}

static void
test_toml_large_inputs_parse(void **state)
{
	struct toml_value *root = NULL;
	struct toml_error err;
	struct buf doc;

	(void)state;
	/* 200k keys in one table, then 100k arrays of tables and a long
	 * one-line array: each is linear work (no timing asserted). */
	buf_init(&doc, 0);
	for (int i = 0; i < 200000; i++)
		assert_int_equal(buf_printf(&doc, "key%d = %d\n", i, i), 0);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(buf_append_str(&doc, "[[t.a]]\nx.y = 1\n"), 0);
	assert_int_equal(buf_append_str(&doc, "[u]\nv = ["), 0);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(buf_append_str(&doc, "1, "), 0);
	assert_int_equal(buf_append_str(&doc, "]\n"), 0);
	assert_int_equal(toml_parse(doc.data, doc.len, NULL, &root, &err), 0);
	assert_int_equal(toml_table_size(root), 200002);
	assert_int_equal(toml_value_integer(
			     toml_table_get_str(root, "key199999")),
	    199999);
	assert_int_equal(toml_array_size(get_path(root, "t.a")), 100000);
	assert_int_equal(toml_array_size(get_path(root, "u.v")), 100000);
	toml_value_free(root);
	buf_done(&doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_toml_positions_of_keys_and_values),
		cmocka_unit_test(test_toml_positions_inside_multiline_strings),
		cmocka_unit_test(test_toml_lookup_and_insertion_order),
		cmocka_unit_test(test_toml_lookup_in_big_table),
		cmocka_unit_test(test_toml_errors_say_expected_and_found),
		cmocka_unit_test(test_toml_errors_escape_untrusted_bytes),
		cmocka_unit_test(test_toml_errors_cut_long_keys),
		cmocka_unit_test(test_toml_depth_limit),
		cmocka_unit_test(test_toml_size_limit),
		cmocka_unit_test(test_toml_versions_differ),
		cmocka_unit_test(test_toml_strings_in_every_form),
		cmocka_unit_test(test_toml_numbers_and_dates),
		cmocka_unit_test(test_toml_redefinition_rules),
		cmocka_unit_test(test_toml_edit_set_replaces_in_place),
		cmocka_unit_test(test_toml_format_round_trips),
		cmocka_unit_test(test_toml_format_floats_shortest),
		cmocka_unit_test(test_toml_format_keys_and_strings),
		cmocka_unit_test(test_toml_format_datetimes_canonically),
		cmocka_unit_test(test_toml_clone_is_deep),
		cmocka_unit_test(test_toml_set_origin),
		cmocka_unit_test(test_toml_key_parse),
		cmocka_unit_test(test_toml_large_inputs_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
