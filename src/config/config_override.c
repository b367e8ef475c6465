/* SPDX-License-Identifier: MIT */
/*
 * -c KEY=VALUE (spec §5.3). KEY is a TOML dotted key, so quoted segments
 * such as permissions.dev.filesystem.":root" work, and the split happens
 * at the first '=' outside quotes. VALUE is parsed as a TOML value; when
 * that fails it is taken as a string with surrounding quote characters
 * removed, so -c model=o3 and -c 'model="o3"' mean the same.
 *
 * Values remember where they were given: the source is the argument text
 * ("-c KEY=VALUE") and columns count code points in it, so a bad value
 * points at its column on the command line like a bad value in a file.
 */
#include "config/config_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml/toml.h"
#include "util/buf.h"

/* Code points in s[0..n): bytes that do not continue a UTF-8 sequence. */
static uint32_t
config_override_columns(const char *s, size_t n)
{
	uint32_t cols = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			cols++;
	return cols;
}

/* The first '=' outside a quoted key segment, or NULL. */
static const char *
config_override_split(const char *arg)
{
	char quote = 0;

	for (const char *p = arg; *p; p++) {
		if (quote == '"' && *p == '\\' && p[1])
			p++;
		else if (quote && *p == quote)
			quote = 0;
		else if (!quote && (*p == '"' || *p == '\''))
			quote = *p;
		else if (!quote && *p == '=')
			return p;
	}
	return NULL;
}

static bool
config_override_is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Trim spaces and tabs from both ends of s[*start..*end). */
static void
config_override_trim(const char *s, size_t *start, size_t *end)
{
	while (*start < *end && config_override_is_space(s[*start]))
		(*start)++;
	while (*end > *start && config_override_is_space(s[*end - 1]))
		(*end)--;
}

/* Move positions on line 1 from the synthetic "x = VALUE" text to the
 * argument. Later lines (a value may span lines) keep their columns. */
static void
config_override_shift(struct toml_value *v, int64_t shift, const char *source)
{
	struct toml_pos pos = toml_value_pos(v);

	if (pos.line == 1 && (int64_t)pos.column + shift >= 1)
		pos.column = (uint32_t)((int64_t)pos.column + shift);
	toml_value_set_origin(v, pos, source, false);
	if (toml_value_type(v) == TOML_TABLE)
		for (size_t i = 0; i < toml_table_size(v); i++)
			config_override_shift(toml_table_value(v, i), shift,
			    source);
	else if (toml_value_type(v) == TOML_ARRAY)
		for (size_t i = 0; i < toml_array_size(v); i++)
			config_override_shift(toml_array_get(v, i), shift,
			    source);
}

/*
 * Parse the value text as TOML. Returns 0 with *ret (a value that is not
 * TOML becomes a string), or -ENOMEM.
 */
static int
config_override_value(const char *text, size_t len, const char *source,
    uint32_t col, struct toml_value **ret)
{
	static const char prefix[] = "x = ";
	struct toml_options opts = { .source = source };
	struct toml_value *doc = NULL;
	struct toml_value *v;
	struct toml_error err;
	struct buf b;
	size_t start = 0, end = len;
	int r;

	buf_init(&b, 0);
	r = buf_append_str(&b, prefix);
	if (r >= 0)
		r = buf_append(&b, text, len);
	if (r < 0) {
		buf_done(&b);
		return -ENOMEM;
	}
	r = toml_parse(buf_str(&b), b.len, &opts, &doc, &err);
	buf_done(&b);
	if (r == -ENOMEM)
		return r;
	if (r >= 0 && toml_table_size(doc) == 1 &&
	    toml_table_get(doc, "x", 1)) {
		v = toml_value_clone(toml_table_get(doc, "x", 1));
		doc = toml_value_free(doc);
		if (!v)
			return -ENOMEM;
		config_override_shift(v,
		    (int64_t)col - (int64_t)(sizeof(prefix) - 1) - 1, source);
		*ret = v;
		return 0;
	}
	doc = toml_value_free(doc);

	/* Not a TOML value: a string without its surrounding quotes. */
	while (start < end && (text[start] == '"' || text[start] == '\''))
		start++;
	while (end > start && (text[end - 1] == '"' || text[end - 1] == '\''))
		end--;
	v = toml_string_new(text + start, end - start);
	if (!v)
		return -ENOMEM;
	toml_value_set_origin(v, (struct toml_pos){ 1, col }, source, false);
	*ret = v;
	return 0;
}

/* Set keys[0..n) = v in tree, making (or replacing) the tables on the
 * way. Takes ownership of v. */
static int
config_override_set(struct toml_value *tree, char **keys, const size_t *lens,
    size_t n, struct toml_pos pos, const char *source, struct toml_value *v)
{
	struct toml_value *t = tree;
	int r;

	for (size_t i = 0; i + 1 < n; i++) {
		struct toml_value *next = toml_table_get(t, keys[i], lens[i]);

		if (!next || toml_value_type(next) != TOML_TABLE) {
			next = toml_table_new();
			if (!next) {
				toml_value_free(v);
				return -ENOMEM;
			}
			toml_value_set_origin(next, pos, source, false);
			r = toml_table_set(t, keys[i], lens[i], pos, next);
			if (r < 0) {
				toml_value_free(v);
				return r;
			}
		}
		t = next;
	}
	return toml_table_set(t, keys[n - 1], lens[n - 1], pos, v);
}

int
config_override_apply(struct toml_value *tree, const char *arg,
    const char *source, size_t arg_col, struct config_diags *d)
{
	struct config_origin o = { source, 1, (uint32_t)arg_col };
	const char *eq = config_override_split(arg);
	size_t kstart = 0, kend, vstart, vend;
	char **keys = NULL;
	size_t *lens = NULL;
	size_t n = 0;
	struct toml_value *v = NULL;
	struct toml_error err;
	int r;

	if (!eq) {
		config_diags_add(d, CONFIG_SEVERITY_ERROR, "invalid_override",
		    &o, NULL, "missing '=': an override is KEY=VALUE");
		return -EINVAL;
	}
	kend = (size_t)(eq - arg);
	config_override_trim(arg, &kstart, &kend);
	if (kstart == kend) {
		config_diags_add(d, CONFIG_SEVERITY_ERROR, "invalid_override",
		    &o, NULL, "empty key: an override is KEY=VALUE");
		return -EINVAL;
	}
	r = toml_key_parse(arg + kstart, kend - kstart, TOML_VERSION_1_1, &keys,
	    &lens, &n, &err);
	if (r == -ENOMEM)
		return r;
	if (r >= 0 && n == 0) {
		toml_key_free(keys, lens, n);
		r = -EINVAL;
		(void)snprintf(err.message, sizeof(err.message), "no key");
		err.column = 0;
	}
	if (r < 0) {
		o.column = (uint32_t)arg_col +
		    config_override_columns(arg, kstart) +
		    (err.column > 0 ? err.column - 1 : 0);
		config_diags_add(d, CONFIG_SEVERITY_ERROR, "invalid_override",
		    &o, NULL, "invalid key: %s", err.message);
		return -EINVAL;
	}
	vstart = (size_t)(eq - arg) + 1;
	vend = strlen(arg);
	config_override_trim(arg, &vstart, &vend);
	r = config_override_value(arg + vstart, vend - vstart, source,
	    (uint32_t)arg_col + config_override_columns(arg, vstart), &v);
	if (r >= 0)
		r = config_override_set(tree, keys, lens, n,
		    (struct toml_pos){ 1, (uint32_t)arg_col }, source, v);
	toml_key_free(keys, lens, n);
	return r;
}
