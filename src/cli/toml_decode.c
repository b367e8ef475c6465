/* SPDX-License-Identifier: MIT */
/*
 * toml-decode: the decoder interface of toml-test. TOML on stdin, the
 * tagged JSON of toml-test on stdout ({"type": "integer", "value": "42"}
 * for every scalar, objects for tables, arrays for arrays). Invalid input
 * exits 1 with "line:column: message" on stderr; usage errors exit 2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "toml/toml.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/strutil.h"

static const char *const toml_decode_tags[_TOML_TYPE_MAX] = {
	[TOML_STRING] = "string",
	[TOML_INTEGER] = "integer",
	[TOML_FLOAT] = "float",
	[TOML_BOOL] = "bool",
	[TOML_DATETIME] = "datetime",
	[TOML_DATETIME_LOCAL] = "datetime-local",
	[TOML_DATE_LOCAL] = "date-local",
	[TOML_TIME_LOCAL] = "time-local",
};

static void
toml_decode_usage(FILE *f)
{
	(void)fprintf(f,
	    "Usage: toml-decode [--toml 1.0|1.1]\n"
	    "\n"
	    "Read a TOML document on stdin and write it as toml-test's tagged "
	    "JSON\non stdout. Invalid TOML exits 1 with "
	    "\"line:column: message\" on stderr.\n"
	    "\nOptions:\n"
	    "  --toml VERSION  the TOML version to accept (default 1.1)\n"
	    "  -h, --help      show this help\n");
}

static json_t *toml_decode_value(const struct toml_value *v);

/* A scalar as {"type": ..., "value": "<TOML text of the value>"}; for
 * strings the value is the string itself. */
static json_t *
toml_decode_scalar(const struct toml_value *v)
{
	enum toml_type t = toml_value_type(v);
	json_t *value;
	struct buf b;

	if (t == TOML_STRING) {
		size_t len;
		const char *s = toml_value_string(v, &len);

		value = json_stringn(s, len);
	} else {
		buf_init(&b, 0);
		if (toml_format_value(&b, v) < 0) {
			buf_done(&b);
			return NULL;
		}
		value = json_stringn(buf_str(&b), b.len);
		buf_done(&b);
	}
	if (!value)
		return NULL;
	return json_pack("{s:s, s:o}", "type", toml_decode_tags[t], "value",
	    value);
}

static json_t *
toml_decode_table(const struct toml_value *t)
{
	json_t *obj = json_object();

	for (size_t i = 0; obj && i < toml_table_size(t); i++) {
		size_t len;
		const char *key = toml_table_key(t, i, &len);
		json_t *v = toml_decode_value(toml_table_value(t, i));

		if (!v || json_object_setn_new(obj, key, len, v) < 0) {
			json_decref(obj);
			obj = NULL;
		}
	}
	return obj;
}

static json_t *
toml_decode_array(const struct toml_value *a)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < toml_array_size(a); i++) {
		json_t *v = toml_decode_value(toml_array_get(a, i));

		if (!v || json_array_append_new(arr, v) < 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr;
}

static json_t *
toml_decode_value(const struct toml_value *v)
{
	switch (toml_value_type(v)) {
	case TOML_TABLE:
		return toml_decode_table(v);
	case TOML_ARRAY:
		return toml_decode_array(v);
	default:
		return toml_decode_scalar(v);
	}
}

/* All of f, refusing more than max bytes: -E2BIG. */
static int
toml_decode_read(FILE *f, size_t max, struct buf *in)
{
	char chunk[65536];

	buf_init(in, max);
	for (;;) {
		size_t n = fread(chunk, 1, sizeof(chunk), f);
		int r;

		if (n == 0)
			break;
		r = buf_append(in, chunk, n);
		if (r < 0)
			return r;
	}
	return ferror(f) ? -EIO : 0;
}

static int
toml_decode_args(int argc, char **argv, enum toml_version *ret_version)
{
	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "-h") || streq(argv[i], "--help")) {
			toml_decode_usage(stdout);
			return 0;
		}
		if (!streq(argv[i], "--toml") || i + 1 >= argc)
			return -EINVAL;
		i++;
		if (streq(argv[i], "1.0"))
			*ret_version = TOML_VERSION_1_0;
		else if (streq(argv[i], "1.1"))
			*ret_version = TOML_VERSION_1_1;
		else
			return -EINVAL;
	}
	return 1;
}

/* stdin into in; on failure, says why on stderr. */
static int
toml_decode_read_stdin(struct buf *in)
{
	int r = toml_decode_read(stdin, LIMIT_TOML_INPUT_BYTES, in);

	if (r == -E2BIG)
		(void)fprintf(stderr,
		    "toml-decode: the input is more than the limit of %u "
		    "bytes\n",
		    LIMIT_TOML_INPUT_BYTES);
	else if (r < 0)
		(void)fprintf(stderr, "toml-decode: reading stdin: %s\n",
		    strerror(-r));
	return r;
}

static int
toml_decode_parse(const struct buf *in, const struct toml_options *opts,
    struct toml_value **ret_root)
{
	struct toml_error err;
	int r = toml_parse(in->data, in->len, opts, ret_root, &err);

	if (r < 0 && err.line)
		(void)fprintf(stderr, "%u:%u: %s\n", err.line, err.column,
		    err.message);
	else if (r < 0)
		(void)fprintf(stderr, "%s\n", err.message);
	return r;
}

static int
toml_decode_write(const struct toml_value *root)
{
	json_t *out = toml_decode_value(root);
	int r = 0;

	if (!out || json_dumpf(out, stdout, JSON_COMPACT) < 0 ||
	    fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
		(void)fprintf(stderr, "toml-decode: cannot write the JSON\n");
		r = -EIO;
	}
	json_decref(out);
	return r;
}

int
main(int argc, char **argv)
{
	struct toml_options opts = { .version = TOML_VERSION_1_1 };
	struct toml_value *root = NULL;
	struct buf in;
	int r;

	r = toml_decode_args(argc, argv, &opts.version);
	if (r < 0)
		toml_decode_usage(stderr);
	if (r <= 0)
		return r < 0 ? 2 : 0;
	r = toml_decode_read_stdin(&in);
	if (r == 0)
		r = toml_decode_parse(&in, &opts, &root);
	buf_done(&in);
	if (r == 0)
		r = toml_decode_write(root);
	toml_value_free(root);
	return r < 0 ? 1 : 0;
}
