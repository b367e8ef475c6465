/* SPDX-License-Identifier: MIT */
/*
 * TOML 1.0.0 and 1.1.0 parser: text in, value tree out.
 *
 * Every key and value remembers the line and column where it was written
 * (1-based; the column counts Unicode code points) and the name of the
 * source it came from, so later config errors point at the exact place.
 * Tables keep insertion order and offer lookup by key. Keys and strings are
 * byte strings with a length (TOML allows "\u0000"); they are also
 * NUL-terminated for convenience.
 *
 * Errors are data, never printed. Bad input never crashes and parsing takes
 * time linear in the input: nesting is limited to LIMIT_TOML_DEPTH and the
 * input size to toml_options.max_bytes.
 *
 * Thread rules: a tree is a plain data structure; concurrent readers are
 * fine, any writer needs exclusive access.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/limits.h"

struct buf;
struct toml_value;

enum toml_version {
	TOML_VERSION_1_1, /* the default */
	TOML_VERSION_1_0,
	_TOML_VERSION_MAX,
};

enum toml_type {
	TOML_TABLE,
	TOML_ARRAY,
	TOML_STRING,
	TOML_INTEGER,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_DATETIME,       /* offset date-time */
	TOML_DATETIME_LOCAL, /* local date-time */
	TOML_DATE_LOCAL,
	TOML_TIME_LOCAL,
	_TOML_TYPE_MAX,
};

struct toml_pos {
	uint32_t line;   /* 1-based; 0 = not from a source text */
	uint32_t column; /* 1-based, in code points */
};

struct toml_error {
	uint32_t line; /* 0 when the error has no position (e.g. too big) */
	uint32_t column;
	char message[LIMIT_TOML_ERROR_BYTES];
};

struct toml_options {
	enum toml_version version;
	size_t max_bytes;   /* 0 = LIMIT_TOML_INPUT_BYTES */
	const char *source; /* borrowed, recorded in every node; may be NULL */
};

/* Date and time parts; fields that the type lacks are zero. */
struct toml_datetime {
	int16_t year;
	uint8_t month, day;
	uint8_t hour, minute, second;
	uint32_t nanosecond;
	uint8_t frac_digits;    /* fraction digits written, 0 (none) to 9 */
	bool utc_z;             /* offset written as Z */
	int16_t offset_minutes; /* TOML_DATETIME only */
};

/*
 * Parse a whole document. On success *ret_root is a new table (caller frees
 * with toml_value_free()) and 0 is returned. On failure returns -EINVAL
 * (syntax; *reterr has position and message), -E2BIG (input above
 * max_bytes) or -ENOMEM, and *ret_root is untouched. opts may be NULL.
 */
int toml_parse(const char *text, size_t len, const struct toml_options *opts,
    struct toml_value **ret_root, struct toml_error *reterr);

/*
 * Parse a dotted key such as `a."b.c".d` (surrounding whitespace allowed).
 * On success *ret_keys is an array of *ret_n NUL-terminated segments
 * (caller frees with toml_key_free()) and *ret_lens their byte lengths.
 * Returns 0, -EINVAL (with *reterr) or -ENOMEM.
 */
int toml_key_parse(const char *text, size_t len, enum toml_version version,
    char ***ret_keys, size_t **ret_lens, size_t *ret_n,
    struct toml_error *reterr);

void toml_key_free(char **keys, size_t *lens, size_t n);

/* Free a tree or a detached value; accepts NULL; returns NULL. */
struct toml_value *toml_value_free(struct toml_value *v);

/* A deep copy (keeps positions and sources), or NULL on ENOMEM. */
struct toml_value *toml_value_clone(const struct toml_value *v);

enum toml_type toml_value_type(const struct toml_value *v);

/* "table", "array", "string", "integer", "float", "boolean",
 * "offset date-time", "local date-time", "local date", "local time". */
const char *toml_type_name(enum toml_type t);

struct toml_pos toml_value_pos(const struct toml_value *v);

/* The source name given at parse time (borrowed), or NULL. */
const char *toml_value_source(const struct toml_value *v);

/* Scalar accessors; each asserts the type. Strings are borrowed. */
const char *toml_value_string(const struct toml_value *v, size_t *ret_len);
int64_t toml_value_integer(const struct toml_value *v);
double toml_value_float(const struct toml_value *v);
bool toml_value_bool(const struct toml_value *v);
const struct toml_datetime *toml_value_datetime(const struct toml_value *v);

/* Tables, in insertion order. Keys and values are borrowed. */
size_t toml_table_size(const struct toml_value *t);
const char *toml_table_key(const struct toml_value *t, size_t i,
    size_t *ret_len);
struct toml_pos toml_table_key_pos(const struct toml_value *t, size_t i);
struct toml_value *toml_table_value(const struct toml_value *t, size_t i);

/* Look a key up (bytes, exact match); NULL when absent. */
struct toml_value *toml_table_get(const struct toml_value *t, const char *key,
    size_t len);

/* Look a NUL-terminated key up; NULL when absent. */
struct toml_value *toml_table_get_str(const struct toml_value *t,
    const char *key);

/* Index of key in t, or -1 when absent. */
ssize_t toml_table_find(const struct toml_value *t, const char *key,
    size_t len);

/* Arrays. Elements are borrowed. */
size_t toml_array_size(const struct toml_value *a);
struct toml_value *toml_array_get(const struct toml_value *a, size_t i);

/*
 * Building and editing trees (the config loader merges layers and applies
 * -c overrides with these). New values have no position and no source
 * until toml_value_set_origin() gives them one.
 */
struct toml_value *toml_table_new(void);
struct toml_value *toml_array_new(void);
struct toml_value *toml_string_new(const char *s, size_t len);
struct toml_value *toml_integer_new(int64_t i);
struct toml_value *toml_float_new(double d);
struct toml_value *toml_bool_new(bool b);

/* Set position and source of v alone, or of v and everything below it. */
void toml_value_set_origin(struct toml_value *v, struct toml_pos pos,
    const char *source, bool recursive);

/* Insert key -> v at the end, or replace the value of an existing key in
 * place (order kept). Takes ownership of v, also on failure. Returns 0 or
 * -ENOMEM. */
int toml_table_set(struct toml_value *t, const char *key, size_t len,
    struct toml_pos key_pos, struct toml_value *v);

/* Append v to a. Takes ownership of v, also on failure. Returns 0 or
 * -ENOMEM. */
int toml_array_append(struct toml_value *a, struct toml_value *v);

/*
 * Writing TOML back (for `paddock config show`). Each appends to out and
 * returns 0 or a negative errno from buf.
 *  - toml_format_key: one key segment, bare when it can be, else quoted.
 *  - toml_format_value: the value in inline form (arrays and inline
 *    tables on one line); floats round-trip; strings are escaped (bytes
 *    that are not UTF-8, possible only via toml_string_new(), become
 *    \uFFFD). The output is valid TOML 1.0 and 1.1.
 */
int toml_format_key(struct buf *out, const char *key, size_t len);
int toml_format_value(struct buf *out, const struct toml_value *v);
