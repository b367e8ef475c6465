/* SPDX-License-Identifier: MIT */
/* Unit tests for src/util: buffers, strict number parsing, log escaping. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/strparse.h"
#include "util/strutil.h"

static void
test_util_buf_appends_and_terminates(void **state)
{
	struct buf b;
	char *s;

	(void)state;
	buf_init(&b, 0);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_append_str(&b, "ab"), 0);
	assert_int_equal(buf_append_char(&b, 'c'), 0);
	assert_int_equal(buf_printf(&b, "-%d-%s", 42, "x"), 0);
	assert_int_equal(b.len, 8);
	assert_string_equal(buf_str(&b), "abc-42-x");
	s = buf_take(&b);
	assert_string_equal(s, "abc-42-x");
	assert_int_equal(b.len, 0);
	assert_null(b.data);
	free(s);
	buf_done(&b);
}

static void
test_util_buf_grows_across_many_appends(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(buf_append(&b, "0123456789", 10), 0);
	assert_int_equal(b.len, 100000);
	assert_int_equal(b.data[b.len], '\0');
	assert_memory_equal(b.data + 99990, "0123456789", 10);
	buf_done(&b);
}

static void
test_util_buf_refuses_beyond_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 4);
	assert_int_equal(buf_append(&b, "abcd", 4), 0);
	assert_int_equal(buf_append(&b, "e", 1), -E2BIG);
	assert_int_equal(buf_printf(&b, "%s", "xyz"), -E2BIG);
	assert_string_equal(buf_str(&b), "abcd");
	buf_clear(&b);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_append(&b, "wxyz", 4), 0);
	buf_done(&b);
}

static void
test_util_buf_take_of_empty_is_empty_string(void **state)
{
	struct buf b;
	char *s;

	(void)state;
	buf_init(&b, 0);
	s = buf_take(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
}

static void
test_util_strparse_u64_accepts_digits_within_max(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(strparse_u64("0", 1, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(strparse_u64("18446744073709551615", 20, UINT64_MAX,
			     &v),
	    0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(strparse_u64_str("10", 10, &v), 0);
	assert_int_equal(v, 10);
}

static void
test_util_strparse_u64_rejects_junk_and_overflow(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(strparse_u64("", 0, 10, &v), -EINVAL);
	assert_int_equal(strparse_u64_str("+1", 10, &v), -EINVAL);
	assert_int_equal(strparse_u64_str("-1", 10, &v), -EINVAL);
	assert_int_equal(strparse_u64_str(" 1", 10, &v), -EINVAL);
	assert_int_equal(strparse_u64_str("1 ", 10, &v), -EINVAL);
	assert_int_equal(strparse_u64_str("0x1", 10, &v), -EINVAL);
	assert_int_equal(strparse_u64_str("11", 10, &v), -ERANGE);
	assert_int_equal(strparse_u64_str("5", 0, &v), -ERANGE);
	assert_int_equal(strparse_u64_str("18446744073709551616", UINT64_MAX,
			     &v),
	    -ERANGE);
	assert_int_equal(v, 7);
}

static void
test_util_strparse_port_bounds(void **state)
{
	uint16_t p = 1;

	(void)state;
	assert_int_equal(strparse_port("65535", 5, &p), 0);
	assert_int_equal(p, 65535);
	assert_int_equal(strparse_port("0", 1, &p), 0);
	assert_int_equal(p, 0);
	assert_int_equal(strparse_port("65536", 5, &p), -ERANGE);
	assert_int_equal(strparse_port("80a", 3, &p), -EINVAL);
}

static void
test_util_strparse_bool_words(void **state)
{
	bool b = false;

	(void)state;
	assert_int_equal(strparse_bool("yes", &b), 0);
	assert_true(b);
	assert_int_equal(strparse_bool("off", &b), 0);
	assert_false(b);
	assert_int_equal(strparse_bool("True", &b), -EINVAL);
}

static void
test_util_log_escape_quotes_and_hex(void **state)
{
	char out[LOG_ESCAPE_BYTES];

	(void)state;
	assert_string_equal(log_escape(out, sizeof(out), "a\r\n'\\\x7f", 6),
	    "a\\x0d\\x0a\\'\\\\\\x7f");
	assert_string_equal(log_escape(out, sizeof(out), "", 0), "");
}

static void
test_util_log_escape_caps_long_input(void **state)
{
	char out[LOG_ESCAPE_BYTES];
	char in[1000];

	(void)state;
	memset(in, 'a', sizeof(in));
	log_escape(out, sizeof(out), in, sizeof(in));
	assert_int_equal(strlen(out), 256 + 3);
	assert_string_equal(out + 256, "...");
	memset(in, 0, sizeof(in));
	log_escape(out, sizeof(out), in, sizeof(in));
	assert_int_equal(strlen(out), 4 * 256 + 3);
}

static void
test_util_log_quote_macros(void **state)
{
	const char *nul = NULL;

	(void)state;
	assert_string_equal(LOG_US("a\nb'\x1b"), "'a\\x0ab\\'\\x1b'");
	assert_string_equal(LOG_U("a\0b", 3), "'a\\x00b'");
	assert_string_equal(LOG_ES("x\t'y\\"), "x\\x09'y\\\\");
	assert_string_equal(LOG_US(nul), "(null)");
	assert_string_equal(LOG_ES(nul), "(null)");
}

static void
test_util_log_level_names(void **state)
{
	enum log_level l;

	(void)state;
	assert_int_equal(log_level_from_string("debug", &l), 0);
	assert_int_equal(l, LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_from_string("warn", &l), 0);
	assert_int_equal(l, LOG_LEVEL_WARN);
	assert_int_equal(log_level_from_string("loud", &l), -EINVAL);
}

static void
test_util_strlcpy_truncates_and_terminates(void **state)
{
	char d[4];

	(void)state;
	assert_int_equal(strlcpy(d, "abcdef", sizeof(d)), 6);
	assert_string_equal(d, "abc");
	assert_int_equal(strlcpy(d, "ab", sizeof(d)), 2);
	assert_string_equal(d, "ab");
	assert_true(startswith("paddock", "pad"));
	assert_false(startswith("pa", "pad"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_buf_appends_and_terminates),
		cmocka_unit_test(test_util_buf_grows_across_many_appends),
		cmocka_unit_test(test_util_buf_refuses_beyond_cap),
		cmocka_unit_test(test_util_buf_take_of_empty_is_empty_string),
		cmocka_unit_test(
		    test_util_strparse_u64_accepts_digits_within_max),
		cmocka_unit_test(
		    test_util_strparse_u64_rejects_junk_and_overflow),
		cmocka_unit_test(test_util_strparse_port_bounds),
		cmocka_unit_test(test_util_strparse_bool_words),
		cmocka_unit_test(test_util_log_escape_quotes_and_hex),
		cmocka_unit_test(test_util_log_escape_caps_long_input),
		cmocka_unit_test(test_util_log_quote_macros),
		cmocka_unit_test(test_util_log_level_names),
		cmocka_unit_test(test_util_strlcpy_truncates_and_terminates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
